//! The two languages Pingan speaks, and how a Telegram `language_code` maps onto them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Zh,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Zh, Language::En];

    /// The stored form, which is also the ISO 639-1 code Telegram uses in `setMyCommands`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// Chooses the reply language from a Telegram user's `language_code`.
    ///
    /// Any Chinese variant (`zh`, `zh-hans`, `zh-TW`, …) is Chinese; a user whose client
    /// reports no language gets `fallback`; every other language gets English, the one
    /// foreign language the bureau publishes in.
    pub fn from_telegram(code: Option<&str>, fallback: Language) -> Language {
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            None => fallback,
            Some(c) if c.to_ascii_lowercase().starts_with("zh") => Language::Zh,
            Some(_) => Language::En,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown language {0:?}: expected zh or en")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "zh" | "zh-cn" | "zh-hans" | "zh_cn" | "cn" | "chinese" | "中文" => Ok(Language::Zh),
            "en" | "en-us" | "en-gb" | "english" => Ok(Language::En),
            _ => Err(UnknownLanguage(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_variants_are_chinese() {
        for code in ["zh", "zh-hans", "zh-TW", "ZH-HK"] {
            assert_eq!(Language::from_telegram(Some(code), Language::En), Language::Zh);
        }
    }

    #[test]
    fn missing_code_uses_the_fallback_and_other_languages_get_english() {
        assert_eq!(Language::from_telegram(None, Language::Zh), Language::Zh);
        assert_eq!(Language::from_telegram(Some(""), Language::Zh), Language::Zh);
        assert_eq!(Language::from_telegram(Some("de"), Language::Zh), Language::En);
        assert_eq!(Language::from_telegram(Some("en-GB"), Language::Zh), Language::En);
    }

    #[test]
    fn parses_codes_and_names() {
        assert_eq!("zh-CN".parse(), Ok(Language::Zh));
        assert_eq!("English".parse(), Ok(Language::En));
        assert!("fr".parse::<Language>().is_err());
    }
}
