//! `/tip`, the tip of the day, and `/tips`, the library by scam type.

use super::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::domain::{ScamType, Tip, TipId, tip_of_the_day as pick_for};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::{Callback, TipAction};
use crate::render::keyboard::{Button, Keyboard};
use crate::render::link::SharedItem;
use crate::render::split::{MESSAGE_LIMIT, shown};
use crate::render::{share_button, tip_messages};
use crate::store::TipQuery;
use crate::telegram::outbound::{OutMessage, Sent};

async fn current_tips(ctx: &Ctx<'_>, kind: Option<ScamType>) -> Result<Vec<Tip>, HandlerError> {
    let query = TipQuery { scam_type: kind, language: Some(ctx.lang), include_retired: false };
    Ok(ctx.app.store.tips(&query).await?)
}

pub(super) async fn tip_of_the_day(ctx: &Ctx<'_>) -> HandlerResult {
    let tips = current_tips(ctx, None).await?;
    let Some(tip) = pick_for(&tips, ctx.today()) else {
        ctx.reply(ctx.text("tips.none")).await?;
        return Ok(());
    };
    let style = ctx.style();
    let more = Keyboard::new().row(vec![
        share_button(&style, SharedItem::Tip(tip.id).query()),
        Button::callback(ctx.label("tips.more_button"), Callback::MoreTips),
    ]);
    ctx.send_parts(tip_messages(&style, "tip.of_the_day", tip), more).await?;
    Ok(())
}

pub(super) async fn menu(ctx: &Ctx<'_>) -> HandlerResult {
    let message = render_menu(ctx).await?;
    ctx.send(message).await?;
    Ok(())
}

pub(super) async fn menu_again(ctx: &Ctx<'_>, at: Sent) -> ButtonResult {
    let message = render_menu(ctx).await?;
    ctx.out.edit(at, message).await?;
    Ok(None)
}

/// Whether the tips shown are an editor's to change: only in the private chat with the
/// bot, so a group never gets editors' buttons.
async fn editing(ctx: &Ctx<'_>) -> Result<bool, HandlerError> {
    match &ctx.origin.sender {
        Some(sender) if ctx.origin.is_private() => {
            Ok(ctx.app.role_of(sender.id).await?.is_some_and(|r| r.may_publish()))
        }
        _ => Ok(false),
    }
}

async fn render_menu(ctx: &Ctx<'_>) -> Result<OutMessage, HandlerError> {
    let mut kinds: Vec<ScamType> = if editing(ctx).await? {
        // Editors may add tips to a type that has none (yet, or any more).
        ScamType::ALL.to_vec()
    } else {
        current_tips(ctx, None).await?.iter().map(|t| t.scam_type).collect()
    };
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        return Ok(OutMessage::html(ctx.text("tips.none")));
    }
    let style = ctx.style();
    let buttons =
        kinds.into_iter().map(|k| Button::callback(style.scam_type(k), Callback::TipsOf(k))).collect();
    Ok(OutMessage::with_keyboard(ctx.text("tips.menu"), Keyboard::new().grid(buttons, 2)))
}

/// Shows one scam type's tips in place of the menu (see [`kind_message`]).
pub(crate) async fn of_kind(ctx: &Ctx<'_>, at: Sent, kind: ScamType) -> ButtonResult {
    let message = kind_message(ctx, kind).await?;
    ctx.out.edit(at, message).await?;
    Ok(None)
}

/// Sends one scam type's tips as a new message (a `tip_<type>` deep link).
pub(super) async fn show_kind(ctx: &Ctx<'_>, kind: ScamType) -> HandlerResult {
    let message = kind_message(ctx, kind).await?;
    ctx.send(message).await?;
    Ok(())
}

/// One scam type's tips, as many as fit in one message. Editors also get buttons to edit
/// or retire each shown tip, and to add one.
async fn kind_message(ctx: &Ctx<'_>, kind: ScamType) -> Result<OutMessage, HandlerError> {
    let tips = current_tips(ctx, Some(kind)).await?;
    let editor = editing(ctx).await?;
    let style = ctx.style();
    let mut text = ctx.fill("tips.kind_header", &[("kind", (&style.scam_type(kind)).into())]);
    let mut shown_count = 0;
    for (i, tip) in tips.iter().enumerate() {
        let number = (i + 1).to_string();
        let key = if editor { "tips.entry_numbered" } else { "tips.entry" };
        let entry = ctx.fill(
            key,
            &[
                ("number", number.as_str().into()),
                ("title", tip.title.as_str().into()),
                ("body", tip.body.as_str().into()),
            ],
        );
        // Leave room for the "more" line.
        if shown(&text).encode_utf16().count() + shown(&entry).encode_utf16().count() + 200 > MESSAGE_LIMIT {
            break;
        }
        text.push(&Html::trusted("\n\n".into()));
        text.push(&entry);
        shown_count += 1;
    }
    if shown_count < tips.len() {
        text.push(&Html::trusted("\n\n".into()));
        text.push(
            &ctx.fill("tips.more_elsewhere", &[("count", Arg::Number((tips.len() - shown_count) as i64))]),
        );
    }
    if tips.is_empty() {
        text.push(&Html::trusted("\n\n".into()));
        text.push(&ctx.text("tips.none"));
    }
    let mut keyboard = Keyboard::new();
    if editor {
        let mut buttons = Vec::new();
        for (i, tip) in tips.iter().take(shown_count).enumerate() {
            let n = i + 1;
            buttons.push(Button::callback(format!("✏️ {n}"), Callback::Tip(TipAction::Edit(tip.id))));
            buttons.push(Button::callback(format!("🗄 {n}"), Callback::Tip(TipAction::Retire(tip.id))));
        }
        keyboard = keyboard.grid(buttons, 4);
        keyboard = keyboard
            .row(vec![Button::callback(ctx.label("tips.add_button"), Callback::Tip(TipAction::Add(kind)))]);
    }
    // The type's name, as an inline query, brings the type's tips first.
    let share = (!tips.is_empty()).then(|| share_button(&style, style.scam_type(kind)));
    let back = Button::callback(ctx.label("tips.back_button"), Callback::TipsMenu);
    let keyboard = keyboard.row(share.into_iter().chain([back]).collect());
    Ok(OutMessage::with_keyboard(text, keyboard))
}

/// A tip opened from search results.
pub(super) async fn open(ctx: &Ctx<'_>, id: TipId) -> ButtonResult {
    match ctx.app.store.tip(id).await? {
        Some(tip) if !tip.retired => {
            let style = ctx.style();
            let share = Keyboard::new().row(vec![share_button(&style, SharedItem::Tip(tip.id).query())]);
            ctx.send_parts(tip_messages(&style, "tip.heading", &tip), share).await?;
            Ok(None)
        }
        _ => Ok(Some(ctx.label("tips.gone"))),
    }
}
