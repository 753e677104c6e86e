//! Phone numbers as E.164, read the way people in mainland China write them, on
//! libphonenumber's metadata (the `phonenumber` crate; China is the default region).
//!
//! `138-0013-8000`, `+86 138 0013 8000`, `8613800138000`, `0086 13800138000`,
//! `＋８６　１３８　００１３　８０００` and `13800138000。` are one number, and so are
//! `+86 (0)21 5555 0000`, `021-55550000` and `（０２１）５５５５－００００`: every spelling
//! gives one key, `+` and the digits (`+8613800138000`, `+862155550000`). Short service
//! numbers (`96110`, `12110`) are Chinese and keep their digits (`+8696110`); see
//! [`ShortKind`]. A number after `+` or `00` keeps its country: `+1 400 810 8888` is
//! `+14008108888`, never the Chinese `+864008108888`.
//!
//! A key reads back as itself ([`PhoneNumber::parse`] of a key gives that key): the lookup
//! of a stored key depends on it, and the fuzz target `command` checks it.

use std::fmt;

use phonenumber::metadata::{DATABASE, Metadata};
use phonenumber::{Mode, Type};
use unicode_normalization::UnicodeNormalization;

use super::area::{Area, area_code, area_of};
pub use super::short::ShortKind;

/// China's country calling code.
const CHINA: u16 = 86;

/// The rules keys are made by: the `phonenumber` crate's version (with its libphonenumber
/// metadata) and the revision of Pingan's reading in this file. Change it when either
/// changes: migrating a database then re-keys its stored numbers
/// (`src/store/subject_keys.rs`). A test checks the crate's version against `Cargo.lock`.
pub const PHONE_KEY_RULES: &str = "phonenumber 0.3.10+9.0.33, pingan 1";

/// Loads libphonenumber's metadata and compiles China's patterns, so that the first
/// `/check` does not wait for them (about 0.1 s in a release build, 1 s in a debug one).
pub fn warm_up() {
    for number in ["13800138000", "021-55550000", "+86 (0)21 5555 0000"] {
        let _ = PhoneNumber::parse(number);
    }
}

/// What can end a number in a sentence and is not part of it (after NFKC, which turns
/// `，；：！？` into their ASCII forms).
const SENTENCE_END: &[char] = &['。', '、', ',', ';', ':', '!', '?', '.'];

/// A phone number: `+`, its country code and national number (at most 15 digits in all),
/// with what kind of number it is and how it is shown.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    e164: String,
    kind: PhoneKind,
    shown: String,
}

/// What a number is, by libphonenumber's metadata for its country (and Pingan's table of
/// Chinese short numbers).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhoneKind {
    /// A Chinese mobile number (`13800138000`).
    Mobile,
    /// A Chinese landline, with its area code without the trunk 0 (`21`, `971`).
    Landline { area_code: String },
    /// An 800 number, free for the caller (libphonenumber: toll free).
    TollFree,
    /// A `400` number: a company's service line; the caller pays a local rate and the
    /// company the rest. libphonenumber calls it shared cost; issue 12's "toll-free 400"
    /// is not quite right, and Pingan does not say "free" of it.
    Service400,
    /// Another shared-cost number (`950…`, an area code and `96…`).
    SharedCost,
    /// `160…` and `168…`: premium-rate information services.
    PremiumRate,
    /// A short service number (`110`, `96110`, `95588`).
    Short(ShortKind),
    /// A number outside mainland China.
    Abroad { country_code: u16 },
    /// A Chinese number libphonenumber does not know (a made-up number, or a range newer
    /// than the metadata).
    Unknown,
}

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
    #[error("no country's calling code begins the digits after + or 00")]
    UnknownCountry,
    #[error(
        "no Chinese phone number is written with these {0} digits; a foreign one needs + and its country code"
    )]
    NotChinese(usize),
}

impl PhoneNumber {
    /// Reads a number as people write it: digits with spaces, dashes, dots, slashes and
    /// brackets (full-width ones too: the input is NFKC-folded), `+` or `00` before a
    /// country code, a trunk 0 or `(0)`, and a full stop or comma after it. A number
    /// without a country code is Chinese.
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let (international, digits) = read(input)?;
        let digits = if international { digits } else { national(&digits)? };
        Ok(international_reading(&digits)?.into_number())
    }

    /// `+8613800138000`: the key it is stored and looked up by.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// What kind of number it is.
    pub fn kind(&self) -> &PhoneKind {
        &self.kind
    }

    /// Where a Chinese landline is, as far as libphonenumber's geocoding data says.
    pub fn area(&self) -> Option<Area> {
        match &self.kind {
            PhoneKind::Landline { .. } => area_of(self.e164.strip_prefix("+86")?),
            _ => None,
        }
    }
}

