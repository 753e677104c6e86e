//! A fresh database for each test: a SQLite file in a temporary directory, or a schema
//! of its own in the PostgreSQL named by `TEST_DATABASE_URL`.

use std::io::Write;
use std::sync::{Arc, Once};
use std::time::Duration;

use pingan::config::{DatabaseSettings, DatabaseUrl};
use pingan::store::{self, Store};
use sqlx::Connection;
use tempfile::TempDir;

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug)]
pub enum TestDb {
    Sqlite { dir: TempDir, url: String },
    Postgres { base: String, schema: String, url: String },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("pingan.db").display());
        TestDb::Sqlite { dir, url }
    }

    /// A new schema in the test PostgreSQL. `None` when the server cannot be reached —
    /// unless `PINGAN_REQUIRE_POSTGRES=1`, which turns that into a failure.
    pub async fn postgres() -> Option<TestDb> {
        let base = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
        let connected =
            tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&base)).await;
        let mut conn = match connected {
            Ok(Ok(conn)) => conn,
            failed => {
                let reason = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                if std::env::var("PINGAN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!(
                        "PostgreSQL at {base} is required (PINGAN_REQUIRE_POSTGRES=1) but unreachable: {reason}"
                    );
                }
                warn_skipped_once(&base, &reason);
                return None;
            }
        };
        let schema = format!("test_{}", fastrand::u64(..));
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("create test schema");
        let _ = conn.close().await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options[search_path]={schema}");
        Some(TestDb::Postgres { base, schema, url })
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: DatabaseUrl::parse(self.url()).expect("test database URL"),
            max_connections: 5,
            busy_timeout: Duration::from_secs(5),
        }
    }

    /// The store, connected and migrated.
    pub async fn store(&self) -> Arc<dyn Store> {
        store::open(&self.settings()).await.expect("open the test database").0
    }
}

/// Schemas left behind by test runs that were killed, more than an hour old.
async fn drop_stale_schemas(conn: &mut sqlx::PgConnection) {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let created = name.split('_').nth(1).and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs + 3600 < now) {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut *conn).await;
        }
    }
}

/// Says once per test run, past the test harness's output capture, that PostgreSQL tests
/// were skipped.
fn warn_skipped_once(base: &str, reason: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED: PostgreSQL tests, because {base} is unreachable ({reason}). \
             Set PINGAN_REQUIRE_POSTGRES=1 to make that a failure.\n"
        );
    });
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { base, schema, .. } = self {
            let (base, schema) = (base.clone(), schema.clone());
            // Drop runs outside async code; a small runtime of its own removes the schema.
            // It blocks the test's thread meanwhile, so a transaction the test left open (its
            // rollback is a task on that thread) would hold the schema's locks for ever: the
            // lock timeout gives up instead, and a later run's stale cleanup removes it.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&base).await?;
                    sqlx::query("SET lock_timeout = '5s'").execute(&mut conn).await?;
                    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .execute(&mut conn)
                        .await?;
                    conn.close().await?;
                    Ok::<_, anyhow::Error>(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test schema {}", self.url());
            }
        }
    }
}
