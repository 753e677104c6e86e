//! The tips library shipped with Pingan (`locales/tips.*.toml`), and loading it without
//! overwriting what editors changed.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::ContentError;
use crate::domain::{Actor, Language, NewTip, ScamType, TipBody, TipTitle};
use crate::store::{SeedOutcome, Store, StoreError};

const FILES: [(Language, &str, &str); 2] = [
    (Language::Zh, "tips.zh-CN.toml", include_str!("../../locales/tips.zh-CN.toml")),
    (Language::En, "tips.en.toml", include_str!("../../locales/tips.en.toml")),
];

#[derive(Deserialize)]
struct Headings {
    how: String,
    signs: String,
    todo: String,
}

#[derive(Deserialize)]
struct Entry {
    title: String,
    how: String,
    signs: String,
    todo: String,
}

#[derive(Deserialize)]
struct File {
    headings: Headings,
    #[serde(flatten)]
    tips: BTreeMap<String, Entry>,
}

/// Every shipped tip, keyed `<scam type>.<language>`.
pub fn builtin_tips() -> Result<Vec<NewTip>, ContentError> {
    let mut tips = Vec::new();
    for (language, name, text) in FILES {
        let file: File = toml::from_str(text).map_err(|e| ContentError::new(name, e.message()))?;
        for (kind, entry) in file.tips {
            let scam_type: ScamType = kind.parse().map_err(|e| ContentError::new(name, e))?;
            let h = &file.headings;
            let body = format!(
                "{}\n{}\n\n{}\n{}\n\n{}\n{}",
                h.how,
                entry.how.trim(),
                h.signs,
                entry.signs.trim(),
                h.todo,
                entry.todo.trim()
            );
            tips.push(NewTip {
                scam_type,
                language,
                title: TipTitle::parse(&entry.title)
                    .map_err(|e| ContentError::new(name, format!("{kind}: {e}")))?,
                body: TipBody::parse(&body).map_err(|e| ContentError::new(name, format!("{kind}: {e}")))?,
                builtin_key: Some(format!("{kind}.{}", language.code())),
                author: Actor::System,
            });
        }
    }
    Ok(tips)
}

/// How loading the shipped tips went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub kept_edited: usize,
}

/// Loads the shipped tips: new ones are added, changed ones updated unless an editor has
/// edited them. Cheap when nothing changed, so it runs at every start.
pub async fn seed_tips(store: &dyn Store, now: DateTime<Utc>) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport::default();
    for tip in builtin_tips()? {
        match store.seed_tip(&tip, now).await? {
            SeedOutcome::Inserted => report.inserted += 1,
            SeedOutcome::Updated => report.updated += 1,
            SeedOutcome::Unchanged => report.unchanged += 1,
            SeedOutcome::KeptEdited => report.kept_edited += 1,
        }
    }
    Ok(report)
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("cannot store the shipped tips: {0}")]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_scam_type_has_a_tip_in_both_languages() {
        let tips = builtin_tips().unwrap();
        for language in Language::ALL {
            let kinds: BTreeSet<ScamType> =
                tips.iter().filter(|t| t.language == language).map(|t| t.scam_type).collect();
            assert_eq!(kinds.len(), ScamType::ALL.len(), "{language}");
        }
        assert!(ScamType::ALL.len() >= 12);
    }

    #[test]
    fn each_tip_says_how_it_works_the_signs_and_what_to_do() {
        for tip in builtin_tips().unwrap() {
            let sections = tip.body.as_str().split("\n\n").count();
            assert_eq!(sections, 3, "{:?}", tip.builtin_key);
        }
    }
}
