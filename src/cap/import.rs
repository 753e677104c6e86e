//! Turning CAP alerts into notices: an Alert creates one notice per `<info>` in a language
//! Pingan speaks; an Update corrects the notices it refers to; a Cancel withdraws them.
//!
//! Every alert is checked first ([`prepare`]); only when all of them make valid notices is
//! anything stored. They are then applied in order, each against what the ones before it
//! stored, so an Update or a Cancel may follow its Alert in the same batch. Each alert is
//! remembered by its sender and identifier, so importing it again changes nothing.
//!
//! An Update or a Cancel changes only notices imported from its own `<sender>`: whatever
//! its `<references>` name, a notice another sender published, or one written in Pingan,
//! is left as it is, the refusal reported and audited, unless the operator trusts the
//! file's sender ([`Authority::trusted_senders`], `cap.trusted_senders`). CAP files carry
//! no signature here: a feed that writes another sender's name is believed, so the
//! operator imports only feeds whose sender they can vouch for.

use chrono::{DateTime, Duration, Utc};

use super::{
    Alert, CATEGORY_PARAMETER, CapError, Info, area_text, category_from_cap, external_id, format_time, html,
    invalid, language_group, language_of, own_identifier, parse_time,
};
use crate::domain::{
    Actor, Area, AuditAction, AuditEntry, Body, CapOrigin, Category, Language, NewNotice, Notice,
    NoticeContent, NoticeCorrection, NoticeError, NoticeId, Severity, Source, Title,
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
    /// Changes the file's sender had no authority for, each naming the alert, the notice
    /// and why; each is in the audit log too.
    pub refused: Vec<String>,
    /// What the alerts got wrong that did not stop them (an `<expires>` not after the
    /// alert takes effect, an empty `<references/>`, no `<scope>`), each naming the alert
    /// and the element's path, such as `/alert/info[1]/expires`. See [`Prepared::warnings`].
    pub warnings: Vec<String>,
}

impl ImportReport {
    fn extend(&mut self, other: ImportReport) {
        self.created.extend(other.created);
        self.corrected.extend(other.corrected);
        self.retracted.extend(other.retracted);
        self.skipped.extend(other.skipped);
        self.refused.extend(other.refused);
        self.warnings.extend(other.warnings);
    }
}

/// Who may change which notices by CAP.
#[derive(Clone, Copy, Debug)]
pub struct Authority<'a> {
    /// The sender Pingan writes its own alerts as (`bot.cap_sender`), so that references
    /// to its exports (`pingan-<id>`) are known.
    pub own_sender: &'a str,
    /// Senders whose Updates and Cancels may change notices from other senders, Pingan's
    /// own included (`cap.trusted_senders`). Empty: a file changes its own sender's alerts
    /// only.
    pub trusted_senders: &'a [String],
}

/// Pingan's own sender, and no sender trusted with other senders' notices: the default.
impl<'a> From<&'a str> for Authority<'a> {
    fn from(own_sender: &'a str) -> Self {
        Authority { own_sender, trusted_senders: &[] }
    }
}

impl Authority<'_> {
    /// Why an alert from `sender` may not change `notice`; `None` if it may.
    fn refusal(&self, sender: &str, notice: &Notice) -> Option<String> {
        let trusted = self.trusted_senders.iter().any(|t| t == sender);
        let whose = match &notice.cap {
            _ if trusted => return None,
            Some(origin) if origin.sender == sender => return None,
            Some(origin) => format!("it came from {}", origin.sender),
            None => "it was written in Pingan".to_owned(),
        };
        Some(format!("{whose}, and cap.trusted_senders does not list {sender}"))
    }
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

/// An alert that has been checked: each `<info>` Pingan can use, as notice content.
#[derive(Clone, Debug)]
pub struct Prepared {
    alert: Alert,
    infos: Vec<PreparedInfo>,
    /// `<info>` blocks in languages Pingan does not speak, with the reason.
    skipped: Vec<String>,
    /// What the alert gets wrong that does not make it unusable, each naming the alert and
    /// the element's path: an `<expires>` at or before the time the `<info>` takes effect
    /// (its notices are published a second before that expiry, so they expire at the time
    /// given, at once if it is past), an empty `<references/>`, a missing `<scope>`.
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug)]
struct PreparedInfo {
    language: Language,
    content: NoticeContent,
    published: Option<DateTime<Utc>>,
    expires: Option<DateTime<Utc>>,
    /// The alert with only this `<info>`, as JSON: stored with the notice for export.
    detail: String,
}

