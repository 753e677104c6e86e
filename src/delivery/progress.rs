//! How far a fan-out has come, and when it should finish: what `pingan deliveries` prints
//! and what an editor's status message shows.

use chrono::{DateTime, Duration, Utc};

/// When `waiting` deliveries should be out, at `rate` messages a second; `None` once
/// nothing is left.
pub fn expected_finish(waiting: u64, rate: f64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if waiting == 0 {
        return None;
    }
    let seconds = waiting as f64 / rate.max(0.001);
    Some(now + Duration::milliseconds((seconds * 1000.0).ceil() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remaining_deliveries_at_the_rate_give_the_finish() {
        let now = Utc::now();
        assert_eq!(expected_finish(50, 25.0, now), Some(now + Duration::seconds(2)));
        assert_eq!(expected_finish(0, 25.0, now), None);
    }
}
