//! The dialogue a user is in with the bot in a chat, kept as the JSON the bot wrote, so
//! any instance can carry it on.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::ChatId;

#[async_trait]
pub trait DialogueStore {
    async fn dialogue(&self, chat: ChatId, user: i64) -> Result<Option<String>, StoreError>;
    /// The user's dialogue in the chat and when it last moved on (its last save), so a
    /// dialogue left for long can be told from one under way.
    async fn dialogue_with_time(
        &self,
        chat: ChatId,
        user: i64,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError>;
    /// Starts or moves on the user's dialogue in the chat, replacing any other.
    async fn save_dialogue(
        &self,
        chat: ChatId,
        user: i64,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn end_dialogue(&self, chat: ChatId, user: i64) -> Result<(), StoreError>;
}

macro_rules! impl_dialogue_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::DialogueStore for $store {
            async fn dialogue(
                &self,
                chat: $crate::domain::ChatId,
                user: i64,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                let row: Option<(String,)> = ::sqlx::query_as("SELECT state FROM dialogues WHERE chat_id = $1 AND user_id = $2")
                    .bind(chat.0)
                    .bind(user)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(state,)| state))
            }

            async fn dialogue_with_time(
                &self,
                chat: $crate::domain::ChatId,
                user: i64,
            ) -> Result<Option<(String, ::chrono::DateTime<::chrono::Utc>)>, $crate::store::StoreError> {
                let row: Option<(String, ::chrono::DateTime<::chrono::Utc>)> = ::sqlx::query_as(
                    "SELECT state, updated_at FROM dialogues WHERE chat_id = $1 AND user_id = $2",
                )
                .bind(chat.0)
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row)
            }

            async fn save_dialogue(
                &self,
                chat: $crate::domain::ChatId,
                user: i64,
                state: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query(
                    "INSERT INTO dialogues (chat_id, user_id, state, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (chat_id, user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(chat.0)
                .bind(user)
                .bind(state)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn end_dialogue(&self, chat: $crate::domain::ChatId, user: i64) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query("DELETE FROM dialogues WHERE chat_id = $1 AND user_id = $2")
                    .bind(chat.0)
                    .bind(user)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_dialogue_store;
