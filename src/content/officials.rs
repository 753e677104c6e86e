//! The genuine numbers and sites /check knows without an editor listing them
//! (`locales/officials.toml`).

use serde::Deserialize;

use super::ContentError;
use crate::domain::{Actor, Indicator, IndicatorKind, IndicatorReason, Language, Risk, Subject};

const FILE: &str = "locales/officials.toml";
const SOURCE: &str = include_str!("../../locales/officials.toml");

/// One genuine number or domain, with whose it is in each language.
#[derive(Clone, Debug)]
pub struct Official {
    pub subject: Subject,
    zh: IndicatorReason,
    en: IndicatorReason,
}

impl Official {
    /// The entry as the list would hold it, its reason in `language`.
    pub fn indicator(&self, language: Language) -> Indicator {
        Indicator {
            kind: self.subject.kind(),
            value: self.subject.key(),
            risk: Risk::Official,
            reason: match language {
                Language::Zh => self.zh.clone(),
                Language::En => self.en.clone(),
            }
            .into(),
            added_by: Actor::System,
            added_at: chrono::DateTime::UNIX_EPOCH,
        }
    }
}

#[derive(Deserialize)]
struct File {
    official: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kind: String,
    value: String,
    zh: String,
    en: String,
}

/// The shipped list, read once. It is part of the build and a test reads it, so it
/// cannot fail to load in a released binary.
pub fn all() -> &'static [Official] {
    static ALL: std::sync::LazyLock<Vec<Official>> =
        std::sync::LazyLock::new(|| load().expect("locales/officials.toml reads (a test checks)"));
    &ALL
}

/// The shipped list, read and checked.
pub fn load() -> Result<Vec<Official>, ContentError> {
    let file: File = toml::from_str(SOURCE).map_err(|e| ContentError::new(FILE, e))?;
    file.official
        .into_iter()
        .map(|e| {
            let bad = |reason: String| ContentError::new(FILE, format!("{}: {reason}", e.value));
            let kind: IndicatorKind = e.kind.parse().map_err(|err| bad(format!("{err}")))?;
            Ok(Official {
                subject: Subject::of_kind(kind, &e.value).map_err(|err| bad(err.to_string()))?,
                zh: IndicatorReason::parse(&e.zh).map_err(|err| bad(err.to_string()))?,
                en: IndicatorReason::parse(&e.en).map_err(|err| bad(err.to_string()))?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_list_reads() {
        let officials = super::load().unwrap();
        assert!(officials.len() >= 20);
        assert!(officials.iter().any(|o| o.subject.key() == "+8696110"));
        assert!(officials.iter().any(|o| o.subject.key() == "alipay.com"));
    }
}
