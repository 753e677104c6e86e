//! The inbox of Telegram updates, and the lease of the one instance that polls.
//!
//! An update is stored (raw JSON, keyed by Telegram's `update_id`) *before* Telegram is
//! told it arrived: the webhook answers 200 only after the insert committed, the poller
//! advances its getUpdates offset in the same transaction as the inserts. Any instance's
//! workers then claim updates the way senders claim deliveries (see `claims`): a fenced
//! lease timed by the database's clock, a fencing token (`claim`) every later write names,
//! and a worker never takes back a row it still holds. A chat's updates are handled one
//! at a time and in order: only the oldest open update of a chat can be claimed, so the
//! next one waits until that one is marked handled, whoever holds it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::ChatId;

/// An update as it arrived, to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUpdate {
    /// Telegram's `update_id`: the inbox stores each once.
    pub update_id: i64,
    /// The chat whose updates it must be handled in order with (the sender's own id for
    /// updates without a chat).
    pub chat: ChatId,
    /// The update's JSON as Telegram sent it.
    pub payload: String,
}

/// What storing an update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// Stored, waiting for a worker.
    New,
    /// An update with this `update_id` was stored before (Telegram sent it again): nothing
    /// changed.
    Repeated,
    /// Stored as shed: its chat already had `backlog` updates waiting, so this one is
    /// never handled (a flooding chat must not hold the workers).
    Shed,
}

/// An update a worker has claimed: what to handle, and the claim its writes must name.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedUpdate {
    pub update_id: i64,
    chat_id: i64,
    /// The update's JSON as Telegram sent it.
    pub payload: String,
    /// The worker holding the claim.
    pub leased_by: String,
    /// The fencing token: how many times the row has been claimed, this claim included.
    pub claim: i64,
}

impl ClaimedUpdate {
    pub fn chat(&self) -> ChatId {
        ChatId(self.chat_id)
    }
}

/// How many updates the inbox holds, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxCounts {
    pub pending: i64,
    pub handling: i64,
    pub handled: i64,
    pub shed: i64,
}

/// The polling lease, as its holder knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollLease {
    pub holder: String,
    /// The fencing token: counted up by every new holder; writes name it.
    pub token: i64,
    /// The getUpdates offset to poll from: every update below it is in the inbox.
    pub next_offset: i64,
}

