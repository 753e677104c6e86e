//! The bureau's side of the bot: composing, correcting and retracting notices, and
//! managing who may. Everyone else gets a polite refusal and nothing changes.

mod admins;
mod change;
pub(crate) mod draft;
mod post;
mod progress;

use super::{ButtonResult, Ctx, HandlerError};
use crate::bot::callback::PostAction;
use crate::bot::outbound::Sent;
use crate::domain::{NoticeId, Role};
use draft::{Draft, DraftKind};

pub(super) use admins::admins;
pub(super) use change::{confirm_correction, confirm_retraction, edit, retract};
pub(super) use post::{cancel, post};

/// The sender's user id if their role allows `may`; otherwise they are told, politely.
async fn allowed(ctx: &Ctx<'_>, may: fn(Role) -> bool) -> Result<Option<i64>, HandlerError> {
    let Some(sender) = ctx.origin.sender.as_ref().filter(|s| !s.anonymous_admin) else {
        return Ok(None);
    };
    let role = ctx.app.role_of(sender.id).await?;
    if role.is_some_and(may) {
        return Ok(Some(sender.id));
    }
    tracing::info!(user = sender.id, ?role, "refused a bureau command");
    Ok(None)
}

/// Like [`allowed`], answering a refused command.
async fn require(ctx: &Ctx<'_>, may: fn(Role) -> bool) -> Result<Option<i64>, HandlerError> {
    let user = allowed(ctx, may).await?;
    if user.is_none() {
        ctx.reply(ctx.text("editor.refused")).await?;
    }
    Ok(user)
}

/// Like [`allowed`], for a button: the refusal is the button's answer.
async fn require_for_button(
    ctx: &Ctx<'_>,
    may: fn(Role) -> bool,
) -> Result<Result<i64, String>, HandlerError> {
    Ok(allowed(ctx, may).await?.ok_or_else(|| ctx.label("editor.refused")))
}

async fn load_draft(ctx: &Ctx<'_>, user: i64) -> Result<Option<Draft>, HandlerError> {
    let Some(json) = ctx.app.store.draft(ctx.origin.target.chat, user).await? else { return Ok(None) };
    match serde_json::from_str(&json) {
        Ok(draft) => Ok(Some(draft)),
        Err(e) => {
            // A draft from an older version: start again rather than fail.
            tracing::warn!(error = %e, "dropping a draft that no longer reads");
            ctx.app.store.delete_draft(ctx.origin.target.chat, user).await?;
            Ok(None)
        }
    }
}

async fn save_draft(ctx: &Ctx<'_>, user: i64, draft: &Draft) -> Result<(), HandlerError> {
    let json = serde_json::to_string(draft).unwrap_or_default();
    ctx.app.store.save_draft(ctx.origin.target.chat, user, &json, ctx.now()).await?;
    Ok(())
}

/// Plain text from an editor with a draft in this chat goes to the draft. Returns false
/// when there is no draft (the text is then answered as any other).
pub(super) async fn continue_draft(ctx: &Ctx<'_>, text: &str) -> Result<bool, HandlerError> {
    let Some(sender) = &ctx.origin.sender else { return Ok(false) };
    let Some(draft) = load_draft(ctx, sender.id).await? else { return Ok(false) };
    if allowed(ctx, Role::may_publish).await?.is_none() {
        return Ok(false);
    }
    match draft.kind {
        DraftKind::Correct(_) => change::take_text(ctx, sender.id, draft, text).await?,
        DraftKind::Post | DraftKind::Urgent => post::take_text(ctx, sender.id, draft, text).await?,
    }
    Ok(true)
}

pub(super) async fn post_button(ctx: &Ctx<'_>, at: Sent, action: PostAction) -> ButtonResult {
    post::button(ctx, at, action).await
}

pub(super) fn notice_id(args: &str) -> Option<NoticeId> {
    args.trim().trim_start_matches(['#', '＃']).parse::<i64>().ok().filter(|id| *id > 0).map(NoticeId)
}
