//! Full-text search over notices and tips. Tokens come from
//! [`crate::domain::index_tokens`]; each backend indexes and ranks them its own way
//! (FTS5 with bm25, PostgreSQL with `ts_rank`), in its own module.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Notice, SearchTerms, Term, Tip};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Notice,
    Tip,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Notice => "notice",
            DocumentKind::Tip => "tip",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<DocumentKind, StoreError> {
        match s {
            "notice" => Ok(DocumentKind::Notice),
            "tip" => Ok(DocumentKind::Tip),
            other => Err(StoreError::corrupt("search document kind", other)),
        }
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Notice(Notice),
    Tip(Tip),
}

/// A page of results, best first, and how many there are in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPage {
    pub total: u64,
    pub hits: Vec<Found>,
}

#[async_trait]
pub trait SearchStore {
    /// Published, unexpired notices and current tips containing every term: notices
    /// first, each kind best match first.
    async fn search(
        &self,
        terms: &SearchTerms,
        now: DateTime<Utc>,
        limit: u32,
        offset: u32,
    ) -> Result<SearchPage, StoreError>;

    /// Keeps a query for later pages of its results; the same text gets the same id.
    async fn remember_query(&self, text: &str, now: DateTime<Utc>) -> Result<i64, StoreError>;
    async fn remembered_query(&self, id: i64) -> Result<Option<String>, StoreError>;
}

/// The tokens of a notice or tip, as its two weighted fields.
pub(crate) struct DocumentTokens {
    pub title: String,
    pub body: String,
}

impl DocumentTokens {
    pub fn of(title: &str, body: &str) -> DocumentTokens {
        DocumentTokens { title: crate::domain::index_tokens(title), body: crate::domain::index_tokens(body) }
    }
}

/// Terms as an FTS5 query: every term required, each quoted so no token is read as syntax.
pub(crate) fn fts5_query(terms: &SearchTerms) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    terms
        .terms()
        .iter()
        .map(|t| match t {
            Term::Exact(token) => quote(token),
            Term::Prefix(token) => format!("{}*", quote(token)),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Terms as a PostgreSQL tsquery: every lexeme quoted, prefixes marked `:*`.
pub(crate) fn tsquery(terms: &SearchTerms) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
    terms
        .terms()
        .iter()
        .map(|t| match t {
            Term::Exact(token) => quote(token),
            Term::Prefix(token) => format!("{}:*", quote(token)),
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Ranked `(kind, id)` rows of one page, and the number of matches in all.
pub(crate) type RankedRows = (u64, Vec<(String, i64)>);

/// Resolves ranked `(kind, id)` rows to the notices and tips themselves.
pub(crate) async fn load_hits<S>(store: &S, rows: Vec<(String, i64)>) -> Result<Vec<Found>, StoreError>
where
    S: super::NoticeStore + super::TipStore + Sync,
{
    let mut hits = Vec::with_capacity(rows.len());
    for (kind, id) in rows {
        let found = match DocumentKind::parse(&kind)? {
            DocumentKind::Notice => store.notice(crate::domain::NoticeId(id)).await?.map(Found::Notice),
            DocumentKind::Tip => store.tip(crate::domain::TipId(id)).await?.map(Found::Tip),
        };
        // A row changed between the two queries simply drops out of this page.
        hits.extend(found);
    }
    Ok(hits)
}

/// The search queries both backends share; `$store` has a `pool` field and a
/// `run_search` function with its own full-text SQL.
macro_rules! impl_search_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::SearchStore for $store {
            async fn search(
                &self,
                terms: &$crate::domain::SearchTerms,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
                offset: u32,
            ) -> Result<$crate::store::SearchPage, $crate::store::StoreError> {
                let (total, rows) = self.run_search(terms, now, limit, offset).await?;
                let hits = $crate::store::search::load_hits(self, rows).await?;
                Ok($crate::store::SearchPage { total, hits })
            }

            async fn remember_query(
                &self,
                text: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<i64, $crate::store::StoreError> {
                let (id,): (i64,) = ::sqlx::query_as(
                    "INSERT INTO search_queries (text, created_at) VALUES ($1, $2) \
                     ON CONFLICT (text) DO UPDATE SET created_at = excluded.created_at RETURNING id",
                )
                .bind(text)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(id)
            }

            async fn remembered_query(&self, id: i64) -> Result<Option<String>, $crate::store::StoreError> {
                let row: Option<(String,)> =
                    ::sqlx::query_as("SELECT text FROM search_queries WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(text,)| text))
            }
        }
    };
}

pub(crate) use impl_search_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_quote_every_token() {
        let terms = SearchTerms::parse("诈骗 fraud's 110").unwrap();
        assert_eq!(fts5_query(&terms), "\"诈骗\" AND \"fraud\"* AND \"s\" AND \"110\"");
        assert_eq!(tsquery(&terms), "'诈骗' & 'fraud':* & 's' & '110'");
    }
}