/// The input folded (NFKC, dashes as `-`, sentence punctuation after it dropped): whether
/// it was written international (`+` or `00` first), and its digits after that.
fn read(input: &str) -> Result<(bool, String), PhoneError> {
    let folded: String = input.nfkc().map(|c| if is_dash(c) { '-' } else { c }).collect();
    let folded = folded.trim_end_matches(|c: char| c.is_whitespace() || SENTENCE_END.contains(&c));
    let mut digits = String::new();
    let mut international = false;
    for c in folded.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !international => international = true,
            '-' | '.' | '(' | ')' | '/' => {}
            c if c.is_whitespace() => {}
            _ => return Err(PhoneError::NotANumber(input.trim().to_owned())),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::NoDigits);
    }
    if !international && let Some(rest) = digits.strip_prefix("00") {
        return Ok((true, rest.to_owned()));
    }
    Ok((international, digits))
}

/// Dashes and hyphens people type between digit groups.
fn is_dash(c: char) -> bool {
    matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}')
}

/// A number written without a country code, as Chinese: the country code and national
/// number's digits (`021-55550000` -> `862155550000`).
fn national(digits: &str) -> Result<String, PhoneError> {
    let n = digits.len();
    if (3..=6).contains(&n) {
        // Service numbers: 110, 12110, 96110, 95588.
        return Ok(format!("{CHINA}{digits}"));
    }
    // libphonenumber's reading, when it knows the number: the trunk 0 dropped, an IP
    // dialling prefix (17951) too, `86` before a number taken as the country code.
    if (7..=15).contains(&n)
        && let Ok(number) = phonenumber::parse(Some(phonenumber::country::CN), digits)
    {
        let (code, national) = (number.code().value(), number.national().to_string());
        if kind_of(code, &national) != Type::Unknown {
            return Ok(format!("{code}{national}"));
        }
    }
    // Numbers libphonenumber does not know, read by their shape.
    Ok(match digits {
        // 86 and a mobile-like number: the country code without its +.
        d if n == 13 && d.starts_with("861") => d.to_owned(),
        // A mobile-like number.
        d if n == 11 && d.starts_with('1') => format!("{CHINA}{d}"),
        // A landline-like number with its trunk 0.
        d if (10..=12).contains(&n) && d.starts_with('0') => format!("{CHINA}{}", &d[1..]),
        d if n == 10 && (d.starts_with("400") || d.starts_with("800")) => format!("{CHINA}{d}"),
        _ if n < 10 => return Err(PhoneError::NeedsAreaCode(n)),
        _ => return Err(PhoneError::NotChinese(n)),
    })
}

/// One reading of a number: country code, national number, kind.
struct Reading {
    code: u16,
    national: String,
    kind: Type,
}

/// Reads the digits after `+`: a Chinese short number; else the country code and the rest
/// as written, if libphonenumber knows that number; else libphonenumber's own reading if
/// it knows that one (`+86 (0)21 …` loses its trunk 0); else the digits as written.
///
/// Each reading it gives, read again, gives itself: a known number as written is taken as
/// written, and the digits as written give the same result every time.
fn international_reading(digits: &str) -> Result<Reading, PhoneError> {
    if let Some(rest) = digits.strip_prefix("86")
        && ShortKind::of(rest).is_some()
    {
        return Ok(Reading { code: CHINA, national: rest.to_owned(), kind: Type::ShortCode });
    }
    if digits.len() < 7 {
        return Err(PhoneError::TooShort);
    }
    if digits.len() > 15 {
        return Err(PhoneError::TooLong(digits.len()));
    }
    let (code, written) = split_country(digits).ok_or(PhoneError::UnknownCountry)?;
    let as_written = kind_of(code, written);
    if as_written != Type::Unknown {
        return Ok(Reading { code, national: written.to_owned(), kind: as_written });
    }
    if let Ok(number) = phonenumber::parse(Some(phonenumber::country::CN), format!("+{digits}"))
        && number.code().value() == code
    {
        let national = number.national().to_string();
        let kind = kind_of(code, &national);
        let code_digits = digits.len() - written.len();
        let short = code == CHINA && ShortKind::of(&national).is_some();
        if kind != Type::Unknown && !short && code_digits + national.len() >= 7 {
            return Ok(Reading { code, national, kind });
        }
    }
    Ok(Reading { code, national: written.to_owned(), kind: Type::Unknown })
}