impl Prepared {
    fn name(&self) -> String {
        format!("alert {} from {}", self.alert.identifier, self.alert.sender)
    }

    fn origin(&self) -> CapOrigin {
        CapOrigin { sender: self.alert.sender.clone(), identifier: self.alert.identifier.clone() }
    }

    /// Names in each notice the districts its `<info>`'s areas concern
    /// ([`Districts::match_cap`]: `areaDesc` against names and aliases, geocodes,
    /// polygons intersecting a district's boundary, circles by their centre); the whole
    /// city when nothing matches or every district does.
    pub fn match_districts(&mut self, districts: &crate::domain::Districts) {
        if districts.is_empty() {
            return;
        }
        for (info, prepared) in
            self.alert.info.iter().filter(|i| language_of(&i.language).is_some()).zip(&mut self.infos)
        {
            let areas: Vec<crate::domain::CapArea<'_>> = info
                .area
                .iter()
                .map(|a| crate::domain::CapArea {
                    area_desc: &a.area_desc,
                    polygons: a.polygon.iter().map(String::as_str).collect(),
                    circles: a.circle.iter().map(String::as_str).collect(),
                    geocodes: a.geocode.iter().map(|g| (g.value_name.as_str(), g.value.as_str())).collect(),
                })
                .collect();
            prepared.content.districts = districts.match_cap(&areas);
        }
    }

    /// Exercises, tests and drafts change nothing that is live.
    fn is_actual(&self) -> bool {
        self.alert.status == "Actual"
    }
}

/// Checks an alert and turns its `<info>` blocks into notice content, storing nothing.
/// What it gets wrong that does not make it unusable is in [`Prepared::warnings`].
pub fn prepare(alert: &Alert) -> Result<Prepared, CapError> {
    let mut prepared =
        Prepared { alert: alert.clone(), infos: Vec::new(), skipped: Vec::new(), warnings: Vec::new() };
    let name = prepared.name();
    if alert.scope.is_none() {
        prepared.warnings.push(format!("{name}: /alert/scope is missing; read as Public"));
    }
    if alert.references.as_deref().is_some_and(|r| r.trim().is_empty()) {
        prepared.warnings.push(format!("{name}: /alert/references is empty; it refers to no alert"));
    }
    for (i, info) in alert.info.iter().enumerate() {
        let Some(language) = language_of(&info.language) else {
            prepared.skipped.push(format!("{name}: info in {} (Pingan speaks zh and en)", info.language));
            continue;
        };
        let path = format!("/alert/info[{}]", i + 1);
        let content = content(alert, info, language, &path)?;
        let mut published = info.effective.as_deref().or(Some(alert.sent.as_str())).and_then(parse_time);
        let expires = info.expires.as_deref().and_then(parse_time);
        if let (Some(from), Some(until)) = (published, expires)
            && until <= from
        {
            // Common in Cancels ("it ends now"). The expiry is kept as given: the notice is
            // taken to begin a second before it, so it is over at once, or at that time.
            prepared.warnings.push(format!(
                "{name}: {path}/expires ({}) is not after the alert takes effect ({}); the notice expires then",
                format_time(until),
                format_time(from)
            ));
            published = Some(until - Duration::seconds(1));
        }
        let single = Alert { info: vec![info.clone()], ..alert.clone() };
        let detail = serde_json::to_string(&single).map_err(|e| invalid(path.clone(), e.to_string()))?;
        prepared.infos.push(PreparedInfo { language, content, published, expires, detail });
    }
    Ok(prepared)
}

/// Imports `alerts` through the publishing desk, as `actor`: all are checked first, and
/// if any does not make valid notices, nothing at all is stored. `authority` names
/// Pingan's own sender and the senders trusted with other senders' notices (a bare
/// `&str` is Pingan's own sender, trusting no one).
pub async fn import_alerts<'a>(
    alerts: &[Alert],
    desk: &Desk<'_>,
    actor: &Actor,
    authority: impl Into<Authority<'a>>,
) -> Result<ImportReport, ImportError> {
    let prepared = alerts.iter().map(prepare).collect::<Result<Vec<_>, _>>()?;
    import_prepared(&prepared, desk, actor, authority).await
}

/// Applies alerts checked by [`prepare`], in order.
pub async fn import_prepared<'a>(
    alerts: &[Prepared],
    desk: &Desk<'_>,
    actor: &Actor,
    authority: impl Into<Authority<'a>>,
) -> Result<ImportReport, ImportError> {
    let authority = authority.into();
    let mut report = ImportReport::default();
    for alert in alerts {
        let importer = Importer { desk, actor, authority };
        report.extend(importer.apply(alert).await?);
    }
    Ok(report)
}

