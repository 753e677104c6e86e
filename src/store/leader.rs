//! What several instances on one database share, besides the outbox: a named leader lease
//! (the scheduler's), the register of running instances the send rate is divided among,
//! and each chat's next allowed send (per-chat spacing and Telegram's 429 holds).
//!
//! Every time here is read from the database's clock (milliseconds since the Unix
//! epoch), never from an application host's: the instances' clocks may disagree, the
//! database's is the one they share. The SQL is the same on both backends; only the
//! expression for "now" differs.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::domain::ChatId;

/// Who holds a leader lease now, for status and tests.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LeaderLease {
    pub name: String,
    pub holder: String,
    /// The fencing token: counts up each time the lease passes to another holder.
    pub token: i64,
    /// Milliseconds the lease still runs by the database's clock (negative: ran out).
    pub remaining_ms: i64,
}

/// The answer to a claim of a chat's turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatTurn {
    /// The turn is taken: send now; no instance may send to the chat for the interval.
    Go,
    /// Another send (or a 429 hold) has the chat for this much longer.
    Wait(Duration),
}

#[async_trait]
pub trait LeaderStore {
    /// Takes the lease `name` for `holder` until `lease` from now, or renews it if
    /// `holder` holds it already — unless another holder's lease is still running.
    /// Returns the fencing token held (`None`: someone else leads). The token stays the
    /// same across renewals and counts up when the lease changes hands.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<i64>, StoreError>;

    /// Gives the lease up if `holder` holds it (a clean stop), so another instance takes
    /// over at its next attempt instead of waiting for the lease to run out.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// The lease `name` as it stands, if it was ever taken.
    async fn lease(&self, name: &str) -> Result<Option<LeaderLease>, StoreError>;

    /// Registers `instance` (or renews its registration) as live for `expiry` from now,
    /// forgets instances that ran out more than an hour ago, and returns how many are
    /// live now, this one included.
    async fn heartbeat_instance(&self, instance: &str, expiry: Duration) -> Result<u32, StoreError>;

    /// The ids of the instances live now (registration not run out), oldest first.
    async fn live_instances(&self) -> Result<Vec<String>, StoreError>;

    /// Takes `instance` off the register (a clean stop): the others take its share of
    /// the rate at their next heartbeat.
    async fn leave_instances(&self, instance: &str) -> Result<(), StoreError>;

    /// Claims `chat`'s turn: if no instance sent to it within its interval and no 429
    /// holds it, the chat is not to be sent to again for `interval` from now, and the
    /// caller sends ([`ChatTurn::Go`]); otherwise how long it must wait.
    async fn claim_chat_turn(&self, chat: ChatId, interval: Duration) -> Result<ChatTurn, StoreError>;

    /// Telegram answered 429 for `chat`: no instance sends to it for `retry_after` from
    /// now (a longer hold already there stays).
    async fn hold_chat(&self, chat: ChatId, retry_after: Duration) -> Result<(), StoreError>;

    /// The chats no instance may send to yet (a 429's hold, or a turn's spacing), each with
    /// how long until it may, by the database's clock: what an instance left alone adopts
    /// into its own pacer, since alone it claims no turns in the database.
    async fn chats_on_hold(&self) -> Result<Vec<(ChatId, Duration)>, StoreError>;

    /// Forgets the chats whose turn has come (no spacing nor hold left to keep: a chat
    /// with no row may be sent to at once, like one whose turn came); returns how many.
    /// The table so holds only the chats sent to within the last few seconds and those
    /// Telegram holds.
    async fn prune_chat_turns(&self) -> Result<u64, StoreError>;
}

/// An hour in milliseconds: how long the registrations of stopped instances are kept.
pub(crate) const KEPT_MS: i64 = 3_600_000;

