//! When a subscriber's digests are due: at a local time of day, daily or weekly, in the
//! subscriber's time zone, across daylight-saving changes; and when a fan-out should finish.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{DigestTime, Frequency};

/// The first moment after `after` at which a digest with these settings is due, or `None`
/// for `Frequency::Off`.
///
/// A local time that does not exist that day (clocks jump forward over it) is due when
/// the clocks jump; a local time that happens twice (clocks go back) is due the first time.
pub fn next_digest_after(
    frequency: Frequency,
    time: DigestTime,
    zone: Tz,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut date = after.with_timezone(&zone).date_naive();
    // Two weeks of candidate days always hold the next due day, whatever the zone does.
    for _ in 0..15 {
        let wanted = match frequency {
            Frequency::Off => return None,
            Frequency::Daily => true,
            Frequency::Weekly(day) => date.weekday() == day,
        };
        if wanted {
            let due = resolve(zone, date.and_time(time.time()));
            if due > after {
                return Some(due);
            }
        }
        date = date.succ_opt()?;
    }
    None
}

/// A local wall-clock time as a moment in `zone`.
fn resolve(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: the first minute that exists is when the clocks jumped.
            (1..=24 * 60)
                .map(|m| local + Duration::minutes(m))
                .find_map(|t| zone.from_local_datetime(&t).earliest())
                .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
        }
    }
}

/// How far back the first digest of a new subscriber looks.
pub fn digest_period(frequency: Frequency) -> Duration {
    match frequency {
        Frequency::Weekly(_) => Duration::weeks(1),
        Frequency::Daily | Frequency::Off => Duration::days(1),
    }
}

/// The local date of a moment in `zone`.
pub fn local_date(t: DateTime<Utc>, zone: Tz) -> NaiveDate {
    t.with_timezone(&zone).date_naive()
}

/// When `waiting` deliveries should be out, at `rate` messages a second; `None` once
/// nothing is left. What `pingan deliveries` and an editor's status message show.
pub fn expected_finish(waiting: u64, rate: f64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if waiting == 0 {
        return None;
    }
    let seconds = waiting as f64 / rate.max(0.001);
    Some(now + Duration::milliseconds((seconds * 1000.0).ceil() as i64))
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;
    use chrono_tz::{America, Asia, Europe};

    use super::*;

    #[test]
    fn the_remaining_deliveries_at_the_rate_give_the_finish() {
        let now = Utc::now();
        assert_eq!(expected_finish(50, 25.0, now), Some(now + Duration::seconds(2)));
        assert_eq!(expected_finish(0, 25.0, now), None);
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn at(time: &str) -> DigestTime {
        time.parse().unwrap()
    }

    /// Each due moment after the previous one, `n` times.
    fn series(f: Frequency, time: &str, zone: Tz, start: &str, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut after = utc(start);
        for _ in 0..n {
            after = next_digest_after(f, at(time), zone, after).unwrap();
            out.push(after);
        }
        out
    }

    #[test]
    fn daily_digests_come_at_local_time() {
        let due = series(Frequency::Daily, "08:00", Asia::Shanghai, "2026-11-28T01:00:00Z", 2);
        assert_eq!(due, [utc("2026-11-29T00:00:00Z"), utc("2026-11-30T00:00:00Z")]);
        let today =
            next_digest_after(Frequency::Daily, at("08:00"), Asia::Shanghai, utc("2026-11-27T23:59:00Z"));
        assert_eq!(today, Some(utc("2026-11-28T00:00:00Z")));
    }

    #[test]
    fn berlin_spring_forward_skips_no_day_and_sends_a_missing_time_when_clocks_jump() {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST.
        let due = series(Frequency::Daily, "02:30", Europe::Berlin, "2026-03-27T12:00:00Z", 4);
        assert_eq!(
            due,
            [
                utc("2026-03-28T01:30:00Z"), // 02:30 CET
                utc("2026-03-29T01:00:00Z"), // 02:30 does not exist: 03:00 CEST, when the clocks jump
                utc("2026-03-30T00:30:00Z"), // 02:30 CEST
                utc("2026-03-31T00:30:00Z"),
            ]
        );
        let eight = series(Frequency::Daily, "08:00", Europe::Berlin, "2026-03-28T12:00:00Z", 2);
        assert_eq!(eight, [utc("2026-03-29T06:00:00Z"), utc("2026-03-30T06:00:00Z")]);
    }

    #[test]
    fn berlin_fall_back_sends_a_repeated_time_once() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
        let due = series(Frequency::Daily, "02:30", Europe::Berlin, "2026-10-24T12:00:00Z", 2);
        assert_eq!(due, [utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")]);
    }

    #[test]
    fn new_york_changes_both_ways() {
        // 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
        let spring = series(Frequency::Daily, "02:15", America::New_York, "2026-03-07T12:00:00Z", 2);
        assert_eq!(spring, [utc("2026-03-08T07:00:00Z"), utc("2026-03-09T06:15:00Z")]);
        let fall = series(Frequency::Daily, "01:30", America::New_York, "2026-10-31T12:00:00Z", 2);
        assert_eq!(fall, [utc("2026-11-01T05:30:00Z"), utc("2026-11-02T06:30:00Z")]);
        let morning = series(Frequency::Daily, "07:00", America::New_York, "2026-10-31T12:00:00Z", 2);
        assert_eq!(morning, [utc("2026-11-01T12:00:00Z"), utc("2026-11-02T12:00:00Z")]);
    }

    #[test]
    fn weekly_digests_come_on_their_weekday() {
        // 2026-11-28 is a Saturday.
        let due = series(Frequency::Weekly(Weekday::Mon), "08:00", Asia::Shanghai, "2026-11-28T00:00:00Z", 2);
        assert_eq!(due, [utc("2026-11-30T00:00:00Z"), utc("2026-12-07T00:00:00Z")]);
        let across_dst =
            series(Frequency::Weekly(Weekday::Sun), "09:00", Europe::Berlin, "2026-03-22T12:00:00Z", 1);
        assert_eq!(across_dst, [utc("2026-03-29T07:00:00Z")]);
    }

    #[test]
    fn no_digest_when_switched_off() {
        assert_eq!(next_digest_after(Frequency::Off, at("08:00"), Asia::Shanghai, Utc::now()), None);
    }
}
