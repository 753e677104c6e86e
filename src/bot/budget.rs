//! Command budgets: how much one person, and one group, may ask of the bot in a minute.
//! Past the budget the bot says so once, politely, and then stays silent until the minute
//! has passed — so a flood costs Telegram's limits one message, not one per command.
//!
//! The budgets sit under what Telegram lets the bot send back (one message a second to a
//! private chat, twenty a minute to a group), so answering within them never provokes a 429.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::ChatId;

/// The window budgets count in.
const WINDOW: Duration = Duration::from_secs(60);

/// The budgets, per minute (`bot.*_per_minute` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Commands (and dialogue messages, button presses) one person may send.
    pub per_user: u32,
    /// Of those, the costly ones: `/check`, `/report`, `/search`, forwarded messages and
    /// typed ones that get checked (a number or link in them).
    pub costly_per_user: u32,
    /// Commands one group may send, whoever sends them: Telegram lets the bot post twenty
    /// messages a minute to a group, and broadcasts need some of them.
    pub per_group: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { per_user: 20, costly_per_user: 10, per_group: 10 }
    }
}
/// Windows remembered before finished ones are forgotten.
const REMEMBERED: usize = 100_000;

/// What a request costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    Normal,
    /// Searches the database broadly, or reaches the bureau's moderators.
    Strict,
}

/// Whether to answer a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Over budget: say so (once a window), do nothing else.
    TellOnce,
    /// Over budget and already told: ignore.
    Quiet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    User(i64),
    UserStrict(i64),
    Group(i64),
}

