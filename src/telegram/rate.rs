//! Pacing sends to Telegram's limits: about 30 messages a second in all, one a second to
//! one chat, twenty a minute to one group.
//!
//! Every send takes a slot. Broadcast slots are spaced `1/rate` apart and never closer
//! than a chat's own interval; a reply takes the next slot at once and pushes the
//! broadcasts behind it, so users never wait behind a broadcast. A 429 for a chat holds
//! that chat for as long as Telegram says. 429s for several chats within a second mean
//! the bot as a whole is over Telegram's limit: everything holds for the time Telegram
//! gave, and the rate drops. It creeps back up after quiet spells.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::ChatId;

/// Telegram's guide for one private chat.
const PRIVATE_CHAT_INTERVAL: Duration = Duration::from_secs(1);
/// Twenty messages a minute in one group.
const GROUP_INTERVAL: Duration = Duration::from_secs(3);
/// 429s from this many chats within a second hold all sending.
const GLOBAL_FLOOD_CHATS: usize = 3;
/// After a flood the rate drops to this share (at most once a second); after each quiet
/// spell it recovers a little, up to the configured rate.
const SLOW_DOWN: f64 = 0.7;
const RECOVER: f64 = 1.25;
const QUIET_SPELL: Duration = Duration::from_secs(5);
/// The rate never drops below this share of the configured one, nor below one a second.
const FLOOR_SHARE: u32 = 10;

fn chat_interval(chat: ChatId) -> Duration {
    if chat.is_group() { GROUP_INTERVAL } else { PRIVATE_CHAT_INTERVAL }
}

#[derive(Debug)]
struct State {
    interval: Duration,
    next_slot: Instant,
    /// When each recently used chat may next be sent to.
    chats: HashMap<i64, Instant>,
    paused_until: Instant,
    recent_429: VecDeque<(Instant, i64)>,
    last_change: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    configured: Duration,
    slowest: Duration,
    state: Mutex<State>,
}

/// Either a slot to wait for, or a chat that is busy until then (no slot is taken).
enum Turn {
    Slot(Instant),
    ChatBusyUntil(Instant),
}

