//! Storing subscribers and their settings.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc, Weekday};

use super::StoreError;
use crate::domain::{Category, ChatId, Frequency, GoneReason, Keyword, Subscriber, SubscriberStatus};

#[async_trait]
pub trait SubscriberStore {
    /// Creates the chat's subscription or replaces its settings.
    async fn save_subscriber(&self, subscriber: &Subscriber) -> Result<(), StoreError>;
    async fn subscriber(&self, chat_id: ChatId) -> Result<Option<Subscriber>, StoreError>;
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
    /// A chat that had gone (blocked the bot, removed it) is back; false if it was not gone.
    async fn mark_active(&self, chat_id: ChatId, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Deletes what Pingan holds about a chat and, if given, the user asking: the chat's
    /// subscription and settings, and the user's name on group subscriptions they made.
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
    pub status: String,
    pub gone_reason: Option<String>,
    pub gone_at: Option<DateTime<Utc>>,
    pub last_digest_at: Option<DateTime<Utc>>,
    /// Derived from the settings when saved; the scheduler's index.
    pub next_digest_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SubscriberRow {
    pub(crate) fn from_subscriber(s: &Subscriber) -> SubscriberRow {
        let (status, gone_reason, gone_at) = match s.status {
            SubscriberStatus::Active => ("active", None, None),
            SubscriberStatus::Gone { reason, since } => {
                ("gone", Some(reason.as_str().to_owned()), Some(since))
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
            status: status.to_owned(),
            gone_reason,
            gone_at,
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

impl TryFrom<SubscriberRow> for Subscriber {
    type Error = StoreError;

    fn try_from(r: SubscriberRow) -> Result<Self, Self::Error> {
        let what = format!("subscriber {}", r.chat_id);
        let bad = |e: &dyn std::fmt::Display| StoreError::corrupt(&what, e);
        let keywords = |text: &str| -> Result<Vec<Keyword>, StoreError> {
            let words = parse_list(text).map_err(|e| bad(&e))?;
            words.iter().map(|w| Keyword::parse(w).map_err(|e| bad(&e))).collect()
        };
        let categories: BTreeSet<Category> = parse_list(&r.categories)
            .map_err(|e| bad(&e))?
            .iter()
            .map(|c| c.parse().map_err(|e| bad(&e)))
            .collect::<Result<_, _>>()?;
        let frequency = match (r.frequency.as_str(), r.digest_weekday) {
            ("off", _) => Frequency::Off,
            ("daily", _) => Frequency::Daily,
            ("weekly", Some(day)) => Frequency::Weekly(weekday(day).ok_or_else(|| bad(&day))?),
            (other, day) => return Err(bad(&format!("frequency {other:?} with weekday {day:?}"))),
        };
        let status = match (r.status.as_str(), r.gone_reason.as_deref(), r.gone_at) {
            ("active", _, _) => SubscriberStatus::Active,
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
         last_digest_at, next_digest_at, created_at, updated_at"
    };
}

macro_rules! impl_subscriber_store {
    ($store:ty) => {
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
                     $18, $19) \
                     ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, \
                     thread_id = excluded.thread_id, subscribed = excluded.subscribed, \
                     language = excluded.language, \
                     time_zone = excluded.time_zone, digest_time = excluded.digest_time, \
                     frequency = excluded.frequency, digest_weekday = excluded.digest_weekday, \
                     categories = excluded.categories, include_keywords = excluded.include_keywords, \
                     exclude_keywords = excluded.exclude_keywords, status = excluded.status, \
                     gone_reason = excluded.gone_reason, gone_at = excluded.gone_at, \
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
                .bind(r.last_digest_at)
                .bind(r.next_digest_at)
                .bind(r.created_at)
                .bind(r.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(())
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
                let mut tx = self.pool.begin().await?;
                let done = ::sqlx::query(
                    "UPDATE subscribers SET status = 'gone', gone_reason = $2, gone_at = $3, \
                     next_digest_at = NULL, updated_at = $3 WHERE chat_id = $1 AND status = 'active'",
                )
                .bind(chat_id.0)
                .bind(reason.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                ::sqlx::query(
                    "UPDATE deliveries SET status = 'gone', last_error = $2, updated_at = $3 \
                     WHERE chat_id = $1 AND status = 'pending'",
                )
                .bind(chat_id.0)
                .bind(format!("chat gone: {reason}"))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn subscriber_counts(&self) -> Result<$crate::store::SubscriberCounts, $crate::store::StoreError> {
                Ok(::sqlx::query_as(
                    "SELECT \
                     COALESCE(SUM(CASE WHEN status = 'active' AND subscribed THEN 1 ELSE 0 END), 0) AS active, \
                     COALESCE(SUM(CASE WHEN status = 'active' AND NOT subscribed THEN 1 ELSE 0 END), 0) AS unsubscribed, \
                     COALESCE(SUM(CASE WHEN status = 'gone' THEN 1 ELSE 0 END), 0) AS gone \
                     FROM subscribers",
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
                    "UPDATE subscribers SET status = 'active', gone_reason = NULL, gone_at = NULL, updated_at = $2 \
                     WHERE chat_id = $1 AND status = 'gone'",
                )
                .bind(chat_id.0)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn forget(
                &self,
                chat_id: $crate::domain::ChatId,
                user_id: Option<i64>,
            ) -> Result<$crate::store::Forgotten, $crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
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
                tx.commit().await?;
                Ok($crate::store::Forgotten {
                    subscription: deleted.rows_affected() > 0,
                    group_links: unlinked,
                    reports_deleted,
                    reports_unlinked,
                })
            }
        }
    };
}

pub(crate) use impl_subscriber_store;
pub(crate) use subscriber_columns;
