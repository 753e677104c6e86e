//! `pingan demo-data`: sample notices (`locales/demo-notices.toml`), loaded idempotently.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::ContentError;
use crate::domain::{
    Actor, Area, Body, Category, DistrictKey, Language, NewNotice, NoticeContent, Publication, Severity,
    Source, Title,
};
use crate::store::{Store, StoreError};

const FILE: &str = "demo-notices.toml";
const TEXT: &str = include_str!("../../locales/demo-notices.toml");

#[derive(Deserialize)]
struct File {
    notice: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    key: String,
    category: Category,
    severity: Severity,
    days_ago: i64,
    expires_in_days: Option<i64>,
    /// Keys of the districts it concerns (`locales/demo-districts.toml`); none: the whole city.
    #[serde(default)]
    districts: Vec<String>,
    zh: Version,
    en: Version,
}

#[derive(Deserialize)]
struct Version {
    title: String,
    body: String,
    area: String,
    source: String,
}

/// The demo notices as they would be stored at `now`, each with its external id.
pub fn demo_notices(now: DateTime<Utc>) -> Result<Vec<NewNotice>, ContentError> {
    let file: File = toml::from_str(TEXT).map_err(|e| ContentError::new(FILE, e.message()))?;
    let mut notices = Vec::new();
    for entry in file.notice {
        for (language, version) in [(Language::Zh, &entry.zh), (Language::En, &entry.en)] {
            let bad = |e: &dyn std::fmt::Display| {
                ContentError::new(FILE, format!("{} ({language}): {e}", entry.key))
            };
            let districts = entry
                .districts
                .iter()
                .map(|k| DistrictKey::parse(k).ok_or_else(|| bad(&format!("district key {k:?}"))))
                .collect::<Result<_, _>>()?;
            let content = NoticeContent {
                districts,
                title: Title::parse(&version.title).map_err(|e| bad(&e))?,
                body: Body::parse(&version.body).map_err(|e| bad(&e))?,
                category: entry.category,
                severity: entry.severity,
                area: Some(Area::parse(&version.area).map_err(|e| bad(&e))?),
                language,
                source: Some(Source::parse(&version.source).map_err(|e| bad(&e))?),
            };
            let published = Publication::At(now - Duration::days(entry.days_ago));
            let expires = entry.expires_in_days.map(|days| now + Duration::days(days));
            let notice = NewNotice::new(content, published, expires, Actor::System, now)
                .map_err(|e| bad(&e))?
                .with_external_id(format!("demo:{}.{}", entry.key, language.code()))
                .with_language_group(format!("demo:{}", entry.key));
            notices.push(notice);
        }
    }
    Ok(notices)
}

/// Adds each demo notice not already there. Returns (added, already present).
pub async fn load_demo_notices(store: &dyn Store, now: DateTime<Utc>) -> Result<(usize, usize), DemoError> {
    let (mut added, mut present) = (0, 0);
    for notice in demo_notices(now)? {
        let Some(id) = notice.external_id() else {
            continue;
        };
        if store.notice_by_external_id(id).await?.is_some() {
            present += 1;
            continue;
        }
        match store.insert_notice(&notice).await {
            Ok(_) => added += 1,
            // Another process loaded it at the same moment.
            Err(StoreError::Conflict(_)) => present += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok((added, present))
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("cannot store the demo notices: {0}")]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_notices_come_in_both_languages_with_unique_ids() {
        let notices = demo_notices(Utc::now()).unwrap();
        assert!(notices.len() >= 10);
        let zh = notices.iter().filter(|n| n.content().language == Language::Zh).count();
        assert_eq!(zh * 2, notices.len());
        let mut ids: Vec<&str> = notices.iter().filter_map(|n| n.external_id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), notices.len());
        assert!(notices.iter().all(|n| !n.content().severity.is_urgent()), "demo data never raises an alert");
    }

    #[test]
    fn the_demo_districts_load_as_configuration_and_hold_the_demo_notices_districts() {
        let text = include_str!("../../locales/demo-districts.toml");
        let local = Some((std::path::PathBuf::from("locales/demo-districts.toml"), text.to_owned()));
        let districts = crate::config::Loaded::from_sources(local, &|_| None).unwrap().settings.bot.districts;
        let keys: Vec<&str> = districts.all().iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["chengdong", "chengxi", "gaoxin"]);
        // The made-up city centre's east side, west side and the zone south of both.
        assert_eq!(districts.containing(30.25, 120.2).map(|d| d.key.as_str()), Some("chengdong"));
        assert_eq!(districts.containing(30.25, 120.1).map(|d| d.key.as_str()), Some("chengxi"));
        assert_eq!(districts.containing(30.15, 120.1).map(|d| d.key.as_str()), Some("gaoxin"));
        for notice in demo_notices(Utc::now()).unwrap() {
            for key in &notice.content().districts {
                assert!(districts.get(key).is_some(), "{key} is a demo district");
            }
        }
        let with: usize =
            demo_notices(Utc::now()).unwrap().iter().filter(|n| !n.content().districts.is_empty()).count();
        assert_eq!(with, 2, "the road works, in both languages");
    }
}
