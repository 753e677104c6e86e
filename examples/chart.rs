//! Draws the `/stats` charts from a figures file into PNG files, in both languages:
//!
//! ```sh
//! cargo run --example chart                       # docs/chart-example-figures.toml -> docs/
//! cargo run --example chart -- FIGURES.toml DIR   # any figures file (the `stats import` format)
//! ```
//!
//! Writes `DIR/chart-cases-zh.png`, `chart-cases-en.png`, `chart-money-zh.png` and
//! `chart-money-en.png` (the pictures in the README), by the same code `/stats` uses.

use std::path::PathBuf;

use anyhow::Context;
use pingan::chart::figures::{ChartKind, charts};
use pingan::domain::Language;
use pingan::i18n::Texts;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let input =
        args.next().map(PathBuf::from).unwrap_or_else(|| root.join("docs/chart-example-figures.toml"));
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| root.join("docs"));
    let text = std::fs::read_to_string(&input).with_context(|| format!("reading {}", input.display()))?;
    let figures =
        pingan::content::figures::parse(&text).with_context(|| format!("reading {}", input.display()))?;
    let texts = Texts::load()?;
    for (lang, code) in [(Language::Zh, "zh"), (Language::En, "en")] {
        for drawn in charts(&texts, lang, &figures) {
            let kind = match drawn.kind {
                ChartKind::Cases => "cases",
                ChartKind::Money => "money",
            };
            let path = dir.join(format!("chart-{kind}-{code}.png"));
            std::fs::write(&path, drawn.chart.render_png()?)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("{}", path.display());
        }
    }
    Ok(())
}
