//! Notices: what the bureau publishes.

use std::fmt;

use chrono::{DateTime, Months, TimeDelta, Utc};

use super::keyword_enum::keyword_enum;
use super::text::{TextError, bounded_text};
use super::{Actor, Language};

keyword_enum! {
    /// CAP 1.2 severity.
    pub enum Severity ("severity") {
        Extreme = "Extreme",
        Severe = "Severe",
        Moderate = "Moderate",
        Minor = "Minor",
        Unknown = "Unknown",
    }
}

impl Severity {
    /// Urgent notices go out at once, outside the digest schedule.
    pub fn is_urgent(self) -> bool {
        matches!(self, Severity::Extreme | Severity::Severe)
    }
}

keyword_enum! {
    pub enum NoticeStatus ("status") {
        Draft = "draft",
        Scheduled = "scheduled",
        Published = "published",
        Retracted = "retracted",
        Expired = "expired",
    }
}

impl NoticeStatus {
    /// Published and scheduled notices may still be corrected or withdrawn.
    pub fn is_changeable(self) -> bool {
        matches!(self, NoticeStatus::Published | NoticeStatus::Scheduled)
    }
}

keyword_enum! {
    /// What a notice is about; subscribers follow categories.
    pub enum Category ("category") {
        /// Telecom and online fraud.
        Fraud = "fraud",
        /// Public order and security.
        PublicOrder = "public_order",
        Traffic = "traffic",
        /// Missing persons, wanted persons and appeals for witnesses.
        Appeal = "appeal",
        /// Floods, storms, earthquakes and other natural hazards.
        Disaster = "disaster",
        Fire = "fire",
        General = "general",
    }
}

bounded_text!(
    /// One line, as subscribers see it in lists.
    Title, "title", max = 200, Single
);
bounded_text!(
    /// The full text; long bodies are split into several messages when sent.
    Body, "body", max = 50_000, Multi
);
bounded_text!(
    /// Where a notice applies ("全市", "Pudong District").
    Area, "area", max = 100, Single
);
bounded_text!(
    /// Who issued a notice ("市公安局反诈中心").
    Source, "source", max = 200, Single
);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoticeId(pub i64);

impl fmt::Display for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a notice says, independent of when it is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeContent {
    pub title: Title,
    pub body: Body,
    pub category: Category,
    pub severity: Severity,
    pub area: Option<Area>,
    pub language: Language,
    pub source: Option<Source>,
    /// The districts it concerns ([`super::district`]); empty: the whole city.
    pub districts: super::DistrictSet,
}

/// When a new notice becomes public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publication {
    /// Kept back until an editor publishes it.
    Draft,
    Now,
    /// At a given time: in the future it is scheduled; in the past it counts as published then.
    At(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(
        "the expiry time {} is not after the publication time {}",
        .expires_at.format("%Y-%m-%d %H:%M UTC"),
        .publish_at.format("%Y-%m-%d %H:%M UTC")
    )]
    ExpiresBeforePublication { publish_at: DateTime<Utc>, expires_at: DateTime<Utc> },
    #[error("a notice may expire at most ten years ahead, by {} at the latest", .latest.format("%Y-%m-%d %H:%M UTC"))]
    ExpiresTooLate { latest: DateTime<Utc> },
    #[error("a notice may be scheduled at most a year ahead, by {} at the latest", .latest.format("%Y-%m-%d %H:%M UTC"))]
    PublishedTooLate { latest: DateTime<Utc> },
    #[error(
        "a publication time may be at most ten years back, not before {}",
        .earliest.format("%Y-%m-%d %H:%M UTC")
    )]
    PublishedTooEarly { earliest: DateTime<Utc> },
}

/// How far from now a notice's times may lie. Further is a slip of the keyboard (the year
/// 20261, 99999999 days), refused with the limit rather than stored: a notice expires at
/// most ten years on, is scheduled at most a year ahead (notices are about what is
/// happening; a year covers planned events such as a marathon's road closures), and is
/// backdated at most ten years.
const EXPIRY_MONTHS: u32 = 120;
const SCHEDULE_MONTHS: u32 = 12;
const BACKDATE_MONTHS: u32 = 120;

