//! Putting the application together: the database, the texts, the clock.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;

use crate::app::App;
use crate::bot::polling::run_polling;
use crate::clock::Clock;
use crate::config::{BotSettings, Settings};
use crate::i18n::Texts;
use crate::store::{self, Store};

/// Opens and migrates the configured database, and loads the shipped tips.
pub async fn open_store(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<Arc<dyn Store>> {
    let url = &settings.database.url;
    let (store, report) = store::open(&settings.database)
        .await
        .with_context(|| format!("cannot open the database {url}"))?;
    for (version, description) in &report.applied_now {
        tracing::info!(
            version,
            description,
            backend = store.backend().name(),
            "migration applied"
        );
    }
    let tips = crate::content::tips::seed_tips(store.as_ref(), clock.now()).await?;
    if tips.inserted + tips.updated > 0 {
        tracing::info!(
            inserted = tips.inserted,
            updated = tips.updated,
            kept_edited = tips.kept_edited,
            "tips library loaded"
        );
    }
    Ok(store)
}

/// The shared state handlers see, over an open store.
pub fn build_app(
    store: Arc<dyn Store>,
    bot: BotSettings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<App>> {
    let texts = Texts::load().context("the built-in locale files are broken")?;
    Ok(Arc::new(App::new(store, texts, clock, bot)))
}

/// `pingan run`: everything the bot does, until `shutdown` completes.
pub async fn run(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    // Refuse before touching the database: without a token there is nothing to run.
    settings.telegram.token()?;
    let store = open_store(&settings, clock.as_ref()).await?;
    let app = build_app(store.clone(), settings.bot.clone(), clock)?;
    let result = run_polling(app, &settings.telegram, shutdown).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(result?)
}
