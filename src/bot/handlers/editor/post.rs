//! `/post` and `/urgent`: composing a notice in a short dialogue (or all in one message),
//! seeing it exactly as subscribers will, then publishing or dropping it.

use super::draft::{
    AreaChoice, Draft, DraftError, DraftKind, Expiry, Step, Timing, parse_form, typed_expiry,
};
use super::why;
use super::{button_key, load_draft, progress, require, require_for_button, save_draft};
use crate::bot::handlers::dialogue::{self, Dialogue, Switch};
use crate::bot::handlers::{ButtonResult, Ctx, HandlerResult};
use crate::domain::{
    Actor, Area, Body, Category, Language, Notice, NoticeId, NoticeStatus, Permission, Severity, Title,
    expiry_after_days, parse_local_time,
};
use crate::render::callback::{Callback, DraftField, DraftId, PostAction};
use crate::render::keyboard::{Button, Keyboard};
use crate::render::split::{Block, MESSAGE_LIMIT, into_messages};
use crate::render::{notice_blocks, severity_marker};
use crate::store::NewPublication;
use crate::telegram::outbound::{OutMessage, Sent};

/// The severities `/urgent` offers and accepts: an urgent notice goes out at once as an
/// alert, which only these are (`Severity::is_urgent`).
const URGENT_SEVERITIES: [Severity; 2] = [Severity::Extreme, Severity::Severe];

/// A new draft; in a city without districts its district is the whole city, unasked.
fn fresh(ctx: &Ctx<'_>, kind: DraftKind, language: Language) -> Draft {
    let mut draft = Draft::new(kind, language);
    if ctx.app.settings.districts.is_empty() {
        draft.districts = Some(Vec::new());
    }
    draft
}

pub(in crate::bot::handlers) async fn post(ctx: &Ctx<'_>, args: &str, kind: DraftKind) -> HandlerResult {
    let Some(user) = require(ctx, Permission::Publish).await? else { return Ok(()) };
    let mut draft = if args.trim().is_empty() {
        fresh(ctx, kind, ctx.lang)
    } else {
        let (texts, districts) = (&ctx.app.texts, &ctx.app.settings.districts);
        match parse_form(kind, ctx.lang, args, texts, districts, ctx.app.settings.time_zone, ctx.now()) {
            Ok(draft) => draft,
            Err(e) => {
                let reason = why::draft_error(ctx, &e);
                ctx.reply(ctx.fill("editor.form_error", &[("reason", reason.as_str().into())])).await?;
                return Ok(());
            }
        }
    };
    let wanted = match kind {
        DraftKind::Urgent => Switch::Urgent(args.to_owned()),
        _ => Switch::Post(args.to_owned()),
    };
    if !dialogue::may_start(ctx, user, wanted).await? {
        return Ok(());
    }
    if kind == DraftKind::Urgent && draft.severity.is_some_and(|s| !URGENT_SEVERITIES.contains(&s)) {
        // Asked again below, with only the two an urgent notice may have.
        draft.severity = None;
        ctx.reply(ctx.text("editor.urgent_severity_only")).await?;
    }
    let id = dialogue::start(ctx, user, &Dialogue::Notice(draft.clone())).await?;
    ask(ctx, id, &draft).await
}

