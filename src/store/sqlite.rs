//! The embedded default: one SQLite file.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Backend, MigrationReport, Store, StoreError, migrations};
use crate::config::DatabaseSettings;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

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
        // Each connection to `:memory:` would be a database of its own: keep exactly one.
        let max_connections = if in_memory {
            1
        } else {
            settings.max_connections
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .min_connections(u32::from(in_memory))
            .idle_timeout(if in_memory {
                None
            } else {
                Some(std::time::Duration::from_secs(600))
            })
            .max_lifetime(if in_memory {
                None
            } else {
                Some(std::time::Duration::from_secs(1800))
            })
            .acquire_timeout(settings.busy_timeout)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        migrations::run(&self.pool, &MIGRATOR).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

super::notices::impl_notice_store!(SqliteStore);
super::tips::impl_tip_store!(SqliteStore);
super::subscribers::impl_subscriber_store!(SqliteStore);
super::admins::impl_admin_store!(SqliteStore);
