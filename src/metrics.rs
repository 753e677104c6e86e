//! Counters for `/metrics`, in Prometheus's text format: updates handled and shed,
//! commands by name, sends by traffic and outcome and their latency, claims lost, and
//! whether Telegram has paused the bot. Plain atomics: recording costs a few nanoseconds on
//! the hot path and needs no lock.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::bot::command::COMMANDS;

/// How a request to Telegram ended, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    RateLimited,
    Transient,
    Gone,
    Moved,
    Rejected,
    /// A chat-level refusal: a closed topic, rights taken away, a topic that is gone.
    ChatPaused,
    /// A fault of the whole bot (401, 404, not Telegram's JSON).
    SystemFault,
}

impl SendOutcome {
    const ALL: [SendOutcome; 8] = [
        SendOutcome::Sent,
        SendOutcome::RateLimited,
        SendOutcome::Transient,
        SendOutcome::Gone,
        SendOutcome::Moved,
        SendOutcome::Rejected,
        SendOutcome::ChatPaused,
        SendOutcome::SystemFault,
    ];

    fn label(self) -> &'static str {
        match self {
            SendOutcome::Sent => "sent",
            SendOutcome::RateLimited => "rate_limited",
            SendOutcome::Transient => "transient",
            SendOutcome::Gone => "gone",
            SendOutcome::Moved => "moved",
            SendOutcome::Rejected => "rejected",
            SendOutcome::ChatPaused => "chat_paused",
            SendOutcome::SystemFault => "system_fault",
        }
    }
}

/// Which traffic a request to Telegram belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// Replies, edits, photos and button answers to what users do.
    Reply,
    /// Deliveries from the outbox.
    Broadcast,
}

impl Traffic {
    const ALL: [Traffic; 2] = [Traffic::Reply, Traffic::Broadcast];

    fn label(self) -> &'static str {
        match self {
            Traffic::Reply => "reply",
            Traffic::Broadcast => "broadcast",
        }
    }
}

/// Something shed or refused on purpose, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shed {
    /// An update dropped because its chat's queue was full.
    UpdateOverflow,
    /// A command past its sender's or chat's budget.
    OverBudget,
    /// A reply dropped because its chat's reply queue was full, or given up after retries.
    Reply,
    /// A delivery whose claim another sender took over (its lease ran out).
    LostClaim,
    /// A handler that panicked (answered with the generic apology).
    Panic,
    /// A CAP alert's photo Telegram refused (its text was sent without it).
    PhotoRefused,
}

impl Shed {
    const ALL: [Shed; 6] = [
        Shed::UpdateOverflow,
        Shed::OverBudget,
        Shed::Reply,
        Shed::LostClaim,
        Shed::Panic,
        Shed::PhotoRefused,
    ];

    fn label(self) -> &'static str {
        match self {
            Shed::UpdateOverflow => "update_overflow",
            Shed::OverBudget => "over_budget",
            Shed::Reply => "reply",
            Shed::LostClaim => "lost_claim",
            Shed::Panic => "panic",
            Shed::PhotoRefused => "photo_refused",
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
    /// By traffic, then by outcome.
    sends: [[AtomicU64; 8]; 2],
    shed: [AtomicU64; Shed::ALL.len()],
    system_faults: AtomicU64,
    /// Why Telegram refuses the bot, while it does.
    paused: Mutex<Option<String>>,
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
            shed: Default::default(),
            system_faults: AtomicU64::new(0),
            paused: Mutex::new(None),
            latency_buckets: Default::default(),
            latency_count: AtomicU64::new(0),
            latency_sum_micros: AtomicU64::new(0),
        }
    }
}

