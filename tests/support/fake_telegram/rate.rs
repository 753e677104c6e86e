//! The send rate as the fake saw it: Telegram counts the messages it receives, so a limit
//! held by the senders is checked here, over the times the fake answered each request.

use std::time::Duration;

use tokio::time::Instant;

use super::FakeTelegram;
use super::state::Call;

/// Methods that send or change a message, which Telegram's flood limits count.
pub const MESSAGE_METHODS: [&str; 4] = ["sendMessage", "sendPhoto", "editMessageText", "copyMessage"];

/// How a run of requests used its rate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RateWindows {
    /// Requests counted.
    pub count: usize,
    /// The most requests within any one second: a window opening at each request (so
    /// every window that holds the most is seen).
    pub busiest: usize,
    /// Where the first window holding the most opens.
    pub busiest_from: Option<Instant>,
    /// Requests in each whole second counted from the first.
    pub per_second: Vec<usize>,
    /// From the first request to the last, in seconds.
    pub span_secs: f64,
}

impl RateWindows {
    /// The windows over `times` (in any order).
    pub fn of(times: &[Instant]) -> RateWindows {
        let mut times = times.to_vec();
        times.sort();
        let second = Duration::from_secs(1);
        let (mut busiest, mut busiest_from) = (0, None);
        let mut end = 0;
        for (start, at) in times.iter().enumerate() {
            end = end.max(start);
            while end < times.len() && times[end].duration_since(*at) < second {
                end += 1;
            }
            if end - start > busiest {
                (busiest, busiest_from) = (end - start, Some(*at));
            }
        }
        let mut per_second = Vec::new();
        if let Some(first) = times.first() {
            for t in &times {
                let s = t.duration_since(*first).as_secs() as usize;
                if per_second.len() <= s {
                    per_second.resize(s + 1, 0);
                }
                per_second[s] += 1;
            }
        }
        let span_secs = match (times.first(), times.last()) {
            (Some(first), Some(last)) => last.duration_since(*first).as_secs_f64(),
            _ => 0.0,
        };
        RateWindows { count: times.len(), busiest, busiest_from, per_second, span_secs }
    }

    /// Requests a second from the first to the last (0 for fewer than two).
    pub fn mean_per_second(&self) -> f64 {
        if self.count < 2 || self.span_secs == 0.0 { 0.0 } else { (self.count - 1) as f64 / self.span_secs }
    }
}

impl FakeTelegram {
    /// Every request that sends or changes a message ([`MESSAGE_METHODS`]), whatever it was
    /// answered (a 429 too: it was sent all the same), in the order answered.
    pub fn message_calls(&self) -> Vec<Call> {
        let state = self.shared.lock();
        let counted = |c: &&Call| MESSAGE_METHODS.iter().any(|m| c.method.eq_ignore_ascii_case(m));
        state.calls.iter().filter(counted).cloned().collect()
    }

    /// The rate windows of [`FakeTelegram::message_calls`].
    pub fn message_rate(&self) -> RateWindows {
        let times: Vec<Instant> = self.message_calls().iter().map(|c| c.at).collect();
        RateWindows::of(&times)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busiest_second_slides_over_every_start() {
        let zero = Instant::now();
        let at = |ms: u64| zero + Duration::from_millis(ms);
        // Three in each whole second, but four within one second from 0.5 s (and from 0.9 s).
        let times = [at(0), at(500), at(900), at(1_000), at(1_400), at(1_500)];
        let windows = RateWindows::of(&times);
        assert_eq!(windows.busiest, 4);
        assert_eq!(windows.busiest_from, Some(at(500)));
        assert_eq!(windows.per_second, [3, 3]);
        assert_eq!(windows.count, 6);
        assert!((windows.span_secs - 1.5).abs() < 1e-9);
        assert_eq!(RateWindows::of(&[]).busiest, 0);
    }
}
