//! Times people type ("2026-12-01 08:00"), read in a time zone.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    #[error("not a time: {0:?} (expected YYYY-MM-DD HH:MM, YYYY-MM-DD, or RFC 3339 with an offset)")]
    Unreadable(String),
    #[error("{time} does not exist in {zone}: the clocks skip that hour")]
    Skipped { time: NaiveDateTime, zone: Tz },
}

/// Reads `text` as a moment. Without an offset it is local time in `zone`; a time that
/// occurs twice (when clocks go back) means the first of the two. Years have four digits,
/// as in RFC 3339: chrono would also read `+99999-01-01`, which no one means.
pub fn parse_local_time(text: &str, zone: Tz) -> Result<DateTime<Utc>, LocalTimeError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| d.and_time(NaiveTime::MIN)))
        .filter(|t| (1..=9999).contains(&t.year()))
        .ok_or_else(|| LocalTimeError::Unreadable(text.to_owned()))?;
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeError::Skipped { time: naive, zone }),
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::{America, Asia, Europe};

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn local_times_are_read_in_the_zone() {
        assert_eq!(parse_local_time("2026-12-01 08:00", Asia::Shanghai), Ok(utc("2026-12-01T00:00:00Z")));
        assert_eq!(parse_local_time("2026-12-01", Asia::Shanghai), Ok(utc("2026-11-30T16:00:00Z")));
        assert_eq!(
            parse_local_time("2026-12-01T08:00:00+01:00", Asia::Shanghai),
            Ok(utc("2026-12-01T07:00:00Z"))
        );
    }

    #[test]
    fn skipped_times_are_refused_and_repeated_times_take_the_first() {
        let err = parse_local_time("2026-03-29 02:30", Europe::Berlin).unwrap_err();
        assert!(matches!(err, LocalTimeError::Skipped { .. }), "{err}");
        // 01:30 happens twice in New York on 2026-11-01: first in EDT (UTC-4).
        assert_eq!(parse_local_time("2026-11-01 01:30", America::New_York), Ok(utc("2026-11-01T05:30:00Z")));
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(matches!(parse_local_time("tomorrow", Asia::Shanghai), Err(LocalTimeError::Unreadable(_))));
    }

    #[test]
    fn years_outside_four_digits_are_refused_in_every_zone() {
        for zone in
            [Asia::Shanghai, America::New_York, chrono_tz::Pacific::Kiritimati, chrono_tz::Etc::GMTPlus12]
        {
            for text in [
                "+262142-12-31 23:59",
                "-262143-01-01 00:00",
                "+99999-01-01",
                "+10000-01-01 00:00",
                "-0001-01-01",
                "0000-01-01",
                "99999999",
            ] {
                assert!(
                    matches!(parse_local_time(text, zone), Err(LocalTimeError::Unreadable(_))),
                    "{text} in {zone}"
                );
            }
            assert!(parse_local_time("9999-12-31 23:59", zone).is_ok(), "{zone}");
            assert!(
                parse_local_time("9999-12-31T23:59:59-14:00", zone).is_ok(),
                "past 9999 in UTC, still a time"
            );
        }
    }
}
