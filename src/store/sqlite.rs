//! The embedded default: one SQLite file.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};

use super::search::{
    DocumentKind, DocumentTokens, RANKED_MATCHES, RankedRows, fts5_phrases, fts5_query, ranked_rows,
};
use super::{Backend, MigrationReport, Store, StoreError, migrations};
use crate::config::DatabaseSettings;
use crate::domain::{Language, SearchTerms};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The versions of the SQLite migrations built into this binary, oldest first: the schema
/// a SQLite database must be at for `pingan migrate-data` to copy it.
pub fn embedded_schema_versions() -> Vec<i64> {
    MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect()
}

/// The most connections a SQLite pool opens, whatever `database.max_connections` says.
/// SQLite writes one transaction at a time; each connection is a thread of its own (sqlx)
/// with its own page cache, which every write by another connection invalidates. Over 20 000
/// updates (`cargo bench --bench load`, BENCHMARKS.md) fewer connections took less CPU and
/// memory and did not slow replies.
pub(crate) const MAX_CONNECTIONS: u32 = 4;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file `url` names.
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // WAL lets readers work while one writer writes, also across processes
            // (`pingan notices add` beside a running bot).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout);
        let in_memory = url.contains(":memory:");
        if !in_memory {
            create_private(options.get_filename());
        }
        // Each connection to `:memory:` would be a database of its own: keep exactly one.
        let max_connections = if in_memory { 1 } else { settings.max_connections.min(MAX_CONNECTIONS) };
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .min_connections(u32::from(in_memory))
            .idle_timeout(if in_memory { None } else { Some(std::time::Duration::from_secs(600)) })
            .max_lifetime(if in_memory { None } else { Some(std::time::Duration::from_secs(1800)) })
            .acquire_timeout(settings.busy_timeout)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    /// A transaction that will write: `BEGIN IMMEDIATE` takes SQLite's write lock at the
    /// start (waiting up to the busy timeout), so one that reads first cannot fail with
    /// "database is locked" when it comes to write after another writer went ahead.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// (Re)indexes one notice or tip: a `search_documents` row, and its tokens in FTS5
    /// under the same rowid.
    async fn index_document(
        conn: &mut SqliteConnection,
        kind: DocumentKind,
        ref_id: i64,
        tokens: &DocumentTokens,
    ) -> Result<(), StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO search_documents (kind, ref_id) VALUES ($1, $2) \
             ON CONFLICT (kind, ref_id) DO UPDATE SET kind = excluded.kind RETURNING id",
        )
        .bind(kind.as_str())
        .bind(ref_id)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM search_fts WHERE rowid = $1").bind(id).execute(&mut *conn).await?;
        sqlx::query("INSERT INTO search_fts (rowid, title, body) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&tokens.title)
            .bind(&tokens.body)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// The ranked page of a search. `$1` the FTS5 query, `$2` now, `$3`/`$4` limit and
/// offset, `$5` the chat's language, `$6` the phrases (FTS5) or NULL, `$7` how many
/// candidates to read ([`RANKED_MATCHES`] + 1: the one past tells that there were more),
/// `$8` [`RANKED_MATCHES`]; `{together}` whether a candidate holds the phrases.
///
/// `matched` walks FTS5's matches newest first (`ORDER BY f.rowid DESC`, which FTS5 serves
/// from its index) and stops at `$7` visible ones (published and unexpired notices, current
/// tips), so a word found in most notices costs no more than a rare one; bm25 is computed
/// only for those. One row always comes back, its kind and id NULL when the page is past
/// the end, so that the count arrives with the page.
const SEARCH_PAGE: &str = "WITH matched AS (\
     SELECT d.id, d.kind, d.ref_id, COALESCE(n.language, t.language) AS language, \
     bm25(search_fts, 10.0, 1.0) AS score \
     FROM search_fts f JOIN search_documents d ON d.id = f.rowid \
     LEFT JOIN notices n ON d.kind = 'notice' AND n.id = d.ref_id \
     LEFT JOIN tips t ON d.kind = 'tip' AND t.id = d.ref_id \
     WHERE search_fts MATCH $1 AND ((n.status = 'published' AND (n.expires_at IS NULL OR n.expires_at > $2)) \
     OR t.retired = FALSE) \
     ORDER BY f.rowid DESC LIMIT $7), \
     ranked AS (SELECT * FROM matched ORDER BY id DESC LIMIT $8), \
     page AS (SELECT kind, ref_id, row_number() OVER (ORDER BY language = $5 DESC, {together} DESC, \
     kind = 'notice' DESC, score, id DESC) AS position FROM ranked) \
     SELECT c.n, p.kind, p.ref_id FROM (SELECT COUNT(*) AS n FROM matched) c \
     LEFT JOIN page p ON p.position > $4 AND p.position <= $4 + $3 ORDER BY p.position";

impl SqliteStore {
    async fn run_search(
        &self,
        terms: &SearchTerms,
        language: Language,
        now: DateTime<Utc>,
        limit: u32,
        offset: u32,
    ) -> Result<RankedRows, StoreError> {
        let phrases = fts5_phrases(terms);
        // A document holding the query's phrases as written ranks first in its language;
        // only the candidates' range of ids is searched for them.
        let together = if phrases.is_some() {
            "id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH $6 \
             AND rowid >= (SELECT MIN(id) FROM ranked))"
        } else {
            "$6 IS NULL"
        };
        let rows = sqlx::query_as(&SEARCH_PAGE.replace("{together}", together))
            .bind(fts5_query(terms))
            .bind(now)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .bind(language.code())
            .bind(phrases)
            .bind(i64::from(RANKED_MATCHES) + 1)
            .bind(i64::from(RANKED_MATCHES))
            .fetch_all(&self.pool)
            .await?;
        Ok(ranked_rows(rows))
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        let mut report = migrations::run(&self.pool, &MIGRATOR).await?;
        report.rekeyed_phones = self.rekey(super::subject_keys::PHONE_KEYS, Utc::now()).await?;
        report.rekeyed_links = self.rekey(super::subject_keys::LINK_KEYS, Utc::now()).await?;
        report.reindexed = self.reindex_search(Utc::now()).await?;
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

super::notices::impl_notice_store!(SqliteStore, ::sqlx::Sqlite);
super::publications::impl_publication_store!(SqliteStore, ::sqlx::Sqlite);
super::retention::impl_retention_store!(SqliteStore, ::sqlx::Sqlite);
super::tips::impl_tip_store!(SqliteStore, ::sqlx::Sqlite);
super::subscribers::impl_subscriber_store!(SqliteStore, ::sqlx::Sqlite);
super::admins::impl_admin_store!(SqliteStore);
super::audit::impl_audit_store!(SqliteStore);
super::dialogues::impl_dialogue_store!(SqliteStore);
super::usernames::impl_username_store!(SqliteStore);
super::indicators::impl_indicator_store!(SqliteStore, ::sqlx::Sqlite);
super::subject_keys::impl_rekey!(SqliteStore, ::sqlx::Sqlite);
super::figures::impl_figure_store!(SqliteStore);
super::feeds::impl_feed_store!(SqliteStore);
super::reports::impl_report_store!(SqliteStore, ::sqlx::Sqlite);
super::search::impl_search_store!(SqliteStore);
super::search_reindex::impl_reindex_search!(SqliteStore);
// SQLite has one writer at a time, so one UPDATE claims rows no one else can take.
super::outbox::impl_outbox_store!(SqliteStore, ::sqlx::Sqlite);
// One writer at a time: SQLite needs no row locks to claim, nor to order a sent alert
// against a change of its notice. Its clock is the host's, read in the database.
super::claims::impl_claim_store!(
    SqliteStore,
    ::sqlx::Sqlite,
    "",
    "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    ""
);
super::leader::impl_leader_store!(
    SqliteStore,
    "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
);

/// Creates the database file readable and writable by its owner only (0600 on Unix), if
/// it is missing: it holds subscribers' chat ids and citizens' reports, and a file made
/// by SQLite would get the process's umask (commonly readable by every local user).
/// SQLite gives its `-wal` and `-shm` files the database file's permissions.
fn create_private(path: &std::path::Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // Already there (kept as it is), or a directory missing or not writable: then SQLite's
    // own error, when it opens the file, says it better.
    let _ = options.open(path);
}
// One writer at a time: one UPDATE claims updates no other worker can take.
super::inbox::impl_inbox_store!(
    SqliteStore,
    ::sqlx::Sqlite,
    "",
    "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    // With WAL and `synchronous = NORMAL` no commit waits for the disk already.
    ""
);
