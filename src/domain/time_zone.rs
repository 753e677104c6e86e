//! Reading time-zone names people type, with a suggestion for a near miss.

use chrono_tz::{TZ_VARIANTS, Tz};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {typed:?}")]
pub struct UnknownZone {
    pub typed: String,
    /// The closest real name, when one is close enough to be what was meant.
    pub suggestion: Option<Tz>,
}

/// Accepts an IANA name in any case ("asia/shanghai") or a unique city ("Berlin").
pub fn parse_time_zone(typed: &str) -> Result<Tz, UnknownZone> {
    let wanted = typed.trim().replace(' ', "_");
    if let Some(zone) = TZ_VARIANTS.iter().find(|z| z.name().eq_ignore_ascii_case(&wanted)) {
        return Ok(*zone);
    }
    let by_city: Vec<Tz> = TZ_VARIANTS
        .iter()
        .filter(|z| z.name().contains('/'))
        .filter(|z| z.name().rsplit('/').next().is_some_and(|city| city.eq_ignore_ascii_case(&wanted)))
        .copied()
        .collect();
    if let [zone] = by_city.as_slice() {
        return Ok(*zone);
    }
    Err(UnknownZone { typed: typed.trim().to_owned(), suggestion: closest(&wanted) })
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

    #[test]
    fn names_are_read_in_any_case_and_cities_alone() {
        assert_eq!(parse_time_zone("Europe/Berlin"), Ok(Europe::Berlin));
        assert_eq!(parse_time_zone("asia/shanghai"), Ok(Asia::Shanghai));
        assert_eq!(parse_time_zone("New York"), Ok(America::New_York));
    }

    #[test]
    fn text_far_longer_than_any_zone_gets_no_suggestion() {
        let err = parse_time_zone(&"Asia/Shanghai".repeat(300)).unwrap_err();
        assert_eq!(err.suggestion, None);
    }

    #[test]
    fn a_near_miss_gets_a_suggestion() {
        let err = parse_time_zone("Asia/Shangai").unwrap_err();
        assert_eq!(err.suggestion, Some(Asia::Shanghai));
        assert_eq!(parse_time_zone("Europe/Berln").unwrap_err().suggestion, Some(Europe::Berlin));
        assert_eq!(parse_time_zone("Mars/Olympus").unwrap_err().suggestion, None);
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("shangai", "shanghai"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("北京", "南京"), 1);
    }
}
