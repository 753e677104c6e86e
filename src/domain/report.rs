//! What citizens report: the story, a forwarded message, the numbers and links in them,
//! and the moderators' decision.

use std::fmt;

use chrono::{DateTime, Utc};

use super::keyword_enum::keyword_enum;
use super::{Actor, ChatId, Indicator, IndicatorKind, Language, NewIndicator, Subject};

/// A report's number. Shown to the reporter as their reference: `R000042`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportId(pub i64);

impl ReportId {
    /// Reads `R000042`, `r42`, `#42` or `42`.
    pub fn parse(input: &str) -> Option<ReportId> {
        let digits = input.trim().trim_start_matches(['#', '＃', 'R', 'r']);
        digits.parse::<i64>().ok().filter(|n| *n > 0).map(ReportId)
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R{:06}", self.0)
    }
}

keyword_enum! {
    pub enum ReportStatus ("report status") {
        /// Waiting for a moderator.
        Pending = "pending",
        /// Accepted: its numbers and links count against them in /check.
        Approved = "approved",
        Rejected = "rejected",
    }
}

super::text::bounded_text!(
    /// What happened, in the reporter's words.
    ReportStory, "report", max = 2_000, Multi
);
super::text::bounded_text!(
    /// The text of a message the reporter forwarded (the scammer's).
    ForwardedText, "forwarded message", max = 4_096, Multi
);

/// A phone number, domain or account a report names, as normalised and as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedSubject {
    pub kind: IndicatorKind,
    pub value: String,
    pub shown: String,
}

impl From<&Subject> for ReportedSubject {
    fn from(s: &Subject) -> Self {
        ReportedSubject { kind: s.kind(), value: s.key(), shown: s.to_string() }
    }
}

impl ReportedSubject {
    /// Back to the subject it was made from.
    pub fn subject(&self) -> Option<Subject> {
        Subject::of_kind(self.kind, &self.value).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReport {
    pub chat: ChatId,
    pub user_id: i64,
    pub language: Language,
    pub story: ReportStory,
    pub forwarded: Option<ForwardedText>,
    pub subjects: Vec<ReportedSubject>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub id: ReportId,
    /// Who reported it; `None` once they sent /forget.
    pub chat: Option<ChatId>,
    pub user_id: Option<i64>,
    pub language: Language,
    pub story: ReportStory,
    pub forwarded: Option<ForwardedText>,
    pub subjects: Vec<ReportedSubject>,
    pub status: ReportStatus,
    pub decided_by: Option<Actor>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A moderator's decision on a pending report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportDecision {
    /// Confirmed; `list` are entries for the bureau's list, each added only where the
    /// list holds nothing for its value yet (an editor's entry, official ones above all,
    /// is never overwritten by a report).
    Approve {
        list: Vec<NewIndicator>,
    },
    Reject,
}

impl ReportDecision {
    pub fn status(&self) -> ReportStatus {
        match self {
            ReportDecision::Approve { .. } => ReportStatus::Approved,
            ReportDecision::Reject => ReportStatus::Rejected,
        }
    }
}

/// A decided report and the entries its decision added to the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub report: Report,
    pub listed: Vec<Indicator>,
}

#[cfg(test)]
mod tests {
    use super::ReportId;

    #[test]
    fn reference_numbers_read_back() {
        assert_eq!(ReportId(42).to_string(), "R000042");
        for written in ["R000042", "r42", "#42", "42", " R000042 "] {
            assert_eq!(ReportId::parse(written), Some(ReportId(42)), "{written}");
        }
        assert_eq!(ReportId::parse("R0"), None);
        assert_eq!(ReportId::parse("abc"), None);
    }
}