/// `LeaderStore` for a backend; `$now_ms` is the database's clock in milliseconds since
/// the Unix epoch.
macro_rules! impl_leader_store {
    ($store:ty, $now_ms:literal) => {
        #[::async_trait::async_trait]
        impl $crate::store::LeaderStore for $store {
            async fn acquire_lease(
                &self,
                name: &str,
                holder: &str,
                lease: ::std::time::Duration,
            ) -> Result<Option<i64>, $crate::store::StoreError> {
                // The holder renews (keeping its token); anyone takes a lease that ran out
                // (counting the token up); nobody takes a running lease from another.
                let row: Option<(i64,)> = ::sqlx::query_as(concat!(
                    "INSERT INTO leader_leases (name, holder, token, acquired_ms, expires_ms) \
                     VALUES ($1, $2, 1, ", $now_ms, ", ", $now_ms, " + $3) \
                     ON CONFLICT (name) DO UPDATE SET \
                     token = CASE WHEN leader_leases.holder = excluded.holder THEN leader_leases.token \
                     ELSE leader_leases.token + 1 END, \
                     acquired_ms = CASE WHEN leader_leases.holder = excluded.holder THEN leader_leases.acquired_ms \
                     ELSE excluded.acquired_ms END, \
                     holder = excluded.holder, expires_ms = excluded.expires_ms \
                     WHERE leader_leases.holder = excluded.holder OR leader_leases.expires_ms < ", $now_ms,
                    " RETURNING token"
                ))
                .bind(name)
                .bind(holder)
                .bind($crate::store::claims::millis(lease))
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(token,)| token))
            }

            async fn release_lease(&self, name: &str, holder: &str) -> Result<(), $crate::store::StoreError> {
                // Run out at once, token kept: the next holder counts it up.
                ::sqlx::query(concat!(
                    "UPDATE leader_leases SET expires_ms = ", $now_ms, " - 1 WHERE name = $1 AND holder = $2"
                ))
                .bind(name)
                .bind(holder)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn lease(&self, name: &str) -> Result<Option<$crate::store::LeaderLease>, $crate::store::StoreError> {
                Ok(::sqlx::query_as(concat!(
                    "SELECT name, holder, token, expires_ms - ", $now_ms, " AS remaining_ms \
                     FROM leader_leases WHERE name = $1"
                ))
                .bind(name)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn heartbeat_instance(
                &self,
                instance: &str,
                expiry: ::std::time::Duration,
            ) -> Result<u32, $crate::store::StoreError> {
                ::sqlx::query(concat!(
                    "INSERT INTO instances (id, started_ms, heartbeat_ms, expires_ms) \
                     VALUES ($1, ", $now_ms, ", ", $now_ms, ", ", $now_ms, " + $2) \
                     ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, \
                     expires_ms = excluded.expires_ms"
                ))
                .bind(instance)
                .bind($crate::store::claims::millis(expiry))
                .execute(&self.pool)
                .await?;
                ::sqlx::query(concat!("DELETE FROM instances WHERE expires_ms < ", $now_ms, " - $1"))
                    .bind($crate::store::leader::KEPT_MS)
                    .execute(&self.pool)
                    .await?;
                let (live,): (i64,) =
                    ::sqlx::query_as(concat!("SELECT COUNT(*) FROM instances WHERE expires_ms >= ", $now_ms))
                        .fetch_one(&self.pool)
                        .await?;
                Ok(u32::try_from(live).unwrap_or(u32::MAX).max(1))
            }

            async fn live_instances(&self) -> Result<Vec<String>, $crate::store::StoreError> {
                let rows: Vec<(String,)> = ::sqlx::query_as(concat!(
                    "SELECT id FROM instances WHERE expires_ms >= ", $now_ms, " ORDER BY started_ms, id"
                ))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }

            async fn leave_instances(&self, instance: &str) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query("DELETE FROM instances WHERE id = $1").bind(instance).execute(&self.pool).await?;
                Ok(())
            }

            async fn claim_chat_turn(
                &self,
                chat: $crate::domain::ChatId,
                interval: ::std::time::Duration,
            ) -> Result<$crate::store::ChatTurn, $crate::store::StoreError> {
                let taken: Option<(i64,)> = ::sqlx::query_as(concat!(
                    "INSERT INTO chat_send_state (chat_id, next_send_ms) VALUES ($1, ", $now_ms, " + $2) \
                     ON CONFLICT (chat_id) DO UPDATE SET next_send_ms = excluded.next_send_ms \
                     WHERE chat_send_state.next_send_ms <= ", $now_ms, " RETURNING chat_id"
                ))
                .bind(chat.0)
                .bind($crate::store::claims::millis(interval))
                .fetch_optional(&self.pool)
                .await?;
                if taken.is_some() {
                    return Ok($crate::store::ChatTurn::Go);
                }
                let wait: Option<(i64,)> = ::sqlx::query_as(concat!(
                    "SELECT next_send_ms - ", $now_ms, " FROM chat_send_state WHERE chat_id = $1"
                ))
                .bind(chat.0)
                .fetch_optional(&self.pool)
                .await?;
                // Gone meanwhile (its turn came, and it was pruned): a moment's wait, and the
                // next claim takes it.
                let wait = wait.map_or(1, |(ms,)| ms.max(1));
                Ok($crate::store::ChatTurn::Wait(::std::time::Duration::from_millis(wait as u64)))
            }

            async fn hold_chat(
                &self,
                chat: $crate::domain::ChatId,
                retry_after: ::std::time::Duration,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query(concat!(
                    "INSERT INTO chat_send_state (chat_id, next_send_ms) VALUES ($1, ", $now_ms, " + $2) \
                     ON CONFLICT (chat_id) DO UPDATE SET next_send_ms = excluded.next_send_ms \
                     WHERE chat_send_state.next_send_ms < excluded.next_send_ms"
                ))
                .bind(chat.0)
                .bind($crate::store::claims::millis(retry_after))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn chats_on_hold(
                &self,
            ) -> Result<Vec<($crate::domain::ChatId, ::std::time::Duration)>, $crate::store::StoreError> {
                let rows: Vec<(i64, i64)> = ::sqlx::query_as(concat!(
                    "SELECT chat_id, next_send_ms - ", $now_ms, " FROM chat_send_state WHERE next_send_ms > ", $now_ms
                ))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(chat, ms)| ($crate::domain::ChatId(chat), ::std::time::Duration::from_millis(ms.max(0) as u64)))
                    .collect())
            }

            async fn prune_chat_turns(&self) -> Result<u64, $crate::store::StoreError> {
                let done = ::sqlx::query(concat!("DELETE FROM chat_send_state WHERE next_send_ms < ", $now_ms))
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use impl_leader_store;
