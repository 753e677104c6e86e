//! The durable outbox: fan-outs, the messages they send, one delivery row per recipient,
//! claimed by senders with a lease and closed with an outcome.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{
    AuditEntry, ChatId, Interests, Language, Notice, NoticeCorrection, NoticeId, Subscriber,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanoutKind {
    Alert,
    Channel,
    Digest,
    /// A correction or cancellation, as a reply to what each recipient got.
    Correction,
}

impl FanoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FanoutKind::Alert => "alert",
            FanoutKind::Channel => "channel",
            FanoutKind::Digest => "digest",
            FanoutKind::Correction => "correction",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<FanoutKind, StoreError> {
        match s {
            "alert" => Ok(FanoutKind::Alert),
            "channel" => Ok(FanoutKind::Channel),
            "digest" => Ok(FanoutKind::Digest),
            "correction" => Ok(FanoutKind::Correction),
            other => Err(StoreError::corrupt("fan-out kind", other)),
        }
    }
}

/// A rendered message as the outbox keeps it: JSON the delivery module made and reads.
/// The same `content_key` is stored once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    pub content_key: String,
    pub parts_json: String,
}

/// One chat a fan-out sends to, with the key that keeps it from getting the same thing twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub chat_id: ChatId,
    pub thread_id: Option<i32>,
    pub dedupe_key: String,
}

/// Active, unpaused subscriptions that an alert's filter cannot tell apart (the same
/// language, categories, keywords and districts), with their chats: one per distinct
/// profile, so that a city's 100 000 subscribers cross from the database as a few rows
/// (most keep the defaults) and the filter runs once a profile, not once a chat.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertAudience {
    pub language: Language,
    pub interests: Interests,
    /// The chats sharing the profile, each with its forum topic if it has one; in no
    /// particular order.
    pub chats: Vec<(ChatId, Option<i32>)>,
}

/// A broadcast to queue: one message to many chats.
#[derive(Clone, Debug)]
pub struct NewFanout {
    pub key: String,
    pub kind: FanoutKind,
    pub notice_id: Option<NoticeId>,
    pub message: StoredMessage,
    /// Lower goes first: alerts before channel posts before digests.
    pub priority: i32,
    pub recipients: Vec<Recipient>,
}

/// Digests due at one moment for chats that share everything the digest depends on.
#[derive(Clone, Debug)]
pub struct DueDigests {
    pub fanout_key: String,
    /// `None` when there is nothing to send and the policy is to skip.
    pub message: Option<StoredMessage>,
    pub due: DateTime<Utc>,
    /// When these chats' next digest is due.
    pub next: Option<DateTime<Utc>>,
    /// Where the chats' next digest window starts: `due` once this digest is queued; the
    /// start of this one's window when it is skipped as stale (the bot was down past the
    /// next one too), so that the next digest covers both.
    pub window_start: DateTime<Utc>,
    pub recipients: Vec<Recipient>,
    pub priority: i32,
}

/// Deliveries by status, over all fan-outs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub gone: i64,
}

/// What [`OutboxStore::change_notice`] does to a notice.
#[derive(Clone, Copy, Debug)]
pub enum NoticeChange<'a> {
    Correct(&'a NoticeCorrection),
    Retract,
}

/// What makes a change of a notice happen once, as [`NewPublication`](super::NewPublication)
/// does for a publication.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChangeOnce<'a> {
    /// The key a repeat of the request carries, and the fingerprint of what it asks for
    /// ([`change_fingerprint`](super::publications::change_fingerprint)).
    pub idempotency_key: Option<(&'a str, &'a str)>,
    /// The editor's dialogue in this chat (chat, user) that the change ends.
    pub ends_dialogue: Option<(ChatId, i64)>,
}

/// What [`OutboxStore::change_notice_once`] did, or, for a repeat, had done the first time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeChanged {
    /// The notice as it is now.
    pub notice: Notice,
    /// The follow-ups queued by the change, one per chat the notice had reached.
    pub told: u64,
    /// The key of the follow-up's fan-out.
    pub follow_up: String,
    /// True when this was a repeat: nothing was written now.
    pub repeated: bool,
}

/// What happens to a notice's alerts and channel posts still waiting when it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// They send this message instead (a correction: they get the new text).
    Replace,
    /// They are not sent (a retraction).
    Cancel,
}

