//! `/start`: the welcome.

use super::{Ctx, HandlerResult};

pub(super) async fn start(ctx: &Ctx<'_>) -> HandlerResult {
    let anonymous = ctx.label("start.anonymous");
    let name = ctx.origin.sender.as_ref().map_or(anonymous.as_str(), |s| s.first_name.as_str());
    let publisher = ctx.app.publisher(ctx.lang);
    let welcome = ctx.fill("start.welcome", &[("name", name.into()), ("publisher", publisher.into())]);
    ctx.reply(welcome).await?;
    Ok(())
}
