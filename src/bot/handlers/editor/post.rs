//! `/post` and `/urgent`: composing a notice in a short dialogue (or all in one message),
//! seeing it exactly as subscribers will, then publishing or dropping it.

use super::draft::{
    AreaChoice, Draft, DraftError, DraftKind, Expiry, Step, Timing, parse_form, typed_expiry,
};
use super::why;
use super::{button_key, load_draft, progress, require, require_for_button, save_draft};
use crate::bot::handlers::dialogue;
use crate::bot::handlers::{ButtonResult, Ctx, HandlerResult};
use crate::domain::{
    Actor, Category, Notice, NoticeId, NoticeStatus, Role, Severity, expiry_after_days, parse_local_time,
};
use crate::render::callback::{Callback, PostAction};
use crate::render::keyboard::{Button, Keyboard};
use crate::render::split::{Block, MESSAGE_LIMIT, into_messages};
use crate::render::{notice_blocks, severity_marker};
use crate::store::NewPublication;
use crate::telegram::outbound::{OutMessage, Sent};

pub(in crate::bot::handlers) async fn post(ctx: &Ctx<'_>, args: &str, kind: DraftKind) -> HandlerResult {
    let Some(user) = require(ctx, Role::may_publish).await? else { return Ok(()) };
    let draft = if args.trim().is_empty() {
        Draft::new(kind, ctx.lang)
    } else {
        match parse_form(kind, ctx.lang, args, &ctx.app.texts, ctx.app.settings.time_zone, ctx.now()) {
            Ok(draft) => draft,
            Err(e) => {
                let reason = why::draft_error(ctx, &e);
                ctx.reply(ctx.fill("editor.form_error", &[("reason", reason.as_str().into())])).await?;
                return Ok(());
            }
        }
    };
    save_draft(ctx, user, &draft).await?;
    ask(ctx, &draft).await
}

/// Asks for what the draft is missing, or shows the preview when nothing is.
async fn ask(ctx: &Ctx<'_>, draft: &Draft) -> HandlerResult {
    let style = ctx.style();
    let button = |label: String, action: PostAction| Button::callback(label, Callback::Post(action));
    let (key, keyboard) = match draft.next_step() {
        Step::Title | Step::Text => ("editor.ask_title", Keyboard::new()),
        Step::Body => ("editor.ask_body", Keyboard::new()),
        Step::Category => {
            let buttons =
                Category::ALL.iter().map(|c| button(style.category(*c), PostAction::Category(*c))).collect();
            ("editor.ask_category", Keyboard::new().grid(buttons, 2))
        }
        Step::Severity => {
            let offered: &[Severity] = if draft.kind == DraftKind::Urgent {
                &[Severity::Extreme, Severity::Severe]
            } else {
                Severity::ALL
            };
            let buttons = offered
                .iter()
                .map(|s| {
                    button(
                        format!("{} {}", severity_marker(*s), style.severity(*s)),
                        PostAction::Severity(*s),
                    )
                })
                .collect();
            ("editor.ask_severity", Keyboard::new().grid(buttons, 2))
        }
        Step::Area => (
            "editor.ask_area",
            Keyboard::new().row(vec![button(ctx.label("notice.citywide"), PostAction::Citywide)]),
        ),
        Step::Expiry => {
            let choices = [
                (0, "editor.expiry_never"),
                (1, "editor.expiry_day"),
                (7, "editor.expiry_week"),
                (30, "editor.expiry_month"),
            ];
            let buttons = choices
                .iter()
                .map(|(days, key)| button(ctx.label(key), PostAction::ExpiresInDays(*days)))
                .collect();
            ("editor.ask_expiry", Keyboard::new().grid(buttons, 2))
        }
        Step::Timing => (
            "editor.ask_timing",
            Keyboard::new().row(vec![button(ctx.label("editor.publish_now"), PostAction::PublishNow)]),
        ),
        Step::Preview => return preview(ctx, draft).await,
    };
    let cancel = button(ctx.label("editor.cancel_button"), PostAction::Cancel);
    ctx.send(OutMessage::with_keyboard(ctx.text(key), keyboard.row(vec![cancel]))).await?;
    Ok(())
}