/// Values read at scrape time from the database.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    pub outbox_pending: u64,
    pub outbox_sending: u64,
    pub subscribers_active: u64,
    /// Every CAP feed polled so far (`cap.feeds`).
    pub feeds: Vec<crate::store::FeedState>,
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

    /// A request answered (or not) after `latency`.
    pub fn send(&self, traffic: Traffic, outcome: SendOutcome, latency: Duration) {
        let index = SendOutcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.sends[traffic as usize][index].fetch_add(1, Ordering::Relaxed);
        let seconds = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn shed(&self, what: Shed) {
        self.shed[what as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// How many requests of `traffic` ended with `outcome` so far.
    pub fn sends_of(&self, traffic: Traffic, outcome: SendOutcome) -> u64 {
        let index = SendOutcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.sends[traffic as usize][index].load(Ordering::Relaxed)
    }

    pub fn shed_count(&self, what: Shed) -> u64 {
        self.shed[what as usize].load(Ordering::Relaxed)
    }

    /// A fault of the whole bot began (the circuit breaker opened).
    pub fn system_fault(&self) {
        self.system_faults.fetch_add(1, Ordering::Relaxed);
    }

    /// Telegram refuses the bot for `reason`, or (`None`) answers normally again.
    pub fn telegram_paused(&self, reason: Option<&str>) {
        *self.paused.lock().unwrap_or_else(|p| p.into_inner()) = reason.map(str::to_owned);
    }

    /// Why sending is paused, if it is: what `/healthz` reports.
    pub fn paused_reason(&self) -> Option<String> {
        self.paused.lock().unwrap_or_else(|p| p.into_inner()).clone()
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
        family(&mut out, "pingan_sends_total", "counter", "Requests to Telegram, by traffic and outcome.");
        for (traffic, counters) in Traffic::ALL.iter().zip(&self.sends) {
            for (outcome, counter) in SendOutcome::ALL.iter().zip(counters) {
                let (traffic, outcome) = (traffic.label(), outcome.label());
                let _ = writeln!(
                    out,
                    "pingan_sends_total{{traffic=\"{traffic}\",outcome=\"{outcome}\"}} {}",
                    get(counter)
                );
            }
        }
        family(&mut out, "pingan_shed_total", "counter", "Work shed or refused on purpose, by kind.");
        for (what, counter) in Shed::ALL.iter().zip(&self.shed) {
            let _ = writeln!(out, "pingan_shed_total{{kind=\"{}\"}} {}", what.label(), get(counter));
        }
        family(
            &mut out,
            "pingan_system_faults_total",
            "counter",
            "Times Telegram began refusing the bot itself.",
        );
        let _ = writeln!(out, "pingan_system_faults_total {}", get(&self.system_faults));
        family(
            &mut out,
            "pingan_telegram_paused",
            "gauge",
            "1 while sending is paused by a fault of the whole bot.",
        );
        let _ = writeln!(out, "pingan_telegram_paused {}", u8::from(self.paused_reason().is_some()));
        family(
            &mut out,
            "pingan_send_latency_seconds",
            "histogram",
            "Time Telegram took to answer a request.",
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
        render_feeds(&mut out, &gauges.feeds);
        out
    }
}

/// The CAP feeds' families, one series per feed (names are ASCII letters, digits, `-`
/// and `_`, so they need no escaping as label values).
fn render_feeds(out: &mut String, feeds: &[crate::store::FeedState]) {
    if feeds.is_empty() {
        return;
    }
    type Value = fn(&crate::store::FeedState) -> i64;
    let families: [(&str, &str, &str, Value); 6] = [
        ("pingan_feed_polls_total", "counter", "Polls of each CAP feed.", |f| f.polls),
        (
            "pingan_feed_alerts_imported_total",
            "counter",
            "Notices each CAP feed created, corrected or withdrew.",
            |f| f.alerts_imported,
        ),
        ("pingan_feed_failures", "gauge", "Failed polls of each CAP feed since its last success.", |f| {
            f.failures
        }),
        (
            "pingan_feed_last_success_timestamp_seconds",
            "gauge",
            "When each CAP feed last answered and was read in full (Unix time; 0: never).",
            |f| f.last_success_at.map_or(0, |at| at.timestamp()),
        ),
        (
            "pingan_feed_last_error_timestamp_seconds",
            "gauge",
            "When a poll of each CAP feed last failed (Unix time; 0: never).",
            |f| f.last_error_at.map_or(0, |at| at.timestamp()),
        ),
        (
            "pingan_feed_next_poll_timestamp_seconds",
            "gauge",
            "When each CAP feed is due again (Unix time).",
            |f| f.next_poll_at.timestamp(),
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for feed in feeds {
            let _ = writeln!(out, "{name}{{feed=\"{}\"}} {}", feed.name, value(feed));
        }
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
        metrics.send(Traffic::Broadcast, SendOutcome::Sent, Duration::from_millis(30));
        metrics.send(Traffic::Broadcast, SendOutcome::Gone, Duration::from_millis(300));
        metrics.shed(Shed::OverBudget);
        let text = metrics.render(Gauges {
            outbox_pending: 7,
            outbox_sending: 1,
            subscribers_active: 3,
            feeds: vec![],
        });
        assert!(text.contains("pingan_updates_total 1\n"));
        assert!(text.contains("pingan_commands_total{command=\"help\"} 1\n"));
        assert!(text.contains("pingan_commands_total{command=\"unknown\"} 1\n"));
        assert!(text.contains("pingan_sends_total{traffic=\"broadcast\",outcome=\"gone\"} 1\n"));
        assert!(text.contains("pingan_sends_total{traffic=\"reply\",outcome=\"gone\"} 0\n"));
        assert!(text.contains("pingan_shed_total{kind=\"over_budget\"} 1\n"));
        assert!(text.contains("pingan_telegram_paused 0\n"));
        assert!(text.contains("pingan_send_latency_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(text.contains("pingan_send_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("pingan_outbox_depth{state=\"pending\"} 7\n"));
        assert!(text.contains("# TYPE pingan_send_latency_seconds histogram\n"));
    }
}
