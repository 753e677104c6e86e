//! What people type, brought to one form before it is read: full-width characters as
//! their ASCII forms, one kind of minus, single spaces; and lists cut into their items.
//!
//! Chinese keyboards type full-width digits and punctuation (`０７：３０`, `，`, `＋８`).
//! Unicode Normalization Form KC (UAX #15, through the `unicode-normalization` crate)
//! folds those compatibility characters onto their ASCII forms and leaves Chinese
//! characters and the enumeration comma `、` as they are.

use unicode_normalization::UnicodeNormalization;

/// `text` in NFKC (UAX #15), trimmed, with `−` (U+2212) and the other dashes as `-`, and
/// every run of white space as one space. Case is kept.
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .nfkc()
        .map(|c| match c {
            '\u{2212}' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{fe63}' => '-',
            c => c,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The items of a typed list: split on `,` `，` `、` `;` `；` and white space, each
/// [`normalize`]d, empty items left out. `刷单,贷款`, `刷单，贷款`, `刷单、贷款` and
/// `刷单 贷款` are all `["刷单", "贷款"]`.
pub fn split_list(text: &str) -> Vec<String> {
    normalize(text)
        .split([',', '、', ';', ' '])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `text` as it is compared with a label: [`normalize`]d and lower-cased, with traditional
/// characters in their simplified forms ([`super::hanzi`]), so `交通`, `交通 ` and `ＴＲＡＦＦＩＣ`
/// and `Traffic` compare alike.
pub fn fold_label(text: &str) -> String {
    super::hanzi::to_simplified(&normalize(text).to_lowercase()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_text_becomes_ascii_and_spaces_collapse() {
        assert_eq!(normalize("  ０７：３０ "), "07:30");
        assert_eq!(normalize("ＵＴＣ＋８"), "UTC+8");
        assert_eq!(normalize("UTC\u{2212}5"), "UTC-5");
        assert_eq!(normalize("weekly \t  Friday"), "weekly Friday");
        assert_eq!(normalize("北京时间"), "北京时间");
    }

    #[test]
    fn lists_split_on_every_comma_and_on_spaces() {
        for typed in ["刷单,贷款", "刷单，贷款", "刷单、贷款", "刷单 贷款", " 刷单 ,, 贷款、", "刷单；贷款"]
        {
            assert_eq!(split_list(typed), ["刷单", "贷款"], "{typed}");
        }
        assert!(split_list(" ,、 ").is_empty());
    }

    #[test]
    fn labels_fold_case_width_and_script() {
        assert_eq!(fold_label("ＴＲＡＦＦＩＣ"), "traffic");
        assert_eq!(fold_label("詐騙"), "诈骗");
    }
}
