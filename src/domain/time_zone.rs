//! Reading time zones people type: IANA names, cities in English and Chinese, and UTC
//! offsets with the sign people mean.
//!
//! | written | read as |
//! |---|---|
//! | an IANA name in any case: `Asia/Shanghai`, `europe/berlin` | that zone |
//! | an English city chrono-tz names: `Berlin`, `New York`, `tokyo` | that city's zone |
//! | a name in [`NAMES`]: `北京`, `北京时间`, `东京`, `纽约`, `Beijing` | the zone of the table |
//! | an offset: `GMT+8`, `UTC+8`, `UTC+08:00`, `+08:00`, `+0800`, `UTC-5`, `UTC+5:30`, `东八区`, `西五区` | the usual zone of that offset ([`zone_for_offset`]) |
//!
//! An offset means what people mean by it: `GMT+8` is eight hours *ahead* of UTC
//! (Beijing). IANA's `Etc/GMT+8` is the opposite (POSIX TZ signs, eight hours *behind*),
//! so offsets are never looked up as `Etc/GMT` names; an IANA name typed in full
//! (`Etc/GMT-8`) is still taken as IANA defines it.

use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

use super::typed::normalize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {typed:?}")]
pub struct UnknownZone {
    pub typed: String,
    /// The closest real name, when one is close enough to be what was meant.
    pub suggestion: Option<Tz>,
}

/// How a typed zone was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneReading {
    /// A name: IANA, a city, or one of [`NAMES`].
    Named(Tz),
    /// A UTC offset (seconds east of UTC: `GMT+8` is 28 800), and the zone it was taken as.
    Offset { seconds: i32, zone: Tz },
}

impl ZoneReading {
    pub fn zone(self) -> Tz {
        match self {
            ZoneReading::Named(zone) | ZoneReading::Offset { zone, .. } => zone,
        }
    }
}