impl RateLimiter {
    pub fn new(per_second: u32) -> RateLimiter {
        let configured = Duration::from_secs(1) / per_second.max(1);
        let slowest = (configured * FLOOR_SHARE).min(Duration::from_secs(1)).max(configured);
        let now = Instant::now();
        RateLimiter {
            configured,
            slowest,
            state: Mutex::new(State {
                interval: configured,
                next_slot: now,
                chats: HashMap::new(),
                paused_until: now,
                recent_429: VecDeque::new(),
                last_change: now,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent at every point a panic could leave it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The messages per second in force now.
    pub fn current_rate(&self) -> f64 {
        1.0 / self.lock().interval.as_secs_f64()
    }

    /// Waits until a broadcast message may go to `chat`.
    pub async fn until_broadcast_slot(&self, chat: ChatId) {
        loop {
            match self.take_turn(chat) {
                Turn::Slot(at) => {
                    tokio::time::sleep_until(at).await;
                    return;
                }
                // Wait for the chat without holding a global slot others could use.
                Turn::ChatBusyUntil(at) => tokio::time::sleep_until(at).await,
            }
        }
    }

    fn take_turn(&self, chat: ChatId) -> Turn {
        let mut s = self.lock();
        let now = Instant::now();
        if let Some(ready) = s.chats.get(&chat.0).copied().filter(|ready| *ready > now) {
            return Turn::ChatBusyUntil(ready);
        }
        let slot = now.max(s.next_slot).max(s.paused_until);
        s.next_slot = slot + s.interval;
        s.chats.insert(chat.0, slot + chat_interval(chat));
        if s.chats.len() > 50_000 {
            s.chats.retain(|_, ready| *ready > now);
        }
        Turn::Slot(slot)
    }

    /// When a reply may go: now, unless everything is on hold. Its slot is taken from the
    /// broadcasts, which move back by one.
    pub fn reply_slot(&self) -> Instant {
        let mut s = self.lock();
        let now = Instant::now();
        s.next_slot = s.next_slot.max(now) + s.interval;
        now.max(s.paused_until)
    }

    /// Telegram answered 429 for `chat`: hold the chat; if several chats were refused
    /// within a second, hold everything and slow down.
    pub fn rate_limited(&self, chat: ChatId, retry_after: Duration) {
        let mut s = self.lock();
        let now = Instant::now();
        let hold = now + retry_after;
        let held = s.chats.get(&chat.0).copied().unwrap_or(now).max(hold);
        s.chats.insert(chat.0, held);
        s.recent_429.push_back((now, chat.0));
        while s.recent_429.front().is_some_and(|(at, _)| now.duration_since(*at) > Duration::from_secs(1)) {
            s.recent_429.pop_front();
        }
        let mut chats: Vec<i64> = s.recent_429.iter().map(|(_, c)| *c).collect();
        chats.sort_unstable();
        chats.dedup();
        if chats.len() < GLOBAL_FLOOD_CHATS {
            return;
        }
        s.paused_until = s.paused_until.max(hold);
        if now.duration_since(s.last_change) >= Duration::from_secs(1) || s.interval == self.configured {
            s.interval = s.interval.div_f64(SLOW_DOWN).min(self.slowest);
            s.last_change = now;
            tracing::warn!(
                chats = chats.len(),
                retry_after_secs = retry_after.as_secs(),
                rate = 1.0 / s.interval.as_secs_f64(),
                "Telegram is refusing several chats; holding all sends and slowing down"
            );
        }
    }

    /// A send went through: after a quiet spell the rate recovers towards the configured one.
    pub fn sent_ok(&self) {
        let mut s = self.lock();
        let now = Instant::now();
        if s.interval > self.configured && now.duration_since(s.last_change) >= QUIET_SPELL {
            s.interval = s.interval.div_f64(RECOVER).max(self.configured);
            s.last_change = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn broadcasts_are_spaced_by_the_rate() {
        let limiter = RateLimiter::new(10);
        let start = Instant::now();
        for i in 0..20 {
            limiter.until_broadcast_slot(ChatId(i + 1)).await;
        }
        let took = Instant::now().duration_since(start);
        assert!(took >= Duration::from_millis(1900) && took <= Duration::from_millis(2000), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn one_chat_gets_one_message_a_second_and_a_group_one_every_three() {
        let limiter = RateLimiter::new(1000);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.until_broadcast_slot(ChatId(5)).await;
        }
        assert_eq!(Instant::now().duration_since(start).as_secs(), 2);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.until_broadcast_slot(ChatId(-100)).await;
        }
        assert_eq!(Instant::now().duration_since(start).as_secs(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_chat_does_not_hold_back_other_chats() {
        let limiter = RateLimiter::new(100);
        limiter.until_broadcast_slot(ChatId(1)).await;
        let start = Instant::now();
        limiter.until_broadcast_slot(ChatId(2)).await;
        assert!(Instant::now().duration_since(start) <= Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn replies_go_first_and_push_broadcasts_back() {
        let limiter = RateLimiter::new(1);
        limiter.until_broadcast_slot(ChatId(1)).await;
        let reply = limiter.reply_slot();
        assert!(reply <= Instant::now(), "a reply does not wait for the broadcast pace");
        let start = Instant::now();
        limiter.until_broadcast_slot(ChatId(2)).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(2), "two slots used");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_its_chat_only() {
        let limiter = RateLimiter::new(20);
        limiter.rate_limited(ChatId(1), Duration::from_secs(5));
        assert_eq!(limiter.current_rate(), 20.0);
        let start = Instant::now();
        limiter.until_broadcast_slot(ChatId(2)).await;
        assert!(Instant::now().duration_since(start) < Duration::from_millis(100), "other chats go on");
        limiter.until_broadcast_slot(ChatId(1)).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_for_several_chats_hold_everything_and_slow_down_once_a_second() {
        let limiter = RateLimiter::new(20);
        for chat in 2..=10 {
            limiter.rate_limited(ChatId(chat), Duration::from_secs(7));
        }
        assert!((limiter.current_rate() - 14.0).abs() < 0.01, "slowed once, not nine times");
        let start = Instant::now();
        limiter.until_broadcast_slot(ChatId(99)).await;
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

    #[tokio::test(start_paused = true)]
    async fn the_rate_recovers_after_quiet_spells() {
        let limiter = RateLimiter::new(20);
        for chat in 1..=3 {
            limiter.rate_limited(ChatId(chat), Duration::from_secs(1));
        }
        let slowed = limiter.current_rate();
        assert!(slowed < 20.0);
        for _ in 0..10 {
            tokio::time::advance(QUIET_SPELL).await;
            limiter.sent_ok();
        }
        assert!(limiter.current_rate() > slowed);
        assert!((limiter.current_rate() - 20.0).abs() < 0.01, "back to the configured rate, not above");
    }
}
