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
