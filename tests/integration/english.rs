//! Replies wholly in the reader's language (issue 13, part 7): an English-speaking citizen,
//! editor, moderator and owner drive the main commands on the demo data, and no reply
//! holds Chinese writing but what is allowed.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, Language, Role};
use pingan::store::NoticeQuery;

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const OWNER: i64 = 1900;
const EDITOR: i64 = 1901;
const MODERATOR: i64 = 1902;
const CITIZEN: i64 = 1903;
const REPORTER: i64 = 1904;

/// What an English reply may hold in Chinese: the bot's name beside its English name
/// (`/start`, `/about`) and the language switch's `中文`. Notice and tip content and
/// quoted user text would be allowed too; the test sends none in Chinese.
const ALLOWED: &[&str] = &["平安", "中文"];

fn user(id: i64) -> TgUser {
    TgUser::new(id, "Sam", Some("en"))
}

async fn ask(app: &TestApp, from: i64, text: &str) -> SentMessage {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + 1).await.remove(before)
}

/// Presses the button with callback `data`; the answer's text, if any, joins `answers`.
async fn press_data(app: &TestApp, from: i64, message: &SentMessage, data: &str, answers: &mut Vec<String>) {
    let id = app.fake.press(&user(from), message, data);
    answers.extend(app.fake.wait_for_answer(&id).await);
}

/// Presses the first button of the last message to `from` whose callback data starts with
/// `prefix` (any button if `prefix` is empty).
async fn press_first(app: &TestApp, from: i64, prefix: &str, answers: &mut Vec<String>) {
    let message = app.fake.sent_to(from).pop().expect("a message");
    let data = message
        .buttons()
        .into_iter()
        .flatten()
        .filter_map(|(_, data)| data)
        .find(|d| d.starts_with(prefix))
        .unwrap_or_else(|| panic!("no button {prefix:?} among {:?}", message.buttons()));
    press_data(app, from, &message, &data, answers).await;
}

#[tokio::test]
async fn english_readers_get_no_chinese_but_names_across_the_main_commands() {
    let app = spawn_app_with(
        TestDb::sqlite(),
        Arc::new(SystemClock),
        &[
            ("PINGAN_BOT_OWNERS", &OWNER.to_string()),
            ("PINGAN_DELIVERY_TICK_MS", "50"),
            ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000"),
        ],
    )
    .await;
    let now = Utc::now();
    app.store.grant(EDITOR, Role::Editor, &Actor::System, now).await.unwrap();
    app.store.grant(MODERATOR, Role::Moderator, &Actor::System, now).await.unwrap();
    pingan::content::demo::load_demo_notices(app.store.as_ref(), now).await.unwrap();
    let english = app
        .store
        .list_notices(&NoticeQuery { limit: 50, ..NoticeQuery::default() })
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.content.language == Language::En)
        .expect("an English demo notice");
    let mut answers = Vec::new();

    // A citizen.
    for command in [
        "/start",
        "/help",
        "/latest",
        &format!("/notice {}", english.id),
        "/notice 99999",
        "/search fraud",
        "/search zzzqqq",
        "/tips",
        "/tip",
        "/check 96110",
        "/check https://www.alipay.com",
        "/check 139 1234 5678",
        "/check http://203.0.113.9/pay",
        "/check",
        "/settings",
        "/subscribe",
        "/settings",
        "/about",
        "/reports",
        "/indicator",
    ] {
        ask(&app, CITIZEN, command).await;
    }
    let latest = ask(&app, CITIZEN, "/latest").await;
    if let Some(data) = latest.buttons().into_iter().flatten().find_map(|(_, d)| d) {
        press_data(&app, CITIZEN, &latest, &data, &mut answers).await;
    }
    ask(&app, CITIZEN, "/tips").await;
    press_first(&app, CITIZEN, "", &mut answers).await;
    let settings = ask(&app, CITIZEN, "/settings").await;
    for data in settings.buttons().into_iter().flatten().filter_map(|(_, d)| d) {
        let card = app.fake.sent_to(CITIZEN).pop().unwrap();
        press_data(&app, CITIZEN, &card, &data, &mut answers).await;
    }

    // A citizen reports, a moderator confirms and lists, and the citizen checks.
    ask(&app, REPORTER, "/report").await;
    ask(&app, REPORTER, "Someone posing as a courier told me to share my screen.").await;
    ask(&app, REPORTER, "They called from +86 171 2345 6789.").await;
    press_first(&app, REPORTER, "", &mut answers).await;
    let seen = app.fake.sent_to(MODERATOR).len();
    app.fake.user_sends(&user(MODERATOR), "/reports");
    let card = app.fake.wait_for_sent(MODERATOR, seen + 2).await.remove(seen + 1);
    let told = app.fake.sent_to(REPORTER).len();
    press_data(&app, MODERATOR, &card, &first_data(&card, ":l"), &mut answers).await;
    app.fake.wait_for_sent(REPORTER, told + 1).await;
    let flagged = ask(&app, CITIZEN, "/check 17123456789").await;
    assert!(flagged.text.starts_with("🔴 High risk"), "{}", flagged.text);
    assert!(
        flagged.text.contains("Why: Reported by citizens (R000001) and confirmed by the bureau"),
        "{}",
        flagged.text
    );
    ask(&app, REPORTER, "/forget").await;
    press_first(&app, REPORTER, "", &mut answers).await;

    // An editor lists a value in English, previews a notice; the owner lists roles.
    ask(&app, EDITOR, "/indicator add 13800138000 fraud posing as bank staff").await;
    ask(&app, EDITOR, "/indicator").await;
    ask(
        &app,
        EDITOR,
        "/post\ntitle: Beware fake refunds\ncategory: fraud\nlanguage: en\n\nHang up and call 96110.",
    )
    .await;
    ask(&app, EDITOR, "/post").await;
    ask(&app, EDITOR, "Beware fake refunds").await;
    ask(&app, EDITOR, "Hang up and call 96110.").await;
    for _ in 0..5 {
        press_first(&app, EDITOR, "", &mut answers).await;
    }
    ask(&app, MODERATOR, "/reports").await;
    ask(&app, OWNER, "/admins").await;
    ask(&app, OWNER, "/admins revoke 1901").await;
    ask(&app, OWNER, "/admins revoke 1900").await;

    let mut found = Vec::new();
    for chat in [CITIZEN, REPORTER, EDITOR, MODERATOR, OWNER] {
        found.extend(app.fake.chinese_in_replies(chat, ALLOWED).into_iter().map(|f| format!("{chat} {f}")));
    }
    found.extend(
        answers.iter().filter(|a| crate::support::chinese::holds_chinese_outside(a, ALLOWED)).cloned(),
    );
    let replies: usize =
        [CITIZEN, REPORTER, EDITOR, MODERATOR, OWNER].iter().map(|c| app.fake.sent_to(*c).len()).sum();
    assert!(replies > 40, "the walk gets its replies ({replies})");
    assert!(found.is_empty(), "{found:#?}");
    app.stop().await.unwrap();
}

/// The callback data of the first button of `message` whose data ends with `suffix`.
fn first_data(message: &SentMessage, suffix: &str) -> String {
    message
        .buttons()
        .into_iter()
        .flatten()
        .filter_map(|(_, d)| d)
        .find(|d| d.ends_with(suffix))
        .unwrap_or_else(|| panic!("no button ending {suffix:?} among {:?}", message.buttons()))
}
