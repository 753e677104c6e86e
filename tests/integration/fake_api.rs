//! The fake Bot API itself: the tests lean on it, so it is tested against the real
//! wire format (teloxide as the client where teloxide's own behaviour is not in the way).

use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::types::{ChatId, InputFile, ParseMode};
use teloxide::{ApiError, RequestError};

use crate::support::fake_telegram::{FakeTelegram, Fault, FaultRule, TgUser};

fn bot(fake: &FakeTelegram) -> Bot {
    Bot::new(FakeTelegram::TOKEN).set_api_url(fake.api_url().parse().unwrap())
}

async fn raw(fake: &FakeTelegram, method: &str, params: Value) -> (u16, Value) {
    let url = format!("{}/bot{}/{method}", fake.api_url(), FakeTelegram::TOKEN);
    let response = reqwest::Client::new().post(url).json(&params).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn get_me_and_a_wrong_token() {
    let fake = FakeTelegram::start().await;
    let me = bot(&fake).get_me().await.unwrap();
    assert_eq!(me.username(), fake.bot_username());

    let wrong = Bot::new("999:wrong").set_api_url(fake.api_url().parse().unwrap());
    assert!(matches!(wrong.get_me().await, Err(RequestError::Api(ApiError::InvalidToken))));
}

#[tokio::test]
async fn get_updates_follows_offsets_and_confirms() {
    let fake = FakeTelegram::start().await;
    let user = TgUser::new(5, "A", Some("en"));
    fake.user_sends(&user, "/start");
    fake.user_sends(&user, "hello");

    let (_, first) = raw(&fake, "getUpdates", json!({})).await;
    let ids: Vec<i64> =
        first["result"].as_array().unwrap().iter().map(|u| u["update_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(first["result"][0]["message"]["entities"][0]["type"], "bot_command");

    let (_, again) = raw(&fake, "getUpdates", json!({ "offset": 2 })).await;
    assert_eq!(again["result"].as_array().unwrap().len(), 1, "update 1 is confirmed by offset 2");
    let (_, none) = raw(&fake, "getUpdates", json!({ "offset": 3, "timeout": 0 })).await;
    assert_eq!(none["result"], json!([]));
    fake.wait_until_consumed().await;
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_an_update_arrives() {
    let fake = FakeTelegram::start().await;
    let poll = raw(&fake, "getUpdates", json!({ "timeout": 30 }));
    let user = TgUser::new(5, "A", None);
    let (status, body) = tokio::join!(poll, async {
        fake.wait_for("the poll to start", |s| (s.poll_generation > 0).then_some(())).await;
        fake.user_sends(&user, "/help");
    })
    .0;
    assert_eq!(status, 200);
    assert_eq!(body["result"][0]["message"]["text"], "/help");
}

#[tokio::test]
async fn a_second_poll_ends_the_first_with_409() {
    let fake = FakeTelegram::start().await;
    let first = raw(&fake, "getUpdates", json!({ "timeout": 30 }));
    let second = async {
        fake.wait_for("the first poll", |s| (s.poll_generation == 1).then_some(())).await;
        raw(&fake, "getUpdates", json!({ "timeout": 0 })).await
    };
    let ((status, body), (second_status, _)) = tokio::join!(first, second);
    assert_eq!(status, 409);
    assert!(body["description"].as_str().unwrap().starts_with("Conflict: terminated by other getUpdates"));
    assert_eq!(second_status, 200);
}

#[tokio::test]
async fn send_message_records_and_returns_a_message_teloxide_reads() {
    let fake = FakeTelegram::start().await;
    let sent = bot(&fake)
        .send_message(ChatId(5), "<b>注意</b> &amp; 96110")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(sent.text(), Some("注意 & 96110"));
    let recorded = fake.sent_to(5);
    assert_eq!(recorded[0].raw, "<b>注意</b> &amp; 96110");
    assert_eq!(recorded[0].text, "注意 & 96110");
    assert_eq!(recorded[0].message_id, sent.id.0);
}

#[tokio::test]
async fn text_telegram_would_refuse_is_refused() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let html = |text: &str| bot.send_message(ChatId(5), text.to_owned()).parse_mode(ParseMode::Html);

    match html("<b>x</b> & <script>").await {
        Err(RequestError::Api(ApiError::CantParseEntities(detail))) => {
            assert!(detail.starts_with("Bad Request: can't parse entities"), "{detail}")
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert!(matches!(html("<b></b>").await, Err(RequestError::Api(ApiError::MessageTextIsEmpty))));
    let long = "诈".repeat(4097);
    assert!(matches!(html(&long).await, Err(RequestError::Api(ApiError::MessageIsTooLong))));
    assert!(html(&"诈".repeat(4096)).await.is_ok());
    assert_eq!(fake.sent().len(), 1, "only the accepted message is recorded");
}

#[tokio::test]
async fn faults_come_as_telegram_sends_them() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    fake.add_fault(FaultRule::on("sendMessage", Fault::RetryAfter(7)).chat(1).times(1));
    fake.add_fault(FaultRule::on("sendMessage", Fault::Blocked).chat(2));
    fake.add_fault(FaultRule::on("sendMessage", Fault::Migrate(-1_009_999)).chat(-3));
    fake.add_fault(FaultRule::on("sendMessage", Fault::Deactivated).chat(4));

    let send = |chat: i64| bot.send_message(ChatId(chat), "x");
    assert!(matches!(send(1).await, Err(RequestError::RetryAfter(s)) if s.seconds() == 7));
    assert!(send(1).await.is_ok(), "a rule with times(1) fires once");
    assert!(matches!(send(2).await, Err(RequestError::Api(ApiError::BotBlocked))));
    assert!(matches!(send(2).await, Err(RequestError::Api(ApiError::BotBlocked))), "no count: forever");
    assert!(matches!(send(-3).await, Err(RequestError::MigrateToChatId(to)) if to.0 == -1_009_999));
    assert!(matches!(send(4).await, Err(RequestError::Api(ApiError::UserDeactivated))));
}

#[tokio::test]
async fn server_errors_and_delays_on_demand() {
    let fake = FakeTelegram::start().await;
    fake.add_fault(FaultRule::on("sendMessage", Fault::ServerError(502)).times(1));
    let (status, body) = raw(&fake, "sendMessage", json!({ "chat_id": 5, "text": "x" })).await;
    assert_eq!((status, body["description"].as_str()), (502, Some("Bad Gateway")));

    fake.add_fault(
        FaultRule::on("sendMessage", Fault::Delay(std::time::Duration::from_millis(300))).times(1),
    );
    let started = std::time::Instant::now();
    let (status, _) = raw(&fake, "sendMessage", json!({ "chat_id": 5, "text": "x" })).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    fake.random_server_errors(0.5, 42);
    let mut failures = 0;
    for _ in 0..40 {
        if raw(&fake, "sendMessage", json!({ "chat_id": 5, "text": "x" })).await.0 == 502 {
            failures += 1;
        }
    }
    assert!((8..=32).contains(&failures), "about half of 40 fail, got {failures}");
}

#[tokio::test]
async fn commands_are_validated_and_kept_per_language() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    let menu = vec![teloxide::types::BotCommand::new("help", "列出命令")];
    bot.set_my_commands(menu.clone()).language_code("zh").await.unwrap();
    assert_eq!(fake.commands("default", "zh"), Some(vec![("help".into(), "列出命令".into())]));
    assert_eq!(bot.get_my_commands().language_code("zh").await.unwrap(), menu);

    let bad = vec![teloxide::types::BotCommand::new("Help Me", "x")];
    assert!(bot.set_my_commands(bad).await.is_err());
}

#[tokio::test]
async fn edits_and_button_data_are_checked() {
    let fake = FakeTelegram::start().await;
    let (_, sent) = raw(&fake, "sendMessage", json!({ "chat_id": 5, "text": "page 1" })).await;
    let id = sent["result"]["message_id"].as_i64().unwrap();

    let edit = |text: &str| json!({ "chat_id": 5, "message_id": id, "text": text });
    assert_eq!(raw(&fake, "editMessageText", edit("page 2")).await.0, 200);
    let (status, body) = raw(&fake, "editMessageText", edit("page 2")).await;
    assert_eq!(status, 400);
    assert!(body["description"].as_str().unwrap().contains("message is not modified"));
    assert_eq!(
        raw(&fake, "editMessageText", json!({ "chat_id": 5, "message_id": 99, "text": "x" })).await.0,
        400
    );
    assert_eq!(fake.sent_to(5)[0].text, "page 2");
    assert_eq!(fake.sent_to(5)[0].edits, 1);

    let keyboard = |data: &str| json!({ "chat_id": 5, "text": "x", "reply_markup": { "inline_keyboard": [[{ "text": "▶", "callback_data": data }]] } });
    assert_eq!(raw(&fake, "sendMessage", keyboard(&"x".repeat(64))).await.0, 200);
    let (status, body) = raw(&fake, "sendMessage", keyboard(&"x".repeat(65))).await;
    assert_eq!((status, body["description"].as_str()), (400, Some("Bad Request: BUTTON_DATA_INVALID")));
}

#[tokio::test]
async fn photos_arrive_as_multipart_uploads() {
    let fake = FakeTelegram::start().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\x80\0\0\x01\xe0rest".to_vec();
    let sent = bot(&fake)
        .send_photo(ChatId(5), InputFile::memory(png.clone()).file_name("chart.png"))
        .caption("趋势")
        .await
        .unwrap();
    let photo = &sent.photo().unwrap()[0];
    assert_eq!((photo.width, photo.height), (640, 480));
    assert_eq!(fake.sent_to(5)[0].photo.as_deref(), Some(png.as_slice()));
    assert_eq!(fake.sent_to(5)[0].text, "趋势");
}
