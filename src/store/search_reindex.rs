//! The search index rebuilt when the rules that make its tokens change.
//!
//! Notices and tips are indexed by their tokens ([`crate::domain::index_tokens`]), made by
//! the rules [`SEARCH_TOKEN_RULES`](crate::domain::hanzi::SEARCH_TOKEN_RULES) names, and
//! tips under their scam types' names too (`index_version` in `search.rs` fingerprints those). A text
//! indexed before traditional characters were folded holds the token `刷單`, which the query
//! `刷單` (now the term `刷单`) no longer finds. Migrating a database whose `data_versions`
//! row for `search_tokens` names other rules (or none) indexes every notice and tip again
//! from its stored title and body, in one transaction; what citizens see does not change.

/// What a rebuild of the search index did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reindexed {
    /// Notices indexed again (every notice, whatever its status, as saving one indexes it).
    pub notices: usize,
    /// Tips indexed again, retired ones included.
    pub tips: usize,
}

macro_rules! impl_reindex_search {
    ($store:ty) => {
        impl $store {
            /// Indexes every notice and tip again if the database's `search_tokens` version
            /// is not `index_version()` (the token rules and the scam types' names);
            /// nothing otherwise (`None`). One transaction: instances migrating together
            /// rebuild once, and a search meanwhile sees the old index or the new, whole.
            pub(crate) async fn reindex_search(
                &self,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<Option<$crate::store::search_reindex::Reindexed>, $crate::store::StoreError> {
                use $crate::store::search::{DocumentKind, DocumentTokens};
                let mut tx = self.begin_write().await?;
                // Claims the rebuild: a concurrent transaction waits on the row, then finds it
                // already names the rules and changes nothing.
                let claimed = ::sqlx::query(
                    "INSERT INTO data_versions (name, version, updated_at) VALUES ('search_tokens', $1, $2) \
                     ON CONFLICT (name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at \
                     WHERE data_versions.version <> excluded.version",
                )
                .bind($crate::store::search::index_version())
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    return Ok(None);
                }
                let mut done = $crate::store::search_reindex::Reindexed::default();
                // A tip is indexed under its scam type's names too.
                let notices: Vec<(i64, String, String)> =
                    ::sqlx::query_as("SELECT id, title, body FROM notices ORDER BY id").fetch_all(&mut *tx).await?;
                for (id, title, body) in &notices {
                    Self::index_document(&mut tx, DocumentKind::Notice, *id, &DocumentTokens::of(title, body)).await?;
                }
                done.notices = notices.len();
                let tips: Vec<(i64, String, String, String)> =
                    ::sqlx::query_as("SELECT id, scam_type, title, body FROM tips ORDER BY id")
                        .fetch_all(&mut *tx)
                        .await?;
                for (id, scam_type, title, body) in &tips {
                    let kind: $crate::domain::ScamType = scam_type
                        .parse()
                        .map_err(|e| $crate::store::StoreError::corrupt(&format!("tip {id}"), e))?;
                    Self::index_document(&mut tx, DocumentKind::Tip, *id, &DocumentTokens::of_tip(kind, title, body))
                        .await?;
                }
                done.tips = tips.len();
                tx.commit().await?;
                Ok(Some(done))
            }
        }
    };
}

pub(crate) use impl_reindex_search;
