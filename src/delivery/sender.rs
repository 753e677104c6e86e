//! The sender: claims due deliveries with a lease, sends them at the shared rate with
//! many in flight (one slow chat never holds up the rest), and records every outcome.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::DeliverySettings;
use crate::metrics::{Metrics, SendOutcome};
use crate::render::payload::Payload;
use crate::store::{ClaimedDelivery, Outcome, Store, StoreError};
use crate::telegram::api::{BotApi, HtmlMessage};
use crate::telegram::outbound::SendError;
use crate::telegram::rate::RateLimiter;

/// The longest wait between retries of a failing delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// How long the sender idles when nothing is due, unless woken.
const IDLE: Duration = Duration::from_millis(500);
/// Rendered messages kept in memory; they never change once stored.
const CACHED_MESSAGES: usize = 1_000;

pub struct Sender {
    store: Arc<dyn Store>,
    api: BotApi,
    limiter: Arc<RateLimiter>,
    clock: Arc<dyn Clock>,
    settings: DeliverySettings,
    worker: String,
    metrics: Arc<Metrics>,
    messages: Mutex<HashMap<i64, Arc<Payload>>>,
}

impl Sender {
    pub fn new(
        store: Arc<dyn Store>,
        api: BotApi,
        limiter: Arc<RateLimiter>,
        clock: Arc<dyn Clock>,
        settings: DeliverySettings,
        worker: String,
        metrics: Arc<Metrics>,
    ) -> Sender {
        Sender { store, api, limiter, clock, settings, worker, metrics, messages: Mutex::new(HashMap::new()) }
    }

