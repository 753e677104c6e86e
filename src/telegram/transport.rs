//! The one send path: every request that puts something in front of a user (replies,
//! edits, photos, button answers, broadcasts) takes its turn here, under the circuit
//! breaker and the rate limiter, and its answer teaches both: a 429 holds the chat, a
//! fault of the whole bot opens the breaker, a normal answer closes it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::api::{ApiError, BotApi, HtmlMessage};
use super::breaker::{Admit, Breaker};
use super::error::SendError;
use super::rate::{Class, RateLimiter};
use crate::domain::ChatId;
use crate::metrics::{Metrics, SendOutcome, Traffic};

/// Why a message may not go now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hold {
    /// Its chat (or, after a flood, every chat) may not be sent to before this.
    Chat { until: tokio::time::Instant },
    /// Sending is paused after a fault of the whole bot, until this moment of the
    /// application's clock.
    Paused { until: DateTime<Utc>, reason: String },
}

/// The right to send one request now: the breaker let it through and the rate limiter gave
/// it a slot.
///
/// A turn may be the breaker's one probe. A probe turn given up without a request (its
/// delivery was withdrawn or its claim lost at the check before the part, or the wait for
/// it was abandoned) tells the breaker so when dropped, and the next request probes
/// instead: otherwise the breaker would wait for an answer that never comes, and nothing
/// would be sent again.
#[derive(Debug)]
#[must_use = "a turn is a slot taken; use it for the request"]
pub struct Turn {
    /// The breaker, while this turn is its probe and no answer has been settled.
    probe: Option<Arc<Breaker>>,
}

impl Turn {
    /// Whether this turn is the probe; from now on the caller reports the answer itself.
    fn settle_probe(&mut self) -> bool {
        self.probe.take().is_some()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(breaker) = self.probe.take() {
            breaker.no_answer();
        }
    }
}

#[derive(Debug)]
pub struct Transport {
    api: BotApi,
    limiter: RateLimiter,
    breaker: Arc<Breaker>,
    metrics: Arc<Metrics>,
}

impl Transport {
    pub fn new(api: BotApi, limiter: RateLimiter, breaker: Breaker, metrics: Arc<Metrics>) -> Transport {
        Transport { api, limiter, breaker: Arc::new(breaker), metrics }
    }

    /// A turn that is the breaker's probe (`probe`) or not.
    fn turn_of(&self, probe: bool) -> Turn {
        Turn { probe: probe.then(|| self.breaker.clone()) }
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Until when sending is paused after a fault of the whole bot, if it is (the
    /// application's clock); `None` once a probe may go.
    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.breaker.paused_until()
    }

    /// Waits for a turn to send to `chat`. With `max_wait`, a chat held longer than that
    /// (by a 429, or a flood of the whole bot) answers [`Hold::Chat`] at once instead.
    pub async fn turn(&self, chat: ChatId, class: Class, max_wait: Option<Duration>) -> Result<Turn, Hold> {
        let turn = match self.breaker.admit() {
            Admit::Go => self.turn_of(false),
            Admit::Probe => self.turn_of(true),
            Admit::Refuse { until, reason } => return Err(Hold::Paused { until, reason }),
        };
        // A probe that does not go (the chat is held, or this wait is abandoned) lets the
        // next request probe instead, as the turn is dropped.
        match self.limiter.acquire(chat, class, max_wait).await {
            Ok(()) => Ok(turn),
            Err(busy) => Err(Hold::Chat { until: busy.until }),
        }
    }

    /// Sends one HTML message in `turn`; returns its Telegram message id.
    pub async fn send_html(
        &self,
        turn: Turn,
        traffic: Traffic,
        message: &HtmlMessage<'_>,
    ) -> Result<i32, SendError> {
        let started = std::time::Instant::now();
        let result = self.api.send_html(message).await;
        self.settle(turn, traffic, message.chat, started, result)
    }

    /// Sends a PNG with an HTML caption in `turn`; returns its Telegram message id.
    pub async fn send_photo(
        &self,
        turn: Turn,
        chat: ChatId,
        thread_id: Option<i32>,
        png: Vec<u8>,
        caption: &str,
    ) -> Result<i32, SendError> {
        let started = std::time::Instant::now();
        let result = self.api.send_photo(chat, thread_id, png, caption).await;
        self.settle(turn, Traffic::Reply, chat, started, result)
    }

    /// Sends a photo (by URL or uploaded) in `turn`; returns its Telegram message id.
    pub async fn send_photo_of(
        &self,
        turn: Turn,
        traffic: Traffic,
        message: &crate::telegram::api::PhotoMessage<'_>,
        photo: &crate::telegram::api::PhotoSource,
    ) -> Result<i32, SendError> {
        let started = std::time::Instant::now();
        let result = self.api.send_photo_of(message, photo).await;
        self.settle(turn, traffic, message.chat, started, result)
    }

    /// Calls `method` in `turn` (an edit, say).
    pub async fn call<T: DeserializeOwned>(
        &self,
        turn: Turn,
        chat: ChatId,
        method: &str,
        params: &Value,
    ) -> Result<T, SendError> {
        let started = std::time::Instant::now();
        let result = self.api.call(method, params).await;
        self.settle(turn, Traffic::Reply, chat, started, result)
    }

    /// Calls a method Telegram does not count as a message (`answerCallbackQuery`,
    /// `getChatMember`): under the breaker, without a slot.
    pub async fn call_unpaced<T: DeserializeOwned>(
        &self,
        chat: ChatId,
        method: &str,
        params: &Value,
    ) -> Result<T, SendError> {
        let turn = match self.breaker.admit() {
            Admit::Go => self.turn_of(false),
            Admit::Probe => self.turn_of(true),
            Admit::Refuse { reason, .. } => {
                return Err(SendError::NotSent(format!("sending is paused: {reason}")));
            }
        };
        self.call(turn, chat, method, params).await
    }

    /// Calls a method that changes the bot's own settings, not any chat
    /// (`setMyCommands`, `deleteMyCommands`), or answers an inline query (which has no
    /// chat): under the breaker, without a slot, and uncounted as a message. A 429 holds no chat (its limit is the method's, not a
    /// chat's); the caller waits it out.
    pub async fn call_setting<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &Value,
    ) -> Result<T, SendError> {
        let mut turn = match self.breaker.admit() {
            Admit::Go => self.turn_of(false),
            Admit::Probe => self.turn_of(true),
            Admit::Refuse { reason, .. } => {
                return Err(SendError::NotSent(format!("sending is paused: {reason}")));
            }
        };
        let result = self.api.call(method, params).await;
        let probe = turn.settle_probe();
        match result {
            Ok(value) => {
                self.breaker.healthy();
                Ok(value)
            }
            Err(e) => {
                let error = e.classify();
                self.teach_breaker(probe, &error);
                Err(error)
            }
        }
    }

