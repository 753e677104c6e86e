//! The `/stats` charts from the bureau's figures: cases filed and solved, and money lost
//! and recovered (lost, payments stopped, proceeds frozen, returned to victims), each over
//! the periods comparable with the latest (same length, not overlapping), in the reader's
//! language (`charts.*` texts).

use chrono::{Datelike, NaiveDate};

use super::{LineChart, PALETTE, Series};
use crate::domain::{Figure, Language, Metric, Period};
use crate::i18n::Texts;
use crate::render::figures::{YuanUnit, latest_period, period_label};

/// A chart shows at most this many periods, the latest.
pub const CHART_PERIODS: usize = 12;

/// The metrics of the cases chart, in legend order.
pub const CASE_METRICS: [Metric; 2] = [Metric::Cases, Metric::Solved];
/// The metrics of the money chart, in legend order: lost, then recovered.
pub const MONEY_METRICS: [Metric; 4] = [Metric::Losses, Metric::Stopped, Metric::Frozen, Metric::Returned];

/// Which of the two charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    /// Cases filed and solved, counts.
    Cases,
    /// Money lost and recovered, in yuan shown in the reader's units.
    Money,
}

impl ChartKind {
    /// The metrics it draws.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            ChartKind::Cases => &CASE_METRICS,
            ChartKind::Money => &MONEY_METRICS,
        }
    }
}

/// One chart and the periods it covers, oldest first, for its caption.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureChart {
    pub kind: ChartKind,
    pub chart: LineChart,
    pub periods: Vec<Period>,
}

/// The charts worth drawing from `figures` for a reader of `lang`: the cases chart, then
/// the money chart, each only when at least two periods comparable with the latest have
/// one of its figures (one point is no trend).
pub fn charts(texts: &Texts, lang: Language, figures: &[Figure]) -> Vec<FigureChart> {
    let Some(latest) = latest_period(figures) else {
        return Vec::new();
    };
    [ChartKind::Cases, ChartKind::Money]
        .into_iter()
        .filter_map(|kind| {
            let with_figures: Vec<Period> = periods(figures)
                .into_iter()
                .filter(|p| kind.metrics().iter().any(|m| value(figures, *p, *m).is_some()))
                .collect();
            let charted = comparable(&with_figures, latest);
            (charted.len() >= 2).then(|| chart(texts, lang, kind, figures, charted))
        })
        .collect()
}

fn chart(
    texts: &Texts,
    lang: Language,
    kind: ChartKind,
    figures: &[Figure],
    periods: Vec<Period>,
) -> FigureChart {
    let plain = |key: &str| crate::html::to_plain(texts.template(lang, key));
    let (title, value_axis, scale) = match kind {
        ChartKind::Cases => (plain("charts.cases_title"), plain("charts.count_axis"), 1.0),
        ChartKind::Money => {
            let max = periods
                .iter()
                .flat_map(|p| kind.metrics().iter().filter_map(|m| value(figures, *p, *m)))
                .max()
                .unwrap_or(0);
            let unit = YuanUnit::for_amount(lang, max as f64);
            (plain("charts.money_title"), plain(&format!("charts.{}_axis", unit.key())), unit.size(lang))
        }
    };
    let series = kind
        .metrics()
        .iter()
        .zip(PALETTE)
        .filter(|(metric, _)| periods.iter().any(|p| value(figures, *p, **metric).is_some()))
        .map(|(metric, (marker, line))| Series {
            name: plain(&format!("charts.{metric}")),
            values: periods.iter().map(|p| value(figures, *p, *metric).map(|v| v as f64 / scale)).collect(),
            marker,
            line,
        })
        .collect();
    let chart = LineChart {
        title,
        value_axis,
        period_axis: plain("charts.period_axis"),
        labels: periods.iter().map(|p| period_label(texts, lang, *p)).collect(),
        series,
    };
    FigureChart { kind, chart, periods }
}

fn periods(figures: &[Figure]) -> Vec<Period> {
    let mut periods: Vec<Period> = figures.iter().map(|f| f.period).collect();
    periods.sort();
    periods.dedup();
    periods
}

