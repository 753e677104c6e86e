//! The sender: claims due deliveries with a fenced lease, sends them through the shared
//! transport with many in flight (one slow chat never holds up the rest), and records
//! every outcome — only while it still holds the claim.
//!
//! What "once" means here. Without a crash, a delivery is sent exactly once: its lease is
//! renewed while it is in flight (a heartbeat every quarter lease), a part goes out only
//! after a check that the claim still holds (which renews its lease, so no other sender can
//! take the row while the part goes) and that the notice was not withdrawn or changed, and
//! a sender that lost its claim records nothing and sends no further part.
//! After a crash (or a database outage longer than the lease) a part that was in flight
//! may go again once its lease runs out: at least once, never lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::DeliverySettings;
use crate::delivery::instances::Instances;
use crate::delivery::recorder::Recorder;
use crate::metrics::{Metrics, Shed, Traffic};
use crate::render::payload::Payload;
use crate::store::{ChatTurn, ClaimedDelivery, Outcome, Standing, Store, StoreError};
use crate::telegram::api::{HtmlMessage, PhotoMessage};
use crate::telegram::error::SendError;
use crate::telegram::rate::{Class, chat_interval};
use crate::telegram::transport::{Hold, Transport};

/// The longest wait between retries of a failing delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// How long the sender idles when nothing is due, unless woken.
const IDLE: Duration = Duration::from_millis(500);
/// Rendered messages kept in memory; they never change once stored.
const CACHED_MESSAGES: usize = 1_000;
/// …and at most this many bytes of them (as stored JSON): a CAP alert's photo carried in
/// the message may be 13 MB of base64.
const CACHED_BYTES: usize = 256 * 1024 * 1024;
/// A claimed delivery waits at most this long for its chat (a group's three seconds
/// between messages, say); a chat Telegram holds longer is put back until then.
const MAX_CHAT_WAIT: Duration = Duration::from_secs(5);
/// An outcome the database does not take is written again after this, doubling up to
/// the longest wait.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(200);
const RECORD_RETRY_LONGEST: Duration = Duration::from_secs(5);
/// A chat whose turn (among all instances) comes within this is waited for with the slot
/// held; a longer wait gives the slot back.
const NEARLY_FREE: Duration = Duration::from_millis(50);
/// The sender claims once a quarter of its slots (`delivery.concurrency`) are free, or
/// once a slot has waited [`CLAIM_GATHER`], whichever comes first.
const CLAIM_BATCH_DIVISOR: usize = 4;
/// The longest a free slot waits for others before the sender claims for it: what an
/// urgent alert may wait at most, beyond a free slot, to be claimed.
const CLAIM_GATHER: Duration = Duration::from_millis(20);
/// A delivery the database could not be asked about is put back for this long.
const DATABASE_PUT_BACK: Duration = Duration::from_secs(1);

/// Why a delivery's message could not be read.
enum Unreadable {
    /// The database did not answer: no fault of the chat.
    Database(StoreError),
    /// The message is missing or broken.
    Broken(String),
}

/// Outbox messages read, by id, and the size of their JSON in all.
#[derive(Default)]
struct MessageCache {
    payloads: HashMap<i64, Arc<Payload>>,
    bytes: usize,
}

pub struct Sender {
    store: Arc<dyn Store>,
    transport: Arc<Transport>,
    clock: Arc<dyn Clock>,
    settings: DeliverySettings,
    worker: String,
    metrics: Arc<Metrics>,
    messages: Mutex<MessageCache>,
    /// The live instances: alone, a chat's turn is this instance's pacer's to give, and
    /// no turn is claimed in the database.
    instances: Arc<Instances>,
    /// The deliveries this sender holds now, by id with the claim held, whose leases the
    /// heartbeat renews.
    held: Mutex<HashMap<i64, i64>>,
}

