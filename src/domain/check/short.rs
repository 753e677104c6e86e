//! China's short service numbers (110, 12110, 12345, 95588, 96110, 10086): dialled as they
//! are, without an area code, and unknown to the `phonenumber` crate, which loads only
//! libphonenumber's main metadata, not its short-number file.
//!
//! The table is ours, from two sources:
//! - libphonenumber's `ShortNumberMetadata.xml`, territory CN (version 9.0.33, shipped in
//!   the `phonenumber` crate's `assets/` but not read by it): its `shortCode` pattern
//!   `1(?:00|1[0249]|2395|6[08])|9[56]\d{3,4}|12[023]|1(?:0(?:[0-26]\d|8)|21\d)\d`, its
//!   emergency numbers 110, 119, 120 (and 122, "expanded emergency") and its SMS number 12110;
//! - the ranges of MIIT's numbering plan (电信网编号计划) that file leaves out: every `12xxx`
//!   is a public-interest service number (12345 government hotline, 12315 consumer
//!   complaints, 12306 railways, 12321 spam reports), `95xxx(x)` a nationwide and `96xxx(x)`
//!   a local service number; 96110 is the police's anti-fraud warning line.

/// What a short number is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShortKind {
    /// 110 police, 119 fire, 120 ambulance, 122 traffic accidents.
    Emergency,
    /// 12110: the police's number for reporting by SMS.
    PoliceSms,
    /// 96110: the police's anti-fraud warning line.
    AntiFraud,
    /// `12xxx`: public-interest services (12345, 12315, 12306, 12321).
    PublicService,
    /// `95xxx` or `95xxxx`: nationwide customer service (banks, insurers, airlines: 95588).
    Nationwide,
    /// `96xxx` or `96xxxx`: a local service number.
    Local,
    /// `100xx`, `101xx`, `102xx`, `106xx`: a telephone company's service (10086, 10010, 10000).
    Carrier,
    /// Another short code in libphonenumber's CN list (100, 112, 114, 123, 160, 168, 108x).
    Other,
    /// Three to six digits in none of the above: kept as a short number all the same.
    Unlisted,
}

impl ShortKind {
    /// The kind of `digits` (ASCII digits) if it has the length of a short number (three
    /// to six digits): a listed kind, or [`ShortKind::Unlisted`].
    pub fn of(digits: &str) -> Option<ShortKind> {
        if !(3..=6).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let b = digits.as_bytes();
        Some(match (digits.len(), digits) {
            (3, "110" | "119" | "120" | "122") => ShortKind::Emergency,
            (5, "12110") => ShortKind::PoliceSms,
            (5, "96110") => ShortKind::AntiFraud,
            (5, d) if d.starts_with("12") => ShortKind::PublicService,
            (5 | 6, d) if d.starts_with("95") => ShortKind::Nationwide,
            (5 | 6, d) if d.starts_with("96") => ShortKind::Local,
            (5, d) if d.starts_with("10") && matches!(b[2], b'0'..=b'2' | b'6') => ShortKind::Carrier,
            (3, "100" | "112" | "114" | "123" | "160" | "168") => ShortKind::Other,
            (4, d) if d.starts_with("108") => ShortKind::Other,
            _ => ShortKind::Unlisted,
        })
    }

    /// The name its locale texts carry (`check.phone_short_<name>`).
    pub fn name(self) -> &'static str {
        match self {
            ShortKind::Emergency => "emergency",
            ShortKind::PoliceSms => "police_sms",
            ShortKind::AntiFraud => "anti_fraud",
            ShortKind::PublicService => "public_service",
            ShortKind::Nationwide => "nationwide",
            ShortKind::Local => "local",
            ShortKind::Carrier => "carrier",
            ShortKind::Other => "other",
            ShortKind::Unlisted => "unlisted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ShortKind::{self, *};

    #[test]
    fn short_numbers_are_named_by_their_range() {
        for (digits, kind) in [
            ("110", Emergency),
            ("119", Emergency),
            ("120", Emergency),
            ("122", Emergency),
            ("12110", PoliceSms),
            ("96110", AntiFraud),
            ("12345", PublicService),
            ("12315", PublicService),
            ("12306", PublicService),
            ("12395", PublicService),
            ("95588", Nationwide),
            ("955888", Nationwide),
            ("96777", Local),
            ("10086", Carrier),
            ("10010", Carrier),
            ("10000", Carrier),
            ("114", Other),
            ("1080", Other),
            ("4321", Unlisted),
            ("10386", Unlisted),
        ] {
            assert_eq!(ShortKind::of(digits), Some(kind), "{digits}");
        }
        for not_short in ["11", "1234567", "9558a", ""] {
            assert_eq!(ShortKind::of(not_short), None, "{not_short}");
        }
    }

    /// Every short code of libphonenumber's CN pattern (see the module's sources) is
    /// listed, none as `Unlisted`.
    #[test]
    fn every_short_code_libphonenumber_knows_is_listed() {
        let mut codes: Vec<String> =
            ["100", "110", "112", "114", "119", "120", "122", "123", "160", "168"].map(String::from).to_vec();
        codes.push("12395".into());
        for n in 0..10_000 {
            for prefix in ["95", "96"] {
                if n < 1000 {
                    codes.push(format!("{prefix}{n:03}"));
                }
                codes.push(format!("{prefix}{n:04}"));
            }
        }
        for n in 0..100 {
            for prefix in ["100", "101", "102", "106", "121"] {
                codes.push(format!("{prefix}{n:02}"));
            }
        }
        codes.extend((0..10).map(|n| format!("108{n}")));
        for code in codes {
            assert!(ShortKind::of(&code).is_some_and(|k| k != Unlisted), "{code}");
        }
    }
}
