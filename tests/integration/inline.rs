//! Sharing into family chats (issue 16, part 2) over the fake Bot API: an inline query
//! (`@bot 刷单`) is answered with tips and notices as ready-made articles, in the asker's
//! language, in pages; a chosen article becomes a message Telegram accepts; Share buttons
//! under tips and notice cards open the chat picker with a query that brings the same item
//! first; and inline queries count against the command budget.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use pingan::clock::ManualClock;
use pingan::domain::{
    Actor, Body, Category, Language, NewNotice, NoticeContent, Publication, Severity, Title,
};
use serde_json::Value;

use crate::support::chinese::holds_chinese_outside;
use crate::support::fake_telegram::{InlineAnswer, SentMessage, TgUser};
use crate::support::on_both_backends;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const ZH_TIP_TITLE: &str = "“动动手指就赚钱”的刷单兼职，都是诈骗";
const EN_TIP_TITLE: &str = "“Earn money with a few taps”: order brushing is always a scam";

async fn spawn(db: TestDb, env: &[(&str, &str)]) -> (TestApp, Arc<ManualClock>) {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(db, clock.clone(), env).await;
    app.fake.enable_inline_mode();
    (app, clock)
}

async fn add_notice(app: &TestApp, clock: &ManualClock, title: &str, language: Language) -> i64 {
    let content = NoticeContent {
        title: Title::parse(title).unwrap(),
        body: Body::parse("请提高警惕，谨防刷单返利诈骗。").unwrap(),
        category: Category::Fraud,
        severity: Severity::Minor,
        area: None,
        language,
        source: None,
        districts: Default::default(),
    };
    let now = pingan::clock::Clock::now(clock);
    let notice = NewNotice::new(content, Publication::Now, None, Actor::System, now).unwrap();
    let id = app.store.insert_notice(&notice).await.unwrap().id.0;
    // Newest first is by publication time: one notice a minute.
    clock.advance(Duration::minutes(1));
    id
}

async fn ask_inline(app: &TestApp, user: &TgUser, query: &str, offset: &str) -> InlineAnswer {
    let id = app.fake.inline_query(user, query, offset, "group");
    app.fake.wait_for_inline_answer(&id).await
}

async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

/// The `(label, switch_inline_query)` of every Share-like button of a message.
fn inline_switches(message: &SentMessage) -> Vec<(String, String)> {
    let rows = message.reply_markup.as_ref().and_then(|m| m["inline_keyboard"].as_array()).cloned();
    rows.unwrap_or_default()
        .iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| {
            let query = b["switch_inline_query"].as_str()?;
            Some((b["text"].as_str().unwrap_or_default().to_owned(), query.to_owned()))
        })
        .collect()
}

