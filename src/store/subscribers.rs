//! Storing subscribers and their settings.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc, Weekday};

use super::StoreError;
use crate::domain::{
    Category, ChatId, Frequency, GoneReason, Interests, Keyword, PauseReason, Subscriber, SubscriberStatus,
};

#[async_trait]
pub trait SubscriberStore {
    /// Creates the chat's subscription or replaces its settings.
    async fn save_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError>;
    async fn subscriber(&self, chat_id: ChatId) -> Result<Option<Subscriber>, StoreError>;
    /// What a person changes in the settings: creates the subscription, or changes only
    /// the columns people own — subscribed, language, zone, digest time and frequency,
    /// categories, keywords — and leaves the digest schedule to the scheduler (it derives
    /// the next one again) and the chat's state to the outcome recorder. With `revive`
    /// (`/subscribe`: someone is talking to us from the chat) the chat is active again and
    /// its topic and subscriber are the ones given.
    async fn save_settings(&self, settings: &Subscriber, revive: bool) -> Result<(), StoreError>;
    /// The scheduler's part: the next digest of a chat whose settings have not changed
    /// since `read_at` (their `updated_at` when read); false if they have.
    async fn schedule_digest(
        &self,
        chat_id: ChatId,
        next: Option<DateTime<Utc>>,
        read_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Marks an active subscriber unreachable and ends its pending deliveries; false if
    /// it was not active.
    async fn mark_gone(
        &self,
        chat_id: ChatId,
        reason: GoneReason,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Chats counted by state.
    async fn subscriber_counts(&self) -> Result<SubscriberCounts, StoreError>;
    /// A chat that had gone (blocked the bot, removed it) or was paused is back; false if
    /// it was neither.
    async fn mark_active(&self, chat_id: ChatId, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Pauses an active subscription (the bot may not send there for now) and ends its
    /// pending deliveries as failed, with the reason; false if it was not active.
    async fn mark_paused(
        &self,
        chat_id: ChatId,
        reason: PauseReason,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Paused subscriptions, the longest paused first.
    async fn paused_subscribers(&self, limit: u32) -> Result<Vec<Subscriber>, StoreError>;
    /// A group became a supergroup (`migrate_to_chat_id`): its subscription and the
    /// deliveries still waiting move to the new id, once. A delivery whose fan-out already
    /// has one for the new id is not moved but ended, so no fan-out reaches the new chat
    /// twice; if the new chat has settings of its own, those stay. Returns whether a
    /// subscription moved.
    async fn move_chat(&self, from: ChatId, to: ChatId, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Deletes what Pingan holds about a chat and, if given, the user asking: the chat's
    /// subscription and settings, the user's name on group subscriptions they made, and
    /// their @username.
    async fn forget(&self, chat_id: ChatId, user_id: Option<i64>) -> Result<Forgotten, StoreError>;
}

/// Chats with settings, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriberCounts {
    /// Reachable and subscribed.
    pub active: i64,
    /// Reachable, settings kept, not subscribed.
    pub unsubscribed: i64,
    /// Unreachable (blocked the bot, removed it).
    pub gone: i64,
    /// Subscribed, but Telegram will not let the bot send there for now.
    pub paused: i64,
}

/// What [`SubscriberStore::forget`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// The chat's subscription and settings.
    pub subscription: bool,
    /// Group subscriptions no longer recording that this user made them.
    pub group_links: u64,
    /// Reports not yet decided, deleted; decided ones stay with the bureau, unlinked.
    pub reports_deleted: u64,
    pub reports_unlinked: u64,
    /// The chat's delivery records (what was sent there, what was waiting): deleted, so
    /// nothing waiting goes out and no later correction or withdrawal reaches the chat.
    /// Only their fan-outs' totals remain.
    pub deliveries: u64,
    /// The user's @username as Telegram told it (the `usernames` table).
    pub username: bool,
}

/// A subscriber in its stored shape: lists as JSON text, the weekday as 0 (Monday) to 6.
#[derive(sqlx::FromRow)]
pub(crate) struct SubscriberRow {
    pub chat_id: i64,
    pub user_id: Option<i64>,
    pub thread_id: Option<i32>,
    pub subscribed: bool,
    pub language: String,
    pub time_zone: String,
    pub digest_time: String,
    pub frequency: String,
    pub digest_weekday: Option<i32>,
    pub categories: String,
    pub include_keywords: String,
    pub exclude_keywords: String,
    /// Keys joined by ',' (`crate::domain::district`); empty: every district.
    pub districts: String,
    pub status: String,
    pub gone_reason: Option<String>,
    pub gone_at: Option<DateTime<Utc>>,
    /// Set while the subscription is paused (the status stays `active`).
    pub paused_reason: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
    pub last_digest_at: Option<DateTime<Utc>>,
    /// Derived from the settings when saved; the scheduler's index.
    pub next_digest_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SubscriberRow {
    pub(crate) fn from_subscriber(s: &Subscriber) -> SubscriberRow {
        let (status, gone_reason, gone_at, paused_reason, paused_at) = match s.status {
            SubscriberStatus::Active => ("active", None, None, None, None),
            SubscriberStatus::Paused { reason, since } => {
                ("active", None, None, Some(reason.as_str().to_owned()), Some(since))
            }
            SubscriberStatus::Gone { reason, since } => {
                ("gone", Some(reason.as_str().to_owned()), Some(since), None, None)
            }
        };
        let digest_weekday = match s.frequency {
            Frequency::Weekly(day) => Some(day.num_days_from_monday() as i32),
            Frequency::Daily | Frequency::Off => None,
        };
        SubscriberRow {
            chat_id: s.chat_id.0,
            user_id: s.user_id,
            thread_id: s.thread_id,
            subscribed: s.subscribed,
            language: s.language.code().to_owned(),
            time_zone: s.time_zone.name().to_owned(),
            digest_time: s.digest_time.to_string(),
            frequency: s.frequency.keyword().to_owned(),
            digest_weekday,
            categories: json_list(s.categories.iter().map(|c| c.as_str())),
            include_keywords: json_list(s.include_keywords.iter().map(Keyword::as_str)),
            exclude_keywords: json_list(s.exclude_keywords.iter().map(Keyword::as_str)),
            districts: crate::domain::district::districts_to_column(&s.districts),
            status: status.to_owned(),
            gone_reason,
            gone_at,
            paused_reason,
            paused_at,
            last_digest_at: s.last_digest_at,
            next_digest_at: s.next_digest_at(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

fn json_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    serde_json::Value::Array(items.map(|s| serde_json::Value::String(s.to_owned())).collect()).to_string()
}

fn parse_list(text: &str) -> Result<Vec<String>, serde_json::Error> {
    serde_json::from_str(text)
}

/// A stored keyword list (a JSON array of strings) read back; `bad` names the row.
fn keywords_from_column(
    text: &str,
    bad: &dyn Fn(&dyn std::fmt::Display) -> StoreError,
) -> Result<Vec<Keyword>, StoreError> {
    let words = parse_list(text).map_err(|e| bad(&e))?;
    words.iter().map(|w| Keyword::parse(w).map_err(|e| bad(&e))).collect()
}

/// A stored category list (a JSON array of category codes) read back.
fn categories_from_column(
    text: &str,
    bad: &dyn Fn(&dyn std::fmt::Display) -> StoreError,
) -> Result<BTreeSet<Category>, StoreError> {
    parse_list(text).map_err(|e| bad(&e))?.iter().map(|c| c.parse().map_err(|e| bad(&e))).collect()
}

/// One row of [`OutboxStore::alert_audiences`](super::OutboxStore::alert_audiences):
/// the columns an alert's filter reads, and the chats that share them.
#[derive(sqlx::FromRow)]
pub(crate) struct AudienceRow {
    pub language: String,
    pub categories: String,
    pub include_keywords: String,
    pub exclude_keywords: String,
    pub districts: String,
    /// `chat_id` or `chat_id:thread_id` for each chat, joined by `,`.
    pub chats: String,
}

/// The statement behind `alert_audiences`, the same on both backends (SQLite has had
/// `string_agg` since 3.44; sqlx bundles 3.46). `status <> 'gone'` rather than `= 'active'`
/// for the reason `due_digests` gives: nearly every row is active, and a walk of
/// `subscribers_by_status` would fetch each row through the index.
pub(crate) const AUDIENCES: &str = "SELECT language, categories, include_keywords, exclude_keywords, districts, \
     string_agg(CAST(chat_id AS TEXT) || COALESCE(':' || CAST(thread_id AS TEXT), ''), ',') AS chats \
     FROM subscribers WHERE subscribed AND status <> 'gone' AND paused_reason IS NULL \
     GROUP BY language, categories, include_keywords, exclude_keywords, districts";

impl TryFrom<AudienceRow> for super::AlertAudience {
    type Error = StoreError;

    fn try_from(r: AudienceRow) -> Result<Self, Self::Error> {
        let bad = |e: &dyn std::fmt::Display| StoreError::corrupt("alert audience", e);
        let chat = |item: &str| -> Result<(ChatId, Option<i32>), StoreError> {
            let (chat, thread) = match item.split_once(':') {
                Some((chat, thread)) => (chat, Some(thread.parse().map_err(|e| bad(&e))?)),
                None => (item, None),
            };
            Ok((ChatId(chat.parse().map_err(|e| bad(&e))?), thread))
        };
        Ok(super::AlertAudience {
            language: r.language.parse().map_err(|e| bad(&e))?,
            interests: Interests::new(
                categories_from_column(&r.categories, &bad)?,
                &keywords_from_column(&r.include_keywords, &bad)?,
                &keywords_from_column(&r.exclude_keywords, &bad)?,
                crate::domain::district::districts_from_column(&r.districts),
            ),
            chats: r.chats.split(',').map(chat).collect::<Result<_, _>>()?,
        })
    }
}

impl TryFrom<SubscriberRow> for Subscriber {
    type Error = StoreError;

    fn try_from(r: SubscriberRow) -> Result<Self, Self::Error> {
        let what = format!("subscriber {}", r.chat_id);
        let bad = |e: &dyn std::fmt::Display| StoreError::corrupt(&what, e);
        let keywords = |text: &str| keywords_from_column(text, &bad);
        let categories = categories_from_column(&r.categories, &bad)?;
        let frequency = match (r.frequency.as_str(), r.digest_weekday) {
            ("off", _) => Frequency::Off,
            ("daily", _) => Frequency::Daily,
            ("weekly", Some(day)) => Frequency::Weekly(weekday(day).ok_or_else(|| bad(&day))?),
            (other, day) => return Err(bad(&format!("frequency {other:?} with weekday {day:?}"))),
        };
        let status = match (r.status.as_str(), r.gone_reason.as_deref(), r.gone_at) {
            ("active", _, _) => match (r.paused_reason.as_deref(), r.paused_at) {
                (Some(reason), Some(since)) => {
                    SubscriberStatus::Paused { reason: reason.parse().map_err(|e| bad(&e))?, since }
                }
                _ => SubscriberStatus::Active,
            },
            ("gone", Some(reason), Some(since)) => {
                SubscriberStatus::Gone { reason: reason.parse().map_err(|e| bad(&e))?, since }
            }
            (other, _, _) => return Err(bad(&format!("status {other:?}"))),
        };
        Ok(Subscriber {
            chat_id: ChatId(r.chat_id),
            user_id: r.user_id,
            thread_id: r.thread_id,
            subscribed: r.subscribed,
            language: r.language.parse().map_err(|e| bad(&e))?,
            time_zone: r.time_zone.parse().map_err(|e| bad(&e))?,
            digest_time: r.digest_time.parse().map_err(|e| bad(&e))?,
            frequency,
            categories,
            include_keywords: keywords(&r.include_keywords)?,
            exclude_keywords: keywords(&r.exclude_keywords)?,
            districts: crate::domain::district::districts_from_column(&r.districts),
            status,
            last_digest_at: r.last_digest_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn weekday(day: i32) -> Option<Weekday> {
    u8::try_from(day).ok().and_then(|d| Weekday::try_from(d).ok())
}

macro_rules! subscriber_columns {
    () => {
        "chat_id, user_id, thread_id, subscribed, language, time_zone, digest_time, frequency, \
         digest_weekday, categories, include_keywords, exclude_keywords, status, gone_reason, gone_at, \
         paused_reason, paused_at, last_digest_at, next_digest_at, created_at, updated_at, districts"
    };
}

macro_rules! impl_subscriber_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// [`SubscriberStore::mark_gone`] inside the caller's transaction (a failed send
            /// that says the chat is gone records its outcome in the same one).
            pub(crate) async fn mark_gone_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                chat_id: $crate::domain::ChatId,
                reason: $crate::domain::GoneReason,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = ::sqlx::query(
                    "UPDATE subscribers SET status = 'gone', gone_reason = $2, gone_at = $3, \
                     paused_reason = NULL, paused_at = NULL, \
                     next_digest_at = NULL, updated_at = $3 WHERE chat_id = $1 AND status = 'active'",
                )
                .bind(chat_id.0)
                .bind(reason.as_str())
                .bind(at)
                .execute(&mut **tx)
                .await?;
                Self::end_waiting_deliveries(tx, chat_id, "gone", &format!("chat gone: {reason}"), at).await?;
                Ok(done.rows_affected() > 0)
            }

            /// [`SubscriberStore::mark_paused`] inside the caller's transaction.
            pub(crate) async fn mark_paused_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                chat_id: $crate::domain::ChatId,
                reason: $crate::domain::PauseReason,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = ::sqlx::query(
                    "UPDATE subscribers SET paused_reason = $2, paused_at = $3, next_digest_at = NULL, \
                     updated_at = $3 WHERE chat_id = $1 AND status = 'active' AND paused_reason IS NULL",
                )
                .bind(chat_id.0)
                .bind(reason.as_str())
                .bind(at)
                .execute(&mut **tx)
                .await?;
                Self::end_waiting_deliveries(tx, chat_id, "failed", &format!("chat paused: {reason}"), at).await?;
                Ok(done.rows_affected() > 0)
            }

            /// Ends the chat's deliveries still waiting, with `status` and the reason.
            async fn end_waiting_deliveries(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                chat_id: $crate::domain::ChatId,
                status: &str,
                reason: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query(
                    "UPDATE deliveries SET status = $2, last_error = $3, updated_at = $4 \
                     WHERE chat_id = $1 AND status = 'pending'",
                )
                .bind(chat_id.0)
                .bind(status)
                .bind(reason)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// [`SubscriberStore::move_chat`] inside the caller's transaction (a failed send
            /// that says the chat moved records its outcome in the same one).
            pub(crate) async fn move_chat_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                from: $crate::domain::ChatId,
                to: $crate::domain::ChatId,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let (old, new) = (from.0, to.0);
                if old == new {
                    return Ok(false);
                }
                // If the new chat already has settings of its own, those stay.
                let taken: Option<(i64,)> = ::sqlx::query_as("SELECT chat_id FROM subscribers WHERE chat_id = $1")
                    .bind(new)
                    .fetch_optional(&mut **tx)
                    .await?;
                let moved = if taken.is_some() {
                    ::sqlx::query("DELETE FROM subscribers WHERE chat_id = $1").bind(old).execute(&mut **tx).await?;
                    false
                } else {
                    ::sqlx::query("UPDATE subscribers SET chat_id = $2, updated_at = $3 WHERE chat_id = $1")
                        .bind(old)
                        .bind(new)
                        .bind(at)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected()
                        > 0
                };
                // A fan-out that already reaches the new chat does not reach it twice.
                ::sqlx::query(
                    "UPDATE deliveries SET status = 'failed', last_error = $3, updated_at = $4 \
                     WHERE chat_id = $1 AND status = 'pending' AND fanout_id IN \
                     (SELECT fanout_id FROM deliveries WHERE chat_id = $2)",
                )
                .bind(old)
                .bind(new)
                .bind(format!("the chat moved to {new}, which has this already"))
                .bind(at)
                .execute(&mut **tx)
                .await?;
                ::sqlx::query(
                    "UPDATE deliveries SET chat_id = $2, next_attempt_at = $3, updated_at = $3 \
                     WHERE chat_id = $1 AND status = 'pending'",
                )
                .bind(old)
                .bind(new)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                Ok(moved)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::SubscriberStore for $store {
            async fn save_subscriber(
                &self,
                s: &$crate::domain::Subscriber,
            ) -> Result<(), $crate::store::StoreError> {
                let r = $crate::store::subscribers::SubscriberRow::from_subscriber(s);
                ::sqlx::query(concat!(
                    "INSERT INTO subscribers (",
                    $crate::store::subscribers::subscriber_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
                     $18, $19, $20, $21, $22) \
                     ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, \
                     districts = excluded.districts, \
                     thread_id = excluded.thread_id, subscribed = excluded.subscribed, \
                     language = excluded.language, \
                     time_zone = excluded.time_zone, digest_time = excluded.digest_time, \
                     frequency = excluded.frequency, digest_weekday = excluded.digest_weekday, \
                     categories = excluded.categories, include_keywords = excluded.include_keywords, \
                     exclude_keywords = excluded.exclude_keywords, status = excluded.status, \
                     gone_reason = excluded.gone_reason, gone_at = excluded.gone_at, \
                     paused_reason = excluded.paused_reason, paused_at = excluded.paused_at, \
                     last_digest_at = excluded.last_digest_at, next_digest_at = excluded.next_digest_at, \
                     updated_at = excluded.updated_at"
                ))
                .bind(r.chat_id)
                .bind(r.user_id)
                .bind(r.thread_id)
                .bind(r.subscribed)
                .bind(r.language)
                .bind(r.time_zone)
                .bind(r.digest_time)
                .bind(r.frequency)
                .bind(r.digest_weekday)
                .bind(r.categories)
                .bind(r.include_keywords)
                .bind(r.exclude_keywords)
                .bind(r.status)
                .bind(r.gone_reason)
                .bind(r.gone_at)
                .bind(r.paused_reason)
                .bind(r.paused_at)
                .bind(r.last_digest_at)
                .bind(r.next_digest_at)
                .bind(r.created_at)
                .bind(r.updated_at)
                .bind(r.districts)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn save_settings(
                &self,
                s: &$crate::domain::Subscriber,
                revive: bool,
            ) -> Result<(), $crate::store::StoreError> {
                let r = $crate::store::subscribers::SubscriberRow::from_subscriber(s);
                let person_owned = "subscribed = excluded.subscribed, language = excluded.language, \
                     time_zone = excluded.time_zone, digest_time = excluded.digest_time, \
                     frequency = excluded.frequency, digest_weekday = excluded.digest_weekday, \
                     categories = excluded.categories, include_keywords = excluded.include_keywords, \
                     exclude_keywords = excluded.exclude_keywords, districts = excluded.districts, \
                     next_digest_at = NULL, \
                     updated_at = excluded.updated_at";
                let revived = if revive {
                    ", user_id = excluded.user_id, thread_id = excluded.thread_id, status = 'active', \
                     gone_reason = NULL, gone_at = NULL, paused_reason = NULL, paused_at = NULL"
                } else {
                    ""
                };
                let sql = format!(
                    "INSERT INTO subscribers ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                     $14, $15, $16, $17, $18, $19, $20, $21, $22) ON CONFLICT (chat_id) DO UPDATE SET {person_owned}{revived}",
                    $crate::store::subscribers::subscriber_columns!()
                );
                ::sqlx::query(&sql)
                    .bind(r.chat_id)
                    .bind(r.user_id)
                    .bind(r.thread_id)
                    .bind(r.subscribed)
                    .bind(r.language)
                    .bind(r.time_zone)
                    .bind(r.digest_time)
                    .bind(r.frequency)
                    .bind(r.digest_weekday)
                    .bind(r.categories)
                    .bind(r.include_keywords)
                    .bind(r.exclude_keywords)
                    .bind(r.status)
                    .bind(r.gone_reason)
                    .bind(r.gone_at)
                    .bind(r.paused_reason)
                    .bind(r.paused_at)
                    .bind(r.last_digest_at)
                    .bind(r.next_digest_at)
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .bind(r.districts)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn schedule_digest(
                &self,
                chat_id: $crate::domain::ChatId,
                next: Option<::chrono::DateTime<::chrono::Utc>>,
                read_at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = ::sqlx::query(
                    "UPDATE subscribers SET next_digest_at = $2 WHERE chat_id = $1 AND next_digest_at IS NULL \
                     AND updated_at = $3",
                )
                .bind(chat_id.0)
                .bind(next)
                .bind(read_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn subscriber(
                &self,
                chat_id: $crate::domain::ChatId,
            ) -> Result<Option<$crate::domain::Subscriber>, $crate::store::StoreError> {
                let row: Option<$crate::store::subscribers::SubscriberRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::subscribers::subscriber_columns!(),
                    " FROM subscribers WHERE chat_id = $1"
                ))
                .bind(chat_id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn mark_gone(
                &self,
                chat_id: $crate::domain::ChatId,
                reason: $crate::domain::GoneReason,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = Self::mark_gone_in(&mut tx, chat_id, reason, at).await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn subscriber_counts(&self) -> Result<$crate::store::SubscriberCounts, $crate::store::StoreError> {
                Ok(::sqlx::query_as(
                    "SELECT \
                     COALESCE(SUM(CASE WHEN status = 'active' AND subscribed THEN 1 ELSE 0 END), 0) AS active, \
                     COALESCE(SUM(CASE WHEN status = 'active' AND NOT subscribed THEN 1 ELSE 0 END), 0) AS unsubscribed, \
                     COALESCE(SUM(CASE WHEN status = 'gone' THEN 1 ELSE 0 END), 0) AS gone, \
                     COALESCE(SUM(CASE WHEN status = 'active' AND paused_reason IS NOT NULL THEN 1 ELSE 0 END), 0) \
                     AS paused FROM subscribers",
                )
                .fetch_one(&self.pool)
                .await?)
            }

            async fn mark_active(
                &self,
                chat_id: $crate::domain::ChatId,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                // The scheduler gives the chat its digest schedule back on its next tick.
                let done = ::sqlx::query(
                    "UPDATE subscribers SET status = 'active', gone_reason = NULL, gone_at = NULL, \
                     paused_reason = NULL, paused_at = NULL, updated_at = $2 \
                     WHERE chat_id = $1 AND (status = 'gone' OR paused_reason IS NOT NULL)",
                )
                .bind(chat_id.0)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn mark_paused(
                &self,
                chat_id: $crate::domain::ChatId,
                reason: $crate::domain::PauseReason,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = Self::mark_paused_in(&mut tx, chat_id, reason, at).await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn paused_subscribers(
                &self,
                limit: u32,
            ) -> Result<Vec<$crate::domain::Subscriber>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::subscribers::SubscriberRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::subscribers::subscriber_columns!(),
                    " FROM subscribers WHERE status = 'active' AND paused_reason IS NOT NULL \
                     ORDER BY paused_at, chat_id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn move_chat(
                &self,
                from: $crate::domain::ChatId,
                to: $crate::domain::ChatId,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let moved = Self::move_chat_in(&mut tx, from, to, at).await?;
                tx.commit().await?;
                Ok(moved)
            }

            async fn forget(
                &self,
                chat_id: $crate::domain::ChatId,
                user_id: Option<i64>,
            ) -> Result<$crate::store::Forgotten, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let deleted = ::sqlx::query("DELETE FROM subscribers WHERE chat_id = $1")
                    .bind(chat_id.0)
                    .execute(&mut *tx)
                    .await?;
                let unlinked = match user_id {
                    Some(user) => {
                        ::sqlx::query("UPDATE subscribers SET user_id = NULL WHERE user_id = $1")
                            .bind(user)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                    }
                    None => 0,
                };
                let username = match user_id {
                    Some(user) => {
                        ::sqlx::query("DELETE FROM usernames WHERE user_id = $1")
                            .bind(user)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                            > 0
                    }
                    None => false,
                };
                ::sqlx::query("DELETE FROM dialogues WHERE chat_id = $1 OR user_id = $2")
                    .bind(chat_id.0)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                let reports_deleted = ::sqlx::query(
                    "DELETE FROM reports WHERE status = 'pending' AND (chat_id = $1 OR user_id = $2)",
                )
                .bind(chat_id.0)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let reports_unlinked =
                    ::sqlx::query("UPDATE reports SET chat_id = NULL, user_id = NULL WHERE chat_id = $1 OR user_id = $2")
                        .bind(chat_id.0)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                // What was sent there and what waits: gone, in-flight sends included (their
                // sender finds its claim gone and stops). Fan-out totals keep the counts.
                let ids: Vec<(i64,)> = ::sqlx::query_as("SELECT id FROM deliveries WHERE chat_id = $1")
                    .bind(chat_id.0)
                    .fetch_all(&mut *tx)
                    .await?;
                let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
                let deliveries = Self::drop_deliveries_in(&mut tx, &ids).await?;
                // When the chat may next be sent to (per-chat spacing, a 429's hold).
                ::sqlx::query("DELETE FROM chat_send_state WHERE chat_id = $1")
                    .bind(chat_id.0)
                    .execute(&mut *tx)
                    .await?;
                // Updates from the chat already handled or in hand (the press that asked for
                // this among them) lose their payload and chat; later ones stay in order.
                ::sqlx::query(
                    "UPDATE inbox_updates SET payload = '', chat_id = 0 WHERE chat_id = $1 AND status <> 'pending'",
                )
                .bind(chat_id.0)
                .execute(&mut *tx)
                .await?;
                // An editor's Publish and correction buttons in this chat name it in their keys.
                ::sqlx::query("DELETE FROM idempotency_keys WHERE key LIKE $1")
                    .bind(format!("telegram:{}:%", chat_id.0))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok($crate::store::Forgotten {
                    subscription: deleted.rows_affected() > 0,
                    group_links: unlinked,
                    reports_deleted,
                    reports_unlinked,
                    deliveries,
                    username,
                })
            }
        }
    };
}

pub(crate) use impl_subscriber_store;
pub(crate) use subscriber_columns;
