//! The one storage interface, and its SQLite and PostgreSQL implementations.
//!
//! Queries both backends share are written once (in each topic's `impl_*_store!` macro,
//! expanded for each backend); SQL that must differ lives in the backend's own module.

mod admins;
pub(crate) mod audit;
pub(crate) mod claims;
mod dialogues;
mod error;
pub(crate) mod feeds;
pub(crate) mod figures;
pub(crate) mod inbox;
pub(crate) mod indicators;
pub(crate) mod leader;
mod migrations;
mod notices;
pub(crate) mod outbox;
mod postgres;
mod publications;
pub(crate) mod reports;
mod retention;
pub(crate) mod search;
pub(crate) mod search_reindex;
mod sqlite;
pub(crate) mod subject_keys;
mod subscribers;
mod tips;
mod usernames;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{DatabaseSettings, DatabaseUrl};
pub use admins::AdminStore;
pub use audit::AuditStore;
pub use claims::{ClaimStore, ClaimedDelivery, Outcome, SentRecord, Standing};
pub use dialogues::DialogueStore;
pub use error::StoreError;
pub use feeds::{FeedClaim, FeedState, FeedStore, PollOutcome};
pub use figures::FigureStore;
pub use inbox::{ClaimedUpdate, InboxCounts, InboxStore, NewUpdate, PollLease, Received};
pub use indicators::IndicatorStore;
pub use leader::{ChatTurn, LeaderLease, LeaderStore};
pub use migrations::MigrationReport;
pub use notices::{NoticeQuery, NoticeStore};
pub use outbox::{
    AlertAudience, ChangeOnce, DeliveryCounts, DueDigests, FanoutKind, FanoutProgress, NewFanout,
    NoticeChange, NoticeChanged, OutboxStore, Pending, Recipient, StoredMessage,
};
pub use postgres::PgStore;
pub use publications::{NewPublication, PublicationStore, Published, change_fingerprint};
pub use reports::ReportStore;
pub use retention::{Cutoffs, Pruned, RetentionStore};
pub use search::{DocumentKind, Found, Matches, RANKED_MATCHES, SearchPage, SearchStore};
pub use search_reindex::Reindexed;
pub use sqlite::{SqliteStore, embedded_schema_versions as sqlite_schema_versions};
pub use subject_keys::Rekeyed;
pub use subscribers::{Forgotten, SubscriberCounts, SubscriberStore};
pub use tips::{SeedOutcome, TipChange, TipQuery, TipStore, TipsImported};
pub use usernames::UsernameStore;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Everything Pingan stores, on whichever backend the database URL names.
#[async_trait]
pub trait Store:
    NoticeStore
    + TipStore
    + SearchStore
    + SubscriberStore
    + AdminStore
    + OutboxStore
    + PublicationStore
    + RetentionStore
    + ClaimStore
    + AuditStore
    + DialogueStore
    + IndicatorStore
    + ReportStore
    + FigureStore
    + FeedStore
    + UsernameStore
    + LeaderStore
    + InboxStore
    + Send
    + Sync
    + Debug
{
    fn backend(&self) -> Backend;
    /// Whether the database answers: one trivial query, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Brings the schema up to date, then re-keys stored phone numbers and links if their
    /// rules changed (see `subject_keys`) and rebuilds the search index if its token rules
    /// did (see `search_reindex`); safe to run from several instances at once.
    async fn migrate(&self) -> Result<MigrationReport, StoreError>;
    /// Waits for queries in flight, then closes every connection.
    async fn close(&self);
}

/// Connects to the configured database without touching its schema.
pub async fn connect(settings: &DatabaseSettings) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &settings.url {
        DatabaseUrl::Sqlite(url) => Arc::new(SqliteStore::connect(url, settings).await?),
        DatabaseUrl::Postgres(url) => Arc::new(PgStore::connect(url.as_str(), settings).await?),
    })
}

/// Connects and migrates: what every command does before it uses the database.
pub async fn open(settings: &DatabaseSettings) -> Result<(Arc<dyn Store>, MigrationReport), StoreError> {
    let store = connect(settings).await?;
    let report = store.migrate().await?;
    Ok((store, report))
}