fn value(figures: &[Figure], period: Period, metric: Metric) -> Option<i64> {
    figures.iter().find(|f| f.period == period && f.metric == metric).map(|f| f.value)
}

/// The periods a trend compares, oldest first: `latest` and, going back, up to
/// [`CHART_PERIODS`] in all of the same length that do not overlap — so January to
/// September is not drawn beside January to October, nor a month beside a year.
pub fn comparable(periods: &[Period], latest: Period) -> Vec<Period> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::tests::{blobs, decode, text_pixels};
    use crate::chart::{HEIGHT, LEGEND_AREA, TITLE_AREA, WIDTH};

    fn period(from: (i32, u32, u32), to: (i32, u32, u32)) -> Period {
        let day = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Period::new(day(from), day(to)).unwrap()
    }

    #[test]
    fn only_periods_like_the_latest_go_on_one_chart() {
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
    }

    /// The demo's ten months of 2023 and the same months of 2022 (as in the CLI test).
    fn two_years() -> Vec<Figure> {
        let mut figures = crate::content::figures::demo().unwrap();
        let before = "[[period]]\nfrom = 2022-01-01\nto = 2022-10-31\nsource = \"test\"\ncases = 3964\n\
                      solved = 595\nlosses = 361840000\nreturned = 9120000\n";
        figures.extend(crate::content::figures::parse(before).unwrap());
        figures
    }

    #[test]
    fn both_charts_speak_the_readers_language_and_units() {
        let texts = Texts::load().unwrap();
        let figures = two_years();
        let zh = charts(&texts, Language::Zh, &figures);
        assert_eq!(zh.iter().map(|c| c.kind).collect::<Vec<_>>(), [ChartKind::Cases, ChartKind::Money]);
        let (cases, money) = (&zh[0].chart, &zh[1].chart);
        assert_eq!(cases.title, "电信网络诈骗案件：立案与破案");
        assert_eq!(cases.labels, ["2022年1–10月", "2023年1–10月"]);
        assert_eq!(cases.value_axis, "案件（起）");
        assert_eq!(cases.series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["立案", "破案"]);
        assert_eq!(cases.series[0].values, [Some(3964.0), Some(3774.0)]);
        assert_eq!(money.value_axis, "金额（亿元）");
        let names: Vec<&str> = money.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["群众损失", "紧急止付", "冻结涉诈资金", "返还群众"]);
        assert_eq!(money.series[0].values, [Some(3.6184), Some(3.370958)]);
        assert_eq!(money.series[1].values, [None, Some(17.15)], "stopped is published for 2023 only");

        let en = charts(&texts, Language::En, &figures);
        assert_eq!(en[0].chart.labels, ["Jan–Oct 2022", "Jan–Oct 2023"]);
        assert_eq!(en[0].chart.title, "Telecom and online fraud: cases filed and solved");
        assert_eq!(en[1].chart.value_axis, "¥ billion");
        assert_eq!(en[1].chart.series[3].values, [Some(0.00912), Some(0.01743)]);

        // One period is no trend: the demo alone draws nothing.
        assert!(charts(&texts, Language::Zh, &crate::content::figures::demo().unwrap()).is_empty());
        assert!(charts(&texts, Language::Zh, &[]).is_empty());
    }

    #[test]
    fn the_drawn_charts_have_their_title_legend_and_points_in_both_languages() {
        let texts = Texts::load().unwrap();
        let figures = two_years();
        for lang in [Language::Zh, Language::En] {
            for drawn in charts(&texts, lang, &figures) {
                let png = drawn.chart.render_png().unwrap();
                let (w, h, pixels) = decode(&png);
                assert_eq!((w, h), (WIDTH, HEIGHT));
                assert!(text_pixels(w, &pixels, TITLE_AREA) > 400, "{lang:?} {:?}: a title", drawn.kind);
                assert!(text_pixels(w, &pixels, LEGEND_AREA) > 150, "{lang:?} {:?}: a legend", drawn.kind);
                for series in &drawn.chart.series {
                    let points = series.values.iter().flatten().count();
                    assert_eq!(blobs(w, h, &pixels, series.marker), points, "{lang:?} {}", series.name);
                }
            }
        }
    }
}
