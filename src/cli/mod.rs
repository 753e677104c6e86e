//! The `pingan` command line.

mod admin;
mod anti_fraud;
mod console;
mod deliveries;
mod feeds;
mod healthcheck;
pub mod migrate_data;
mod notices;
mod tips;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::{Loaded, Settings};
use crate::startup;

#[derive(Debug, Parser)]
#[command(
    name = "pingan",
    version,
    about = "Pingan (平安): the public-security bureau's Telegram bot for notices, anti-fraud tips and alerts",
    long_about = "Pingan (平安): the public-security bureau's Telegram bot for notices, anti-fraud \
                  tips and alerts.\n\nSettings come from config/default.toml (built in), then \
                  config/local.toml or --config FILE, then the environment: TELOXIDE_TOKEN, \
                  TELOXIDE_API_URL, DATABASE_URL, RUST_LOG and PINGAN_*. `pingan config` shows \
                  the result. Without DATABASE_URL, data lives in ./pingan.db."
)]
pub struct Cli {
    /// Read this configuration file instead of config/local.toml
    #[arg(long, global = true, env = "PINGAN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the bot: take updates by long polling (or Telegram's webhook) and answer until SIGTERM or Ctrl-C (needs TELOXIDE_TOKEN)
    Run,
    /// Create or upgrade the database schema, then exit (every other command also does this)
    Migrate,
    /// Copy a SQLite database into PostgreSQL (moving up to several instances), keeping ids, and check every table's count
    #[command(long_about = migrate_data::LONG_ABOUT)]
    MigrateData(migrate_data::MigrateDataArgs),
    /// Chat with the bot in this terminal or through a pipe, without Telegram
    Console(console::ConsoleArgs),
    /// Print the effective settings, secrets masked, and where each came from
    Config,
    /// Add, list, withdraw, import and export notices
    #[command(subcommand)]
    Notices(notices::NoticesCommand),
    /// The anti-fraud tips library: export it to a file, edit it, import it back
    #[command(subcommand)]
    Tips(tips::TipsCommand),
    /// The bureau's list of fraud phone numbers, sites and accounts that /check answers from
    #[command(subcommand)]
    Indicators(anti_fraud::IndicatorsCommand),
    /// The bureau's anti-fraud figures that /stats shows
    #[command(subcommand)]
    Stats(anti_fraud::StatsCommand),
    /// Load sample notices (Chinese and English) and the first published anti-fraud figures to try Pingan with; running it again adds nothing
    DemoData,
    /// Show each fan-out (alert, channel post, digest run): queued, sent, failed, gone, and when it should finish; and the subscriptions paused because Telegram will not let the bot post there
    Deliveries(deliveries::DeliveriesArgs),
    /// The CAP feeds `pingan run` polls (cap.feeds): their status, or a poll now
    #[command(subcommand)]
    Feeds(feeds::FeedsCommand),
    /// Roles (owner, editor, moderator) and HTTP API tokens
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The audit log, newest first: who published, corrected, retracted, granted or imported what
    Audit(admin::AuditArgs),
    /// Ask the running bot's /healthz; exit 0 when it answers 200 (for HEALTHCHECK and monitors)
    Healthcheck(healthcheck::HealthcheckArgs),
}

/// Runs the command line and turns any failure into one line on standard error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match Loaded::from_environment(cli.config.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e.into(), ExitCode::from(2)),
    };
    let quiet = !matches!(cli.command, Command::Run | Command::Migrate);
    crate::telemetry::init(&loaded.settings.log, quiet);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(&anyhow::Error::new(e).context("cannot start the async runtime"), ExitCode::FAILURE);
        }
    };
    match runtime.block_on(execute(cli.command, loaded)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = if e.is::<crate::config::ConfigError>() { 2 } else { 1 };
            fail(&e, ExitCode::from(code))
        }
    }
}

fn fail(error: &anyhow::Error, code: ExitCode) -> ExitCode {
    eprintln!("pingan: {error:#}");
    code
}

async fn execute(command: Command, loaded: Loaded) -> anyhow::Result<()> {
    let clock = Arc::new(SystemClock);
    match command {
        Command::Run => startup::run(loaded.settings, clock, stop_signal()).await,
        Command::Migrate => migrate(&loaded.settings).await,
        Command::MigrateData(args) => migrate_data::run(args, &loaded.settings).await,
        Command::Console(args) => console::run(args, loaded.settings, clock).await,
        Command::Config => {
            print!("{}", loaded.describe());
            Ok(())
        }
        Command::Notices(command) => notices::run(command, &loaded.settings, clock).await,
        Command::Tips(command) => tips::run(command, &loaded.settings, clock).await,
        Command::Indicators(command) => anti_fraud::indicators(command, &loaded.settings, clock).await,
        Command::Stats(command) => anti_fraud::stats(command, &loaded.settings, clock).await,
        Command::DemoData => demo_data(&loaded.settings, clock.as_ref()).await,
        Command::Deliveries(args) => deliveries::run(args, &loaded.settings, clock).await,
        Command::Feeds(command) => feeds::run(command, &loaded.settings, clock).await,
        Command::Admin(command) => admin::run(command, &loaded.settings, clock).await,
        Command::Audit(args) => admin::audit(args, &loaded.settings, clock).await,
        Command::Healthcheck(args) => healthcheck::run(args, &loaded.settings).await,
    }
}

async fn demo_data(settings: &Settings, clock: &dyn crate::clock::Clock) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock).await?;
    let result = async {
        let (added, present) = crate::content::demo::load_demo_notices(store.as_ref(), clock.now()).await?;
        println!("Demo notices: {added} added, {present} already present.");
        let figures = crate::content::figures::demo()?;
        store.put_figures(&figures, clock.now()).await?;
        println!("Demo figures: {} stored (January to October 2023).", figures.len());
        if settings.bot.districts.is_empty() {
            println!(
                "Districts: none configured; the demo's are in locales/demo-districts.toml \
                 (pingan --config locales/demo-districts.toml run)."
            );
        } else {
            let names: Vec<&str> = settings.bot.districts.all().iter().map(|d| d.name_zh.as_str()).collect();
            println!("Districts: {}.", names.join(", "));
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    result
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = &settings.database.url;
    let store = crate::store::connect(&settings.database)
        .await
        .with_context(|| format!("cannot open the database {url}"))?;
    let report = store.migrate().await.with_context(|| format!("cannot migrate the database {url}"))?;
    for (version, description) in &report.applied_now {
        println!("applied migration {version} ({description})");
    }
    let rekeyings = [
        ("phone numbers", "numbers", crate::domain::check::PHONE_KEY_RULES, report.rekeyed_phones),
        ("links", "links", crate::domain::check::LINK_KEY_RULES, report.rekeyed_links),
    ];
    for (what, unreadable, rules, rekeyed) in rekeyings {
        if rekeyed != crate::store::Rekeyed::default() {
            println!(
                "re-keyed stored {what} ({rules}): {} list entries ({} merged), {} report subjects; \
                 {} stored values no longer read as {unreadable} and were kept as they are",
                rekeyed.indicators, rekeyed.merged, rekeyed.report_subjects, rekeyed.unreadable
            );
        }
    }
    if let Some(reindexed) = report.reindexed {
        println!(
            "search index built under the token rules \"{}\": {} notices, {} tips",
            crate::domain::hanzi::SEARCH_TOKEN_RULES,
            reindexed.notices,
            reindexed.tips
        );
    }
    let version = report.version.map_or_else(|| "none".to_owned(), |v| v.to_string());
    println!("{} database {url} is at schema version {version}.", store.backend().name());
    store.close().await;
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn stop_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
