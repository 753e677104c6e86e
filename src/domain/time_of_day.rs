//! Times of day as people write them: `07:30`, `7:30pm`, `7点半`, `下午3点`, `十九点`.
//!
//! What is read (after [`super::typed::normalize`], so full-width `０７：３０` is `07:30`):
//!
//! | written | read as |
//! |---|---|
//! | `H:MM`, `H.MM`, `HHMM` (24-hour) | that time: `7:05`, `19.30`, `1930` |
//! | `H am`/`H pm`, `H:MM am`/`pm` (`a.m.`, `p.m.` too) | 12-hour clock: `7:30pm` = 19:30, `12am` = 00:00, `12pm` = 12:00 |
//! | `noon`, `midnight` | 12:00, 00:00 |
//! | `H点`/`H時`/`H时` with `M分`, `M`, `半` (30), `一刻` (15), `三刻` (45) | `7点半` = 07:30, `7点05` = 07:05 |
//! | a part of the day before it: `凌晨` `早上` `上午` `中午` `下午` `傍晚` `晚上` `夜里` | `下午3点` = 15:00, `晚上8点` = 20:00, `中午1点` = 13:00, `晚上12点` = 00:00 |
//! | Chinese numerals for H and M (`零`…`九`, `十`, `两`) | `七点半`, `十九点三十` |
//!
//! A bare number (`7`) is not read: it could be a time or a count.

use chrono::NaiveTime;

use super::typed::normalize;

/// Reads a time of day to the minute, or `None` when `text` is not one (see the module
/// documentation for what is read).
pub fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    let text = normalize(text).to_lowercase().replace(' ', "");
    if text.is_empty() || text.chars().count() > 20 {
        return None;
    }
    let (hour, minute) = match text.as_str() {
        "noon" | "中午" => (12, 0),
        "midnight" | "午夜" => (0, 0),
        _ => chinese(&text).or_else(|| latin(&text))?,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// `下午3点半` and the like: an optional part of the day, an hour, `点`, and minutes.
fn chinese(text: &str) -> Option<(u32, u32)> {
    const PARTS: [(&str, Part); 12] = [
        ("凌晨", Part::Night),
        ("半夜", Part::Night),
        ("早上", Part::Morning),
        ("早晨", Part::Morning),
        ("清晨", Part::Morning),
        ("上午", Part::Morning),
        ("中午", Part::Noon),
        ("下午", Part::Afternoon),
        ("傍晚", Part::Afternoon),
        ("晚上", Part::Evening),
        ("夜里", Part::Evening),
        ("夜间", Part::Evening),
    ];
    let (part, rest) = PARTS
        .iter()
        .find_map(|(word, part)| text.strip_prefix(word).map(|rest| (Some(*part), rest)))
        .unwrap_or((None, text));
    let (hour, minutes) = rest.split_once(['点', '點', '时', '時']).or_else(|| {
        // `下午3:30`: a part of the day before a clock time.
        part.and(rest.split_once(':'))
    })?;
    let hour = number(hour)?;
    let minutes = minutes.strip_suffix('分').unwrap_or(minutes);
    let minute = match minutes {
        "" | "整" => 0,
        "半" => 30,
        "一刻" => 15,
        "三刻" => 45,
        m => number(m)?,
    };
    if hour > 24 || minute > 59 {
        return None;
    }
    let hour = match (part, hour) {
        (_, 24) => 0,
        (Some(Part::Night), 12) => 0,
        (Some(Part::Evening), 12) => 0,
        (Some(Part::Noon), h) if h < 11 => h + 12,
        (Some(Part::Afternoon | Part::Evening), h) if h < 12 => h + 12,
        (Some(Part::Morning | Part::Night), h) if h > 12 => return None,
        (_, h) => h,
    };
    Some((hour, minute))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Night,
    Morning,
    Noon,
    Afternoon,
    Evening,
}

/// `19:30`, `7.30`, `1930`, `7pm`, `7:30 a.m.`.
fn latin(text: &str) -> Option<(u32, u32)> {
    let (clock, meridiem) = ["a.m.", "am", "a", "p.m.", "pm", "p"]
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix).map(|rest| (rest, Some(suffix.starts_with('p')))))
        .unwrap_or((text, None));
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    let (hour, minute) = match clock.split_once([':', '.', 'h']) {
        Some((h, m)) if digits(h) && m.len() == 2 && digits(m) => (h.parse().ok()?, m.parse().ok()?),
        Some(_) => return None,
        None if meridiem.is_some() && digits(clock) => (clock.parse().ok()?, 0),
        None if clock.len() == 4 && clock.bytes().all(|b| b.is_ascii_digit()) => {
            (clock[..2].parse().ok()?, clock[2..].parse().ok()?)
        }
        None => return None,
    };
    if minute > 59 {
        return None;
    }
    let hour = match meridiem {
        None if hour <= 23 => hour,
        Some(pm) if (1..=12).contains(&hour) => (hour % 12) + if pm { 12 } else { 0 },
        _ => return None,
    };
    Some((hour, minute))
}

