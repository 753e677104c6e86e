//! `pingan deliveries`: every fan-out and how far it has come, and the subscriptions
//! paused because Telegram will not let the bot post there.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::Args;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{SubscriberStatus, expected_finish};
use crate::startup;
use crate::store::FanoutProgress;

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    /// Show at most this many fan-outs, newest first
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

pub async fn run(args: DeliveriesArgs, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let fanouts = store.fanout_progress(args.limit).await;
    let paused = store.paused_subscribers(args.limit).await;
    store.close().await;
    let (fanouts, paused) = (fanouts?, paused?);
    let zone: Tz = settings.bot.time_zone;
    print_fanouts(&fanouts, settings, zone, clock.now());
    if !paused.is_empty() {
        println!(
            "\nPaused subscriptions (Telegram will not let the bot post there; they resume when it may):"
        );
        println!("{:>15}  {:<13}  SINCE", "CHAT", "REASON");
        for s in &paused {
            if let SubscriberStatus::Paused { reason, since } = s.status {
                let since = since.with_timezone(&zone).format("%Y-%m-%d %H:%M");
                println!("{:>15}  {:<13}  {since}", s.chat_id.0, reason.as_str());
            }
        }
    }
    Ok(())
}

fn print_fanouts(fanouts: &[FanoutProgress], settings: &Settings, zone: Tz, now: DateTime<Utc>) {
    if fanouts.is_empty() {
        println!("No fan-outs yet.");
        return;
    }
    let rate = f64::from(settings.delivery.effective_rate());
    println!(
        "{:>5}  {:<7}  {:>6}  {:<16}  {:>7}  {:>7}  {:>6}  {:>6}  {:>7}  FINISH",
        "ID", "KIND", "NOTICE", "STARTED", "TOTAL", "SENT", "FAILED", "GONE", "WAITING"
    );
    for f in fanouts {
        let finish = match expected_finish(f.pending + f.sending, rate, now) {
            None => "done".to_owned(),
            Some(at) => format!("~{}", at.with_timezone(&zone).format("%H:%M:%S")),
        };
        println!(
            "{:>5}  {:<7}  {:>6}  {:<16}  {:>7}  {:>7}  {:>6}  {:>6}  {:>7}  {}",
            f.id,
            f.kind.as_str(),
            f.notice_id.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            f.created_at.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
            f.total(),
            f.sent,
            f.failed,
            f.gone,
            f.pending + f.sending,
            finish,
        );
    }
    println!("(times in {zone}; finishing times at {rate} messages a second)");
}
