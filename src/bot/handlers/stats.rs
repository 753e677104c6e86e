//! `/stats`: the bureau's anti-fraud figures for the latest period with their change on
//! a year before, and when there are several comparable periods two charts of the trend
//! (cases filed and solved; money lost and recovered), each a photo with its caption.

use super::{Ctx, HandlerResult};
use crate::chart::figures::{ChartKind, charts};
use crate::domain::{Figure, Metric, Period, year_on_year};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::figures::{STATS_CHANGE, change_text, latest_period, period_name, value_text};

pub(super) async fn stats(ctx: &Ctx<'_>) -> HandlerResult {
    let figures = ctx.app.store.figures().await?;
    let Some(latest) = latest_period(&figures) else {
        ctx.reply(ctx.text("stats.none")).await?;
        return Ok(());
    };
    ctx.reply(summary(ctx, latest, &figures)).await?;

    for drawn in charts(&ctx.app.texts, ctx.lang, &figures) {
        let png = match drawn.chart.render_png() {
            Ok(png) => png,
            Err(error) => {
                // The figures went out as text; a chart that cannot be drawn is the
                // operator's to look into, not the reader's.
                tracing::error!(%error, kind = ?drawn.kind, "drawing a /stats chart");
                continue;
            }
        };
        let name = |p: Period| period_name(&ctx.app.texts, ctx.lang, p);
        let (first, last) = (name(drawn.periods[0]), name(drawn.periods[drawn.periods.len() - 1]));
        let key = match drawn.kind {
            ChartKind::Cases => "stats.chart_caption",
            ChartKind::Money => "stats.money_chart_caption",
        };
        let caption = ctx.fill(
            key,
            &[
                ("count", Arg::Number(drawn.periods.len() as i64)),
                ("first", first.as_str().into()),
                ("last", last.as_str().into()),
            ],
        );
        ctx.out.send_photo(ctx.origin.target, png, caption).await?;
    }
    Ok(())
}

/// The figures of one period, each with its change on a year before.
fn summary(ctx: &Ctx<'_>, period: Period, figures: &[Figure]) -> Html {
    let texts = &ctx.app.texts;
    let name = period_name(texts, ctx.lang, period);
    let mut text = ctx.fill("stats.header", &[("period", name.as_str().into())]);
    let mut sources = std::collections::BTreeSet::new();
    for metric in Metric::ALL {
        let Some(figure) = figures.iter().find(|f| f.period == period && f.metric == *metric) else {
            continue;
        };
        sources.insert(figure.source.as_str());
        let amount = value_text(texts, ctx.lang, *metric, figure.value);
        let mut line = ctx.fill(&format!("stats.{metric}"), &[("value", amount.as_str().into())]);
        if let Some(change) = year_on_year(figure, figures) {
            line.push(&change_text(texts, ctx.lang, change, STATS_CHANGE));
        }
        text.push(&Html::trusted("\n".into()));
        text.push(&line);
    }
    for source in sources {
        text.push(&Html::trusted("\n\n".into()));
        text.push(&ctx.fill("stats.source", &[("source", source.into())]));
    }
    text
}
