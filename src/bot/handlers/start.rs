//! `/start`: the welcome, or what a deep link (`t.me/<bot>?start=<payload>`, see
//! [`crate::render::link`]) asks for: a notice, a scam type's tips, the risk check.

use super::{Ctx, HandlerResult, notice, tips};
use crate::render::link::StartPayload;

/// `/start` with the payload a link added (`""` when typed alone). A payload Pingan does
/// not know gets the welcome after a short note, so an old link still leads somewhere.
pub(super) async fn start(ctx: &Ctx<'_>, payload: &str) -> HandlerResult {
    let payload = payload.trim();
    if payload.is_empty() {
        return welcome(ctx).await;
    }
    match StartPayload::parse(payload) {
        Some(StartPayload::Notice(id)) => notice::show(ctx, id).await,
        Some(StartPayload::Tips(kind)) => tips::show_kind(ctx, kind).await,
        Some(StartPayload::Check) => {
            ctx.reply(ctx.text("check.usage")).await?;
            Ok(())
        }
        None => {
            tracing::info!(chat = ctx.origin.target.chat.0, "a start link Pingan does not know");
            ctx.reply(ctx.text("start.unknown_link")).await?;
            welcome(ctx).await
        }
    }
}

async fn welcome(ctx: &Ctx<'_>) -> HandlerResult {
    let anonymous = ctx.label("start.anonymous");
    let name = ctx.origin.sender.as_ref().map_or(anonymous.as_str(), |s| s.first_name.as_str());
    let publisher = ctx.app.publisher(ctx.lang);
    let welcome = ctx.fill("start.welcome", &[("name", name.into()), ("publisher", publisher.into())]);
    ctx.reply(welcome).await?;
    Ok(())
}
