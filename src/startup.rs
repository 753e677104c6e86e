//! Putting the application together: the database, the texts, the clock, and for
//! `pingan run` the bot, the scheduler and the sender.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::app::App;
use crate::bot::intake::Receiver;
use crate::bot::polling::run_bot;
use crate::clock::Clock;
use crate::config::{BotSettings, Settings};
use crate::delivery::instances::Instances;
use crate::delivery::leader::Leadership;
use crate::delivery::scheduler::Scheduler;
use crate::delivery::sender::Sender;
use crate::i18n::Texts;
use crate::store::{self, Store};
use crate::telegram::api::BotApi;
use crate::telegram::breaker::Breaker;
use crate::telegram::outbound::Outbound;
use crate::telegram::rate::RateLimiter;
use crate::telegram::replies::TelegramOutbound;
use crate::telegram::transport::Transport;

/// After the stop signal, how long the scheduler and the sender may take to finish what
/// they hold (the bot's own handlers get their grace in `run_bot`, at the same time).
const DRAIN: Duration = Duration::from_secs(3);

/// Opens and migrates the configured database, and loads the shipped tips.
pub async fn open_store(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<Arc<dyn Store>> {
    let url = &settings.database.url;
    let (store, report) =
        store::open(&settings.database).await.with_context(|| format!("cannot open the database {url}"))?;
    for (version, description) in &report.applied_now {
        tracing::info!(version, description, backend = store.backend().name(), "migration applied");
    }
    let rekeyings = [
        ("phone numbers", crate::domain::check::PHONE_KEY_RULES, report.rekeyed_phones),
        ("links", crate::domain::check::LINK_KEY_RULES, report.rekeyed_links),
    ];
    for (what, rules, rekeyed) in rekeyings {
        if rekeyed != store::Rekeyed::default() {
            tracing::info!(
                indicators = rekeyed.indicators,
                merged = rekeyed.merged,
                report_subjects = rekeyed.report_subjects,
                unreadable = rekeyed.unreadable,
                rules,
                "stored {what} re-keyed"
            );
        }
    }
    if let Some(reindexed) = report.reindexed {
        tracing::info!(
            notices = reindexed.notices,
            tips = reindexed.tips,
            rules = crate::domain::hanzi::SEARCH_TOKEN_RULES,
            "search index built under new token rules"
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

/// The shared state handlers see, over an open store. `bot` may differ from the
/// settings' (the console adds its user to the owners).
pub fn build_app(
    store: Arc<dyn Store>,
    settings: &Settings,
    bot: BotSettings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<App>> {
    let texts = Texts::load().context("the built-in locale files are broken")?;
    crate::domain::check::warm_up();
    crate::domain::hanzi::warm_up();
    Ok(Arc::new(App::new(store, texts, clock, bot, settings.delivery.clone(), settings.retention)))
}

/// Binds `address` (or says which setting named it) and serves `router` until the stop.
async fn serve_http(
    background: &mut JoinSet<()>,
    stopped: &watch::Receiver<bool>,
    address: std::net::SocketAddr,
    key: &str,
    what: &str,
    router: axum::Router,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot serve HTTP on {address} ({key})"))?;
    tracing::info!(%address, "serving {what}");
    let mut stop = stopped.clone();
    background.spawn(async move {
        let stop = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        if let Err(e) = crate::http::serve(listener, router, stop).await {
            tracing::error!(error = %e, "an HTTP server stopped");
        }
    });
    Ok(())
}

/// The bot's @username, from Telegram's `getMe`; `None` (broadcasts then carry no links)
/// when Telegram does not answer: the bot's own connection, which follows, says why.
async fn bot_username(api: &BotApi, token: &crate::config::BotToken) -> Option<String> {
    match api.call::<serde_json::Value>("getMe", &serde_json::json!({})).await {
        Ok(me) => me["username"].as_str().map(str::to_owned),
        Err(e) => {
            let error = token.mask_in(&e.to_string());
            tracing::debug!(%error, "getMe failed; broadcasts carry no links into the bot");
            None
        }
    }
}

/// `pingan run`: answer updates, publish and deliver, until `shutdown` completes.
pub async fn run(
    settings: Settings,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    // Refuse before touching the database: without a token there is nothing to run.
    let token = settings.telegram.token()?.clone();
    let store = open_store(&settings, clock.as_ref()).await?;
    let app = build_app(store.clone(), &settings, settings.bot.clone(), clock.clone())?;
    let api = BotApi::new(settings.telegram.api_url.expose(), &token, settings.telegram.request_timeout)
        .context("cannot set up the Bot API client")?;
    // Broadcasts link each notice into the bot, by its @username.
    let mut bot = settings.bot.clone();
    bot.username = bot_username(&api, &token).await;
    let limiter = RateLimiter::new(settings.delivery.pacing());
    let transport = Arc::new(Transport::new(
        api,
        limiter.clone(),
        Breaker::new(clock.clone(), app.metrics.clone()),
        app.metrics.clone(),
    ));
    // Unique per process start, even for a restarted container whose process is pid 1 again:
    // a sender never takes back rows its own id holds, so an id must never come back.
    let worker = format!("pid{}-{:016x}", std::process::id(), fastrand::u64(..));
    // Every instance sends at its share of the rate, and replies and broadcasts share each
    // chat's turns among instances (see `delivery::instances`).
    let instances = Arc::new(Instances::new(store.clone(), worker.clone(), limiter, &settings.delivery));
    let replies = TelegramOutbound::new(transport.clone(), app.metrics.clone());
    replies.share_turns(instances.clone());
    let outbound: Arc<dyn Outbound> = Arc::new(replies);

    let (stop, stopped) = watch::channel(false);
    let work = Arc::new(Notify::new());
    let scheduler = Scheduler::new(
        store.clone(),
        clock.clone(),
        app.texts.clone(),
        bot,
        settings.delivery.clone(),
        settings.retention,
        work.clone(),
    );
    // The scheduler runs in one instance at a time (see `delivery::leader`).
    let leadership = Arc::new(Leadership::new(store.clone(), worker.clone()));
    let ready = instances.ready();
    let sender = Arc::new(Sender::new(
        store.clone(),
        transport,
        clock.clone(),
        settings.delivery.clone(),
        worker.clone(),
        app.metrics.clone(),
        instances.clone(),
    ));
    // Updates come into the inbox by webhook (a route of the HTTP server) or by polling.
    let receiver = Receiver::new(app.clone(), outbound.clone());
    let webhook = settings
        .telegram
        .webhook
        .clone()
        .map(|settings| crate::http::Webhook { settings, receiver: receiver.clone() });
    let mut background = JoinSet::new();
    let metrics_apart = settings.http.metrics_listen.is_some();
    if let Some(address) = settings.http.listen {
        let what = match (metrics_apart, &webhook) {
            (true, None) => "/healthz and /api",
            (false, None) => "/healthz, /metrics and /api",
            (true, Some(_)) => "/healthz, /api and the webhook",
            (false, Some(_)) => "/healthz, /metrics, /api and the webhook",
        };
        let placement = if metrics_apart { crate::http::Metrics::Apart } else { crate::http::Metrics::Here };
        let router = crate::http::router(app.clone(), placement, webhook);
        serve_http(&mut background, &stopped, address, "http.listen, PINGAN_HTTP_LISTEN", what, router)
            .await?;
    }
    if let Some(address) = settings.http.metrics_listen {
        let router = crate::http::metrics_router(app.clone());
        let key = "http.metrics_listen, PINGAN_HTTP_METRICS_LISTEN";
        serve_http(&mut background, &stopped, address, key, "/metrics", router).await?;
    }
    background.spawn(instances.run(stopped.clone()));
    background.spawn(leadership.clone().run(stopped.clone()));
    background.spawn(scheduler.run(leadership, stopped.clone()));
    if !settings.cap.feeds.is_empty() {
        let poller = crate::feeds::FeedPoller::new(
            store.clone(),
            clock.clone(),
            app.texts.clone(),
            settings.bot.time_zone,
            settings.bot.cap_sender.clone(),
            settings.cap.trusted_senders.clone(),
            settings.cap.feed_timeout,
        )?
        .with_districts(settings.bot.districts.clone());
        tracing::info!(feeds = settings.cap.feeds.len(), "polling CAP feeds");
        background.spawn(std::sync::Arc::new(poller).run(settings.cap.feeds.clone(), stopped.clone()));
    }
    background.spawn(sender.run(work, ready, stopped));

    let shutdown = async {
        shutdown.await;
        stop.send_replace(true);
    };
    let lease = settings.delivery.lease;
    let result = run_bot(app, &settings.telegram, receiver, worker, lease, shutdown).await;
    stop.send_replace(true);
    let drained =
        tokio::time::timeout(DRAIN, async { while background.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(drain = ?DRAIN, "sends still in flight at exit; their leases will bring them back");
        background.abort_all();
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(result?)
}

/// glibc gives threads that allocate at the same time arenas of their own, up to eight per
/// core, and each keeps the memory freed in it. Pingan's threads (tokio's, and one per
/// SQLite connection) mostly wait, so two arenas are enough: under a burst of 20 000
/// updates (`cargo bench --bench load`, BENCHMARKS.md) the peak resident set fell from
/// about 45.5 to 41 MiB. (mimalloc, tried instead, doubled the peak.)
/// `MALLOC_ARENA_MAX` in the environment still decides if it is set. Call it first in
/// `main`, before any other thread (the binary and the fanout and digests benchmarks do).
pub fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of glibc's allocator.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
