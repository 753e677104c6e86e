//! Figures files: `pingan stats import FILE` and the demo figures
//! (`locales/demo-figures.toml`) share one format:
//!
//! ```toml
//! [[period]]
//! from = 2023-01-01
//! to = 2023-10-31
//! source = "City Public Security Bureau press conference, 2023-11-29"
//! cases = { value = 3774, change = -4.79 }   # change on a year before, in percent
//! losses = 337095800                          # money in yuan; a bare number is fine
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::{Figure, Metric, Period};

#[derive(Debug, thiserror::Error)]
pub enum FiguresError {
    #[error("{0}")]
    Toml(String),
    #[error("period {index}: {reason}")]
    Period { index: usize, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    period: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    from: toml::value::Datetime,
    to: toml::value::Datetime,
    source: String,
    #[serde(flatten)]
    values: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Value {
    Plain(i64),
    WithChange { value: i64, change: Option<f64> },
}

/// Reads a figures file; any problem names the period and what is wrong, and nothing
/// of the file is returned.
pub fn parse(text: &str) -> Result<Vec<Figure>, FiguresError> {
    let file: File = toml::from_str(text).map_err(|e| FiguresError::Toml(e.to_string()))?;
    let mut figures = Vec::new();
    for (i, entry) in file.period.into_iter().enumerate() {
        let bad = |reason: String| FiguresError::Period { index: i + 1, reason };
        let date = |d: &toml::value::Datetime, what: &str| {
            d.to_string().parse::<chrono::NaiveDate>().map_err(|_| bad(format!("{what} is not a date: {d}")))
        };
        let period = Period::new(date(&entry.from, "from")?, date(&entry.to, "to")?)
            .map_err(|e| bad(e.to_string()))?;
        let source = entry.source.trim().to_owned();
        if source.is_empty() || source.chars().count() > 200 {
            return Err(bad("source is empty or longer than 200 characters".into()));
        }
        if entry.values.is_empty() {
            return Err(bad("it has no figures".into()));
        }
        for (name, value) in entry.values {
            let metric: Metric = name.parse().map_err(|e| bad(format!("{e}")))?;
            let (value, change) = match value {
                Value::Plain(value) => (value, None),
                Value::WithChange { value, change } => (value, change),
            };
            if value < 0 {
                return Err(bad(format!("{metric} is negative")));
            }
            if change.is_some_and(|c| !c.is_finite() || c < -100.0) {
                return Err(bad(format!("{metric}: a change below -100% cannot be")));
            }
            figures.push(Figure { period, metric, value, published_change: change, source: source.clone() });
        }
    }
    Ok(figures)
}

const DEMO: &str = include_str!("../../locales/demo-figures.toml");

/// The demo figures (the first release of the bureau's figures).
pub fn demo() -> Result<Vec<Figure>, super::ContentError> {
    parse(DEMO).map_err(|e| super::ContentError::new("demo-figures.toml", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_figures_read() {
        let figures = demo().unwrap();
        assert_eq!(figures.len(), 7);
        let cases = figures.iter().find(|f| f.metric == Metric::Cases).unwrap();
        assert_eq!((cases.value, cases.published_change), (3774, Some(-4.79)));
    }

    #[test]
    fn bad_files_say_which_period_and_why() {
        let bad = "[[period]]\nfrom = 2023-02-01\nto = 2023-01-31\nsource = \"x\"\ncases = 1\n";
        assert!(parse(bad).unwrap_err().to_string().starts_with("period 1: a period ends"));
        let unknown = "[[period]]\nfrom = 2023-01-01\nto = 2023-01-31\nsource = \"x\"\nvictims = 1\n";
        assert!(parse(unknown).unwrap_err().to_string().contains("unknown figure \"victims\""));
        let negative = "[[period]]\nfrom = 2023-01-01\nto = 2023-01-31\nsource = \"x\"\ncases = -1\n";
        assert!(parse(negative).unwrap_err().to_string().contains("negative"));
        assert!(matches!(parse("nonsense"), Err(FiguresError::Toml(_))));
    }
}
