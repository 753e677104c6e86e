//! `pingan feeds`: the CAP feeds `pingan run` polls (`cap.feeds`), how each is doing, and
//! polling them now.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Args, Subcommand};

use crate::clock::Clock;
use crate::config::{FeedSettings, Settings};
use crate::feeds::{FeedPoller, PollReport};
use crate::i18n::Texts;
use crate::startup;
use crate::store::FeedState;

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Each configured feed: when it was last polled, last answered, last failed and why,
    /// when it is due again, and how many notices it created, corrected or withdrew
    Status,
    /// Poll feeds now, whether due or not (unless another instance is polling one), in
    /// full (asking unconditionally, reading every entry not yet read under the feed's
    /// current senders), and say what each imported; exits 1 if any failed
    Poll(PollArgs),
}

#[derive(Debug, Args)]
pub struct PollArgs {
    /// Poll only the feed of this name (default: every configured feed)
    name: Option<String>,
}

pub async fn run(command: FeedsCommand, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let feeds = &settings.cap.feeds;
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let result = match command {
        FeedsCommand::Status => store.feed_states().await.map_err(Into::into).map(|states| {
            print_status(feeds, &states, settings.bot.time_zone, clock.now());
        }),
        FeedsCommand::Poll(args) => poll(args, settings, store.clone(), clock).await,
    };
    store.close().await;
    result
}

async fn poll(
    args: PollArgs,
    settings: &Settings,
    store: Arc<dyn crate::store::Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let feeds: Vec<&FeedSettings> =
        settings.cap.feeds.iter().filter(|f| args.name.as_ref().is_none_or(|n| *n == f.name)).collect();
    if feeds.is_empty() {
        match &args.name {
            Some(name) => {
                anyhow::bail!("no feed is named {name:?} in cap.feeds (`pingan feeds status` lists them)")
            }
            None => anyhow::bail!("cap.feeds lists no feeds (see config/default.toml)"),
        }
    }
    let poller = FeedPoller::new(
        store,
        clock,
        Texts::load()?,
        settings.bot.time_zone,
        settings.bot.cap_sender.clone(),
        settings.cap.trusted_senders.clone(),
        settings.cap.feed_timeout,
    )?
    .with_districts(settings.bot.districts.clone());
    let mut failed = 0;
    for feed in feeds {
        match poller.poll(feed, true).await? {
            None => println!("{}: another instance is polling it now", feed.name),
            Some(report) => {
                failed += usize::from(!report.errors.is_empty());
                print_report(&feed.name, &report);
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{} failed (see above)", crate::i18n::english_count(failed, "feed", "feeds"));
    }
    Ok(())
}

fn print_report(name: &str, report: &PollReport) {
    if report.not_modified {
        println!("{name}: not modified");
    } else {
        println!(
            "{name}: {} read; {} created, {} corrected, {} withdrawn, {} refused",
            crate::i18n::english_count(report.documents, "document", "documents"),
            report.created,
            report.corrected,
            report.retracted,
            report.refused.len()
        );
    }
    for line in &report.skipped {
        println!("  skipped: {line}");
    }
    for line in &report.warnings {
        println!("  warning: {line}");
    }
    for line in &report.refused {
        println!("  refused: {line}");
    }
    for line in &report.errors {
        println!("  error: {line}");
    }
}

fn print_status(feeds: &[FeedSettings], states: &[FeedState], zone: Tz, now: DateTime<Utc>) {
    if feeds.is_empty() && states.is_empty() {
        println!("No CAP feeds: cap.feeds lists none (see config/default.toml).");
        return;
    }
    let when = |at: Option<DateTime<Utc>>| match at {
        Some(at) => at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S").to_string(),
        None => "never".to_owned(),
    };
    for feed in feeds {
        println!("{}  {}  every {} s", feed.name, feed.shown_url(), feed.interval.as_secs());
        let Some(state) = states.iter().find(|s| s.name == feed.name) else {
            println!("  not polled yet");
            continue;
        };
        let due = if state.next_poll_at <= now { "now".to_owned() } else { when(Some(state.next_poll_at)) };
        println!(
            "  last poll {}, last success {}, next {due}",
            when(state.last_polled_at),
            when(state.last_success_at)
        );
        println!(
            "  {}, {} not modified; {} created, corrected or withdrawn",
            crate::i18n::english_count(state.polls as usize, "poll", "polls"),
            state.not_modified,
            crate::i18n::english_count(state.alerts_imported as usize, "notice", "notices")
        );
        if let Some(error) = &state.last_error {
            let streak = match state.failures {
                0 => "since succeeded".to_owned(),
                n => format!("{} in a row", crate::i18n::english_count(n as usize, "failure", "failures")),
            };
            println!("  last error {} ({streak}): {error}", when(state.last_error_at));
        }
    }
    for state in states.iter().filter(|s| !feeds.iter().any(|f| f.name == s.name)) {
        println!(
            "{}  {}  no longer in cap.feeds; last success {}",
            state.name,
            url::Url::parse(&state.url).map_or_else(
                |_| "(an unreadable URL)".to_owned(),
                |mut url| {
                    url.set_query(None);
                    let _ = url.set_password(None);
                    url.to_string()
                }
            ),
            when(state.last_success_at)
        );
    }
}
