//! A send rate shared by every instance on one database.
//!
//! Telegram's limits are the bot's, not an instance's: all instances together must stay
//! under `delivery.rate_per_second` (and `paid_rate_per_second`), keep each chat's
//! spacing, and respect a chat's 429 whichever instance it came to.
//!
//! - **The rate.** Each instance registers in `instances` with a heartbeat every
//!   [`HEARTBEAT_EVERY`] (1 s), live for [`EXPIRY`] (5 s) by the database's clock, and
//!   paces itself at its share ([`share`]): the whole rate when alone, else the rate
//!   divided by the live instances, less three messages a second — a window that opens
//!   on a send holds one more than the rate, once per instance; a pacer that woke late
//!   catches up one slot; and the database checks before each request can move one more
//!   into a window — so that the sum over
//!   instances stays under the limit in every one-second window, not only on average. Shares are divided
//!   again at every heartbeat: a new instance is counted by the others within a heartbeat,
//!   and it sends nothing until [`WARM_UP`] (two heartbeats) has passed if others are live;
//!   a dead one's share returns to the others once its registration runs out (5 s), a
//!   cleanly stopped one's at their next heartbeat. An instance that cannot reach the
//!   database keeps its share, but cannot claim nor check deliveries either, so it sends
//!   nothing meanwhile.
//! - **Per-chat spacing and 429s.** Right before each part goes out, while other instances
//!   are live, the sender claims the chat's turn in `chat_send_state`
//!   ([`crate::store::LeaderStore::claim_chat_turn`]):
//!   a compare-and-set of the chat's next allowed send, by the database's clock, so two
//!   instances cannot send to one chat within its interval (one second, three in a
//!   group). A 429 moves the chat's next allowed send to the end of its `retry_after`
//!   ([`crate::store::LeaderStore::hold_chat`]), which holds every instance. Each
//!   instance's own pacer still spaces its own sends, so the claim is rarely refused.
//!
//! Alone (always, with SQLite) an instance's register holds one row, its share is the whole
//! rate, and its own pacer spaces each chat: no turn is claimed in the database, a write
//! per message saved (with fixes 10–11 of BENCHMARKS.md the sender went from 1 007 to
//! 1 722–1 857 messages a second on SQLite, `cargo bench --bench fanout`). A 429 is still
//! written, and an instance that finds itself alone (at its first heartbeat, or when the
//! others have gone) moves the holds in `chat_send_state` into its own pacer first. A
//! chat's row is deleted once its turn has come (every heartbeat), and by `/forget`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::config::DeliverySettings;
use crate::domain::ChatId;
use crate::store::{ChatTurn, Store};
use crate::telegram::outbound::SharedTurns;
use crate::telegram::rate::{RateLimiter, chat_interval};

/// How often an instance renews its registration and counts the live ones.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// A registration not renewed for this long (database clock) no longer counts.
pub const EXPIRY: Duration = Duration::from_secs(5);
/// A new instance that finds others live waits this long before sending, so that every
/// other instance has counted it (and taken its smaller share) first.
pub const WARM_UP: Duration = Duration::from_secs(2);

/// One instance's share of `rate` messages a second when `instances` are live: all of it
/// alone, else an equal part less three messages a second (at least a tenth of the part):
/// a one-second window that opens on a send holds one message more than the rate (the
/// fencepost), once per instance; a pacer that woke late catches up one slot
/// (`telegram::rate`); and the database checks between an instance's slot and its request
/// (the claim still held, the chat's turn) can move one more send into a window. With two
/// less, real processes on a busy machine were measured at 26 in one second for a rate of
/// 25 (two instances, 12 and 13 each at a share of 10.5). Measured: see
/// `tests/integration/instances.rs` and `tests/integration/processes.rs`.
pub fn share(rate: f64, instances: u32) -> f64 {
    if instances <= 1 {
        return rate;
    }
    let part = rate / f64::from(instances);
    (part - MARGIN_PER_INSTANCE).max(part / 10.0)
}

/// Messages a second each of several instances leaves unused of its equal part ([`share`]).
const MARGIN_PER_INSTANCE: f64 = 3.0;

/// This instance's registration, and the share of the rate it paces itself to.
#[derive(Debug)]
pub struct Instances {
    store: Arc<dyn Store>,
    id: String,
    limiter: RateLimiter,
    rate: f64,
    paid_rate: f64,
    live: AtomicU32,
    ready: watch::Sender<bool>,
}

