//! `/admins` for owners: who has which role (named in the reader's language), and
//! granting and revoking roles.
//!
//! - `/admins grant USER ROLE`, `/admins revoke USER`: USER is a user id or an
//!   @username Telegram told the bot (see [`crate::store::UsernameStore`]); ROLE a
//!   keyword or a label in either language (`editor`, `编辑`, `版主`).
//! - `/admins grant ROLE`: a dialogue asks who; the owner forwards a message the person
//!   wrote (Telegram's `forward_origin` names them, unless they hide their account) or
//!   sends their @username or id. `/admins grant` and `/admins grant USER` ask for the
//!   role with buttons, bound to the dialogue by its [`DraftId`].
//!
//! Owners named in `bot.owners` stay owners whatever `/admins` does: revoking or granting
//! them is refused with that reason, and nothing is stored or audited.

use serde::{Deserialize, Serialize};

use super::{allowed, require, require_for_button};
use crate::bot::handlers::dialogue::{self, Dialogue, Switch};
use crate::bot::handlers::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::bot::incoming::Forwarded;
use crate::domain::{Actor, Permission, Role, Username};
use crate::html::Html;
use crate::i18n::{Arg, role_key};
use crate::render::callback::{Callback, DraftId};
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::{OutMessage, Sent};

/// An owner's grant in the making: the role, the person, or both still to come.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GrantDraft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    person: Option<Person>,
}

/// Someone a role may go to: their Telegram user id, and how the owner knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Person {
    id: i64,
    /// `4242`, `4242 (@li_lei)` or `4242 (Li Lei)`: what replies call them.
    shown: String,
}

pub(in crate::bot::handlers) async fn admins(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let Some(owner) = require(ctx, Permission::ManageRoles).await? else { return Ok(()) };
    let words: Vec<&str> = args.split_whitespace().collect();
    let texts = &ctx.app.texts;
    match words.as_slice() {
        [] => list(ctx).await,
        [verb] if is_grant(verb) => start(ctx, owner, args, GrantDraft::default()).await,
        [verb, one] if is_grant(verb) => {
            if let Some(role) = texts.read_role(one) {
                return start(ctx, owner, args, GrantDraft { role: Some(role), person: None }).await;
            }
            let Some(person) = person(ctx, one).await? else { return Ok(()) };
            start(ctx, owner, args, GrantDraft { role: None, person: Some(person) }).await
        }
        [verb, first, second] if is_grant(verb) => {
            // USER ROLE, or ROLE USER.
            let (who, role) = match (texts.read_role(second), texts.read_role(first)) {
                (Some(role), _) => (first, role),
                (None, Some(role)) => (second, role),
                (None, None) => return usage(ctx).await,
            };
            let Some(person) = person(ctx, who).await? else { return Ok(()) };
            let answer = grant(ctx, owner, &person, role).await?;
            ctx.reply(answer).await?;
            Ok(())
        }
        [verb, who] if is_revoke(verb) => {
            let Some(person) = person(ctx, who).await? else { return Ok(()) };
            let user = (&person.shown).into();
            if ctx.app.settings.owners.contains(&person.id) {
                ctx.reply(ctx.fill("admins.configured_owner_revoke", &[("user", user)])).await?;
                return Ok(());
            }
            let revoked = ctx.app.store.revoke(person.id, &Actor::Telegram(owner), ctx.now()).await?;
            if revoked {
                refresh_menu(ctx, person.id).await;
            }
            let key = if revoked { "admins.revoked" } else { "admins.had_no_role" };
            ctx.reply(ctx.fill(key, &[("user", user)])).await?;
            Ok(())
        }
        _ => usage(ctx).await,
    }
}

fn is_grant(word: &str) -> bool {
    word.eq_ignore_ascii_case("grant") || word == "授予"
}

fn is_revoke(word: &str) -> bool {
    word.eq_ignore_ascii_case("revoke") || word == "撤销"
}

async fn usage(ctx: &Ctx<'_>) -> HandlerResult {
    ctx.reply(ctx.text("admins.usage")).await?;
    Ok(())
}

