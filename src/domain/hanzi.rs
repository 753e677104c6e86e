//! Traditional and simplified Chinese characters folded to one form, so that `刷單` and
//! `刷单` match the same words in search, subscribers' keywords and `/check`.
//!
//! The table is OpenCC's (`TSCharacters`, traditional to simplified, Apache-2.0), compiled
//! into the binary by the `ferrous-opencc` crate. It is applied **one character at a
//! time**, never by phrase: a phrase table would turn `乾隆` one way and a lone `乾`
//! another, and then a query that is part of a text could miss it. One character always
//! becomes one character, so positions, Chinese pairs and lengths stay as written.
//!
//! Where two traditional characters share one simplified form (`發`/`髮` → `发`,
//! `乾`/`幹` → `干`), both fold to it: a search for `头发` finds `頭髮`, and one for `干`
//! finds `乾` and `幹` alike. A character OpenCC gives several simplified forms takes its
//! first (`乾` → `干`). The fold is repeated until nothing changes, so folded text folds
//! to itself (OpenCC maps `薴` → `苧` and `苧` → `苎`: both end at `苎`).
//!
//! Only what is compared folds: what citizens and editors wrote is stored and shown as
//! they wrote it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;

/// The rules search tokens are made by: the crate whose table folds characters (its
/// version) and the revision of Pingan's tokenising (`search_text.rs`). Change it when
/// either changes: migrating a database then rebuilds its search index
/// (`src/store/search_reindex.rs`). A test checks the crate's version against `Cargo.lock`.
pub const SEARCH_TOKEN_RULES: &str = "ferrous-opencc 0.4.0 t2s by character, pingan 3";

/// OpenCC's traditional-to-simplified converter, built from the dictionaries compiled into
/// the binary. `None` only if those are broken, which a test rules out: then nothing folds.
static CONVERTER: LazyLock<Option<OpenCC>> =
    LazyLock::new(|| match OpenCC::from_config(BuiltinConfig::T2s) {
        Ok(converter) => Some(converter),
        Err(e) => {
            tracing::error!(error = %e, "the built-in OpenCC table cannot be read; Chinese is not folded");
            None
        }
    });

/// Characters already looked up, and what they fold to: a lookup in OpenCC's table
/// allocates, a look in here does not. At most one entry per Chinese code point (about
/// 92,000), a few megabytes if someone sent every one of them.
static FOLDED: LazyLock<RwLock<HashMap<char, char>>> = LazyLock::new(|| RwLock::new(HashMap::new()));

/// How many times a character is folded again at most (OpenCC's longest chain is two).
const MAX_STEPS: usize = 4;

/// Builds the converter and folds a few characters, so that the first search does not wait
/// for it (a few milliseconds in a release build).
pub fn warm_up() {
    let _ = to_simplified("刷單詐騙");
}

/// Whether `c` is a Chinese (CJK unified or compatibility) ideograph: the characters
/// search indexes one by one and in pairs.
pub(crate) fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// The simplified form of `c`: `單` → `单`, `髮` → `发`; any other character as it is.
pub fn simplified(c: char) -> char {
    if !is_han(c) {
        return c;
    }
    if let Some(&folded) = FOLDED.read().unwrap_or_else(PoisonError::into_inner).get(&c) {
        return folded;
    }
    let mut folded = c;
    for _ in 0..MAX_STEPS {
        let next = convert_one(folded);
        if next == folded {
            break;
        }
        folded = next;
    }
    FOLDED.write().unwrap_or_else(PoisonError::into_inner).insert(c, folded);
    folded
}

/// `text` with every Chinese character in its simplified form; borrowed when nothing
/// changes. Same number of characters, in the same places.
pub fn to_simplified(text: &str) -> Cow<'_, str> {
    let Some((at, _)) = text.char_indices().find(|&(_, c)| simplified(c) != c) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    out.extend(text[at..].chars().map(simplified));
    Cow::Owned(out)
}