/// `7`, `07`, `七`, `十九`, `二十三`, `零五`, `三十` — 0 to 59.
fn number(text: &str) -> Option<u32> {
    if !text.is_empty() && text.len() <= 2 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    chinese_number(text)
}

/// A number from 0 to 59 in Chinese numerals: `七`, `十九`, `二十三`, `零五`, `两`.
pub(super) fn chinese_number(text: &str) -> Option<u32> {
    let digit = |c: char| "零一二三四五六七八九".chars().position(|d| d == c).map(|d| d as u32);
    let digit = |c: char| match c {
        '〇' => Some(0),
        '两' | '兩' => Some(2),
        c => digit(c),
    };
    let chars: Vec<char> = text.chars().collect();
    match chars.as_slice() {
        ['十'] => Some(10),
        [d] => digit(*d),
        ['十', d] => Some(10 + digit(*d)?),
        [t, '十'] => Some(digit(*t)? * 10),
        [t, '十', d] => Some(digit(*t)? * 10 + digit(*d)?),
        // `零五`, `〇五`: minutes written with a leading zero.
        ['零' | '〇', d] => digit(*d),
        _ => None,
    }
    .filter(|n| *n < 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<String> {
        parse_time_of_day(text).map(|t| t.format("%H:%M").to_string())
    }

    #[test]
    fn clock_times_in_every_width() {
        for (typed, expected) in [
            ("07:30", "07:30"),
            ("7:05", "07:05"),
            ("21：00", "21:00"),
            ("０７：３０", "07:30"),
            ("19.30", "19:30"),
            ("1930", "19:30"),
            ("0:00", "00:00"),
            ("23:59", "23:59"),
        ] {
            assert_eq!(read(typed).as_deref(), Some(expected), "{typed}");
        }
    }

    #[test]
    fn twelve_hour_clock() {
        for (typed, expected) in [
            ("7:30pm", "19:30"),
            ("7:30 PM", "19:30"),
            ("7pm", "19:00"),
            ("7 a.m.", "07:00"),
            ("12am", "00:00"),
            ("12pm", "12:00"),
            ("12:15 am", "00:15"),
            ("noon", "12:00"),
            ("midnight", "00:00"),
        ] {
            assert_eq!(read(typed).as_deref(), Some(expected), "{typed}");
        }
    }

    #[test]
    fn chinese_times_with_parts_of_the_day() {
        for (typed, expected) in [
            ("7点半", "07:30"),
            ("7点", "07:00"),
            ("7点05分", "07:05"),
            ("7点30", "07:30"),
            ("７点半", "07:30"),
            ("七点半", "07:30"),
            ("十九点三十分", "19:30"),
            ("下午3点", "15:00"),
            ("下午3点一刻", "15:15"),
            ("下午3:30", "15:30"),
            ("晚上8点", "20:00"),
            ("晚上12点", "00:00"),
            ("凌晨5点", "05:00"),
            ("中午12点", "12:00"),
            ("中午1点", "13:00"),
            ("早上7点半", "07:30"),
            ("上午九点", "09:00"),
            ("两点", "02:00"),
            ("7點半", "07:30"),
            ("20点整", "20:00"),
        ] {
            assert_eq!(read(typed).as_deref(), Some(expected), "{typed}");
        }
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for bad in [
            "24:00",
            "12:60",
            "12",
            "7",
            "12:00:00",
            "-1:00",
            "13pm",
            "0am",
            "7:3",
            "上午13点",
            "7点61",
            "tomorrow",
            "",
            "点",
            "19:30pm",
            "12345",
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
        assert_eq!(read(&"7点".repeat(500)), None);
    }
}