/// Asks for what draft `id` is missing, or shows the preview when nothing is.
pub(super) async fn ask(ctx: &Ctx<'_>, id: DraftId, draft: &Draft) -> HandlerResult {
    let style = ctx.style();
    let button =
        |label: String, action: PostAction| Button::callback(label, Callback::Post { draft: id, action });
    let (key, keyboard) = match draft.next_step() {
        Step::Title | Step::Text => ("editor.ask_title", Keyboard::new()),
        Step::Body => ("editor.ask_body", Keyboard::new()),
        Step::Category => {
            let buttons =
                Category::ALL.iter().map(|c| button(style.category(*c), PostAction::Category(*c))).collect();
            ("editor.ask_category", Keyboard::new().grid(buttons, 2))
        }
        Step::Severity => {
            let offered: &[Severity] =
                if draft.kind == DraftKind::Urgent { &URGENT_SEVERITIES } else { Severity::ALL };
            let buttons = offered
                .iter()
                .map(|s| {
                    button(
                        format!("{} {}", severity_marker(*s), style.severity(*s)),
                        PostAction::Severity(*s),
                    )
                })
                .collect();
            let key = if draft.kind == DraftKind::Urgent {
                "editor.ask_urgent_severity"
            } else {
                "editor.ask_severity"
            };
            (key, Keyboard::new().grid(buttons, 2))
        }
        Step::Area => (
            "editor.ask_area",
            Keyboard::new().row(vec![button(ctx.label("notice.citywide"), PostAction::Citywide)]),
        ),
        Step::District => {
            // 全市 first, then each district; several are typed (城东区,城西区).
            let mut buttons = vec![button(ctx.label("notice.citywide"), PostAction::District(None))];
            buttons.extend(
                ctx.app
                    .settings
                    .districts
                    .all()
                    .iter()
                    .map(|d| button(d.name(ctx.lang).to_owned(), PostAction::District(Some(d.key.clone())))),
            );
            ("editor.ask_district", Keyboard::new().grid(buttons, 3))
        }
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
        Step::Preview => return preview(ctx, id, draft).await,
    };
    let cancel = button(ctx.label("editor.cancel_button"), PostAction::Cancel);
    ctx.send(OutMessage::with_keyboard(ctx.text(key), keyboard.row(vec![cancel]))).await?;
    Ok(())
}

/// Every field of the draft in one line each: what the preview of the notice itself does
/// not show (its language, expiry and when it goes out) as well as what it does.
fn fields(ctx: &Ctx<'_>, draft: &Draft) -> crate::html::Html {
    let style = ctx.style();
    let unset = || ctx.label("editor.field_unset");
    let language = ctx.label(&format!("language.{}", draft.language.code()));
    let category = draft.category.map(|c| style.category(c)).unwrap_or_else(unset);
    let severity = draft.severity.map(|s| style.severity(s)).unwrap_or_else(unset);
    let area = match &draft.area {
        Some(AreaChoice::Named(name)) => name.clone(),
        Some(AreaChoice::Citywide) => ctx.label("notice.citywide"),
        None => unset(),
    };
    let expiry = match draft.expires_at {
        Some(Expiry::At(at)) => style.date_time(at),
        Some(Expiry::Never) => ctx.label("editor.expiry_never"),
        None => unset(),
    };
    let timing = match draft.publish_at {
        Some(Timing::At(at)) => style.date_time(at),
        Some(Timing::Now) => ctx.label("editor.when_now"),
        None => unset(),
    };
    let mut text = ctx.fill(
        "editor.preview_fields",
        &[
            ("title", draft.title.as_deref().unwrap_or_default().into()),
            ("language", language.as_str().into()),
            ("category", category.as_str().into()),
            ("severity", severity.as_str().into()),
            ("area", area.as_str().into()),
            ("expiry", expiry.as_str().into()),
            ("timing", timing.as_str().into()),
        ],
    );
    if !ctx.app.settings.districts.is_empty() {
        let districts = match &draft.districts {
            Some(keys) if keys.is_empty() => ctx.label("notice.citywide"),
            Some(keys) => {
                let set = keys.iter().filter_map(|k| crate::domain::DistrictKey::parse(k)).collect();
                ctx.app.settings.districts.names(
                    &set,
                    ctx.lang,
                    ctx.label("settings.list_separator").as_str(),
                )
            }
            None => unset(),
        };
        text.push(&crate::html::Html::trusted("\n".into()));
        text.push(&ctx.fill("editor.preview_districts", &[("districts", districts.as_str().into())]));
    }
    text
}

/// The buttons under a preview: publish (if it can be), change one field, start over,
/// cancel.
fn preview_keyboard(ctx: &Ctx<'_>, id: DraftId, draft: &Draft, publishable: bool) -> Keyboard {
    let button = |key: &str, action: PostAction| {
        Button::callback(ctx.label(key), Callback::Post { draft: id, action })
    };
    let changes = DraftField::ALL
        .iter()
        .filter(|(field, _)| !(draft.kind == DraftKind::Urgent && *field == DraftField::Timing))
        .filter(|(field, _)| !(ctx.app.settings.districts.is_empty() && *field == DraftField::District))
        .map(|(field, code)| button(&format!("editor.change_{code}"), PostAction::Change(*field)))
        .collect();
    let keyboard = if publishable {
        Keyboard::new().row(vec![button("editor.publish_button", PostAction::Publish)])
    } else {
        Keyboard::new()
    };
    keyboard.grid(changes, 4).row(vec![
        button("editor.restart_button", PostAction::Restart),
        button("editor.cancel_button", PostAction::Cancel),
    ])
}