/// The country code the digits begin with (country codes are prefix-free) and the rest.
fn split_country(digits: &str) -> Option<(u16, &str)> {
    (1..=3).filter(|&len| len < digits.len() && !digits.starts_with('0')).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        DATABASE.by_code(&code).is_some().then_some((code, &digits[len..]))
    })
}

/// The type libphonenumber gives a national number of a country: its first region's type
/// that is not `Unknown`. The crate's own function for this is private; this follows it
/// (`validator::number_type`): the country's general pattern must match, then the special
/// types are tried before fixed line and mobile.
fn kind_of(code: u16, national: &str) -> Type {
    let Some(regions) = DATABASE.by_code(&code) else { return Type::Unknown };
    regions
        .into_iter()
        .map(|meta| kind_in(meta, national))
        .find(|t| *t != Type::Unknown)
        .unwrap_or(Type::Unknown)
}

fn kind_in(meta: &Metadata, national: &str) -> Type {
    let descriptors = meta.descriptors();
    if !descriptors.general().is_match(national) {
        return Type::Unknown;
    }
    let matches = |kind: Type| descriptors.get(kind).is_some_and(|d| d.is_match(national));
    let special = [
        Type::PremiumRate,
        Type::TollFree,
        Type::SharedCost,
        Type::Voip,
        Type::PersonalNumber,
        Type::Pager,
        Type::Uan,
        Type::Voicemail,
    ];
    if let Some(kind) = special.into_iter().find(|k| matches(*k)) {
        return kind;
    }
    match (matches(Type::FixedLine), matches(Type::Mobile)) {
        (true, true) => Type::FixedLineOrMobile,
        (true, false) => Type::FixedLine,
        (false, true) => Type::Mobile,
        (false, false) => Type::Unknown,
    }
}

impl Reading {
    fn into_number(self) -> PhoneNumber {
        let Reading { code, national, kind } = self;
        let e164 = format!("+{code}{national}");
        let kind = match (code, kind) {
            (CHINA, Type::ShortCode) => {
                PhoneKind::Short(ShortKind::of(&national).unwrap_or(ShortKind::Unlisted))
            }
            (CHINA, Type::Mobile) => PhoneKind::Mobile,
            (CHINA, Type::FixedLine | Type::FixedLineOrMobile) => {
                PhoneKind::Landline { area_code: area_code(&national).to_owned() }
            }
            (CHINA, Type::TollFree) => PhoneKind::TollFree,
            (CHINA, Type::SharedCost) if national.starts_with("400") => PhoneKind::Service400,
            (CHINA, Type::SharedCost) => PhoneKind::SharedCost,
            (CHINA, Type::PremiumRate) => PhoneKind::PremiumRate,
            (CHINA, _) => PhoneKind::Unknown,
            (country_code, _) => PhoneKind::Abroad { country_code },
        };
        let shown = match kind {
            // Dialled as they are, never with +86.
            PhoneKind::Short(_) => national,
            _ => formatted(&e164).unwrap_or_else(|| format!("+{code} {national}")),
        };
        PhoneNumber { e164, kind, shown }
    }
}

/// libphonenumber's international format of a key (`+86 21 5555 0000`), when its reading
/// of the key is the key. Its formatter fails (`fmt::Error`) for what it cannot format;
/// that is `None` here, never a panic.
///
/// Parsed with a default region: without one, 0.3.10 drops the first digit of
/// `+78005553535` (upstream issue 76).
fn formatted(e164: &str) -> Option<String> {
    use std::fmt::Write;
    let number = phonenumber::parse(Some(phonenumber::country::CN), e164).ok()?;
    let mut shown = String::new();
    write!(shown, "{}", number.format().mode(Mode::International)).ok()?;
    let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
    (shown.starts_with('+') && digits == e164[1..]).then_some(shown)
}