/// The notice as subscribers will see it, then a question with the buttons.
async fn preview(ctx: &Ctx<'_>, draft: &Draft) -> HandlerResult {
    let now = ctx.now();
    let source = ctx.app.publisher(draft.language).to_owned();
    let new = match draft.notice(Some(&source), Actor::System, now) {
        Ok(new) => new,
        Err(e) => return explain(ctx, &e).await,
    };
    let style = crate::render::Style::new(&ctx.app.texts, draft.language, ctx.app.settings.time_zone);
    let shown = Notice {
        id: NoticeId(0),
        content: new.content().clone(),
        external_id: None,
        language_group: None,
        cap: None,
        status: NoticeStatus::Published,
        publish_at: Some(new.publish_at().unwrap_or(now)),
        expires_at: new.expires_at(),
        author: Actor::System,
        created_at: now,
        updated_at: now,
    };
    let mut blocks = Vec::new();
    if shown.content.severity.is_urgent() {
        blocks.push(Block::Markup(style.text("alert.header")));
    }
    let mut notice = notice_blocks(&style, &shown);
    notice.pop(); // The footer names a number the notice does not have yet.
    blocks.extend(notice);
    blocks.push(Block::Markup(style.text("editor.preview_footer")));
    for part in into_messages(blocks, MESSAGE_LIMIT) {
        ctx.reply(part).await?;
    }
    let when = match new.publish_at().filter(|at| *at > now) {
        Some(at) => ctx.fill("editor.when_scheduled", &[("time", (&ctx.style().date_time(at)).into())]),
        None => ctx.text("editor.when_now"),
    };
    let question = ctx.fill("editor.preview_question", &[("when", (&when).into())]);
    let button = |key: &str, action: PostAction| Button::callback(ctx.label(key), Callback::Post(action));
    let keyboard = Keyboard::new().row(vec![button("editor.publish_button", PostAction::Publish)]).row(vec![
        button("editor.restart_button", PostAction::Restart),
        button("editor.cancel_button", PostAction::Cancel),
    ]);
    ctx.send(OutMessage::with_keyboard(question, keyboard)).await?;
    Ok(())
}

async fn explain(ctx: &Ctx<'_>, error: &DraftError) -> HandlerResult {
    let reason = why::draft_error(ctx, error);
    ctx.reply(ctx.fill("editor.invalid", &[("reason", reason.as_str().into())])).await?;
    Ok(())
}

/// Text typed while a /post dialogue waits for something.
pub(super) async fn take_text(ctx: &Ctx<'_>, user: i64, mut draft: Draft, text: &str) -> HandlerResult {
    let zone = ctx.app.settings.time_zone;
    let now = ctx.now();
    let text = text.trim();
    match draft.next_step() {
        Step::Title | Step::Text => draft.title = Some(text.to_owned()),
        Step::Body => draft.body = Some(text.to_owned()),
        Step::Category => match ctx.app.texts.read_category(text) {
            Some(c) => draft.category = Some(c),
            None => return ask(ctx, &draft).await,
        },
        Step::Severity => match ctx.app.texts.read_severity(text) {
            Some(s) => draft.severity = Some(s),
            None => return ask(ctx, &draft).await,
        },
        Step::Area => draft.area = Some(AreaChoice::Named(text.to_owned())),
        // What does not fit is explained and the step stays, so the editor can type again.
        Step::Expiry => match typed_expiry(text, zone, now) {
            Ok(at) => draft.expires_at = Some(Expiry::At(at)),
            Err(e) => return explain(ctx, &e).await,
        },
        Step::Timing => match parse_local_time(text, zone) {
            Ok(at) if at <= now => {
                ctx.reply(ctx.text("editor.time_in_past")).await?;
                return Ok(());
            }
            Ok(at) => match draft.publication_at(at, now) {
                Ok(at) => draft.publish_at = Some(Timing::At(at)),
                Err(e) => return explain(ctx, &e.into()).await,
            },
            Err(e) => return explain(ctx, &e.into()).await,
        },
        Step::Preview => {
            ctx.reply(ctx.text("editor.use_buttons")).await?;
            return Ok(());
        }
    }
    save_draft(ctx, user, &draft).await?;
    ask(ctx, &draft).await
}

