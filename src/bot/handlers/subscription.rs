//! `/subscribe` and `/unsubscribe`.

use super::settings::{chat_settings, save, save_subscription, screen};
use super::{Ctx, HandlerResult};
use crate::domain::{Subscriber, SubscriberStatus};
use crate::render::callback::{Callback, SettingsAction};
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::OutMessage;

/// The chat's settings with the subscription switched on, in the topic it was asked in.
pub(super) fn subscribed(ctx: &Ctx<'_>) -> Subscriber {
    let mut settings = chat_settings(ctx);
    settings.subscribed = true;
    settings.thread_id = ctx.origin.target.thread_id;
    // Someone is talking to us from this chat, so it is reachable again.
    settings.status = SubscriberStatus::Active;
    if let Some(sender) = &ctx.origin.sender {
        settings.user_id = Some(sender.id);
    }
    settings
}

pub(super) async fn subscribe(ctx: &Ctx<'_>) -> HandlerResult {
    if !ctx.may_manage_chat().await? {
        ctx.reply(ctx.text("group.admins_only")).await?;
        return Ok(());
    }
    let already = ctx.chat.as_ref().is_some_and(|c| c.subscribed);
    let settings = save_subscription(ctx, subscribed(ctx)).await?;
    let mut text = ctx.text(if already { "subscribe.already" } else { "subscribe.done" });
    text.push(&crate::html::Html::trusted("\n\n".into()));
    text.push(&screen(ctx, &settings));
    let keyboard = Keyboard::new().row(vec![Button::callback(
        ctx.label("settings.button.open"),
        Callback::Settings(SettingsAction::Show),
    )]);
    ctx.send(OutMessage::with_keyboard(text, keyboard)).await?;
    Ok(())
}

pub(super) async fn unsubscribe(ctx: &Ctx<'_>) -> HandlerResult {
    if !ctx.may_manage_chat().await? {
        ctx.reply(ctx.text("group.admins_only")).await?;
        return Ok(());
    }
    match ctx.chat.clone() {
        Some(mut settings) if settings.subscribed => {
            settings.subscribed = false;
            save(ctx, settings).await?;
            ctx.reply(ctx.text("unsubscribe.done")).await?;
        }
        _ => {
            ctx.reply(ctx.text("unsubscribe.not_subscribed")).await?;
        }
    }
    Ok(())
}
