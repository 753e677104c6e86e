//! Pacing every message to Telegram's limits: about 30 messages a second in all, one a
//! second to one chat, twenty a minute to one group (the Bot API FAQ, "My bot is hitting
//! limits, how do I avoid this?"). Paid broadcasts (`allow_paid_broadcast`) have a budget of
//! their own, up to 1000 a second.
//!
//! One pacer hands out slots. A message first waits until its chat may be sent to again,
//! then for a slot of its pool: replies (and edits) and unpaid broadcasts share the free
//! pool, where replies go first but broadcasts are guaranteed a share of the slots whenever
//! they are waiting, so citizens' traffic can never starve an urgent alert; paid broadcasts
//! have their own pool. A 429 holds its chat for as long as Telegram says, not the bot;
//! 429s for several chats within a second mean the bot as a whole is over the limit:
//! everything holds for the time Telegram gave, and the free rate drops, creeping back up
//! after quiet spells.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use crate::domain::ChatId;

/// Telegram's guide for one private chat.
const PRIVATE_CHAT_INTERVAL: Duration = Duration::from_secs(1);
/// Twenty messages a minute in one group.
const GROUP_INTERVAL: Duration = Duration::from_secs(3);
/// 429s from this many chats within a second hold all sending.
const GLOBAL_FLOOD_CHATS: usize = 3;
/// After a flood the free rate drops to this share (at most once a second); after each
/// quiet spell it recovers a little, up to the configured rate.
const SLOW_DOWN: f64 = 0.7;
const RECOVER: f64 = 1.25;
const QUIET_SPELL: Duration = Duration::from_secs(5);
/// The rate never drops below this share of the configured one, nor below one a second.
const FLOOR_SHARE: u32 = 10;
/// Chats remembered before the ones that may be sent to again are forgotten.
const REMEMBERED_CHATS: usize = 50_000;

/// The least time between two messages to `chat`.
pub fn chat_interval(chat: ChatId) -> Duration {
    if chat.is_group() { GROUP_INTERVAL } else { PRIVATE_CHAT_INTERVAL }
}

/// What a message waits for its slot as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// An answer to a user: a reply, an edit, a photo.
    Reply,
    /// A message from the outbox (an alert, a digest, a channel post).
    Broadcast,
}

/// The budgets the pacer keeps to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pacing {
    /// Messages a second in the free pool (replies and unpaid broadcasts).
    pub per_second: u32,
    /// `Some(rate)`: broadcasts are sent as paid broadcasts, from a pool of this many a
    /// second, and leave the free pool to replies.
    pub paid_per_second: Option<u32>,
    /// Of the free pool's slots, the share (0 to 1) broadcasts get whenever they wait.
    pub broadcast_share: f64,
}

/// Why a message may not go within the wait it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    /// When its chat (or, after a flood, every chat) may be sent to again.
    pub until: Instant,
}

struct Waiter {
    chat: ChatId,
    /// The latest moment the caller agreed to wait until (`max_wait` from when it asked):
    /// if its chat, or everything, comes to be held past it, the caller is told so
    /// instead of waiting on.
    deadline: Option<Instant>,
    granted: oneshot::Sender<Result<(), Busy>>,
}

/// The waiters of one class in the order they asked, kept chat by chat. Whether a message
/// may go depends only on its chat, so the first waiter that may go is always the first of
/// its chat: finding it looks at one waiter a chat (`heads`), not at every waiter — a burst
/// of 20 commands from each of 1 000 chats keeps 19 000 replies waiting.
#[derive(Default)]
struct Waiting {
    next_ticket: u64,
    /// Each chat's waiters, in order, with their tickets; no chat with none.
    by_chat: HashMap<i64, VecDeque<(u64, Waiter)>>,
    /// The ticket of each chat's first waiter, in the order they asked.
    heads: BTreeMap<u64, i64>,
    /// Waiters with a deadline: without any, nothing can become overdue.
    with_deadline: usize,
}