/// Names chrono-tz does not know, in Chinese and English, and the zone each means. One
/// entry per name, compared ignoring ASCII case and with traditional characters folded;
/// `时间`, `标准时间` or `时区` after a name is also read (`北京时间`, `東京時間`).
pub const NAMES: &[(&str, Tz)] = &[
    ("北京", chrono_tz::Asia::Shanghai),
    ("中国", chrono_tz::Asia::Shanghai),
    ("上海", chrono_tz::Asia::Shanghai),
    ("广州", chrono_tz::Asia::Shanghai),
    ("深圳", chrono_tz::Asia::Shanghai),
    ("天津", chrono_tz::Asia::Shanghai),
    ("重庆", chrono_tz::Asia::Shanghai),
    ("成都", chrono_tz::Asia::Shanghai),
    ("武汉", chrono_tz::Asia::Shanghai),
    ("杭州", chrono_tz::Asia::Shanghai),
    ("南京", chrono_tz::Asia::Shanghai),
    ("西安", chrono_tz::Asia::Shanghai),
    ("香港", chrono_tz::Asia::Hong_Kong),
    ("澳门", chrono_tz::Asia::Macau),
    ("台北", chrono_tz::Asia::Taipei),
    ("台湾", chrono_tz::Asia::Taipei),
    ("东京", chrono_tz::Asia::Tokyo),
    ("日本", chrono_tz::Asia::Tokyo),
    ("首尔", chrono_tz::Asia::Seoul),
    ("韩国", chrono_tz::Asia::Seoul),
    ("新加坡", chrono_tz::Asia::Singapore),
    ("吉隆坡", chrono_tz::Asia::Kuala_Lumpur),
    ("曼谷", chrono_tz::Asia::Bangkok),
    ("河内", chrono_tz::Asia::Bangkok),
    ("胡志明市", chrono_tz::Asia::Ho_Chi_Minh),
    ("雅加达", chrono_tz::Asia::Jakarta),
    ("马尼拉", chrono_tz::Asia::Manila),
    ("新德里", chrono_tz::Asia::Kolkata),
    ("印度", chrono_tz::Asia::Kolkata),
    ("迪拜", chrono_tz::Asia::Dubai),
    ("莫斯科", chrono_tz::Europe::Moscow),
    ("伦敦", chrono_tz::Europe::London),
    ("英国", chrono_tz::Europe::London),
    ("巴黎", chrono_tz::Europe::Paris),
    ("柏林", chrono_tz::Europe::Berlin),
    ("德国", chrono_tz::Europe::Berlin),
    ("罗马", chrono_tz::Europe::Rome),
    ("雅典", chrono_tz::Europe::Athens),
    ("马德里", chrono_tz::Europe::Madrid),
    ("阿姆斯特丹", chrono_tz::Europe::Amsterdam),
    ("纽约", chrono_tz::America::New_York),
    ("华盛顿", chrono_tz::America::New_York),
    ("芝加哥", chrono_tz::America::Chicago),
    ("洛杉矶", chrono_tz::America::Los_Angeles),
    ("旧金山", chrono_tz::America::Los_Angeles),
    ("西雅图", chrono_tz::America::Los_Angeles),
    ("温哥华", chrono_tz::America::Vancouver),
    ("多伦多", chrono_tz::America::Toronto),
    ("圣保罗", chrono_tz::America::Sao_Paulo),
    ("悉尼", chrono_tz::Australia::Sydney),
    ("墨尔本", chrono_tz::Australia::Melbourne),
    ("奥克兰", chrono_tz::Pacific::Auckland),
    ("协调世界时", chrono_tz::UTC),
    ("世界时", chrono_tz::UTC),
    ("Universal time", chrono_tz::UTC),
    ("Coordinated Universal Time", chrono_tz::UTC),
    ("Beijing", chrono_tz::Asia::Shanghai),
    ("China", chrono_tz::Asia::Shanghai),
    ("India", chrono_tz::Asia::Kolkata),
    ("Delhi", chrono_tz::Asia::Kolkata),
    ("New Delhi", chrono_tz::Asia::Kolkata),
    ("Mumbai", chrono_tz::Asia::Kolkata),
    ("Hanoi", chrono_tz::Asia::Bangkok),
    ("Washington", chrono_tz::America::New_York),
    ("San Francisco", chrono_tz::America::Los_Angeles),
    ("Seattle", chrono_tz::America::Los_Angeles),
    ("São Paulo", chrono_tz::America::Sao_Paulo),
];

/// The usual zone of each UTC offset people type (seconds east of UTC), one per offset:
/// the most populous zone of that offset, or the one whose name readers know. Zones that
/// observe daylight-saving time are listed under their standard offset (`UTC-5` is New
/// York, which is UTC-4 in summer).
pub const OFFSET_ZONES: &[(i32, Tz)] = &[
    (-11 * 3600, chrono_tz::Pacific::Pago_Pago),
    (-10 * 3600, chrono_tz::Pacific::Honolulu),
    (-9 * 3600 - 1800, chrono_tz::Pacific::Marquesas),
    (-9 * 3600, chrono_tz::America::Anchorage),
    (-8 * 3600, chrono_tz::America::Los_Angeles),
    (-7 * 3600, chrono_tz::America::Denver),
    (-6 * 3600, chrono_tz::America::Chicago),
    (-5 * 3600, chrono_tz::America::New_York),
    (-4 * 3600, chrono_tz::America::Halifax),
    (-3 * 3600 - 1800, chrono_tz::America::St_Johns),
    (-3 * 3600, chrono_tz::America::Sao_Paulo),
    (-2 * 3600, chrono_tz::America::Noronha),
    (-3600, chrono_tz::Atlantic::Azores),
    (0, chrono_tz::UTC),
    (3600, chrono_tz::Europe::Berlin),
    (2 * 3600, chrono_tz::Europe::Athens),
    (3 * 3600, chrono_tz::Europe::Moscow),
    (3 * 3600 + 1800, chrono_tz::Asia::Tehran),
    (4 * 3600, chrono_tz::Asia::Dubai),
    (4 * 3600 + 1800, chrono_tz::Asia::Kabul),
    (5 * 3600, chrono_tz::Asia::Karachi),
    (5 * 3600 + 1800, chrono_tz::Asia::Kolkata),
    (5 * 3600 + 2700, chrono_tz::Asia::Kathmandu),
    (6 * 3600, chrono_tz::Asia::Dhaka),
    (6 * 3600 + 1800, chrono_tz::Asia::Yangon),
    (7 * 3600, chrono_tz::Asia::Bangkok),
    (8 * 3600, chrono_tz::Asia::Shanghai),
    (9 * 3600, chrono_tz::Asia::Tokyo),
    (9 * 3600 + 1800, chrono_tz::Australia::Darwin),
    (10 * 3600, chrono_tz::Australia::Sydney),
    (11 * 3600, chrono_tz::Pacific::Noumea),
    (12 * 3600, chrono_tz::Pacific::Auckland),
    (13 * 3600, chrono_tz::Pacific::Tongatapu),
    (14 * 3600, chrono_tz::Pacific::Kiritimati),
];

