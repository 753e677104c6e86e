//! `/help`, and the short help that answers an unknown command.

use super::{Ctx, HandlerResult};
use crate::bot::command::{Audience, COMMANDS};
use crate::html::Html;

pub(super) async fn help(ctx: &Ctx<'_>) -> HandlerResult {
    let mut text = command_list(ctx);
    text.push(&Html::trusted("\n\n".into()));
    text.push(
        &ctx.app
            .texts
            .fill(ctx.lang, "help.groups", &[("bot", ctx.bot_username.into())]),
    );
    text.push(&Html::trusted("\n".into()));
    text.push(&ctx.text("help.footer"));
    if let Some(sender) = &ctx.msg.sender {
        let role = ctx.app.role_of(sender.id).await?;
        if role.is_some_and(|r| r.may_publish()) {
            text.push(&Html::trusted("\n\n".into()));
            text.push(&ctx.text("help.editor"));
        }
    }
    ctx.reply(text).await?;
    Ok(())
}

pub(super) async fn unknown_command(ctx: &Ctx<'_>, typed: &str) -> HandlerResult {
    let mut text = ctx.app.texts.fill(
        ctx.lang,
        "reply.unknown_command",
        &[("command", typed.into())],
    );
    text.push(&Html::trusted("\n\n".into()));
    text.push(&command_list(ctx));
    ctx.reply(text).await?;
    Ok(())
}

/// The heading and one line per citizens' command.
fn command_list(ctx: &Ctx<'_>) -> Html {
    let texts = &ctx.app.texts;
    let mut list = ctx.text("help.header");
    for spec in COMMANDS.iter().filter(|s| s.audience == Audience::Everyone) {
        let description = texts.get(ctx.lang, &format!("commands.{}", spec.name));
        list.push(&Html::trusted("\n".into()));
        list.push(&texts.fill(
            ctx.lang,
            "help.line",
            &[
                ("command", spec.name.into()),
                ("description", (&description).into()),
            ],
        ));
    }
    list
}
