//! Running the embedded migrations and saying what they did.

use std::collections::HashSet;
use std::ops::DerefMut;

use sqlx::migrate::{Migrate, Migrator};
use sqlx::{Database, Pool};

use super::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationReport {
    /// Version and description of each migration this run applied.
    pub applied_now: Vec<(i64, String)>,
    /// The schema version the database is at now.
    pub version: Option<i64>,
    /// Stored phone numbers moved to their key under the current rules.
    pub rekeyed_phones: super::Rekeyed,
    /// Stored links moved to their key under the current rules.
    pub rekeyed_links: super::Rekeyed,
    /// The search index rebuilt under new token rules (`None`: the rules were current).
    pub reindexed: Option<super::Reindexed>,
}

pub(crate) async fn run<DB>(pool: &Pool<DB>, migrator: &Migrator) -> Result<MigrationReport, StoreError>
where
    DB: Database,
    DB::Connection: Migrate,
{
    let before: HashSet<i64> = {
        let mut conn = pool.acquire().await?;
        let conn = conn.deref_mut();
        conn.ensure_migrations_table().await?;
        conn.list_applied_migrations().await?.iter().map(|m| m.version).collect()
    };
    migrator.run(pool).await?;
    let applied_now = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !before.contains(&m.version))
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    let version = migrator.iter().map(|m| m.version).max();
    Ok(MigrationReport {
        applied_now,
        version,
        rekeyed_phones: super::Rekeyed::default(),
        rekeyed_links: super::Rekeyed::default(),
        reindexed: None,
    })
}