impl Key {
    fn limit(self, limits: &Limits) -> u32 {
        match self {
            Key::User(_) => limits.per_user,
            Key::UserStrict(_) => limits.costly_per_user,
            Key::Group(_) => limits.per_group,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    used: u32,
    told: bool,
}

impl Window {
    fn refuse(&mut self) -> Verdict {
        if self.told {
            Verdict::Quiet
        } else {
            self.told = true;
            Verdict::TellOnce
        }
    }
}

#[derive(Debug, Default)]
pub struct Budgets {
    limits: Limits,
    windows: Mutex<HashMap<Key, Window>>,
    /// Set for `pingan console`: one person at their own terminal, no Telegram limits.
    unlimited: AtomicBool,
}

impl Budgets {
    pub fn new(limits: Limits) -> Budgets {
        Budgets { limits, ..Budgets::default() }
    }

    /// Lets every request through from now on.
    pub fn lift(&self) {
        self.unlimited.store(true, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spends what a request from `user` in `chat` costs, if the budgets allow it. In a
    /// group the group's budget is checked first, so that a flood there is told once.
    pub fn spend(&self, user: Option<i64>, chat: ChatId, cost: Cost) -> Verdict {
        if self.unlimited.load(Ordering::Relaxed) {
            return Verdict::Go;
        }
        let now = Instant::now();
        let mut windows = self.lock();
        if windows.len() > REMEMBERED {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let mut keys = Vec::with_capacity(3);
        if chat.is_group() {
            keys.push(Key::Group(chat.0));
        }
        if let Some(user) = user {
            if cost == Cost::Strict {
                keys.push(Key::UserStrict(user));
            }
            keys.push(Key::User(user));
        }
        // Check every budget before spending any: a refused request costs nothing.
        for key in &keys {
            let window = current(&mut windows, *key, now);
            if window.used >= key.limit(&self.limits) {
                return window.refuse();
            }
        }
        for key in keys {
            current(&mut windows, key, now).used += 1;
        }
        Verdict::Go
    }

    /// Spends one of `user`'s costly requests only, for a request found costly after it was
    /// let in (typed text checked because no dialogue took it; its normal cost is spent).
    pub fn spend_costly(&self, user: i64) -> Verdict {
        if self.unlimited.load(Ordering::Relaxed) {
            return Verdict::Go;
        }
        let now = Instant::now();
        let mut windows = self.lock();
        let key = Key::UserStrict(user);
        let window = current(&mut windows, key, now);
        if window.used >= key.limit(&self.limits) {
            return window.refuse();
        }
        window.used += 1;
        Verdict::Go
    }

    /// `chat` sent more than its queue of `queued` updates holds, and the rest was dropped.
    /// Whether to say so now: not when the updates queued already go past the budget (the
    /// refusal then comes in order, after the answers within it), and once a window.
    pub fn overflow(&self, user: Option<i64>, chat: ChatId, queued: u32) -> Verdict {
        if self.unlimited.load(Ordering::Relaxed) {
            return Verdict::Quiet;
        }
        let key = match user {
            _ if chat.is_group() => Key::Group(chat.0),
            Some(user) => Key::User(user),
            None => Key::User(chat.0),
        };
        let now = Instant::now();
        let mut windows = self.lock();
        let window = current(&mut windows, key, now);
        if window.told || window.used.saturating_add(queued) > key.limit(&self.limits) {
            return Verdict::Quiet;
        }
        window.refuse()
    }
}

/// The key's window now, starting a new one if the last has passed.
fn current(windows: &mut HashMap<Key, Window>, key: Key, now: Instant) -> &mut Window {
    let window = windows.entry(key).or_insert(Window { started: now, used: 0, told: false });
    if now.duration_since(window.started) >= WINDOW {
        *window = Window { started: now, used: 0, told: false };
    }
    window
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_person_past_the_budget_is_told_once_then_ignored_until_the_minute_passes() {
        let budgets = Budgets::default();
        let me = ChatId(42);
        for _ in 0..Limits::default().per_user {
            assert_eq!(budgets.spend(Some(42), me, Cost::Normal), Verdict::Go);
        }
        assert_eq!(budgets.spend(Some(42), me, Cost::Normal), Verdict::TellOnce);
        assert_eq!(budgets.spend(Some(42), me, Cost::Normal), Verdict::Quiet);
        assert_eq!(budgets.spend(Some(43), ChatId(43), Cost::Normal), Verdict::Go, "others are not held");
        tokio::time::advance(WINDOW).await;
        assert_eq!(budgets.spend(Some(42), me, Cost::Normal), Verdict::Go);
    }

    #[tokio::test(start_paused = true)]
    async fn costly_commands_have_a_smaller_budget_that_does_not_use_up_the_rest() {
        let budgets = Budgets::default();
        for _ in 0..Limits::default().costly_per_user {
            assert_eq!(budgets.spend(Some(7), ChatId(7), Cost::Strict), Verdict::Go);
        }
        assert_eq!(budgets.spend(Some(7), ChatId(7), Cost::Strict), Verdict::TellOnce);
        assert_eq!(budgets.spend(Some(7), ChatId(7), Cost::Normal), Verdict::Go);
    }

    #[tokio::test(start_paused = true)]
    async fn an_overflow_is_told_at_once_only_when_the_queue_would_not_tell_it() {
        let budgets = Budgets::new(Limits { per_user: 1_000, ..Limits::default() });
        assert_eq!(budgets.overflow(Some(9), ChatId(9), 32), Verdict::TellOnce, "32 queued fit the budget");
        assert_eq!(budgets.overflow(Some(9), ChatId(9), 32), Verdict::Quiet, "once");
        assert_eq!(budgets.overflow(None, ChatId(-9), 32), Verdict::Quiet, "a group of 10 says it in order");
    }

    #[tokio::test(start_paused = true)]
    async fn a_flooding_group_is_told_once_whoever_floods_it() {
        let budgets = Budgets::default();
        let group = ChatId(-100_500);
        let verdicts: Vec<Verdict> =
            (0..200).map(|i| budgets.spend(Some(1_000 + i % 3), group, Cost::Normal)).collect();
        assert_eq!(
            verdicts.iter().filter(|v| **v == Verdict::Go).count(),
            Limits::default().per_group as usize
        );
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::TellOnce).count(), 1);
        assert_eq!(
            budgets.overflow(Some(1_000), group, 32),
            Verdict::Quiet,
            "the overflow is the same flood"
        );
        assert_eq!(
            budgets.spend(Some(1_000), ChatId(1_000), Cost::Normal),
            Verdict::Go,
            "their own chat is not"
        );
    }
}
