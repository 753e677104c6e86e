//! Every text Pingan can send is HTML that Telegram accepts.

use pingan::domain::Language;
use pingan::html::Html;
use pingan::i18n::{Arg, Texts, placeholders};

use crate::support::fake_telegram::html;

#[test]
fn every_template_is_valid_telegram_html_with_hostile_values() {
    let texts = Texts::load().unwrap();
    let hostile = "<b>x</b> & <script>";
    for lang in Language::ALL {
        for (key, template) in texts.entries(lang) {
            let names = placeholders(template);
            let args: Vec<(&str, Arg<'_>)> = names.iter().map(|n| (*n, Arg::Text(hostile))).collect();
            let filled: Html = texts.fill(lang, key, &args);
            let shown = html::parse(filled.as_str()).unwrap_or_else(|e| panic!("{lang} {key}: {e}"));
            if !names.is_empty() {
                assert!(shown.contains(hostile), "{lang} {key} shows the value literally");
            }
        }
    }
}

#[test]
fn command_descriptions_fit_telegrams_menu() {
    let texts = Texts::load().unwrap();
    for lang in Language::ALL {
        for spec in pingan::bot::command::COMMANDS {
            let description = texts.template(lang, &format!("commands.{}", spec.name));
            assert!((1..=256).contains(&description.chars().count()), "{lang} {}", spec.name);
            assert!(!description.contains('<'), "menu descriptions are plain text");
        }
    }
}

/// Every `"section.key"` literal in the source names a text that exists, so a renamed
/// key cannot leave an empty message behind.
#[test]
fn every_text_the_code_names_exists() {
    let texts = Texts::load().unwrap();
    let keys: std::collections::BTreeSet<&str> = texts.entries(Language::Zh).map(|(k, _)| k).collect();
    let sections: std::collections::BTreeSet<&str> =
        keys.iter().filter_map(|k| k.split_once('.')).map(|(s, _)| s).collect();
    let mut files = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    let mut missing = Vec::new();
    let mut named = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for literal in source.split('"').skip(1).step_by(2) {
            let Some((section, rest)) = literal.split_once('.') else { continue };
            let is_key = sections.contains(section)
                && !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if is_key {
                named += 1;
                if !keys.contains(literal) {
                    missing.push(format!("{}: {literal}", path.display()));
                }
            }
        }
    }
    assert!(named > 100, "the scan finds the code's texts ({named})");
    assert!(missing.is_empty(), "{missing:#?}");
}
