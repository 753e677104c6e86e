//! What a person types or a button carries never brings the bot down: absurd numbers and
//! times get a polite answer in the user's language, forged button data the "outdated
//! button" answer, and the bot goes on answering. The command line and the API refuse
//! the same times with the same limits.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use pingan::clock::{ManualClock, SystemClock};
use pingan::domain::{
    Actor, Body, Category, Language, NewNotice, NoticeContent, Publication, Role, Severity, Title,
};
use pingan::store::NoticeQuery;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::binary::{output, pingan, text};
use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with, spawn_app_with_http};
use crate::support::test_db::TestDb;

const EDITOR: i64 = 901;
const CITIZEN: i64 = 903;

const OUTDATED_EN: &str = "This button has expired; please send the command again.";
const OUTDATED_ZH: &str = "这个按钮已失效，请重新发送命令。";

/// 08:00 in Shanghai, the bot's default time zone.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
}

/// An app whose clock stands still at [`start`], with an editor.
async fn spawn() -> TestApp {
    let app = spawn_app_with(TestDb::sqlite(), Arc::new(ManualClock::new(start())), &[]).await;
    app.store.grant(EDITOR, Role::Editor, &Actor::System, start()).await.unwrap();
    app
}

fn english(id: i64) -> TgUser {
    TgUser::new(id, "Someone", Some("en"))
}

fn chinese(id: i64) -> TgUser {
    TgUser::new(id, "某人", Some("zh-hans"))
}

/// `user` sends `text`; returns the bot's next message to them.
async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

/// `user` sends an answer that does not fit a dialogue's step: returns the explanation,
/// after checking that the step's question is asked again (`asked` is in it).
async fn refused(app: &TestApp, user: &TgUser, text: &str, asked: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    let mut answers = app.fake.wait_for_sent(user.id, before + 2).await.split_off(before);
    assert!(answers[1].text.contains(asked), "the step asked again: {}", answers[1].text);
    answers.remove(0)
}