/// A fan-out and how far it has come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FanoutProgress {
    pub id: i64,
    pub key: String,
    pub kind: FanoutKind,
    pub notice_id: Option<NoticeId>,
    pub created_at: DateTime<Utc>,
    pub pending: u64,
    pub sending: u64,
    pub sent: u64,
    pub failed: u64,
    pub gone: u64,
    pub last_sent_at: Option<DateTime<Utc>>,
}

impl FanoutProgress {
    pub fn total(&self) -> u64 {
        self.pending + self.sending + self.sent + self.failed + self.gone
    }

    pub fn finished(&self) -> bool {
        self.pending + self.sending == 0
    }
}

#[async_trait]
pub trait OutboxStore {
    /// Scheduled notices whose time has come become published; returns how many.
    async fn publish_due(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Published notices past their expiry become expired; returns how many.
    async fn expire_due(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Published notices whose publication has not been fanned out yet, oldest first.
    async fn publications_to_fan_out(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notice>, StoreError>;
    /// Active subscriptions that are not paused, in every language — the candidates for
    /// an alert — grouped by what the alert's filter reads ([`AlertAudience`]).
    async fn alert_audiences(&self) -> Result<Vec<AlertAudience>, StoreError>;
    /// The languages of the published notices in a language group. A version only
    /// scheduled is not one yet: an urgent alert does not wait for it (it may be published
    /// much later, or withdrawn before it is).
    async fn group_languages(&self, group: &str) -> Result<Vec<Language>, StoreError>;
    /// Marks the notice's publication fanned out and queues `fanouts` (rendered from
    /// `notice` as read), in one transaction. `None` if another process had already fanned
    /// it out, or if the notice was corrected or withdrawn since it was read (read it again);
    /// else the deliveries queued.
    async fn enqueue_publication(
        &self,
        notice: &Notice,
        fanouts: &[NewFanout],
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError>;

    /// Corrects or withdraws the notice; queues `message` under the fan-out `key` for
    /// every chat its alert or channel post reached, as a reply to the message each got;
    /// gives the alerts still waiting the new text (a correction) or stops them (a
    /// withdrawal); and records `audit` (its detail completed with the count). All in one
    /// transaction: a crash never leaves a change its recipients are not told of.
    /// Returns the notice as changed and the follow-ups queued; `NotFound`, with nothing
    /// written, if there is no such notice or it is neither published nor scheduled.
    async fn change_notice(
        &self,
        id: NoticeId,
        change: NoticeChange<'_>,
        key: &str,
        message: &StoredMessage,
        audit: &AuditEntry,
    ) -> Result<(Notice, u64), StoreError> {
        let changed = self.change_notice_once(id, change, key, message, audit, ChangeOnce::default()).await?;
        Ok((changed.notice, changed.told))
    }

    /// [`change_notice`](Self::change_notice), once: in the same transaction it records the
    /// idempotency key and ends the editor's dialogue. A key seen before with the same
    /// fingerprint returns what the first change did (`repeated`, nothing written); with
    /// another, `Conflict`.
    async fn change_notice_once(
        &self,
        id: NoticeId,
        change: NoticeChange<'_>,
        key: &str,
        message: &StoredMessage,
        audit: &AuditEntry,
        once: ChangeOnce<'_>,
    ) -> Result<NoticeChanged, StoreError>;

    /// Active subscriptions whose digest is due at `now`, soonest first, each with the
    /// moment it was due.
    async fn due_digests(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(Subscriber, DateTime<Utc>)>, StoreError>;
    /// Subscriptions with digests but no schedule yet (saved before schedules existed).
    async fn unscheduled_subscribers(&self, limit: u32) -> Result<Vec<Subscriber>, StoreError>;
    /// Moves the chats' schedules on and queues their digest, in one transaction. Chats
    /// whose schedule someone else moved meanwhile are left out. Returns deliveries queued.
    async fn enqueue_digests(&self, digests: &DueDigests, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.enqueue_digest_groups(std::slice::from_ref(digests), now).await
    }
    /// [`enqueue_digests`](Self::enqueue_digests) for several groups at once, in one
    /// transaction: the scheduler queues a whole round of due chats (up to 1 000, over any
    /// number of groups) with one commit, not one per group. A fan-out or message that
    /// several groups share is stored once. Each chat moves on only if its schedule is
    /// still at its group's `due` (a compare-and-set: another instance may have got there
    /// first), and gets a delivery only then. Returns deliveries queued.
    async fn enqueue_digest_groups(
        &self,
        groups: &[DueDigests],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// The newest fan-outs first.
    async fn fanout_progress(&self, limit: u32) -> Result<Vec<FanoutProgress>, StoreError>;
    /// The fan-outs of one notice: its alert, channel post, corrections.
    async fn notice_fanouts(&self, notice: NoticeId) -> Result<Vec<FanoutProgress>, StoreError>;
    /// Every delivery counted by status.
    async fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError>;
    /// Deliveries waiting and in flight: what `/metrics` shows. Reads only those rows
    /// (through the index on status), never the whole table.
    async fn outbox_depth(&self) -> Result<(u64, u64), StoreError>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProgressRow {
    id: i64,
    key: String,
    kind: String,
    notice_id: Option<i64>,
    created_at: DateTime<Utc>,
    pending: i64,
    sending: i64,
    sent: i64,
    failed: i64,
    gone: i64,
    last_sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<ProgressRow> for FanoutProgress {
    type Error = StoreError;

    fn try_from(r: ProgressRow) -> Result<Self, Self::Error> {
        let count = |n: i64| n.max(0) as u64;
        Ok(FanoutProgress {
            id: r.id,
            key: r.key,
            kind: FanoutKind::parse(&r.kind)?,
            notice_id: r.notice_id.map(NoticeId),
            created_at: r.created_at,
            pending: count(r.pending),
            sending: count(r.sending),
            sent: count(r.sent),
            failed: count(r.failed),
            gone: count(r.gone),
            last_sent_at: r.last_sent_at,
        })
    }
}

/// Each fan-out with its deliveries counted by status, those pruned since included; a
/// WHERE and a GROUP BY of [`progress_group!`] follow.
macro_rules! progress_query {
    () => {
        "SELECT f.id, f.key, f.kind, f.notice_id, f.created_at, \
         COALESCE(SUM(CASE WHEN d.status = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
         COALESCE(SUM(CASE WHEN d.status = 'sending' THEN 1 ELSE 0 END), 0) AS sending, \
         f.pruned_sent + COALESCE(SUM(CASE WHEN d.status = 'sent' THEN 1 ELSE 0 END), 0) AS sent, \
         f.pruned_failed + COALESCE(SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
         f.pruned_gone + COALESCE(SUM(CASE WHEN d.status = 'gone' THEN 1 ELSE 0 END), 0) AS gone, \
         MAX(d.sent_at) AS last_sent_at \
         FROM fanouts f LEFT JOIN deliveries d ON d.fanout_id = f.id"
    };
}

pub(crate) use progress_query;

/// What [`progress_query!`] groups by.
macro_rules! progress_group {
    () => {
        " GROUP BY f.id, f.key, f.kind, f.notice_id, f.created_at, f.pruned_sent, f.pruned_failed, f.pruned_gone"
    };
}

pub(crate) use progress_group;

/// Rows per multi-row INSERT: well under both backends' limits on bound parameters.
pub(crate) const INSERT_CHUNK: usize = 500;

/// The outbox queries both backends share. `$store` has a `pool` field.
macro_rules! impl_outbox_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// One attempt at [`change_notice_once`](crate::store::OutboxStore::change_notice_once),
            /// in one transaction.
            async fn change_notice_in_one(
                &self,
                id: $crate::domain::NoticeId,
                change: $crate::store::NoticeChange<'_>,
                key: &str,
                message: &$crate::store::StoredMessage,
                audit: &$crate::domain::AuditEntry,
                once: $crate::store::ChangeOnce<'_>,
            ) -> Result<$crate::store::NoticeChanged, $crate::store::StoreError> {
                use $crate::store::{NoticeChange, NoticeChanged, Pending};
                let now = audit.at;
                let mut tx = self.begin_write().await?;
                if let Some((idempotency_key, fingerprint)) = once.idempotency_key
                    && let Some(result) = Self::repeat_of_in(&mut tx, idempotency_key, fingerprint).await?
                {
                    let (follow_up, told) = $crate::store::publications::parse_change_result(&result)?;
                    let notice = Self::notices_by_ids(&mut tx, &[id.0]).await?.remove(0);
                    tx.commit().await?;
                    return Ok(NoticeChanged { notice, told, follow_up, repeated: true });
                }
                let (notice, pending) = match change {
                    NoticeChange::Correct(correction) => {
                        (Self::correct_in(&mut tx, id, correction, now).await?, Pending::Replace)
                    }
                    NoticeChange::Retract => (Self::retract_in(&mut tx, id, now).await?, Pending::Cancel),
                };
                let told = Self::follow_up_in(&mut tx, id, key, message, pending, now).await?;
                let detail = format!("{}; {told} recipients told", audit.detail);
                $crate::store::audit::insert_audit(&$crate::domain::AuditEntry { detail, ..audit.clone() })
                    .execute(&mut *tx)
                    .await?;
                let result = $crate::store::publications::change_result(key, told);
                Self::record_once_in(&mut tx, once.idempotency_key, &result, now, once.ends_dialogue).await?;
                tx.commit().await?;
                Ok(NoticeChanged { notice, told, follow_up: key.to_owned(), repeated: false })
            }

            /// Deletes the deliveries `ids` (pruned after the retention period, or a chat's
            /// at /forget), keeping each fan-out's totals whole: a delivery not finished
            /// counts as failed. Inside the caller's transaction; returns how many went.
            pub(crate) async fn drop_deliveries_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                ids: &[i64],
            ) -> Result<u64, $crate::store::StoreError> {
                let mut dropped = 0;
                for chunk in ids.chunks($crate::store::outbox::INSERT_CHUNK) {
                    let list = |q: &mut ::sqlx::QueryBuilder<'_, $db>| {
                        q.push("(");
                        let mut ids = q.separated(", ");
                        for id in chunk {
                            ids.push_bind(*id);
                        }
                        q.push(")");
                    };
                    let mut totals = ::sqlx::QueryBuilder::<$db>::new("UPDATE fanouts SET ");
                    for (column, statuses) in [
                        ("pruned_sent", "('sent')"),
                        ("pruned_failed", "('failed', 'pending', 'sending')"),
                        ("pruned_gone", "('gone')"),
                    ] {
                        if column != "pruned_sent" {
                            totals.push(", ");
                        }
                        totals.push(format!(
                            "{column} = {column} + (SELECT COUNT(*) FROM deliveries d WHERE d.fanout_id = fanouts.id \
                             AND d.status IN {statuses} AND d.id IN "
                        ));
                        list(&mut totals);
                        totals.push(")");
                    }
                    totals.push(" WHERE id IN (SELECT fanout_id FROM deliveries WHERE id IN ");
                    list(&mut totals);
                    totals.push(")");
                    totals.build().execute(&mut **tx).await?;
                    let mut delete = ::sqlx::QueryBuilder::<$db>::new("DELETE FROM deliveries WHERE id IN ");
                    list(&mut delete);
                    dropped += delete.build().execute(&mut **tx).await?.rows_affected();
                }
                Ok(dropped)
            }

            /// Queues the follow-up of a notice's change, inside the caller's transaction
            /// (see [`OutboxStore::change_notice`]).
            async fn follow_up_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                notice: $crate::domain::NoticeId,
                key: &str,
                message: &$crate::store::StoredMessage,
                pending: $crate::store::Pending,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<u64, $crate::store::StoreError> {
                let (fanout, message_id) = Self::upsert_fanout(
                    tx,
                    key,
                    $crate::store::FanoutKind::Correction,
                    Some(notice),
                    Some(message),
                    now,
                )
                .await?;
                let message_id = message_id.unwrap_or_default();
                ::sqlx::query("UPDATE fanouts SET message_id = $2 WHERE id = $1")
                    .bind(fanout)
                    .bind(message_id)
                    .execute(&mut **tx)
                    .await?;
                // An earlier correction still waiting is superseded: this one says it all.
                ::sqlx::query(
                    "UPDATE deliveries SET status = 'failed', last_error = 'superseded by a later change', \
                     updated_at = $3 WHERE status = 'pending' AND parts_sent = 0 AND fanout_id <> $2 AND fanout_id IN \
                     (SELECT id FROM fanouts WHERE notice_id = $1 AND kind = 'correction')",
                )
                .bind(notice.0)
                .bind(fanout)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let queued = ::sqlx::query(
                    "INSERT INTO deliveries (fanout_id, message_id, dedupe_key, chat_id, thread_id, priority, status, \
                     next_attempt_at, reply_to, created_at, updated_at) \
                     SELECT $1, $2, $3 || ':' || CAST(d.chat_id AS TEXT), d.chat_id, d.thread_id, 0, 'pending', $4, \
                     d.telegram_message_id, $4, $4 \
                     FROM deliveries d JOIN fanouts f ON f.id = d.fanout_id \
                     WHERE f.notice_id = $5 AND f.kind IN ('alert', 'channel') AND d.status = 'sent' \
                     ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(fanout)
                .bind(message_id)
                .bind(key)
                .bind(now)
                .bind(notice.0)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                // Alerts not begun yet take the change; one in flight or half sent finishes as it
                // was, and gets this follow-up when it is recorded as sent (`record_outcome`).
                let waiting = "status = 'pending' AND parts_sent = 0 AND fanout_id IN \
                     (SELECT id FROM fanouts WHERE notice_id = $1 AND kind IN ('alert', 'channel'))";
                match pending {
                    $crate::store::Pending::Replace => {
                        ::sqlx::query(&format!("UPDATE deliveries SET message_id = $2, parts_sent = 0 WHERE {waiting}"))
                            .bind(notice.0)
                            .bind(message_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                    $crate::store::Pending::Cancel => {
                        ::sqlx::query(&format!(
                            "UPDATE deliveries SET status = 'failed', last_error = 'withdrawn before it was sent', \
                             updated_at = $2 WHERE {waiting}"
                        ))
                        .bind(notice.0)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                Ok(queued)
            }

            /// Inserts the fan-out (or finds it) and its message (or finds it); returns both ids.
            async fn upsert_fanout(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                key: &str,
                kind: $crate::store::FanoutKind,
                notice: Option<$crate::domain::NoticeId>,
                message: Option<&$crate::store::StoredMessage>,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<(i64, Option<i64>), $crate::store::StoreError> {
                ::sqlx::query(
                    "INSERT INTO fanouts (key, kind, notice_id, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(kind.as_str())
                .bind(notice.map(|n| n.0))
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let (fanout,): (i64,) = ::sqlx::query_as("SELECT id FROM fanouts WHERE key = $1")
                    .bind(key)
                    .fetch_one(&mut **tx)
                    .await?;
                let Some(message) = message else { return Ok((fanout, None)) };
                Ok((fanout, Some(Self::upsert_message(tx, message, now).await?)))
            }

            /// Inserts the message (or finds it by its content key); returns its id.
            async fn upsert_message(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                message: &$crate::store::StoredMessage,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<i64, $crate::store::StoreError> {
                ::sqlx::query(
                    "INSERT INTO outbox_messages (content_key, parts, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (content_key) DO NOTHING",
                )
                .bind(&message.content_key)
                .bind(&message.parts_json)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let (id,): (i64,) = ::sqlx::query_as("SELECT id FROM outbox_messages WHERE content_key = $1")
                    .bind(&message.content_key)
                    .fetch_one(&mut **tx)
                    .await?;
                Ok(id)
            }

            /// Queues one delivery per recipient, skipping dedupe keys already queued.
            async fn insert_deliveries(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                fanout: i64,
                message: i64,
                priority: i32,
                recipients: &[$crate::store::Recipient],
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<u64, $crate::store::StoreError> {
                let rows: Vec<_> = recipients.iter().map(|r| (fanout, message, priority, r)).collect();
                Self::insert_delivery_rows(tx, &rows, now).await
            }

            /// Queues one delivery per row — (fan-out, message, priority, recipient) — skipping
            /// dedupe keys already queued. Rows of different messages share a statement, so
            /// a round of digests over many groups is a few statements, not one per group.
            async fn insert_delivery_rows(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                rows: &[(i64, i64, i32, &$crate::store::Recipient)],
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<u64, $crate::store::StoreError> {
                let mut queued = 0;
                for chunk in rows.chunks($crate::store::outbox::INSERT_CHUNK) {
                    let mut insert = ::sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO deliveries (fanout_id, message_id, dedupe_key, chat_id, thread_id, priority, \
                         status, next_attempt_at, created_at, updated_at) ",
                    );
                    insert.push_values(chunk, |mut row, (fanout, message, priority, r)| {
                        row.push_bind(*fanout)
                            .push_bind(*message)
                            .push_bind(r.dedupe_key.clone())
                            .push_bind(r.chat_id.0)
                            .push_bind(r.thread_id)
                            .push_bind(*priority)
                            .push_bind("pending")
                            .push_bind(now)
                            .push_bind(now)
                            .push_bind(now);
                    });
                    insert.push(" ON CONFLICT (dedupe_key) DO NOTHING");
                    queued += insert.build().execute(&mut **tx).await?.rows_affected();
                }
                Ok(queued)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::OutboxStore for $store {
            async fn publish_due(&self, now: ::chrono::DateTime<::chrono::Utc>) -> Result<u64, $crate::store::StoreError> {
                let done = ::sqlx::query(
                    "UPDATE notices SET status = 'published', updated_at = $1 \
                     WHERE status = 'scheduled' AND publish_at <= $1",
                )
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn expire_due(&self, now: ::chrono::DateTime<::chrono::Utc>) -> Result<u64, $crate::store::StoreError> {
                let done = ::sqlx::query(
                    "UPDATE notices SET status = 'expired', updated_at = $1 \
                     WHERE status = 'published' AND expires_at IS NOT NULL AND expires_at <= $1",
                )
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn publications_to_fan_out(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
            ) -> Result<Vec<$crate::domain::Notice>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::notices::NoticeRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::notices::notice_columns!(),
                    " FROM notices WHERE status = 'published' AND fanned_out_at IS NULL AND publish_at <= $1 \
                     ORDER BY publish_at, id LIMIT $2"
                ))
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn alert_audiences(
                &self,
            ) -> Result<Vec<$crate::store::AlertAudience>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::subscribers::AudienceRow> =
                    ::sqlx::query_as($crate::store::subscribers::AUDIENCES).fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn group_languages(
                &self,
                group: &str,
            ) -> Result<Vec<$crate::domain::Language>, $crate::store::StoreError> {
                let rows: Vec<(String,)> = ::sqlx::query_as(
                    "SELECT DISTINCT language FROM notices WHERE language_group = $1 AND status = 'published'",
                )
                .bind(group)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(code,)| code.parse().map_err(|e| $crate::store::StoreError::corrupt("notice language", e)))
                    .collect()
            }

            async fn enqueue_publication(
                &self,
                notice: &$crate::domain::Notice,
                fanouts: &[$crate::store::NewFanout],
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<Option<u64>, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let claimed = ::sqlx::query(
                    "UPDATE notices SET fanned_out_at = $2 WHERE id = $1 AND fanned_out_at IS NULL \
                     AND status = 'published' AND updated_at = $3",
                )
                .bind(notice.id.0)
                .bind(now)
                .bind(notice.updated_at)
                .execute(&mut *tx)
                .await?;
                if claimed.rows_affected() == 0 {
                    return Ok(None);
                }
                let mut queued = 0;
                for f in fanouts {
                    let (fanout, message) =
                        Self::upsert_fanout(&mut tx, &f.key, f.kind, f.notice_id, Some(&f.message), now).await?;
                    if let Some(message) = message {
                        queued += Self::insert_deliveries(&mut tx, fanout, message, f.priority, &f.recipients, now).await?;
                    }
                }
                tx.commit().await?;
                Ok(Some(queued))
            }

            async fn change_notice_once(
                &self,
                id: $crate::domain::NoticeId,
                change: $crate::store::NoticeChange<'_>,
                key: &str,
                message: &$crate::store::StoredMessage,
                audit: &$crate::domain::AuditEntry,
                once: $crate::store::ChangeOnce<'_>,
            ) -> Result<$crate::store::NoticeChanged, $crate::store::StoreError> {
                let attempt = self.change_notice_in_one(id, change, key, message, audit, once).await;
                match (attempt, once.idempotency_key) {
                    // Two requests with one key at the same moment: the other stored first
                    // (PostgreSQL; SQLite's writers queue). Now it is found, and checked
                    // like any repeat.
                    (Err($crate::store::StoreError::Conflict(_)), Some(_)) => {
                        self.change_notice_in_one(id, change, key, message, audit, once).await
                    }
                    (result, _) => result,
                }
            }

            async fn due_digests(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
            ) -> Result<Vec<($crate::domain::Subscriber, ::chrono::DateTime<::chrono::Utc>)>, $crate::store::StoreError>
            {
                // `status <> 'gone'`, not `status = 'active'`: the same rows (a CHECK allows
                // only these two), but an inequality is neither indexed nor taken for
                // selective. On a table without statistics (SQLite's are never gathered here;
                // a fresh PostgreSQL table's not yet) the equality made SQLite walk
                // `subscribers_by_status` and PostgreSQL bitmap-scan it, and both sort every
                // due chat to return a round of them: 69 and 85 ms a round over 100 000 due
                // chats. Now both read `(next_digest_at, chat_id)` in index order and stop
                // at the limit (SQLite's `subscribers_by_next_digest` ends with the rowid,
                // `chat_id`; PostgreSQL's index is migration 20261201000030's): 0.7 and 0.6 ms.
                // Chats queued in earlier rounds have moved on out of the range, so each
                // round starts at the first chat still due without a cursor.
                let rows: Vec<$crate::store::subscribers::SubscriberRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::subscribers::subscriber_columns!(),
                    " FROM subscribers WHERE subscribed AND status <> 'gone' AND next_digest_at <= $1 \
                     ORDER BY next_digest_at, chat_id LIMIT $2"
                ))
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|row| {
                        let due = row.next_digest_at.unwrap_or(now);
                        Ok((row.try_into()?, due))
                    })
                    .collect()
            }

            async fn unscheduled_subscribers(
                &self,
                limit: u32,
            ) -> Result<Vec<$crate::domain::Subscriber>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::subscribers::SubscriberRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::subscribers::subscriber_columns!(),
                    " FROM subscribers WHERE subscribed AND status = 'active' AND paused_reason IS NULL \
                     AND frequency <> 'off' AND next_digest_at IS NULL ORDER BY chat_id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn enqueue_digest_groups(
                &self,
                groups: &[$crate::store::DueDigests],
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<u64, $crate::store::StoreError> {
                use ::std::collections::{BTreeMap, HashMap, HashSet};
                type Moment = ::chrono::DateTime<::chrono::Utc>;
                if groups.is_empty() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                // Groups due together share their fan-out: it is stored (or found) once.
                let mut fanouts: HashMap<&str, i64> = HashMap::new();
                for d in groups {
                    if !fanouts.contains_key(d.fanout_key.as_str()) {
                        let (fanout, _) = Self::upsert_fanout(
                            &mut tx,
                            &d.fanout_key,
                            $crate::store::FanoutKind::Digest,
                            None,
                            None,
                            now,
                        )
                        .await?;
                        fanouts.insert(&d.fanout_key, fanout);
                    }
                }
                // A group's message is usually stored already, by an earlier round of the
                // same tick: those are found with one query, and only the others stored.
                let mut messages: HashMap<&str, i64> = HashMap::new();
                let wanted: Vec<&$crate::store::StoredMessage> = {
                    let mut seen = HashSet::new();
                    groups.iter().filter_map(|d| d.message.as_ref()).filter(|m| seen.insert(&m.content_key)).collect()
                };
                for chunk in wanted.chunks($crate::store::outbox::INSERT_CHUNK) {
                    let mut find =
                        ::sqlx::QueryBuilder::<$db>::new("SELECT content_key, id FROM outbox_messages WHERE content_key IN (");
                    let mut keys = find.separated(", ");
                    for m in chunk {
                        keys.push_bind(m.content_key.as_str());
                    }
                    find.push(")");
                    let found: Vec<(String, i64)> = find.build_query_as().fetch_all(&mut *tx).await?;
                    let found: HashMap<String, i64> = found.into_iter().collect();
                    for m in chunk {
                        let id = match found.get(&m.content_key) {
                            Some(id) => *id,
                            None => Self::upsert_message(&mut tx, m, now).await?,
                        };
                        messages.insert(&m.content_key, id);
                    }
                }
                // Only chats still due at their `due` move on: another instance may have got
                // there first. Chats whose schedules move alike go in one UPDATE per chunk,
                // in one order (by schedule, then chat id) in every instance, so that two
                // instances racing take the rows' locks in the same order on PostgreSQL.
                // `IS NOT DISTINCT FROM` is `=` here (`due` is never NULL) that no index
                // serves: without statistics PostgreSQL took `next_digest_at = $due` for
                // selective, read every chat still due through its index and filtered them
                // by `chat_id` (26 ms a chunk of 500 with 100 000 due); now the primary
                // key finds the chunk's chats (4.7 ms, most of it the update itself).
                // SQLite finds them by rowid, as before.
                let mut schedules: BTreeMap<(Moment, Option<Moment>, Moment), Vec<i64>> = BTreeMap::new();
                for d in groups {
                    schedules
                        .entry((d.due, d.next, d.window_start))
                        .or_default()
                        .extend(d.recipients.iter().map(|r| r.chat_id.0));
                }
                let mut moved: HashSet<(i64, Moment)> = HashSet::new();
                for ((due, next, window_start), mut chats) in schedules {
                    chats.sort_unstable();
                    chats.dedup();
                    for chunk in chats.chunks($crate::store::outbox::INSERT_CHUNK) {
                        let mut update =
                            ::sqlx::QueryBuilder::<$db>::new("UPDATE subscribers SET next_digest_at = ");
                        update.push_bind(next).push(", last_digest_at = ").push_bind(window_start);
                        update.push(" WHERE next_digest_at IS NOT DISTINCT FROM ").push_bind(due);
                        update.push(" AND chat_id IN (");
                        let mut ids = update.separated(", ");
                        for id in chunk {
                            ids.push_bind(*id);
                        }
                        update.push(") RETURNING chat_id");
                        let rows: Vec<(i64,)> = update.build_query_as().fetch_all(&mut *tx).await?;
                        moved.extend(rows.into_iter().map(|(id,)| (id, due)));
                    }
                }
                let mut rows = Vec::with_capacity(moved.len());
                for d in groups {
                    let Some(m) = &d.message else { continue };
                    let (fanout, message) = (fanouts[d.fanout_key.as_str()], messages[m.content_key.as_str()]);
                    rows.extend(
                        d.recipients
                            .iter()
                            .filter(|r| moved.contains(&(r.chat_id.0, d.due)))
                            .map(|r| (fanout, message, d.priority, r)),
                    );
                }
                let queued = Self::insert_delivery_rows(&mut tx, &rows, now).await?;
                tx.commit().await?;
                Ok(queued)
            }

            async fn fanout_progress(
                &self,
                limit: u32,
            ) -> Result<Vec<$crate::store::FanoutProgress>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::outbox::ProgressRow> = ::sqlx::query_as(concat!(
                    $crate::store::outbox::progress_query!(),
                    $crate::store::outbox::progress_group!(),
                    " ORDER BY f.id DESC LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn notice_fanouts(
                &self,
                notice: $crate::domain::NoticeId,
            ) -> Result<Vec<$crate::store::FanoutProgress>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::outbox::ProgressRow> = ::sqlx::query_as(concat!(
                    $crate::store::outbox::progress_query!(),
                    " WHERE f.notice_id = $1",
                    $crate::store::outbox::progress_group!(),
                    " ORDER BY f.id"
                ))
                .bind(notice.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn outbox_depth(&self) -> Result<(u64, u64), $crate::store::StoreError> {
                let count = |status: &'static str| async move {
                    let (n,): (i64,) = ::sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE status = $1")
                        .bind(status)
                        .fetch_one(&self.pool)
                        .await?;
                    Ok::<u64, $crate::store::StoreError>(n.max(0) as u64)
                };
                Ok((count("pending").await?, count("sending").await?))
            }

            async fn delivery_counts(&self) -> Result<$crate::store::DeliveryCounts, $crate::store::StoreError> {
                Ok(::sqlx::query_as(
                    // PostgreSQL sums BIGINT columns into NUMERIC; each total is cast
                    // back so both backends hand sqlx an i64.
                    "SELECT \
                     COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
                     COALESCE(SUM(CASE WHEN status = 'sending' THEN 1 ELSE 0 END), 0) AS sending, \
                     CAST(COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) \
                     + (SELECT COALESCE(SUM(pruned_sent), 0) FROM fanouts) AS BIGINT) AS sent, \
                     CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) \
                     + (SELECT COALESCE(SUM(pruned_failed), 0) FROM fanouts) AS BIGINT) AS failed, \
                     CAST(COALESCE(SUM(CASE WHEN status = 'gone' THEN 1 ELSE 0 END), 0) \
                     + (SELECT COALESCE(SUM(pruned_gone), 0) FROM fanouts) AS BIGINT) AS gone \
                     FROM deliveries",
                )
                .fetch_one(&self.pool)
                .await?)
            }
        }
    };
}

pub(crate) use impl_outbox_store;