impl Waiting {
    fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    fn push(&mut self, waiter: Waiter) {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        if waiter.deadline.is_some() {
            self.with_deadline += 1;
        }
        let queue = self.by_chat.entry(waiter.chat.0).or_default();
        if queue.is_empty() {
            self.heads.insert(ticket, waiter.chat.0);
        }
        queue.push_back((ticket, waiter));
    }

    /// The first waiter, in asking order, whose chat may be sent to at `now`: its chat.
    fn first_ready(&self, chats: &HashMap<i64, Instant>, now: Instant) -> Option<i64> {
        self.heads.values().copied().find(|chat| chats.get(chat).is_none_or(|ready| *ready <= now))
    }

    /// When the first of the waiting chats may be sent to again.
    fn earliest_ready(&self, chats: &HashMap<i64, Instant>) -> Option<Instant> {
        self.heads.values().filter_map(|chat| chats.get(chat).copied()).min()
    }

    /// Takes `chat`'s first waiter.
    fn pop(&mut self, chat: i64) -> Option<Waiter> {
        let queue = self.by_chat.get_mut(&chat)?;
        let (ticket, waiter) = queue.pop_front()?;
        self.heads.remove(&ticket);
        match queue.front() {
            Some((next, _)) => {
                self.heads.insert(*next, chat);
            }
            None => {
                self.by_chat.remove(&chat);
            }
        }
        if waiter.deadline.is_some() {
            self.with_deadline -= 1;
        }
        Some(waiter)
    }

    /// Tells the waiters whose chat may not be sent to before their deadline any more to
    /// give up; looks only when some waiter has a deadline.
    fn release_overdue(&mut self, ready: &impl Fn(ChatId) -> Instant) {
        if self.with_deadline == 0 {
            return;
        }
        let mut released = 0;
        self.by_chat.retain(|_, queue| {
            queue.retain_mut(|(_, w)| {
                let Some(deadline) = w.deadline else { return true };
                let until = ready(w.chat);
                if until <= deadline {
                    return true;
                }
                // Its slot is not taken: an answer nobody hears is simply dropped.
                let (dropped, _) = oneshot::channel();
                let _ = std::mem::replace(&mut w.granted, dropped).send(Err(Busy { until }));
                released += 1;
                false
            });
            !queue.is_empty()
        });
        if released > 0 {
            self.with_deadline -= released;
            self.heads = self.by_chat.iter().map(|(chat, queue)| (queue[0].0, *chat)).collect();
        }
    }
}

impl Pool {
    /// Tells the waiters whose chat may not be sent to before their deadline any more (a
    /// 429 held the chat, a flood held everything since they asked) to give up.
    fn release_overdue(&mut self, ready: impl Fn(ChatId) -> Instant) {
        self.replies.release_overdue(&ready);
        self.broadcasts.release_overdue(&ready);
    }
}

/// One budget of messages a second, and who waits for its slots.
#[derive(Default)]
struct Pool {
    interval: Duration,
    next_slot: Option<Instant>,
    replies: Waiting,
    broadcasts: Waiting,
}

impl Pool {
    fn new(per_second: u32) -> Pool {
        Pool { interval: Duration::from_secs(1) / per_second.max(1), ..Pool::default() }
    }

    fn is_idle(&self) -> bool {
        self.replies.is_empty() && self.broadcasts.is_empty()
    }

    fn slot_free(&self, now: Instant) -> bool {
        self.next_slot.is_none_or(|at| at <= now)
    }

    /// Takes the slot at `now`; a pacer that woke late catches up at most one slot.
    fn take_slot(&mut self, now: Instant) {
        let floor = now.checked_sub(self.interval).unwrap_or(now);
        let from = self.next_slot.map_or(now, |at| at.max(floor));
        self.next_slot = Some(from + self.interval);
    }
}

