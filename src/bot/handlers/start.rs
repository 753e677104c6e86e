//! `/start`: the welcome.

use super::{Ctx, HandlerResult};

pub(super) async fn start(ctx: &Ctx<'_>) -> HandlerResult {
    let anonymous = ctx.app.texts.template(ctx.lang, "start.anonymous");
    let name = ctx
        .msg
        .sender
        .as_ref()
        .map_or(anonymous, |s| s.first_name.as_str());
    let welcome = ctx
        .app
        .texts
        .fill(ctx.lang, "start.welcome", &[("name", name.into())]);
    ctx.reply(welcome).await?;
    Ok(())
}
