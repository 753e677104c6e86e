//! Editors' changes to the tips library from /tips: edit a tip, add one to a scam type,
//! retire one (citizens never see it again). Every change is audited.

use serde::{Deserialize, Serialize};

use super::{allowed, require_for_button};
use crate::bot::handlers::dialogue::{self, Dialogue};
use crate::bot::handlers::{ButtonResult, Ctx, HandlerResult};
use crate::domain::{Actor, NewTip, Role, ScamType, TipBody, TipId, TipTitle};
use crate::render::callback::TipAction;
use crate::telegram::outbound::{OutMessage, Sent};

/// What the editor's next message writes. (A struct, so it can sit inside the
/// internally tagged [`Dialogue`].)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TipDraft {
    target: TipTarget,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum TipTarget {
    /// The tip with this id.
    Edit(i64),
    Add(ScamType),
}

pub(in crate::bot::handlers) async fn button(ctx: &Ctx<'_>, at: Sent, action: TipAction) -> ButtonResult {
    let editor = match require_for_button(ctx, Role::may_publish).await? {
        Ok(user) => user,
        Err(refusal) => return Ok(Some(refusal)),
    };
    match action {
        TipAction::Edit(id) => {
            let Some(tip) = ctx.app.store.tip(id).await? else { return Ok(Some(ctx.label("tips.gone"))) };
            dialogue::save(ctx, editor, &Dialogue::Tip(TipDraft { target: TipTarget::Edit(id.0) })).await?;
            let prompt = ctx.fill(
                "editor_tips.edit_prompt",
                &[("title", tip.title.as_str().into()), ("body", tip.body.as_str().into())],
            );
            ctx.reply(prompt).await?;
            Ok(None)
        }
        TipAction::Add(kind) => {
            dialogue::save(ctx, editor, &Dialogue::Tip(TipDraft { target: TipTarget::Add(kind) })).await?;
            let kind_name = ctx.style().scam_type(kind);
            ctx.reply(ctx.fill("editor_tips.add_prompt", &[("kind", kind_name.as_str().into())])).await?;
            Ok(None)
        }
        TipAction::Retire(id) => {
            let by = Actor::Telegram(editor);
            let tip = match ctx.app.store.retire_tip(id, &by, ctx.now()).await {
                Ok(tip) => tip,
                Err(crate::store::StoreError::NotFound) => return Ok(Some(ctx.label("tips.gone"))),
                Err(e) => return Err(e.into()),
            };
            // The list the button was under, without the retired tip.
            crate::bot::handlers::tips::of_kind(ctx, at, tip.scam_type).await?;
            Ok(Some(ctx.label("editor_tips.retired")))
        }
    }
}

/// The editor's tip, the title on the first line and the text after it.
pub(in crate::bot::handlers) async fn take_text(
    ctx: &Ctx<'_>,
    user: i64,
    draft: TipDraft,
    text: &str,
) -> HandlerResult {
    if allowed(ctx, Role::may_publish).await?.is_none() {
        dialogue::end(ctx, user).await?;
        ctx.reply(ctx.text("editor.refused")).await?;
        return Ok(());
    }
    let (title, body) = text.trim().split_once('\n').unwrap_or((text.trim(), ""));
    let (title, body) = match (TipTitle::parse(title), TipBody::parse(body)) {
        (Ok(title), Ok(body)) => (title, body),
        (Err(e), _) | (_, Err(e)) => {
            let reason = super::why::text_error(ctx, &e);
            ctx.reply(ctx.fill("editor_tips.unusable", &[("reason", reason.as_str().into())])).await?;
            return Ok(());
        }
    };
    let by = Actor::Telegram(user);
    // Each change and its audit entry are one transaction (the store writes both).
    match draft.target {
        TipTarget::Edit(id) => match ctx.app.store.edit_tip(TipId(id), &title, &body, &by, ctx.now()).await {
            Ok(_) => {}
            Err(crate::store::StoreError::NotFound) => {
                dialogue::end(ctx, user).await?;
                ctx.reply(ctx.text("tips.gone")).await?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        },
        TipTarget::Add(scam_type) => {
            let new = NewTip { scam_type, language: ctx.lang, title, body, builtin_key: None, author: by };
            ctx.app.store.add_tip(&new, ctx.now()).await?;
        }
    }
    dialogue::end(ctx, user).await?;
    ctx.send(OutMessage::html(ctx.text("editor_tips.saved"))).await?;
    Ok(())
}
