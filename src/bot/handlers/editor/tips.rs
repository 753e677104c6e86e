//! Editors' changes to the tips library from /tips: edit a tip, add one to a scam type,
//! retire one (citizens never see it again). Retiring asks first (warning when it is
//! the last tip of its type, which then vanishes from citizens' /tips), and offers an
//! undo for [`UNDO_MINUTES`]. Every change is audited.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{allowed, require_for_button};
use crate::bot::handlers::dialogue::{self, Dialogue, Switch};
use crate::bot::handlers::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::domain::{Actor, NewTip, Permission, ScamType, Tip, TipBody, TipId, TipTitle};
use crate::i18n::Arg;
use crate::render::callback::{Callback, TipAction};
use crate::render::keyboard::{Button, Keyboard};
use crate::store::TipQuery;
use crate::telegram::outbound::{OutMessage, Sent};

/// How long after retiring a tip its undo button works, in minutes.
pub const UNDO_MINUTES: i64 = 10;

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
    let editor = match require_for_button(ctx, Permission::Publish).await? {
        Ok(user) => user,
        Err(refusal) => return Ok(Some(refusal)),
    };
    let by = Actor::Telegram(editor);
    match action {
        TipAction::Edit(id) => {
            if ctx.app.store.tip(id).await?.is_none() {
                return Ok(Some(ctx.label("tips.gone")));
            }
            start(ctx, editor, TipDraft { target: TipTarget::Edit(id.0) }).await?;
            Ok(None)
        }
        TipAction::Add(kind) => {
            start(ctx, editor, TipDraft { target: TipTarget::Add(kind) }).await?;
            Ok(None)
        }
        TipAction::Retire(id) => {
            let Some(tip) = ctx.app.store.tip(id).await?.filter(|t| !t.retired) else {
                return Ok(Some(ctx.label("tips.gone")));
            };
            let kind = ctx.style().scam_type(tip.scam_type);
            let mut question =
                ctx.fill("editor_tips.retire_question", &[("title", tip.title.as_str().into())]);
            if others_of_kind(ctx, &tip).await? == 0 {
                question.push(&crate::html::Html::trusted("\n\n".into()));
                question
                    .push(&ctx.fill("editor_tips.retire_last_warning", &[("kind", kind.as_str().into())]));
            }
            let keyboard = Keyboard::new().row(vec![
                Button::callback(
                    ctx.label("editor_tips.retire_button"),
                    Callback::Tip(TipAction::ConfirmRetire(id)),
                ),
                Button::callback(ctx.label("editor_tips.keep_button"), Callback::Tip(TipAction::KeepTip(id))),
            ]);
            ctx.send(OutMessage::with_keyboard(question, keyboard)).await?;
            Ok(None)
        }
        TipAction::KeepTip(_) => {
            ctx.out.edit(at, OutMessage::html(ctx.text("editor_tips.kept"))).await?;
            Ok(None)
        }
        TipAction::ConfirmRetire(id) => {
            let tip = match ctx.app.store.retire_tip(id, &by, ctx.now()).await {
                Ok(tip) => tip,
                Err(crate::store::StoreError::NotFound) => return Ok(Some(ctx.label("tips.gone"))),
                Err(e) => return Err(e.into()),
            };
            let mut done = ctx.fill(
                "editor_tips.retired_undo",
                &[("title", tip.title.as_str().into()), ("minutes", Arg::Number(UNDO_MINUTES))],
            );
            if others_of_kind(ctx, &tip).await? == 0 {
                let kind = ctx.style().scam_type(tip.scam_type);
                done.push(&crate::html::Html::trusted("\n\n".into()));
                done.push(&ctx.fill("editor_tips.retired_last", &[("kind", kind.as_str().into())]));
            }
            let undo = Keyboard::new().row(vec![Button::callback(
                ctx.label("editor_tips.undo_button"),
                Callback::Tip(TipAction::Restore(id)),
            )]);
            ctx.out.edit(at, OutMessage::with_keyboard(done, undo)).await?;
            Ok(Some(ctx.label("editor_tips.retired")))
        }
        TipAction::Restore(id) => {
            let Some(tip) = ctx.app.store.tip(id).await? else { return Ok(Some(ctx.label("tips.gone"))) };
            if !tip.retired {
                return Ok(Some(ctx.label("editor_tips.restored")));
            }
            if ctx.now() - tip.updated_at > Duration::minutes(UNDO_MINUTES) {
                return Ok(Some(ctx.label("editor_tips.undo_expired")));
            }
            match ctx.app.store.restore_tip(id, &by, ctx.now()).await {
                Ok(_) | Err(crate::store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            let done = ctx.fill("editor_tips.restored_message", &[("title", tip.title.as_str().into())]);
            ctx.out.edit(at, OutMessage::html(done)).await?;
            Ok(Some(ctx.label("editor_tips.restored")))
        }
    }
}

/// How many other tips citizens see of `tip`'s type in its language.
async fn others_of_kind(ctx: &Ctx<'_>, tip: &Tip) -> Result<usize, HandlerError> {
    let query =
        TipQuery { scam_type: Some(tip.scam_type), language: Some(tip.language), include_retired: false };
    Ok(ctx.app.store.tips(&query).await?.iter().filter(|t| t.id != tip.id).count())
}

/// Starts writing the tip `draft` names (asking first if another dialogue is under way)
/// and asks for it.
pub(in crate::bot::handlers) async fn start(ctx: &Ctx<'_>, editor: i64, draft: TipDraft) -> HandlerResult {
    if !dialogue::may_start(ctx, editor, Switch::Tip(draft.clone())).await? {
        return Ok(());
    }
    dialogue::start(ctx, editor, &Dialogue::Tip(draft.clone())).await?;
    prompt(ctx, &draft).await
}

/// Asks for the tip `draft` names.
pub(in crate::bot::handlers) async fn prompt(ctx: &Ctx<'_>, draft: &TipDraft) -> HandlerResult {
    let prompt = match draft.target {
        TipTarget::Edit(id) => {
            let Some(tip) = ctx.app.store.tip(TipId(id)).await? else {
                ctx.reply(ctx.text("tips.gone")).await?;
                return Ok(());
            };
            ctx.fill(
                "editor_tips.edit_prompt",
                &[("title", tip.title.as_str().into()), ("body", tip.body.as_str().into())],
            )
        }
        TipTarget::Add(kind) => {
            let kind_name = ctx.style().scam_type(kind);
            ctx.fill("editor_tips.add_prompt", &[("kind", kind_name.as_str().into())])
        }
    };
    ctx.reply(prompt).await?;
    Ok(())
}

/// The editor's tip, the title on the first line and the text after it.
pub(in crate::bot::handlers) async fn take_text(
    ctx: &Ctx<'_>,
    user: i64,
    draft: TipDraft,
    text: &str,
) -> HandlerResult {
    if allowed(ctx, Permission::Publish).await?.is_none() {
        dialogue::end(ctx, user).await?;
        super::refuse(ctx, Permission::Publish).await?;
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
