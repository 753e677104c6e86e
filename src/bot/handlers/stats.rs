//! `/stats`: the bureau's anti-fraud figures for the latest period with their change on
//! a year before, and a chart of the trend when there are several periods.

use std::collections::BTreeSet;

use chrono::Datelike;

use super::{Ctx, HandlerResult};
use crate::chart::{LineChart, PALETTE, Series};
use crate::domain::{Figure, Language, Metric, Period, year_on_year};
use crate::html::Html;
use crate::i18n::Arg;

/// The chart shows at most this many periods, the latest.
const CHART_PERIODS: usize = 12;

pub(super) async fn stats(ctx: &Ctx<'_>) -> HandlerResult {
    let figures = ctx.app.store.figures().await?;
    let periods: BTreeSet<Period> = figures.iter().map(|f| f.period).collect();
    let Some(latest) = periods.iter().max_by_key(|p| (p.to(), p.from())).copied() else {
        ctx.reply(ctx.text("stats.none")).await?;
        return Ok(());
    };
    ctx.reply(summary(ctx, latest, &figures)).await?;

    let charted: Vec<Period> = {
        let mut with_cases: Vec<Period> =
            periods.iter().copied().filter(|p| value(&figures, *p, Metric::Cases).is_some()).collect();
        with_cases.sort_by_key(|p| (p.from(), p.to()));
        let skip = with_cases.len().saturating_sub(CHART_PERIODS);
        with_cases.split_off(skip)
    };
    if charted.len() >= 2 {
        let chart = LineChart {
            labels: charted.iter().map(|p| short_label(*p)).collect(),
            series: [Metric::Cases, Metric::Solved]
                .iter()
                .zip(PALETTE)
                .map(|(metric, (marker, line))| Series {
                    values: charted.iter().map(|p| value(&figures, *p, *metric).map(|v| v as f64)).collect(),
                    marker,
                    line,
                })
                .collect(),
        };
        let first = period_name(ctx.lang, charted[0]);
        let last = period_name(ctx.lang, charted[charted.len() - 1]);
        let count = Arg::Number(charted.len() as i64);
        let caption = ctx.fill(
            "stats.chart_caption",
            &[("count", count), ("first", first.as_str().into()), ("last", last.as_str().into())],
        );
        ctx.out.send_photo(ctx.origin.target, chart.render_png(), caption).await?;
    }
    Ok(())
}

fn value(figures: &[Figure], period: Period, metric: Metric) -> Option<i64> {
    figures.iter().find(|f| f.period == period && f.metric == metric).map(|f| f.value)
}

/// The figures of one period, each with its change on a year before.
fn summary(ctx: &Ctx<'_>, period: Period, figures: &[Figure]) -> Html {
    let name = period_name(ctx.lang, period);
    let mut text = ctx.fill("stats.header", &[("period", name.as_str().into())]);
    let mut sources = BTreeSet::new();
    for metric in Metric::ALL {
        let Some(figure) = figures.iter().find(|f| f.period == period && f.metric == *metric) else {
            continue;
        };
        sources.insert(figure.source.as_str());
        let amount = if metric.is_money() { money(ctx, figure.value) } else { figure.value.to_string() };
        let mut line = ctx.fill(&format!("stats.{metric}"), &[("value", amount.as_str().into())]);
        if let Some(change) = year_on_year(figure, figures) {
            let percent = format!("{:.2}", change.abs());
            let key = match change {
                c if c > 0.005 => "stats.change_up",
                c if c < -0.005 => "stats.change_down",
                _ => "stats.change_flat",
            };
            line.push(&ctx.fill(key, &[("percent", percent.as_str().into())]));
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

/// An amount of yuan in the units readers use: 亿 and 万 in Chinese (`stats.yuan_large`
/// and `stats.yuan_medium`), billions and millions in English.
fn money(ctx: &Ctx<'_>, yuan: i64) -> String {
    let y = yuan as f64;
    let (amount, key) = match ctx.lang {
        Language::Zh if y >= 1e8 => (y / 1e8, "stats.yuan_large"),
        Language::Zh if y >= 1e4 => (y / 1e4, "stats.yuan_medium"),
        Language::En if y >= 1e9 => (y / 1e9, "stats.yuan_large"),
        Language::En if y >= 1e6 => (y / 1e6, "stats.yuan_medium"),
        _ => (y, "stats.yuan"),
    };
    let amount = format!("{amount:.2}");
    let amount = amount.trim_end_matches('0').trim_end_matches('.');
    crate::html::to_plain(ctx.fill(key, &[("amount", Arg::Text(amount))]).as_str())
}

/// `2023年1月至10月`, `January to October 2023`; periods that are not whole months by
/// their dates.
fn period_name(lang: Language, p: Period) -> String {
    let (from, to) = (p.from(), p.to());
    if !p.is_whole_months() {
        return match lang {
            Language::Zh => format!("{from} 至 {to}"),
            Language::En => format!("{from} to {to}"),
        };
    }
    let same_month = (from.year(), from.month()) == (to.year(), to.month());
    match lang {
        Language::Zh if same_month => format!("{}年{}月", from.year(), from.month()),
        Language::Zh if from.year() == to.year() => {
            format!("{}年{}月至{}月", from.year(), from.month(), to.month())
        }
        Language::Zh => format!("{}年{}月至{}年{}月", from.year(), from.month(), to.year(), to.month()),
        Language::En if same_month => from.format("%B %Y").to_string(),
        Language::En if from.year() == to.year() => {
            format!("{} to {} {}", from.format("%B"), to.format("%B"), from.year())
        }
        Language::En => format!("{} to {}", from.format("%B %Y"), to.format("%B %Y")),
    }
}

/// A period in the few characters the chart's font has: `2023`, `2023H1`, `2023Q3`,
/// `2023-05`, else its first day.
fn short_label(p: Period) -> String {
    let (from, to) = (p.from(), p.to());
    if !p.is_whole_months() || from.year() != to.year() {
        return from.to_string();
    }
    let months = to.month() - from.month() + 1;
    match (months, from.month()) {
        (12, 1) => from.year().to_string(),
        (6, 1 | 7) => format!("{}H{}", from.year(), from.month() / 6 + 1),
        (3, 1 | 4 | 7 | 10) => format!("{}Q{}", from.year(), from.month() / 3 + 1),
        (1, m) => format!("{}-{m:02}", from.year()),
        _ => format!("{}-{:02}", from.year(), from.month()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn period(from: (i32, u32, u32), to: (i32, u32, u32)) -> Period {
        let day = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Period::new(day(from), day(to)).unwrap()
    }

    #[test]
    fn periods_are_named_as_readers_say_them() {
        let ten_months = period((2023, 1, 1), (2023, 10, 31));
        assert_eq!(period_name(Language::Zh, ten_months), "2023年1月至10月");
        assert_eq!(period_name(Language::En, ten_months), "January to October 2023");
        assert_eq!(period_name(Language::Zh, period((2023, 11, 1), (2023, 11, 30))), "2023年11月");
        assert_eq!(
            period_name(Language::Zh, period((2023, 1, 1), (2023, 11, 22))),
            "2023-01-01 至 2023-11-22"
        );
        assert_eq!(short_label(period((2023, 4, 1), (2023, 6, 30))), "2023Q2");
        assert_eq!(short_label(period((2023, 7, 1), (2023, 12, 31))), "2023H2");
        assert_eq!(short_label(period((2023, 1, 1), (2023, 12, 31))), "2023");
        assert_eq!(short_label(period((2023, 5, 1), (2023, 5, 31))), "2023-05");
    }
}
