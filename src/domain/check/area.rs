//! Chinese landline area codes and the places they serve, from libphonenumber's geocoding
//! data (`locales/cn_area_codes.tsv`, generated; its header says how and under what
//! licence). The `phonenumber` crate ships that data but has no geocoder.

use std::sync::LazyLock;

const SOURCE: &str = include_str!("../../../locales/cn_area_codes.tsv");

/// A prefix of Chinese landline numbers (without the trunk 0) and the place it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    /// `21`, `971`: mostly an area code, sometimes a shorter prefix several codes share.
    pub prefix: &'static str,
    /// `上海市`, `青海省西宁市`.
    pub zh: &'static str,
    /// `Shanghai`, `Xining, Qinghai`.
    pub en: &'static str,
}

/// The table's lines, `prefix<TAB>zh<TAB>en` (comments and malformed lines left out; a
/// test checks there are none of the latter).
fn table() -> &'static [Area] {
    static TABLE: LazyLock<Vec<Area>> = LazyLock::new(|| {
        SOURCE
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let area = Area { prefix: fields.next()?, zh: fields.next()?, en: fields.next()? };
                (fields.next().is_none() && area.prefix.bytes().all(|b| b.is_ascii_digit())).then_some(area)
            })
            .collect()
    });
    &TABLE
}

/// The area code of a Chinese landline's national number (`2155550000` -> `21`,
/// `9718123456` -> `971`): two digits after 10 and 2, three otherwise (China's numbering
/// plan since 1998).
pub fn area_code(national: &str) -> &str {
    let two = national.starts_with("10") || national.starts_with('2');
    let len = if two { 2 } else { 3 };
    national.get(..len).unwrap_or(national)
}

/// Where a landline with this national number (or area code) is: the longest prefix of it
/// the table knows.
pub fn area_of(national: &str) -> Option<Area> {
    (1..=3.min(national.len()))
        .rev()
        .find_map(|len| table().iter().find(|area| area.prefix == &national[..len]).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_table_reads() {
        let lines = SOURCE.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count();
        assert_eq!(table().len(), lines, "a malformed line in locales/cn_area_codes.tsv");
        assert_eq!(lines, 328);
        assert!(
            table().iter().all(|a| !a.zh.is_empty() && !a.en.is_empty() && (2..=3).contains(&a.prefix.len()))
        );
    }

    #[test]
    fn landlines_are_placed_by_their_area_code() {
        assert_eq!(area_code("2155550000"), "21");
        assert_eq!(area_code("1065523456"), "10");
        assert_eq!(area_code("9718123456"), "971");
        assert_eq!(area_of("2155550000").map(|a| (a.zh, a.en)), Some(("上海市", "Shanghai")));
        assert_eq!(area_of("9718123456").map(|a| a.zh), Some("青海省西宁市"));
        assert_eq!(area_of("755").map(|a| a.en), Some("Shenzhen, Guangdong"));
        // 0335 has no line of its own: the prefix 33 serves it.
        assert_eq!(area_of("3351234567").map(|a| a.en), Some("Qinhuangdao, Hebei"));
        // 400 numbers are no landlines, and no area starts with 400.
        assert_eq!(area_of("4008108888"), None);
    }
}
