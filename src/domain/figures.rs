//! The bureau's anti-fraud figures: cases filed, losses, cases solved, suspects
//! arrested, payments stopped, funds frozen and returned, per period, with their
//! change on the same period a year before.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};

use super::keyword_enum::keyword_enum;

keyword_enum! {
    /// One of the figures the bureau publishes.
    pub enum Metric ("figure") {
        /// Telecom and online fraud cases filed.
        Cases = "cases",
        /// Money lost by victims, in yuan.
        Losses = "losses",
        /// Cases solved.
        Solved = "solved",
        /// Suspects arrested.
        Arrested = "arrested",
        /// Payments stopped before they left the victims' banks, in yuan.
        Stopped = "stopped",
        /// Fraud proceeds frozen, in yuan.
        Frozen = "frozen",
        /// Money returned to victims, in yuan.
        Returned = "returned",
    }
}

impl Metric {
    /// Whether the figure is an amount of money (in yuan) rather than a count.
    pub fn is_money(self) -> bool {
        matches!(self, Metric::Losses | Metric::Stopped | Metric::Frozen | Metric::Returned)
    }
}

/// The days a set of figures covers, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a period ends on or after it starts; {to} is before {from}")]
pub struct BadPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, BadPeriod> {
        if to < from {
            return Err(BadPeriod { from, to });
        }
        Ok(Period { from, to })
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// The same days a year earlier, for year-on-year changes; for whole months the
    /// same months (February 2025 is compared with all of February 2024, 29 days).
    pub fn year_before(&self) -> Option<Period> {
        let back = |d: NaiveDate| d.checked_sub_months(Months::new(12));
        let to = if self.is_whole_months() { back(self.to.succ_opt()?)?.pred_opt()? } else { back(self.to)? };
        Some(Period { from: back(self.from)?, to })
    }

    /// Whether it runs from the first of a month to the last of a month.
    pub fn is_whole_months(&self) -> bool {
        let next_day = self.to.succ_opt();
        self.from.day() == 1 && next_day.is_some_and(|d| d.day() == 1)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

/// One figure for one period.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub period: Period,
    pub metric: Metric,
    /// A count, or yuan for money.
    pub value: i64,
    /// The change on a year before as published, in percent, when the year before is
    /// not among the figures.
    pub published_change: Option<f64>,
    /// Where the figure comes from.
    pub source: String,
}

/// The change of `figure` on the same period a year before, in percent: worked out
/// from the figures when they hold that period, else as published.
pub fn year_on_year(figure: &Figure, all: &[Figure]) -> Option<f64> {
    let before = figure.period.year_before().and_then(|period| {
        all.iter().find(|f| f.period == period && f.metric == figure.metric && f.value != 0)
    });
    match before {
        Some(before) => Some((figure.value - before.value) as f64 * 100.0 / before.value as f64),
        None => figure.published_change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn figure(period: Period, value: i64, published: Option<f64>) -> Figure {
        Figure { period, metric: Metric::Cases, value, published_change: published, source: String::new() }
    }

    #[test]
    fn a_year_before_a_month_is_that_whole_month() {
        let feb = |y, last| Period::new(day(y, 2, 1), day(y, 2, last)).unwrap();
        assert_eq!(feb(2025, 28).year_before(), Some(feb(2024, 29)));
        assert_eq!(feb(2024, 29).year_before(), Some(feb(2023, 28)));
        let days = Period::new(day(2025, 2, 3), day(2025, 2, 28)).unwrap();
        assert_eq!(days.year_before(), Period::new(day(2024, 2, 3), day(2024, 2, 28)).ok());
    }

    #[test]
    fn the_change_is_worked_out_when_the_year_before_is_known() {
        let this = Period::new(day(2023, 1, 1), day(2023, 10, 31)).unwrap();
        let last = this.year_before().unwrap();
        assert_eq!(last, Period::new(day(2022, 1, 1), day(2022, 10, 31)).unwrap());
        let now = figure(this, 3774, Some(-4.79));
        assert_eq!(year_on_year(&now, std::slice::from_ref(&now)), Some(-4.79), "as published");
        let all = [figure(last, 4000, None), now.clone()];
        let worked_out = year_on_year(&now, &all).unwrap();
        assert!((worked_out - -5.65).abs() < 0.01, "{worked_out}");
    }

    #[test]
    fn periods_know_their_shape() {
        assert!(Period::new(day(2023, 1, 1), day(2023, 10, 31)).unwrap().is_whole_months());
        assert!(!Period::new(day(2023, 1, 1), day(2023, 11, 22)).unwrap().is_whole_months());
        assert!(Period::new(day(2023, 2, 1), day(2023, 1, 31)).is_err());
        let leap = Period::new(day(2024, 2, 29), day(2024, 2, 29)).unwrap();
        assert_eq!(leap.year_before().unwrap().from(), day(2023, 2, 28));
        assert!(Metric::Losses.is_money() && !Metric::Cases.is_money());
    }
}
