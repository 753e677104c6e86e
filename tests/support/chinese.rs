//! Telling Chinese writing from English text, for the tests that English replies hold none
//! (issue 13, part 7).

/// Whether `c` is Chinese writing: Unicode Script=Han (UAX #24, via `unicode-script`), or
/// CJK punctuation (the CJK Symbols and Punctuation block U+3000–U+303F, which holds `。`
/// `、` `「」`, and the full-width forms U+FF00–U+FF60, which hold `，：；！？（）`). The curly
/// quotes `“”` are left out: they are English typography too (U+201C/D, General
/// Punctuation), and the English texts use them as such.
pub fn is_chinese_writing(c: char) -> bool {
    use unicode_script::{Script, UnicodeScript};
    c.script() == Script::Han || matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFF60)
}

/// Whether `text` holds Chinese writing once every `allowed` string is taken out.
pub fn holds_chinese_outside(text: &str, allowed: &[&str]) -> bool {
    let mut rest = text.to_owned();
    for name in allowed {
        rest = rest.replace(name, "");
    }
    rest.chars().any(is_chinese_writing)
}