    /// What a failed answer tells the breaker.
    fn teach_breaker(&self, probe: bool, error: &SendError) {
        match error {
            SendError::SystemFault(reason) => self.breaker.fault(reason),
            // No answer, or Telegram's own trouble: says nothing about the bot.
            SendError::Transient(_) | SendError::NotSent(_) => {
                if probe {
                    self.breaker.no_answer();
                }
            }
            _ => self.breaker.healthy(),
        }
    }

    /// Counts the answer and lets the rate limiter and the breaker learn from it.
    fn settle<T>(
        &self,
        mut turn: Turn,
        traffic: Traffic,
        chat: ChatId,
        started: std::time::Instant,
        result: Result<T, ApiError>,
    ) -> Result<T, SendError> {
        let elapsed = started.elapsed();
        let probe = turn.settle_probe();
        let error = match result {
            Ok(value) => {
                self.metrics.send(traffic, SendOutcome::Sent, elapsed);
                self.limiter.sent_ok();
                self.breaker.healthy();
                return Ok(value);
            }
            Err(e) => e.classify(),
        };
        self.metrics.send(traffic, outcome_of(&error), elapsed);
        if let SendError::RetryAfter(wait) = &error {
            self.limiter.rate_limited(chat, *wait);
        }
        self.teach_breaker(probe, &error);
        Err(error)
    }
}

fn outcome_of(error: &SendError) -> SendOutcome {
    match error {
        SendError::RetryAfter(_) => SendOutcome::RateLimited,
        SendError::Transient(_) | SendError::NotSent(_) => SendOutcome::Transient,
        SendError::Gone(_) => SendOutcome::Gone,
        SendError::Migrated(_) => SendOutcome::Moved,
        SendError::Rejected(_) => SendOutcome::Rejected,
        SendError::ChatPaused(_) | SendError::TopicGone => SendOutcome::ChatPaused,
        SendError::SystemFault(_) => SendOutcome::SystemFault,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::BotToken;
    use crate::telegram::rate::Pacing;

    /// A transport whose Bot API nobody answers (nothing here sends), with its clock.
    fn transport() -> (Transport, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()));
        let metrics = Arc::new(Metrics::default());
        let token = BotToken::parse("123:SECRET").unwrap();
        let api =
            BotApi::new(&"http://127.0.0.1:9".parse().unwrap(), &token, Duration::from_secs(1)).unwrap();
        let limiter =
            RateLimiter::new(Pacing { per_second: 1000, paid_per_second: None, broadcast_share: 0.2 });
        let breaker = Breaker::new(clock.clone(), metrics.clone());
        (Transport::new(api, limiter, breaker, metrics), clock)
    }

    /// The sender takes its turn before the check of its delivery; a delivery withdrawn
    /// meanwhile (or a claim lost) sends nothing. If that turn was the probe, another
    /// request must be let through as the probe, or sending stays paused for good.
    #[tokio::test]
    async fn a_probe_turn_given_up_unused_lets_the_next_request_probe() {
        let (transport, clock) = transport();
        transport.breaker.fault("401 Unauthorized");
        clock.advance(chrono::Duration::seconds(1));
        let probe = transport.turn(ChatId(1), Class::Broadcast, None).await.expect("the probe's turn");
        drop(probe);
        let next = transport.turn(ChatId(2), Class::Broadcast, None).await;
        assert!(next.is_ok(), "sending stays paused after an unused probe: {next:?}");
    }
}
