//! `/admins` for owners: who has which role; `/admins grant <user id> <role>` and
//! `/admins revoke <user id>`.

use super::require;
use crate::bot::handlers::{Ctx, HandlerResult};
use crate::domain::{Actor, Role};
use crate::html::Html;

pub(in crate::bot::handlers) async fn admins(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let Some(owner) = require(ctx, Role::may_manage_admins).await? else { return Ok(()) };
    let words: Vec<&str> = args.split_whitespace().collect();
    let by = Actor::Telegram(owner);
    let now = ctx.now();
    match words.as_slice() {
        [] => list(ctx).await,
        ["grant", user, role] => {
            let (Some(user), Ok(role)) = (user.parse::<i64>().ok().filter(|u| *u > 0), role.parse::<Role>())
            else {
                ctx.reply(ctx.text("admins.usage")).await?;
                return Ok(());
            };
            // Granted and audited in one transaction.
            ctx.app.store.grant(user, role, &by, now).await?;
            let text = ctx.fill(
                "admins.granted",
                &[("user", (&user.to_string()).into()), ("role", role.as_str().into())],
            );
            ctx.reply(text).await?;
            Ok(())
        }
        ["revoke", user] => {
            let Some(user) = user.parse::<i64>().ok().filter(|u| *u > 0) else {
                ctx.reply(ctx.text("admins.usage")).await?;
                return Ok(());
            };
            let revoked = ctx.app.store.revoke(user, &by, now).await?;
            let key = if revoked { "admins.revoked" } else { "admins.had_no_role" };
            ctx.reply(ctx.fill(key, &[("user", (&user.to_string()).into())])).await?;
            Ok(())
        }
        _ => {
            ctx.reply(ctx.text("admins.usage")).await?;
            Ok(())
        }
    }
}

async fn list(ctx: &Ctx<'_>) -> HandlerResult {
    let mut text = ctx.text("admins.header");
    for owner in &ctx.app.settings.owners {
        text.push(&Html::trusted("\n".into()));
        text.push(&ctx.fill("admins.configured_owner", &[("user", (&owner.to_string()).into())]));
    }
    for admin in ctx.app.store.admins().await? {
        text.push(&Html::trusted("\n".into()));
        let (user, by) = (admin.user_id.to_string(), admin.granted_by.to_string());
        let args = [("user", (&user).into()), ("role", admin.role.as_str().into()), ("by", (&by).into())];
        text.push(&ctx.fill("admins.line", &args));
    }
    text.push(&Html::trusted("\n\n".into()));
    text.push(&ctx.text("admins.usage"));
    ctx.reply(text).await?;
    Ok(())
}
