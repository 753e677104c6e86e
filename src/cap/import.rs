//! Turning CAP alerts into notices: an Alert creates one notice per `<info>` in a language
//! Pingan speaks; an Update corrects the notices it refers to; a Cancel withdraws them.
//! Everything is planned (and checked) before anything is stored.

use chrono::{DateTime, Utc};

use super::{
    Alert, CATEGORY_PARAMETER, CapError, Info, category_from_cap, external_id, invalid, language_of,
    parse_time,
};
use crate::domain::{
    Actor, Area, Body, Category, Language, NewNotice, NoticeContent, NoticeCorrection, NoticeId,
    NoticeStatus, Severity, Source, Title,
};
use crate::publishing::{Desk, PublishError};
use crate::store::StoreError;

/// What importing alerts did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: Vec<NoticeId>,
    pub corrected: Vec<NoticeId>,
    pub retracted: Vec<NoticeId>,
    /// Parts left alone, with the reason (a language Pingan does not speak, an alert
    /// already imported, a reference to an alert it never saw).
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Cap(#[from] CapError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

enum Action {
    Create(Box<NewNotice>),
    Correct(NoticeId, Box<NoticeCorrection>),
    Retract(NoticeId),
    Skip(String),
}

/// Imports `alerts` through the publishing desk, as `actor`. If any alert does not make
/// valid notices, nothing at all is stored.
pub async fn import_alerts(
    alerts: &[Alert],
    desk: &Desk<'_>,
    actor: &Actor,
) -> Result<ImportReport, ImportError> {
    let now = desk.clock.now();
    let mut plan = Vec::new();
    for alert in alerts {
        plan.extend(plan_alert(alert, desk, actor, now).await?);
    }
    let mut report = ImportReport::default();
    for action in plan {
        match action {
            Action::Create(notice) => report.created.push(desk.publish(&notice, actor).await?.id),
            Action::Correct(id, correction) => {
                report.corrected.push(desk.correct(id, &correction, actor).await?.0.id)
            }
            Action::Retract(id) => report.retracted.push(desk.retract(id, actor).await?.0.id),
            Action::Skip(reason) => report.skipped.push(reason),
        }
    }
    Ok(report)
}

/// The notices an alert's references name, in `language`.
fn referenced(alert: &Alert, language: Language) -> Vec<String> {
    alert
        .references
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|triple| {
            let mut parts = triple.split(',');
            let (sender, identifier) = (parts.next()?, parts.next()?);
            Some(external_id(sender, identifier, language))
        })
        .collect()
}

async fn plan_alert(
    alert: &Alert,
    desk: &Desk<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Action>, ImportError> {
    let name = format!("alert {} from {}", alert.identifier, alert.sender);
    let mut plan = Vec::new();
    if alert.msg_type == "Cancel" {
        let languages: Vec<Language> = if alert.info.is_empty() {
            Language::ALL.to_vec()
        } else {
            alert.info.iter().filter_map(|i| language_of(&i.language)).collect()
        };
        for language in languages {
            for reference in referenced(alert, language) {
                match desk.store.notice_by_external_id(&reference).await? {
                    Some(n) if matches!(n.status, NoticeStatus::Published | NoticeStatus::Scheduled) => {
                        plan.push(Action::Retract(n.id))
                    }
                    Some(n) => {
                        plan.push(Action::Skip(format!("{name}: notice {} is already {}", n.id, n.status)))
                    }
                    None => {}
                }
            }
        }
        if plan.is_empty() {
            plan.push(Action::Skip(format!("{name}: cancels alerts not imported here; nothing to withdraw")));
        }
        return Ok(plan);
    }
    if matches!(alert.msg_type.as_str(), "Ack" | "Error") {
        return Ok(vec![Action::Skip(format!("{name}: a {} message carries no notice", alert.msg_type))]);
    }
    for (i, info) in alert.info.iter().enumerate() {
        let Some(language) = language_of(&info.language) else {
            plan.push(Action::Skip(format!("{name}: info in {} (Pingan speaks zh and en)", info.language)));
            continue;
        };
        let path = format!("/alert/info[{}]", i + 1);
        let content = content(alert, info, language, &path)?;
        let published =
            info.effective.as_deref().or(Some(alert.sent.as_str())).and_then(parse_time).unwrap_or(now);
        let expires = info.expires.as_deref().and_then(parse_time);
        let own_id = external_id(&alert.sender, &alert.identifier, language);
        if desk.store.notice_by_external_id(&own_id).await?.is_some() {
            plan.push(Action::Skip(format!("{name} ({language}): already imported")));
            continue;
        }
        if alert.msg_type == "Update" {
            let mut target = None;
            for reference in referenced(alert, language) {
                if let Some(n) = desk.store.notice_by_external_id(&reference).await? {
                    target = Some(n);
                }
            }
            if let Some(target) = target {
                match NoticeCorrection::new(content.clone(), expires, now) {
                    Ok(correction) => plan.push(Action::Correct(target.id, Box::new(correction))),
                    Err(e) => plan.push(Action::Skip(format!(
                        "{name} ({language}): not applied to notice {}: {e}",
                        target.id
                    ))),
                }
                continue;
            }
        }
        let notice = NewNotice::imported(content, published, expires, actor.clone(), now)
            .map_err(|e| invalid(format!("{path}/expires"), e.to_string()))?
            .with_external_id(own_id);
        let notice = if alert.status == "Actual" { notice } else { notice.into_draft() };
        plan.push(Action::Create(Box::new(notice)));
    }
    if alert.info.is_empty() {
        plan.push(Action::Skip(format!("{name}: no <info>, nothing to publish")));
    }
    Ok(plan)
}

/// At most `max` characters of `text`, cut with an ellipsis.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Runs of whitespace as one space: CAP texts are often wrapped for the eye.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn content(alert: &Alert, info: &Info, language: Language, path: &str) -> Result<NoticeContent, CapError> {
    let bad = |field: &str, e: &dyn std::fmt::Display| invalid(format!("{path}/{field}"), e.to_string());
    let title = one_line(info.headline.as_deref().unwrap_or(&info.event));
    let paragraphs: Vec<String> = [&info.description, &info.instruction]
        .into_iter()
        .flatten()
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join("\n"))
        .filter(|p| !p.trim().is_empty())
        .collect();
    let body = if paragraphs.is_empty() { info.event.clone() } else { paragraphs.join("\n\n") };
    let category = info
        .parameter
        .iter()
        .find(|p| p.value_name == CATEGORY_PARAMETER)
        .and_then(|p| p.value.parse::<Category>().ok())
        .unwrap_or_else(|| category_from_cap(info.category.first().map_or("Other", String::as_str)));
    let area = one_line(&info.area.iter().map(|a| a.area_desc.as_str()).collect::<Vec<_>>().join("; "));
    let source = one_line(info.sender_name.as_deref().unwrap_or(&alert.sender));
    Ok(NoticeContent {
        title: Title::parse(&fit(&title, Title::MAX_CHARS)).map_err(|e| bad("headline", &e))?,
        body: Body::parse(&fit(&body, Body::MAX_CHARS)).map_err(|e| bad("description", &e))?,
        category,
        severity: info.severity.parse::<Severity>().map_err(|e| bad("severity", &e))?,
        area: (!area.is_empty())
            .then(|| Area::parse(&fit(&area, Area::MAX_CHARS)))
            .transpose()
            .map_err(|e| bad("area", &e))?,
        language,
        source: (!source.is_empty())
            .then(|| Source::parse(&fit(&source, Source::MAX_CHARS)))
            .transpose()
            .map_err(|e| bad("senderName", &e))?,
    })
}