    /// Sends until `stop` turns true, then waits for the sends in flight.
    pub async fn run(self: Arc<Self>, work: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut in_flight = JoinSet::new();
        while !*stop.borrow() {
            while in_flight.try_join_next().is_some() {}
            let free = permits.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = in_flight.join_next() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let now = self.clock.now();
            let lease_until = now + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
            let claimed = match self.store.claim_deliveries(&self.worker, now, lease_until, free as u32).await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim deliveries; trying again shortly");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            };
            if claimed.is_empty() {
                // Sleep until the next retry is due (or new work arrives), at most IDLE.
                let next_due = self.store.next_delivery_due().await.ok().flatten();
                let wait = next_due
                    .and_then(|at| (at - self.clock.now()).to_std().ok())
                    .map_or(IDLE, |until| until.clamp(Duration::from_millis(5), IDLE));
                tokio::select! {
                    _ = work.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            for delivery in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let sender = self.clone();
                in_flight.spawn(async move {
                    sender.deliver(delivery).await;
                    drop(permit);
                });
            }
        }
        while in_flight.join_next().await.is_some() {}
    }

    async fn payload(&self, message_id: i64) -> Result<Arc<Payload>, String> {
        if let Some(payload) = self.lock_messages().get(&message_id) {
            return Ok(payload.clone());
        }
        let json = match self.store.outbox_message(message_id).await {
            Ok(Some(json)) => json,
            Ok(None) => return Err(format!("outbox message {message_id} is missing")),
            Err(e) => return Err(e.to_string()),
        };
        let payload =
            Arc::new(Payload::from_json(&json).map_err(|e| format!("outbox message {message_id}: {e}"))?);
        let mut cache = self.lock_messages();
        if cache.len() >= CACHED_MESSAGES {
            cache.clear();
        }
        cache.insert(message_id, payload.clone());
        Ok(payload)
    }

    fn lock_messages(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Payload>>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends the delivery's remaining parts and records how it went.
    async fn deliver(&self, d: ClaimedDelivery) {
        let outcome = match self.payload(d.message_id).await {
            Ok(payload) => self.send_parts(&d, &payload).await,
            Err(reason) => {
                tracing::error!(delivery = d.id, %reason, "cannot read a delivery's message");
                self.failure(&d, SendError::Transient(reason))
            }
        };
        if let Err(e) = self.record(&d, &outcome).await {
            // The lease runs out and the delivery is claimed again: it may be sent twice,
            // but it is never lost.
            tracing::error!(delivery = d.id, error = %e, ?outcome, "cannot record a delivery's outcome");
        }
    }

    async fn send_parts(&self, d: &ClaimedDelivery, payload: &Payload) -> Outcome {
        let total = payload.parts.len() as i32;
        let mut sent = d.parts_sent;
        let mut first_message_id = None;
        for part in payload.parts.iter().skip(d.parts_sent.max(0) as usize) {
            self.limiter.until_broadcast_slot(d.chat()).await;
            let message = HtmlMessage {
                chat: d.chat(),
                thread_id: d.thread_id,
                html: &part.html,
                reply_markup: part.reply_markup.as_ref(),
                paid_broadcast: self.settings.allow_paid_broadcast,
                // The first part replies to the message being corrected.
                reply_to: d.reply_to.filter(|_| sent == d.parts_sent),
            };
            let started = std::time::Instant::now();
            let result = self.api.send_html(&message).await;
            self.metrics.send(outcome_of(&result), started.elapsed());
            match result {
                Ok(message_id) => {
                    self.limiter.sent_ok();
                    if sent == 0 {
                        first_message_id = Some(message_id);
                    }
                    sent += 1;
                    if sent < total {
                        // Progress is kept per part, so a retry or a crash resends none of them.
                        let progress = Outcome::PartlySent { first_message_id, parts: sent };
                        if let Err(e) = self.record(d, &progress).await {
                            tracing::warn!(delivery = d.id, error = %e, "cannot record a sent part");
                        }
                    }
                }
                Err(error) => return self.failure(d, error.classify()),
            }
        }
        Outcome::Sent { first_message_id, parts: sent }
    }

    fn failure(&self, d: &ClaimedDelivery, error: SendError) -> Outcome {
        let now = self.clock.now();
        match error {
            SendError::RetryAfter(wait) => {
                self.limiter.rate_limited(d.chat(), wait);
                Outcome::Retry { at: now + chrono_duration(wait), error: error.to_string(), counts: false }
            }
            SendError::Transient(reason) => {
                let attempts = d.attempts as u32 + 1;
                if attempts >= self.settings.max_attempts {
                    Outcome::Failed { error: format!("gave up after {attempts} attempts: {reason}") }
                } else {
                    Outcome::Retry {
                        at: now + chrono_duration(self.backoff(attempts)),
                        error: reason,
                        counts: true,
                    }
                }
            }
            SendError::Gone(reason) => Outcome::Gone { reason },
            SendError::Migrated(to) => Outcome::Moved { to },
            SendError::Rejected(reason) => Outcome::Failed { error: reason },
        }
    }

    /// Doubles from the base with each attempt, with jitter so retries do not stampede.
    fn backoff(&self, attempts: u32) -> Duration {
        let exponential = self.settings.retry_base.saturating_mul(1 << attempts.saturating_sub(1).min(16));
        exponential.min(MAX_BACKOFF).mul_f64(0.5 + fastrand::f64())
    }

    async fn record(&self, d: &ClaimedDelivery, outcome: &Outcome) -> Result<(), StoreError> {
        let now: DateTime<Utc> = self.clock.now();
        match outcome {
            Outcome::Gone { reason } => {
                tracing::info!(chat = d.chat().0, %reason, "chat gone; its deliveries stop")
            }
            Outcome::Failed { error } => {
                tracing::warn!(delivery = d.id, chat = d.chat().0, %error, "delivery failed")
            }
            Outcome::Moved { to } => {
                tracing::info!(from = d.chat().0, to = to.0, "chat moved; subscription follows")
            }
            _ => {}
        }
        self.store.record_outcome(d, outcome, now).await
    }
}

fn outcome_of(result: &Result<i32, crate::telegram::api::ApiError>) -> SendOutcome {
    match result {
        Ok(_) => SendOutcome::Sent,
        Err(e) => match e.classify() {
            SendError::RetryAfter(_) => SendOutcome::RateLimited,
            SendError::Transient(_) => SendOutcome::Transient,
            SendError::Gone(_) => SendOutcome::Gone,
            SendError::Migrated(_) => SendOutcome::Moved,
            SendError::Rejected(_) => SendOutcome::Rejected,
        },
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(1))
}