struct State {
    free: Pool,
    /// Paid broadcasts, when they are on.
    paid: Option<Pool>,
    configured: Duration,
    slowest: Duration,
    /// Replies granted in a row while a broadcast could have gone.
    reply_streak: u32,
    replies_per_broadcast: u32,
    /// When each recently used chat may next be sent to.
    chats: HashMap<i64, Instant>,
    paused_until: Instant,
    recent_429: VecDeque<(Instant, i64)>,
    last_change: Instant,
}

impl State {
    fn chat_ready(&self, chat: ChatId) -> Instant {
        self.chats.get(&chat.0).copied().unwrap_or_else(Instant::now)
    }

    fn note_sent(&mut self, chat: ChatId, now: Instant) {
        self.chats.insert(chat.0, now + chat_interval(chat));
        if self.chats.len() > REMEMBERED_CHATS {
            self.chats.retain(|_, ready| *ready > now);
        }
    }

    /// Grants the slots due at `now`; returns when to look again (`None`: when woken).
    fn step(&mut self, now: Instant) -> Option<Instant> {
        let (chats, paused_until) = (&self.chats, self.paused_until);
        let ready = |chat: ChatId| chats.get(&chat.0).copied().unwrap_or(now).max(paused_until);
        self.free.release_overdue(ready);
        if let Some(paid) = self.paid.as_mut() {
            paid.release_overdue(ready);
        }
        if now < self.paused_until {
            let waiting = !self.free.is_idle() || self.paid.as_ref().is_some_and(|p| !p.is_idle());
            return waiting.then_some(self.paused_until);
        }
        let mut wake: Option<Instant> = None;
        let free_next = self.step_free(now);
        wake = earliest(wake, free_next);
        if let Some(mut paid) = self.paid.take() {
            let paid_next = self.step_broadcasts(&mut paid, now);
            self.paid = Some(paid);
            wake = earliest(wake, paid_next);
        }
        wake
    }

    fn step_free(&mut self, now: Instant) -> Option<Instant> {
        loop {
            if self.free.is_idle() {
                return None;
            }
            if !self.free.slot_free(now) {
                return self.free.next_slot;
            }
            let reply = self.free.replies.first_ready(&self.chats, now);
            let broadcast = self.free.broadcasts.first_ready(&self.chats, now);
            let pick_broadcast = match (reply, broadcast) {
                (None, None) => {
                    return earliest(
                        self.free.replies.earliest_ready(&self.chats),
                        self.free.broadcasts.earliest_ready(&self.chats),
                    );
                }
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(_), Some(_)) => self.reply_streak >= self.replies_per_broadcast,
            };
            let granted = if pick_broadcast {
                broadcast.and_then(|chat| self.free.broadcasts.pop(chat))
            } else {
                reply.and_then(|chat| self.free.replies.pop(chat))
            };
            let Some(waiter) = granted else { continue };
            // A waiter that gave up (its future was dropped) does not use the slot.
            if waiter.granted.send(Ok(())).is_ok() {
                self.reply_streak = match (pick_broadcast, broadcast.is_some()) {
                    (true, _) => 0,
                    (false, true) => self.reply_streak + 1,
                    (false, false) => 0,
                };
                self.note_sent(waiter.chat, now);
                self.free.take_slot(now);
            }
        }
    }

    fn step_broadcasts(&mut self, pool: &mut Pool, now: Instant) -> Option<Instant> {
        loop {
            if pool.is_idle() {
                return None;
            }
            if !pool.slot_free(now) {
                return pool.next_slot;
            }
            let Some(chat) = pool.broadcasts.first_ready(&self.chats, now) else {
                return pool.broadcasts.earliest_ready(&self.chats);
            };
            let Some(waiter) = pool.broadcasts.pop(chat) else { continue };
            if waiter.granted.send(Ok(())).is_ok() {
                self.note_sent(waiter.chat, now);
                pool.take_slot(now);
            }
        }
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

struct Inner {
    state: Mutex<State>,
    wake: Notify,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent at every point a panic could leave it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The pacer. Cloning shares it; the task handing out slots ends with the last clone.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("rate", &self.current_rate()).finish()
    }
}