/// One step of OpenCC's table for one character: its first simplified form, or itself.
fn convert_one(c: char) -> char {
    let Some(converter) = CONVERTER.as_ref() else {
        return c;
    };
    let mut buffer = [0; 4];
    let converted = converter.convert(c.encode_utf8(&mut buffer));
    let mut chars = converted.chars();
    match (chars.next(), chars.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Traditional, simplified: the word, characters two traditional ones share,
    /// Taiwan's and Hong Kong's usual forms, and characters the same in both.
    const PAIRS: &[(&str, &str)] = &[
        ("刷單", "刷单"),
        ("詐騙", "诈骗"),
        ("電信網絡詐騙", "电信网络诈骗"),
        ("發財", "发财"),
        ("頭髮", "头发"),
        ("乾淨", "干净"),
        ("幹部", "干部"),
        ("後來", "后来"),
        ("皇后", "皇后"),
        ("臺灣", "台湾"),
        ("颱風", "台风"),
        ("櫃檯", "柜台"),
        ("這裡", "这里"),
        ("這裏", "这里"),
        ("因為", "因为"),
        ("眾人", "众人"),
        ("冒充公檢法", "冒充公检法"),
        ("銀行卡號", "银行卡号"),
        ("返利", "返利"),
        ("平安", "平安"),
    ];

    #[test]
    fn traditional_characters_fold_to_their_simplified_forms() {
        for (traditional, simple) in PAIRS {
            assert_eq!(to_simplified(traditional), *simple, "{traditional}");
            assert_eq!(to_simplified(simple), *simple, "simplified stays: {simple}");
        }
    }

    #[test]
    fn two_traditional_characters_may_share_one_simplified_form() {
        for (a, b, shared) in [('發', '髮', '发'), ('乾', '幹', '干'), ('後', '后', '后'), ('臺', '颱', '台')]
        {
            assert_eq!((simplified(a), simplified(b)), (shared, shared), "{a} {b}");
        }
    }

    #[test]
    fn latin_digits_and_punctuation_are_left_as_written() {
        let mixed = "QQ群「刷單」返利, call 96110 或 110！Ｆｕｌｌ-width ５";
        assert_eq!(to_simplified(mixed), "QQ群「刷单」返利, call 96110 或 110！Ｆｕｌｌ-width ５");
        assert!(matches!(to_simplified("Fraud alert 96110 刷单"), Cow::Borrowed(_)));
        assert_eq!(to_simplified(""), "");
    }

    #[test]
    fn every_character_stays_in_its_place() {
        let text = "警惕網購退款詐騙：自稱客服的陌生人發來鏈接 https://x.cn 要求提供驗證碼";
        let folded = to_simplified(text);
        assert_eq!(folded.chars().count(), text.chars().count());
        for (original, folded) in text.chars().zip(folded.chars()) {
            assert_eq!(folded, simplified(original));
        }
    }

    #[test]
    fn folded_text_folds_to_itself() {
        assert_eq!(simplified('薴'), '苎', "OpenCC chains 薴 → 苧 → 苎");
        assert_eq!(simplified('苧'), '苎');
        for c in (0x4E00..=0x9FFF).filter_map(char::from_u32) {
            let once = simplified(c);
            assert_eq!(simplified(once), once, "{c} → {once}");
        }
    }

    /// The rules' name carries the crate's version: updating its table without naming new
    /// rules would leave stored search tokens made by the old one.
    #[test]
    fn the_token_rules_name_the_locked_opencc_version() {
        let lock = include_str!("../../Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"ferrous-opencc\""))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"')))
            .expect("ferrous-opencc in Cargo.lock");
        assert!(
            SEARCH_TOKEN_RULES.starts_with(&format!("ferrous-opencc {version} ")),
            "{SEARCH_TOKEN_RULES} vs {version}"
        );
    }

    #[test]
    fn the_built_in_table_loads() {
        assert!(CONVERTER.is_some());
    }
}