pub(super) async fn button(ctx: &Ctx<'_>, at: Sent, action: PostAction) -> ButtonResult {
    let user = match require_for_button(ctx, Role::may_publish).await? {
        Ok(user) => user,
        Err(refusal) => return Ok(Some(refusal)),
    };
    if action == PostAction::Publish {
        // Pressed again after the publication was stored: the same notice, nothing new.
        if let Some(notices) = ctx.app.store.published_under(&button_key(at)).await? {
            if let Some(stored) = notices.first() {
                return show_published(ctx, at, stored, false).await;
            }
        }
    }
    let Some(mut draft) = load_draft(ctx, user).await? else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    match action {
        PostAction::Category(c) => draft.category = Some(c),
        PostAction::Severity(s) => draft.severity = Some(s),
        PostAction::Citywide => draft.area = Some(AreaChoice::Citywide),
        PostAction::ExpiresInDays(0) => draft.expires_at = Some(Expiry::Never),
        PostAction::ExpiresInDays(days) => match expiry_after_days(u64::from(days), ctx.now()) {
            Ok(at) => draft.expires_at = Some(Expiry::At(at)),
            Err(e) => return Ok(Some(why::draft_error(ctx, &e.into()))),
        },
        PostAction::PublishNow => draft.publish_at = Some(Timing::Now),
        PostAction::Cancel => {
            dialogue::end(ctx, user).await?;
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.cancelled"))).await?;
            return Ok(None);
        }
        PostAction::Restart => {
            let fresh = Draft::new(draft.kind, draft.language);
            save_draft(ctx, user, &fresh).await?;
            ask(ctx, &fresh).await?;
            return Ok(None);
        }
        PostAction::Publish => return publish(ctx, at, user, &draft).await,
    }
    save_draft(ctx, user, &draft).await?;
    ask(ctx, &draft).await?;
    Ok(None)
}

async fn publish(ctx: &Ctx<'_>, at: Sent, user: i64, draft: &Draft) -> ButtonResult {
    let source = ctx.app.publisher(draft.language).to_owned();
    let notice = match draft.notice(Some(&source), Actor::Telegram(user), ctx.now()) {
        Ok(notice) => notice,
        Err(e) => {
            explain(ctx, &e).await?;
            return Ok(None);
        }
    };
    // The notice, its audit entry, the key of this preview's Publish button and the end of
    // the dialogue are one transaction: a failure leaves the draft to publish again, and a
    // second press (or a retried update) finds what the first stored.
    let actor = Actor::Telegram(user);
    let key = button_key(at);
    let publication = NewPublication {
        notices: std::slice::from_ref(&notice),
        actor: &actor,
        idempotency_key: Some(&key),
        ends_dialogue: Some((ctx.origin.target.chat, user)),
    };
    let published = ctx.app.desk().publish_once(&publication).await?;
    show_published(ctx, at, &published.notices[0], !published.repeated).await
}

/// Turns the preview into "published as number N" (or "scheduled"), and for a new
/// publication starts the status message that follows its delivery.
async fn show_published(ctx: &Ctx<'_>, at: Sent, stored: &Notice, new: bool) -> ButtonResult {
    let id = stored.id.to_string();
    let done = match stored.status {
        NoticeStatus::Scheduled => {
            let when = stored.publish_at.map(|t| ctx.style().date_time(t)).unwrap_or_default();
            ctx.fill("editor.scheduled", &[("id", (&id).into()), ("time", (&when).into())])
        }
        _ => ctx.fill("editor.published", &[("id", (&id).into())]),
    };
    ctx.out.edit(at, OutMessage::html(done)).await?;
    if new && stored.status == NoticeStatus::Published {
        progress::follow(ctx, stored, progress::Watched::Publication).await?;
    }
    Ok(None)
}
