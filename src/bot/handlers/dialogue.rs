//! The dialogue a user is in with the bot in a chat: what their next plain message
//! answers. One at a time; starting another replaces it, and /cancel ends it.

use serde::{Deserialize, Serialize};

use super::editor::{self, draft::Draft};
use super::report::{self, ReportDraft};
use super::{Ctx, HandlerError, HandlerResult};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "dialogue", rename_all = "snake_case")]
pub(crate) enum Dialogue {
    /// An editor composing or correcting a notice.
    Notice(Draft),
    /// A citizen telling the bureau about a scam.
    Report(ReportDraft),
    /// An editor writing a tip.
    Tip(editor::tips::TipDraft),
}

pub(super) async fn load(ctx: &Ctx<'_>, user: i64) -> Result<Option<Dialogue>, HandlerError> {
    let Some(json) = ctx.app.store.dialogue(ctx.origin.target.chat, user).await? else { return Ok(None) };
    match serde_json::from_str(&json) {
        Ok(dialogue) => Ok(Some(dialogue)),
        Err(e) => {
            // A dialogue written by an older version: start again rather than fail.
            tracing::warn!(error = %e, "dropping a dialogue that no longer reads");
            end(ctx, user).await?;
            Ok(None)
        }
    }
}

pub(super) async fn save(ctx: &Ctx<'_>, user: i64, dialogue: &Dialogue) -> Result<(), HandlerError> {
    let json = serde_json::to_string(dialogue).expect("a dialogue serialises");
    ctx.app.store.save_dialogue(ctx.origin.target.chat, user, &json, ctx.now()).await?;
    Ok(())
}

pub(super) async fn end(ctx: &Ctx<'_>, user: i64) -> Result<(), HandlerError> {
    ctx.app.store.end_dialogue(ctx.origin.target.chat, user).await?;
    Ok(())
}

/// A message in a private chat that is no command: the next step of the sender's
/// dialogue; else a check of the numbers and links it contains, typed or forwarded, or a
/// hint if it has none.
pub(super) async fn continue_with(ctx: &Ctx<'_>, text: &str, forwarded_from: Option<&str>) -> HandlerResult {
    let dialogue = match &ctx.origin.sender {
        Some(sender) => load(ctx, sender.id).await?.map(|d| (sender.id, d)),
        None => None,
    };
    let taken = match dialogue {
        Some((user, Dialogue::Report(draft))) => {
            report::take_message(ctx, user, draft, text, forwarded_from).await?;
            true
        }
        // An editor may forward the text they are publishing (a bulletin, say).
        Some((user, Dialogue::Notice(draft))) => editor::take_text(ctx, user, draft, text).await?,
        Some((user, Dialogue::Tip(draft))) => {
            editor::tips::take_text(ctx, user, draft, text).await?;
            true
        }
        _ => false,
    };
    if taken {
        return Ok(());
    }
    super::check::in_text(ctx, text, forwarded_from.is_some()).await
}

/// `/cancel`: ends whatever the sender was writing.
pub(super) async fn cancel(ctx: &Ctx<'_>) -> HandlerResult {
    let had = match &ctx.origin.sender {
        Some(sender) if load(ctx, sender.id).await?.is_some() => {
            end(ctx, sender.id).await?;
            true
        }
        _ => false,
    };
    ctx.reply(ctx.text(if had { "dialogue.cancelled" } else { "dialogue.nothing_to_cancel" })).await?;
    Ok(())
}
