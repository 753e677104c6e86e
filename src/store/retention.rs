//! Retention: what Pingan stops keeping once it is old enough, in small batches that
//! never hold the database for long.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// The moments before which each kind of record goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutoffs {
    /// Finished deliveries (sent, failed, gone) last changed before this are deleted; their
    /// fan-outs keep the totals.
    pub deliveries: DateTime<Utc>,
    /// Remembered search queries (what paging buttons refer to).
    pub search_queries: DateTime<Utc>,
    /// Dialogues left unfinished (a draft, a report never sent).
    pub dialogues: DateTime<Utc>,
    /// Decided reports lose who sent them (the bureau keeps what they said).
    pub reports: DateTime<Utc>,
    /// Idempotency keys of publications.
    pub idempotency_keys: DateTime<Utc>,
    /// Inbox updates handled (or shed) before this: kept only so that Telegram sending
    /// one again is recognised, their payloads already gone.
    pub inbox: DateTime<Utc>,
}

/// What one round of pruning did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub deliveries: u64,
    pub search_queries: u64,
    pub dialogues: u64,
    pub reports: u64,
    pub idempotency_keys: u64,
    pub inbox: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.deliveries
            + self.search_queries
            + self.dialogues
            + self.reports
            + self.idempotency_keys
            + self.inbox
    }
}

#[async_trait]
pub trait RetentionStore {
    /// Prunes at most `batch` records of each kind older than its cutoff, each kind in a
    /// short transaction of its own. Call again while it finds something.
    async fn prune(&self, cutoffs: &Cutoffs, batch: u32) -> Result<Pruned, StoreError>;
}

macro_rules! impl_retention_store {
    ($store:ty, $db:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::RetentionStore for $store {
            async fn prune(
                &self,
                c: &$crate::store::Cutoffs,
                batch: u32,
            ) -> Result<$crate::store::Pruned, $crate::store::StoreError> {
                let batch = i64::from(batch);
                let mut tx = self.begin_write().await?;
                let ids: Vec<(i64,)> = ::sqlx::query_as(
                    "SELECT id FROM deliveries WHERE status IN ('sent', 'failed', 'gone') AND updated_at < $1 \
                     ORDER BY updated_at LIMIT $2",
                )
                .bind(c.deliveries)
                .bind(batch)
                .fetch_all(&mut *tx)
                .await?;
                let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
                let deliveries = Self::drop_deliveries_in(&mut tx, &ids).await?;
                tx.commit().await?;

                let search_queries = ::sqlx::query(
                    "DELETE FROM search_queries WHERE id IN \
                     (SELECT id FROM search_queries WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
                )
                .bind(c.search_queries)
                .bind(batch)
                .execute(&self.pool)
                .await?
                .rows_affected();
                // Dialogues have no id of their own; few are ever open at once.
                let dialogues = ::sqlx::query("DELETE FROM dialogues WHERE updated_at < $1")
                    .bind(c.dialogues)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                let reports = ::sqlx::query(
                    "UPDATE reports SET chat_id = NULL, user_id = NULL WHERE id IN \
                     (SELECT id FROM reports WHERE status <> 'pending' AND decided_at < $1 \
                     AND (chat_id IS NOT NULL OR user_id IS NOT NULL) ORDER BY decided_at LIMIT $2)",
                )
                .bind(c.reports)
                .bind(batch)
                .execute(&self.pool)
                .await?
                .rows_affected();
                let idempotency_keys = ::sqlx::query(
                    "DELETE FROM idempotency_keys WHERE key IN \
                     (SELECT key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
                )
                .bind(c.idempotency_keys)
                .bind(batch)
                .execute(&self.pool)
                .await?
                .rows_affected();
                let inbox = ::sqlx::query(
                    "DELETE FROM inbox_updates WHERE update_id IN \
                     (SELECT update_id FROM inbox_updates WHERE status IN ('handled', 'shed') AND handled_at < $1 \
                     ORDER BY handled_at LIMIT $2)",
                )
                .bind(c.inbox)
                .bind(batch)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok($crate::store::Pruned { deliveries, search_queries, dialogues, reports, idempotency_keys, inbox })
            }
        }
    };
}

pub(crate) use impl_retention_store;
