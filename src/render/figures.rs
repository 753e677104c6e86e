//! How the bureau's anti-fraud figures read: period names (`2023年1月至10月`,
//! `January to October 2023`), the charts' short period labels (`2023年1–10月`,
//! `Jan–Oct 2023`), amounts of yuan in the units readers use, thousands separators, and
//! the one line of latest figures a weekly digest carries. Shared by `/stats`
//! (src/bot/handlers/stats.rs), the charts (src/chart/) and digests (`broadcast::digest`).

use chrono::{Datelike, NaiveDate};

use crate::domain::{Figure, Language, Metric, Period, year_on_year};
use crate::html::Html;
use crate::i18n::{Arg, Texts};

/// `3774` → `3,774`, `-1234567` → `-1,234,567`: digits in groups of three. Both of
/// Pingan's languages group with a comma (CLDR's `zh` and `en` number symbols).
pub fn group_digits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `value` with at most `decimals` decimals, trailing zeros dropped, and its whole part
/// grouped by [`group_digits`]: `33709.58` → `33,709.58`, `2.50` → `2.5`.
pub fn decimal(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let fraction = fraction.trim_end_matches('0');
    let whole: i64 = whole.parse().unwrap_or(0);
    let sign = if value < 0.0 && (whole != 0 || !fraction.is_empty()) { "-" } else { "" };
    let whole = group_digits(whole);
    if fraction.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") }
}

/// A unit for amounts of yuan: how many yuan one unit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YuanUnit {
    /// Plain yuan.
    Yuan,
    /// 万元 in Chinese (10⁴ yuan), millions in English (10⁶ yuan).
    Medium,
    /// 亿元 in Chinese (10⁸ yuan), billions in English (10⁹ yuan).
    Large,
}

impl YuanUnit {
    /// The unit readers of `lang` would give `yuan` in: 亿 and 万 in Chinese, billions and
    /// millions in English.
    pub fn for_amount(lang: Language, yuan: f64) -> YuanUnit {
        match lang {
            Language::Zh if yuan >= 1e8 => YuanUnit::Large,
            Language::Zh if yuan >= 1e4 => YuanUnit::Medium,
            Language::En if yuan >= 1e9 => YuanUnit::Large,
            Language::En if yuan >= 1e6 => YuanUnit::Medium,
            _ => YuanUnit::Yuan,
        }
    }

    /// Yuan in one unit, for `lang`.
    pub fn size(self, lang: Language) -> f64 {
        match (self, lang) {
            (YuanUnit::Yuan, _) => 1.0,
            (YuanUnit::Medium, Language::Zh) => 1e4,
            (YuanUnit::Large, Language::Zh) => 1e8,
            (YuanUnit::Medium, Language::En) => 1e6,
            (YuanUnit::Large, Language::En) => 1e9,
        }
    }

    /// The key suffix of the unit's texts (`stats.yuan_medium`, `charts.yuan_medium_axis`).
    pub fn key(self) -> &'static str {
        match self {
            YuanUnit::Yuan => "yuan",
            YuanUnit::Medium => "yuan_medium",
            YuanUnit::Large => "yuan_large",
        }
    }
}

/// An amount of yuan in the units readers use, as plain text: `3.37 亿元`, `1,743 万元`,
/// `¥337.1 million` (`stats.yuan*`), to two decimals at most.
pub fn money(texts: &Texts, lang: Language, yuan: i64) -> String {
    let unit = YuanUnit::for_amount(lang, yuan as f64);
    let amount = decimal(yuan as f64 / unit.size(lang), 2);
    let key = format!("stats.{}", unit.key());
    crate::html::to_plain(texts.fill(lang, &key, &[("amount", Arg::Text(&amount))]).as_str())
}

/// A figure's value as shown in text: money in its units ([`money`]), counts grouped
/// ([`group_digits`]).
pub fn value_text(texts: &Texts, lang: Language, metric: Metric, value: i64) -> String {
    if metric.is_money() { money(texts, lang, value) } else { group_digits(value) }
}

