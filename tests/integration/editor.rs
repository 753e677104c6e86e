//! The bureau's side of the bot over the fake Bot API: roles, /post with preview,
//! /urgent with its status message, /edit and /retract reaching those who got a notice.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, AuditAction, ChatId, Language, NoticeStatus, Role, Subscriber};
use pingan::store::NoticeQuery;

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const OWNER: i64 = 900;
const EDITOR: i64 = 901;
const MODERATOR: i64 = 902;
const CITIZEN: i64 = 903;

async fn spawn() -> TestApp {
    let app = spawn_app_with(
        TestDb::sqlite(),
        Arc::new(SystemClock),
        &[
            ("PINGAN_BOT_OWNERS", "900"),
            ("PINGAN_DELIVERY_TICK_MS", "50"),
            ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000"),
        ],
    )
    .await;
    let now = Utc::now();
    app.store.grant(EDITOR, Role::Editor, &Actor::System, now).await.unwrap();
    app.store.grant(MODERATOR, Role::Moderator, &Actor::System, now).await.unwrap();
    app
}

fn user(id: i64) -> TgUser {
    TgUser::new(id, "Bureau", Some("zh-hans"))
}

async fn ask(app: &TestApp, from: i64, text: &str) -> SentMessage {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + 1).await.remove(before)
}

async fn press(app: &TestApp, from: i64, message: &SentMessage, label: &str) -> Option<String> {
    let id = app.fake.press_labelled(&user(from), message, label);
    app.fake.wait_for_answer(&id).await
}

fn last_to(app: &TestApp, chat: i64) -> SentMessage {
    app.fake.sent_to(chat).pop().expect("a message")
}

