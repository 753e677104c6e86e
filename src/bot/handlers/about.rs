//! `/about`: who publishes Pingan, the numbers to call, and what it keeps.

use super::{Ctx, HandlerResult};
use crate::i18n::Arg;

pub(super) async fn about(ctx: &Ctx<'_>) -> HandlerResult {
    let publisher = ctx.app.publisher(ctx.lang);
    // "1 day" or "30 days": retention.deliveries_days may be any number from 1.
    let kept_for =
        ctx.fill("about.kept_days", &[("count", Arg::Number(ctx.app.retention.deliveries.num_days()))]);
    let text = ctx.fill(
        "about.text",
        &[
            ("publisher", publisher.into()),
            ("kept_for", (&kept_for).into()),
            ("version", env!("CARGO_PKG_VERSION").into()),
        ],
    );
    ctx.reply(text).await?;
    Ok(())
}