impl RateLimiter {
    /// Starts the pacer on the current tokio runtime.
    pub fn new(pacing: Pacing) -> RateLimiter {
        let now = Instant::now();
        let free = Pool::new(pacing.per_second);
        let configured = free.interval;
        let slowest = (configured * FLOOR_SHARE).min(Duration::from_secs(1)).max(configured);
        let share = pacing.broadcast_share.clamp(0.01, 1.0);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                free,
                paid: pacing.paid_per_second.map(Pool::new),
                configured,
                slowest,
                reply_streak: 0,
                // A share of 0.2 lets four replies go for every broadcast while both wait.
                replies_per_broadcast: ((1.0 - share) / share).round() as u32,
                chats: HashMap::new(),
                paused_until: now,
                recent_429: VecDeque::new(),
                last_change: now,
            }),
            wake: Notify::new(),
        });
        tokio::spawn(pace(Arc::downgrade(&inner)));
        RateLimiter { inner }
    }

    /// The free pool's messages a second in force now.
    pub fn current_rate(&self) -> f64 {
        1.0 / self.inner.lock().free.interval.as_secs_f64()
    }

    /// Until when everything holds after a flood, if it does.
    pub fn paused_until(&self) -> Option<Instant> {
        let until = self.inner.lock().paused_until;
        (until > Instant::now()).then_some(until)
    }

    /// Waits for a slot for a message to `chat`. With `max_wait`, gives up when the chat (or
    /// the whole bot, after a flood) may not be sent to within that time of asking — at
    /// once, or as soon as a later hold (a 429, a flood) makes it so — and says until when:
    /// the caller puts the message back rather than hold it that long.
    pub async fn acquire(&self, chat: ChatId, class: Class, max_wait: Option<Duration>) -> Result<(), Busy> {
        let granted = {
            let mut s = self.inner.lock();
            let now = Instant::now();
            let ready = s.chat_ready(chat).max(s.paused_until);
            if let Some(max_wait) = max_wait {
                if ready > now + max_wait {
                    return Err(Busy { until: ready });
                }
            }
            let paid = class == Class::Broadcast && s.paid.is_some();
            let pool = match s.paid.as_mut() {
                Some(pool) if paid => pool,
                _ => &mut s.free,
            };
            if ready <= now && pool.is_idle() && pool.slot_free(now) {
                // Nobody waits: go at once, without a round trip through the pacer.
                pool.take_slot(now);
                s.note_sent(chat, now);
                return Ok(());
            }
            let (granted, receiver) = oneshot::channel();
            let waiter = Waiter { chat, deadline: max_wait.and_then(|wait| now.checked_add(wait)), granted };
            match class {
                Class::Reply => pool.replies.push(waiter),
                Class::Broadcast => pool.broadcasts.push(waiter),
            }
            receiver
        };
        self.inner.wake.notify_one();
        // The pacer lives as long as this limiter; if it is gone the runtime is stopping.
        match granted.await {
            Ok(answer) => answer,
            Err(_) => Ok(()),
        }
    }

    /// Telegram answered 429 for `chat`: hold the chat; if several chats were refused
    /// within a second, hold everything and slow the free pool down.
    pub fn rate_limited(&self, chat: ChatId, retry_after: Duration) {
        {
            let mut s = self.inner.lock();
            let now = Instant::now();
            let retry_after = retry_after.min(super::api::LONGEST_RETRY_AFTER);
            let hold = now + retry_after;
            let held = s.chat_ready(chat).max(hold);
            s.chats.insert(chat.0, held);
            s.recent_429.push_back((now, chat.0));
            while s.recent_429.front().is_some_and(|(at, _)| now.duration_since(*at) > Duration::from_secs(1))
            {
                s.recent_429.pop_front();
            }
            let mut chats: Vec<i64> = s.recent_429.iter().map(|(_, c)| *c).collect();
            chats.sort_unstable();
            chats.dedup();
            if chats.len() >= GLOBAL_FLOOD_CHATS {
                s.paused_until = s.paused_until.max(hold);
                if now.duration_since(s.last_change) >= Duration::from_secs(1)
                    || s.free.interval == s.configured
                {
                    s.free.interval = s.free.interval.div_f64(SLOW_DOWN).min(s.slowest);
                    s.last_change = now;
                    tracing::warn!(
                        chats = chats.len(),
                        retry_after_secs = retry_after.as_secs(),
                        rate = 1.0 / s.free.interval.as_secs_f64(),
                        "Telegram is refusing several chats; holding all sends and slowing down"
                    );
                }
            }
        }
        self.inner.wake.notify_one();
    }

    /// Holds `chat` for `wait` from now (another instance sent to it, or holds it after a
    /// 429): unlike [`RateLimiter::rate_limited`] this says nothing about the bot's rate.
    pub fn hold_chat(&self, chat: ChatId, wait: Duration) {
        {
            let mut s = self.inner.lock();
            let until = Instant::now() + wait.min(super::api::LONGEST_RETRY_AFTER);
            let held = s.chat_ready(chat).max(until);
            s.chats.insert(chat.0, held);
        }
        self.inner.wake.notify_one();
    }

    /// Sets the budgets in force to `per_second` for the free pool and `paid_per_second`
    /// for paid broadcasts (if they are on), in messages a second, fractions allowed: an
    /// instance's share of the configured rates when several instances send (see
    /// `delivery::instances`). A free pool slowed down after a flood stays slowed by the
    /// same factor, and recovers towards the new rate.
    pub fn set_rates(&self, per_second: f64, paid_per_second: f64) {
        let interval = |rate: f64| Duration::from_secs_f64(1.0 / rate.max(0.01));
        {
            let mut s = self.inner.lock();
            let configured = interval(per_second);
            let slowed = s.free.interval.as_secs_f64() / s.configured.as_secs_f64();
            s.configured = configured;
            s.slowest = (configured * FLOOR_SHARE).min(Duration::from_secs(1)).max(configured);
            s.free.interval = configured.mul_f64(slowed.max(1.0)).clamp(configured, s.slowest);
            if let Some(paid) = s.paid.as_mut() {
                paid.interval = interval(paid_per_second);
            }
        }
        self.inner.wake.notify_one();
    }

    /// A send went through: after a quiet spell the rate recovers towards the configured one.
    pub fn sent_ok(&self) {
        let mut s = self.inner.lock();
        let now = Instant::now();
        if s.free.interval > s.configured && now.duration_since(s.last_change) >= QUIET_SPELL {
            s.free.interval = s.free.interval.div_f64(RECOVER).max(s.configured);
            s.last_change = now;
        }
    }
}

