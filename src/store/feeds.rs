//! The state of polled CAP feeds (`cap.feeds`): conditional-request validators, when each
//! feed is next due, the lease of the instance polling it, and what happened last.
//!
//! A feed is polled by one instance at a time: [`FeedStore::claim_feed`] takes a lease on
//! its row and a fencing token, and [`FeedStore::finish_feed_poll`] writes the outcome
//! only while that token is still the row's — an instance that stalled past its lease
//! writes nothing over the poll that came after it.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// A lease on one feed's poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedClaim {
    /// The fencing token: [`FeedStore::finish_feed_poll`] must name it.
    pub token: i64,
    /// The `ETag` of the last full answer from this URL, for `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last full answer from this URL, for `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// Failed polls in a row before this one.
    pub failures: i64,
}

/// How one poll ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// The feed answered (`not_modified`: with 304) and every entry was handled.
    Success {
        etag: Option<String>,
        last_modified: Option<String>,
        not_modified: bool,
        /// Notices created, corrected or withdrawn by this poll.
        imported: u64,
    },
    /// The feed, or one of its entries, could not be read; `imported` counts what the
    /// entries that could be read still changed.
    Failure { error: String, imported: u64 },
}

/// One feed's state, for `pingan feeds status` and `/metrics`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedState {
    pub name: String,
    pub url: String,
    pub next_poll_at: DateTime<Utc>,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Failed polls since the last successful one.
    pub failures: i64,
    pub polls: i64,
    /// Polls answered `304 Not Modified`.
    pub not_modified: i64,
    /// Notices created, corrected or withdrawn by this feed, over its whole life.
    pub alerts_imported: i64,
}

#[async_trait]
pub trait FeedStore {
    /// Takes the lease on `feed` until `lease_until` if it is due at `now` (or `force`)
    /// and no other instance holds it; `None` otherwise. A feed seen for the first time
    /// is due at once; a feed whose URL changed forgets its validators.
    async fn claim_feed(
        &self,
        feed: &str,
        url: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        force: bool,
    ) -> Result<Option<FeedClaim>, StoreError>;

    /// Records a poll's outcome and frees the lease, if `token` still holds it (returns
    /// whether it did). `next_poll_at` is when the feed is due again.
    async fn finish_feed_poll(
        &self,
        feed: &str,
        token: i64,
        at: DateTime<Utc>,
        next_poll_at: DateTime<Utc>,
        outcome: &PollOutcome,
    ) -> Result<bool, StoreError>;

    /// Which of `entries` (ids with their updated times) `feed` has handled before.
    async fn seen_feed_entries(&self, feed: &str, entries: &[String]) -> Result<HashSet<String>, StoreError>;

    /// Remembers that `feed`'s `entry` has been handled.
    async fn record_feed_entry(&self, feed: &str, entry: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Every feed polled so far, by name.
    async fn feed_states(&self) -> Result<Vec<FeedState>, StoreError>;
}

macro_rules! impl_feed_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::FeedStore for $store {
            async fn claim_feed(
                &self,
                feed: &str,
                url: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
                lease_until: ::chrono::DateTime<::chrono::Utc>,
                force: bool,
            ) -> Result<Option<$crate::store::FeedClaim>, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                ::sqlx::query(
                    "INSERT INTO cap_feeds (name, url, next_poll_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(feed)
                .bind(url)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let claimed: Option<(i64, Option<String>, Option<String>, i64)> = ::sqlx::query_as(
                    "UPDATE cap_feeds SET lease_until = $3, lease_token = lease_token + 1, \
                     etag = CASE WHEN url = $2 THEN etag END, \
                     last_modified = CASE WHEN url = $2 THEN last_modified END, url = $2 \
                     WHERE name = $1 AND ($5 OR next_poll_at <= $4) \
                     AND (lease_until IS NULL OR lease_until <= $4) \
                     RETURNING lease_token, etag, last_modified, failures",
                )
                .bind(feed)
                .bind(url)
                .bind(lease_until)
                .bind(now)
                .bind(force)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(claimed.map(|(token, etag, last_modified, failures)| $crate::store::FeedClaim {
                    token,
                    etag,
                    last_modified,
                    failures,
                }))
            }

            async fn finish_feed_poll(
                &self,
                feed: &str,
                token: i64,
                at: ::chrono::DateTime<::chrono::Utc>,
                next_poll_at: ::chrono::DateTime<::chrono::Utc>,
                outcome: &$crate::store::PollOutcome,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::PollOutcome;
                let done = match outcome {
                    PollOutcome::Success { etag, last_modified, not_modified, imported } => {
                        // A 304 carries no body, and may carry no validators: keep the old ones.
                        ::sqlx::query(
                            "UPDATE cap_feeds SET lease_until = NULL, next_poll_at = $3, last_polled_at = $4, \
                             last_success_at = $4, failures = 0, polls = polls + 1, \
                             not_modified = not_modified + $5, alerts_imported = alerts_imported + $6, \
                             etag = CASE WHEN $7 THEN etag ELSE $8 END, \
                             last_modified = CASE WHEN $7 THEN last_modified ELSE $9 END \
                             WHERE name = $1 AND lease_token = $2",
                        )
                        .bind(feed)
                        .bind(token)
                        .bind(next_poll_at)
                        .bind(at)
                        .bind(i64::from(*not_modified))
                        .bind(*imported as i64)
                        .bind(*not_modified)
                        .bind(etag)
                        .bind(last_modified)
                        .execute(&self.pool)
                        .await?
                    }
                    PollOutcome::Failure { error, imported } => {
                        ::sqlx::query(
                            "UPDATE cap_feeds SET lease_until = NULL, next_poll_at = $3, last_polled_at = $4, \
                             last_error_at = $4, last_error = $5, failures = failures + 1, polls = polls + 1, \
                             alerts_imported = alerts_imported + $6 \
                             WHERE name = $1 AND lease_token = $2",
                        )
                        .bind(feed)
                        .bind(token)
                        .bind(next_poll_at)
                        .bind(at)
                        .bind(error)
                        .bind(*imported as i64)
                        .execute(&self.pool)
                        .await?
                    }
                };
                Ok(done.rows_affected() == 1)
            }

            async fn seen_feed_entries(
                &self,
                feed: &str,
                entries: &[String],
            ) -> Result<::std::collections::HashSet<String>, $crate::store::StoreError> {
                let mut seen = ::std::collections::HashSet::new();
                // Feeds list tens of entries; one indexed lookup each keeps the SQL the
                // same on both backends.
                for entry in entries {
                    let found: Option<(i32,)> =
                        ::sqlx::query_as("SELECT 1 FROM cap_feed_entries WHERE feed = $1 AND entry = $2")
                            .bind(feed)
                            .bind(entry)
                            .fetch_optional(&self.pool)
                            .await?;
                    if found.is_some() {
                        seen.insert(entry.clone());
                    }
                }
                Ok(seen)
            }

            async fn record_feed_entry(
                &self,
                feed: &str,
                entry: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query(
                    "INSERT INTO cap_feed_entries (feed, entry, seen_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (feed, entry) DO NOTHING",
                )
                .bind(feed)
                .bind(entry)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn feed_states(&self) -> Result<Vec<$crate::store::FeedState>, $crate::store::StoreError> {
                Ok(::sqlx::query_as(
                    "SELECT name, url, next_poll_at, last_polled_at, last_success_at, last_error_at, \
                     last_error, failures, polls, not_modified, alerts_imported FROM cap_feeds ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

pub(crate) use impl_feed_store;
