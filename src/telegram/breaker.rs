//! The circuit breaker for faults of the whole bot rather than of one message: 401 (the
//! token was revoked), 404 (a misrouted local Bot API server), other 4xx Telegram does not
//! document, and answers that are not Telegram's JSON. While it is open nothing is sent and
//! the outbox keeps its queue; after a wait (doubling, up to a minute) one request goes
//! through as a probe, and the first answer in Telegram's own terms closes it again.
//!
//! Times come from the application's [`Clock`], so tests can move them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::metrics::Metrics;

/// The first wait before a probe; it doubles with each failed probe.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between probes.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Closed,
    /// Nothing goes before `until`; then one probe.
    Open {
        until: DateTime<Utc>,
        wait: Duration,
        reason: String,
    },
    /// One probe is in flight; everything else waits for its answer.
    Probing {
        wait: Duration,
        reason: String,
    },
}

/// What a request may do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admit {
    Go,
    /// Go, as the one probe: its answer decides.
    Probe,
    /// Do not send before `until`.
    Refuse {
        until: DateTime<Utc>,
        reason: String,
    },
}

#[derive(Debug)]
pub struct Breaker {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

impl Breaker {
    pub fn new(clock: Arc<dyn Clock>, metrics: Arc<Metrics>) -> Breaker {
        Breaker { state: Mutex::new(State::Closed), clock, metrics }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a request may go now.
    pub fn admit(&self) -> Admit {
        let now = self.clock.now();
        let mut state = self.lock();
        match &*state {
            State::Closed => Admit::Go,
            State::Open { until, wait, reason } if *until <= now => {
                *state = State::Probing { wait: *wait, reason: reason.clone() };
                Admit::Probe
            }
            State::Open { until, reason, .. } => Admit::Refuse { until: *until, reason: reason.clone() },
            State::Probing { reason, .. } => {
                Admit::Refuse { until: now + FIRST_WAIT, reason: reason.clone() }
            }
        }
    }

    /// Until when nothing may be sent, if sending is paused: `None` once a probe may go.
    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        let now = self.clock.now();
        match &*self.lock() {
            State::Closed => None,
            State::Open { until, .. } => (*until > now).then_some(*until),
            State::Probing { .. } => Some(now + FIRST_WAIT),
        }
    }

    /// Telegram answered in its own terms (sent, or refused one message): the bot works.
    pub fn healthy(&self) {
        let mut state = self.lock();
        if *state != State::Closed {
            tracing::info!("Telegram answers normally again; sending resumes");
            *state = State::Closed;
            self.metrics.telegram_paused(None);
        }
    }

    /// A fault of the whole bot: open (or stay open, waiting longer after a failed probe).
    pub fn fault(&self, reason: &str) {
        let now = self.clock.now();
        let mut state = self.lock();
        let wait = match &*state {
            State::Closed => {
                tracing::error!(%reason, "Telegram refuses the bot itself; sending paused, queue kept");
                self.metrics.system_fault();
                FIRST_WAIT
            }
            State::Probing { wait, .. } => {
                tracing::debug!(%reason, "probe refused; still paused");
                (*wait * 2).min(LONGEST_WAIT)
            }
            // A request admitted before the breaker opened: the wait stands.
            State::Open { .. } => return,
        };
        let until = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1));
        *state = State::Open { until, wait, reason: reason.to_owned() };
        self.metrics.telegram_paused(Some(reason));
    }

    /// A probe that got no answer at all (a timeout), or was never sent (its turn given up
    /// unused): it neither closes nor reopens; the next request probes again.
    pub fn no_answer(&self) {
        let mut state = self.lock();
        if let State::Probing { wait, reason } = &*state {
            *state = State::Open { until: self.clock.now(), wait: *wait, reason: reason.clone() };
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::clock::ManualClock;

    fn breaker() -> (Breaker, Arc<ManualClock>, Arc<Metrics>) {
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()));
        let metrics = Arc::new(Metrics::default());
        (Breaker::new(clock.clone(), metrics.clone()), clock, metrics)
    }

    #[test]
    fn a_fault_pauses_until_a_probe_answers_normally() {
        let (breaker, clock, metrics) = breaker();
        assert_eq!(breaker.admit(), Admit::Go);
        breaker.fault("Telegram answered 401: Unauthorized");
        assert!(matches!(breaker.admit(), Admit::Refuse { .. }));
        assert!(metrics.paused_reason().is_some());
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(breaker.admit(), Admit::Probe);
        assert!(matches!(breaker.admit(), Admit::Refuse { .. }), "one probe at a time");
        breaker.fault("Telegram answered 401: Unauthorized");
        clock.advance(chrono::Duration::seconds(1));
        assert!(matches!(breaker.admit(), Admit::Refuse { .. }), "the wait doubled");
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(breaker.admit(), Admit::Probe);
        breaker.healthy();
        assert_eq!(breaker.admit(), Admit::Go);
        assert_eq!(metrics.paused_reason(), None);
    }

    #[test]
    fn the_wait_between_probes_stops_growing_at_a_minute() {
        let (breaker, clock, _) = breaker();
        breaker.fault("HTTP 404");
        for _ in 0..20 {
            clock.advance(chrono::Duration::seconds(61));
            assert_eq!(breaker.admit(), Admit::Probe);
            breaker.fault("HTTP 404");
        }
        clock.advance(chrono::Duration::seconds(60));
        assert_eq!(breaker.admit(), Admit::Probe);
    }
}
