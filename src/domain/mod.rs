//! Pingan's vocabulary: values that are checked when they are made, and no I/O.

mod actor;
mod admin;
mod audit;
pub mod check;
pub mod district;
mod figures;
pub mod hanzi;
pub(crate) mod keyword_enum;
mod language;
mod local_time;
mod notice;
mod report;
mod schedule;
mod search_suggest;
mod search_text;
mod subscriber;
pub(crate) mod text;
mod time_of_day;
mod time_zone;
mod tip;
pub mod typed;

pub use actor::{Actor, BadActor};
pub use admin::{Admin, NotAUsername, Permission, Role, Username};
pub use audit::{ApiToken, AuditAction, AuditEntry};
pub use check::{
    AccountNumber, Domain, Indicator, IndicatorKind, IndicatorReason, ListedReason, NewIndicator,
    PhoneNumber, Risk, Subject, SubjectError, Verdict,
};
pub use district::{
    CapArea, District, DistrictKey, DistrictSet, Districts, UnknownDistrict, district_reaches,
};
pub use figures::{BadPeriod, Figure, Metric, Period, year_on_year};
pub use keyword_enum::UnknownKeyword;
pub use language::{Language, UnknownLanguage};
pub use local_time::{LocalTimeError, parse_local_time};
pub use notice::{
    Area, Body, CapOrigin, Category, NewNotice, Notice, NoticeContent, NoticeCorrection, NoticeError,
    NoticeId, NoticeStatus, Publication, Severity, Source, Title, check_expiry, check_publication,
    earliest_publication, expiry_after_days, latest_expiry, latest_publication,
};
pub use report::{
    Decided, ForwardedText, NewReport, Report, ReportDecision, ReportId, ReportStatus, ReportStory,
    ReportedSubject,
};
pub use schedule::{digest_period, expected_finish, local_date, next_digest_after};
pub use search_suggest::{Vocabulary, suggestions};
pub use search_text::{SearchTerms, Term, index_tokens};
pub use subscriber::{
    BadDigestTime, ChatId, DigestTime, FoldedText, Frequency, GoneReason, Interests, Keyword, PauseReason,
    Subscriber, SubscriberStatus,
};
pub use text::TextError;
pub use time_of_day::parse_time_of_day;
pub use time_zone::{
    NAMES as ZONE_NAMES, OFFSET_ZONES, UnknownZone, ZoneReading, parse_time_zone, utc_offset_label,
    utc_offset_seconds, zone_for_offset,
};
pub use tip::{NewTip, ScamType, Tip, TipBody, TipId, TipTitle, tip_of_the_day};