/// `2023年1月至10月`, `January to October 2023`; periods that are not whole months by
/// their dates. The shapes are the locale's (`stats.period_*`, `format.month*`).
pub fn period_name(texts: &Texts, lang: Language, p: Period) -> String {
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

/// A period as the charts label it, short and saying what it covers: `2023年1–10月`,
/// `Jan–Oct 2023`, `2023年`, `2023年5月`, `2022年11月–2023年10月`, `2023年1月1日–11月22日`.
/// Shapes and month formats are the locale's `charts.period_*`, `charts.month`, `charts.day`.
pub fn period_label(texts: &Texts, lang: Language, p: Period) -> String {
    let (from, to) = (p.from(), p.to());
    let format = |d: NaiveDate, key: &str| d.format(texts.template(lang, key)).to_string();
    let fill = |key: &str, args: &[(&str, &str)]| {
        let args: Vec<(&str, Arg<'_>)> = args.iter().map(|(k, v)| (*k, Arg::Text(v))).collect();
        crate::html::to_plain(texts.fill(lang, key, &args).as_str())
    };
    let (from_year, to_year) = (from.year().to_string(), to.year().to_string());
    if !p.is_whole_months() {
        let (first, last) = (format(from, "charts.day"), format(to, "charts.day"));
        return if from.year() == to.year() {
            fill("charts.period_days", &[("from", &first), ("to", &last), ("year", &from_year)])
        } else {
            fill(
                "charts.period_days_across_years",
                &[("from", &first), ("to", &last), ("from_year", &from_year), ("to_year", &to_year)],
            )
        };
    }
    let (first, last) = (format(from, "charts.month"), format(to, "charts.month"));
    if from.year() != to.year() {
        return fill(
            "charts.period_across_years",
            &[("from", &first), ("to", &last), ("from_year", &from_year), ("to_year", &to_year)],
        );
    }
    match (from.month(), to.month()) {
        (1, 12) => fill("charts.period_year", &[("year", &from_year)]),
        (a, b) if a == b => fill("charts.period_month", &[("month", &first), ("year", &from_year)]),
        _ => fill("charts.period_in_year", &[("from", &first), ("to", &last), ("year", &from_year)]),
    }
}

/// The period the latest figures are for: the one that ends last (the shortest of those).
pub fn latest_period(figures: &[Figure]) -> Option<Period> {
    figures.iter().map(|f| f.period).max_by_key(|p| (p.to(), p.from()))
}

/// The metrics a digest's line of figures names, in this order, when the period has them.
pub const DIGEST_METRICS: [Metric; 3] = [Metric::Cases, Metric::Solved, Metric::Losses];

/// The latest figures as one line (`stats.digest_line`): their period, then cases filed,
/// cases solved and money lost as far as published, each with its change on a year
/// before. `None` when there are no figures (or none of [`DIGEST_METRICS`]).
pub fn digest_line(texts: &Texts, lang: Language, figures: &[Figure]) -> Option<Html> {
    let period = latest_period(figures)?;
    let separator = texts.get(lang, "stats.digest_separator");
    let mut parts = Html::default();
    let mut any = false;
    for metric in DIGEST_METRICS {
        let Some(figure) = figures.iter().find(|f| f.period == period && f.metric == metric) else {
            continue;
        };
        if any {
            parts.push(&separator);
        }
        any = true;
        let value = value_text(texts, lang, metric, figure.value);
        parts.push(&texts.fill(lang, &format!("stats.digest_{metric}"), &[("value", Arg::Text(&value))]));
        if let Some(change) = year_on_year(figure, figures) {
            parts.push(&change_text(texts, lang, change, DIGEST_CHANGE));
        }
    }
    if !any {
        return None;
    }
    let name = period_name(texts, lang, period);
    Some(texts.fill(lang, "stats.digest_line", &[("period", Arg::Text(&name)), ("figures", (&parts).into())]))
}

/// The texts of a change that went up, down, or stayed the same.
pub type ChangeKeys = [&'static str; 3];
/// A change as `/stats` words it, "(down 4.79% on a year before)".
pub const STATS_CHANGE: ChangeKeys = ["stats.change_up", "stats.change_down", "stats.change_flat"];
/// A change as a digest's line of figures words it, "(down 4.79%)".
pub const DIGEST_CHANGE: ChangeKeys =
    ["stats.digest_change_up", "stats.digest_change_down", "stats.digest_change_flat"];

/// A change in percent in the text of `keys` (up, down, the same), to two decimals; a
/// change within ±0.005% is the same.
pub fn change_text(texts: &Texts, lang: Language, change: f64, keys: ChangeKeys) -> Html {
    let percent = format!("{:.2}", change.abs());
    let key = match change {
        c if c > 0.005 => keys[0],
        c if c < -0.005 => keys[1],
        _ => keys[2],
    };
    texts.fill(lang, key, &[("percent", Arg::Text(&percent))])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(from: (i32, u32, u32), to: (i32, u32, u32)) -> Period {
        let day = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Period::new(day(from), day(to)).unwrap()
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(3774), "3,774");
        assert_eq!(group_digits(-1_234_567), "-1,234,567");
        assert_eq!(group_digits(337_095_800), "337,095,800");
        assert_eq!(decimal(33_709.58, 2), "33,709.58");
        assert_eq!(decimal(2.50, 2), "2.5");
        assert_eq!(decimal(1200.0, 2), "1,200");
        assert_eq!(decimal(-0.001, 2), "0");
    }

    #[test]
    fn periods_are_named_and_labelled_as_readers_say_them() {
        let texts = Texts::load().unwrap();
        let name = |lang, p| period_name(&texts, lang, p);
        let label = |lang, p| period_label(&texts, lang, p);
        let ten_months = period((2023, 1, 1), (2023, 10, 31));
        assert_eq!(name(Language::Zh, ten_months), "2023年1月至10月");
        assert_eq!(name(Language::En, ten_months), "January to October 2023");
        assert_eq!(name(Language::Zh, period((2023, 11, 1), (2023, 11, 30))), "2023年11月");
        assert_eq!(name(Language::Zh, period((2023, 1, 1), (2023, 11, 22))), "2023-01-01 至 2023-11-22");
        assert_eq!(
            name(Language::En, period((2022, 11, 1), (2023, 10, 31))),
            "November 2022 to October 2023"
        );
        assert_eq!(name(Language::Zh, period((2022, 11, 1), (2023, 10, 31))), "2022年11月至2023年10月");

        assert_eq!(label(Language::Zh, ten_months), "2023年1–10月");
        assert_eq!(label(Language::En, ten_months), "Jan–Oct 2023");
        assert_eq!(label(Language::Zh, period((2023, 1, 1), (2023, 12, 31))), "2023年");
        assert_eq!(label(Language::En, period((2023, 1, 1), (2023, 12, 31))), "2023");
        assert_eq!(label(Language::Zh, period((2023, 5, 1), (2023, 5, 31))), "2023年5月");
        assert_eq!(label(Language::En, period((2023, 5, 1), (2023, 5, 31))), "May 2023");
        assert_eq!(label(Language::Zh, period((2022, 11, 1), (2023, 10, 31))), "2022年11月–2023年10月");
        assert_eq!(label(Language::En, period((2022, 11, 1), (2023, 10, 31))), "Nov 2022–Oct 2023");
        assert_eq!(label(Language::Zh, period((2023, 1, 1), (2023, 11, 22))), "2023年1月1日–11月22日");
        assert_eq!(label(Language::En, period((2023, 1, 1), (2023, 11, 22))), "Jan 1–Nov 22, 2023");
        assert_eq!(label(Language::En, period((2022, 12, 5), (2023, 1, 4))), "Dec 5, 2022–Jan 4, 2023");
    }

    #[test]
    fn money_reads_in_the_readers_units() {
        let texts = Texts::load().unwrap();
        assert_eq!(money(&texts, Language::Zh, 337_095_800), "3.37 亿元");
        assert_eq!(money(&texts, Language::Zh, 17_430_000), "1,743 万元");
        assert_eq!(money(&texts, Language::Zh, 9_000), "9,000 元");
        assert_eq!(money(&texts, Language::En, 337_095_800), "¥337.1 million");
        assert_eq!(money(&texts, Language::En, 1_715_000_000), "¥1.72 billion");
    }

    #[test]
    fn a_digest_carries_the_latest_figures_in_one_line() {
        let texts = Texts::load().unwrap();
        let figures = crate::content::figures::demo().unwrap();
        let zh = crate::html::to_plain(digest_line(&texts, Language::Zh, &figures).unwrap().as_str());
        assert_eq!(
            zh,
            "反诈数据（2023年1月至10月）：立案 3,774 起（同比下降 4.79%），破案 1,583 起（同比上升 166.05%），\
             群众损失 3.37 亿元（同比下降 6.84%）。详见 /stats"
        );
        let en = crate::html::to_plain(digest_line(&texts, Language::En, &figures).unwrap().as_str());
        assert_eq!(
            en,
            "Anti-fraud figures, January to October 2023: cases filed 3,774 (down 4.79%), solved 1,583 \
             (up 166.05%), money lost ¥337.1 million (down 6.84%). More: /stats"
        );
        assert!(!zh.contains('\n') && !en.contains('\n'), "one line");
        assert_eq!(digest_line(&texts, Language::En, &[]), None);
        // A later period is the latest, whatever else it lacks.
        let mut later = figures.clone();
        let nov = period((2023, 11, 1), (2023, 11, 30));
        later.push(Figure {
            period: nov,
            metric: Metric::Losses,
            value: 9_000,
            published_change: None,
            source: "t".into(),
        });
        let line = crate::html::to_plain(digest_line(&texts, Language::En, &later).unwrap().as_str());
        assert_eq!(line, "Anti-fraud figures, November 2023: money lost ¥9,000. More: /stats");
    }
}
