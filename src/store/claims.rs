//! The sender's side of the outbox: claiming deliveries with a fenced lease, keeping the
//! lease alive, checking a delivery right before each part goes out, and recording how it
//! ended.
//!
//! Fencing (Kleppmann, "How to do distributed locking"): every claim of a row counts its
//! `claim` column up, and every later write names the worker and the claim it holds. A
//! write from a worker whose lease ran out and whose row someone else claimed since
//! changes nothing, and the worker learns it no longer holds the row. Leases are timed by
//! the database's clock (`lease_expires_ms`, milliseconds since the Unix epoch), never by
//! the application host's, and a worker never takes back a row it still holds itself, so
//! a clock jump on one host cannot make two senders send the same message.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use super::outbox::FanoutKind;
use crate::domain::{ChatId, GoneReason, PauseReason};

/// A delivery a sender has claimed: what to send, and the claim its writes must name.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub fanout_id: i64,
    /// The `outbox_messages` row it sends.
    pub message_id: i64,
    chat_id: i64,
    pub thread_id: Option<i32>,
    pub attempts: i32,
    /// Parts already sent by an earlier attempt.
    pub parts_sent: i32,
    /// The Telegram message this one replies to (a correction).
    pub reply_to: Option<i32>,
    /// The worker holding the claim.
    pub leased_by: String,
    /// The fencing token: how many times the row has been claimed, this claim included.
    pub claim: i64,
}

impl ClaimedDelivery {
    pub fn chat(&self) -> ChatId {
        ChatId(self.chat_id)
    }
}

/// The columns of a claimed delivery, for the claim query.
macro_rules! claimed_columns {
    () => {
        "id, fanout_id, message_id, chat_id, thread_id, attempts, parts_sent, reply_to, leased_by, claim"
    };
}

pub(crate) use claimed_columns;

/// Extends the leases `$worker` holds on the rows `$ids` of `$table` (key column `$key`,
/// claimed rows in state `$status`) to `$lease` from now by the database's clock
/// (`$now_ms`); evaluates to the keys it still holds. Deliveries and inbox updates renew
/// their claims this one way, in chunks of [`crate::store::outbox::INSERT_CHUNK`].
macro_rules! renew_held_leases {
    ($db:ty, $now_ms:expr, $pool:expr, $table:literal, $key:literal, $status:literal, $worker:expr, $ids:expr, $lease:expr) => {{
        let mut held = Vec::with_capacity($ids.len());
        for chunk in $ids.chunks($crate::store::outbox::INSERT_CHUNK) {
            let mut update = ::sqlx::QueryBuilder::<$db>::new(concat!(
                "UPDATE ",
                $table,
                " SET lease_expires_ms = ",
                $now_ms,
                " + "
            ));
            update.push_bind($crate::store::claims::millis($lease));
            update.push(concat!(" WHERE status = '", $status, "' AND leased_by = ")).push_bind($worker);
            update.push(concat!(" AND ", $key, " IN ("));
            let mut list = update.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            update.push(concat!(") RETURNING ", $key));
            let rows: Vec<(i64,)> = update.build_query_as().fetch_all($pool).await?;
            held.extend(rows.into_iter().map(|(id,)| id));
        }
        held
    }};
}
pub(crate) use renew_held_leases;

/// What a claimed delivery should do next, read right before a part is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Another sender holds the row now (this lease ran out): stop, record nothing.
    Lost,
    /// Send. `message_id` is the row's message now: a correction that came before the
    /// first part replaced it (see [`ClaimStore::switch_message`]).
    Go { message_id: i64 },
    /// The notice was withdrawn.
    Withdrawn,
    /// A later change (a correction, a withdrawal) exists that this delivery does not
    /// carry: for an alert, its message is older than the notice's latest correction; for
    /// a correction, a newer one was queued.
    Superseded { latest: Option<i64> },
}

/// The facts [`Standing`] is worked out from, as one query reads them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct StandingRow {
    message_id: i64,
    fanout_id: i64,
    kind: String,
    notice_status: Option<String>,
    /// The notice's latest correction or cancellation fan-out, and its message.
    latest_change: Option<i64>,
    latest_change_message: Option<i64>,
}

