//! The bureau's people in Pingan and what each may do.

use chrono::{DateTime, Utc};

use super::Actor;
use super::keyword_enum::keyword_enum;

keyword_enum! {
    pub enum Role ("role") {
        /// Manages other admins; may do everything an editor and a moderator may.
        Owner = "owner",
        /// Publishes, corrects and retracts notices; edits tips.
        Editor = "editor",
        /// Reviews citizens' reports.
        Moderator = "moderator",
    }
}

impl Role {
    pub fn may_publish(self) -> bool {
        matches!(self, Role::Owner | Role::Editor)
    }

    pub fn may_moderate(self) -> bool {
        matches!(self, Role::Owner | Role::Moderator)
    }

    pub fn may_manage_admins(self) -> bool {
        self == Role::Owner
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub user_id: i64,
    pub role: Role,
    pub granted_by: Actor,
    pub granted_at: DateTime<Utc>,
}