struct Importer<'a> {
    desk: &'a Desk<'a>,
    actor: &'a Actor,
    authority: Authority<'a>,
}

impl Importer<'_> {
    /// The notice an alert's (sender, identifier) stands for in `language`: one imported
    /// from it (or changed by it), or, for Pingan's own exports, the notice itself.
    async fn find(&self, origin: &CapOrigin, language: Language) -> Result<Option<Notice>, StoreError> {
        if let Some(notice) = self.desk.store.notice_by_cap(origin, language).await? {
            return Ok(Some(notice));
        }
        if origin.sender != self.authority.own_sender {
            return Ok(None);
        }
        let own = origin.identifier.strip_prefix("pingan-").and_then(|n| n.parse::<i64>().ok());
        let Some(id) = own.map(NoticeId).filter(|id| own_identifier(*id) == origin.identifier) else {
            return Ok(None);
        };
        // Only a notice written here goes by `pingan-<id>`; an imported one keeps its alert's.
        let notice = self.desk.store.notice(id).await?;
        Ok(notice.filter(|n| n.content.language == language && n.cap.is_none()))
    }

    /// The notices an alert's `<references>` name, in `language`.
    async fn referenced(&self, alert: &Alert, language: Language) -> Result<Vec<Notice>, StoreError> {
        let mut found: Vec<Notice> = Vec::new();
        for triple in alert.references.as_deref().unwrap_or_default().split_whitespace() {
            let mut parts = triple.split(',');
            let (Some(sender), Some(identifier)) = (parts.next(), parts.next()) else { continue };
            let origin = CapOrigin { sender: sender.to_owned(), identifier: identifier.to_owned() };
            if let Some(notice) = self.find(&origin, language).await?
                && !found.iter().any(|n| n.id == notice.id)
            {
                found.push(notice);
            }
        }
        Ok(found)
    }

    /// Whether the alert may change `notice`; if not, says so in the report and the
    /// audit log. `change` is what it would have done ("correct", "withdraw").
    async fn allowed(
        &self,
        prepared: &Prepared,
        language: Language,
        notice: &Notice,
        change: &str,
        report: &mut ImportReport,
    ) -> Result<bool, StoreError> {
        let alert = &prepared.alert;
        let Some(why) = self.authority.refusal(&alert.sender, notice) else { return Ok(true) };
        let said = format!("may not {change} notice {}: {why}", notice.id);
        let entry = AuditEntry {
            at: self.desk.clock.now(),
            actor: self.actor.clone(),
            action: AuditAction::ImportRefused,
            subject: format!("notice {}", notice.id),
            detail: format!("CAP {} {} from {}: {said}", alert.msg_type, alert.identifier, alert.sender),
        };
        self.desk.store.record_audit(&entry).await?;
        report.refused.push(format!("{} ({language}): {said}", prepared.name()));
        Ok(false)
    }

    async fn apply(&self, prepared: &Prepared) -> Result<ImportReport, ImportError> {
        let alert = &prepared.alert;
        let name = prepared.name();
        let mut report = ImportReport {
            skipped: prepared.skipped.clone(),
            warnings: prepared.warnings.clone(),
            ..ImportReport::default()
        };
        let now = self.desk.clock.now();
        match alert.msg_type.as_str() {
            "Ack" | "Error" => {
                report.skipped.push(format!("{name}: a {} message carries no notice", alert.msg_type));
                return Ok(report);
            }
            "Update" | "Cancel" if !prepared.is_actual() => {
                report.skipped.push(format!("{name}: a {} {} changes nothing", alert.status, alert.msg_type));
                return Ok(report);
            }
            "Cancel" => {
                let languages: Vec<Language> = if prepared.infos.is_empty() {
                    Language::ALL.to_vec()
                } else {
                    prepared.infos.iter().map(|i| i.language).collect()
                };
                for language in languages {
                    for notice in self.referenced(alert, language).await? {
                        if !self.allowed(prepared, language, &notice, "withdraw", &mut report).await? {
                            continue;
                        }
                        if notice.status.is_changeable() {
                            let changed = self.desk.retract(notice.id, self.actor).await?;
                            report.retracted.push(changed.notice.id);
                        } else {
                            report
                                .skipped
                                .push(format!("{name}: notice {} is already {}", notice.id, notice.status));
                        }
                    }
                }
                if report.retracted.is_empty()
                    && report.refused.is_empty()
                    && report.skipped.len() == prepared.skipped.len()
                {
                    report
                        .skipped
                        .push(format!("{name}: cancels alerts not imported here; nothing to withdraw"));
                }
                return Ok(report);
            }
            _ => {}
        }
        // The alert's new versions are stored together: see `Desk::publish_versions`.
        let origin = prepared.origin();
        let mut versions = Vec::new();
        for info in &prepared.infos {
            let language = info.language;
            let own_id = external_id(&origin, language);
            if let Some(notice) = self.find(&origin, language).await? {
                report.skipped.push(format!("{name} ({language}): already here as notice {}", notice.id));
                continue;
            }
            let mut target = None;
            let mut refused = false;
            if alert.msg_type == "Update" {
                // The last notice it references that it may change; one it may not is
                // refused, and an Update refused everything it names stores nothing.
                for notice in self.referenced(alert, language).await? {
                    if self.allowed(prepared, language, &notice, "correct", &mut report).await? {
                        target = Some(notice);
                    } else {
                        refused = true;
                    }
                }
            }
            if refused && target.is_none() {
                continue;
            }
            if let Some(target) = target {
                if !target.status.is_changeable() {
                    report
                        .skipped
                        .push(format!("{name} ({language}): notice {} is {}", target.id, target.status));
                    continue;
                }
                match NoticeCorrection::new(info.content.clone(), info.expires, now) {
                    Ok(correction) => {
                        let changed = self.desk.correct(target.id, &correction, self.actor).await?;
                        self.desk.store.add_cap_alias(&origin, language, &own_id, target.id, now).await?;
                        self.desk.store.set_cap_detail(target.id, Some(&info.detail)).await?;
                        report.corrected.push(changed.notice.id);
                    }
                    Err(e) => report
                        .skipped
                        .push(format!("{name} ({language}): not applied to notice {}: {e}", target.id)),
                }
                continue;
            }
            let notice = NewNotice::imported(
                info.content.clone(),
                info.published.unwrap_or(now),
                info.expires,
                self.actor.clone(),
                now,
            )
            .map_err(|e| {
                let element = match e {
                    NoticeError::PublishedTooLate { .. } => "effective",
                    _ => "expires",
                };
                invalid(format!("/alert/info ({language})/{element}"), e.to_string())
            })?
            .with_external_id(own_id)
            .with_language_group(language_group(&alert.sender, &alert.identifier))
            .with_cap_origin(origin.clone())
            .with_cap_detail(info.detail.clone());
            versions.push(if prepared.is_actual() { notice } else { notice.into_draft() });
        }
        if !versions.is_empty() {
            let stored = self.desk.publish_versions(&versions, self.actor).await?;
            report.created.extend(stored.iter().map(|n| n.id));
        }
        if alert.info.is_empty() {
            report.skipped.push(format!("{name}: no <info>, nothing to publish"));
        }
        Ok(report)
    }
}