fn url_buttons(result: &Value) -> Vec<(String, String)> {
    result["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["text"].as_str().unwrap_or_default().to_owned(),
                b["url"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The Must show line: an inline query for 刷单 returns tips in the user's language, and
/// choosing one sends a message that Telegram (the fake) accepts.
async fn an_inline_query_for_order_brushing_offers_tips_in_the_askers_language(db: TestDb) {
    let (app, _clock) = spawn(db, &[]).await;
    let bot = app.fake.bot_username();
    let grandson = TgUser::new(5101, "小王", Some("zh-hans"));
    let answer = ask_inline(&app, &grandson, "刷单", "").await;
    let (first_id, first_title) = answer.titles().remove(0);
    assert_eq!(first_title, ZH_TIP_TITLE, "{:?}", answer.titles());
    assert!(first_id.starts_with("tip-"), "{first_id}");
    assert!(answer.results.len() <= 20);
    assert!(answer.ids().iter().all(|id| id.starts_with("tip-")), "no notices yet: {:?}", answer.ids());
    assert_eq!(answer.cache_time, Some(300), "tips alone are cached five minutes");
    assert_eq!(answer.is_personal, Some(true), "answers are in the asker's language");
    assert_eq!(answer.next_offset, "");
    let first = answer.result(&first_id);
    assert_eq!(first["type"], "article");
    assert_eq!(first["description"], "防骗提示 · 刷单返利");
    assert_eq!(first["input_message_content"]["parse_mode"], "HTML");
    assert_eq!(
        url_buttons(first),
        [("打开平安机器人".to_owned(), format!("https://t.me/{bot}?start=tip_order_brushing"))]
    );

    // The grandson sends it into the family group.
    let family = -1_009_000_000_777;
    let sent =
        app.fake.choose_inline_result(&grandson, &answer, &first_id, family).expect("Telegram accepts it");
    assert_eq!(sent.json["via_bot"]["username"], bot.as_str());
    assert_eq!(sent.json["from"]["id"], grandson.id);
    assert_eq!(sent.message.chat_id, family);
    let text = &sent.message.text;
    assert!(text.starts_with("💡 防骗提示 · 刷单返利\n"), "{text}");
    assert!(text.contains(ZH_TIP_TITLE), "{text}");
    assert!(text.contains("96110"), "the footer with the hotline: {text}");

    // An English reader asking the same gets the English tip first.
    let reader = TgUser::new(5102, "Ann", Some("en"));
    for query in ["刷单", "order brushing"] {
        let answer = ask_inline(&app, &reader, query, "").await;
        assert_eq!(answer.titles()[0].1, EN_TIP_TITLE, "{query}: {:?}", answer.titles());
        let first = &answer.results[0];
        assert_eq!(first["description"], "Anti-fraud tip · Order brushing");
        assert_eq!(url_buttons(first)[0].0, "Open the bot");
        let id = answer.ids().remove(0);
        let sent = app.fake.choose_inline_result(&reader, &answer, &id, -4242).expect("accepted");
        assert!(
            sent.message.text.starts_with("💡 Anti-fraud tip · Order brushing\n"),
            "{}",
            sent.message.text
        );
    }
    let calls = app.fake.calls_of("answerInlineQuery");
    assert!(calls.iter().all(|c| c.status == 200), "every answer taken");
    assert!(app.fake.calls().iter().all(|c| c.method != "sendMessage"), "an inline query sends no message");
    app.stop().await.unwrap();
}

/// An empty query offers the tip of the day, then the newest notices, twenty to a page.
async fn an_empty_query_offers_the_tip_of_the_day_then_the_newest_notices_in_pages(db: TestDb) {
    let (app, clock) = spawn(db, &[]).await;
    let mut notices = Vec::new();
    for n in 1..=25 {
        notices.push(add_notice(&app, &clock, &format!("第{n}号通告"), Language::Zh).await);
    }
    let user = TgUser::new(5201, "老张", Some("zh-hans"));
    let today = ask(&app, &user, "/tip").await;

    let first = ask_inline(&app, &user, "", "").await;
    assert_eq!(first.results.len(), 20);
    assert_eq!(first.next_offset, "20");
    assert_eq!(first.cache_time, Some(60), "notices: one minute, so a withdrawn one goes soon");
    let tip = &first.results[0];
    let tip_title = tip["title"].as_str().unwrap();
    assert!(
        today.text.contains(tip_title),
        "the tip of the day, as /tip gives it: {tip_title} / {}",
        today.text
    );
    let newest: Vec<String> = notices.iter().rev().map(|id| format!("notice-{id}")).collect();
    assert_eq!(first.ids()[1..], newest[..19], "then the newest notices");
    assert_eq!(first.results[1]["title"], "🔵 第25号通告");

    let second = ask_inline(&app, &user, "", &first.next_offset).await;
    assert_eq!(second.ids(), newest[19..], "the rest, none twice");
    assert_eq!(second.next_offset, "", "no page after the last");
    for id in second.ids() {
        app.fake.choose_inline_result(&user, &second, &id, -4343).expect("every notice article is accepted");
    }
    app.stop().await.unwrap();
}

on_both_backends!(
    an_inline_query_for_order_brushing_offers_tips_in_the_askers_language,
    an_empty_query_offers_the_tip_of_the_day_then_the_newest_notices_in_pages,
);

#[tokio::test]
async fn share_buttons_open_the_chat_picker_with_a_query_that_brings_the_same_item_first() {
    let (app, clock) = spawn(TestDb::sqlite(), &[]).await;
    let bot = app.fake.bot_username();
    let user = TgUser::new(5301, "小李", Some("zh-hans"));
    add_notice(&app, &clock, "先发的通告", Language::Zh).await;
    let id = add_notice(&app, &clock, "国庆假期防诈提醒", Language::Zh).await;
    add_notice(&app, &clock, "后发的通告", Language::Zh).await;

    // A notice card: Share types n<id>; its answer is that notice, the same card.
    let card = ask(&app, &user, &format!("/notice {id}")).await;
    assert_eq!(inline_switches(&card), [("📤 分享".to_owned(), format!("n{id}"))]);
    let answer = ask_inline(&app, &user, &format!("n{id}"), "").await;
    assert_eq!(answer.ids(), [format!("notice-{id}")]);
    assert_eq!(answer.results[0]["input_message_content"]["message_text"], card.raw.as_str());
    assert_eq!(url_buttons(&answer.results[0])[0].1, format!("https://t.me/{bot}?start=n{id}"));
    let sent = app.fake.choose_inline_result(&user, &answer, &format!("notice-{id}"), -4444).unwrap();
    assert_eq!(sent.message.text, card.text, "the family sees the card the bot shows");
    // Unknown and withdrawn notices offer nothing.
    assert!(ask_inline(&app, &user, "n9999", "").await.results.is_empty());

    // The tip of the day: Share types tip:<id>, whose answer starts with that tip.
    let today = ask(&app, &user, "/tip").await;
    let switches = inline_switches(&today);
    assert_eq!(switches.len(), 1, "{switches:?}");
    assert_eq!(switches[0].0, "📤 分享");
    let query = &switches[0].1;
    let tip_id = query.strip_prefix("tip:").expect("tip:<id>");
    let answer = ask_inline(&app, &user, query, "").await;
    assert_eq!(answer.ids()[0], format!("tip-{tip_id}"));
    assert!(today.text.contains(answer.titles()[0].1.as_str()));

    // A scam type's tips (/tips, or its deep link): Share types the type's name.
    let kind = ask(&app, &user, "/start tip_order_brushing").await;
    assert_eq!(inline_switches(&kind), [("📤 分享".to_owned(), "刷单返利".to_owned())]);
    let answer = ask_inline(&app, &user, "刷单返利", "").await;
    assert_eq!(answer.titles()[0].1, ZH_TIP_TITLE);

    // English: the same buttons, labelled in English.
    let reader = TgUser::new(5302, "Ann", Some("en"));
    let card = ask(&app, &reader, &format!("/notice {id}")).await;
    assert_eq!(inline_switches(&card), [("📤 Share".to_owned(), format!("n{id}"))]);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn inline_queries_count_against_the_command_budget() {
    let (app, _clock) = spawn(TestDb::sqlite(), &[("PINGAN_BOT_COMMANDS_PER_MINUTE", "3")]).await;
    let user = TgUser::new(5401, "小赵", Some("zh-hans"));
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(ask_inline(&app, &user, "刷单", "").await);
    }
    for answer in &answers[..3] {
        assert_eq!(answer.titles()[0].1, ZH_TIP_TITLE);
    }
    let over = &answers[3];
    assert!(over.results.is_empty(), "over the budget: nothing offered");
    assert_eq!(over.cache_time, Some(0), "and nothing cached");
    // Another person's budget is their own.
    let other = TgUser::new(5402, "小钱", Some("zh-hans"));
    assert!(!ask_inline(&app, &other, "刷单", "").await.results.is_empty());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn english_inline_answers_hold_no_chinese_but_the_content_itself() {
    let (app, clock) = spawn(TestDb::sqlite(), &[]).await;
    let zh_title = "刷单返利诈骗高发提醒";
    let id = add_notice(&app, &clock, zh_title, Language::Zh).await;
    let reader = TgUser::new(5501, "Ann", Some("en"));
    let mut checked = 0;
    for query in ["", "order brushing", "刷单", "fraud", &format!("n{id}"), "loan"] {
        let answer = ask_inline(&app, &reader, query, "").await;
        assert!(!answer.results.is_empty(), "{query:?} offers something");
        let (_, typed) = app.fake.sent_and_typed();
        let mut allowed: Vec<&str> = vec![zh_title, "请提高警惕，谨防刷单返利诈骗。"];
        allowed.extend(typed.iter().map(String::as_str));
        for shown in answer.shown() {
            assert!(!holds_chinese_outside(&shown, &allowed), "{query:?}: {shown}");
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked} strings checked");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_fake_refuses_inline_answers_telegram_would_refuse() {
    use crate::support::fake_telegram::FakeTelegram;
    use serde_json::json;
    let fake = FakeTelegram::start().await;
    fake.enable_inline_mode();
    let user = TgUser::new(5601, "U", Some("en"));
    let client = reqwest::Client::new();
    let url = format!("{}/bot{}/answerInlineQuery", fake.api_url(), FakeTelegram::TOKEN);
    let article = |id: &str, text: &str| json!({ "type": "article", "id": id, "title": "T", "input_message_content": { "message_text": text, "parse_mode": "HTML" } });
    let cases = [
        (vec![article(&"x".repeat(65), "ok")], "RESULT_ID_INVALID"),
        (vec![article("a", "ok"), article("a", "ok")], "RESULT_ID_DUPLICATE"),
        (vec![article("a", &"x".repeat(4097))], "MESSAGE_TOO_LONG"),
        (vec![article("a", "<b>unclosed")], "can't parse entities"),
        ((0..51).map(|i| article(&i.to_string(), "ok")).collect(), "RESULTS_TOO_MUCH"),
        (
            vec![json!({ "type": "article", "id": "a", "input_message_content": { "message_text": "ok" } })],
            "RESULT_TITLE_EMPTY",
        ),
    ];
    for (results, expected) in cases {
        let id = fake.inline_query(&user, "q", "", "sender");
        let body = json!({ "inline_query_id": id, "results": results });
        let reply: Value = client.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(reply["ok"], false, "{expected}");
        let description = reply["description"].as_str().unwrap();
        assert!(description.contains(expected), "{expected}: {description}");
    }
    // A good answer is taken once; a second answer to the same query is too late.
    let id = fake.inline_query(&user, "q", "", "sender");
    let body = json!({ "inline_query_id": id, "results": [article("a", "<b>ok</b>")], "next_offset": "" });
    for ok in [true, false] {
        let reply: Value = client.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(reply["ok"], ok, "{reply}");
    }
    assert_eq!(fake.wait_for_inline_answer(&id).await.ids(), ["a"]);
}

#[tokio::test]
async fn an_inline_answer_met_with_a_passing_failure_is_tried_again_while_the_query_is_young() {
    use crate::support::fake_telegram::{Fault, FaultRule};
    let (app, _clock) = spawn(TestDb::sqlite(), &[]).await;
    app.fake.add_fault(FaultRule::on("answerInlineQuery", Fault::ServerError(502)).times(1));
    app.fake.add_fault(FaultRule::on("answerInlineQuery", Fault::RetryAfter(1)).times(1));
    let user = TgUser::new(5701, "小孙", Some("zh-hans"));
    let answer = ask_inline(&app, &user, "刷单", "").await;
    assert_eq!(answer.titles()[0].1, ZH_TIP_TITLE);
    let statuses: Vec<u16> = app.fake.calls_of("answerInlineQuery").iter().map(|c| c.status).collect();
    assert_eq!(statuses, [502, 429, 200]);
    app.stop().await.unwrap();
}
