//! What a citizen types or pastes, read into the values to check: `/check`'s arguments and
//! the plain text of a message (issue 13, part 1).
//!
//! - Several values in one message are several values: `13800138000 13900001111`,
//!   `13800138000, 13900001111` (never one 22-digit account).
//! - Words around a value are context (`138 0013 8000 转账`, `这个号码138-0013-8000给我打电话
//!   说要退款，是骗子吗？`), or name its kind when they stand right before it: `QQ` is an
//!   account; `微信`/`wechat`/`weixin`/`vx`/`wx` and `支付宝`/`alipay` an account too,
//!   unless the value is a mobile number (these apps find people by it, and the number is
//!   what the bureau lists); `电话`/`手机`/`phone`/`tel` a phone number; `账号`/`卡号`/`account`
//!   an account. Traditional characters fold to simplified ones first.
//! - Emoji (`📞`, `☎️`, keycaps) go (Unicode's `Emoji` property, UTS #51, by the
//!   `unicode-properties` crate), `tel:`/`sms:`/`callto:` before a number goes, and
//!   full-width letters and digits are read as ASCII ones.
//! - A letter O among digits (`138OO138000`) is taken for a zero: the value is
//!   [`Found::Misspelt`], and the answer asks "did you mean 13800138000?". A kind word before
//!   it (`account 138OO138000`) says it is meant as written.

use unicode_properties::UnicodeEmoji;

use super::phone::fold_width;
use super::{AccountNumber, PhoneKind, PhoneNumber, Subject, SubjectError, account, guess, stretches};
use crate::domain::IndicatorKind;

/// A value read from what a citizen typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A value as written.
    Value(Subject),
    /// Digits with the letter O among them: `typed` as written, `fixed` with zeros for the
    /// Os (as the citizen would type it: `13800138000`), and the value that reads.
    Misspelt { typed: String, fixed: String, meant: Subject },
}

impl Found {
    /// The value to check: the one meant.
    pub fn subject(&self) -> &Subject {
        match self {
            Found::Value(subject) | Found::Misspelt { meant: subject, .. } => subject,
        }
    }

    pub fn into_subject(self) -> Subject {
        match self {
            Found::Value(subject) | Found::Misspelt { meant: subject, .. } => subject,
        }
    }
}

/// What a word before a value says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    Phone,
    Account,
    /// A WeChat or Alipay account: an account, or the mobile number it is found by.
    App,
}

/// Words that name a value's kind when they stand right before it (lower case,
/// simplified characters). Longer words are tried first (`qq号码` before `号码`).
const KIND_WORDS: &[(&str, Named)] = &[
    ("qq号码", Named::Account),
    ("qq号", Named::Account),
    ("qq", Named::Account),
    ("银行卡号", Named::Account),
    ("银行卡", Named::Account),
    ("卡号", Named::Account),
    ("账号", Named::Account),
    ("账户", Named::Account),
    ("帐号", Named::Account),
    ("帐户", Named::Account),
    ("account", Named::Account),
    ("card", Named::Account),
    ("微信号", Named::App),
    ("微信", Named::App),
    ("wechat", Named::App),
    ("weixin", Named::App),
    ("vx", Named::App),
    ("wx", Named::App),
    ("支付宝账号", Named::App),
    ("支付宝号", Named::App),
    ("支付宝", Named::App),
    ("alipay", Named::App),
    ("手机号码", Named::Phone),
    ("电话号码", Named::Phone),
    ("手机号", Named::Phone),
    ("手机", Named::Phone),
    ("电话", Named::Phone),
    ("号码", Named::Phone),
    ("phone", Named::Phone),
    ("mobile", Named::Phone),
    ("tel", Named::Phone),
];

/// The kind a word right before a value names, if any: `before` is the text between the
/// value and the one before it (`，QQ：`, `微信 `).
fn named_kind(before: &str) -> Option<Named> {
    let simple = crate::domain::hanzi::to_simplified(before).to_lowercase();
    let end = simple.trim_end_matches(|c: char| c.is_whitespace() || ":：=是为".contains(c));
    let mut words: Vec<&(&str, Named)> = KIND_WORDS.iter().collect();
    words.sort_by_key(|(word, _)| std::cmp::Reverse(word.chars().count()));
    words.into_iter().find_map(|&(word, named)| {
        let rest = end.strip_suffix(word)?;
        // An ASCII word is a whole word (`box` does not end in `wx`'s sense).
        let whole = !word.is_ascii() || !rest.chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        whole.then_some(named)
    })
}

/// The text with emoji dropped (a space for each pictograph; joiners, variation selectors
/// and keycap marks dropped without one, so `1️⃣3️⃣8️⃣` is `138`), full-width letters, digits
/// and spaces as ASCII ones, and `tel:`, `sms:` or `callto:` before a number dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // Zero-width joiner, variation selectors, the keycap mark, skin tones, tags.
            '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}' | '\u{1F3FB}'..='\u{1F3FF}' => {}
            '\u{E0020}'..='\u{E007F}' => {}
            '\u{3000}' => out.push(' '),
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                out.push(char::from_u32(c as u32 - 0xFEE0).unwrap_or(c));
            }
            c if !c.is_ascii() && c.is_emoji_char() => out.push(' '),
            c => out.push(fold_width(c)),
        }
    }
    without_schemes(&out)
}

