//! Phone numbers as E.164, read the way people in mainland China write them.
//!
//! `138-0013-8000`, `+86 138 0013 8000`, `8613800138000`, `0086 13800138000` and
//! `（010）6552-3456` are all read, and the same number always comes out the same. The
//! default region is China: a number without a country code is Chinese.

use std::fmt;

/// China's country calling code.
const CHINA: &str = "86";

/// A phone number: `+` and up to 15 digits, or a Chinese service number (`96110`,
/// `95588`), kept as `+86` and its digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("a phone number has digits in it")]
    NoDigits,
    #[error("{0:?} has characters a phone number does not")]
    NotANumber(String),
    #[error("{0} digits is too long for a phone number (at most 15)")]
    TooLong(usize),
    #[error("{0} digits is too short; write the number with its area code, as in 0971-8123456")]
    NeedsAreaCode(usize),
    #[error("a number after + or 00 needs its country code and at least 7 digits")]
    TooShort,
    #[error(
        "no Chinese phone number is written with these {0} digits; a foreign one needs + and its country code"
    )]
    NotChinese(usize),
}

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let mut digits = String::new();
        let mut international = false;
        for c in input.trim().chars() {
            match fold_width(c) {
                d @ '0'..='9' => digits.push(d),
                '+' if digits.is_empty() && !international => international = true,
                ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
                _ => return Err(PhoneError::NotANumber(input.trim().to_owned())),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::NoDigits);
        }
        if !international && let Some(rest) = digits.strip_prefix("00") {
            international = true;
            digits = rest.to_owned();
        }
        let e164 = if international {
            if digits.len() < 7 {
                return Err(PhoneError::TooShort);
            }
            digits
        } else {
            national(&digits)?
        };
        if e164.len() > 15 {
            return Err(PhoneError::TooLong(e164.len()));
        }
        Ok(PhoneNumber(format!("+{e164}")))
    }

    /// `+8613800138000`: the key it is stored and looked up by.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// Whether it is a Chinese mobile number.
    pub fn is_chinese_mobile(&self) -> bool {
        self.0.strip_prefix("+86").is_some_and(|n| n.len() == 11 && n.starts_with('1'))
    }

    /// A short service number (110, 96110, 95588) rather than a subscriber's.
    pub fn is_service_number(&self) -> bool {
        self.0.strip_prefix("+86").is_some_and(|n| n.len() <= 6)
    }
}

/// A number written without a country code, read as Chinese.
fn national(digits: &str) -> Result<String, PhoneError> {
    let n = digits.len();
    Ok(match digits {
        // 86 and a mobile number: the country code without its +.
        d if n == 13 && d.starts_with("861") => d.to_owned(),
        // A mobile number.
        d if n == 11 && d.starts_with('1') => format!("{CHINA}{d}"),
        // A landline with its area code and trunk 0: 010-65523456, 0971-8123456.
        d if (10..=12).contains(&n) && d.starts_with('0') => format!("{CHINA}{}", &d[1..]),
        // Service numbers: 110, 12110, 96110, 95588, 400 and 800 numbers.
        d if (3..=6).contains(&n) => format!("{CHINA}{d}"),
        d if n == 10 && (d.starts_with("400") || d.starts_with("800")) => format!("{CHINA}{d}"),
        _ if n < 10 => return Err(PhoneError::NeedsAreaCode(n)),
        _ => return Err(PhoneError::NotChinese(n)),
    })
}

/// Full-width digits and plus (as typed with a Chinese input method) as ASCII.
pub(super) fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        '＋' => '+',
        '－' | '—' | '–' => '-',
        '（' => '(',
        '）' => ')',
        '　' => ' ',
        other => other,
    }
}

impl fmt::Display for PhoneNumber {
    /// Grouped for reading: `+86 138 0013 8000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.strip_prefix("+86") {
            Some(n) if n.len() == 11 && n.starts_with('1') => {
                write!(f, "+86 {} {} {}", &n[..3], &n[3..7], &n[7..])
            }
            Some(n) => write!(f, "+86 {n}"),
            None => f.write_str(&self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(input: &str) -> String {
        PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}")).e164().to_owned()
    }

    #[test]
    fn every_way_of_writing_a_mobile_number_is_the_same_number() {
        for written in [
            "13800138000",
            "138-0013-8000",
            "138 0013 8000",
            "+86 138 0013 8000",
            "+86-138-0013-8000",
            "8613800138000",
            "0086 13800138000",
            "＋８６ １３８ ００１３ ８０００",
            "(+86) 138.0013.8000",
        ] {
            assert_eq!(e164(written), "+8613800138000", "{written}");
        }
        let number = PhoneNumber::parse("13800138000").unwrap();
        assert!(number.is_chinese_mobile());
        assert_eq!(number.to_string(), "+86 138 0013 8000");
    }

    #[test]
    fn landlines_lose_their_trunk_zero_and_other_countries_keep_their_code() {
        assert_eq!(e164("010-65523456"), "+861065523456");
        assert_eq!(e164("（0971）8123456"), "+869718123456");
        assert_eq!(e164("+86 971 8123456"), "+869718123456");
        assert_eq!(e164("+852 2860 2000"), "+85228602000");
        assert_eq!(e164("00852 2860 2000"), "+85228602000");
        assert_eq!(e164("+1 (202) 555-0143"), "+12025550143");
    }

    #[test]
    fn service_numbers_are_kept_as_chinese() {
        assert_eq!(e164("96110"), "+8696110");
        assert_eq!(e164("110"), "+86110");
        assert_eq!(e164("400-810-8888"), "+864008108888");
        assert!(PhoneNumber::parse("96110").unwrap().is_service_number());
        assert!(!PhoneNumber::parse("13800138000").unwrap().is_service_number());
    }

    #[test]
    fn what_is_not_a_number_says_why() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::NoDigits));
        assert!(matches!(PhoneNumber::parse("call me"), Err(PhoneError::NotANumber(_))));
        assert_eq!(PhoneNumber::parse("8123456"), Err(PhoneError::NeedsAreaCode(7)));
        assert_eq!(PhoneNumber::parse("+86 12"), Err(PhoneError::TooShort));
        assert_eq!(PhoneNumber::parse("+1234567890123456"), Err(PhoneError::TooLong(16)));
        assert!(matches!(PhoneNumber::parse("1380+0138000"), Err(PhoneError::NotANumber(_))));
    }
}
