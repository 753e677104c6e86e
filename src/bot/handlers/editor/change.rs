//! `/edit <id>` and `/retract <id>`: a correction or a withdrawal, sent to everyone who
//! received the notice as a reply to the message they got.

use super::draft::{Draft, DraftKind};
use super::progress::{self, Watched};
use super::why;
use super::{button_key, load_draft, notice_id, require, require_for_button, save_draft};
use crate::bot::handlers::dialogue;
use crate::bot::handlers::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::domain::{Actor, Notice, NoticeId, Permission};
use crate::i18n::{Arg, notice_status_key};
use crate::publishing::PublishError;
use crate::render::Style;
use crate::render::broadcast;
use crate::render::callback::{Callback, DraftId};
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::{OutMessage, Sent};

/// The notice, if it exists and may still be changed; otherwise the editor is told why.
async fn changeable(ctx: &Ctx<'_>, args: &str) -> Result<Option<Notice>, crate::bot::handlers::HandlerError> {
    let Some(id) = notice_id(args) else {
        ctx.reply(ctx.text("editor.id_usage")).await?;
        return Ok(None);
    };
    let number = id.to_string();
    match ctx.app.store.notice(id).await? {
        Some(n) if n.status.is_changeable() => Ok(Some(n)),
        Some(n) => {
            let status = ctx.label(&notice_status_key(n.status));
            ctx.reply(
                ctx.fill("editor.not_changeable", &[("id", (&number).into()), ("status", (&status).into())]),
            )
            .await?;
            Ok(None)
        }
        None => {
            ctx.reply(ctx.fill("editor.no_notice", &[("id", (&number).into())])).await?;
            Ok(None)
        }
    }
}

pub(in crate::bot::handlers) async fn edit(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let Some(user) = require(ctx, Permission::Publish).await? else { return Ok(()) };
    let Some(notice) = changeable(ctx, args).await? else { return Ok(()) };
    if !dialogue::may_start(ctx, user, dialogue::Switch::Edit(args.to_owned())).await? {
        return Ok(());
    }
    let draft = Draft::new(DraftKind::Correct(notice.id.0), notice.content.language);
    dialogue::start(ctx, user, &dialogue::Dialogue::Notice(draft)).await?;
    prompt(ctx, &notice).await
}

async fn prompt(ctx: &Ctx<'_>, notice: &Notice) -> HandlerResult {
    let id = notice.id.to_string();
    let prompt = ctx
        .fill("editor.edit_prompt", &[("id", (&id).into()), ("title", notice.content.title.as_str().into())]);
    ctx.reply(prompt).await?;
    Ok(())
}

/// Asks again for a correction's text (after a pause).
pub(super) async fn resume(ctx: &Ctx<'_>, draft: &Draft) -> HandlerResult {
    let DraftKind::Correct(id) = draft.kind else { return Ok(()) };
    match ctx.app.store.notice(NoticeId(id)).await? {
        Some(notice) => prompt(ctx, &notice).await,
        None => Ok(()),
    }
}

/// The corrected title and body typed: show the correction as recipients will see it.
pub(super) async fn take_text(
    ctx: &Ctx<'_>,
    user: i64,
    draft_id: DraftId,
    mut draft: Draft,
    text: &str,
) -> HandlerResult {
    let DraftKind::Correct(id) = draft.kind else { return Ok(()) };
    draft.take_text(text);
    let Some(mut notice) = ctx.app.store.notice(NoticeId(id)).await? else {
        dialogue::end(ctx, user).await?;
        ctx.reply(ctx.fill("editor.no_notice", &[("id", (&id.to_string()).into())])).await?;
        return Ok(());
    };
    let correction = match draft.correction(notice.content.clone(), notice.expires_at, ctx.now()) {
        Ok(correction) => correction,
        Err(e) => {
            // Explained, and the step asked again: the draft keeps waiting for the text.
            let reason = why::draft_error(ctx, &e);
            ctx.reply(ctx.fill("editor.invalid", &[("reason", reason.as_str().into())])).await?;
            return prompt(ctx, &notice).await;
        }
    };
    save_draft(ctx, user, draft_id, &draft).await?;
    notice.content = correction.content().clone();
    let style = Style::new(&ctx.app.texts, notice.content.language, ctx.app.settings.time_zone);
    for part in broadcast::correction(&style, &notice).parts {
        ctx.reply(crate::html::Html::trusted(part.html)).await?;
    }
    let keyboard = Keyboard::new().row(vec![
        Button::callback(
            ctx.label("editor.send_correction_button"),
            Callback::Correct { draft: draft_id, confirm: true },
        ),
        Button::callback(
            ctx.label("editor.cancel_button"),
            Callback::Correct { draft: draft_id, confirm: false },
        ),
    ]);
    ctx.send(OutMessage::with_keyboard(ctx.text("editor.correction_question"), keyboard)).await?;
    Ok(())
}

