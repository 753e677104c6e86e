//! Every text Pingan can send is HTML that Telegram accepts.

use pingan::domain::Language;
use pingan::html::Html;
use pingan::i18n::{Arg, Texts, placeholders};

use crate::support::chinese::{
    holds_chinese_outside, is_chinese_writing, is_english_reply, unexplained_chinese,
};
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

/// The Chinese that English texts may hold, by key: the bot's own name beside its English
/// name, and the name of the Chinese language on the language switch (written in the
/// language it names, so Chinese readers find it).
const ENGLISH_MAY_SAY: &[(&str, &str)] =
    &[("start.welcome", "平安"), ("about.text", "平安"), ("language.zh", "中文")];

/// Every string under `value`, with its dotted key.
fn strings<'a>(prefix: String, value: &'a toml::Value, out: &mut Vec<(String, &'a str)>) {
    match value {
        toml::Value::String(s) => out.push((prefix, s)),
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                strings(key, v, out);
            }
        }
        toml::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                strings(format!("{prefix}[{i}]"), v, out);
            }
        }
        _ => {}
    }
}

/// English locale files (`en.toml`, `*.en.toml`) hold no Chinese writing but the allowed
/// names (issue 13, part 7: replies wholly in the reader's language).
#[test]
fn english_locale_strings_hold_no_chinese_but_the_allowed_names() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/locales"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n == "en.toml" || n.ends_with(".en.toml"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 2, "en.toml and tips.en.toml are found: {files:?}");
    let mut found = Vec::new();
    let mut scanned = 0;
    for file in &files {
        let value: toml::Value = toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let mut all = Vec::new();
        strings(String::new(), &value, &mut all);
        for (key, text) in all {
            scanned += 1;
            let allowed: Vec<&str> =
                ENGLISH_MAY_SAY.iter().filter(|(k, _)| *k == key).map(|(_, name)| *name).collect();
            if holds_chinese_outside(text, &allowed) {
                found.push(format!("{}: {key} = {text:?}", file.display()));
            }
        }
    }
    assert!(scanned > 300, "the scan reads the texts ({scanned})");
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn chinese_writing_is_told_from_english_typography() {
    assert!("平安".chars().all(is_chinese_writing));
    assert!("，。：；！？（）、".chars().all(is_chinese_writing));
    assert!(!"“Pingan” — it's 9:30 (UTC+8), ok!".chars().any(is_chinese_writing));
}

/// The scan every end-to-end test ends with (`TestApp::stop` and its drop) tells English
/// replies from Chinese ones by the English templates' own words, and finds Chinese in
/// them that nobody wrote.
#[test]
fn the_end_of_test_scan_tells_english_replies_and_finds_chinese_nobody_wrote() {
    let texts = Texts::load().unwrap();
    let english = |key: &str, args: &[(&str, Arg<'_>)]| {
        pingan::html::to_plain(texts.fill(Language::En, key, args).as_str())
    };
    let chinese = |key: &str, args: &[(&str, Arg<'_>)]| {
        pingan::html::to_plain(texts.fill(Language::Zh, key, args).as_str())
    };
    let granted = english("admins.granted", &[("user", Arg::Text("42")), ("role", Arg::Text("版主"))]);
    assert!(is_english_reply(&granted), "{granted}");
    assert_eq!(unexplained_chinese(&granted, "某区公安分局\u{0}刷单"), vec!["版主".to_owned()]);
    let quoted = english("editor.refused", &[]);
    assert!(is_english_reply(&quoted));
    for key in ["admins.granted", "editor.refused", "reply.busy", "reply.not_a_command"] {
        let zh = chinese(key, &[("user", Arg::Text("42")), ("role", Arg::Text("editor"))]);
        assert!(!is_english_reply(&zh), "{key} in Chinese taken for English: {zh}");
    }
    let title_quoted = format!("{granted} 刷单");
    assert_eq!(unexplained_chinese(&title_quoted, "关于刷单返利诈骗的提醒"), vec!["版主".to_owned()]);
}