/// At most `max` characters of `text`, cut with an ellipsis.
pub(super) fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Runs of whitespace as one space: CAP texts are often wrapped for the eye.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The WEA parameters' text (CAP-IPAWS profile: `CMAMlongtext`, else `CMAMtext`), if any.
fn wea_text(info: &Info) -> Option<String> {
    ["CMAMlongtext", "CMAMtext"].into_iter().find_map(|name| {
        info.parameter
            .iter()
            .find(|p| p.value_name.eq_ignore_ascii_case(name) && !p.value.trim().is_empty())
            .map(|p| p.value.clone())
    })
}

fn content(alert: &Alert, info: &Info, language: Language, path: &str) -> Result<NoticeContent, CapError> {
    let bad = |field: &str, e: &dyn std::fmt::Display| invalid(format!("{path}/{field}"), e.to_string());
    let title = one_line(info.headline.as_deref().unwrap_or(&info.event));
    // HTML line breaks and entities in the texts become text; without a description, the
    // WEA texts (US IPAWS alerts often carry their message only there) stand for it.
    let description = info
        .description
        .as_deref()
        .map(html::to_text)
        .filter(|d| !d.trim().is_empty())
        .or_else(|| wea_text(info));
    let instruction = info.instruction.as_deref().map(html::to_text);
    let paragraphs: Vec<String> = [description, instruction]
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
    let area = area_text(&info.area);
    let source = one_line(info.sender_name.as_deref().unwrap_or(&alert.sender));
    Ok(NoticeContent {
        districts: Default::default(),
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
