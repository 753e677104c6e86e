//! Folding look-alike characters together, so `аlipay` (Cyrillic а), `a1ipay` and
//! `ＡＬＩＰＡＹ` all read as `alipay`. A small table in the spirit of Unicode's
//! confusables (UTS #39) for the letters phishing domains use.

/// `name` lower-cased with look-alikes folded to one Latin letter, hyphens dropped, and
/// `rn`/`vv` read as the `m`/`w` they imitate.
pub fn skeleton(name: &str) -> String {
    let folded: String = name.chars().flat_map(char::to_lowercase).filter_map(fold).collect();
    folded.replace("rn", "m").replace("vv", "w")
}

fn fold(c: char) -> Option<char> {
    Some(match c {
        '-' | '_' | '.' => return None,
        // Full-width Latin letters and digits.
        'ａ'..='ｚ' => char::from_u32(c as u32 - 'ａ' as u32 + 'a' as u32)?,
        '０'..='９' => fold(char::from_u32(c as u32 - '０' as u32 + '0' as u32)?)?,
        // Digits that pass for letters.
        '0' => 'o',
        '1' => 'l',
        '3' => 'e',
        '5' => 's',
        '8' => 'b',
        // Cyrillic.
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'ԝ' => 'w',
        // Greek.
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        // Latin letters with marks, and the dotless i.
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'ī' => 'i',
        'ǀ' | '|' => 'l',
        'ñ' | 'ń' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::skeleton;

    #[test]
    fn look_alikes_fold_to_the_same_skeleton() {
        for imitation in ["аlipay", "a1ipay", "ＡＬＩＰＡＹ", "alipаy", "ali-pay", "álipay"] {
            assert_eq!(skeleton(imitation), skeleton("alipay"), "{imitation}");
        }
        assert_eq!(skeleton("rnicrosoft"), skeleton("microsoft"));
        assert_eq!(skeleton("vvechat"), skeleton("wechat"));
        assert_ne!(skeleton("icbc"), skeleton("ccb"));
        assert_eq!(skeleton("工商银行"), "工商银行", "other scripts stay as they are");
    }
}
