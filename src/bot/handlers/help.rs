//! `/help`, and the short help that answers an unknown command.

use super::{Ctx, HandlerResult};
use crate::bot::command::{Audience, COMMANDS};
use crate::html::Html;
use crate::i18n::Arg;

pub(super) async fn help(ctx: &Ctx<'_>) -> HandlerResult {
    let mut text = command_list(ctx);
    for (separator, part) in [
        ("\n\n", ctx.fill("help.groups", &[("bot", ctx.bot_username.into())])),
        ("\n", ctx.text("help.footer")),
    ] {
        text.push(&Html::trusted(separator.into()));
        text.push(&part);
    }
    if let Some(sender) = &ctx.origin.sender {
        let role = ctx.app.role_of(sender.id).await?;
        if role.is_some_and(|r| r.may_publish()) {
            text.push(&Html::trusted("\n\n".into()));
            text.push(&command_section(ctx, "help.editor", Audience::Editors));
        }
        if role.is_some_and(|r| r.may_moderate()) {
            text.push(&Html::trusted("\n\n".into()));
            text.push(&command_section(ctx, "help.moderator", Audience::Moderators));
        }
        if role.is_some_and(|r| r.may_manage_admins()) {
            text.push(&Html::trusted("\n\n".into()));
            text.push(&command_section(ctx, "help.owner", Audience::Owners));
        }
    }
    ctx.reply(text).await?;
    Ok(())
}

pub(super) async fn unknown_command(ctx: &Ctx<'_>, typed: &str) -> HandlerResult {
    let mut text = ctx.fill("reply.unknown_command", &[("command", Arg::Typed(typed))]);
    text.push(&Html::trusted("\n\n".into()));
    text.push(&command_list(ctx));
    ctx.reply(text).await?;
    Ok(())
}

/// The heading and one line per citizens' command.
fn command_list(ctx: &Ctx<'_>) -> Html {
    command_section(ctx, "help.header", Audience::Everyone)
}

/// A heading and one line per command for `audience`.
fn command_section(ctx: &Ctx<'_>, heading: &str, audience: Audience) -> Html {
    let mut list = ctx.text(heading);
    for spec in COMMANDS.iter().filter(|s| s.audience == audience) {
        let description = ctx.text(&format!("commands.{}", spec.name));
        list.push(&Html::trusted("\n".into()));
        list.push(
            &ctx.fill("help.line", &[("command", spec.name.into()), ("description", (&description).into())]),
        );
    }
    list
}