/// The latest a notice written at `now` may expire.
pub fn latest_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(Months::new(EXPIRY_MONTHS)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The latest a notice written at `now` may be scheduled for.
pub fn latest_publication(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(Months::new(SCHEDULE_MONTHS)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The earliest publication time a notice written at `now` may be given.
pub fn earliest_publication(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(BACKDATE_MONTHS)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `expires_at`, if it is within reach of `now` (whether it follows the publication is
/// checked with the notice).
pub fn check_expiry(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, NoticeError> {
    let latest = latest_expiry(now);
    if expires_at > latest {
        return Err(NoticeError::ExpiresTooLate { latest });
    }
    Ok(expires_at)
}

/// `at`, if it is within reach of `now` as a publication time.
pub fn check_publication(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, NoticeError> {
    let (earliest, latest) = (earliest_publication(now), latest_publication(now));
    if at > latest {
        return Err(NoticeError::PublishedTooLate { latest });
    }
    if at < earliest {
        return Err(NoticeError::PublishedTooEarly { earliest });
    }
    Ok(at)
}

/// The expiry `days` whole days after `now`: any number of days, however large, is
/// answered (beyond ten years with [`NoticeError::ExpiresTooLate`]), never overflows.
pub fn expiry_after_days(days: u64, now: DateTime<Utc>) -> Result<DateTime<Utc>, NoticeError> {
    let too_late = || NoticeError::ExpiresTooLate { latest: latest_expiry(now) };
    let days = i64::try_from(days).ok().and_then(TimeDelta::try_days).ok_or_else(too_late)?;
    let at = now.checked_add_signed(days).ok_or_else(too_late)?;
    check_expiry(at, now)
}

/// The CAP alert a notice was imported from: its `<sender>` and `<identifier>` (the
/// `<info>`'s language is the notice's). Notices written in Pingan have none.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CapOrigin {
    pub sender: String,
    pub identifier: String,
}

/// A notice ready to be stored: its times agree with each other and with its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotice {
    content: NoticeContent,
    external_id: Option<String>,
    language_group: Option<String>,
    cap: Option<CapOrigin>,
    /// What its CAP alert said beyond what a notice holds (JSON, see `cap::alert_of`).
    cap_detail: Option<String>,
    status: NoticeStatus,
    publish_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    author: Actor,
    created_at: DateTime<Utc>,
}

impl NewNotice {
    pub fn new(
        content: NoticeContent,
        publication: Publication,
        expires_at: Option<DateTime<Utc>>,
        author: Actor,
        now: DateTime<Utc>,
    ) -> Result<Self, NoticeError> {
        let (status, publish_at) = match publication {
            Publication::Draft => (NoticeStatus::Draft, None),
            Publication::Now => (NoticeStatus::Published, Some(now)),
            Publication::At(at) => {
                let at = check_publication(at, now)?;
                (if at > now { NoticeStatus::Scheduled } else { NoticeStatus::Published }, Some(at))
            }
        };
        if let Some(expires_at) = expires_at {
            let from = publish_at.unwrap_or(now).max(now);
            if expires_at <= from {
                return Err(NoticeError::ExpiresBeforePublication { publish_at: from, expires_at });
            }
            check_expiry(expires_at, now)?;
        }
        Ok(NewNotice {
            content,
            external_id: None,
            language_group: None,
            cap: None,
            cap_detail: None,
            status,
            publish_at,
            expires_at,
            author,
            created_at: now,
        })
    }

    /// A notice published elsewhere at `published` (a CAP import): scheduled if that is
    /// still to come, expired if `expires_at` has passed, else published. It may be as old
    /// as it is, but not further ahead than a notice written here.
    pub fn imported(
        content: NoticeContent,
        published: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        author: Actor,
        now: DateTime<Utc>,
    ) -> Result<Self, NoticeError> {
        if let Some(expires_at) = expires_at.filter(|t| *t <= published) {
            return Err(NoticeError::ExpiresBeforePublication { publish_at: published, expires_at });
        }
        let latest = latest_publication(now);
        if published > latest {
            return Err(NoticeError::PublishedTooLate { latest });
        }
        if let Some(expires_at) = expires_at {
            check_expiry(expires_at, now)?;
        }
        let status = if published > now {
            NoticeStatus::Scheduled
        } else if expires_at.is_some_and(|t| t <= now) {
            NoticeStatus::Expired
        } else {
            NoticeStatus::Published
        };
        Ok(NewNotice {
            content,
            external_id: None,
            language_group: None,
            cap: None,
            cap_detail: None,
            status,
            publish_at: Some(published),
            expires_at,
            author,
            created_at: now,
        })
    }

    /// A notice kept back as a draft whatever its times (a CAP test or exercise).
    pub fn into_draft(mut self) -> Self {
        self.status = NoticeStatus::Draft;
        self.publish_at = None;
        self
    }

    /// Names the notice in another system (a CAP identifier, a demo key), so that loading
    /// it again finds it instead of adding a copy.
    pub fn with_external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }

    /// Names the notices that say the same thing in other languages (the `<info>` blocks of
    /// one CAP alert): an urgent alert reaches each subscriber in their language when the
    /// group has that version.
    pub fn with_language_group(mut self, group: impl Into<String>) -> Self {
        self.language_group = Some(group.into());
        self
    }

    pub fn language_group(&self) -> Option<&str> {
        self.language_group.as_deref()
    }

    /// Marks the notice as imported from a CAP alert: only that alert's sender may change
    /// it by CAP (or a sender the operator trusts).
    pub fn with_cap_origin(mut self, origin: CapOrigin) -> Self {
        self.cap = Some(origin);
        self
    }

    pub fn cap_origin(&self) -> Option<&CapOrigin> {
        self.cap.as_ref()
    }

    /// Keeps what the notice's CAP alert said beyond what a notice holds (areas with their
    /// shapes, parameters, resources…), as the JSON `cap::prepare` writes, for export.
    pub fn with_cap_detail(mut self, detail: String) -> Self {
        self.cap_detail = Some(detail);
        self
    }

    pub fn cap_detail(&self) -> Option<&str> {
        self.cap_detail.as_deref()
    }

    pub fn content(&self) -> &NoticeContent {
        &self.content
    }
    pub fn status(&self) -> NoticeStatus {
        self.status
    }
    pub fn publish_at(&self) -> Option<DateTime<Utc>> {
        self.publish_at
    }
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }
    pub fn author(&self) -> &Actor {
        &self.author
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// New content for a published notice: a correction its recipients are told about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeCorrection {
    content: NoticeContent,
    expires_at: Option<DateTime<Utc>>,
}

impl NoticeCorrection {
    pub fn new(
        content: NoticeContent,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, NoticeError> {
        if let Some(expires_at) = expires_at {
            if expires_at <= now {
                return Err(NoticeError::ExpiresBeforePublication { publish_at: now, expires_at });
            }
            check_expiry(expires_at, now)?;
        }
        Ok(NoticeCorrection { content, expires_at })
    }

    pub fn content(&self) -> &NoticeContent {
        &self.content
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }

    /// The notice as this correction, made at `now`, leaves it.
    pub fn applied_to(&self, notice: &Notice, now: DateTime<Utc>) -> Notice {
        Notice {
            content: self.content.clone(),
            expires_at: self.expires_at,
            updated_at: now,
            ..notice.clone()
        }
    }
}

/// A stored notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub id: NoticeId,
    pub content: NoticeContent,
    pub external_id: Option<String>,
    /// Shared with the notices that say the same thing in other languages.
    pub language_group: Option<String>,
    /// The CAP alert it was imported from; `None` for a notice written in Pingan.
    pub cap: Option<CapOrigin>,
    pub status: NoticeStatus,
    /// When it was or will be published; `None` for drafts.
    pub publish_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub author: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Notice {
    /// Whether citizens may see it at `now`: published and not yet expired.
    pub fn is_public_at(&self, now: DateTime<Utc>) -> bool {
        self.status == NoticeStatus::Published && self.expires_at.is_none_or(|t| t > now)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn content() -> NoticeContent {
        NoticeContent {
            districts: Default::default(),
            title: Title::parse("警惕刷单返利诈骗").unwrap(),
            body: Body::parse("刷单就是诈骗。").unwrap(),
            category: Category::Fraud,
            severity: Severity::Moderate,
            area: None,
            language: Language::Zh,
            source: None,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap()
    }

    #[test]
    fn publication_decides_the_status() {
        let make = |p| NewNotice::new(content(), p, None, Actor::System, now()).unwrap();
        assert_eq!(make(Publication::Now).status(), NoticeStatus::Published);
        assert_eq!(make(Publication::Now).publish_at(), Some(now()));
        assert_eq!(make(Publication::Draft).status(), NoticeStatus::Draft);
        assert_eq!(make(Publication::Draft).publish_at(), None);
        let later = now() + Duration::hours(2);
        assert_eq!(make(Publication::At(later)).status(), NoticeStatus::Scheduled);
        let earlier = now() - Duration::hours(2);
        assert_eq!(make(Publication::At(earlier)).status(), NoticeStatus::Published);
    }

    #[test]
    fn expiry_must_follow_publication() {
        let at = now() + Duration::hours(2);
        let err = NewNotice::new(content(), Publication::At(at), Some(at), Actor::System, now());
        assert!(matches!(err, Err(NoticeError::ExpiresBeforePublication { .. })));
        let past = now() - Duration::minutes(1);
        let err = NewNotice::new(content(), Publication::Now, Some(past), Actor::System, now());
        assert!(matches!(err, Err(NoticeError::ExpiresBeforePublication { .. })));
        let ok = NewNotice::new(content(), Publication::Now, Some(at), Actor::System, now());
        assert!(ok.is_ok());
    }

    #[test]
    fn times_further_than_a_notice_reaches_are_refused_with_the_limit() {
        let make = |p, e| NewNotice::new(content(), p, e, Actor::System, now());
        let ten_years = Utc.with_ymd_and_hms(2036, 11, 28, 8, 0, 0).unwrap();
        assert!(make(Publication::Now, Some(ten_years)).is_ok(), "ten years to the minute is allowed");
        let err = make(Publication::Now, Some(ten_years + Duration::minutes(1))).unwrap_err();
        assert_eq!(err, NoticeError::ExpiresTooLate { latest: ten_years });
        assert!(err.to_string().contains("ten years ahead, by 2036-11-28 08:00 UTC"), "{err}");

        let a_year = Utc.with_ymd_and_hms(2027, 11, 28, 8, 0, 0).unwrap();
        assert_eq!(make(Publication::At(a_year), None).unwrap().status(), NoticeStatus::Scheduled);
        let err = make(Publication::At(a_year + Duration::minutes(1)), None).unwrap_err();
        assert_eq!(err, NoticeError::PublishedTooLate { latest: a_year });
        let err = make(Publication::At(DateTime::<Utc>::MIN_UTC), None).unwrap_err();
        assert!(matches!(err, NoticeError::PublishedTooEarly { .. }), "{err}");
        assert!(make(Publication::At(now() - Duration::days(365 * 9)), None).is_ok(), "backdated nine years");
        let err = make(Publication::Draft, Some(DateTime::<Utc>::MAX_UTC)).unwrap_err();
        assert!(matches!(err, NoticeError::ExpiresTooLate { .. }), "drafts too");

        let correction = NoticeCorrection::new(content(), Some(DateTime::<Utc>::MAX_UTC), now());
        assert!(matches!(correction, Err(NoticeError::ExpiresTooLate { .. })), "corrections too");
        let imported =
            NewNotice::imported(content(), now(), Some(ten_years + Duration::days(1)), Actor::System, now());
        assert!(matches!(imported, Err(NoticeError::ExpiresTooLate { .. })), "imports too");
        let old = Utc.with_ymd_and_hms(2003, 6, 17, 0, 0, 0).unwrap();
        let imported =
            NewNotice::imported(content(), old, Some(old + Duration::hours(1)), Actor::System, now());
        assert_eq!(imported.unwrap().status(), NoticeStatus::Expired, "an old alert imports as it was");
    }

    #[test]
    fn an_expiry_in_days_never_overflows() {
        assert_eq!(expiry_after_days(7, now()), Ok(now() + Duration::days(7)));
        assert!(expiry_after_days(3650, now()).is_ok());
        let latest = latest_expiry(now());
        for days in [3654, 99_999_999, i64::MAX as u64, u64::MAX] {
            assert_eq!(expiry_after_days(days, now()), Err(NoticeError::ExpiresTooLate { latest }), "{days}");
        }
        // Near the end of time the limits themselves saturate instead of overflowing.
        let end = DateTime::<Utc>::MAX_UTC;
        assert_eq!(latest_expiry(end), end);
        assert!(expiry_after_days(1, end).is_err());
        assert_eq!(earliest_publication(DateTime::<Utc>::MIN_UTC), DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn keywords_parse_loosely_and_print_canonically() {
        assert_eq!("moderate".parse::<Severity>(), Ok(Severity::Moderate));
        assert_eq!("public-order".parse::<Category>(), Ok(Category::PublicOrder));
        assert_eq!(Category::PublicOrder.to_string(), "public_order");
        let err = "loud".parse::<Severity>().unwrap_err().to_string();
        assert!(err.contains("Extreme, Severe, Moderate, Minor, Unknown"), "{err}");
    }

    #[test]
    fn a_notice_is_public_only_while_published_and_unexpired() {
        let mut notice = Notice {
            id: NoticeId(1),
            content: content(),
            external_id: None,
            language_group: None,
            cap: None,
            status: NoticeStatus::Published,
            publish_at: Some(now()),
            expires_at: Some(now() + Duration::days(1)),
            author: Actor::System,
            created_at: now(),
            updated_at: now(),
        };
        assert!(notice.is_public_at(now()));
        assert!(!notice.is_public_at(now() + Duration::days(2)));
        notice.status = NoticeStatus::Retracted;
        assert!(!notice.is_public_at(now()));
    }
}
