//! `pingan deliveries`: every fan-out and how far it has come.

use std::sync::Arc;

use chrono_tz::Tz;
use clap::Args;

use crate::clock::Clock;
use crate::config::Settings;
use crate::delivery::progress::expected_finish;
use crate::startup;

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    /// Show at most this many fan-outs, newest first
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

pub async fn run(args: DeliveriesArgs, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let fanouts = store.fanout_progress(args.limit).await;
    store.close().await;
    let fanouts = fanouts?;
    if fanouts.is_empty() {
        println!("No fan-outs yet.");
        return Ok(());
    }
    let zone: Tz = settings.bot.time_zone;
    let rate = f64::from(settings.delivery.effective_rate());
    let now = clock.now();
    println!(
        "{:>5}  {:<7}  {:>6}  {:<16}  {:>7}  {:>7}  {:>6}  {:>6}  {:>7}  FINISH",
        "ID", "KIND", "NOTICE", "STARTED", "TOTAL", "SENT", "FAILED", "GONE", "WAITING"
    );
    for f in &fanouts {
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
    Ok(())
}
