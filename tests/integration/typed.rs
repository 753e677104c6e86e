//! Issue 13, parts 1 and 8, over the fake Bot API: text a citizen types or pastes is
//! checked like a forwarded message, `/check` reads several values and the words around
//! them, and no input makes a reply Telegram refuses. Each finding with its exact input,
//! in a Chinese and an English chat.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, Role};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const EDITOR: i64 = 901;
const ZH: i64 = 902;
const EN: i64 = 903;
const GROUP: i64 = -100_902;

fn user(id: i64) -> TgUser {
    let language = if id == EN { "en" } else { "zh-hans" };
    TgUser::new(id, "Someone", Some(language))
}

/// An app with 138-0013-8000 listed as fraud, as `anti_fraud.rs` lists numbers.
async fn spawn(extra_env: &[(&str, &str)]) -> TestApp {
    let app = spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), extra_env).await;
    app.store.grant(EDITOR, Role::Editor, &Actor::System, Utc::now()).await.unwrap();
    let added = ask(&app, EDITOR, "/indicator add 138-0013-8000 fraud 冒充客服以退款为名诈骗").await;
    assert!(added.text.starts_with("✅ 已将 +86 138 0013 8000 列为涉诈。"), "{}", added.text);
    app
}

async fn ask(app: &TestApp, from: i64, text: &str) -> SentMessage {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + 1).await.remove(before)
}

const RED_ZH: &str = "🔴 高风险：+86 138 0013 8000";
const RED_EN: &str = "🔴 High risk: +86 138 0013 8000";