/// The notice as subscribers will see it, every field, then a question with the buttons.
/// A draft that cannot be published is explained, with the buttons to change what does
/// not fit: never a dead end.
async fn preview(ctx: &Ctx<'_>, id: DraftId, draft: &Draft) -> HandlerResult {
    let now = ctx.now();
    let source = ctx.app.publisher(draft.language).to_owned();
    let new = match draft.notice(Some(&source), Actor::System, now) {
        Ok(new) => new,
        Err(e) => {
            let reason = why::draft_error(ctx, &e);
            let mut text = fields(ctx, draft);
            text.push(&crate::html::Html::trusted("\n\n".into()));
            text.push(&ctx.fill("editor.invalid", &[("reason", reason.as_str().into())]));
            ctx.send(OutMessage::with_keyboard(text, preview_keyboard(ctx, id, draft, false))).await?;
            return Ok(());
        }
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
    let mut question = fields(ctx, draft);
    question.push(&crate::html::Html::trusted("\n\n".into()));
    question.push(&ctx.fill("editor.preview_question", &[("when", (&when).into())]));
    ctx.send(OutMessage::with_keyboard(question, preview_keyboard(ctx, id, draft, true))).await?;
    Ok(())
}

async fn explain(ctx: &Ctx<'_>, error: &DraftError) -> HandlerResult {
    let reason = why::draft_error(ctx, error);
    ctx.reply(ctx.fill("editor.invalid", &[("reason", reason.as_str().into())])).await?;
    Ok(())
}

/// Explains why the answer does not fit, then asks the same step again.
async fn ask_again(ctx: &Ctx<'_>, id: DraftId, draft: &Draft, error: &DraftError) -> HandlerResult {
    explain(ctx, error).await?;
    ask(ctx, id, draft).await
}

/// Text typed while a /post dialogue waits for something. Each answer is checked at its
/// own step, as the notice will check it; one that does not fit is explained and the
/// step asked again.
pub(super) async fn take_text(
    ctx: &Ctx<'_>,
    user: i64,
    id: DraftId,
    mut draft: Draft,
    text: &str,
) -> HandlerResult {
    let zone = ctx.app.settings.time_zone;
    let now = ctx.now();
    let text = text.trim();
    match draft.next_step() {
        Step::Title | Step::Text => match Title::parse(text) {
            Ok(_) => draft.title = Some(text.to_owned()),
            Err(e) => return ask_again(ctx, id, &draft, &e.into()).await,
        },
        Step::Body => match Body::parse(text) {
            Ok(_) => draft.body = Some(text.to_owned()),
            Err(e) => return ask_again(ctx, id, &draft, &e.into()).await,
        },
        Step::Category => match ctx.app.texts.read_category(text) {
            Some(c) => draft.category = Some(c),
            None => return ask(ctx, id, &draft).await,
        },
        Step::Severity => match ctx.app.texts.read_severity(text) {
            Some(s) if draft.kind == DraftKind::Urgent && !URGENT_SEVERITIES.contains(&s) => {
                ctx.reply(ctx.text("editor.urgent_severity_only")).await?;
                return ask(ctx, id, &draft).await;
            }
            Some(s) => draft.severity = Some(s),
            None => return ask(ctx, id, &draft).await,
        },
        Step::Area => match Area::parse(text) {
            Ok(_) => draft.area = Some(AreaChoice::Named(text.to_owned())),
            Err(e) => return ask_again(ctx, id, &draft, &e.into()).await,
        },
        Step::District => match ctx.app.settings.districts.parse_list(text) {
            Ok(set) => draft.districts = Some(set.iter().map(|k| k.to_string()).collect()),
            Err(e) => {
                ctx.reply(crate::bot::handlers::settings::unknown_district(ctx, &e.0)).await?;
                return ask(ctx, id, &draft).await;
            }
        },
        // What does not fit is explained and the step asked again.
        Step::Expiry => match typed_expiry(text, zone, now) {
            Ok(at) => match draft.expiry_after_publication(at) {
                Ok(at) => draft.expires_at = Some(Expiry::At(at)),
                Err(e) => return ask_again(ctx, id, &draft, &e.into()).await,
            },
            Err(e) => return ask_again(ctx, id, &draft, &e).await,
        },
        Step::Timing => match parse_local_time(text, zone) {
            Ok(at) if at <= now => {
                ctx.reply(ctx.text("editor.time_in_past")).await?;
                return ask(ctx, id, &draft).await;
            }
            Ok(at) => match draft.publication_at(at, now) {
                Ok(at) => draft.publish_at = Some(Timing::At(at)),
                Err(e) => return ask_again(ctx, id, &draft, &e.into()).await,
            },
            Err(e) => return ask_again(ctx, id, &draft, &e.into()).await,
        },
        Step::Preview => {
            ctx.reply(ctx.text("editor.use_buttons")).await?;
            return Ok(());
        }
    }
    save_draft(ctx, user, id, &draft).await?;
    ask(ctx, id, &draft).await
}

/// A button of draft `id`; one of any other draft (cancelled, published or replaced)
/// has expired and does nothing.
pub(super) async fn button(ctx: &Ctx<'_>, at: Sent, id: DraftId, action: PostAction) -> ButtonResult {
    let user = match require_for_button(ctx, Permission::Publish).await? {
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
    let Some(mut draft) = load_draft(ctx, user, id).await? else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    match action {
        PostAction::Category(c) => draft.category = Some(c),
        PostAction::Severity(s) if draft.kind == DraftKind::Urgent && !URGENT_SEVERITIES.contains(&s) => {
            return Ok(Some(ctx.label("editor.urgent_severity_only")));
        }
        PostAction::Severity(s) => draft.severity = Some(s),
        PostAction::Citywide => draft.area = Some(AreaChoice::Citywide),
        PostAction::District(key) => draft.districts = Some(key.iter().map(|k| k.to_string()).collect()),
        PostAction::ExpiresInDays(0) => draft.expires_at = Some(Expiry::Never),
        PostAction::ExpiresInDays(days) => {
            match expiry_after_days(u64::from(days), ctx.now())
                .and_then(|at| draft.expiry_after_publication(at))
            {
                Ok(at) => draft.expires_at = Some(Expiry::At(at)),
                Err(e) => return Ok(Some(why::draft_error(ctx, &e.into()))),
            }
        }
        PostAction::PublishNow => draft.publish_at = Some(Timing::Now),
        PostAction::Cancel => {
            dialogue::end(ctx, user).await?;
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.cancelled"))).await?;
            return Ok(None);
        }
        PostAction::Restart => {
            let fresh = fresh(ctx, draft.kind, draft.language);
            save_draft(ctx, user, id, &fresh).await?;
            ask(ctx, id, &fresh).await?;
            return Ok(None);
        }
        PostAction::Change(field) => change(&mut draft, field),
        PostAction::Publish => return publish(ctx, at, user, &draft).await,
    }
    save_draft(ctx, user, id, &draft).await?;
    ask(ctx, id, &draft).await?;
    Ok(None)
}

/// Clears `field` so the dialogue asks for it (and only it) again; the language, which
/// is never asked, moves on to the next one.
fn change(draft: &mut Draft, field: DraftField) {
    match field {
        DraftField::Title => draft.title = None,
        DraftField::Body => draft.body = None,
        DraftField::Category => draft.category = None,
        DraftField::Severity => draft.severity = None,
        DraftField::Area => draft.area = None,
        DraftField::District => draft.districts = None,
        DraftField::Expiry => draft.expires_at = None,
        // An urgent notice goes out at once: nothing to ask.
        DraftField::Timing if draft.kind == DraftKind::Urgent => {}
        DraftField::Timing => draft.publish_at = None,
        DraftField::Language => {
            let at = Language::ALL.iter().position(|l| *l == draft.language).unwrap_or(0);
            draft.language = Language::ALL[(at + 1) % Language::ALL.len()];
        }
    }
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