/// The zone an offset typed at `now` stands for: `home` (the bureau's `bot.time_zone`)
/// when it has that offset now or half a year from now (its standard or summer time),
/// else the zone of [`OFFSET_ZONES`], else for a whole hour the fixed zone IANA calls
/// `Etc/GMT∓N` — with IANA's inverted sign: UTC-12 is `Etc/GMT+12`.
pub fn zone_for_offset(seconds: i32, home: Tz, now: DateTime<Utc>) -> Option<Tz> {
    let home_has_it =
        [now, now + Duration::days(182)].iter().any(|t| utc_offset_seconds(home, *t) == seconds);
    if home_has_it {
        return Some(home);
    }
    if let Some((_, zone)) = OFFSET_ZONES.iter().find(|(s, _)| *s == seconds) {
        return Some(*zone);
    }
    if seconds % 3600 != 0 || !(-12 * 3600..=14 * 3600).contains(&seconds) {
        return None;
    }
    let hours = seconds / 3600;
    // IANA's Etc zones use POSIX signs: "Etc/GMT-8" is eight hours ahead of UTC.
    let name = format!("Etc/GMT{}{}", if hours > 0 { '-' } else { '+' }, hours.abs());
    name.parse().ok()
}

/// A zone's offset from UTC at `at`, in seconds east.
pub fn utc_offset_seconds(zone: Tz, at: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()
}

/// An offset as people write it and [`parse_time_zone`] reads it: `UTC+8`, `UTC+5:30`,
/// `UTC-3:30`, `UTC+0`.
pub fn utc_offset_label(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let (hours, minutes) = (seconds.unsigned_abs() / 3600, seconds.unsigned_abs() % 3600 / 60);
    if minutes == 0 { format!("UTC{sign}{hours}") } else { format!("UTC{sign}{hours}:{minutes:02}") }
}