/// Full-width digits, plus, brackets, dashes, dot and space (as typed with a Chinese input
/// method) as ASCII, by NFKC; other characters as they are. For the guess of what a text
/// is and for finding numbers in it, character by character; [`PhoneNumber::parse`] folds
/// the whole input.
pub(super) fn fold_width(c: char) -> char {
    if is_dash(c) {
        return '-';
    }
    if c == '\u{3000}' || ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        let mut folded = std::iter::once(c).nfkc();
        if let (Some(f), None) = (folded.next(), folded.next())
            && (f.is_ascii_digit() || "+-()./ ".contains(f))
        {
            return f;
        }
    }
    c
}

impl fmt::Display for PhoneNumber {
    /// Grouped for reading: `+86 138 0013 8000`, `+86 21 5555 0000`, `96110`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> PhoneNumber {
        PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    /// A number's key, kind and how it is shown; and reading the key gives the same number.
    fn check(input: &str, key: &str, kind: &PhoneKind, shown: &str) {
        let number = read(input);
        assert_eq!(
            (number.e164(), number.kind(), number.to_string().as_str()),
            (key, kind, shown),
            "{input}"
        );
        assert_eq!(read(key), number, "{input}: its key {key} reads as another number");
    }

    #[test]
    fn every_spelling_of_a_number_gives_one_key_and_its_type() {
        use PhoneKind::*;
        let shanghai = Landline { area_code: "21".into() };
        let table: &[(&[&str], &str, PhoneKind, &str)] = &[
            (
                &[
                    "13800138000",
                    "138-0013-8000",
                    "138 0013 8000",
                    "+86 138 0013 8000",
                    "+86-138-0013-8000",
                    "0086 138 0013 8000",
                    "0086 13800138000",
                    "8613800138000",
                    "＋８６　１３８　００１３　８０００",
                    "(+86) 138.0013.8000",
                    "13800138000。",
                    "138 0013 8000，",
                    "138—0013—8000",
                ],
                "+8613800138000",
                Mobile,
                "+86 138 0013 8000",
            ),
            (
                &[
                    "+86 (0)21 5555 0000",
                    "021-55550000",
                    "（０２１）５５５５－００００",
                    "0086 21 5555 0000",
                    "+86-21-5555-0000",
                    "021.5555.0000；",
                    "+8602155550000",
                ],
                "+862155550000",
                shanghai,
                "+86 21 5555 0000",
            ),
            (
                &["0971-8123456", "（0971）8123456", "+86 971 8123456"],
                "+869718123456",
                Landline { area_code: "971".into() },
                "+86 971 812 3456",
            ),
            (
                &["010-65523456", "+86 10 6552 3456"],
                "+861065523456",
                Landline { area_code: "10".into() },
                "+86 10 6552 3456",
            ),
            (
                &["400-810-8888", "4008108888", "+86 400 810 8888"],
                "+864008108888",
                Service400,
                "+86 400 810 8888",
            ),
            (&["800 810 8888", "800-810-8888"], "+868008108888", TollFree, "+86 800 810 8888"),
            (&["16812345"], "+8616812345", PremiumRate, "+86 16812345"),
            (
                &["+1 400 810 8888", "001 400 810 8888"],
                "+14008108888",
                Abroad { country_code: 1 },
                "+1 400-810-8888",
            ),
            (&["+1 (202) 555-0143"], "+12025550143", Abroad { country_code: 1 }, "+1 202-555-0143"),
            (
                &["+852 2860 2000", "00852 2860 2000"],
                "+85228602000",
                Abroad { country_code: 852 },
                "+852 2860 2000",
            ),
            (
                &["+44 (0)20 7946 0000", "+44 20 7946 0000"],
                "+442079460000",
                Abroad { country_code: 44 },
                "+44 20 7946 0000",
            ),
            (&["+7 800 555 35 35"], "+78005553535", Abroad { country_code: 7 }, "+7 800 555-35-35"),
            (&["95588", "+86 95588", "９５５８８"], "+8695588", Short(ShortKind::Nationwide), "95588"),
            (&["96110", "96110。"], "+8696110", Short(ShortKind::AntiFraud), "96110"),
            (&["12110", "+86 12110"], "+8612110", Short(ShortKind::PoliceSms), "12110"),
            (&["110"], "+86110", Short(ShortKind::Emergency), "110"),
            (&["12345"], "+8612345", Short(ShortKind::PublicService), "12345"),
            (&["10086"], "+8610086", Short(ShortKind::Carrier), "10086"),
            (&["+86 812 3456"], "+868123456", Unknown, "+86 8123456"),
        ];
        for (spellings, key, kind, shown) in table {
            for input in *spellings {
                check(input, key, kind, shown);
            }
        }
        assert_eq!(read("021-55550000").area().map(|a| a.zh), Some("上海市"));
        assert_eq!(read("+86 21 5555 0000").area().map(|a| a.en), Some("Shanghai"));
        assert_eq!(read("13800138000").area(), None);
        assert_ne!(read("+1 400 810 8888").e164(), read("400 810 8888").e164());
    }

