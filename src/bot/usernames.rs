//! What this process last noted of each person's @username, so that a private message
//! whose sender's username has not changed costs no database read (`note_username` in the
//! handlers; the store itself writes only on a change, see `UsernameStore::note_username`).
//!
//! Bounded ([`REMEMBERED`] people) and short-lived ([`FRESH`]): another instance may have
//! noted a different username since, or a newer holder of the spelling have taken the row;
//! past [`FRESH`] the store is asked again. `/forget` drops the person's entry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// People remembered before the stale entries, and then all, are dropped.
pub const REMEMBERED: usize = 10_000;
/// How long an entry saves the store's read.
pub const FRESH: Duration = Duration::from_secs(600);

/// The username last noted (`None` for none) and when.
type Noted = (Option<Box<str>>, Instant);

/// User id → what was last noted of them.
#[derive(Debug, Default)]
pub struct NotedUsernames {
    noted: Mutex<HashMap<i64, Noted>>,
}

impl NotedUsernames {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Noted>> {
        // A map of hints: whatever a panic left in it is still a valid map.
        self.noted.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this process noted `username` (exactly this spelling, or `None`) for `user`
    /// within [`FRESH`].
    pub fn is_noted(&self, user: i64, username: Option<&str>) -> bool {
        self.lock().get(&user).is_some_and(|(name, at)| name.as_deref() == username && at.elapsed() < FRESH)
    }

    /// The store now holds `username` for `user`.
    pub fn noted(&self, user: i64, username: Option<&str>) {
        let mut noted = self.lock();
        if noted.len() >= REMEMBERED && !noted.contains_key(&user) {
            noted.retain(|_, (_, at)| at.elapsed() < FRESH);
            if noted.len() >= REMEMBERED {
                noted.clear();
            }
        }
        noted.insert(user, (username.map(Box::from), Instant::now()));
    }

    /// Drops what is remembered of `user` (`/forget` deleted their row).
    pub fn forget(&self, user: i64) {
        self.lock().remove(&user);
    }

    /// People remembered now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nobody is remembered.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_spelling_noted_and_forgets_on_request() {
        let cache = NotedUsernames::default();
        assert!(!cache.is_noted(1, Some("Li_Ming")));
        cache.noted(1, Some("Li_Ming"));
        assert!(cache.is_noted(1, Some("Li_Ming")));
        assert!(!cache.is_noted(1, Some("li_ming")), "a new spelling is written");
        assert!(!cache.is_noted(1, None), "a dropped username is written");
        cache.noted(2, None);
        assert!(cache.is_noted(2, None));
        cache.forget(1);
        assert!(!cache.is_noted(1, Some("Li_Ming")));
    }

    #[test]
    fn stays_bounded() {
        let cache = NotedUsernames::default();
        for user in 0..(REMEMBERED as i64 + 5) {
            cache.noted(user, Some("x"));
        }
        assert!(cache.len() <= REMEMBERED);
        assert!(cache.is_noted(REMEMBERED as i64 + 4, Some("x")));
    }
}