async fn subscribe(app: &TestApp, chats: impl IntoIterator<Item = i64>) {
    for chat in chats {
        app.store
            .save_subscriber(&Subscriber::new(
                ChatId(chat),
                Language::Zh,
                chrono_tz::Asia::Shanghai,
                Utc::now(),
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn every_bureau_command_refuses_citizens_and_changes_nothing() {
    let app = spawn().await;
    let refusal = "抱歉，只有市局授权的编辑才能使用这个命令。";
    let owners_only = "抱歉，只有机器人的所有者才能管理角色。";
    for command in ["/post", "/post\ntitle: x\n\nbody", "/urgent", "/edit 1", "/retract 1"] {
        assert_eq!(ask(&app, CITIZEN, command).await.text, refusal, "{command}");
    }
    for command in ["/admins", "/admins grant 5 owner"] {
        assert_eq!(ask(&app, CITIZEN, command).await.text, owners_only, "{command}");
    }
    for command in ["/post", "/urgent", "/edit 1", "/retract 1"] {
        assert_eq!(ask(&app, MODERATOR, command).await.text, refusal, "a moderator: {command}");
    }
    assert_eq!(ask(&app, MODERATOR, "/admins revoke 901").await.text, owners_only, "a moderator");
    assert_eq!(
        ask(&app, EDITOR, "/admins grant 5 owner").await.text,
        owners_only,
        "only owners manage roles"
    );
    assert_eq!(ask(&app, CITIZEN, "/cancel").await.text, "当前没有需要取消的操作。", "/cancel is everyone's");
    assert_eq!(app.store.count_notices(&NoticeQuery::default()).await.unwrap(), 0);
    assert_eq!(app.store.admins().await.unwrap().len(), 2);

    // A citizen pressing an editor's buttons changes nothing either.
    let form = ask(&app, EDITOR, "/post").await;
    let answer = press(&app, EDITOR, &form, "取消").await;
    assert_eq!(answer, None);
    for data in ["po:1:y", "po:1:c:fraud", "ed:1:1", "rt:1:1"] {
        let id = app.fake.press(&user(CITIZEN), &form, data);
        assert_eq!(app.fake.wait_for_answer(&id).await.as_deref(), Some(refusal), "{data}");
    }
    assert_eq!(app.store.count_notices(&NoticeQuery::default()).await.unwrap(), 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_editor_composes_previews_and_publishes_a_notice_in_a_dialogue() {
    let app = spawn().await;
    assert!(ask(&app, EDITOR, "/post").await.text.contains("标题"));
    assert!(ask(&app, EDITOR, "警惕冒充客服退款诈骗").await.text.contains("正文"));
    // The text may come forwarded, as a bulletin from another chat does.
    let before = app.fake.sent_to(EDITOR).len();
    app.fake.user_forwards(&user(EDITOR), "接到自称客服的退款电话，请先挂断核实。", "市局反诈中心");
    let category = app.fake.wait_for_sent(EDITOR, before + 1).await.remove(before);
    press(&app, EDITOR, &category, "反诈").await;
    press(&app, EDITOR, &last_to(&app, EDITOR), "较重").await;
    press(&app, EDITOR, &last_to(&app, EDITOR), "全市").await;
    press(&app, EDITOR, &last_to(&app, EDITOR), "7 天").await;
    press(&app, EDITOR, &last_to(&app, EDITOR), "立即发布").await;
    let messages = app.fake.sent_to(EDITOR);
    let preview = &messages[messages.len() - 2];
    assert!(preview.text.starts_with("🟡 警惕冒充客服退款诈骗\n较重 · 反诈 · 全市"), "{}", preview.text);
    assert!(preview.text.contains("接到自称客服的退款电话"));
    let question = messages.last().unwrap().clone();
    assert!(question.text.contains("确认要立即发布吗"), "{}", question.text);
    assert!(
        app.store.count_notices(&NoticeQuery::default()).await.unwrap() == 0,
        "nothing before confirming"
    );

    press(&app, EDITOR, &question, "发布").await;
    let published =
        app.store.list_notices(&NoticeQuery { limit: 5, ..NoticeQuery::default() }).await.unwrap();
    assert_eq!(published.len(), 1);
    let notice = &published[0];
    assert_eq!((notice.status, notice.author.clone()), (NoticeStatus::Published, Actor::Telegram(EDITOR)));
    assert!(notice.expires_at.is_some());
    assert!(app.fake.message(EDITOR, question.message_id).text.starts_with("✅ 已发布，通告编号"));
    let audit = app.store.audit_log(Some(&Actor::Telegram(EDITOR)), 5).await.unwrap();
    assert_eq!(audit[0].action, AuditAction::Published);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_one_message_form_goes_straight_to_the_preview_and_bad_lines_are_named() {
    let app = spawn().await;
    let bad = ask(&app, EDITOR, "/post\ntitle: x\nseverity: loud\n\nbody").await;
    assert_eq!(
        bad.text,
        "没能读懂这条通告：第 2 行：没有“loud”这个级别，请使用：特别严重、严重、较重、一般、未分级。"
    );
    let late = ask(&app, EDITOR, "/post\ntitle: x\nexpires: next week\n\nbody").await;
    assert!(late.text.contains("第 2 行：“next week”不是时间"), "{}", late.text);
    // What the editor typed is echoed shortened (issue 13, part 8): 2 000 characters of
    // a bad line come back as 64.
    let pasted = "很".repeat(2000);
    let long = ask(&app, EDITOR, &format!("/post\ntitle: x\nseverity: {pasted}\n{pasted}\n\nbody")).await;
    assert!(long.text.contains(&format!("没有“{}…”这个级别", "很".repeat(63))), "{}", long.text);
    assert!(
        long.text.contains(&format!("第 3 行：应为“项目：内容”，实际是“{}…”", "很".repeat(63))),
        "{}",
        long.text
    );
    assert!(long.text.chars().count() < 300, "{}", long.text);
    app.fake.user_sends(&user(EDITOR), "/post\ntitle: 道路结冰提示\ncategory: traffic\nseverity: Minor\narea: 全市\nexpires: never\npublish: now\n---\n早晚桥面易结冰，请慢行。");
    let question = app
        .fake
        .wait_for("the preview question", |s| {
            s.sent.iter().rev().find(|m| m.chat_id == EDITOR && m.text.contains("确认要立即发布吗")).cloned()
        })
        .await;
    press(&app, EDITOR, &question, "发布").await;
    let listed = app.store.list_notices(&NoticeQuery { limit: 5, ..NoticeQuery::default() }).await.unwrap();
    assert_eq!(listed[0].content.title.as_str(), "道路结冰提示");
    assert_eq!(listed[0].expires_at, None);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_urgent_alert_goes_out_at_once_and_its_status_message_follows_the_fan_out() {
    let app = spawn().await;
    subscribe(&app, 1..=30).await;
    app.fake.user_sends(&user(EDITOR), "/urgent\ntitle: 暴雨红色预警\ncategory: disaster\nseverity: Extreme\narea: 全市\nexpires: never\n---\n请减少外出。");
    let question = app
        .fake
        .wait_for("the preview question", |s| {
            s.sent.iter().rev().find(|m| m.chat_id == EDITOR && m.text.contains("确认要立即发布吗")).cloned()
        })
        .await;
    press(&app, EDITOR, &question, "发布").await;
    for chat in 1..=30 {
        let alert = app.fake.wait_for_sent(chat, 1).await;
        assert!(alert[0].text.starts_with("🚨 紧急预警\n\n🔴 暴雨红色预警"), "{}", alert[0].text);
    }
    let done = app
        .fake
        .wait_for("the status message to say it is all out", |s| {
            s.sent.iter().find(|m| m.chat_id == EDITOR && m.text.starts_with("✅ 暴雨红色预警")).cloned()
        })
        .await;
    assert!(done.text.contains("已发送 30"), "{}", done.text);
    let edits: Vec<_> = app
        .fake
        .calls_of("editMessageText")
        .into_iter()
        .filter(|c| c.params["message_id"] == done.message_id)
        .map(|c| c.at)
        .collect();
    for pair in edits.windows(2) {
        assert!(
            pair[1].duration_since(pair[0]) >= std::time::Duration::from_millis(2900),
            "edits at most every 3 s"
        );
    }
    app.stop().await.unwrap();
}

/// Publishes an Extreme notice from the console-free path and waits until 1..=n got it.
async fn delivered_alert(app: &TestApp, n: i64) -> i64 {
    subscribe(app, 1..=n).await;
    let content = pingan::domain::NoticeContent {
        districts: Default::default(),
        title: pingan::domain::Title::parse("地震预警").unwrap(),
        body: pingan::domain::Body::parse("请立即避险。").unwrap(),
        category: pingan::domain::Category::Disaster,
        severity: pingan::domain::Severity::Extreme,
        area: None,
        language: Language::Zh,
        source: None,
    };
    let notice = pingan::domain::NewNotice::new(
        content,
        pingan::domain::Publication::Now,
        None,
        Actor::System,
        Utc::now(),
    )
    .unwrap();
    let id = app.store.insert_notice(&notice).await.unwrap().id.0;
    for chat in 1..=n {
        app.fake.wait_for_sent(chat, 1).await;
    }
    // Wait until every outcome is recorded, so the correction finds them all.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let fanouts = app.store.notice_fanouts(pingan::domain::NoticeId(id)).await.unwrap();
        if fanouts.iter().any(|f| f.sent as i64 == n) || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    id
}

#[tokio::test]
async fn a_correction_reaches_exactly_those_who_got_the_notice_as_replies() {
    let app = spawn().await;
    let id = delivered_alert(&app, 5).await;
    subscribe(&app, [77]).await; // subscribed after the alert: did not get it
    let prompt = ask(&app, EDITOR, &format!("/edit {id}")).await;
    assert!(prompt.text.contains("地震预警"), "{}", prompt.text);
    app.fake.user_sends(&user(EDITOR), "地震预警（更正）\n请立即避险，远离建筑物。");
    let question = app
        .fake
        .wait_for("the correction preview", |s| {
            s.sent.iter().rev().find(|m| m.chat_id == EDITOR && m.text.contains("确认发送吗")).cloned()
        })
        .await;
    press(&app, EDITOR, &question, "发送更正").await;
    for chat in 1..=5 {
        let got = app.fake.wait_for_sent(chat, 2).await;
        assert!(got[1].text.starts_with("📝 更正"), "{}", got[1].text);
        assert!(got[1].text.contains("远离建筑物"));
        assert_eq!(got[1].reply_to, Some(i64::from(got[0].message_id)), "a reply to the alert they got");
    }
    assert!(app.fake.sent_to(77).is_empty(), "only those who received it");
    let notice = app.store.notice(pingan::domain::NoticeId(id)).await.unwrap().unwrap();
    assert_eq!(notice.content.title.as_str(), "地震预警（更正）");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_retraction_tells_those_who_got_the_notice() {
    let app = spawn().await;
    let id = delivered_alert(&app, 3).await;
    let question = ask(&app, EDITOR, &format!("/retract {id}")).await;
    press(&app, EDITOR, &question, "确认撤回").await;
    for chat in 1..=3 {
        let got = app.fake.wait_for_sent(chat, 2).await;
        assert!(got[1].text.starts_with("❌ 撤回"), "{}", got[1].text);
        assert_eq!(got[1].reply_to, Some(i64::from(got[0].message_id)));
    }
    let notice = app.store.notice(pingan::domain::NoticeId(id)).await.unwrap().unwrap();
    assert_eq!(notice.status, NoticeStatus::Retracted);
    let again = ask(&app, EDITOR, &format!("/retract {id}")).await;
    assert!(again.text.contains("状态为“已撤回”，不能再修改"), "{}", again.text);
    assert!(ask(&app, EDITOR, "/edit 999").await.text.contains("没有编号为 999 的通告"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn owners_grant_list_and_revoke_roles() {
    let app = spawn().await;
    assert!(ask(&app, OWNER, "/admins grant 4242 moderator").await.text.contains("4242"));
    assert_eq!(app.store.admin(4242).await.unwrap().map(|a| a.role), Some(Role::Moderator));
    let list = ask(&app, OWNER, "/admins").await;
    assert!(list.text.contains("900 — 所有者") && list.text.contains("4242 — 审核员"), "{}", list.text);
    assert!(ask(&app, OWNER, "/admins revoke 4242").await.text.contains("收回"));
    assert_eq!(app.store.admin(4242).await.unwrap(), None);
    assert!(ask(&app, OWNER, "/admins grant no-body editor").await.text.starts_with("用法"));
    let audit = app.store.audit_log(Some(&Actor::Telegram(OWNER)), 10).await.unwrap();
    let actions: Vec<AuditAction> = audit.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Revoked, AuditAction::Granted]);
    let help = ask(&app, OWNER, "/help").await;
    assert!(help.text.contains("/post — ") && help.text.contains("/admins — "), "{}", help.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_editor_who_forgets_is_told_the_role_and_its_record_stay() {
    let app = spawn().await;
    let question = ask(&app, EDITOR, "/forget").await;
    press(&app, EDITOR, &question, "确认删除").await;
    let done = app.fake.message(EDITOR, question.message_id);
    assert!(done.text.contains("保留：您的“编辑”身份及其操作记录"), "{}", done.text);
    let admin = app.store.admin(EDITOR).await.unwrap().map(|a| a.role);
    assert_eq!(admin, Some(Role::Editor), "/forget does not revoke a role");
    app.stop().await.unwrap();
}
