//! Counters for `/metrics`, in Prometheus's text format: updates handled, commands by
//! name, broadcast sends by outcome and their latency. Plain atomics: recording costs a
//! few nanoseconds on the hot path and needs no lock.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::bot::command::COMMANDS;

/// How a broadcast send ended, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    RateLimited,
    Transient,
    Gone,
    Moved,
    Rejected,
}

impl SendOutcome {
    const ALL: [SendOutcome; 6] = [
        SendOutcome::Sent,
        SendOutcome::RateLimited,
        SendOutcome::Transient,
        SendOutcome::Gone,
        SendOutcome::Moved,
        SendOutcome::Rejected,
    ];

    fn label(self) -> &'static str {
        match self {
            SendOutcome::Sent => "sent",
            SendOutcome::RateLimited => "rate_limited",
            SendOutcome::Transient => "transient",
            SendOutcome::Gone => "gone",
            SendOutcome::Moved => "moved",
            SendOutcome::Rejected => "rejected",
        }
    }
}

/// Upper bounds of the send-latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug)]
pub struct Metrics {
    updates: AtomicU64,
    /// One counter per command in [`COMMANDS`], then one for unknown commands.
    commands: Vec<AtomicU64>,
    sends: [AtomicU64; 6],
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            updates: AtomicU64::new(0),
            commands: (0..=COMMANDS.len()).map(|_| AtomicU64::new(0)).collect(),
            sends: Default::default(),
            latency_buckets: Default::default(),
            latency_count: AtomicU64::new(0),
            latency_sum_micros: AtomicU64::new(0),
        }
    }
}

/// Values read at scrape time from the database.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    pub outbox_pending: u64,
    pub outbox_sending: u64,
    pub subscribers_active: u64,
}

impl Metrics {
    pub fn update(&self) {
        self.updates.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a command by name; unknown names count together.
    pub fn command(&self, name: &str) {
        let index = COMMANDS.iter().position(|c| c.name == name).unwrap_or(COMMANDS.len());
        self.commands[index].fetch_add(1, Ordering::Relaxed);
    }

    pub fn send(&self, outcome: SendOutcome, latency: Duration) {
        let index = SendOutcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.sends[index].fetch_add(1, Ordering::Relaxed);
        let seconds = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let family = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(&mut out, "pingan_updates_total", "counter", "Telegram updates handled.");
        let _ = writeln!(out, "pingan_updates_total {}", get(&self.updates));
        family(&mut out, "pingan_commands_total", "counter", "Commands handled, by command.");
        for (spec, counter) in COMMANDS.iter().zip(&self.commands) {
            let _ = writeln!(out, "pingan_commands_total{{command=\"{}\"}} {}", spec.name, get(counter));
        }
        let _ = writeln!(
            out,
            "pingan_commands_total{{command=\"unknown\"}} {}",
            get(&self.commands[COMMANDS.len()])
        );
        family(&mut out, "pingan_sends_total", "counter", "Broadcast sends to Telegram, by outcome.");
        for (outcome, counter) in SendOutcome::ALL.iter().zip(&self.sends) {
            let _ = writeln!(out, "pingan_sends_total{{outcome=\"{}\"}} {}", outcome.label(), get(counter));
        }
        family(
            &mut out,
            "pingan_send_latency_seconds",
            "histogram",
            "Time Telegram took to answer a broadcast send.",
        );
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(out, "pingan_send_latency_seconds_bucket{{le=\"{bound}\"}} {}", get(bucket));
        }
        let count = get(&self.latency_count);
        let _ = writeln!(out, "pingan_send_latency_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ =
            writeln!(out, "pingan_send_latency_seconds_sum {}", get(&self.latency_sum_micros) as f64 / 1e6);
        let _ = writeln!(out, "pingan_send_latency_seconds_count {count}");
        family(&mut out, "pingan_outbox_depth", "gauge", "Deliveries waiting in the outbox, by state.");
        let _ = writeln!(out, "pingan_outbox_depth{{state=\"pending\"}} {}", gauges.outbox_pending);
        let _ = writeln!(out, "pingan_outbox_depth{{state=\"sending\"}} {}", gauges.outbox_sending);
        family(&mut out, "pingan_subscribers_active", "gauge", "Active subscriptions.");
        let _ = writeln!(out, "pingan_subscribers_active {}", gauges.subscribers_active);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_format() {
        let metrics = Metrics::default();
        metrics.update();
        metrics.command("help");
        metrics.command("nonsense");
        metrics.send(SendOutcome::Sent, Duration::from_millis(30));
        metrics.send(SendOutcome::Gone, Duration::from_millis(300));
        let text = metrics.render(Gauges { outbox_pending: 7, outbox_sending: 1, subscribers_active: 3 });
        assert!(text.contains("pingan_updates_total 1\n"));
        assert!(text.contains("pingan_commands_total{command=\"help\"} 1\n"));
        assert!(text.contains("pingan_commands_total{command=\"unknown\"} 1\n"));
        assert!(text.contains("pingan_sends_total{outcome=\"gone\"} 1\n"));
        assert!(text.contains("pingan_send_latency_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(text.contains("pingan_send_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("pingan_outbox_depth{state=\"pending\"} 7\n"));
        assert!(text.contains("# TYPE pingan_send_latency_seconds histogram\n"));
    }
}