impl StandingRow {
    pub(crate) fn standing(self) -> Result<Standing, StoreError> {
        let kind = FanoutKind::parse(&self.kind)?;
        Ok(match kind {
            FanoutKind::Alert | FanoutKind::Channel => {
                if self.notice_status.as_deref() == Some("retracted") {
                    Standing::Withdrawn
                } else {
                    match self.latest_change_message {
                        Some(latest) if latest != self.message_id => {
                            Standing::Superseded { latest: Some(latest) }
                        }
                        _ => Standing::Go { message_id: self.message_id },
                    }
                }
            }
            FanoutKind::Correction => match self.latest_change {
                Some(latest) if latest > self.fanout_id => Standing::Superseded { latest: None },
                _ => Standing::Go { message_id: self.message_id },
            },
            FanoutKind::Digest => Standing::Go { message_id: self.message_id },
        })
    }
}

/// How a delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every part went out (or, for a notice changed mid-way, every part that will): the
    /// first part's Telegram message id is kept for corrections. A notice changed since
    /// gets its latest follow-up queued as a reply.
    Sent { first_message_id: Option<i32>, parts: i32 },
    /// Some parts went out: a retry resumes after them.
    PartlySent { first_message_id: Option<i32>, parts: i32 },
    /// Try again at `at`. `counts` is false for rate limiting and for pauses of the whole
    /// bot, which are not the chat's fault.
    Retry { at: DateTime<Utc>, error: String, counts: bool },
    /// Telegram refused the message itself; sending it again will not help.
    Failed { error: String },
    /// Not sent because its notice was withdrawn or a later change superseded it.
    Cancelled { reason: String },
    /// The chat is unreachable: this and every pending delivery to it end, and the
    /// subscriber is marked gone.
    Gone { reason: GoneReason },
    /// Telegram will not let the bot send there for now: the subscription is paused, and
    /// this and the chat's pending deliveries end as failed with the reason.
    Paused { reason: PauseReason },
    /// The forum topic is gone: the subscription forgets it, and this delivery and the
    /// chat's pending ones go to the chat itself.
    TopicGone,
    /// The group became a supergroup: the subscription and pending deliveries move.
    Moved { to: ChatId },
}

