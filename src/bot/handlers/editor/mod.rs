//! The bureau's side of the bot: composing, correcting and retracting notices, and
//! managing who may. Everyone else gets a polite refusal and nothing changes.

mod admins;
mod change;
pub(crate) mod draft;
mod indicators;
mod moderation;
mod post;
mod progress;
pub(crate) mod tips;
mod why;

use super::dialogue::{self, Dialogue};
use super::{ButtonResult, Ctx, HandlerError};
use crate::domain::{NoticeId, Permission};
use crate::render::callback::{DraftId, PostAction};
use crate::telegram::outbound::Sent;
use draft::{Draft, DraftKind};

pub(super) use admins::{GrantDraft, admins};
pub(super) use admins::{ask as ask_grant, button as grant_button, take_message as take_grant};
pub(super) use change::{confirm_correction, confirm_retraction, edit, retract};
pub(super) use indicators::{PendingListing, ask_listing, indicator, listing_button, read_indicator};
pub(super) use moderation::{moderate, reports};
pub(super) use post::post;

/// The locale key of the refusal a person without `needed` gets: each names who may.
fn refusal_key(needed: Permission) -> &'static str {
    match needed {
        Permission::Publish => "editor.refused",
        Permission::Moderate => "editor.refused_moderators",
        Permission::ManageRoles => "editor.refused_owners",
    }
}

/// The sender's user id if their role carries `needed`; otherwise `None` (logged).
async fn allowed(ctx: &Ctx<'_>, needed: Permission) -> Result<Option<i64>, HandlerError> {
    let Some(sender) = ctx.origin.sender.as_ref().filter(|s| !s.anonymous_admin) else {
        return Ok(None);
    };
    let role = ctx.app.role_of(sender.id).await?;
    if role.is_some_and(|r| needed.allows(r)) {
        return Ok(Some(sender.id));
    }
    tracing::info!(user = sender.id, ?role, ?needed, "refused a bureau command");
    Ok(None)
}

/// Tells the sender, politely, that `needed` is not theirs: the text names who may.
async fn refuse(ctx: &Ctx<'_>, needed: Permission) -> Result<(), HandlerError> {
    ctx.reply(ctx.text(refusal_key(needed))).await?;
    Ok(())
}

/// The bureau works in private chats with the bot: nothing unpublished, and no staff
/// ids, end up in a group. Answers a refused command (with the refusal `needed` names),
/// or one sent in a group.
async fn require(ctx: &Ctx<'_>, needed: Permission) -> Result<Option<i64>, HandlerError> {
    let user = allowed(ctx, needed).await?;
    if user.is_none() {
        refuse(ctx, needed).await?;
    } else if !ctx.origin.is_private() {
        ctx.reply(ctx.text("editor.private_only")).await?;
        return Ok(None);
    }
    Ok(user)
}

/// Like [`allowed`], for a button: the refusal `needed` names is the button's answer.
async fn require_for_button(ctx: &Ctx<'_>, needed: Permission) -> Result<Result<i64, String>, HandlerError> {
    Ok(allowed(ctx, needed).await?.ok_or_else(|| ctx.label(refusal_key(needed))))
}

/// The user's notice draft if it is the one numbered `id` (a button's).
async fn load_draft(ctx: &Ctx<'_>, user: i64, id: DraftId) -> Result<Option<Draft>, HandlerError> {
    Ok(match dialogue::bound(ctx, user, id).await? {
        Some(Dialogue::Notice(draft)) => Some(draft),
        _ => None,
    })
}

async fn save_draft(ctx: &Ctx<'_>, user: i64, id: DraftId, draft: &Draft) -> Result<(), HandlerError> {
    dialogue::save(ctx, user, id, &Dialogue::Notice(draft.clone())).await
}

/// Asks again for what notice draft `id` waits for (after a pause).
pub(super) async fn resume(ctx: &super::Ctx<'_>, id: DraftId, draft: Draft) -> super::HandlerResult {
    match draft.kind {
        DraftKind::Correct(_) => change::resume(ctx, &draft).await,
        DraftKind::Post | DraftKind::Urgent => post::ask(ctx, id, &draft).await,
    }
}

/// The next message of an editor's draft. Returns false if they may no longer publish
/// (the text is then answered as any other).
pub(in crate::bot::handlers) async fn take_text(
    ctx: &Ctx<'_>,
    user: i64,
    id: DraftId,
    draft: Draft,
    text: &str,
) -> Result<bool, HandlerError> {
    if allowed(ctx, Permission::Publish).await?.is_none() {
        return Ok(false);
    }
    match draft.kind {
        DraftKind::Correct(_) => change::take_text(ctx, user, id, draft, text).await?,
        DraftKind::Post | DraftKind::Urgent => post::take_text(ctx, user, id, draft, text).await?,
    }
    Ok(true)
}

pub(super) async fn post_button(ctx: &Ctx<'_>, at: Sent, id: DraftId, action: PostAction) -> ButtonResult {
    post::button(ctx, at, id, action).await
}

/// The idempotency key of a button that publishes or corrects: the chat and the message
/// the button is under, which stay the same however often it is pressed. A changed draft
/// gets a new preview, and so a new key.
fn button_key(at: Sent) -> String {
    format!("telegram:{}:{}", at.chat.0, at.message_id)
}

pub(super) fn notice_id(args: &str) -> Option<NoticeId> {
    args.trim().trim_start_matches(['#', '＃']).parse::<i64>().ok().filter(|id| *id > 0).map(NoticeId)
}
