//! `/forget`: after a confirming press, delete what Pingan holds about the chat and the user.

use super::{ButtonResult, Ctx, HandlerResult};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::Callback;
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::{OutMessage, Sent};

pub(super) async fn forget(ctx: &Ctx<'_>) -> HandlerResult {
    if !ctx.may_manage_chat().await? {
        ctx.reply(ctx.text("group.admins_only")).await?;
        return Ok(());
    }
    let keyboard = Keyboard::new().row(vec![
        Button::callback(ctx.label("forget.yes"), Callback::Forget(true)),
        Button::callback(ctx.label("forget.no"), Callback::Forget(false)),
    ]);
    ctx.send(OutMessage::with_keyboard(ctx.text("forget.confirm"), keyboard)).await?;
    Ok(())
}

pub(super) async fn confirmed(ctx: &Ctx<'_>, at: Sent, confirmed: bool) -> ButtonResult {
    if !ctx.may_manage_chat().await? {
        return Ok(Some(ctx.label("group.admins_only")));
    }
    if !confirmed {
        ctx.out.edit(at, OutMessage::html(ctx.text("forget.cancelled"))).await?;
        return Ok(None);
    }
    let user = ctx.origin.sender.as_ref().filter(|s| !s.anonymous_admin).map(|s| s.id);
    let forgotten = ctx.app.store.forget(ctx.origin.target.chat, user).await?;
    if let Some(user) = user {
        ctx.app.usernames.forget(user);
    }
    tracing::info!(chat = ctx.origin.target.chat.0, ?forgotten, "forgot a chat at its request");
    let mut lines = Vec::new();
    if forgotten.subscription {
        lines.push(ctx.text("forget.deleted_subscription"));
    }
    if forgotten.group_links > 0 {
        lines.push(
            ctx.fill("forget.deleted_group_links", &[("count", Arg::Number(forgotten.group_links as i64))]),
        );
    }
    if forgotten.reports_deleted > 0 {
        let count = Arg::Number(forgotten.reports_deleted as i64);
        lines.push(ctx.fill("forget.deleted_reports", &[("count", count)]));
    }
    if forgotten.deliveries > 0 {
        let count = Arg::Number(forgotten.deliveries as i64);
        lines.push(ctx.fill("forget.deleted_deliveries", &[("count", count)]));
    }
    if forgotten.username {
        lines.push(ctx.text("forget.deleted_username"));
    }
    if forgotten.reports_unlinked > 0 {
        let count = Arg::Number(forgotten.reports_unlinked as i64);
        lines.push(ctx.fill("forget.unlinked_reports", &[("count", count)]));
    }
    let mut text = ctx.text(if lines.is_empty() { "forget.nothing" } else { "forget.done" });
    for line in lines {
        text.push(&Html::trusted("\n".into()));
        text.push(&line);
    }
    // The bureau keeps who did what: a role, and the audit log of its use, stay.
    if let Some(role) = match user {
        Some(user) => ctx.app.role_of(user).await?,
        None => None,
    } {
        text.push(&Html::trusted("\n\n".into()));
        let role = ctx.label(&crate::i18n::role_key(role));
        text.push(&ctx.fill("forget.kept_role", &[("role", (&role).into())]));
    }
    ctx.out.edit(at, OutMessage::html(text)).await?;
    Ok(None)
}