    #[test]
    fn what_is_not_a_number_says_why() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::NoDigits));
        assert_eq!(PhoneNumber::parse("。"), Err(PhoneError::NoDigits));
        assert!(matches!(PhoneNumber::parse("call me"), Err(PhoneError::NotANumber(_))));
        // 0.3 of the crate reads letters as keypad digits: refused before it sees them.
        assert!(matches!(PhoneNumber::parse("1380O138000"), Err(PhoneError::NotANumber(_))));
        assert!(matches!(PhoneNumber::parse("400-FLOWERS"), Err(PhoneError::NotANumber(_))));
        assert!(matches!(PhoneNumber::parse("tel:+8613800138000"), Err(PhoneError::NotANumber(_))));
        assert_eq!(PhoneNumber::parse("8123456"), Err(PhoneError::NeedsAreaCode(7)));
        assert_eq!(PhoneNumber::parse("12"), Err(PhoneError::NeedsAreaCode(2)));
        assert_eq!(PhoneNumber::parse("+86 12"), Err(PhoneError::TooShort));
        assert_eq!(PhoneNumber::parse("+1234567890123456"), Err(PhoneError::TooLong(16)));
        assert_eq!(PhoneNumber::parse("+0 123 4567"), Err(PhoneError::UnknownCountry));
        assert_eq!(PhoneNumber::parse("+999 123 4567"), Err(PhoneError::UnknownCountry));
        assert!(matches!(PhoneNumber::parse("1380+0138000"), Err(PhoneError::NotANumber(_))));
        assert_eq!(PhoneNumber::parse("6217001234567890"), Err(PhoneError::NotChinese(16)));
    }

    /// Random digit strings, with and without `+` or `00`, separators and a trunk 0:
    /// none panics, and every key reads back as itself (what the fuzz target `command`
    /// asserts of every number found in a text).
    #[test]
    fn every_key_reads_back_as_itself() {
        let mut rng = fastrand::Rng::with_seed(12);
        // Mostly Chinese: the crate keeps 100 compiled patterns, and numbers of many
        // countries make it compile them again and again (slow in a debug build).
        let starts =
            ["", "", "+86", "0086", "86", "0", "+86 (0)", "+1", "+44 0", "+7 8", "+852", "1", "400", "12"];
        for i in 0..4_000 {
            let start = if i % 20 == 0 { ["+", "00"][i % 2] } else { starts[rng.usize(..starts.len())] };
            let mut input = start.to_owned();
            for _ in 0..rng.usize(1..16) {
                input.push(char::from(b'0' + rng.u8(..10)));
                if rng.u8(..6) == 0 {
                    input.push(['-', ' ', '.'][rng.usize(..3)]);
                }
            }
            if let Ok(number) = PhoneNumber::parse(&input) {
                let again = read(number.e164());
                assert_eq!(
                    again,
                    number,
                    "{input:?} gives {}, which reads as {}",
                    number.e164(),
                    again.e164()
                );
            }
        }
    }

    /// The rules' name carries the crate's version: updating the crate (and so its
    /// metadata) without naming new rules would leave stored keys unchecked.
    #[test]
    fn the_key_rules_name_the_locked_phonenumber_version() {
        let lock = include_str!("../../../Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"phonenumber\""))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"')))
            .expect("phonenumber in Cargo.lock");
        assert!(
            PHONE_KEY_RULES.starts_with(&format!("phonenumber {version},")),
            "{PHONE_KEY_RULES} vs {version}"
        );
    }

    #[test]
    fn full_width_characters_fold_one_by_one() {
        assert_eq!(
            "＋８６（０２１）－５５５５．００００／　".chars().map(fold_width).collect::<String>(),
            "+86(021)-5555.0000/ "
        );
        assert_eq!(fold_width('—'), '-');
        assert_eq!(fold_width('ａ'), 'ａ', "letters are left to the link and account readers");
        assert_eq!(fold_width('①'), '①', "a circled number in a story is no digit");
    }
}
