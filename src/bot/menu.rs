//! The command menus Telegram shows beside the text field (Bot API `setMyCommands`,
//! "Determining list of commands"):
//!
//! - citizens': scope `default`, in Chinese and English by the client's `language_code`,
//!   and in the default language for every other client;
//! - groups': scope `all_group_chats`, the citizens' commands that work in a group, in the
//!   same three versions;
//! - for each person with a role (stored, or an owner in `bot.owners`): scope `chat` with
//!   their private chat (whose id is their user id), their role's commands first, then the
//!   citizens'. It is registered without a `language_code`, so it shows whatever their
//!   client's language (Telegram looks for `chat` + language, then `chat`, before any
//!   wider scope; a version for one language only would leave the others the citizens'
//!   menu), in their chat's stored language, else the default one.
//!
//! All menus are registered when `pingan run` starts; a person's is set again when a role
//! is granted in Telegram and deleted (`deleteMyCommands`, that scope) when it is revoked.
//! `pingan admin grant|revoke` changes nothing at Telegram: the next `pingan run` start
//! registers the menus of everyone with a role and deletes those of people whose role
//! was revoked (the latest [`REVOKED_LOOKBACK`] audit entries). Every change goes through
//! [`Outbound::change_menus`], one request at a time: one per staff member, never one per
//! citizen.

use std::collections::BTreeMap;

use super::command::{Audience, COMMANDS, CommandSpec};
use crate::app::App;
use crate::domain::{AuditAction, ChatId, Language, Role};
use crate::html::to_plain;
use crate::i18n::Texts;
use crate::store::StoreError;
use crate::telegram::outbound::{MenuChange, MenuCommand, MenuScope, MenusQueued, Outbound, SendError};

/// Audit entries read at start for revocations whose menus to delete.
pub const REVOKED_LOOKBACK: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
}

fn entries<'s>(
    texts: &Texts,
    lang: Language,
    specs: impl Iterator<Item = &'s CommandSpec>,
) -> Vec<MenuCommand> {
    specs
        .map(|spec| MenuCommand {
            command: spec.name.to_owned(),
            description: to_plain(texts.template(lang, &format!("commands.{}", spec.name))),
        })
        .collect()
}

/// The citizens' command menu in `lang`.
pub fn command_menu(texts: &Texts, lang: Language) -> Vec<MenuCommand> {
    entries(texts, lang, COMMANDS.iter().filter(|spec| spec.audience == Audience::Everyone))
}

/// The groups' command menu in `lang`: the citizens' commands that work in a group.
pub fn group_menu(texts: &Texts, lang: Language) -> Vec<MenuCommand> {
    let in_groups = |spec: &&CommandSpec| spec.audience == Audience::Everyone && spec.in_groups;
    entries(texts, lang, COMMANDS.iter().filter(in_groups))
}

/// Whether `role` may use commands for `audience`.
fn serves(role: Role, audience: Audience) -> bool {
    match audience {
        Audience::Everyone => true,
        Audience::Editors => role.may_publish(),
        Audience::Moderators => role.may_moderate(),
        Audience::Owners => role.may_manage_admins(),
    }
}

/// The menu of someone with `role` in `lang`: the role's commands first, then the citizens'.
pub fn role_menu(texts: &Texts, lang: Language, role: Role) -> Vec<MenuCommand> {
    let staff =
        COMMANDS.iter().filter(|spec| spec.audience != Audience::Everyone && serves(role, spec.audience));
    let mut menu = entries(texts, lang, staff);
    menu.extend(command_menu(texts, lang));
    menu
}

/// A menu in one language.
type MenuBuilder = fn(&Texts, Language) -> Vec<MenuCommand>;

/// The citizens' and groups' menus: each in every language, and in `default` for the rest.
pub fn public_menus(texts: &Texts, default: Language) -> Vec<MenuChange> {
    let mut changes = Vec::new();
    let builders: [(MenuScope, MenuBuilder); 2] =
        [(MenuScope::Default, command_menu), (MenuScope::AllGroupChats, group_menu)];
    for (scope, build) in builders {
        for lang in Language::ALL {
            changes.push(MenuChange { scope, language: Some(lang), commands: Some(build(texts, lang)) });
        }
        changes.push(MenuChange { scope, language: None, commands: Some(build(texts, default)) });
    }
    changes
}

/// The menu of `user_id`'s private chat: their role's, or none (deleted) without a role.
pub fn person_menu(texts: &Texts, user_id: i64, role: Option<Role>, lang: Language) -> MenuChange {
    MenuChange {
        scope: MenuScope::Chat(ChatId(user_id)),
        language: None,
        commands: role.map(|role| role_menu(texts, lang, role)),
    }
}

