//! The scale-out backend: several Pingan instances sharing one PostgreSQL database.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{Backend, MigrationReport, Store, StoreError, migrations};
use crate::config::DatabaseSettings;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("pingan");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.busy_timeout)
            .connect_with(options)
            .await?;
        Ok(PgStore { pool })
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
        migrations::run(&self.pool, &MIGRATOR).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

super::notices::impl_notice_store!(PgStore);
super::tips::impl_tip_store!(PgStore);
super::subscribers::impl_subscriber_store!(PgStore);
super::admins::impl_admin_store!(PgStore);