impl Instances {
    /// The registration of the instance `id` (its unique worker id), pacing `limiter`.
    pub fn new(
        store: Arc<dyn Store>,
        id: String,
        limiter: RateLimiter,
        settings: &DeliverySettings,
    ) -> Instances {
        Instances {
            store,
            id,
            limiter,
            rate: f64::from(settings.rate_per_second),
            paid_rate: f64::from(settings.paid_rate_per_second),
            // Not counted yet: the first heartbeat counts (and, alone, adopts the holds).
            live: AtomicU32::new(0),
            ready: watch::channel(false).0,
        }
    }

    /// Live instances at the last heartbeat, this one included; 0 before the first.
    pub fn live(&self) -> u32 {
        self.live.load(Ordering::Relaxed)
    }

    /// Turns true once this instance may send (registered, and warmed up if others are
    /// live).
    pub fn ready(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// Registers (and divides the rate) once; returns the live instances.
    pub async fn heartbeat(&self) -> Result<u32, crate::store::StoreError> {
        let live = self.store.heartbeat_instance(&self.id, EXPIRY).await?;
        if live <= 1 && self.live() != 1 {
            // Alone from now on (just started, or the others left): no turn is claimed in the
            // database any more, so the holds the others left there (a 429's retry_after)
            // move into this instance's pacer first.
            for (chat, wait) in self.store.chats_on_hold().await? {
                self.limiter.hold_chat(chat, wait);
            }
        }
        let before = self.live.swap(live, Ordering::Relaxed);
        if before != live {
            tracing::info!(
                instances = live,
                rate = share(self.rate, live),
                "instances sharing the send rate changed"
            );
        }
        self.limiter.set_rates(share(self.rate, live), share(self.paid_rate, live));
        Ok(live)
    }

    /// Registers, warms up if others are live, then heartbeats every [`HEARTBEAT_EVERY`]
    /// until `stop`; leaves the register on a clean stop.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        // Until the first heartbeat lands, send nothing: the others do not count us yet.
        loop {
            match self.heartbeat().await {
                Ok(1) => break,
                Ok(_) => {
                    tokio::select! {
                        _ = tokio::time::sleep(WARM_UP) => {}
                        _ = stop.wait_for(|stop| *stop) => {}
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot register this instance; trying again");
                    tokio::select! {
                        _ = tokio::time::sleep(HEARTBEAT_EVERY) => {}
                        _ = stop.wait_for(|stop| *stop) => return,
                    }
                }
            }
        }
        self.ready.send_replace(true);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(HEARTBEAT_EVERY) => {}
                _ = stop.wait_for(|stop| *stop) => break,
            }
            if let Err(e) = self.heartbeat().await {
                tracing::warn!(error = %e, "cannot renew this instance's registration; trying again");
            }
            // Chats are kept only while their spacing or a hold lasts (a chat id is
            // personal data; SECURITY.md).
            if let Err(e) = self.store.prune_chat_turns().await {
                tracing::warn!(error = %e, "cannot forget the chats whose turn has come");
            }
        }
        if let Err(e) = self.store.leave_instances(&self.id).await {
            tracing::warn!(error = %e, "cannot leave the register of instances; it runs out by itself");
        }
    }
}

/// Replies share chats' turns with every instance's broadcasts and replies while several
/// instances are live; alone, nothing is asked of the database.
#[async_trait::async_trait]
impl SharedTurns for Instances {
    async fn claim(&self, chat: ChatId) -> Option<Duration> {
        if self.live() <= 1 {
            return None;
        }
        match self.store.claim_chat_turn(chat, chat_interval(chat)).await {
            Ok(ChatTurn::Go) => None,
            Ok(ChatTurn::Wait(wait)) => Some(wait),
            Err(e) => {
                tracing::warn!(chat = chat.0, error = %e, "cannot claim a chat's shared turn; sending on this instance's spacing");
                None
            }
        }
    }

    async fn hold(&self, chat: ChatId, wait: Duration) {
        if self.live() <= 1 {
            return;
        }
        if let Err(e) = self.store.hold_chat(chat, wait).await {
            tracing::warn!(chat = chat.0, error = %e, "cannot share a chat's 429 hold");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn alone_an_instance_takes_the_whole_rate_and_together_they_stay_under_it() {
        assert_eq!(share(25.0, 1), 25.0);
        assert_eq!(share(30.0, 3), 7.0);
        for rate in [1.0, 5.0, 25.0, 30.0, 900.0] {
            for n in 2..=10 {
                // Each instance's windows hold two more than its share at most (the
                // fencepost and a late pacer's catch-up).
                let total = (share(rate, n) + 2.0) * f64::from(n);
                assert!(total < rate || share(rate, n) < 1.0, "{n} instances at {rate}/s send {total}/s");
                assert!(share(rate, n) > 0.0);
            }
        }
    }
}
