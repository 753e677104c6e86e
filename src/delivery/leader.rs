//! One scheduler leader among the instances on one database, with failover.
//!
//! The scheduler's periodic work (scheduled publishing, expiry, fan-out of new
//! publications, digests, retention) runs in one instance at a time: the holder of the
//! lease row `leader_leases.scheduler` ([`crate::store::LeaderStore::acquire_lease`]). Every instance
//! tries to take or renew it every [`RENEW_EVERY`] (2 s) for [`LEASE`] (6 s) by the
//! database's clock; a lease that ran out is taken by the next instance that asks, and its
//! fencing token counts up.
//!
//! Why a lease row and not a PostgreSQL advisory lock: the row works the same on SQLite
//! (the one-binary default) and PostgreSQL, with one code path and one conformance test;
//! it needs no connection of its own held open for the leader's lifetime (an advisory lock
//! lives and dies with one session, which a pool or a proxy such as PgBouncer in
//! transaction mode does not keep); it carries a fencing token; and "the leader lost its
//! database" is decided by the same expiry on the same clock as "the leader died".
//!
//! Timing. The leader counts its term from the moment it *asked* for the renewal, by its
//! own monotonic clock, and stops acting [`MARGIN`] (1 s) before the lease it was given
//! can run out — so a leader cut off from the database stops before any other instance
//! may take over. Another instance takes over at most `LEASE + RENEW_EVERY` = 8 s after
//! the leader's last renewal (under 10 s), and its scheduler ticks at once. A clean stop
//! releases the lease, and another instance takes over within `RENEW_EVERY`.
//!
//! Why work the old leader started is neither lost nor done twice. The scheduler's steps
//! do not rely on being alone; each claims its unit of work in the database in the same
//! write that does it, so an overlap (a tick still running as the term ends) or a tick
//! cut off midway is safe:
//! - scheduled publishing and expiry are one conditional `UPDATE` each (`status =
//!   'scheduled'` / `'published'` in the `WHERE`): a second run finds nothing to change;
//! - a publication's fan-out marks the notice `fanned_out_at` only where it is still
//!   `NULL` (and the notice unchanged since it was read), in the same transaction that
//!   inserts its deliveries, whose unique `dedupe_key` (`ON CONFLICT DO NOTHING`) would
//!   refuse a second copy anyway: a fan-out is queued whole or not at all, and once;
//! - digests move each chat's `next_digest_at` on with a compare-and-set on the due time,
//!   in the transaction that queues its delivery (dedupe key `digest:<chat>:<due>`): a
//!   chat claimed by one leader is left out by the other;
//! - a digest schedule for a subscriber whose settings changed is written only if
//!   `updated_at` is still the one read;
//! - retention deletes in small batches by age: running it twice deletes nothing more.
//!
//! Sending is not the leader's: every instance's sender claims deliveries with fenced
//! leases (see [`crate::store::claims`]), so all instances keep sending, and deliveries a
//! dead instance held are claimed again once their lease runs out. The CAP feed poller
//! is not the leader's either: each feed is claimed with a lease and fencing token of its
//! own (`cap_feeds`), so every instance may run it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::store::Store;

/// The lease the scheduler leader holds.
pub const SCHEDULER_LEASE: &str = "scheduler";
/// How long a lease runs without renewal, by the database's clock.
pub const LEASE: Duration = Duration::from_secs(6);
/// How often every instance takes or renews the lease.
pub const RENEW_EVERY: Duration = Duration::from_secs(2);
/// The leader stops acting this long before the lease it was given can run out.
pub const MARGIN: Duration = Duration::from_secs(1);

/// A leader's term: its fencing token, and when it must stop acting unless renewed (its
/// own monotonic clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    pub token: i64,
    pub until: Instant,
}

/// Whether this instance leads, kept up to date by [`Leadership::run`].
#[derive(Debug)]
pub struct Leadership {
    store: Arc<dyn Store>,
    holder: String,
    term: Mutex<Option<Term>>,
    changed: watch::Sender<u64>,
}

impl Leadership {
    /// Leadership of the scheduler for the instance `holder` (its unique worker id).
    pub fn new(store: Arc<dyn Store>, holder: String) -> Leadership {
        Leadership { store, holder, term: Mutex::new(None), changed: watch::channel(0).0 }
    }

    /// The fencing token of the term in force, if this instance leads now.
    pub fn token(&self) -> Option<i64> {
        self.lock().filter(|term| term.until > Instant::now()).map(|term| term.token)
    }

    /// Whether this instance leads now.
    pub fn is_leader(&self) -> bool {
        self.token().is_some()
    }

    /// Wakes after each attempt to take or renew the lease (a term may have begun).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Term>> {
        self.term.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes or renews the lease once; returns whether this instance leads now.
    pub async fn attempt(&self) -> bool {
        let asked = Instant::now();
        let answer = self.store.acquire_lease(SCHEDULER_LEASE, &self.holder, LEASE).await;
        let before = *self.lock();
        let led = before.filter(|term| term.until > Instant::now());
        let now = match answer {
            Ok(Some(token)) => Some(Term { token, until: asked + LEASE - MARGIN }),
            Ok(None) => None,
            Err(e) => {
                // The term in force runs out by itself unless a later renewal succeeds.
                tracing::warn!(error = %e, "cannot renew the scheduler lease; trying again");
                led
            }
        };
        *self.lock() = now;
        match (led, now) {
            (None, Some(term)) => {
                tracing::info!(token = term.token, holder = %self.holder, "leading the scheduler")
            }
            (Some(old), None) => {
                tracing::warn!(token = old.token, "no longer leading the scheduler")
            }
            (Some(old), Some(new)) if old.token != new.token => {
                tracing::info!(token = new.token, "leading the scheduler under a new token")
            }
            _ => {}
        }
        self.changed.send_modify(|n| *n += 1);
        now.is_some()
    }

    /// Takes or renews the lease every [`RENEW_EVERY`] until `stop`, then releases it if
    /// held.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            self.attempt().await;
            tokio::select! {
                _ = tokio::time::sleep(RENEW_EVERY) => {}
                _ = stop.wait_for(|stop| *stop) => break,
            }
        }
        let held = self.lock().take().is_some();
        self.changed.send_modify(|n| *n += 1);
        if held {
            match self.store.release_lease(SCHEDULER_LEASE, &self.holder).await {
                Ok(()) => tracing::info!("scheduler lease released"),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot release the scheduler lease; it runs out by itself")
                }
            }
        }
    }
}