/// The person `typed` names: a user id, or an @username Telegram told the bot. An
/// unknown username, or text that is neither, is answered here (`None`).
async fn person(ctx: &Ctx<'_>, typed: &str) -> Result<Option<Person>, HandlerError> {
    if let Some(id) = typed.trim().parse::<i64>().ok().filter(|u| *u > 0) {
        let shown = match ctx.app.store.username_of(id).await? {
            Some(name) => format!("{id} ({name})"),
            None => id.to_string(),
        };
        return Ok(Some(Person { id, shown }));
    }
    let Ok(name) = Username::parse(typed) else {
        usage(ctx).await?;
        return Ok(None);
    };
    match ctx.app.store.user_by_username(&name).await? {
        Some((id, name)) => Ok(Some(Person { id, shown: format!("{id} ({name})") })),
        None => {
            let answer = ctx.fill("admins.unknown_username", &[("username", Arg::Typed(name.as_str()))]);
            ctx.reply(answer).await?;
            Ok(None)
        }
    }
}

/// Queues `user_id`'s command menu as their role now is: their commands after a grant,
/// none (deleted) after a revocation. The menu's failure is logged, never the owner's
/// answer: the role is granted or revoked either way, and the next start sets it again.
async fn refresh_menu(ctx: &Ctx<'_>, user_id: i64) {
    if let Err(e) = crate::bot::menu::refresh_person(ctx.app, ctx.out.as_ref(), user_id).await {
        tracing::warn!(user = user_id, error = %e, "could not queue a command menu change");
    }
}

/// Grants `role` to `person` (audited in the same transaction), unless they are an
/// owner from the configuration file; returns what to tell the owner.
async fn grant(ctx: &Ctx<'_>, owner: i64, person: &Person, role: Role) -> Result<Html, HandlerError> {
    let user = (&person.shown).into();
    if ctx.app.settings.owners.contains(&person.id) {
        return Ok(ctx.fill("admins.configured_owner_grant", &[("user", user)]));
    }
    ctx.app.store.grant(person.id, role, &Actor::Telegram(owner), ctx.now()).await?;
    refresh_menu(ctx, person.id).await;
    let role = ctx.label(&role_key(role));
    Ok(ctx.fill("admins.granted", &[("user", user), ("role", (&role).into())]))
}

/// Starts the grant dialogue (asking first if another is under way).
async fn start(ctx: &Ctx<'_>, owner: i64, args: &str, draft: GrantDraft) -> HandlerResult {
    if !dialogue::may_start(ctx, owner, Switch::Admins(args.to_owned())).await? {
        return Ok(());
    }
    let id = dialogue::start(ctx, owner, &Dialogue::Grant(draft.clone())).await?;
    ask(ctx, id, &draft).await
}

/// Asks for what grant `id` waits for: the person, or (with buttons) the role.
pub(in crate::bot::handlers) async fn ask(ctx: &Ctx<'_>, id: DraftId, draft: &GrantDraft) -> HandlerResult {
    match (&draft.person, draft.role) {
        (Some(person), _) => {
            let question = ctx.fill("admins.choose_role", &[("user", (&person.shown).into())]);
            ctx.send(OutMessage::with_keyboard(question, role_buttons(ctx, id))).await?;
        }
        (None, Some(role)) => {
            let role = ctx.label(&role_key(role));
            ctx.reply(ctx.fill("admins.ask_whom", &[("role", (&role).into())])).await?;
        }
        (None, None) => ctx.reply(ctx.text("admins.ask_whom_any")).await?,
    }
    Ok(())
}

fn role_buttons(ctx: &Ctx<'_>, draft: DraftId) -> Keyboard {
    let button = |role: Role| {
        Button::callback(ctx.label(&role_key(role)), Callback::Grant { draft, role: Some(role) })
    };
    Keyboard::new()
        .row(vec![button(Role::Editor), button(Role::Moderator), button(Role::Owner)])
        .row(vec![Button::callback(ctx.label("admins.cancel_button"), Callback::Grant { draft, role: None })])
}

