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
    /// Editors and owners publish.
    pub fn may_publish(self) -> bool {
        matches!(self, Role::Owner | Role::Editor)
    }

    /// Moderators and owners review reports.
    pub fn may_moderate(self) -> bool {
        matches!(self, Role::Owner | Role::Moderator)
    }

    /// Only owners grant and revoke roles.
    pub fn may_manage_admins(self) -> bool {
        self == Role::Owner
    }
}

/// What a bureau command or button requires of the person who uses it. Each command
/// names one, and the refusal a person without it gets follows from it, so the two
/// cannot disagree ("only moderators…" for `/reports`, "only owners…" for `/admins`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Publish, correct and retract notices, list indicators, edit tips: editors and owners.
    Publish,
    /// Review citizens' reports: moderators and owners.
    Moderate,
    /// Grant and revoke roles: owners only.
    ManageRoles,
}

impl Permission {
    /// Whether `role` carries this permission.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Permission::Publish => role.may_publish(),
            Permission::Moderate => role.may_moderate(),
            Permission::ManageRoles => role.may_manage_admins(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub user_id: i64,
    pub role: Role,
    pub granted_by: Actor,
    pub granted_at: DateTime<Utc>,
}

/// A Telegram @username, without the `@`, as Telegram spells it (`Alice_W`). Telegram's
/// rule: 5 to 32 characters of `a-z`, `0-9` and `_`, starting with a letter (collectible
/// usernames may have 4, so 4 are read too); compared without regard to letter case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

/// Text that is not a Telegram username.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a Telegram username")]
pub struct NotAUsername;

impl Username {
    /// `alice_w`, `@Alice_W` or a full-width `＠alice_w` (surrounding spaces ignored).
    pub fn parse(text: &str) -> Result<Username, NotAUsername> {
        let text = text.trim();
        let name = text.strip_prefix('@').or_else(|| text.strip_prefix('＠')).unwrap_or(text);
        let valid = (4..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid { Ok(Username(name.to_owned())) } else { Err(NotAUsername) }
    }

    /// The name without the `@`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    /// The name as people write it: `@Alice_W`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_permission_goes_to_its_roles_and_owners_have_all() {
        let holders = |p: Permission| Role::ALL.iter().copied().filter(|r| p.allows(*r)).collect::<Vec<_>>();
        assert_eq!(holders(Permission::Publish), vec![Role::Owner, Role::Editor]);
        assert_eq!(holders(Permission::Moderate), vec![Role::Owner, Role::Moderator]);
        assert_eq!(holders(Permission::ManageRoles), vec![Role::Owner]);
    }

    #[test]
    fn usernames_are_read_with_or_without_the_at_sign() {
        assert_eq!(Username::parse("@Alice_W").unwrap().as_str(), "Alice_W");
        assert_eq!(Username::parse(" alice_w ").unwrap().to_string(), "@alice_w");
        assert_eq!(Username::parse("＠pingan_bot").unwrap().as_str(), "pingan_bot");
        for bad in ["", "@", "@abc", "@1alice", "@alice-w", "@李雷李雷", &"a".repeat(33), "123456"] {
            assert_eq!(Username::parse(bad), Err(NotAUsername), "{bad}");
        }
    }
}
