//! Full-text search over notices and tips. Tokens come from
//! [`crate::domain::index_tokens`]; each backend indexes and ranks them its own way
//! (FTS5 with bm25, PostgreSQL with `ts_rank`), in its own module.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Language, Notice, ScamType, SearchTerms, Term, Tip, Vocabulary};

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

/// How many visible matches a search ranks: the most recently indexed this many (by the
/// index's document id, the order notices were written in). Ranking every match made a
/// word found in most of 100 000 notices (`请`, `the`, `诈骗`) take 264 ms on SQLite and a
/// second on PostgreSQL, ranking the newest 1 000 still 38 ms on SQLite
/// (`cargo bench --bench search`, BENCHMARKS.md); 40 pages of five are more than anyone
/// reads, and the header says when there were more.
pub const RANKED_MATCHES: u32 = 200;

/// How many documents a search found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matches {
    /// Every match: this many, each ranked.
    All(u64),
    /// More than [`RANKED_MATCHES`]: only the newest that many were ranked and can be
    /// paged through.
    MoreThanRanked,
}

impl Matches {
    /// From the number of candidates a query read, which stops at one past
    /// [`RANKED_MATCHES`] to tell whether there were more.
    pub(crate) fn of_candidates(read: i64) -> Matches {
        let read = read.max(0) as u64;
        if read > u64::from(RANKED_MATCHES) { Matches::MoreThanRanked } else { Matches::All(read) }
    }

    /// The matches that can be paged through.
    pub fn ranked(self) -> u64 {
        match self {
            Matches::All(n) => n,
            Matches::MoreThanRanked => u64::from(RANKED_MATCHES),
        }
    }

    /// Nothing matched.
    pub fn is_empty(self) -> bool {
        self == Matches::All(0)
    }
}

/// A page of results, best first, and how many there are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPage {
    pub matches: Matches,
    pub hits: Vec<Found>,
}

#[async_trait]
pub trait SearchStore {
    /// Published, unexpired notices and current tips containing every term, anywhere: of
    /// those, the [`RANKED_MATCHES`] most recently indexed, ordered: those in `language`
    /// (the chat's) first; then those holding every phrase of the query
    /// ([`SearchTerms::phrases`]) as written; then notices before tips; then best match
    /// first (SQLite: FTS5 bm25; PostgreSQL: `ts_rank`; a title token outweighs a body
    /// token); then newest. `limit` and `offset` page through those.
    async fn search(
        &self,
        terms: &SearchTerms,
        language: Language,
        now: DateTime<Utc>,
        limit: u32,
        offset: u32,
    ) -> Result<SearchPage, StoreError>;

    /// Every token of the index with the number of documents holding it (retired and
    /// unpublished ones included: check a suggestion by searching it), for "did you mean".
    /// SQLite reads FTS5's `fts5vocab` table, PostgreSQL `ts_stat`; both scan the index,
    /// so this is for a search that found nothing, not for every search.
    async fn search_vocabulary(&self) -> Result<Vocabulary, StoreError>;

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
    /// A notice's tokens.
    pub fn of(title: &str, body: &str) -> DocumentTokens {
        DocumentTokens { title: crate::domain::index_tokens(title), body: crate::domain::index_tokens(body) }
    }

    /// A tip's tokens: its scam type's names in every language
    /// ([`crate::i18n::scam_type_names`]) count as words of its title, so `/search 冒充公检法`
    /// or `/search fake police` finds every tip of that kind, in either language.
    pub fn of_tip(kind: ScamType, title: &str, body: &str) -> DocumentTokens {
        let names = crate::domain::index_tokens(&crate::i18n::scam_type_names(kind));
        let title = crate::domain::index_tokens(title);
        let title = if names.is_empty() { title } else { format!("{title} {names}") };
        DocumentTokens { title, body: crate::domain::index_tokens(body) }
    }
}

/// The version of the index's contents that `data_versions` keeps under `search_tokens`:
/// the tokenising rules ([`SEARCH_TOKEN_RULES`](crate::domain::hanzi::SEARCH_TOKEN_RULES))
/// and a fingerprint (SHA-256, first 8 bytes) of the scam types' names tips are indexed
/// under, so renaming a scam type in a locale file rebuilds the index too.
pub(crate) fn index_version() -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for kind in ScamType::ALL {
        hash.update(kind.as_str());
        hash.update([0]);
        hash.update(crate::i18n::scam_type_names(*kind));
        hash.update([0]);
    }
    format!(
        "{}; scam type names {}",
        crate::domain::hanzi::SEARCH_TOKEN_RULES,
        hex::encode(&hash.finalize()[..8])
    )
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

