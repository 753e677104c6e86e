//! Every text Pingan can send is HTML that Telegram accepts.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use pingan::clock::{ManualClock, SystemClock};
use pingan::domain::{
    Actor, Category, ChatId, DigestTime, Frequency, Language, NewReport, Publication, ReportDecision,
    ReportStory, Severity, Subscriber,
};
use pingan::html::Html;
use pingan::i18n::{Arg, Texts, placeholders};

use crate::delivery::{content, publish, settled, spawn_on};
use crate::support::chinese::{
    holds_chinese_outside, is_chinese_writing, is_english_reply, unexplained_chinese,
};
use crate::support::fake_telegram::{SentMessage, TgUser, html};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

#[test]
fn every_template_is_valid_telegram_html_with_hostile_values() {
    let texts = Texts::load().unwrap();
    let hostile = "<b>x</b> & <script>";
    for lang in Language::ALL {
        for (key, template) in texts.entries(lang) {
            let names = placeholders(template);
            // A plural entry's number picks its form: 0, 1, 2 and 21 reach every English
            // and Chinese form; the other placeholders get the hostile text.
            let selector = texts.plural(lang, key).map(|p| p.selector().to_owned());
            let numbers: &[i64] = if selector.is_some() { &[0, 1, 2, 21] } else { &[0] };
            for n in numbers {
                let args: Vec<(&str, Arg<'_>)> = names
                    .iter()
                    .map(|name| match selector.as_deref() == Some(*name) {
                        true => (*name, Arg::Number(*n)),
                        false => (*name, Arg::Text(hostile)),
                    })
                    .collect();
                let filled: Html = texts.fill(lang, key, &args);
                let shown = html::parse(filled.as_str()).unwrap_or_else(|e| panic!("{lang} {key}: {e}"));
                if args.iter().any(|(_, arg)| matches!(arg, Arg::Text(_))) {
                    assert!(shown.contains(hostile), "{lang} {key} shows the value literally");
                }
            }
        }
    }
}

/// Issue 13, part 7: English says "2 new notices" and "1 time", never "notice(s)".
#[test]
fn no_english_text_writes_a_plural_as_s_in_brackets() {
    let mut found = Vec::new();
    let mut scanned = 0;
    for file in english_locale_files() {
        let value: toml::Value = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut all = Vec::new();
        strings(String::new(), &value, &mut all);
        for (key, text) in all {
            scanned += 1;
            if ["(s)", "(es)", "(ies)", "(S)"].iter().any(|mark| text.contains(mark)) {
                found.push(format!("{}: {key} = {text:?}", file.display()));
            }
        }
    }
    assert!(scanned > 300, "the scan reads the texts ({scanned})");
    assert!(found.is_empty(), "{found:#?}");
    // What the bot actually says, in each form of each English entry.
    let texts = Texts::load().unwrap();
    let said: Vec<&str> =
        texts.entries(Language::En).map(|(_, text)| text).filter(|t| t.contains("(s)")).collect();
    assert!(said.is_empty(), "{said:?}");
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

/// The English locale files: `en.toml` and `*.en.toml`.
fn english_locale_files() -> Vec<std::path::PathBuf> {
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
    files
}

/// English locale files (`en.toml`, `*.en.toml`) hold no Chinese writing but the allowed
/// names (issue 13, part 7: replies wholly in the reader's language).
#[test]
fn english_locale_strings_hold_no_chinese_but_the_allowed_names() {
    let mut found = Vec::new();
    let mut scanned = 0;
    for file in &english_locale_files() {
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

fn english_user(id: i64) -> TgUser {
    TgUser::new(id, "Sam", Some("en"))
}

/// Sends `text` and waits for the bot's next message in that chat.
async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

/// Issue 13, part 7, end to end: an English daily digest counts its notices as "1 new
/// notice" and "2 new notices", not "notice(s)".
#[tokio::test]
async fn english_digests_say_1_new_notice_and_2_new_notices() {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(); // 08:00 in Shanghai
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_on(clock.clone(), &[]).await;
    let reader = |chat: i64| {
        let mut s = Subscriber::new(ChatId(chat), Language::En, chrono_tz::Asia::Shanghai, start);
        s.digest_time = "08:00".parse::<DigestTime>().unwrap();
        s.frequency = Frequency::Daily;
        s
    };
    app.store.save_subscriber(&reader(61)).await.unwrap();
    let mut fraud_only = reader(62);
    fraud_only.categories = [Category::Fraud].into();
    app.store.save_subscriber(&fraud_only).await.unwrap();
    let noon = start + Duration::hours(4);
    clock.set(noon);
    let fraud = content("Fake refund calls", Severity::Moderate, Category::Fraud, Language::En);
    publish(&app, fraud, Publication::Now, noon).await;
    let roadworks = content("Roadworks on Main Street", Severity::Minor, Category::Traffic, Language::En);
    publish(&app, roadworks, Publication::Now, noon).await;
    settled(&app).await;

    clock.set(start + Duration::days(1));
    let both = app.fake.wait_for_sent(61, 1).await.remove(0);
    let one = app.fake.wait_for_sent(62, 1).await.remove(0);
    let header =
        |m: &SentMessage| m.text.lines().find(|l| l.contains("since your last digest")).map(str::to_owned);
    assert_eq!(header(&both).as_deref(), Some("2 new notices since your last digest:"), "{}", both.text);
    assert_eq!(header(&one).as_deref(), Some("1 new notice since your last digest:"), "{}", one.text);
    assert!(
        both.text.contains("Roadworks on Main Street") && !one.text.contains("Roadworks"),
        "{}",
        one.text
    );
    app.stop().await.unwrap();
}

/// Issue 13, part 7, end to end: /forget in English counts one report as "1 report" and two
/// as "2 reports", on both backends.
async fn english_forget_counts_reports_in_the_singular_and_the_plural(db: TestDb) {
    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    let now = Utc::now();
    let moderator = Actor::Telegram(902);
    for (user, reports) in [(6301_i64, 1), (6302, 2)] {
        for i in 0..reports {
            for decided in [false, true] {
                let story = format!("Someone called pretending to be the bank ({i}, {decided}).");
                let report = NewReport {
                    chat: ChatId(user),
                    user_id: user,
                    language: Language::En,
                    story: ReportStory::parse(&story).unwrap(),
                    forwarded: None,
                    subjects: Vec::new(),
                    created_at: now,
                };
                let filed = app.store.submit_report(&report).await.unwrap();
                if decided {
                    app.store
                        .decide_report(filed.id, &ReportDecision::Reject, &moderator, now)
                        .await
                        .unwrap();
                }
            }
        }
    }
    let mut told = Vec::new();
    for user in [6301, 6302] {
        let sam = english_user(user);
        let question = ask(&app, &sam, "/forget").await;
        let id = app.fake.press_labelled(&sam, &question, "Delete");
        app.fake.wait_for_answer(&id).await;
        told.push(app.fake.message(user, question.message_id).text);
    }
    assert_eq!(
        told,
        [
            "✅ Deleted:\n· 1 report not yet reviewed\n· your name on 1 reviewed report (the bureau keeps what it said)",
            "✅ Deleted:\n· 2 reports not yet reviewed\n· your name on 2 reviewed reports (the bureau keeps what they said)",
        ]
    );
    app.stop().await.unwrap();
}

crate::support::on_both_backends!(english_forget_counts_reports_in_the_singular_and_the_plural);

/// /about says how long messages are kept in the reader's words: "1 day", "30 days".
#[tokio::test]
async fn about_counts_the_days_messages_are_kept() {
    for (days, english, chinese) in
        [("1", "(for 1 day)", "（保存 1 天）"), ("30", "(for 30 days)", "（保存 30 天）")]
    {
        let env = [("PINGAN_RETENTION_DELIVERIES_DAYS", days)];
        let app = spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &env).await;
        let about = ask(&app, &english_user(6401), "/about").await;
        assert!(about.text.contains(english), "{}", about.text);
        let about = ask(&app, &TgUser::new(6402, "小李", Some("zh-hans")), "/about").await;
        assert!(about.text.contains(chinese), "{}", about.text);
        app.stop().await.unwrap();
    }
}