/// `tel:+86…`, `TEL://138…`, `sms:…`, `callto:…` without the scheme, where a number
/// follows it and it starts a word.
fn without_schemes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while let Some(c) = rest.chars().next() {
        let starts_word = !out.chars().next_back().is_some_and(|p: char| p.is_ascii_alphanumeric());
        if starts_word {
            for scheme in ["tel:", "sms:", "callto:"] {
                if rest.get(..scheme.len()).is_some_and(|h| h.eq_ignore_ascii_case(scheme)) {
                    let after = rest[scheme.len()..].trim_start_matches('/');
                    if after.starts_with(|c: char| c.is_ascii_digit() || "+( ".contains(c)) {
                        out.push(' ');
                        rest = after;
                        continue 'outer;
                    }
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `138OO138000` as the number meant, if the stretch is digits with the letter O among
/// them and reads, with zeros, as a phone number libphonenumber knows or a bank card.
fn misspelt(token: &str) -> Option<Found> {
    let has_o = token.contains(['O', 'o']);
    let shape = token.chars().all(|c| c.is_ascii_digit() || "Oo +-().".contains(c));
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if !has_o || !shape || digits < 3 {
        return None;
    }
    let fixed: String = token.chars().map(|c| if matches!(c, 'O' | 'o') { '0' } else { c }).collect();
    if fixed.chars().filter(char::is_ascii_digit).count() < 7 {
        return None;
    }
    let meant = match PhoneNumber::parse(&fixed) {
        Ok(phone) if *phone.kind() != PhoneKind::Unknown => Subject::Phone(phone),
        _ => match AccountNumber::parse(&fixed) {
            Ok(card) if card.is_bank_card() => Subject::Account(card),
            _ => return None,
        },
    };
    Some(Found::Misspelt { typed: token.to_owned(), fixed, meant })
}

/// A value a word before it names the kind of, if it reads as one.
fn as_named(token: &str, named: Named) -> Option<Subject> {
    let mobile = || PhoneNumber::parse(token).ok().filter(|p| *p.kind() == PhoneKind::Mobile);
    match named {
        Named::Phone => PhoneNumber::parse(token).ok().map(Subject::Phone),
        Named::Account => AccountNumber::parse(token).ok().map(Subject::Account),
        Named::App => {
            mobile().map(Subject::Phone).or_else(|| AccountNumber::parse(token).ok().map(Subject::Account))
        }
    }
}

/// A stretch of a text as a value: by the word before it, else as [`Subject::find_all`]
/// always read stretches.
fn read_stretch(token: &str, before: &str) -> Option<Found> {
    let named = named_kind(before);
    if let Some(subject) = named.and_then(|n| as_named(token, n)) {
        return Some(Found::Value(subject));
    }
    if named.is_none()
        && let Some(found) = misspelt(token)
    {
        return Some(found);
    }
    let subject = match guess(token) {
        IndicatorKind::Domain => super::Domain::parse(token).ok().map(Subject::Link),
        // A run of digits that is no phone number (a QQ number) is an account.
        IndicatorKind::Phone => PhoneNumber::parse(token).ok().map(Subject::Phone).or_else(|| account(token)),
        IndicatorKind::Account => account(token),
    };
    subject.map(Found::Value)
}

/// Every value in a free text (a message typed or forwarded, a report), each once, in
/// the order written.
pub fn read_text(text: &str) -> Vec<Found> {
    let folded = fold(text);
    let mut found: Vec<Found> = Vec::new();
    // A stretch that is no value (`wechat`, `account`) is words before the next one.
    let mut carried = String::new();
    for stretch in stretches(&super::link::refang_text(&folded)) {
        carried.push_str(&stretch.before);
        match read_stretch(&stretch.token, &carried) {
            Some(value) => {
                carried.clear();
                if !found.iter().any(|f| f.subject() == value.subject()) {
                    found.push(value);
                }
            }
            None => carried.push_str(&stretch.token),
        }
    }
    found
}

/// `/check`'s arguments: one value as [`Subject::parse`] reads it, with its error if it
/// does not read; or, when words stand around it or several values are written, each
/// value found as in a free text. Empty when nothing is left after folding (an emoji alone).
pub fn read_check(args: &str) -> Result<Vec<Found>, SubjectError> {
    let folded = fold(args);
    let whole = super::without_sentence_end(&folded);
    if whole.is_empty() {
        return Ok(Vec::new());
    }
    let in_text = read_text(whole);
    let parsed = Subject::parse(whole);
    // One value, written alone: as Subject::parse reads it, unless it is a misspelt number.
    let alone = stretches(&super::link::refang_text(whole)).len() <= 1;
    match parsed {
        Ok(subject) if alone || in_text.len() <= 1 => {
            let misspelt = match in_text.as_slice() {
                [found @ Found::Misspelt { typed, .. }] if typed == whole => Some(found.clone()),
                _ => None,
            };
            Ok(vec![misspelt.unwrap_or(Found::Value(subject))])
        }
        Err(e) if in_text.is_empty() || (alone && in_text.len() == 1 && is_whole(whole)) => Err(e),
        _ => Ok(in_text),
    }
}

/// Whether `whole` is one stretch with nothing around it (so the reading of the whole is
/// the answer, error included: `6001234567` is no Chinese number, and saying so beats
/// calling it an account).
fn is_whole(whole: &str) -> bool {
    let refanged = super::link::refang_text(whole);
    match stretches(&refanged).as_slice() {
        [only] => only.before.trim().is_empty() && only.token.len() == refanged.trim().len(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(found: &[Found]) -> Vec<String> {
        found.iter().map(|f| f.subject().key()).collect()
    }

    fn check(args: &str) -> Vec<String> {
        keys(&read_check(args).unwrap_or_else(|e| panic!("{args}: {e}")))
    }

    const MOBILE: &str = "+8613800138000";

    /// Issue 13's findings: two numbers became one 22-digit account, and a comma or a word
    /// after a number made it unreadable.
    #[test]
    fn several_numbers_are_several_values_and_words_are_context() {
        assert_eq!(check("13800138000 13900001111"), [MOBILE, "+8613900001111"]);
        assert_eq!(check("13800138000, 13900001111"), [MOBILE, "+8613900001111"]);
        assert_eq!(check("13800138000，13900001111"), [MOBILE, "+8613900001111"]);
        assert_eq!(check("138 0013 8000 转账"), [MOBILE]);
        assert_eq!(check("这个号码138-0013-8000给我打电话说要退款，是骗子吗？"), [MOBILE]);
        assert_eq!(check("is 13800138000 a scam?"), [MOBILE]);
        // One value alone reads as before.
        assert_eq!(check("6222 0212 3456 7890 128"), ["6222021234567890128"]);
        assert_eq!(check("+86 138 0013 8000"), [MOBILE]);
        assert_eq!(check("110"), ["+86110"]);
        assert_eq!(check("phone 13800138000"), [MOBILE]);
        assert!(matches!(read_check("6001234567"), Err(SubjectError::Phone(_))));
        assert!(read_check("phone abc").is_err());
        assert_eq!(read_check("📞").unwrap(), []);
    }

    #[test]
    fn a_word_before_a_value_names_its_kind() {
        assert_eq!(check("QQ 12345"), ["12345"]);
        assert_eq!(check("qq：123456789 是骗子吗"), ["123456789"]);
        assert_eq!(check("微信 wxid_abc123"), ["wxid_abc123"]);
        assert_eq!(check("wechat wxid_abc123"), ["wxid_abc123"]);
        assert_eq!(check("他的微信号是abc12345，转账了"), ["abc12345"]);
        assert_eq!(check("支付宝 13800138000"), [MOBILE]);
        assert_eq!(check("支付宝账号 pay_me_2024 转账"), ["pay_me_2024"]);
        assert_eq!(check("電話 138 0013 8000 轉賬"), [MOBILE]);
        // Not a kind word: the rest of a longer word.
        assert_eq!(named_kind("inbox "), None);
        assert_eq!(named_kind("，QQ号码："), Some(Named::Account));
    }

    #[test]
    fn emoji_tel_and_full_width_text_are_folded() {
        assert_eq!(check("📞13800138000"), [MOBILE]);
        assert_eq!(check("☎️ 138 0013 8000 🙏"), [MOBILE]);
        assert_eq!(check("1️⃣3️⃣8️⃣0️⃣0️⃣1️⃣3️⃣8️⃣0️⃣0️⃣0️⃣"), [MOBILE]);
        assert_eq!(check("tel:+8613800138000"), [MOBILE]);
        assert_eq!(check("TEL://13800138000"), [MOBILE]);
        assert_eq!(check("ＱＱ　１２３４５６７８９"), ["123456789"]);
        assert_eq!(fold("hotel:13800138000"), "hotel:13800138000");
        let found = read_text("点这里 tel:13800138000 或 sms:13900001111");
        assert_eq!(keys(&found), [MOBILE, "+8613900001111"]);
    }

    #[test]
    fn a_letter_o_among_digits_is_taken_for_a_zero_and_asked_about() {
        let found = read_check("138OO138000").unwrap();
        assert_eq!(
            found,
            [Found::Misspelt {
                typed: "138OO138000".into(),
                fixed: "13800138000".into(),
                meant: Subject::parse("13800138000").unwrap(),
            }]
        );
        assert!(matches!(read_text("他说打 138oo138000 退款")[..], [Found::Misspelt { .. }]));
        // Meant as written when the kind is named; words are words.
        assert_eq!(check("account 138OO138000"), ["138oo138000"]);
        assert_eq!(read_text("foo moo 1234"), []);
        assert!(misspelt("Oo123").is_none());
    }
}