/// A delivery in [`Sender::held`] for as long as its task runs, however the task ends (a
/// panic included: a row left there would have its lease renewed for ever, and no sender
/// could take it). It leaves only its own claim: the same row claimed again meanwhile,
/// by a newer task, stays held.
struct Holding {
    sender: Arc<Sender>,
    id: i64,
    claim: i64,
}

impl Holding {
    fn new(sender: Arc<Sender>, d: &ClaimedDelivery) -> Holding {
        sender.lock_held().insert(d.id, d.claim);
        Holding { sender, id: d.id, claim: d.claim }
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        let mut held = self.sender.lock_held();
        if held.get(&self.id) == Some(&self.claim) {
            held.remove(&self.id);
        }
    }
}

impl Sender {
    pub fn new(
        store: Arc<dyn Store>,
        transport: Arc<Transport>,
        clock: Arc<dyn Clock>,
        settings: DeliverySettings,
        worker: String,
        metrics: Arc<Metrics>,
        instances: Arc<Instances>,
    ) -> Sender {
        Sender {
            store,
            transport,
            clock,
            settings,
            worker,
            metrics,
            messages: Mutex::new(MessageCache::default()),
            instances,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Sends until `stop` turns true, then lets the sends in flight finish (those still
    /// waiting for their turn are put back at once) and stops renewing leases.
    ///
    /// Nothing is claimed before `ready` turns true: until then the other instances have
    /// not counted this one, and sending would take more than its share of the rate (see
    /// [`super::instances`]).
    pub async fn run(
        self: Arc<Self>,
        work: Arc<Notify>,
        mut ready: watch::Receiver<bool>,
        mut stop: watch::Receiver<bool>,
    ) {
        tokio::select! {
            _ = ready.wait_for(|ready| *ready) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let (heartbeat_stop, heartbeat_stopped) = watch::channel(false);
        let heartbeat = tokio::spawn(self.clone().heartbeat(heartbeat_stopped));
        // Deliveries sent in full are recorded together (SQLite; see `recorder`). The task
        // ends once the last handle, this loop's and its sends', is dropped.
        let (recorder, recording) = match Recorder::start(self.store.clone(), self.clock.clone()) {
            Some((recorder, task)) => (Some(recorder), Some(task)),
            None => (None, None),
        };
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut in_flight = JoinSet::new();
        // Slots freed one by one are gathered for a moment before claiming: a claim is a
        // write (a round trip to SQLite's thread and a transaction), and claiming one row
        // each time a send ended cost a claim for every message.
        let batch = (self.settings.concurrency / CLAIM_BATCH_DIVISOR).max(1);
        let mut gathering_since: Option<tokio::time::Instant> = None;
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
            if free < batch && !in_flight.is_empty() {
                let since = *gathering_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() < CLAIM_GATHER {
                    tokio::select! {
                        _ = in_flight.join_next() => {}
                        _ = tokio::time::sleep_until(since + CLAIM_GATHER) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            }
            gathering_since = None;
            if let Some(wait) = self.paused_for() {
                // Claiming now would only put the rows back: wait for the hold to end.
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let now = self.clock.now();
            let claimed = match self
                .store
                .claim_deliveries(&self.worker, now, self.settings.lease, free as u32)
                .await
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
                let holding = Holding::new(self.clone(), &delivery);
                let sender = self.clone();
                let stop = stop.clone();
                let recorder = recorder.clone();
                in_flight.spawn(async move {
                    sender.deliver(delivery, stop, recorder.as_ref()).await;
                    drop(holding);
                    drop(permit);
                });
            }
        }
        while in_flight.join_next().await.is_some() {}
        drop(recorder);
        if let Some(recording) = recording {
            let _ = recording.await;
        }
        let _ = heartbeat_stop.send(true);
        let _ = heartbeat.await;
    }

    /// How long sending is on hold for the whole bot (a flood, or a fault of the bot
    /// itself), if it is.
    fn paused_for(&self) -> Option<Duration> {
        if let Some(until) = self.transport.limiter().paused_until() {
            return Some(until.saturating_duration_since(tokio::time::Instant::now()).min(IDLE));
        }
        self.transport.paused_until().map(|until| {
            (until - self.clock.now()).to_std().unwrap_or_default().clamp(Duration::from_millis(5), IDLE)
        })
    }

    /// Renews the leases of the deliveries in flight every quarter lease, so that none
    /// runs out while its sender is still at work.
    async fn heartbeat(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let every = self.settings.lease / 4;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
            let ids: Vec<i64> = self.lock_held().keys().copied().collect();
            if ids.is_empty() {
                continue;
            }
            match self.store.renew_leases(&self.worker, &ids, self.settings.lease).await {
                Ok(held) if held.len() < ids.len() => {
                    // Their next check before a part says so and stops them.
                    tracing::warn!(lost = ids.len() - held.len(), "leases taken over by another sender");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot renew leases; trying again"),
            }
        }
    }

    async fn payload(&self, message_id: i64) -> Result<Arc<Payload>, Unreadable> {
        if let Some(payload) = self.lock_messages().payloads.get(&message_id) {
            return Ok(payload.clone());
        }
        let json = match self.store.outbox_message(message_id).await {
            Ok(Some(json)) => json,
            Ok(None) => return Err(Unreadable::Broken(format!("outbox message {message_id} is missing"))),
            Err(e) => return Err(Unreadable::Database(e)),
        };
        let payload = Arc::new(
            Payload::from_json(&json)
                .map_err(|e| Unreadable::Broken(format!("outbox message {message_id}: {e}")))?,
        );
        let mut cache = self.lock_messages();
        if cache.payloads.len() >= CACHED_MESSAGES || cache.bytes + json.len() > CACHED_BYTES {
            cache.payloads.clear();
            cache.bytes = 0;
        }
        cache.bytes += json.len();
        cache.payloads.insert(message_id, payload.clone());
        Ok(payload)
    }

    fn lock_messages(&self) -> std::sync::MutexGuard<'_, MessageCache> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_held(&self) -> std::sync::MutexGuard<'_, HashMap<i64, i64>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends the delivery's remaining parts and records how it went.
    async fn deliver(&self, d: ClaimedDelivery, stop: watch::Receiver<bool>, recorder: Option<&Recorder>) {
        let outcome = match self.send_parts(&d, stop.clone()).await {
            Some(outcome) => outcome,
            None => return,
        };
        self.log_outcome(&d, &outcome);
        if let (Some(recorder), Outcome::Sent { first_message_id, parts }) = (recorder, &outcome)
            && recorder.record_sent(&d, *parts, *first_message_id).await
        {
            return;
        }
        self.record_until_written(&d, &outcome, stop).await;
    }

    /// Records the outcome, asking the database again while it refuses (busy, failing
    /// over): left unrecorded, the row would stay in flight under this sender's name, and a
    /// sender never claims its own rows again, so with one instance it would stay there for
    /// good — a send that went out counted as in flight for ever, one that failed never
    /// tried again. The heartbeat keeps the lease meanwhile. Only a sender that is stopping
    /// gives up: its lease runs out and the next process sends the delivery again (at
    /// least once, never lost).
    async fn record_until_written(
        &self,
        d: &ClaimedDelivery,
        outcome: &Outcome,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut wait = RECORD_RETRY_FIRST;
        loop {
            match self.store.record_outcome(d, outcome, self.clock.now()).await {
                Ok(true) => return,
                Ok(false) => return self.lost(d),
                Err(e) if *stop.borrow() => {
                    tracing::error!(
                        delivery = d.id, error = %e, ?outcome,
                        "cannot record a delivery's outcome while stopping; it goes again once its lease runs out"
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(delivery = d.id, error = %e, ?outcome, "cannot record a delivery's outcome yet; trying again");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|stop| *stop) => {}
                    }
                    wait = (wait * 2).min(RECORD_RETRY_LONGEST);
                }
            }
        }
    }

    fn lost(&self, d: &ClaimedDelivery) {
        self.metrics.shed(Shed::LostClaim);
        tracing::warn!(
            delivery = d.id,
            chat = d.chat().0,
            "another sender holds this delivery now; stopping"
        );
    }

    /// Sends what is left of the delivery; `None` when the claim was lost (nothing to
    /// record).
    async fn send_parts(&self, d: &ClaimedDelivery, mut stop: watch::Receiver<bool>) -> Option<Outcome> {
        let mut payload = match self.payload(d.message_id).await {
            Ok(payload) => payload,
            Err(unreadable) => return Some(self.unreadable(d, unreadable)),
        };
        let mut sent = d.parts_sent.max(0);
        let mut first_message_id = None;
        // The first part was a photo Telegram refused: the next part is the first message.
        let mut photo_refused = false;
        while (sent as usize) < payload.parts.len() {
            // Wait for the chat's turn, or put the delivery back if the wait is long.
            let turn = tokio::select! {
                turn = self.transport.turn(d.chat(), Class::Broadcast, Some(MAX_CHAT_WAIT)) => turn,
                _ = stop.wait_for(|stop| *stop) => {
                    return Some(self.put_back(self.clock.now(), "stopping; sent by the next sender"));
                }
            };
            let turn = match turn {
                Ok(turn) => turn,
                Err(Hold::Chat { until }) => {
                    let wait = until.saturating_duration_since(tokio::time::Instant::now());
                    return Some(
                        self.put_back(self.clock.now() + chrono_duration(wait), "Telegram holds the chat"),
                    );
                }
                Err(Hold::Paused { until, reason }) => {
                    return Some(self.put_back(until, &format!("sending is paused: {reason}")));
                }
            };
            // Right before the part goes: is the claim still ours, the notice still as sent?
            match self.store.delivery_standing(d, self.settings.lease).await {
                Ok(Standing::Go { .. }) => {}
                Ok(Standing::Lost) => {
                    self.lost(d);
                    return None;
                }
                Ok(Standing::Withdrawn) if sent == 0 => {
                    return Some(Outcome::Cancelled { reason: "withdrawn before it was sent".into() });
                }
                Ok(Standing::Superseded { latest: None }) if sent == 0 => {
                    return Some(Outcome::Cancelled { reason: "superseded by a later change".into() });
                }
                Ok(Standing::Superseded { latest: Some(latest) }) if sent == 0 => {
                    // Not begun: it goes out with the notice as it is now.
                    match self.store.switch_message(d, latest).await {
                        Ok(true) => {}
                        Ok(false) => {
                            self.lost(d);
                            return None;
                        }
                        Err(e) => return Some(self.database_trouble(d, &e)),
                    }
                    payload = match self.payload(latest).await {
                        Ok(payload) if !payload.parts.is_empty() => payload,
                        Ok(_) => {
                            return Some(Outcome::Failed {
                                error: format!("outbox message {latest} is empty"),
                            });
                        }
                        Err(unreadable) => return Some(self.unreadable(d, unreadable)),
                    };
                }
                // Half sent when the notice changed: what went out stays; the change follows
                // as a reply (recording it as sent queues that).
                Ok(Standing::Withdrawn | Standing::Superseded { .. }) => {
                    tracing::info!(
                        delivery = d.id,
                        parts = sent,
                        "notice changed mid-way; the rest is not sent"
                    );
                    return Some(Outcome::Sent { first_message_id, parts: sent });
                }
                Err(e) => return Some(self.database_trouble(d, &e)),
            }
            // Every instance's turn for the chat: nobody sent to it within its interval, and
            // no 429 holds it (see `super::instances`).
            match self.chat_turn(d).await {
                Ok(None) => {}
                Ok(Some(wait)) => {
                    drop(turn);
                    if wait > MAX_CHAT_WAIT {
                        return Some(self.put_back(
                            self.clock.now() + chrono_duration(wait),
                            "another instance holds the chat",
                        ));
                    }
                    // Wait for it here, and take a turn of this instance's pacer again.
                    self.transport.limiter().hold_chat(d.chat(), wait);
                    continue;
                }
                Err(e) => return Some(self.database_trouble(d, &e)),
            }
            let part = &payload.parts[sent as usize];
            match self.send_part(d, turn, part, sent).await {
                Ok(id) => {
                    if sent == 0 || photo_refused {
                        first_message_id = Some(id);
                        photo_refused = false;
                    }
                    sent += 1;
                    if !self.progress(d, &payload, first_message_id, sent).await {
                        return None;
                    }
                }
                // A photo Telegram will not take (it could not fetch the URL, say) must not
                // keep the text from going: it counts as done, and the text follows.
                Err(SendError::Rejected(reason)) if part.photo.is_some() => {
                    tracing::warn!(delivery = d.id, chat = d.chat().0, %reason, "photo refused; sending the text");
                    self.metrics.shed(Shed::PhotoRefused);
                    photo_refused = sent == 0;
                    sent += 1;
                    if !self.progress(d, &payload, first_message_id, sent).await {
                        return None;
                    }
                }
                Err(e) => {
                    if let SendError::RetryAfter(wait) = &e {
                        // Held for every instance, not only this one's pacer.
                        if let Err(e) = self.store.hold_chat(d.chat(), *wait).await {
                            tracing::warn!(chat = d.chat().0, error = %e, "cannot share a chat's 429 hold");
                        }
                    }
                    return Some(self.failure(d, e));
                }
            }
        }
        Some(Outcome::Sent { first_message_id, parts: sent })
    }

    /// Claims the chat's turn among all instances; `Some(wait)` if it is not free yet. A
    /// turn a few milliseconds off (this instance's pacer and the database's clock measure
    /// the same interval a request's latency apart) is waited for here, with the slot
    /// held, rather than given back.
    ///
    /// Alone, the instance's own pacer already spaced the chat, and nothing is asked of
    /// the database (one write fewer for every message; replies do the same, see
    /// [`super::instances`]). A new instance counts as live for this one within a
    /// heartbeat, and sends nothing for [`super::instances::WARM_UP`] after it registers.
    async fn chat_turn(&self, d: &ClaimedDelivery) -> Result<Option<Duration>, StoreError> {
        if self.instances.live() <= 1 {
            return Ok(None);
        }
        let interval = chat_interval(d.chat());
        for _ in 0..3 {
            match self.store.claim_chat_turn(d.chat(), interval).await? {
                ChatTurn::Go => return Ok(None),
                ChatTurn::Wait(wait) if wait <= NEARLY_FREE => tokio::time::sleep(wait).await,
                ChatTurn::Wait(wait) => return Ok(Some(wait)),
            }
        }
        Ok(Some(NEARLY_FREE))
    }

    async fn send_part(
        &self,
        d: &ClaimedDelivery,
        turn: crate::telegram::transport::Turn,
        part: &crate::render::payload::Part,
        sent: i32,
    ) -> Result<i32, SendError> {
        if let Some(photo) = &part.photo {
            let message = PhotoMessage {
                chat: d.chat(),
                thread_id: d.thread_id,
                caption: &part.html,
                paid_broadcast: self.settings.allow_paid_broadcast,
            };
            return self.transport.send_photo_of(turn, Traffic::Broadcast, &message, photo).await;
        }
        let message = HtmlMessage {
            chat: d.chat(),
            thread_id: d.thread_id,
            html: &part.html,
            reply_markup: part.reply_markup.as_ref(),
            paid_broadcast: self.settings.allow_paid_broadcast,
            // The first part replies to the message being corrected.
            reply_to: d.reply_to.filter(|_| sent == 0),
        };
        self.transport.send_html(turn, Traffic::Broadcast, &message).await
    }

    /// Records a part sent (before the last), so that a retry or a crash resends none of
    /// them. False if the claim was lost.
    async fn progress(&self, d: &ClaimedDelivery, payload: &Payload, first: Option<i32>, sent: i32) -> bool {
        if sent as usize >= payload.parts.len() {
            return true;
        }
        let partly = Outcome::PartlySent { first_message_id: first, parts: sent };
        match self.store.record_outcome(d, &partly, self.clock.now()).await {
            Ok(true) => true,
            Ok(false) => {
                self.lost(d);
                false
            }
            Err(e) => {
                // The next part's check reads the claim again; the heartbeat keeps it.
                tracing::warn!(delivery = d.id, error = %e, "cannot record a sent part");
                true
            }
        }
    }

    /// The database did not answer about the delivery: back to the queue shortly, not
    /// counted as an attempt — a spell of database trouble must not use up a delivery's
    /// attempts and fail it for good.
    fn database_trouble(&self, d: &ClaimedDelivery, e: &StoreError) -> Outcome {
        tracing::warn!(delivery = d.id, error = %e, "cannot check a delivery; put back");
        self.put_back(self.clock.now() + chrono_duration(DATABASE_PUT_BACK), &format!("database: {e}"))
    }

    fn unreadable(&self, d: &ClaimedDelivery, unreadable: Unreadable) -> Outcome {
        match unreadable {
            Unreadable::Database(e) => self.database_trouble(d, &e),
            Unreadable::Broken(reason) => {
                tracing::error!(delivery = d.id, %reason, "cannot read a delivery's message");
                self.failure(d, SendError::Transient(reason))
            }
        }
    }

    /// Back to the queue at `at`, not counted as an attempt: not the chat's fault.
    fn put_back(&self, at: DateTime<Utc>, why: &str) -> Outcome {
        Outcome::Retry { at, error: why.to_owned(), counts: false }
    }

    fn failure(&self, d: &ClaimedDelivery, error: SendError) -> Outcome {
        let now = self.clock.now();
        match error {
            SendError::RetryAfter(wait) => self.put_back(now + chrono_duration(wait), &error.to_string()),
            SendError::SystemFault(reason) | SendError::NotSent(reason) => {
                // The breaker is open now; the sender waits for it before claiming again.
                let until = self.transport.paused_until().unwrap_or(now + chrono::Duration::seconds(1));
                self.put_back(until, &reason)
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
            SendError::ChatPaused(reason) => Outcome::Paused { reason },
            SendError::TopicGone if d.thread_id.is_some() => Outcome::TopicGone,
            SendError::TopicGone => Outcome::Failed { error: error.to_string() },
            SendError::Rejected(reason) => Outcome::Failed { error: reason },
        }
    }

    /// Doubles from the base with each attempt, with jitter so retries do not stampede.
    fn backoff(&self, attempts: u32) -> Duration {
        let exponential = self.settings.retry_base.saturating_mul(1 << attempts.saturating_sub(1).min(16));
        exponential.min(MAX_BACKOFF).mul_f64(0.5 + fastrand::f64())
    }

    fn log_outcome(&self, d: &ClaimedDelivery, outcome: &Outcome) {
        match outcome {
            Outcome::Gone { reason } => {
                tracing::info!(chat = d.chat().0, %reason, "chat gone; its deliveries stop")
            }
            Outcome::Failed { error } => {
                tracing::warn!(delivery = d.id, chat = d.chat().0, %error, "delivery failed")
            }
            Outcome::Paused { reason } => {
                tracing::info!(chat = d.chat().0, %reason, "chat refuses messages; subscription paused")
            }
            Outcome::Moved { to } => {
                tracing::info!(from = d.chat().0, to = to.0, "chat moved; subscription follows")
            }
            Outcome::Cancelled { reason } => tracing::info!(delivery = d.id, %reason, "delivery cancelled"),
            _ => {}
        }
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(1))
}