/// The owner's next message in grant dialogue `id`: a forwarded message of the person,
/// or their @username or id. Returns false if the sender may no longer manage roles (the
/// text is then answered as any other).
pub(in crate::bot::handlers) async fn take_message(
    ctx: &Ctx<'_>,
    owner: i64,
    id: DraftId,
    draft: GrantDraft,
    text: &str,
    forwarded: Option<&Forwarded>,
) -> Result<bool, HandlerError> {
    if allowed(ctx, Permission::ManageRoles).await?.is_none() {
        return Ok(false);
    }
    if draft.person.is_some() {
        // The role is chosen with the buttons: show them again.
        ask(ctx, id, &draft).await?;
        return Ok(true);
    }
    let person = match forwarded {
        Some(Forwarded::User { id: user, name, is_bot }) => {
            let shown = format!("{user} ({name})");
            if *is_bot {
                ctx.reply(ctx.fill("admins.a_bot", &[("user", (&shown).into())])).await?;
                return Ok(true);
            }
            Person { id: *user, shown }
        }
        Some(Forwarded::HiddenUser { name }) => {
            ctx.reply(ctx.fill("admins.hidden_user", &[("name", Arg::Typed(name))])).await?;
            return Ok(true);
        }
        Some(Forwarded::Chat { title }) => {
            ctx.reply(ctx.fill("admins.from_chat", &[("name", Arg::Typed(title))])).await?;
            return Ok(true);
        }
        None => {
            let typed = text.trim();
            let readable = typed.parse::<i64>().is_ok_and(|u| u > 0) || Username::parse(typed).is_ok();
            if !readable {
                ctx.reply(ctx.text("admins.ask_whom_again")).await?;
                return Ok(true);
            }
            match person(ctx, typed).await? {
                Some(person) => person,
                None => return Ok(true),
            }
        }
    };
    match draft.role {
        Some(role) => {
            let answer = grant(ctx, owner, &person, role).await?;
            dialogue::end(ctx, owner).await?;
            ctx.reply(answer).await?;
        }
        None => {
            let draft = GrantDraft { role: None, person: Some(person) };
            dialogue::save(ctx, owner, id, &Dialogue::Grant(draft.clone())).await?;
            ask(ctx, id, &draft).await?;
        }
    }
    Ok(true)
}

/// A role button under grant dialogue `draft` (or its Cancel button).
pub(in crate::bot::handlers) async fn button(
    ctx: &Ctx<'_>,
    at: Sent,
    draft: DraftId,
    role: Option<Role>,
) -> ButtonResult {
    let owner = match require_for_button(ctx, Permission::ManageRoles).await? {
        Ok(owner) => owner,
        Err(refusal) => return Ok(Some(refusal)),
    };
    let Some(Dialogue::Grant(GrantDraft { person: Some(person), .. })) =
        dialogue::bound(ctx, owner, draft).await?
    else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    dialogue::end(ctx, owner).await?;
    let answer = match role {
        Some(role) => grant(ctx, owner, &person, role).await?,
        None => ctx.text("dialogue.cancelled"),
    };
    ctx.out.edit(at, OutMessage::html(answer)).await?;
    Ok(None)
}

/// Who granted a role, in the reader's language (`用户 3900`, `the command line (root)`).
fn granter(ctx: &Ctx<'_>, by: &Actor) -> Html {
    match by {
        Actor::Telegram(id) => ctx.fill("admins.by_telegram", &[("user", Arg::Number(*id))]),
        Actor::Cli(name) => ctx.fill("admins.by_cli", &[("name", name.into())]),
        Actor::Api(name) => ctx.fill("admins.by_api", &[("name", name.into())]),
        Actor::Feed(name) => ctx.fill("admins.by_feed", &[("name", name.into())]),
        Actor::System => ctx.text("admins.by_system"),
    }
}

async fn list(ctx: &Ctx<'_>) -> HandlerResult {
    let shown = |id: i64, name: Option<Username>| match name {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    };
    let mut text = ctx.text("admins.header");
    let owner = ctx.label(&role_key(Role::Owner));
    for id in &ctx.app.settings.owners {
        let user = shown(*id, ctx.app.store.username_of(*id).await?);
        text.push(&Html::trusted("\n".into()));
        text.push(
            &ctx.fill("admins.configured_owner", &[("user", (&user).into()), ("role", (&owner).into())]),
        );
    }
    for admin in ctx.app.store.admins().await? {
        let user = shown(admin.user_id, ctx.app.store.username_of(admin.user_id).await?);
        let role = ctx.label(&role_key(admin.role));
        let by = granter(ctx, &admin.granted_by);
        text.push(&Html::trusted("\n".into()));
        let args = [("user", (&user).into()), ("role", (&role).into()), ("by", (&by).into())];
        text.push(&ctx.fill("admins.line", &args));
    }
    text.push(&Html::trusted("\n\n".into()));
    text.push(&ctx.text("admins.usage"));
    ctx.reply(text).await?;
    Ok(())
}