/// Reads what someone typed as a zone (see the module documentation). `home` is the
/// bureau's zone, preferred for an offset it has; `now` is when offsets are compared.
pub fn parse_time_zone(typed: &str, home: Tz, now: DateTime<Utc>) -> Result<ZoneReading, UnknownZone> {
    let text = normalize(typed);
    let unknown = || UnknownZone { typed: text.clone(), suggestion: None };
    if text.chars().count() > 64 {
        return Err(unknown());
    }
    if let Some(seconds) = parse_offset(&text) {
        return zone_for_offset(seconds, home, now)
            .map(|zone| ZoneReading::Offset { seconds, zone })
            .ok_or_else(unknown);
    }
    if let Some(zone) = named(&text) {
        return Ok(ZoneReading::Named(zone));
    }
    let wanted = text.replace(' ', "_");
    let exact = TZ_VARIANTS.iter().find(|z| z.name().eq_ignore_ascii_case(&wanted));
    if let Some(zone) = exact.filter(|z| z.name().contains('/')) {
        return Ok(ZoneReading::Named(*zone));
    }
    // A city before an old top-level alias of the same name: `Singapore` is Asia/Singapore.
    let by_city: Vec<Tz> = TZ_VARIANTS
        .iter()
        // `Etc/GMT+8` is not a city called "GMT+8" (see the module documentation).
        .filter(|z| z.name().contains('/') && !z.name().starts_with("Etc/"))
        .filter(|z| z.name().rsplit('/').next().is_some_and(|city| city.eq_ignore_ascii_case(&wanted)))
        .copied()
        .collect();
    if let [zone] = by_city.as_slice() {
        return Ok(ZoneReading::Named(*zone));
    }
    if let Some(zone) = exact {
        return Ok(ZoneReading::Named(*zone));
    }
    // A zone as the settings show it, name then offset (`北京时间 UTC+8`): the name, when
    // it has that offset now or half a year on.
    if let Some((name, offset)) = text.rsplit_once(' ') {
        if let (Some(seconds), Ok(ZoneReading::Named(zone))) =
            (parse_offset(offset), parse_time_zone(name, home, now))
        {
            if [now, now + Duration::days(182)].iter().any(|t| utc_offset_seconds(zone, *t) == seconds) {
                return Ok(ZoneReading::Named(zone));
            }
        }
    }
    Err(UnknownZone { typed: text.clone(), suggestion: closest(&wanted) })
}

/// A name of [`NAMES`], with or without `时间`/`时区` after it.
fn named(text: &str) -> Option<Tz> {
    let simplified = super::hanzi::to_simplified(text);
    let mut candidates = vec![simplified.as_ref()];
    for suffix in ["标准时间", "时间", "时区"] {
        if let Some(stem) = simplified.strip_suffix(suffix) {
            candidates.push(stem);
        }
    }
    candidates
        .into_iter()
        .find_map(|name| NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, zone)| *zone))
}

/// `GMT+8`, `UTC+08:00`, `+0800`, `utc-5`, `UTC+5:30`, `东八区`: seconds east of UTC, or
/// `None` when `text` is not an offset. Offsets run from -12:00 to +14:00, in quarter
/// hours as the world's zones do.
fn parse_offset(text: &str) -> Option<i32> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    let compact = super::hanzi::to_simplified(&compact).into_owned();
    if let Some(seconds) = chinese_offset(&compact) {
        return Some(seconds);
    }
    let rest =
        ["utc", "gmt", "ut", "z"].iter().find_map(|prefix| compact.strip_prefix(prefix)).unwrap_or(&compact);
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        _ => return None,
    };
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i32>().ok())
            .flatten()
    };
    let (hours, minutes) = match digits.split_once([':', '.']) {
        Some((h, m)) if m.len() == 2 => (number(h)?, number(m)?),
        Some(_) => return None,
        None if digits.len() == 4 => (number(&digits[..2])?, number(&digits[2..])?),
        None => (number(digits)?, 0),
    };
    if minutes % 15 != 0 || minutes >= 60 {
        return None;
    }
    let seconds = sign * (hours * 3600 + minutes * 60);
    (-12 * 3600..=14 * 3600).contains(&seconds).then_some(seconds)
}

/// `东八区` (the eighth zone east, UTC+8), `西五区` (UTC-5).
fn chinese_offset(text: &str) -> Option<i32> {
    let rest = text.strip_suffix("时区").or_else(|| text.strip_suffix('区'))?;
    let (sign, number) =
        if let Some(n) = rest.strip_prefix('东') { (1, n) } else { (-1, rest.strip_prefix('西')?) };
    let hours = super::time_of_day::chinese_number(number).filter(|h| (1..=12).contains(h))?;
    Some(sign * i32::try_from(hours).ok()? * 3600)
}