/// Hands out slots as they come due, until the limiter is dropped.
async fn pace(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else { return };
        let next = strong.lock().step(Instant::now());
        let woken = async { strong.wake.notified().await };
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = woken => {}
                }
            }
            None => woken.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: u32) -> RateLimiter {
        RateLimiter::new(Pacing { per_second, paid_per_second: None, broadcast_share: 0.2 })
    }

    async fn broadcast(limiter: &RateLimiter, chat: i64) {
        limiter.acquire(ChatId(chat), Class::Broadcast, None).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn messages_are_spaced_by_the_rate() {
        let limiter = limiter(10);
        let start = Instant::now();
        for i in 0..20 {
            broadcast(&limiter, i + 1).await;
        }
        let took = Instant::now().duration_since(start);
        assert!(took >= Duration::from_millis(1900) && took <= Duration::from_millis(2000), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn one_chat_gets_one_message_a_second_and_a_group_one_every_three() {
        let limiter = limiter(1000);
        let start = Instant::now();
        for _ in 0..3 {
            broadcast(&limiter, 5).await;
        }
        assert_eq!(Instant::now().duration_since(start).as_secs(), 2);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire(ChatId(-100), Class::Reply, None).await.unwrap();
        }
        assert_eq!(Instant::now().duration_since(start).as_secs(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_chat_does_not_hold_back_other_chats() {
        let limiter = limiter(100);
        broadcast(&limiter, 1).await;
        let start = Instant::now();
        broadcast(&limiter, 2).await;
        assert!(Instant::now().duration_since(start) <= Duration::from_millis(10));
    }

    /// 40 replies and 40 broadcasts wait at once, each to a chat of its own, at 10 a
    /// second: replies take four slots of every five, broadcasts the fifth.
    #[tokio::test(start_paused = true)]
    async fn replies_go_first_but_broadcasts_keep_their_share() {
        let limiter = limiter(10);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..40 {
            for (class, chat) in [(Class::Reply, 1_000 + i), (Class::Broadcast, 2_000 + i)] {
                let (limiter, order) = (limiter.clone(), order.clone());
                tasks.push(tokio::spawn(async move {
                    limiter.acquire(ChatId(chat), class, None).await.unwrap();
                    order.lock().unwrap().push(class);
                }));
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap();
        let first_50 = &order[..50];
        let broadcasts = first_50.iter().filter(|c| **c == Class::Broadcast).count();
        assert_eq!(broadcasts, 10, "one slot in five while both wait: {first_50:?}");
    }

    /// Replies from three chats, two each, queued in turn behind a busy pool: each chat's
    /// come a second apart, and the chats take turns in the order they asked.
    #[tokio::test(start_paused = true)]
    async fn waiting_replies_go_in_asking_order_chat_by_chat() {
        let limiter = limiter(1000);
        let start = Instant::now();
        // Occupy every chat so that all six wait.
        for chat in 1..=3 {
            limiter.acquire(ChatId(chat), Class::Reply, None).await.unwrap();
        }
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for round in 0..2 {
            for chat in 1..=3 {
                let (limiter, order) = (limiter.clone(), order.clone());
                tasks.push(tokio::spawn(async move {
                    limiter.acquire(ChatId(chat), Class::Reply, None).await.unwrap();
                    let after = Instant::now().duration_since(start).as_millis();
                    order.lock().unwrap().push((chat, round, (after + 500) / 1000));
                }));
                tokio::task::yield_now().await;
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap();
        assert_eq!(*order, vec![(1, 0, 1), (2, 0, 1), (3, 0, 1), (1, 1, 2), (2, 1, 2), (3, 1, 2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn paid_broadcasts_have_a_pool_of_their_own() {
        let limiter =
            RateLimiter::new(Pacing { per_second: 1, paid_per_second: Some(1000), broadcast_share: 0.2 });
        limiter.acquire(ChatId(1), Class::Reply, None).await.unwrap();
        let start = Instant::now();
        for chat in 10..110 {
            broadcast(&limiter, chat).await;
        }
        assert!(
            Instant::now().duration_since(start) <= Duration::from_millis(110),
            "not held by the free pool"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_its_chat_only_and_a_caller_may_decline_to_wait() {
        let limiter = limiter(20);
        limiter.rate_limited(ChatId(1), Duration::from_secs(5));
        assert_eq!(limiter.current_rate(), 20.0);
        let start = Instant::now();
        broadcast(&limiter, 2).await;
        assert!(Instant::now().duration_since(start) < Duration::from_millis(100), "other chats go on");
        let busy = limiter.acquire(ChatId(1), Class::Broadcast, Some(Duration::from_secs(1))).await;
        assert!(busy.is_err_and(|b| b.until >= start + Duration::from_secs(4)));
        broadcast(&limiter, 1).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_for_several_chats_hold_everything_and_slow_down_once_a_second() {
        let limiter = limiter(20);
        for chat in 2..=10 {
            limiter.rate_limited(ChatId(chat), Duration::from_secs(7));
        }
        assert!((limiter.current_rate() - 14.0).abs() < 0.01, "slowed once, not nine times");
        assert!(limiter.paused_until().is_some());
        let start = Instant::now();
        broadcast(&limiter, 99).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(7), "a flood holds every chat");
        for _ in 0..20 {
            tokio::time::advance(Duration::from_secs(1)).await;
            for chat in 100..103 {
                limiter.rate_limited(ChatId(chat), Duration::from_secs(1));
            }
        }
        assert!(
            (limiter.current_rate() - 2.0).abs() < 0.01,
            "never below a tenth: {}",
            limiter.current_rate()
        );
    }

    /// A sender waiting its turn for a chat said it would wait five seconds at most; then
    /// Telegram holds that chat for a minute (a 429 to another message for it). The waiter
    /// is told at once, to put its delivery back, instead of holding its sending slot and
    /// its claim for the whole minute.
    #[tokio::test(start_paused = true)]
    async fn a_waiter_whose_chat_is_then_held_past_its_longest_wait_is_told_at_once() {
        let limiter = limiter(20);
        broadcast(&limiter, 1).await;
        let waiting = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter.acquire(ChatId(1), Class::Broadcast, Some(Duration::from_secs(5))).await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        limiter.rate_limited(ChatId(1), Duration::from_secs(60));
        let told = tokio::time::timeout(Duration::from_secs(10), waiting).await;
        let busy = told.expect("still waiting for a chat held a minute").unwrap();
        assert!(busy.is_err_and(|b| b.until >= Instant::now() + Duration::from_secs(55)));
    }

    /// However long a hold Telegram (or a proxy in its place) orders, holding does not
    /// panic, and a caller that will not wait that long is told so.
    #[tokio::test(start_paused = true)]
    async fn an_absurd_hold_neither_panics_nor_is_waited_for() {
        let limiter = limiter(20);
        for chat in 1..=3 {
            limiter.rate_limited(ChatId(chat), Duration::MAX);
        }
        let busy = limiter.acquire(ChatId(4), Class::Broadcast, Some(Duration::from_secs(5))).await;
        assert!(busy.is_err());
    }

    /// Several instances: each paces itself at its share, and a chat another instance
    /// holds is held here too, without counting as a flood.
    #[tokio::test(start_paused = true)]
    async fn a_share_of_the_rate_is_kept_to_and_a_chat_held_elsewhere_waits() {
        let limiter = limiter(30);
        limiter.set_rates(10.0, 10.0);
        assert!((limiter.current_rate() - 10.0).abs() < 0.01);
        let start = Instant::now();
        for chat in 1..=21 {
            broadcast(&limiter, chat).await;
        }
        let took = Instant::now().duration_since(start);
        assert!(took >= Duration::from_millis(1990) && took <= Duration::from_millis(2100), "{took:?}");
        limiter.hold_chat(ChatId(500), Duration::from_secs(3));
        let busy = limiter.acquire(ChatId(500), Class::Broadcast, Some(Duration::from_secs(1))).await;
        assert!(busy.is_err());
        assert!(limiter.paused_until().is_none(), "one chat held elsewhere is no flood");
        limiter.set_rates(30.0, 30.0);
        assert!((limiter.current_rate() - 30.0).abs() < 0.01);
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_recovers_after_quiet_spells() {
        let limiter = limiter(20);
        for chat in 1..=3 {
            limiter.rate_limited(ChatId(chat), Duration::from_secs(1));
        }
        let slowed = limiter.current_rate();
        assert!(slowed < 20.0);
        for _ in 0..10 {
            tokio::time::advance(QUIET_SPELL).await;
            limiter.sent_ok();
        }
        assert!((limiter.current_rate() - 20.0).abs() < 0.01, "back to the configured rate, not above");
    }
}