#[async_trait]
pub trait InboxStore {
    /// Stores `update` unless its `update_id` is stored already; as shed if its chat
    /// already has `backlog` or more updates waiting or being handled. Committed when
    /// this returns.
    async fn receive_update(
        &self,
        update: &NewUpdate,
        backlog: u32,
        now: DateTime<Utc>,
    ) -> Result<Received, StoreError>;
    /// Claims up to `limit` updates, each the oldest open update of its chat, that are
    /// waiting or whose lease ran out by the database's clock (never ones `worker` still
    /// holds), for `lease` from now; oldest first.
    async fn claim_updates(
        &self,
        worker: &str,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedUpdate>, StoreError>;
    /// Extends the leases `worker` holds on `ids` to `lease` from now; returns the ids it
    /// still holds.
    async fn renew_update_leases(
        &self,
        worker: &str,
        ids: &[i64],
        lease: Duration,
    ) -> Result<Vec<i64>, StoreError>;
    /// Marks a claimed update handled (keeping only its id and times: neither its chat nor
    /// its payload), if the claim still holds; false (nothing written) if another worker
    /// claimed it since.
    async fn finish_update(&self, update: &ClaimedUpdate, now: DateTime<Utc>) -> Result<bool, StoreError>;
    async fn inbox_counts(&self) -> Result<InboxCounts, StoreError>;

    /// Takes the polling lease for `holder` for `lease` from now if nobody holds it (or
    /// its lease ran out by the database's clock, or `force`); `None` if another holds it.
    async fn take_poll_lease(
        &self,
        holder: &str,
        lease: Duration,
        force: bool,
    ) -> Result<Option<PollLease>, StoreError>;
    /// Extends the polling lease to `duration` from now; false if another holder took it.
    async fn renew_poll_lease(&self, lease: &PollLease, duration: Duration) -> Result<bool, StoreError>;
    /// In one transaction fenced by the lease: stores `updates` (as
    /// [`InboxStore::receive_update`] does), records `next_offset` and renews the lease to
    /// `duration` from now. `None` (nothing stored) if another holder took the lease.
    async fn store_polled(
        &self,
        lease: &PollLease,
        updates: &[NewUpdate],
        next_offset: i64,
        duration: Duration,
        backlog: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Received>>, StoreError>;
    /// Gives the lease up, so that another instance polls at once.
    async fn release_poll_lease(&self, lease: &PollLease) -> Result<(), StoreError>;
}

/// The insert both [`InboxStore::receive_update`] and [`InboxStore::store_polled`] use:
/// `$1` update id, `$2` chat, `$3` payload, `$4` backlog, `$5` now. A shed update keeps
/// neither its chat nor its payload. (SQLite needs the `WHERE` to read `ON CONFLICT` as an
/// upsert clause.)
pub(crate) const INSERT_UPDATE: &str = "INSERT INTO inbox_updates \
     (update_id, chat_id, payload, status, received_at, handled_at) \
     SELECT $1, CASE WHEN n.open >= $4 THEN 0 ELSE $2 END, CASE WHEN n.open >= $4 THEN '' ELSE $3 END, \
     CASE WHEN n.open >= $4 THEN 'shed' ELSE 'pending' END, $5, CASE WHEN n.open >= $4 THEN $5 END \
     FROM (SELECT COUNT(*) AS open FROM inbox_updates \
     WHERE chat_id = $2 AND status IN ('pending', 'handling')) n WHERE TRUE \
     ON CONFLICT (update_id) DO NOTHING RETURNING status";

/// The one polling lease's row.
pub(crate) const POLL_LEASE: &str = "telegram";

pub(crate) fn received(status: Option<String>) -> Received {
    match status.as_deref() {
        None => Received::Repeated,
        Some("shed") => Received::Shed,
        Some(_) => Received::New,
    }
}

/// The inbox queries both backends share. `$claim_lock` ends the subquery that picks the
/// rows to claim; `$now_ms` is the database's clock in milliseconds since the Unix epoch;
/// `$no_flush` is a condition that lets the statement's commit return before the database
/// flushed it to disk, for the claim and the mark of an update handled (why that is safe:
/// at the PostgreSQL store's use of this macro).
macro_rules! impl_inbox_store {
    ($store:ty, $db:ty, $claim_lock:literal, $now_ms:literal, $no_flush:literal) => {
        #[::async_trait::async_trait]
        impl $crate::store::InboxStore for $store {
            async fn receive_update(
                &self,
                update: &$crate::store::NewUpdate,
                backlog: u32,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::store::Received, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let status: Option<(String,)> = ::sqlx::query_as($crate::store::inbox::INSERT_UPDATE)
                    .bind(update.update_id)
                    .bind(update.chat.0)
                    .bind(&update.payload)
                    .bind(i64::from(backlog))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok($crate::store::inbox::received(status.map(|(s,)| s)))
            }

            async fn claim_updates(
                &self,
                worker: &str,
                lease: ::std::time::Duration,
                limit: u32,
            ) -> Result<Vec<$crate::store::ClaimedUpdate>, $crate::store::StoreError> {
                let rows = ::sqlx::query_as(concat!(
                    "UPDATE inbox_updates SET status = 'handling', claim = claim + 1, leased_by = $1, \
                     lease_expires_ms = ",
                    $now_ms,
                    // `status IN (…)` word for word as the partial index `inbox_updates_open_by_id`
                    // says it, so that both planners walk only open rows, oldest first.
                    " + $2 WHERE update_id IN (SELECT u.update_id FROM inbox_updates u \
                     WHERE u.status IN ('pending', 'handling') \
                     AND (u.status = 'pending' OR (u.lease_expires_ms < ",
                    $now_ms,
                    " AND u.leased_by <> $1)) \
                     AND u.update_id = (SELECT MIN(o.update_id) FROM inbox_updates o \
                     WHERE o.chat_id = u.chat_id AND o.status IN ('pending', 'handling')) \
                     ORDER BY u.update_id LIMIT $3",
                    $claim_lock,
                    ")",
                    $no_flush,
                    " RETURNING update_id, chat_id, payload, leased_by, claim"
                ))
                .bind(worker)
                .bind($crate::store::claims::millis(lease))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn renew_update_leases(
                &self,
                worker: &str,
                ids: &[i64],
                lease: ::std::time::Duration,
            ) -> Result<Vec<i64>, $crate::store::StoreError> {
                Ok($crate::store::claims::renew_held_leases!(
                    $db, $now_ms, &self.pool, "inbox_updates", "update_id", "handling", worker, ids, lease
                ))
            }

            async fn finish_update(
                &self,
                update: &$crate::store::ClaimedUpdate,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = ::sqlx::query(concat!(
                    "UPDATE inbox_updates SET status = 'handled', payload = '', chat_id = 0, handled_at = $4, \
                     lease_expires_ms = NULL \
                     WHERE update_id = $1 AND leased_by = $2 AND claim = $3 AND status = 'handling'",
                    $no_flush
                ))
                .bind(update.update_id)
                .bind(&update.leased_by)
                .bind(update.claim)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn inbox_counts(&self) -> Result<$crate::store::InboxCounts, $crate::store::StoreError> {
                let rows: Vec<(String, i64)> =
                    ::sqlx::query_as("SELECT status, COUNT(*) FROM inbox_updates GROUP BY status")
                        .fetch_all(&self.pool)
                        .await?;
                let mut counts = $crate::store::InboxCounts::default();
                for (status, n) in rows {
                    match status.as_str() {
                        "pending" => counts.pending = n,
                        "handling" => counts.handling = n,
                        "handled" => counts.handled = n,
                        _ => counts.shed += n,
                    }
                }
                Ok(counts)
            }

            async fn take_poll_lease(
                &self,
                holder: &str,
                lease: ::std::time::Duration,
                force: bool,
            ) -> Result<Option<$crate::store::PollLease>, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                ::sqlx::query("INSERT INTO poll_lease (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
                    .bind($crate::store::inbox::POLL_LEASE)
                    .execute(&mut *tx)
                    .await?;
                let taken: Option<(i64, i64)> = ::sqlx::query_as(concat!(
                    "UPDATE poll_lease SET holder = $2, token = token + 1, lease_expires_ms = ",
                    $now_ms,
                    " + $3 WHERE name = $1 AND ($4 OR holder IS NULL OR holder = $2 \
                     OR lease_expires_ms IS NULL OR lease_expires_ms < ",
                    $now_ms,
                    ") RETURNING token, next_offset"
                ))
                .bind($crate::store::inbox::POLL_LEASE)
                .bind(holder)
                .bind($crate::store::claims::millis(lease))
                .bind(force)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(taken.map(|(token, next_offset)| $crate::store::PollLease {
                    holder: holder.to_owned(),
                    token,
                    next_offset,
                }))
            }

            async fn renew_poll_lease(
                &self,
                lease: &$crate::store::PollLease,
                duration: ::std::time::Duration,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = ::sqlx::query(concat!(
                    "UPDATE poll_lease SET lease_expires_ms = ",
                    $now_ms,
                    " + $4 WHERE name = $1 AND holder = $2 AND token = $3"
                ))
                .bind($crate::store::inbox::POLL_LEASE)
                .bind(&lease.holder)
                .bind(lease.token)
                .bind($crate::store::claims::millis(duration))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn store_polled(
                &self,
                lease: &$crate::store::PollLease,
                updates: &[$crate::store::NewUpdate],
                next_offset: i64,
                duration: ::std::time::Duration,
                backlog: u32,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<Option<Vec<$crate::store::Received>>, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                // The fence first: on PostgreSQL it also locks the lease's row, so a new
                // holder waits for this transaction and then reads the offset it wrote.
                let held = ::sqlx::query(concat!(
                    "UPDATE poll_lease SET next_offset = $4, lease_expires_ms = ",
                    $now_ms,
                    " + $5 WHERE name = $1 AND holder = $2 AND token = $3"
                ))
                .bind($crate::store::inbox::POLL_LEASE)
                .bind(&lease.holder)
                .bind(lease.token)
                .bind(next_offset)
                .bind($crate::store::claims::millis(duration))
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    > 0;
                if !held {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let mut results = Vec::with_capacity(updates.len());
                for update in updates {
                    let status: Option<(String,)> = ::sqlx::query_as($crate::store::inbox::INSERT_UPDATE)
                        .bind(update.update_id)
                        .bind(update.chat.0)
                        .bind(&update.payload)
                        .bind(i64::from(backlog))
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    results.push($crate::store::inbox::received(status.map(|(s,)| s)));
                }
                tx.commit().await?;
                Ok(Some(results))
            }

            async fn release_poll_lease(
                &self,
                lease: &$crate::store::PollLease,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query(
                    "UPDATE poll_lease SET holder = NULL, lease_expires_ms = NULL \
                     WHERE name = $1 AND holder = $2 AND token = $3",
                )
                .bind($crate::store::inbox::POLL_LEASE)
                .bind(&lease.holder)
                .bind(lease.token)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_inbox_store;