/// `user` presses the button labelled `label`; returns the message that follows.
async fn choose(app: &TestApp, user: &TgUser, message: &SentMessage, label: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    let id = app.fake.press_labelled(user, message, label);
    app.fake.wait_for_answer(&id).await;
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

/// `user` presses a button on `message` carrying `data`; returns the spinner's text.
async fn press(app: &TestApp, user: &TgUser, message: &SentMessage, data: &str) -> Option<String> {
    let id = app.fake.press(user, message, data);
    app.fake.wait_for_answer(&id).await
}

/// An editor's /post dialogue up to the expiry step; returns that question.
async fn up_to_the_expiry_step(app: &TestApp, editor: &TgUser) -> SentMessage {
    ask(app, editor, "/post").await;
    ask(app, editor, "Fake refund calls").await;
    let category = ask(app, editor, "Hang up, then call your bank on its official number.").await;
    let severity = choose(app, editor, &category, "Fraud").await;
    let area = choose(app, editor, &severity, "Moderate").await;
    let expiry = choose(app, editor, &area, "City-wide").await;
    assert!(expiry.text.starts_with("When does it expire?"), "{}", expiry.text);
    assert!(expiry.text.contains("at most ten years ahead"), "the question says the limit: {}", expiry.text);
    expiry
}

async fn the_bot_still_answers(app: &TestApp, user: &TgUser) {
    let help = ask(app, user, "/help").await;
    assert!(help.text.contains("/latest"), "{}", help.text);
}

#[tokio::test]
async fn an_absurd_expiry_at_posts_expiry_step_gets_a_polite_answer_and_the_bot_stays_up() {
    let app = spawn().await;
    let editor = english(EDITOR);
    up_to_the_expiry_step(&app, &editor).await;
    let too_far = "Something does not fit: a notice may expire at most ten years ahead, by Nov 28, 2036 08:00 at the latest.";
    for absurd in ["99999999", "9223372036854775808", "999999999999999999999999999999", "3654", "2999-01-01"]
    {
        assert_eq!(refused(&app, &editor, absurd, "When does it expire?").await.text, too_far, "{absurd}");
    }
    // A year of more than four digits is no time at all.
    let unreadable = refused(&app, &editor, "+99999-01-01", "When does it expire?").await;
    assert!(unreadable.text.contains("is not a time"), "{}", unreadable.text);
    the_bot_still_answers(&app, &editor).await;

    // The draft still waits for its expiry: ten years to the day is accepted.
    let timing = ask(&app, &editor, "3652").await;
    assert!(timing.text.starts_with("When is it published?"), "{}", timing.text);
    assert!(timing.text.contains("within the next year"), "the question says the limit: {}", timing.text);
    assert_eq!(app.store.count_notices(&NoticeQuery::default()).await.unwrap(), 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_publish_time_more_than_a_year_ahead_is_explained_and_asked_again() {
    let app = spawn().await;
    let editor = chinese(EDITOR);
    ask(&app, &editor, "/post").await;
    ask(&app, &editor, "道路封闭").await;
    let category = ask(&app, &editor, "马拉松期间部分道路封闭。").await;
    let severity = choose(&app, &editor, &category, "交通").await;
    let area = choose(&app, &editor, &severity, "一般").await;
    let expiry = choose(&app, &editor, &area, "全市").await;
    let timing = choose(&app, &editor, &expiry, "30 天").await;
    assert!(timing.text.contains("一年以内"), "{}", timing.text);
    assert_eq!(
        refused(&app, &editor, "2028-01-01 08:00", "一年以内").await.text,
        "有一项不符合要求：定时发布最多提前一年，最晚为 2027年11月28日 08:00。"
    );
    // Within the year, but after the expiry chosen before: explained, and asked again.
    assert_eq!(
        refused(&app, &editor, "2027-11-28 08:00", "一年以内").await.text,
        "有一项不符合要求：过期时间 2026年12月28日 08:00 不晚于发布时间 2027年11月28日 08:00。"
    );
    let preview = ask(&app, &editor, "2026-12-20 08:00").await;
    assert!(preview.text.contains("马拉松期间部分道路封闭"), "{}", preview.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_form_line_with_a_time_out_of_reach_is_named_in_the_editors_language() {
    let app = spawn().await;
    let editor = chinese(EDITOR);
    let expires = ask(&app, &editor, "/post\ntitle: x\ncategory: fraud\nexpires: 2999-01-01\n\nbody").await;
    assert_eq!(expires.text, "没能读懂这条通告：第 3 行：通告最长十年后过期，最晚为 2036年11月28日 08:00。");
    let publish = ask(&app, &editor, "/post\ntitle: x\npublish: 2999-01-01 08:00\n\nbody").await;
    assert_eq!(
        publish.text,
        "没能读懂这条通告：第 2 行：定时发布最多提前一年，最晚为 2027年11月28日 08:00。"
    );
    the_bot_still_answers(&app, &editor).await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn forged_callback_data_gets_a_polite_answer() {
    let app = spawn().await;
    let forged = [
        "st:t:1é2",
        "st:t:é12",
        "st:t:+730",
        "st:f:w256",
        "l:99999999999",
        "l:4294967295",
        "l:-1",
        "s:1:4294967295",
        "s:-1:0",
        "s:9223372036854775808:1",
        "po:e:65535",
        "po:e:3651",
        "n:-1",
        "n:0",
        "p:-5",
        "rt:0:1",
        "te:e:-1",
        "md:-1:a",
        "😀",
        "\u{0}",
    ];
    for (user, outdated) in [(english(CITIZEN), OUTDATED_EN), (chinese(EDITOR), OUTDATED_ZH)] {
        let message = ask(&app, &user, "/settings").await;
        for data in forged {
            assert_eq!(press(&app, &user, &message, data).await.as_deref(), Some(outdated), "{data}");
        }
        the_bot_still_answers(&app, &user).await;
    }
    // During a draft too: the editor's expiry question stays, and its real buttons work.
    let editor = english(EDITOR);
    let expiry = up_to_the_expiry_step(&app, &editor).await;
    assert_eq!(press(&app, &editor, &expiry, "po:e:65535").await.as_deref(), Some(OUTDATED_EN));
    let timing = choose(&app, &editor, &expiry, "30 days").await;
    assert!(timing.text.starts_with("When is it published?"), "{}", timing.text);
    app.stop().await.unwrap();
}

async fn add_notices(app: &TestApp, n: usize) {
    for i in 1..=n {
        let content = NoticeContent {
            districts: Default::default(),
            title: Title::parse(&format!("Road closure {i}")).unwrap(),
            body: Body::parse("Closed for the marathon.").unwrap(),
            category: Category::Traffic,
            severity: Severity::Minor,
            area: None,
            language: Language::En,
            source: None,
        };
        let notice = NewNotice::new(content, Publication::Now, None, Actor::System, start()).unwrap();
        app.store.insert_notice(&notice).await.unwrap();
    }
}

#[tokio::test]
async fn a_page_beyond_the_last_shows_the_last_page() {
    let app = spawn().await;
    add_notices(&app, 7).await;
    let citizen = english(CITIZEN);

    let latest = ask(&app, &citizen, "/latest").await;
    assert!(latest.text.starts_with("Latest notices (page 1 of 2)"), "{}", latest.text);
    assert_eq!(press(&app, &citizen, &latest, "l:10000").await, None);
    let shown = app.fake.message(CITIZEN, latest.message_id);
    assert!(shown.text.starts_with("Latest notices (page 2 of 2)"), "{}", shown.text);

    let results = ask(&app, &citizen, "/search closure").await;
    let next =
        results.buttons().into_iter().flatten().find_map(|(_, data)| data.filter(|d| d.starts_with("s:")));
    let next = next.expect("a next-page button");
    let query = next.split(':').nth(1).unwrap();
    assert_eq!(press(&app, &citizen, &results, &format!("s:{query}:10000")).await, None);
    let shown = app.fake.message(CITIZEN, results.message_id);
    assert!(shown.text.contains("7. "), "the last page's results: {}", shown.text);
    assert!(!shown.text.contains("1. "), "{}", shown.text);
    the_bot_still_answers(&app, &citizen).await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_command_line_refuses_times_out_of_reach_and_stores_nothing() {
    let dir = TempDir::new().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--expires-at", "2999-01-01"], "a notice may expire at most ten years ahead"),
        (&["--publish-at", "2999-01-01 08:00"], "a notice may be scheduled at most a year ahead"),
        (&["--publish-at", "1999-01-01 08:00"], "a publication time may be at most ten years back"),
        (&["--expires-at", "+99999-01-01"], "not a time"),
    ];
    for (args, reason) in cases {
        let mut command = pingan(dir.path());
        command.args(["notices", "add", "--title", "t", "--body", "x"]).args(args);
        let out = output(&mut command, None).await;
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out.stderr).contains(reason), "{args:?}: {}", text(&out.stderr));
    }
    let mut list = pingan(dir.path());
    list.args(["notices", "list"]);
    assert_eq!(text(&output(&mut list, None).await.stdout).trim(), "No notices.");
}

#[tokio::test]
async fn the_api_refuses_times_out_of_reach_with_422_and_stores_nothing() {
    let (app, base) = spawn_app_with_http(Arc::new(SystemClock), &[]).await;
    let token = pingan::tokens::new_token().unwrap();
    let hash = pingan::tokens::hash(&token);
    app.store.create_token("cms", &hash, Role::Editor, &Actor::System, Utc::now()).await.unwrap();
    let http = reqwest::Client::new();
    let call = |method: Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}")).bearer_auth(&token).json(&body).send()
    };
    let notice = |extra: Value| {
        let mut body =
            json!({ "title": "t", "body": "x", "category": "fraud", "severity": "Minor", "language": "zh" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        (json!({ "expires_at": "+262142-01-01T00:00:00Z" }), "at most ten years ahead"),
        (json!({ "expires_at": "2999-01-01T00:00:00Z" }), "at most ten years ahead"),
        (json!({ "publish_at": "9999-12-31T23:59:59-14:00" }), "at most a year ahead"),
        (json!({ "publish_at": "-262143-01-01T00:00:00Z" }), "at most ten years back"),
    ];
    for (extra, reason) in cases {
        let response = call(Method::POST, "/api/notices", notice(extra.clone())).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{extra}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid", "{extra}");
        assert!(body["error"]["message"].as_str().unwrap().contains(reason), "{extra}: {body}");
    }
    let created = call(Method::POST, "/api/notices", notice(json!({}))).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let patch = call(
        Method::PATCH,
        &format!("/api/notices/{id}"),
        json!({ "expires_at": "+262142-01-01T00:00:00Z" }),
    );
    let response = patch.await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stored = app.store.notice(pingan::domain::NoticeId(id)).await.unwrap().unwrap();
    assert_eq!(stored.expires_at, None, "the correction was not made");
    assert_eq!(app.store.count_notices(&NoticeQuery::default()).await.unwrap(), 1);
    app.stop().await.unwrap();
}

/// Issue 13, part 8, for the two ways out that are not a new message: an edit whose new
/// content is longer than a message, and a photo whose caption is longer than a caption.
/// Telegram (the fake, with its limits) refuses neither; nothing is cut away.
#[tokio::test]
async fn an_edit_or_a_caption_too_long_for_telegram_goes_on_in_messages() {
    use pingan::html::Html;
    use pingan::telegram::outbound::{OutMessage, Outbound, Target};

    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    let out = replies_to(&fake);
    let chat = 4242;
    let target = Target { chat: pingan::domain::ChatId(chat), thread_id: None };

    let sent =
        out.send_tracked(target, OutMessage::html(Html::escape("菜单"))).await.unwrap().sent().await.unwrap();
    let long = "请注意防范电信网络诈骗。".repeat(500); // 6 000 characters
    out.edit(sent, OutMessage::html(Html::escape(&long))).await.unwrap();
    let caption = format!("{}。{}", "🚨".repeat(600), "图表说明。".repeat(60)); // 1 200 + 300 units
    out.send_photo(target, vec![0x89, b'P', b'N', b'G'], Html::escape(&caption)).await.unwrap();

    let messages = fake
        .wait_for("the edit, its continuation, the photo and its continuation", |s| {
            let ours: Vec<_> = s.sent.iter().filter(|m| m.chat_id == chat).cloned().collect();
            (ours.len() >= 4
                && ours.iter().any(|m| m.photo.is_some())
                && ours.last().unwrap().photo.is_none())
            .then_some(ours)
        })
        .await;
    let refused = fake.calls().iter().filter(|c| c.status != 200).count();
    assert_eq!(refused, 0, "Telegram refused nothing");
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert_eq!(messages[0].edits, 1);
    assert_eq!(squeeze(&format!("{}{}", messages[0].text, messages[1].text)), squeeze(&long));
    let photo = messages.iter().position(|m| m.photo.is_some()).unwrap();
    let after: String = messages[photo..].iter().map(|m| m.text.clone()).collect();
    assert_eq!(squeeze(&after), squeeze(&caption));
}

/// The reply path alone (`TelegramOutbound`, as `pingan run` builds it) against `fake`.
fn replies_to(
    fake: &crate::support::fake_telegram::FakeTelegram,
) -> pingan::telegram::replies::TelegramOutbound {
    use std::time::Duration;

    use pingan::metrics::Metrics;
    use pingan::telegram::rate::{Pacing, RateLimiter};

    let metrics = Arc::new(Metrics::default());
    let token = pingan::config::BotToken::parse(crate::support::fake_telegram::FakeTelegram::TOKEN).unwrap();
    let api =
        pingan::telegram::api::BotApi::new(&fake.api_url().parse().unwrap(), &token, Duration::from_secs(5))
            .unwrap();
    let limiter = RateLimiter::new(Pacing { per_second: 30, paid_per_second: None, broadcast_share: 0.2 });
    let breaker = pingan::telegram::breaker::Breaker::new(Arc::new(SystemClock), metrics.clone());
    let transport =
        Arc::new(pingan::telegram::transport::Transport::new(api, limiter, breaker, metrics.clone()));
    pingan::telegram::replies::TelegramOutbound::new(transport, metrics)
}

/// Turns another instance holds: the first claim of each chat waits `first_wait`; holds
/// are recorded.
struct OtherInstance {
    first_wait: std::time::Duration,
    claimed: std::sync::Mutex<Vec<i64>>,
    held: std::sync::Mutex<Vec<(i64, std::time::Duration)>>,
}

#[async_trait::async_trait]
impl pingan::telegram::outbound::SharedTurns for OtherInstance {
    async fn claim(&self, chat: pingan::domain::ChatId) -> Option<std::time::Duration> {
        let mut claimed = self.claimed.lock().unwrap();
        let first = !claimed.contains(&chat.0);
        claimed.push(chat.0);
        first.then_some(self.first_wait)
    }

    async fn hold(&self, chat: pingan::domain::ChatId, wait: std::time::Duration) {
        self.held.lock().unwrap().push((chat.0, wait));
    }
}

/// With several instances live, a reply takes its chat's turn shared by all of them:
/// while another instance has the chat (its broadcast or reply went out less than a
/// second ago) the reply waits, and a 429 it meets holds the chat for every instance.
#[tokio::test]
async fn a_reply_waits_for_a_chats_turn_another_instance_holds_and_shares_its_429() {
    use std::time::Duration;

    use pingan::html::Html;
    use pingan::telegram::outbound::{OutMessage, Outbound, Target};

    let fake = crate::support::fake_telegram::FakeTelegram::start().await;
    let out = replies_to(&fake);
    let other = Arc::new(OtherInstance {
        first_wait: Duration::from_millis(700),
        claimed: Default::default(),
        held: Default::default(),
    });
    out.share_turns(other.clone());
    let (chat, held_chat) = (4301, 4302);
    fake.add_fault(
        crate::support::fake_telegram::FaultRule::on(
            "sendMessage",
            crate::support::fake_telegram::Fault::RetryAfter(2),
        )
        .chat(held_chat)
        .times(1),
    );
    let started = tokio::time::Instant::now();
    let target = |chat| Target { chat: pingan::domain::ChatId(chat), thread_id: None };
    let sent = out.send_tracked(target(chat), OutMessage::html(Html::escape("您好"))).await.unwrap();
    let held = out.send_tracked(target(held_chat), OutMessage::html(Html::escape("您好"))).await.unwrap();
    sent.sent().await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(700), "sent before the other instance's turn ended: {waited:?}");
    held.sent().await.unwrap();
    let after_429 = started.elapsed();
    assert_eq!(*other.held.lock().unwrap(), vec![(held_chat, Duration::from_secs(2))], "the 429 is shared");
    assert!(after_429 >= Duration::from_secs(2), "{after_429:?}");
    eprintln!(
        "reply sent {:.2} s after its turn was asked; the 429's chat {:.2} s after",
        waited.as_secs_f64(),
        after_429.as_secs_f64()
    );
}
