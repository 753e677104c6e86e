//! The audit log: who published, corrected, retracted, granted or imported what, and when.

use chrono::{DateTime, Utc};

use super::Actor;
use super::keyword_enum::keyword_enum;

keyword_enum! {
    pub enum AuditAction ("audit action") {
        Published = "published",
        Scheduled = "scheduled",
        Drafted = "drafted",
        Corrected = "corrected",
        Retracted = "retracted",
        Granted = "granted",
        Revoked = "revoked",
        Imported = "imported",
        /// A CAP Update or Cancel refused: its sender may not change that notice.
        ImportRefused = "import_refused",
        TokenCreated = "token_created",
        TokenRevoked = "token_revoked",
        Listed = "listed",
        Unlisted = "unlisted",
        ReportApproved = "report_approved",
        ReportRejected = "report_rejected",
        TipAdded = "tip_added",
        TipEdited = "tip_edited",
        TipRetired = "tip_retired",
        /// A retired tip brought back (an editor's undo).
        TipRestored = "tip_restored",
        /// A stored phone number moved to its key under new rules (src/store/subject_keys.rs).
        Rekeyed = "rekeyed",
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    /// What it was done to: `notice 12`, `user 4242`, `token cms`, a file name.
    pub subject: String,
    pub detail: String,
}

impl AuditEntry {
    /// The entry a notice's publication (or scheduling, or drafting) leaves, at the
    /// moment the notice was stored.
    pub fn publication(notice: &super::Notice, actor: &Actor) -> AuditEntry {
        let action = match notice.status {
            super::NoticeStatus::Scheduled => AuditAction::Scheduled,
            super::NoticeStatus::Draft => AuditAction::Drafted,
            _ => AuditAction::Published,
        };
        let c = &notice.content;
        AuditEntry {
            at: notice.created_at,
            actor: actor.clone(),
            action,
            subject: format!("notice {}", notice.id),
            detail: format!("{} {}: {}", c.severity, c.category, c.title),
        }
    }
}

/// An HTTP API token, as stored (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub role: super::Role,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}
