//! The anti-fraud toolkit over the fake Bot API: /check with its normalisation and
//! verdicts, /indicator for editors, /report with moderation, /stats with its chart.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, Role};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const EDITOR: i64 = 801;
const MODERATOR: i64 = 802;
const CITIZEN: i64 = 803;
const ENGLISH: i64 = 804;

async fn spawn() -> TestApp {
    let app = spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[]).await;
    let now = Utc::now();
    app.store.grant(EDITOR, Role::Editor, &Actor::System, now).await.unwrap();
    app.store.grant(MODERATOR, Role::Moderator, &Actor::System, now).await.unwrap();
    app
}

fn user(id: i64) -> TgUser {
    let language = if id == ENGLISH { "en" } else { "zh-hans" };
    TgUser::new(id, "Someone", Some(language))
}

async fn ask(app: &TestApp, from: i64, text: &str) -> SentMessage {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + 1).await.remove(before)
}

#[tokio::test]
async fn every_way_of_writing_a_listed_number_finds_it_and_unknown_ones_are_not_called_safe() {
    let app = spawn().await;
    let added = ask(&app, EDITOR, "/indicator add 138-0013-8000 fraud 冒充银行客服要求屏幕共享").await;
    assert_eq!(added.text, "✅ 已将 +86 138 0013 8000 列为涉诈。");
    for written in
        ["13800138000", "+86 138 0013 8000", "8613800138000", "0086-138-0013-8000", "(+86) 138.0013.8000"]
    {
        let answer = ask(&app, CITIZEN, &format!("/check {written}")).await;
        assert!(answer.text.starts_with("🔴 高风险：+86 138 0013 8000"), "{written}: {}", answer.text);
        assert!(answer.text.contains("冒充银行客服要求屏幕共享"), "{}", answer.text);
        assert!(answer.text.contains("96110"));
    }

    let unknown = ask(&app, CITIZEN, "/check 139 1234 5678").await;
    assert!(unknown.text.starts_with("⚪ 暂无记录：+86 139 1234 5678"), "{}", unknown.text);
    assert!(unknown.text.contains("没有记录不代表安全"), "{}", unknown.text);
    assert!(!unknown.text.contains("安全的") && unknown.text.contains("96110"));
    let english = ask(&app, ENGLISH, "/check 13912345678").await;
    assert!(english.text.contains("No record is not proof of safety"), "{}", english.text);

    let hotline = ask(&app, CITIZEN, "/check 96110").await;
    assert!(hotline.text.starts_with("🟢 官方：+86 96110\n这是全国反诈预警劝阻专线。"), "{}", hotline.text);
    assert!(hotline.text.contains("来电显示可以伪造"));

    let removed = ask(&app, EDITOR, "/indicator remove +8613800138000").await;
    assert_eq!(removed.text, "✅ 已将 +86 138 0013 8000 移出名单。");
    assert!(ask(&app, CITIZEN, "/check 13800138000").await.text.starts_with("⚪ 暂无记录"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_punycode_look_alike_of_an_official_site_is_flagged() {
    let app = spawn().await;
    // Cyrillic "а" in place of the Latin one, as a phishing text carries it.
    let punycode = idna::domain_to_ascii("аlipay.com").unwrap();
    assert!(punycode.starts_with("xn--"));
    let answer = ask(&app, CITIZEN, &format!("/check https://{punycode}/refund")).await;
    assert!(answer.text.starts_with("🔴 高风险：аlipay.com"), "{}", answer.text);
    assert!(answer.text.contains("该网址仿冒 alipay.com"), "{}", answer.text);

    // Official sites an editor adds are guarded the same way.
    ask(&app, EDITOR, "/indicator add xining-police.gov.cn official 市公安局官方网站").await;
    let worn = ask(&app, CITIZEN, "/check http://xining-police.gov.cn.verify-id.top/login").await;
    assert!(worn.text.contains("仿冒 xining-police.gov.cn"), "{}", worn.text);
    let real = ask(&app, CITIZEN, "/check https://www.alipay.com").await;
    assert!(real.text.starts_with("🟢 官方：alipay.com"), "{}", real.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_values_get_a_clear_answer_and_citizens_cannot_change_the_list() {
    let app = spawn().await;
    assert!(ask(&app, CITIZEN, "/check").await.text.starts_with("发送 /check 加电话号码"));
    let landline = ask(&app, CITIZEN, "/check 8123456").await;
    assert!(landline.text.contains("固定电话请带区号"), "{}", landline.text);
    let ip = ask(&app, ENGLISH, "/check http://203.0.113.9/pay").await;
    assert!(ip.text.contains("bare internet address (203.0.113.9)"), "{}", ip.text);
    let html = ask(&app, CITIZEN, "/check <b>x</b>").await;
    assert!(html.text.contains("无法识别"), "{}", html.text);

    let refused = ask(&app, CITIZEN, "/indicator add 13800138000 fraud 诈骗").await;
    assert_eq!(refused.text, "抱歉，只有市局授权的编辑才能使用这个命令。");
    assert!(app.store.indicators(None, 10, 0).await.unwrap().is_empty());
    let no_reason = ask(&app, EDITOR, "/indicator add 13800138000 fraud").await;
    assert!(no_reason.text.starts_with("请在风险等级后写明原因"), "{}", no_reason.text);
    let overview = ask(&app, EDITOR, "/indicator").await;
    assert!(overview.text.contains("名单为空"), "{}", overview.text);
    app.stop().await.unwrap();
}