#[async_trait]
pub trait ClaimStore {
    /// Claims up to `limit` deliveries that are due, or whose lease ran out by the
    /// database's clock (never ones `worker` still holds), for `lease` from now.
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;
    /// Extends the leases `worker` holds on `ids` to `lease` from now; returns the ids it
    /// still holds (the others were taken by another sender after their lease ran out).
    async fn renew_leases(&self, worker: &str, ids: &[i64], lease: Duration) -> Result<Vec<i64>, StoreError>;
    /// Reads, right before a part is sent, whether the claim still holds and whether its
    /// notice was withdrawn or changed since. A claim that holds has its lease renewed to
    /// `lease` from now first (fenced by the claim), so that no other sender may take the
    /// row while the part goes out — even when this sender's heartbeat was late and the
    /// lease had run out without anyone taking the row yet.
    async fn delivery_standing(
        &self,
        delivery: &ClaimedDelivery,
        lease: Duration,
    ) -> Result<Standing, StoreError>;
    /// A claimed delivery not begun yet takes `message_id` (its notice's latest
    /// correction) instead of the message it had. False if the claim is lost.
    async fn switch_message(&self, delivery: &ClaimedDelivery, message_id: i64) -> Result<bool, StoreError>;
    async fn outbox_message(&self, id: i64) -> Result<Option<String>, StoreError>;
    /// Records how the attempt ended, if the claim still holds; false (nothing written)
    /// if another sender claimed the row since.
    async fn record_outcome(
        &self,
        delivery: &ClaimedDelivery,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records the deliveries as sent in one statement, each only if its claim still
    /// holds and its notice has no correction it lacks; returns the ids recorded. The
    /// others (a claim lost, a follow-up due) the caller records with
    /// [`record_outcome`](Self::record_outcome), which tells those cases apart. A group
    /// commit for SQLite, where every statement is a round trip to sqlx's thread for the
    /// connection; PostgreSQL records none here (it needs a transaction with a share lock
    /// on the notice for each, see `record_outcome`), and says so with
    /// [`records_sent_together`](Self::records_sent_together).
    async fn record_sent_together(
        &self,
        sent: &[SentRecord<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError>;
    /// Whether [`record_sent_together`](Self::record_sent_together) records anything.
    fn records_sent_together(&self) -> bool;
    /// When the next pending delivery is due, to sleep until then.
    async fn next_delivery_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
}

/// A delivery sent in full, for [`ClaimStore::record_sent_together`]: what
/// `Outcome::Sent` says of it.
#[derive(Clone, Copy, Debug)]
pub struct SentRecord<'a> {
    pub delivery: &'a ClaimedDelivery,
    /// Parts sent, all of them.
    pub parts: i32,
    /// The Telegram message id of the first part.
    pub first_message_id: Option<i32>,
}

/// Milliseconds, for the lease arithmetic in SQL.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// An UPDATE of a claimed row that applies only while the claim holds: `$1` is the row,
/// `$2` the worker, `$3` the claim; `set` uses `$4` on.
pub(crate) fn fenced_update(set: &str) -> String {
    format!(
        "UPDATE deliveries SET {set} WHERE id = $1 AND leased_by = $2 AND claim = $3 AND status = 'sending'"
    )
}

/// What recording a delivery as sent sets, for [`fenced_update`]: `$4` the parts sent,
/// `$5` the first part's Telegram message id, `$6` now.
pub(crate) const MARK_SENT: &str = "status = 'sent', parts_sent = $4, \
     telegram_message_id = COALESCE(telegram_message_id, $5), sent_at = $6, lease_expires_ms = NULL, updated_at = $6";

/// The latest correction of an alert's or channel post's notice that a delivery does not
/// carry yet, as the FROM and WHERE of a query (`c` the correction's fan-out, `d` the
/// delivery, whose id is the SQL `$delivery`): what a delivery recorded as sent must
/// still get, as a reply.
macro_rules! missed_follow_up {
    ($delivery:literal) => {
        concat!(
            "FROM deliveries d \
         JOIN fanouts f ON f.id = d.fanout_id AND f.kind IN ('alert', 'channel') \
         JOIN fanouts c ON c.notice_id = f.notice_id AND c.kind = 'correction' \
         WHERE d.id = ",
            $delivery,
            " AND c.message_id IS NOT NULL \
         AND c.id = (SELECT MAX(l.id) FROM fanouts l WHERE l.notice_id = f.notice_id AND l.kind = 'correction') \
         AND c.message_id <> d.message_id"
        )
    };
}
pub(crate) use missed_follow_up;

/// The claim queries both backends share. `$claim_lock` ends the subquery that picks the
/// rows to claim; `$now_ms` is the database's clock in milliseconds since the Unix epoch;
/// `$share_lock` makes recording a sent alert wait for a change of its notice in flight.
macro_rules! impl_claim_store {
    ($store:ty, $db:ty, $claim_lock:literal, $now_ms:literal, $share_lock:literal) => {
        impl $store {
            /// `sql`, a [`fenced_update`] recording parts sent (`$4` the parts, `$5` the
            /// first part's Telegram message id, `$6` now), with its parameters bound.
            fn bind_parts_sent<'q>(
                sql: &'q str,
                d: &'q $crate::store::ClaimedDelivery,
                parts: i32,
                first_message_id: Option<i32>,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::sqlx::query::Query<'q, $db, <$db as ::sqlx::Database>::Arguments<'q>> {
                ::sqlx::query(sql)
                    .bind(d.id)
                    .bind(&d.leased_by)
                    .bind(d.claim)
                    .bind(parts)
                    .bind(first_message_id)
                    .bind(now)
            }

            /// An alert or channel post that was in flight (or half sent) when its notice was
            /// corrected or withdrawn went out as it was: it gets the latest follow-up it does
            /// not already carry, as a reply.
            async fn queue_missed_follow_up(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                delivery: i64,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                // A change of the notice in flight commits first (or waits for this one), so
                // either it sees this delivery as sent or this sees its follow-up. SQLite has
                // no lock to take (its one writer at a time already orders the two), so it
                // skips the read: one statement less for every delivery sent.
                if !$share_lock.is_empty() {
                    ::sqlx::query(concat!(
                        "SELECT n.id FROM notices n JOIN fanouts f ON f.notice_id = n.id \
                         JOIN deliveries d ON d.fanout_id = f.id WHERE d.id = $1",
                        $share_lock
                    ))
                    .bind(delivery)
                    .fetch_optional(&mut **tx)
                    .await?;
                }
                ::sqlx::query(concat!(
                    "INSERT INTO deliveries (fanout_id, message_id, dedupe_key, chat_id, thread_id, priority, status, \
                     next_attempt_at, reply_to, created_at, updated_at) \
                     SELECT c.id, c.message_id, c.key || ':' || CAST(d.chat_id AS TEXT), d.chat_id, d.thread_id, 0, \
                     'pending', $2, d.telegram_message_id, $2, $2 ",
                    $crate::store::claims::missed_follow_up!("$1"),
                    " ON CONFLICT (dedupe_key) DO NOTHING"
                ))
                .bind(delivery)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::ClaimStore for $store {
            async fn claim_deliveries(
                &self,
                worker: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
                lease: ::std::time::Duration,
                limit: u32,
            ) -> Result<Vec<$crate::store::ClaimedDelivery>, $crate::store::StoreError> {
                // Waiting and abandoned deliveries are picked apart, each arm in the order of
                // an index on (status, priority, next_attempt_at, id) so that it stops after
                // `$4` rows, and the two short lists merged: `deliveries_ready` and the rowid
                // on SQLite, `deliveries_ready_by_id` on PostgreSQL (migration
                // 20261201000029). One `WHERE … OR …` made both planners collect and sort
                // every pending delivery on each claim: 71 ms a claim with 96 000 pending on
                // SQLite, which held a 100 000-subscriber fan-out to about 250 sends a second
                // (`cargo bench --bench fanout`, BENCHMARKS.md).
                let rows = ::sqlx::query_as(concat!(
                    "UPDATE deliveries SET status = 'sending', claim = claim + 1, leased_by = $2, \
                     lease_expires_ms = ",
                    $now_ms,
                    " + $3, lease_until = NULL, updated_at = $1 \
                     WHERE id IN (SELECT id FROM (\
                     SELECT id, priority, next_attempt_at FROM (SELECT id, priority, next_attempt_at \
                     FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
                     ORDER BY priority, next_attempt_at, id LIMIT $4",
                    $claim_lock,
                    ") waiting UNION ALL \
                     SELECT id, priority, next_attempt_at FROM (SELECT id, priority, next_attempt_at \
                     FROM deliveries WHERE status = 'sending' \
                     AND (lease_expires_ms IS NULL OR lease_expires_ms < ",
                    $now_ms,
                    ") AND (leased_by IS NULL OR leased_by <> $2) \
                     ORDER BY priority, next_attempt_at, id LIMIT $4",
                    $claim_lock,
                    ") abandoned) ready ORDER BY priority, next_attempt_at, id LIMIT $4) RETURNING ",
                    $crate::store::claims::claimed_columns!()
                ))
                .bind(now)
                .bind(worker)
                .bind($crate::store::claims::millis(lease))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn renew_leases(
                &self,
                worker: &str,
                ids: &[i64],
                lease: ::std::time::Duration,
            ) -> Result<Vec<i64>, $crate::store::StoreError> {
                Ok($crate::store::claims::renew_held_leases!(
                    $db, $now_ms, &self.pool, "deliveries", "id", "sending", worker, ids, lease
                ))
            }

            async fn delivery_standing(
                &self,
                d: &$crate::store::ClaimedDelivery,
                lease: ::std::time::Duration,
            ) -> Result<$crate::store::Standing, $crate::store::StoreError> {
                // Renewed by the claim's own fence, and read in the same statement: if another
                // sender claimed the row first this changes nothing and returns no row (lost),
                // and once it is renewed no claim can take it. (One statement instead of an
                // UPDATE and a SELECT: this runs before every part sent.)
                let row: Option<$crate::store::claims::StandingRow> = ::sqlx::query_as(concat!(
                    "UPDATE deliveries SET lease_expires_ms = ",
                    $now_ms,
                    " + $4 WHERE id = $1 AND leased_by = $2 AND claim = $3 AND status = 'sending' \
                     RETURNING message_id, fanout_id, \
                     (SELECT f.kind FROM fanouts f WHERE f.id = deliveries.fanout_id) AS kind, \
                     (SELECT n.status FROM fanouts f JOIN notices n ON n.id = f.notice_id \
                      WHERE f.id = deliveries.fanout_id) AS notice_status, \
                     (SELECT c.id FROM fanouts f JOIN fanouts c ON c.notice_id = f.notice_id \
                      AND c.kind = 'correction' WHERE f.id = deliveries.fanout_id \
                      ORDER BY c.id DESC LIMIT 1) AS latest_change, \
                     (SELECT c.message_id FROM fanouts f JOIN fanouts c ON c.notice_id = f.notice_id \
                      AND c.kind = 'correction' WHERE f.id = deliveries.fanout_id \
                      ORDER BY c.id DESC LIMIT 1) AS latest_change_message"
                ))
                .bind(d.id)
                .bind(&d.leased_by)
                .bind(d.claim)
                .bind($crate::store::claims::millis(lease))
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(row) => row.standing(),
                    None => Ok($crate::store::Standing::Lost),
                }
            }

            async fn switch_message(
                &self,
                d: &$crate::store::ClaimedDelivery,
                message_id: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let sql = $crate::store::claims::fenced_update("message_id = $4, parts_sent = 0");
                let done = ::sqlx::query(&sql)
                    .bind(d.id)
                    .bind(&d.leased_by)
                    .bind(d.claim)
                    .bind(message_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn outbox_message(&self, id: i64) -> Result<Option<String>, $crate::store::StoreError> {
                let row: Option<(String,)> = ::sqlx::query_as("SELECT parts FROM outbox_messages WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(parts,)| parts))
            }

            async fn record_sent_together(
                &self,
                sent: &[$crate::store::SentRecord<'_>],
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<Vec<i64>, $crate::store::StoreError> {
                if !self.records_sent_together() || sent.is_empty() {
                    return Ok(Vec::new());
                }
                // What `record_outcome`'s single statement does for one delivery, for each
                // row of `o`; the rows it leaves alone return no id.
                let mut update = ::sqlx::QueryBuilder::<$db>::new(
                    "WITH o (id, leased_by, claim, parts, first_message_id) AS (",
                );
                update.push_values(sent, |mut row, r| {
                    row.push_bind(r.delivery.id)
                        .push_bind(r.delivery.leased_by.as_str())
                        .push_bind(r.delivery.claim)
                        .push_bind(r.parts)
                        .push_bind(r.first_message_id);
                });
                update.push(
                    ") UPDATE deliveries SET status = 'sent', parts_sent = o.parts, \
                     telegram_message_id = COALESCE(deliveries.telegram_message_id, o.first_message_id), sent_at = ",
                );
                update.push_bind(now).push(", lease_expires_ms = NULL, updated_at = ").push_bind(now);
                update.push(concat!(
                    " FROM o WHERE deliveries.id = o.id AND deliveries.leased_by = o.leased_by \
                     AND deliveries.claim = o.claim AND deliveries.status = 'sending' AND NOT EXISTS (SELECT 1 ",
                    $crate::store::claims::missed_follow_up!("deliveries.id"),
                    ") RETURNING deliveries.id"
                ));
                // Not kept prepared: batches of 1 to 256 rows are as many statements, and
                // sqlx's cache of 100 a connection would hold large ones for nothing.
                let ids: Vec<(i64,)> = update.build_query_as().persistent(false).fetch_all(&self.pool).await?;
                Ok(ids.into_iter().map(|(id,)| id).collect())
            }

            fn records_sent_together(&self) -> bool {
                $share_lock.is_empty()
            }

            async fn record_outcome(
                &self,
                d: &$crate::store::ClaimedDelivery,
                outcome: &$crate::store::Outcome,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::Outcome;
                // SQLite, the common case: a delivery sent whose notice has no correction it
                // lacks is recorded by one statement (`record_sent_together`, the sender's
                // group commit, for this one delivery), not a transaction of four (BEGIN,
                // the UPDATE, the follow-up's INSERT, COMMIT). PostgreSQL needs the
                // transaction's share lock on the notice, below. A claim lost or a
                // follow-up due changes nothing there, and the transaction below tells which.
                if let Outcome::Sent { first_message_id, parts } = outcome {
                    let one = $crate::store::SentRecord { delivery: d, parts: *parts, first_message_id: *first_message_id };
                    if !self.record_sent_together(&[one], now).await?.is_empty() {
                        return Ok(true);
                    }
                }
                let mut tx = self.begin_write().await?;
                let bind = $crate::store::claims::fenced_update;
                let held = match outcome {
                    Outcome::Sent { first_message_id, parts } | Outcome::PartlySent { first_message_id, parts } => {
                        let done = matches!(outcome, Outcome::Sent { .. });
                        let sql = if done {
                            bind($crate::store::claims::MARK_SENT)
                        } else {
                            bind("parts_sent = $4, telegram_message_id = COALESCE(telegram_message_id, $5), updated_at = $6")
                        };
                        let held = Self::bind_parts_sent(&sql, d, *parts, *first_message_id, now)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                            > 0;
                        if held && done {
                            Self::queue_missed_follow_up(&mut tx, d.id, now).await?;
                        }
                        held
                    }
                    Outcome::Retry { at, error, counts } => {
                        ::sqlx::query(&bind(
                            "status = 'pending', next_attempt_at = $4, attempts = attempts + $5, last_error = $6, \
                             lease_expires_ms = NULL, leased_by = NULL, updated_at = $7",
                        ))
                        .bind(d.id)
                        .bind(&d.leased_by)
                        .bind(d.claim)
                        .bind(*at)
                        .bind(i32::from(*counts))
                        .bind(error)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                            > 0
                    }
                    Outcome::Failed { error } | Outcome::Cancelled { reason: error } => {
                        let attempts = i32::from(matches!(outcome, Outcome::Failed { .. }));
                        ::sqlx::query(&bind(
                            "status = 'failed', attempts = attempts + $4, last_error = $5, lease_expires_ms = NULL, \
                             updated_at = $6",
                        ))
                        .bind(d.id)
                        .bind(&d.leased_by)
                        .bind(d.claim)
                        .bind(attempts)
                        .bind(error)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                            > 0
                    }
                    Outcome::Gone { reason } => {
                        let held = ::sqlx::query(&bind(
                            "status = 'gone', last_error = $4, lease_expires_ms = NULL, updated_at = $5",
                        ))
                        .bind(d.id)
                        .bind(&d.leased_by)
                        .bind(d.claim)
                        .bind(format!("chat gone: {reason}"))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                            > 0;
                        if held {
                            Self::mark_gone_in(&mut tx, d.chat(), *reason, now).await?;
                        }
                        held
                    }
                    Outcome::Paused { reason } => {
                        let held = ::sqlx::query(&bind(
                            "status = 'failed', last_error = $4, lease_expires_ms = NULL, updated_at = $5",
                        ))
                        .bind(d.id)
                        .bind(&d.leased_by)
                        .bind(d.claim)
                        .bind(format!("chat paused: {reason}"))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                            > 0;
                        if held {
                            Self::mark_paused_in(&mut tx, d.chat(), *reason, now).await?;
                        }
                        held
                    }
                    Outcome::TopicGone => {
                        let held = ::sqlx::query(&bind(
                            "status = 'pending', thread_id = NULL, next_attempt_at = $4, last_error = $5, \
                             lease_expires_ms = NULL, leased_by = NULL, updated_at = $4",
                        ))
                        .bind(d.id)
                        .bind(&d.leased_by)
                        .bind(d.claim)
                        .bind(now)
                        .bind("the forum topic is gone; sending to the chat itself")
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                            > 0;
                        if held {
                            ::sqlx::query(
                                "UPDATE deliveries SET thread_id = NULL, updated_at = $3 \
                                 WHERE chat_id = $1 AND thread_id = $2 AND status = 'pending'",
                            )
                            .bind(d.chat().0)
                            .bind(d.thread_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            ::sqlx::query(
                                "UPDATE subscribers SET thread_id = NULL, updated_at = $3 \
                                 WHERE chat_id = $1 AND thread_id = $2",
                            )
                            .bind(d.chat().0)
                            .bind(d.thread_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        held
                    }
                    Outcome::Moved { to } => {
                        // Back to pending first, so that the move takes this row along (or ends
                        // it, if the new chat has this fan-out already).
                        let held = ::sqlx::query(&bind(
                            "status = 'pending', next_attempt_at = $4, lease_expires_ms = NULL, leased_by = NULL, \
                             last_error = $5, updated_at = $4",
                        ))
                        .bind(d.id)
                        .bind(&d.leased_by)
                        .bind(d.claim)
                        .bind(now)
                        .bind(format!("moved from chat {} to {}", d.chat().0, to.0))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                            > 0;
                        if held {
                            Self::move_chat_in(&mut tx, d.chat(), *to, now).await?;
                        }
                        held
                    }
                };
                if held {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok(held)
            }

            async fn next_delivery_due(
                &self,
            ) -> Result<Option<::chrono::DateTime<::chrono::Utc>>, $crate::store::StoreError> {
                let row: Option<(::chrono::DateTime<::chrono::Utc>,)> = ::sqlx::query_as(
                    "SELECT next_attempt_at FROM deliveries WHERE status = 'pending' \
                     ORDER BY next_attempt_at LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(at,)| at))
            }
        }
    };
}

pub(crate) use impl_claim_store;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, message: i64, status: Option<&str>, latest: Option<(i64, i64)>) -> StandingRow {
        StandingRow {
            message_id: message,
            fanout_id: 10,
            kind: kind.into(),
            notice_status: status.map(str::to_owned),
            latest_change: latest.map(|(f, _)| f),
            latest_change_message: latest.map(|(_, m)| m),
        }
    }

    #[test]
    fn an_alert_stops_once_its_notice_is_withdrawn_or_changed() {
        let go = row("alert", 5, Some("published"), None).standing().unwrap();
        assert_eq!(go, Standing::Go { message_id: 5 });
        let withdrawn = row("alert", 5, Some("retracted"), Some((11, 6))).standing().unwrap();
        assert_eq!(withdrawn, Standing::Withdrawn);
        let corrected = row("alert", 5, Some("published"), Some((11, 6))).standing().unwrap();
        assert_eq!(corrected, Standing::Superseded { latest: Some(6) });
        let already_carries_it = row("channel", 6, Some("published"), Some((11, 6))).standing().unwrap();
        assert_eq!(already_carries_it, Standing::Go { message_id: 6 });
    }

    #[test]
    fn a_correction_stops_once_a_later_one_is_queued() {
        assert_eq!(
            row("correction", 6, Some("published"), Some((10, 6))).standing().unwrap(),
            Standing::Go { message_id: 6 }
        );
        assert_eq!(
            row("correction", 6, Some("retracted"), Some((12, 7))).standing().unwrap(),
            Standing::Superseded { latest: None }
        );
        assert_eq!(row("digest", 3, None, None).standing().unwrap(), Standing::Go { message_id: 3 });
    }
}
