//! `/about`: who publishes Pingan, the numbers to call, and what it keeps.

use super::{Ctx, HandlerResult};
use crate::i18n::Arg;

pub(super) async fn about(ctx: &Ctx<'_>) -> HandlerResult {
    let publisher = ctx.app.publisher(ctx.lang);
    let text = ctx.fill(
        "about.text",
        &[
            ("publisher", publisher.into()),
            ("days", Arg::Number(ctx.app.retention.deliveries.num_days())),
            ("version", env!("CARGO_PKG_VERSION").into()),
        ],
    );
    ctx.reply(text).await?;
    Ok(())
}