/// The zone whose name (or city) is within a few edits of `typed`.
fn closest(typed: &str) -> Option<Tz> {
    let typed = typed.to_ascii_lowercase();
    let length = typed.chars().count();
    let allowed = (length / 4).clamp(1, 3);
    // Names differing in length by more than `allowed` are further apart than that, so
    // they are not measured: a 4 000-character message would otherwise cost 600 edit
    // distances of 4 000 × 30 steps (found by the `time` fuzz target at 66 inputs/s).
    let near = |name: &str| name.chars().count().abs_diff(length) <= allowed;
    TZ_VARIANTS
        .iter()
        .filter(|z| z.name().contains('/'))
        .filter(|z| near(z.name()) || near(z.name().rsplit('/').next().unwrap_or_default()))
        .map(|z| {
            let name = z.name().to_ascii_lowercase();
            let city = name.rsplit('/').next().unwrap_or_default().to_owned();
            (edit_distance(&typed, &name).min(edit_distance(&typed, &city)), *z)
        })
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, zone)| (*distance, zone.name().len()))
        .map(|(_, zone)| zone)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use chrono_tz::{America, Asia, Europe};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    }

    fn zone(typed: &str) -> Result<Tz, UnknownZone> {
        parse_time_zone(typed, Asia::Shanghai, now()).map(ZoneReading::zone)
    }

    #[test]
    fn names_are_read_in_any_case_and_cities_alone() {
        assert_eq!(zone("Europe/Berlin"), Ok(Europe::Berlin));
        assert_eq!(zone("asia/shanghai"), Ok(Asia::Shanghai));
        assert_eq!(zone("New York"), Ok(America::New_York));
        assert_eq!(zone("Berlin"), Ok(Europe::Berlin));
        assert_eq!(zone("Singapore"), Ok(Asia::Singapore), "the city, not the old alias");
        assert_eq!(zone("UTC"), Ok(chrono_tz::UTC));
        assert_eq!(zone("Etc/GMT-8"), Ok(chrono_tz::Etc::GMTMinus8), "an IANA name typed in full is IANA's");
    }

    #[test]
    fn offsets_have_the_sign_people_mean() {
        for typed in [
            "GMT+8",
            "UTC+8",
            "utc+08:00",
            "+08:00",
            "+0800",
            "+8",
            "ＵＴＣ＋８",
            "东八区",
            "東八區",
            "UTC +8",
        ] {
            let read = parse_time_zone(typed, Asia::Shanghai, now());
            assert_eq!(read, Ok(ZoneReading::Offset { seconds: 8 * 3600, zone: Asia::Shanghai }), "{typed}");
        }
        assert_eq!(zone("UTC-5"), Ok(America::New_York));
        assert_eq!(zone("GMT\u{2212}5"), Ok(America::New_York));
        assert_eq!(zone("西五区"), Ok(America::New_York));
        assert_eq!(zone("UTC+5:30"), Ok(Asia::Kolkata));
        assert_eq!(zone("UTC+9"), Ok(Asia::Tokyo));
        assert_eq!(zone("UTC+0"), Ok(chrono_tz::UTC));
        assert_eq!(zone("UTC-12"), Ok(chrono_tz::Etc::GMTPlus12), "no city: the fixed zone, IANA's sign");
        for bad in ["UTC+15", "UTC+5:20", "+123", "GMT+", "东十三区"] {
            assert!(zone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_offset_zone_has_its_offset_in_standard_time() {
        // January and July: one of them is standard time in either hemisphere.
        let jan = Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap();
        let jul = Utc.with_ymd_and_hms(2026, 7, 15, 0, 0, 0).unwrap();
        for (seconds, zone) in OFFSET_ZONES {
            let (a, b) = (utc_offset_seconds(*zone, jan), utc_offset_seconds(*zone, jul));
            assert_eq!(a.min(b), *seconds, "{zone}");
        }
        for hours in -12..=14 {
            let zone = zone_for_offset(hours * 3600, Asia::Shanghai, now()).unwrap();
            let offsets = [utc_offset_seconds(zone, jan), utc_offset_seconds(zone, jul)];
            assert_eq!(offsets.iter().min(), Some(&(hours * 3600)), "{hours}: {zone}");
        }
    }

    #[test]
    fn the_bureaus_zone_comes_first_for_its_offset() {
        let read = |typed: &str, home: Tz| parse_time_zone(typed, home, now()).map(ZoneReading::zone);
        assert_eq!(read("UTC+8", Asia::Hong_Kong), Ok(Asia::Hong_Kong));
        // Berlin is UTC+1 in winter and UTC+2 in summer: both are Berlin's for a Berlin bureau.
        assert_eq!(read("UTC+2", Europe::Berlin), Ok(Europe::Berlin));
        assert_eq!(read("UTC+2", Asia::Shanghai), Ok(Europe::Athens));
    }

    #[test]
    fn chinese_and_english_city_names() {
        for (typed, expected) in [
            ("北京", Asia::Shanghai),
            ("北京时间", Asia::Shanghai),
            ("北京時間", Asia::Shanghai),
            ("东京", Asia::Tokyo),
            ("东京时间", Asia::Tokyo),
            ("首尔", Asia::Seoul),
            ("新加坡", Asia::Singapore),
            ("香港", Asia::Hong_Kong),
            ("台北", Asia::Taipei),
            ("伦敦", Europe::London),
            ("纽约", America::New_York),
            ("柏林", Europe::Berlin),
            ("巴黎", Europe::Paris),
            ("悉尼", chrono_tz::Australia::Sydney),
            ("Beijing", Asia::Shanghai),
            ("beijing", Asia::Shanghai),
            ("Tokyo", Asia::Tokyo),
        ] {
            assert_eq!(zone(typed), Ok(expected), "{typed}");
        }
    }

    #[test]
    fn a_zone_is_read_as_the_settings_show_it() {
        assert_eq!(zone("北京时间 UTC+8"), Ok(Asia::Shanghai));
        assert_eq!(zone("Beijing UTC+8"), Ok(Asia::Shanghai));
        assert_eq!(zone("柏林 UTC+1"), Ok(Europe::Berlin));
        assert_eq!(zone("Berlin UTC+2"), Ok(Europe::Berlin), "summer time");
        assert_eq!(zone("America/Bogota UTC-5"), Ok(America::Bogota));
        assert!(zone("北京时间 UTC+9").is_err(), "a name and an offset that disagree");
    }

    #[test]
    fn offsets_are_written_as_they_are_read() {
        for seconds in [8 * 3600, -5 * 3600, 0, 5 * 3600 + 1800, -(3 * 3600 + 1800), 5 * 3600 + 2700] {
            let label = utc_offset_label(seconds);
            assert_eq!(parse_offset(&label), Some(seconds), "{label}");
        }
        assert_eq!(utc_offset_label(8 * 3600), "UTC+8");
        assert_eq!(utc_offset_label(-(3 * 3600 + 1800)), "UTC-3:30");
    }

    #[test]
    fn text_far_longer_than_any_zone_gets_no_suggestion() {
        let err = zone(&"Asia/Shanghai".repeat(300)).unwrap_err();
        assert_eq!(err.suggestion, None);
    }

    #[test]
    fn a_near_miss_gets_a_suggestion() {
        let err = zone("Asia/Shangai").unwrap_err();
        assert_eq!(err.suggestion, Some(Asia::Shanghai));
        assert_eq!(zone("Europe/Berln").unwrap_err().suggestion, Some(Europe::Berlin));
        assert_eq!(zone("Mars/Olympus").unwrap_err().suggestion, None);
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("shangai", "shanghai"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("北京", "南京"), 1);
    }
}
