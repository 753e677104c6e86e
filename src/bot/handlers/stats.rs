//! `/stats`: the bureau's anti-fraud figures for the latest period with their change on
//! a year before, and a chart of the trend when there are several periods.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

use super::{Ctx, HandlerResult};
use crate::chart::{LineChart, PALETTE, Series};
use crate::domain::{Figure, Language, Metric, Period, year_on_year};
use crate::html::Html;
use crate::i18n::{Arg, Texts};

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

    let with_cases: Vec<Period> =
        periods.iter().copied().filter(|p| value(&figures, *p, Metric::Cases).is_some()).collect();
    let charted = comparable(&with_cases, latest);
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
        let first = period_name(&ctx.app.texts, ctx.lang, charted[0]);
        let last = period_name(&ctx.app.texts, ctx.lang, charted[charted.len() - 1]);
        let count = Arg::Number(charted.len() as i64);
        let caption = ctx.fill(
            "stats.chart_caption",
            &[("count", count), ("first", first.as_str().into()), ("last", last.as_str().into())],
        );
        ctx.out.send_photo(ctx.origin.target, chart.render_png(), caption).await?;
    }
    Ok(())
}

/// The periods a trend compares, oldest first: `latest` and, going back, up to
/// [`CHART_PERIODS`] in all of the same length that do not overlap — so January to
/// September is not drawn beside January to October, nor a month beside a year.
fn comparable(periods: &[Period], latest: Period) -> Vec<Period> {
    let mut candidates: Vec<Period> =
        periods.iter().copied().filter(|p| length(*p) == length(latest)).collect();
    candidates.sort_by_key(|p| std::cmp::Reverse((p.to(), p.from())));
    let mut chosen: Vec<Period> = Vec::new();
    for p in candidates {
        if chosen.len() == CHART_PERIODS {
            break;
        }
        if chosen.last().is_none_or(|later| p.to() < later.from()) {
            chosen.push(p);
        }
    }
    chosen.reverse();
    chosen
}

/// The shape of a period, which comparable periods share: so many whole months, or the
/// same days of the year (1 January to 22 November, in a leap year or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Length {
    Months(i64),
    Days { from: (u32, u32), to: (u32, u32), years: i32 },
}

fn length(p: Period) -> Length {
    let months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    if p.is_whole_months() {
        Length::Months(months(p.to()) - months(p.from()) + 1)
    } else {
        let (from, to) = (p.from(), p.to());
        Length::Days {
            from: (from.month(), from.day()),
            to: (to.month(), to.day()),
            years: to.year() - from.year(),
        }
    }
}

fn value(figures: &[Figure], period: Period, metric: Metric) -> Option<i64> {
    figures.iter().find(|f| f.period == period && f.metric == metric).map(|f| f.value)
}

/// The figures of one period, each with its change on a year before.
fn summary(ctx: &Ctx<'_>, period: Period, figures: &[Figure]) -> Html {
    let name = period_name(&ctx.app.texts, ctx.lang, period);
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
/// their dates. The shapes are the locale's (`stats.period_*`, `format.month*`).
fn period_name(texts: &Texts, lang: Language, p: Period) -> String {
    let (from, to) = (p.from(), p.to());
    let format = |d: NaiveDate, key: &str| d.format(texts.template(lang, key)).to_string();
    let fill =
        |key: &str, args: &[(&str, Arg<'_>)]| crate::html::to_plain(texts.fill(lang, key, args).as_str());
    if !p.is_whole_months() {
        let (from, to) = (from.to_string(), to.to_string());
        return fill("stats.period_days", &[("from", from.as_str().into()), ("to", to.as_str().into())]);
    }
    if (from.year(), from.month()) == (to.year(), to.month()) {
        return format(from, "format.month");
    }
    if from.year() == to.year() {
        let (first, last) = (format(from, "format.month_name"), format(to, "format.month_name"));
        let year = from.year().to_string();
        return fill(
            "stats.period_in_year",
            &[("from", first.as_str().into()), ("to", last.as_str().into()), ("year", year.as_str().into())],
        );
    }
    let (first, last) = (format(from, "format.month"), format(to, "format.month"));
    fill("stats.period_across_years", &[("from", first.as_str().into()), ("to", last.as_str().into())])
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
    use super::*;

    fn period(from: (i32, u32, u32), to: (i32, u32, u32)) -> Period {
        let day = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Period::new(day(from), day(to)).unwrap()
    }

    #[test]
    fn periods_are_named_as_readers_say_them() {
        let texts = Texts::load().unwrap();
        let period_name = |lang, p| period_name(&texts, lang, p);
        let ten_months = period((2023, 1, 1), (2023, 10, 31));
        assert_eq!(period_name(Language::Zh, ten_months), "2023年1月至10月");
        assert_eq!(period_name(Language::En, ten_months), "January to October 2023");
        assert_eq!(period_name(Language::Zh, period((2023, 11, 1), (2023, 11, 30))), "2023年11月");
        assert_eq!(
            period_name(Language::Zh, period((2023, 1, 1), (2023, 11, 22))),
            "2023-01-01 至 2023-11-22"
        );
        assert_eq!(
            period_name(Language::En, period((2022, 11, 1), (2023, 10, 31))),
            "November 2022 to October 2023"
        );
        assert_eq!(
            period_name(Language::Zh, period((2022, 11, 1), (2023, 10, 31))),
            "2022年11月至2023年10月"
        );
        assert_eq!(short_label(period((2023, 4, 1), (2023, 6, 30))), "2023Q2");
        // Only periods like the latest, not overlapping, go on one chart.
        let jan_oct = |y| period((y, 1, 1), (y, 10, 31));
        let periods = [
            jan_oct(2022),
            period((2023, 1, 1), (2023, 9, 30)),
            jan_oct(2023),
            jan_oct(2024),
            period((2024, 2, 1), (2024, 2, 29)),
        ];
        assert_eq!(comparable(&periods, jan_oct(2024)), [jan_oct(2022), jan_oct(2023), jan_oct(2024)]);
        let to_22_nov = |y| period((y, 1, 1), (y, 11, 22));
        let days = [to_22_nov(2023), to_22_nov(2024), period((2024, 1, 2), (2024, 11, 22))];
        assert_eq!(comparable(&days, to_22_nov(2024)), [to_22_nov(2023), to_22_nov(2024)], "a leap year too");
        assert_eq!(short_label(period((2023, 7, 1), (2023, 12, 31))), "2023H2");
        assert_eq!(short_label(period((2023, 1, 1), (2023, 12, 31))), "2023");
        assert_eq!(short_label(period((2023, 5, 1), (2023, 5, 31))), "2023-05");
    }
}