/// The query's phrases as an FTS5 query: each phrase's tokens in order (`"a" + "b"`), every
/// phrase required; `None` when the query has none.
pub(crate) fn fts5_phrases(terms: &SearchTerms) -> Option<String> {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let phrases: Vec<String> = terms
        .phrases()
        .iter()
        .map(|phrase| {
            phrase
                .iter()
                .map(|t| match t {
                    Term::Exact(token) => quote(token),
                    Term::Prefix(token) => format!("{} *", quote(token)),
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" AND "))
}

/// The query's phrases as a PostgreSQL tsquery (`'a' <-> 'b':*`), every phrase required;
/// `None` when the query has none.
pub(crate) fn tsquery_phrases(terms: &SearchTerms) -> Option<String> {
    let phrases: Vec<String> = terms
        .phrases()
        .iter()
        .map(|phrase| format!("({})", phrase.iter().map(ts_lexeme).collect::<Vec<_>>().join(" <-> ")))
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" & "))
}

fn ts_lexeme(term: &Term) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
    match term {
        Term::Exact(token) => quote(token),
        Term::Prefix(token) => format!("{}:*", quote(token)),
    }
}

/// Terms as a PostgreSQL tsquery: every lexeme quoted, prefixes marked `:*`.
pub(crate) fn tsquery(terms: &SearchTerms) -> String {
    terms.terms().iter().map(ts_lexeme).collect::<Vec<_>>().join(" & ")
}

/// Ranked `(kind, id)` rows of one page, and how many matched.
pub(crate) type RankedRows = (Matches, Vec<(String, i64)>);

/// Reads the rows of a ranking query, `(candidates read, kind, ref_id)`, the last two
/// NULL on the one row a page past the end still returns (so that the count always
/// arrives, in the same statement).
pub(crate) fn ranked_rows(rows: Vec<(i64, Option<String>, Option<i64>)>) -> RankedRows {
    let read = rows.first().map_or(0, |row| row.0);
    let page = rows.into_iter().filter_map(|(_, kind, id)| Some((kind?, id?))).collect();
    (Matches::of_candidates(read), page)
}

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
                language: $crate::domain::Language,
                now: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
                offset: u32,
            ) -> Result<$crate::store::SearchPage, $crate::store::StoreError> {
                let (matches, rows) = self.run_search(terms, language, now, limit, offset).await?;
                let hits = $crate::store::search::load_hits(self, rows).await?;
                Ok($crate::store::SearchPage { matches, hits })
            }

            async fn search_vocabulary(
                &self,
            ) -> Result<$crate::domain::Vocabulary, $crate::store::StoreError> {
                // `search_vocabulary` is a view over the index (migration 20261201000017).
                let rows: Vec<(String, i64)> =
                    ::sqlx::query_as("SELECT term, doc FROM search_vocabulary").fetch_all(&self.pool).await?;
                Ok($crate::domain::Vocabulary::new(
                    rows.into_iter().map(|(term, doc)| (term, doc.max(0) as u64)),
                ))
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
        assert_eq!(fts5_phrases(&terms), Some("\"fraud\" * + \"s\" + \"110\"".to_owned()));
        assert_eq!(tsquery_phrases(&terms), Some("('fraud':* <-> 's' <-> '110')".to_owned()));
    }

    #[test]
    fn chinese_words_are_required_apart_and_ranked_together() {
        let terms = SearchTerms::parse("冒充客服 fake").unwrap();
        assert_eq!(fts5_query(&terms), "\"冒充\" AND \"客服\" AND \"fake\"*");
        assert_eq!(fts5_phrases(&terms), Some("\"冒充\" + \"充客\" + \"客服\"".to_owned()));
        assert_eq!(tsquery_phrases(&terms), Some("('冒充' <-> '充客' <-> '客服')".to_owned()));
        assert_eq!(fts5_phrases(&SearchTerms::parse("刷单").unwrap()), None);
    }

    #[test]
    fn a_tip_is_indexed_under_its_scam_type_names_in_both_languages() {
        let tokens = DocumentTokens::of_tip(ScamType::Officials, "接到电话要转账", "先挂断");
        for token in ["冒充", "检法", "fake", "police", "officials", "转账"] {
            assert!(tokens.title.split(' ').any(|t| t == token), "{token} in {}", tokens.title);
        }
        let shops = DocumentTokens::of_tip(ScamType::Shopping, "t", "b");
        assert!(!shops.title.split(' ').any(|t| t == "amp"), "entities are decoded: {}", shops.title);
        assert!(index_version().starts_with(crate::domain::hanzi::SEARCH_TOKEN_RULES));
    }
}
