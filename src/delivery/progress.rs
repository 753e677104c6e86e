//! How far a fan-out has come, and when it should finish: what `pingan deliveries` prints
//! and what an editor's status message shows.

use chrono::{DateTime, Duration, Utc};

use crate::store::FanoutProgress;

/// When the fan-out's remaining deliveries should be out, at `rate` messages a second;
/// `None` once nothing is left.
pub fn expected_finish(progress: &FanoutProgress, rate: f64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let waiting = progress.pending + progress.sending;
    if waiting == 0 {
        return None;
    }
    let seconds = waiting as f64 / rate.max(0.001);
    Some(now + Duration::milliseconds((seconds * 1000.0).ceil() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FanoutKind;

    fn progress(pending: u64, sent: u64) -> FanoutProgress {
        FanoutProgress {
            id: 1,
            key: "alert:1".into(),
            kind: FanoutKind::Alert,
            notice_id: None,
            created_at: Utc::now(),
            pending,
            sending: 0,
            sent,
            failed: 0,
            gone: 0,
            last_sent_at: None,
        }
    }

    #[test]
    fn the_remaining_deliveries_at_the_rate_give_the_finish() {
        let now = Utc::now();
        assert_eq!(expected_finish(&progress(50, 10), 25.0, now), Some(now + Duration::seconds(2)));
        assert_eq!(expected_finish(&progress(0, 60), 25.0, now), None);
    }
}