#[tokio::test]
async fn a_pasted_number_and_a_question_about_it_get_the_red_card_in_both_languages() {
    let app = spawn(&[]).await;
    for (from, red, advice) in [(ZH, RED_ZH, "96110"), (EN, RED_EN, "Call the anti-fraud line")] {
        for pasted in
            ["13800138000", "这个号码138-0013-8000给我打电话说要退款，是骗子吗？", "📞 tel:+86 138 0013 8000"]
        {
            let answer = ask(&app, from, pasted).await;
            assert!(answer.text.starts_with(red), "{pasted}: {}", answer.text);
            assert!(answer.text.contains("冒充客服以退款为名诈骗"), "{pasted}: {}", answer.text);
            assert!(answer.text.contains(advice), "{pasted}: {}", answer.text);
            assert!(!answer.text.contains("/search"), "not the hint: {}", answer.text);
        }
    }
    let english = ask(&app, EN, "This number 138-0013-8000 called about a refund, is it a scam?").await;
    assert!(english.text.starts_with(RED_EN), "{}", english.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn check_with_two_numbers_checks_each_and_words_after_a_number_are_context() {
    let app = spawn(&[]).await;
    let cases =
        [(ZH, RED_ZH, "⚪ 暂无记录：+86 139 0000 1111"), (EN, RED_EN, "⚪ No record: +86 139 0000 1111")];
    for (from, red, none) in cases {
        for typed in ["/check 13800138000 13900001111", "/check 13800138000, 13900001111"] {
            let answer = ask(&app, from, typed).await;
            assert!(answer.text.starts_with(red), "{typed}: {}", answer.text);
            assert!(answer.text.contains(none), "{typed}: {}", answer.text);
            assert!(!answer.text.contains("1380 0138 0001"), "no 22-digit account: {}", answer.text);
            // One answer: the numbers to call once, after both cards.
            assert_eq!(answer.text.matches("96110").count(), 1, "{}", answer.text);
        }
        for typed in ["/check 138 0013 8000 转账", "/check 微信 13800138000", "/check ☎️138OO138000"]
        {
            let answer = ask(&app, from, typed).await;
            assert!(answer.text.contains(red), "{typed}: {}", answer.text);
        }
    }
    let qq = ask(&app, EN, "/check QQ 12345 is he a scammer?").await;
    assert!(
        qq.text.starts_with("⚪ No record: 1234 5"),
        "an account, not the service number 12345: {}",
        qq.text
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_letter_o_among_digits_gets_did_you_mean_and_the_number_meant() {
    let app = spawn(&[]).await;
    let asked = [
        (EN, "/check 138OO138000", "Did you mean 13800138000?", RED_EN),
        (EN, "138OO138000", "Did you mean 13800138000?", RED_EN),
        (ZH, "/check 138OO138000", "您是不是想查 13800138000？", RED_ZH),
        (ZH, "他让我打138oo138000退款", "您是不是想查 13800138000？", RED_ZH),
    ];
    for (from, typed, question, red) in asked {
        let answer = ask(&app, from, typed).await;
        assert!(answer.text.contains(question), "{typed}: {}", answer.text);
        let (asked_first, card) = answer.text.split_once(red).unwrap_or_else(|| panic!("{}", answer.text));
        assert!(asked_first.contains(question) && card.contains("冒充客服"), "{}", answer.text);
    }
    // Named an account, it is one as written.
    let account = ask(&app, EN, "/check account 138OO138000").await;
    assert!(account.text.starts_with("⚪ No record: 138oo138000"), "{}", account.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn text_without_a_value_gets_a_hint_naming_check_search_and_report() {
    let app = spawn(&[]).await;
    for (from, text) in [(ZH, "你好，请问怎么防骗？"), (EN, "hello, how do I stay safe?")] {
        let hint = ask(&app, from, text).await;
        for command in ["/check", "/search", "/report"] {
            assert!(hint.text.contains(command), "{text}: {}", hint.text);
        }
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn in_a_group_typed_numbers_are_not_answered() {
    let app = spawn(&[]).await;
    let member = user(ZH);
    app.fake.group_member_sends(GROUP, &member, "13800138000", None);
    app.fake.group_member_sends(GROUP, &member, "这个号码138-0013-8000给我打电话说要退款，是骗子吗？", None);
    // Messages of one chat are answered in order: the help is the first answer, so the
    // texts before it were not answered.
    app.fake.group_member_sends(GROUP, &member, "/help", None);
    let answers = app.fake.wait_for_sent(GROUP, 1).await;
    assert!(answers[0].text.contains("/check"), "{}", answers[0].text);
    assert!(!answers[0].text.contains("🔴"), "{}", answers[0].text);
    app.stop().await.unwrap();
}

/// `bot.costly_commands_per_minute` counts /check; a typed number checked counts the same,
/// and a text without one does not.
#[tokio::test]
async fn a_typed_number_costs_what_check_costs() {
    let app = spawn(&[("PINGAN_BOT_COSTLY_COMMANDS_PER_MINUTE", "2")]).await;
    assert!(ask(&app, EN, "hello").await.text.contains("/check"));
    assert!(ask(&app, EN, "/check 13800138000").await.text.starts_with(RED_EN));
    assert!(ask(&app, EN, "13800138000").await.text.starts_with(RED_EN));
    let third = ask(&app, EN, "13900001111").await;
    assert!(third.text.contains("You are sending faster than I can answer"), "{}", third.text);
    app.stop().await.unwrap();
}

/// A report's story is not checked, so numbers in it cost nothing of the costly budget
/// beyond /report itself: three story messages with numbers all reach the report, and
/// the typed check after them still has its budget.
#[tokio::test]
async fn numbers_in_a_reports_story_are_not_charged_as_checks() {
    let app = spawn(&[("PINGAN_BOT_COSTLY_COMMANDS_PER_MINUTE", "2")]).await;
    assert!(ask(&app, ZH, "/report").await.text.contains("举报诈骗"));
    for story in
        ["对方用 13900001111 打来电话", "又换了 13900002222 发短信", "让我转账到 6222 0000 1111 2222"]
    {
        let answer = ask(&app, ZH, story).await;
        assert!(!answer.text.contains("发送得太快"), "{story}: {}", answer.text);
    }
    let draft = app.store.dialogue(pingan::domain::ChatId(ZH), ZH).await.unwrap().unwrap();
    for number in ["13900001111", "13900002222", "6222 0000 1111 2222"] {
        assert!(draft.contains(number), "{number} in the story: {draft}");
    }
    assert!(ask(&app, ZH, "/cancel").await.text.contains("取消"));
    assert!(ask(&app, ZH, "13800138000").await.text.starts_with(RED_ZH));
    let over = ask(&app, ZH, "13800138000").await;
    assert!(over.text.contains("发送得太快"), "{}", over.text);
    app.stop().await.unwrap();
}

/// A 4 000-character argument was echoed back into a reply over 4 096 characters, which
/// Telegram refuses ("message is too long"; the fake refuses it the same way): every
/// command that echoes what was typed answers within the limit, in both languages.
#[tokio::test]
async fn four_thousand_typed_characters_never_make_a_reply_telegram_refuses() {
    let app = spawn(&[]).await;
    let long = "x".repeat(4000);
    let digits = "1".repeat(4000);
    let echoing = [
        format!("/settings tz {long}"),
        format!("/settings tz Asia/{long}"),
        format!("/settings time {long}"),
        format!("/settings digest {long}"),
        format!("/settings lang {long}"),
        format!("/settings category {long}"),
        format!("/settings {long}"),
        format!("/lang {long}"),
        format!("/search {long}"),
        format!("/search {}", "诈骗 ".repeat(1000)),
        format!("/check {long}"),
        format!("/check {digits}"),
        format!("/check http://{long}.com"),
        format!("/notice {long}"),
        format!("/{long}"),
        "13800138000 ".repeat(300),
        (0..300).map(|i| format!("1390000{i:04} ")).collect(),
    ];
    for from in [ZH, EN] {
        for typed in &echoing {
            let answer = ask(&app, from, typed).await;
            let units = answer.text.encode_utf16().count();
            let start: String = typed.chars().take(20).collect();
            assert!(units <= 4096, "{start}…: {units} units");
            assert!(!answer.text.contains(&"x".repeat(100)), "{start}…: echoed whole");
        }
    }
    let refused: Vec<_> = app.fake.calls_of("sendMessage").into_iter().filter(|c| c.status != 200).collect();
    assert!(refused.is_empty(), "Telegram refused {} replies", refused.len());
    app.stop().await.unwrap();
}
