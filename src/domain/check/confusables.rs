//! Look-alike characters folded together, and the scripts a name is written in: Unicode's
//! confusable skeletons (UTS #39 §4) and restriction levels (UTS #39 §5.2), as the
//! `unicode-security` crate computes them from Unicode's own tables.

use unicode_normalization::char::is_combining_mark;
use unicode_script::{Script, UnicodeScript};
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

/// The skeleton a name is compared by: lower-cased, then its UTS #39 skeleton (Cyrillic
/// `а` is `a`, `1`, `I` and `ӏ` are `l`, `0` is `o`, `m` is `rn`, `w` is `vv`), lower-cased
/// again, with combining marks and hyphens dropped and `vv` read as `w` — Pingan's
/// additions, so that `álipay`, `ali-pay` read as `alipay` and `vvechat` as `wechat` too.
/// Names of other scripts keep their own letters.
pub fn skeleton(name: &str) -> String {
    let lower: String = name.chars().flat_map(char::to_lowercase).collect();
    let folded: String = unicode_security::skeleton(&lower)
        .flat_map(char::to_lowercase)
        .filter(|&c| !is_combining_mark(c) && c != '-' && c != '_')
        .collect();
    folded.replace("vv", "w")
}

/// How the letters of one label are written, by UTS #39's restriction levels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scripts {
    /// As names are written: ASCII, one script (`公安`, `münchen`), or a mix UTS #39 calls
    /// highly or moderately restrictive (Latin with Han, kana or Hangul, as in `支付宝pay`;
    /// Latin with one other script but Cyrillic or Greek).
    Plain,
    /// Letters of scripts that UTS #39 does not let mix (Latin with Cyrillic or Greek, as
    /// in `аlipay` with a Cyrillic `а`: minimally restrictive), or characters it allows in
    /// no identifier.
    Mixed,
    /// One script other than Latin, every letter of which has a Latin look-alike: the
    /// label reads as `reads_as` (Cyrillic `аррӏе` as `apple`): a whole-script confusable.
    LooksLatin { reads_as: String },
}

/// How `label` (Unicode) is written; hyphens and underscores are left out of the reading.
pub fn scripts(label: &str) -> Scripts {
    let letters: String = label.chars().filter(|&c| c != '-' && c != '_').collect();
    match letters.as_str().detect_restriction_level() {
        RestrictionLevel::ASCIIOnly
        | RestrictionLevel::HighlyRestrictive
        | RestrictionLevel::ModeratelyRestrictive => Scripts::Plain,
        RestrictionLevel::MinimallyRestrictive | RestrictionLevel::Unrestricted => Scripts::Mixed,
        RestrictionLevel::SingleScript => {
            let latin = letters.chars().any(|c| c.script() == Script::Latin);
            let reads_as = skeleton(&letters);
            let looks_latin = !reads_as.is_empty()
                && reads_as.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if !latin && looks_latin { Scripts::LooksLatin { reads_as } } else { Scripts::Plain }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_fold_to_the_same_skeleton() {
        for imitation in ["аlipay", "a1ipay", "alipаy", "ali-pay", "álipay", "ALIPAY", "аӏірау"] {
            assert_eq!(skeleton(imitation), skeleton("alipay"), "{imitation}");
        }
        assert_eq!(skeleton("rnicrosoft"), skeleton("microsoft"));
        assert_eq!(skeleton("vvechat"), skeleton("wechat"));
        assert_eq!(skeleton("taoba0"), skeleton("taobao"));
        assert_ne!(skeleton("icbc"), skeleton("ccb"));
        assert_eq!(skeleton("公安"), "公安", "other scripts keep their letters");
    }

    #[test]
    fn each_label_is_judged_by_its_scripts() {
        let cases: &[(&str, Scripts)] = &[
            ("alipay", Scripts::Plain),
            ("12306", Scripts::Plain),
            ("某区公安", Scripts::Plain),
            ("中国", Scripts::Plain),
            ("支付宝pay", Scripts::Plain),
            ("münchen", Scripts::Plain),
            ("москва", Scripts::Plain),
            ("аlipay", Scripts::Mixed),
            ("αlipay", Scripts::Mixed),
            ("аррӏе", Scripts::LooksLatin { reads_as: "apple".into() }),
            ("аӏірау", Scripts::LooksLatin { reads_as: "alipay".into() }),
        ];
        for (label, expected) in cases {
            assert_eq!(&scripts(label), expected, "{label}");
        }
    }
}