/// Who has a role now: configured owners, then the admins table (one entry per person).
async fn staff(app: &App) -> Result<BTreeMap<i64, Role>, StoreError> {
    let mut staff: BTreeMap<i64, Role> = BTreeMap::new();
    for admin in app.store.admins().await? {
        staff.insert(admin.user_id, admin.role);
    }
    for owner in &app.settings.owners {
        staff.insert(*owner, Role::Owner);
    }
    Ok(staff)
}

/// The language of `user_id`'s private chat: stored, else the default.
async fn language_of(app: &App, user_id: i64) -> Result<Language, StoreError> {
    let stored = app.store.subscriber(ChatId(user_id)).await?;
    Ok(stored.map_or(app.settings.default_language, |s| s.language))
}

/// Every menu at start: citizens', groups', one per person with a role, and a deletion for
/// each person whose role was revoked (in the latest [`REVOKED_LOOKBACK`] audit entries)
/// and who has none now.
pub async fn menus_at_start(app: &App) -> Result<Vec<MenuChange>, StoreError> {
    let mut changes = public_menus(&app.texts, app.settings.default_language);
    let staff = staff(app).await?;
    for (user_id, role) in &staff {
        let lang = language_of(app, *user_id).await?;
        changes.push(person_menu(&app.texts, *user_id, Some(*role), lang));
    }
    let mut revoked: Vec<i64> = app
        .store
        .audit_log(None, REVOKED_LOOKBACK)
        .await?
        .into_iter()
        .filter(|entry| entry.action == AuditAction::Revoked)
        .filter_map(|entry| entry.subject.strip_prefix("user ")?.parse().ok())
        .filter(|user_id| !staff.contains_key(user_id))
        .collect();
    revoked.sort_unstable();
    revoked.dedup();
    for user_id in revoked {
        changes.push(person_menu(&app.texts, user_id, None, app.settings.default_language));
    }
    Ok(changes)
}

/// Queues every menu of [`menus_at_start`].
pub async fn register_menus(app: &App, out: &dyn Outbound) -> Result<MenusQueued, MenuError> {
    let changes = menus_at_start(app).await?;
    tracing::debug!(changes = changes.len(), "registering the command menus");
    Ok(out.change_menus(changes).await?)
}

/// Queues `user_id`'s menu as their role is now (after a grant or a revocation): set in
/// their language, or deleted when they have no role.
pub async fn refresh_person(app: &App, out: &dyn Outbound, user_id: i64) -> Result<MenusQueued, MenuError> {
    let role = app.role_of(user_id).await?;
    let lang = language_of(app, user_id).await?;
    let change = person_menu(&app.texts, user_id, role, lang);
    Ok(out.change_menus(vec![change]).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(menu: &[MenuCommand]) -> Vec<&str> {
        menu.iter().map(|c| c.command.as_str()).collect()
    }

    #[test]
    fn each_role_gets_its_commands_first_and_nobody_elses() {
        let texts = Texts::load().unwrap();
        let citizens = command_menu(&texts, Language::Zh);
        let editor = role_menu(&texts, Language::Zh, Role::Editor);
        assert_eq!(names(&editor)[..5], ["post", "urgent", "edit", "retract", "indicator"]);
        assert!(!names(&editor).contains(&"reports") && !names(&editor).contains(&"admins"));
        let moderator = role_menu(&texts, Language::En, Role::Moderator);
        assert_eq!(names(&moderator)[0], "reports");
        assert!(!names(&moderator).contains(&"post"));
        let owner = role_menu(&texts, Language::Zh, Role::Owner);
        assert_eq!(owner.len(), COMMANDS.len(), "owners get everything");
        assert!(names(&owner).contains(&"admins"));
        for menu in [&editor, &owner] {
            assert!(menu.ends_with(&citizens), "citizens' commands follow");
        }
        assert!(owner.len() <= 100, "Telegram takes at most 100 commands");
    }

    #[test]
    fn groups_get_what_works_in_a_group() {
        let texts = Texts::load().unwrap();
        let group = group_menu(&texts, Language::En);
        let group = names(&group);
        for command in ["latest", "search", "subscribe", "settings", "help"] {
            assert!(group.contains(&command), "{command}");
        }
        for command in ["report", "cancel", "start", "post"] {
            assert!(!group.contains(&command), "{command}");
        }
    }

    #[test]
    fn public_menus_come_in_every_language_and_for_the_rest() {
        let texts = Texts::load().unwrap();
        let changes = public_menus(&texts, Language::Zh);
        assert_eq!(changes.len(), 2 * (Language::ALL.len() + 1));
        let unmarked: Vec<&MenuChange> = changes.iter().filter(|c| c.language.is_none()).collect();
        assert_eq!(unmarked.len(), 2);
        assert_eq!(unmarked[0].commands, Some(command_menu(&texts, Language::Zh)));
    }
}
