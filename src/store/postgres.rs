//! The scale-out backend: several Pingan instances sharing one PostgreSQL database.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

use super::search::{
    DocumentKind, DocumentTokens, RANKED_MATCHES, RankedRows, ranked_rows, tsquery, tsquery_phrases,
};
use super::{Backend, MigrationReport, Store, StoreError, migrations};
use crate::config::DatabaseSettings;
use crate::domain::{Language, SearchTerms};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// A transaction that will write (PostgreSQL's row locks need no more than `BEGIN`).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("pingan");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.busy_timeout)
            .connect_with(options)
            .await?;
        Ok(PgStore { pool })
    }

    /// (Re)indexes one notice or tip; PostgreSQL computes the tsvector column itself.
    async fn index_document(
        conn: &mut PgConnection,
        kind: DocumentKind,
        ref_id: i64,
        tokens: &DocumentTokens,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO search_documents (kind, ref_id, title, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, ref_id) DO UPDATE SET title = excluded.title, body = excluded.body",
        )
        .bind(kind.as_str())
        .bind(ref_id)
        .bind(&tokens.title)
        .bind(&tokens.body)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// The ranked page of a search. `$1` the tsquery, `$2` now, `$3`/`$4` limit and offset,
/// `$5` the chat's language, `$6` the phrases (tsquery) or NULL, `$7` how many candidates
/// to read ([`RANKED_MATCHES`] + 1: the one past tells that there were more), `$8`
/// [`RANKED_MATCHES`].
///
/// `matched` takes the newest `$7` visible matches (published and unexpired notices,
/// current tips); `ts_rank` and the phrase test are computed only for those. One row
/// always comes back, its kind and id NULL when the page is past the end, so that the
/// count arrives with the page.
const SEARCH_PAGE: &str = "WITH matched AS (\
     SELECT d.id, d.kind, d.ref_id, COALESCE(n.language, t.language) AS language, d.document \
     FROM search_documents d \
     LEFT JOIN notices n ON d.kind = 'notice' AND n.id = d.ref_id \
     LEFT JOIN tips t ON d.kind = 'tip' AND t.id = d.ref_id \
     WHERE d.document @@ to_tsquery('simple', $1) \
     AND ((n.status = 'published' AND (n.expires_at IS NULL OR n.expires_at > $2)) OR t.retired = FALSE) \
     ORDER BY d.id DESC LIMIT $7), \
     ranked AS (SELECT * FROM matched ORDER BY id DESC LIMIT $8), \
     page AS (SELECT kind, ref_id, row_number() OVER (ORDER BY language = $5 DESC, \
     COALESCE(document @@ to_tsquery('simple', $6), FALSE) DESC, kind = 'notice' DESC, \
     ts_rank(document, to_tsquery('simple', $1)) DESC, id DESC) AS position FROM ranked) \
     SELECT c.n, p.kind, p.ref_id FROM (SELECT COUNT(*) AS n FROM matched) c \
     LEFT JOIN page p ON p.position > $4 AND p.position <= $4 + $3 ORDER BY p.position";

impl PgStore {
    async fn run_search(
        &self,
        terms: &SearchTerms,
        language: Language,
        now: DateTime<Utc>,
        limit: u32,
        offset: u32,
    ) -> Result<RankedRows, StoreError> {
        // The chat's language first; then a document holding the query's phrases as
        // written; then notices before tips; then ts_rank, where title tokens carry weight
        // A and body tokens B (its defaults: 1.0 and 0.4).
        // Planned for its own words every time (an unnamed statement): a generic plan,
        // which PostgreSQL adopts for a prepared statement after five runs, cannot know
        // whether a word is in most documents (walk them newest first and stop early) or in
        // none (ask the GIN index), and took 300 ms for a word found nowhere.
        let rows = sqlx::query_as(SEARCH_PAGE)
            .persistent(false)
            .bind(tsquery(terms))
            .bind(now)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .bind(language.code())
            .bind(tsquery_phrases(terms))
            .bind(i64::from(RANKED_MATCHES) + 1)
            .bind(i64::from(RANKED_MATCHES))
            .fetch_all(&self.pool)
            .await?;
        Ok(ranked_rows(rows))
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        // sqlx holds an advisory lock while migrating, so instances starting together
        // take turns instead of applying the same migration twice.
        let mut report = migrations::run(&self.pool, &MIGRATOR).await?;
        report.rekeyed_phones = self.rekey(super::subject_keys::PHONE_KEYS, chrono::Utc::now()).await?;
        report.rekeyed_links = self.rekey(super::subject_keys::LINK_KEYS, chrono::Utc::now()).await?;
        report.reindexed = self.reindex_search(chrono::Utc::now()).await?;
        Ok(report)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

super::notices::impl_notice_store!(PgStore, ::sqlx::Postgres);
super::publications::impl_publication_store!(PgStore, ::sqlx::Postgres);
super::retention::impl_retention_store!(PgStore, ::sqlx::Postgres);
super::tips::impl_tip_store!(PgStore, ::sqlx::Postgres);
super::subscribers::impl_subscriber_store!(PgStore, ::sqlx::Postgres);
super::admins::impl_admin_store!(PgStore);
super::audit::impl_audit_store!(PgStore);
super::dialogues::impl_dialogue_store!(PgStore);
super::usernames::impl_username_store!(PgStore);
super::indicators::impl_indicator_store!(PgStore, ::sqlx::Postgres);
super::subject_keys::impl_rekey!(PgStore, ::sqlx::Postgres);
super::figures::impl_figure_store!(PgStore);
super::feeds::impl_feed_store!(PgStore);
super::reports::impl_report_store!(PgStore, ::sqlx::Postgres);
super::search::impl_search_store!(PgStore);
super::search_reindex::impl_reindex_search!(PgStore);
super::outbox::impl_outbox_store!(PgStore, ::sqlx::Postgres);
// Each sender skips rows another sender has locked, so several instances share the
// outbox without waiting on each other or claiming a row twice. Leases run on the
// server's clock, the one clock every instance shares.
super::claims::impl_claim_store!(
    PgStore,
    ::sqlx::Postgres,
    " FOR UPDATE SKIP LOCKED",
    "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    " FOR SHARE OF n"
);
super::leader::impl_leader_store!(PgStore, "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)");
// Workers on every instance skip updates another has locked mid-claim; leases run on the
// server's clock. The claim and the handled mark end with a condition that turns
// `synchronous_commit` off for the statement's own transaction (`set_config` with
// `is_local`; `SET LOCAL` outside a transaction block would do nothing), so that their
// commits do not wait for the WAL to reach the disk: two fsyncs less on each update's way
// (BENCHMARKS.md, paced latency on PostgreSQL). Both writes may be lost safely: if
// PostgreSQL itself crashes within the WAL writer's delay (200 ms by default), a claim
// forgotten makes its update pending again and a mark forgotten makes it handled again —
// at least once, as an instance's death already does. Storing an update (whose offset
// tells Telegram to forget it) keeps a flushed commit.
super::inbox::impl_inbox_store!(
    PgStore,
    ::sqlx::Postgres,
    " FOR UPDATE SKIP LOCKED",
    "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    " AND set_config('synchronous_commit', 'off', true) IS NOT NULL"
);
