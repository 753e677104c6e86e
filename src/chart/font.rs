//! The charts' font, compiled into the binary: `assets/fonts/PinganChartSans-Regular.otf`,
//! a subset of Noto Sans CJK SC Regular (SIL Open Font License 1.1, `assets/fonts/OFL.txt`)
//! holding exactly the characters the charts draw: every `[charts]` text of both locales,
//! printable ASCII, `–` and `¥` (`assets/fonts/chart-characters.txt`). About 20 KB.
//! `python3 tools/subset-chart-font.py` regenerates it from the locales; the tests below
//! check that every character the charts can draw is in it.

/// The font file's bytes (OpenType, CFF outlines).
pub const FONT: &[u8] = include_bytes!("../../assets/fonts/PinganChartSans-Regular.otf");

#[cfg(test)]
mod tests {
    use ab_glyph::{Font, FontRef};

    use super::*;
    use crate::domain::{Language, Period};
    use crate::i18n::Texts;

    /// Every character of every text the charts draw: the `[charts]` texts and what the
    /// code puts in numbers and period labels.
    fn drawn_characters(texts: &Texts) -> String {
        let mut all = String::from("0123456789,.-–¥ ");
        for lang in [Language::Zh, Language::En] {
            for (_, text) in texts.entries(lang).filter(|(key, _)| key.starts_with("charts.")) {
                all.push_str(text);
            }
            // Period labels of every month, and English month abbreviations.
            for month in 1..=12 {
                let day = |m, d| chrono::NaiveDate::from_ymd_opt(2023, m, d).unwrap();
                let end =
                    day(month, 1).checked_add_months(chrono::Months::new(1)).unwrap().pred_opt().unwrap();
                for p in [
                    Period::new(day(1, 1), end),
                    Period::new(day(month, 1), end),
                    Period::new(day(month, 2), end),
                ] {
                    all.push_str(&crate::render::figures::period_label(texts, lang, p.unwrap()));
                }
            }
        }
        all
    }

    #[test]
    fn the_font_holds_every_character_the_charts_draw() {
        let font = FontRef::try_from_slice(FONT).expect("the chart font reads");
        let texts = Texts::load().unwrap();
        let drawn = drawn_characters(&texts);
        let missing: String = drawn.chars().filter(|c| !c.is_control() && font.glyph_id(*c).0 == 0).collect();
        assert_eq!(missing, "", "run python3 tools/subset-chart-font.py");
        assert!(drawn.contains('亿') && drawn.contains("Jan–Oct 2023") && drawn.contains("2023年1–10月"));
        // The list the subset was made from is the one the locales give today.
        let listed = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/fonts/chart-characters.txt"
        ))
        .unwrap();
        let missing_from_list: String =
            drawn.chars().filter(|c| !c.is_control() && !listed.contains(*c)).collect();
        assert_eq!(missing_from_list, "", "run python3 tools/subset-chart-font.py");
        // A subset, not the whole font: a few hundred glyphs at most.
        assert!(font.glyph_count() < 400, "{} glyphs", font.glyph_count());
        assert!(FONT.len() < 64 * 1024, "{} bytes", FONT.len());
    }
}