pub(in crate::bot::handlers) async fn confirm_correction(
    ctx: &Ctx<'_>,
    at: Sent,
    draft_id: DraftId,
    confirmed: bool,
) -> ButtonResult {
    let user = match require_for_button(ctx, Permission::Publish).await? {
        Ok(user) => user,
        Err(refusal) => return Ok(Some(refusal)),
    };
    let Some(draft) = load_draft(ctx, user, draft_id).await? else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    let DraftKind::Correct(id) = draft.kind else { return Ok(Some(ctx.label("button.outdated"))) };
    if !confirmed {
        dialogue::end(ctx, user).await?;
        ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.cancelled"))).await?;
        return Ok(None);
    }
    let Some(current) = ctx.app.store.notice(NoticeId(id)).await? else {
        dialogue::end(ctx, user).await?;
        return Ok(Some(ctx.label("button.outdated")));
    };
    // The draft stays until the correction is made, so a problem can be fixed by sending
    // the text again.
    let correction = match draft.correction(current.content.clone(), current.expires_at, ctx.now()) {
        Ok(correction) => correction,
        Err(e) => return Ok(Some(why::draft_error(ctx, &e))),
    };
    // Corrected, audited and the dialogue ended in one transaction, under the key of the
    // question's button: a second press (or one after a failure) corrects once.
    let key = button_key(at);
    let ends = Some((ctx.origin.target.chat, user));
    let desk = ctx.app.desk();
    let changed =
        match desk.correct_once(NoticeId(id), &correction, &Actor::Telegram(user), Some(&key), ends).await {
            Ok(changed) => changed,
            Err(PublishError::NotChangeable(..) | PublishError::NotFound(_)) => {
                dialogue::end(ctx, user).await?;
                return Ok(Some(not_changeable(ctx, NoticeId(id)).await?));
            }
            Err(e) => return Err(e.into()),
        };
    let told = Arg::Number(changed.told as i64);
    ctx.out
        .edit(
            at,
            OutMessage::html(
                ctx.fill("editor.corrected", &[("id", (&id.to_string()).into()), ("count", told)]),
            ),
        )
        .await?;
    if changed.told > 0 && !changed.repeated {
        progress::follow(ctx, &changed.notice, Watched::FollowUp(changed.follow_up)).await?;
    }
    Ok(None)
}

/// What an editor is told when a notice changed under them (someone else withdrew it).
async fn not_changeable(ctx: &Ctx<'_>, id: NoticeId) -> Result<String, HandlerError> {
    let number = id.to_string();
    Ok(match ctx.app.store.notice(id).await? {
        Some(n) => {
            let status = ctx.label(&notice_status_key(n.status));
            ctx.fill("editor.not_changeable", &[("id", (&number).into()), ("status", (&status).into())])
        }
        None => ctx.fill("editor.no_notice", &[("id", (&number).into())]),
    }
    .as_str()
    .to_owned())
}

pub(in crate::bot::handlers) async fn retract(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    if require(ctx, Permission::Publish).await?.is_none() {
        return Ok(());
    }
    let Some(notice) = changeable(ctx, args).await? else { return Ok(()) };
    let id = notice.id.to_string();
    let question = ctx.fill(
        "editor.retract_question",
        &[("id", (&id).into()), ("title", notice.content.title.as_str().into())],
    );
    let keyboard = Keyboard::new().row(vec![
        Button::callback(
            ctx.label("editor.retract_button"),
            Callback::Retract { id: notice.id, confirm: true },
        ),
        Button::callback(
            ctx.label("editor.cancel_button"),
            Callback::Retract { id: notice.id, confirm: false },
        ),
    ]);
    ctx.send(OutMessage::with_keyboard(question, keyboard)).await?;
    Ok(())
}

pub(in crate::bot::handlers) async fn confirm_retraction(
    ctx: &Ctx<'_>,
    at: Sent,
    id: NoticeId,
    confirm: bool,
) -> ButtonResult {
    let user = match require_for_button(ctx, Permission::Publish).await? {
        Ok(user) => user,
        Err(refusal) => return Ok(Some(refusal)),
    };
    if !confirm {
        ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.cancelled"))).await?;
        return Ok(None);
    }
    let changed = match ctx.app.desk().retract(id, &Actor::Telegram(user)).await {
        Ok(changed) => changed,
        Err(PublishError::NotChangeable(..) | PublishError::NotFound(_)) => {
            return Ok(Some(not_changeable(ctx, id).await?));
        }
        Err(e) => return Err(e.into()),
    };
    let told = Arg::Number(changed.told as i64);
    ctx.out
        .edit(
            at,
            OutMessage::html(
                ctx.fill("editor.retracted", &[("id", (&id.to_string()).into()), ("count", told)]),
            ),
        )
        .await?;
    if changed.told > 0 && !changed.repeated {
        progress::follow(ctx, &changed.notice, Watched::FollowUp(changed.follow_up)).await?;
    }
    Ok(None)
}
