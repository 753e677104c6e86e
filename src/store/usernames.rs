//! The @usernames Telegram told the bot (`from.username` of private messages), so an
//! owner may grant a role by @username. One row per person at most, one person per
//! spelling (usernames are unique and case-insensitive on Telegram).

use async_trait::async_trait;

use super::StoreError;
use crate::domain::Username;

#[async_trait]
pub trait UsernameStore {
    /// Notes what Telegram says `user_id`'s username is now: stored, overwriting an older
    /// one (and taking the spelling from whoever held it before); `None` deletes theirs.
    /// Writes only when something changed, so a person's every message costs one read.
    async fn note_username(&self, user_id: i64, username: Option<&Username>) -> Result<(), StoreError>;
    /// Who has `username`, in any letter case, if the bot was told: their user id and the
    /// username as Telegram spells it.
    async fn user_by_username(&self, username: &Username) -> Result<Option<(i64, Username)>, StoreError>;
    /// `user_id`'s username, if the bot was told one.
    async fn username_of(&self, user_id: i64) -> Result<Option<Username>, StoreError>;
}

macro_rules! impl_username_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::UsernameStore for $store {
            async fn note_username(
                &self,
                user_id: i64,
                username: Option<&$crate::domain::Username>,
            ) -> Result<(), $crate::store::StoreError> {
                let known = self.username_of(user_id).await?;
                if known.as_ref().map($crate::domain::Username::as_str)
                    == username.map($crate::domain::Username::as_str)
                {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                match username {
                    Some(name) => {
                        // Someone else's old row with this spelling is stale: Telegram gives
                        // a username to one account at a time.
                        ::sqlx::query(
                            "DELETE FROM usernames WHERE lower(username) = lower($1) AND user_id <> $2",
                        )
                        .bind(name.as_str())
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                        ::sqlx::query(
                            "INSERT INTO usernames (user_id, username) VALUES ($1, $2) \
                             ON CONFLICT (user_id) DO UPDATE SET username = excluded.username",
                        )
                        .bind(user_id)
                        .bind(name.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        ::sqlx::query("DELETE FROM usernames WHERE user_id = $1")
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn user_by_username(
                &self,
                username: &$crate::domain::Username,
            ) -> Result<Option<(i64, $crate::domain::Username)>, $crate::store::StoreError> {
                let row: Option<(i64, String)> = ::sqlx::query_as(
                    "SELECT user_id, username FROM usernames WHERE lower(username) = lower($1)",
                )
                .bind(username.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(id, name)| {
                    $crate::domain::Username::parse(&name)
                        .map(|name| (id, name))
                        .map_err(|e| $crate::store::StoreError::corrupt(&format!("username of {id}"), e))
                })
                .transpose()
            }

            async fn username_of(
                &self,
                user_id: i64,
            ) -> Result<Option<$crate::domain::Username>, $crate::store::StoreError> {
                let row: Option<(String,)> =
                    ::sqlx::query_as("SELECT username FROM usernames WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(name,)| {
                    $crate::domain::Username::parse(&name)
                        .map_err(|e| $crate::store::StoreError::corrupt(&format!("username of {user_id}"), e))
                })
                .transpose()
            }
        }
    };
}

pub(crate) use impl_username_store;
