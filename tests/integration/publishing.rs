//! Publishing once: a publication is one transaction with its audit entry and the
//! dialogue it ends, and the same request made again — a second press of Publish, an API
//! client retrying — returns the first result and alerts nobody twice.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, AuditAction, ChatId, Language, Role, Subscriber};
use pingan::store::NoticeQuery;

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with, spawn_app_with_http};
use crate::support::test_db::TestDb;

const EDITOR: i64 = 901;

async fn spawn_on(db: TestDb) -> TestApp {
    let env = [("PINGAN_DELIVERY_TICK_MS", "50"), ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")];
    let app = spawn_app_with(db, Arc::new(SystemClock), &env).await;
    app.store.grant(EDITOR, Role::Editor, &Actor::System, Utc::now()).await.unwrap();
    for chat in 1..=5 {
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
    app
}

fn editor() -> TgUser {
    TgUser::new(EDITOR, "Bureau", Some("zh-hans"))
}

/// An urgent notice composed in one message, up to its preview's Publish button.
async fn preview(app: &TestApp) -> SentMessage {
    app.fake.user_sends(
        &editor(),
        "/urgent\ntitle: 燃气泄漏预警\ncategory: disaster\nseverity: Extreme\narea: 全市\nexpires: never\n---\n请立即撤离。",
    );
    app.fake
        .wait_for("the preview question", |s| {
            s.sent.iter().rev().find(|m| m.chat_id == EDITOR && m.text.contains("确认要立即发布吗")).cloned()
        })
        .await
}

async fn press_publish(app: &TestApp, question: &SentMessage) -> Option<String> {
    let id = app.fake.press_labelled(&editor(), question, "发布");
    app.fake.wait_for_answer(&id).await
}

async fn notices(app: &TestApp) -> u64 {
    app.store.count_notices(&NoticeQuery::default()).await.unwrap()
}

/// Makes every insert into the audit log fail, as a database that gives out between the
/// notice and its audit entry would; returns what undoes it.
async fn break_the_audit_log(db: &TestDb) -> &'static str {
    if db.url().starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        sqlx::query("CREATE TRIGGER injected_fault BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'injected fault'); END")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        "DROP TRIGGER injected_fault"
    } else {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        sqlx::query(
            "CREATE FUNCTION injected_fault() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ \
             LANGUAGE plpgsql",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "CREATE TRIGGER injected_fault BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION injected_fault()",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        "DROP TRIGGER injected_fault ON audit_log"
    }
}

async fn run_sql(db: &TestDb, sql: &str) {
    if db.url().starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn a_failure_between_the_notice_and_its_audit_entry_leaves_nothing_and_alerts_once(app: TestApp) {
    let question = preview(&app).await;
    let repair = break_the_audit_log(&app.db).await;
    let failed = press_publish(&app, &question).await;
    assert!(failed.as_deref().is_some_and(|a| a.contains("出了问题")), "the editor is told: {failed:?}");
    assert_eq!(notices(&app).await, 0, "no notice without its audit entry");

    run_sql(&app.db, repair).await;
    press_publish(&app, &question).await;
    press_publish(&app, &question).await;
    assert_eq!(notices(&app).await, 1, "the draft was still there, published once");
    let stored = app.store.list_notices(&NoticeQuery { limit: 5, ..NoticeQuery::default() }).await.unwrap();
    let done = app.fake.message(EDITOR, question.message_id);
    assert!(
        done.text.contains(&stored[0].id.to_string()),
        "the second press shows the first notice: {}",
        done.text
    );
    for chat in 1..=5 {
        app.fake.wait_for_sent(chat, 1).await;
    }
    crate::delivery::settled(&app).await;
    let alerts: Vec<usize> = (1..=5).map(|chat| app.fake.sent_to(chat).len()).collect();
    println!(
        "publish after an injected fault, then pressed twice more: notices {}, alerts per chat {alerts:?}",
        notices(&app).await
    );
    assert_eq!(alerts, [1, 1, 1, 1, 1]);
    let audit = app.store.audit_log(Some(&Actor::Telegram(EDITOR)), 10).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == AuditAction::Published).count(), 1);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_failed_publication_leaves_nothing_and_a_repeated_press_alerts_once_on_sqlite() {
    let app = spawn_on(TestDb::sqlite()).await;
    a_failure_between_the_notice_and_its_audit_entry_leaves_nothing_and_alerts_once(app).await;
}

#[tokio::test]
async fn a_failed_publication_leaves_nothing_and_a_repeated_press_alerts_once_on_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    let app = spawn_on(db).await;
    a_failure_between_the_notice_and_its_audit_entry_leaves_nothing_and_alerts_once(app).await;
}

/// The editor's correction of a delivered alert, up to its "send the correction" question.
async fn correction_question(app: &TestApp, id: i64) -> SentMessage {
    app.fake.user_sends(&editor(), &format!("/edit {id}"));
    app.fake
        .wait_for("the correction prompt", |s| {
            s.sent.iter().rev().find(|m| m.chat_id == EDITOR && m.text.contains("燃气泄漏预警")).cloned()
        })
        .await;
    app.fake.user_sends(&editor(), "燃气泄漏预警（更正）\n请立即撤离，不要使用明火。");
    app.fake
        .wait_for("the correction question", |s| {
            s.sent.iter().rev().find(|m| m.chat_id == EDITOR && m.text.contains("确认发送吗")).cloned()
        })
        .await
}

async fn a_failed_correction_leaves_nothing_and_a_repeated_press_corrects_once(app: TestApp) {
    let question = preview(&app).await;
    press_publish(&app, &question).await;
    for chat in 1..=5 {
        app.fake.wait_for_sent(chat, 1).await;
    }
    let id = app.store.list_notices(&NoticeQuery { limit: 1, ..NoticeQuery::default() }).await.unwrap()[0].id;
    let question = correction_question(&app, id.0).await;
    let repair = break_the_audit_log(&app.db).await;
    let press = || async {
        let pressed = app.fake.press_labelled(&editor(), &question, "发送更正");
        app.fake.wait_for_answer(&pressed).await
    };
    let failed = press().await;
    assert!(failed.as_deref().is_some_and(|a| a.contains("出了问题")), "the editor is told: {failed:?}");
    let unchanged = app.store.notice(id).await.unwrap().unwrap();
    assert_eq!(unchanged.content.title.as_str(), "燃气泄漏预警", "no correction without its audit entry");

    run_sql(&app.db, repair).await;
    press().await;
    let late = press().await;
    assert!(late.is_some(), "the third press is answered (the draft is gone): {late:?}");
    for chat in 1..=5 {
        app.fake.wait_for_sent(chat, 2).await;
    }
    crate::delivery::settled(&app).await;
    let per_chat: Vec<usize> = (1..=5).map(|chat| app.fake.sent_to(chat).len()).collect();
    let corrections = app
        .store
        .notice_fanouts(id)
        .await
        .unwrap()
        .iter()
        .filter(|f| f.key.starts_with("correction:"))
        .count();
    println!(
        "correct after an injected fault, then pressed twice more: follow-up fan-outs {corrections}, messages per chat {per_chat:?}"
    );
    assert_eq!(per_chat, [2, 2, 2, 2, 2], "the alert and one correction each");
    assert_eq!(corrections, 1);
    let audit = app.store.audit_log(Some(&Actor::Telegram(EDITOR)), 10).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == AuditAction::Corrected).count(), 1);
    assert!(
        app.store.dialogue(ChatId(EDITOR), EDITOR).await.unwrap().is_none(),
        "the dialogue ended with it"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_failed_correction_leaves_nothing_and_a_repeated_press_corrects_once_on_sqlite() {
    let app = spawn_on(TestDb::sqlite()).await;
    a_failed_correction_leaves_nothing_and_a_repeated_press_corrects_once(app).await;
}

#[tokio::test]
async fn a_failed_correction_leaves_nothing_and_a_repeated_press_corrects_once_on_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    let app = spawn_on(db).await;
    a_failed_correction_leaves_nothing_and_a_repeated_press_corrects_once(app).await;
}

#[tokio::test]
async fn an_api_client_retrying_a_correction_with_one_idempotency_key_tells_recipients_once() {
    let env = [("PINGAN_DELIVERY_TICK_MS", "50"), ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")];
    let (app, base) = spawn_app_with_http(Arc::new(SystemClock), &env).await;
    for chat in 1..=3 {
        let subscriber = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, Utc::now());
        app.store.save_subscriber(&subscriber).await.unwrap();
    }
    let mut tokens = Vec::new();
    for name in ["cms", "cms2"] {
        let token = pingan::tokens::new_token().unwrap();
        let hash = pingan::tokens::hash(&token);
        app.store.create_token(name, &hash, Role::Editor, &Actor::System, Utc::now()).await.unwrap();
        tokens.push(token);
    }
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/api/notices"))
        .bearer_auth(&tokens[0])
        .json(&serde_json::json!({
            "title": "燃气泄漏预警", "body": "请立即撤离。", "category": "disaster",
            "severity": "Extreme", "language": "zh",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    for chat in 1..=3 {
        app.fake.wait_for_sent(chat, 1).await;
    }
    crate::delivery::settled(&app).await;
    let patch = |token: &str, key: &'static str, body: &'static str| {
        http.patch(format!("{base}/api/notices/{id}"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({ "body": body }))
            .send()
    };
    let first = patch(&tokens[0], "fix-1", "请立即撤离，不要使用明火。").await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["recipients_told"], 3);
    for chat in 1..=3 {
        app.fake.wait_for_sent(chat, 2).await;
    }
    let again = patch(&tokens[0], "fix-1", "请立即撤离，不要使用明火。").await.unwrap();
    assert_eq!(
        (again.status().as_u16(), &again.headers()["idempotent-replayed"]),
        (200, &"true".parse().unwrap())
    );
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["recipients_told"], 3, "what the first request did");
    let other = patch(&tokens[0], "fix-1", "另一处更正").await.unwrap();
    assert_eq!(other.status(), 409, "the key with another correction");
    let reused = http
        .post(format!("{base}/api/notices"))
        .bearer_auth(&tokens[0])
        .header("Idempotency-Key", "fix-1")
        .json(&serde_json::json!({
            "title": "另一条通告", "body": "正文。", "category": "traffic", "severity": "Minor", "language": "zh",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 409, "a correction's key reused for a publication");
    crate::delivery::settled(&app).await;
    let per_chat: Vec<usize> = (1..=3).map(|chat| app.fake.sent_to(chat).len()).collect();
    println!("a correction sent once, then retried with its key: messages per chat {per_chat:?}");
    assert_eq!(per_chat, [2, 2, 2], "the alert and one correction each, the retry sent nothing");
    // Another token's key of the same spelling is its own: this correction happens.
    let theirs = patch(&tokens[1], "fix-1", "请立即撤离，不要使用明火。").await.unwrap();
    assert_eq!(theirs.status(), 200);
    assert!(theirs.headers().get("idempotent-replayed").is_none(), "not the first token's result");

    for chat in 1..=3 {
        app.fake.wait_for_sent(chat, 3).await;
    }
    let audit = app.store.audit_log(None, 50).await.unwrap();
    let corrected = audit.iter().filter(|e| e.action == AuditAction::Corrected).count();
    assert_eq!(corrected, 2, "the first token's once, the second token's once");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_api_client_retrying_with_one_idempotency_key_gets_the_same_notice() {
    let (app, base) = spawn_app_with_http(Arc::new(SystemClock), &[]).await;
    let token = pingan::tokens::new_token().unwrap();
    app.store
        .create_token("cms", &pingan::tokens::hash(&token), Role::Editor, &Actor::System, Utc::now())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let body = serde_json::json!({
        "title": "暴雨期间注意出行安全", "body": "请减少外出。", "category": "disaster",
        "severity": "Moderate", "language": "zh",
    });
    let post = |key: Option<&'static str>| {
        let mut request = http.post(format!("{base}/api/notices")).bearer_auth(&token).json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send()
    };
    let first = post(Some("4f6c1d2e")).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    let again = post(Some("4f6c1d2e")).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"], "the same notice");
    assert_eq!(notices(&app).await, 1);
    assert_eq!(post(Some("another")).await.unwrap().status(), 201, "another key is another notice");
    assert_eq!(notices(&app).await, 2);
    app.stop().await.unwrap();
}

/// Roles, the list, tips and tokens change only together with their audit entry: with
/// the audit log failing, nothing changes; once it works, each change leaves one entry.
async fn every_change_is_stored_with_its_audit_entry_or_not_at_all(db: TestDb) {
    use pingan::domain::{
        IndicatorKind, IndicatorReason, NewIndicator, NewTip, Risk, ScamType, Subject, TipBody, TipTitle,
    };

    let store = db.store().await;
    let by = Actor::Cli("owner".into());
    let now = Utc::now();
    let indicator = NewIndicator {
        subject: Subject::parse("13800138000").unwrap(),
        risk: Risk::Fraud,
        reason: IndicatorReason::parse("冒充客服").unwrap().into(),
        added_by: by.clone(),
    };
    let tip = NewTip {
        scam_type: ScamType::OrderBrushing,
        language: Language::Zh,
        title: TipTitle::parse("刷单就是诈骗").unwrap(),
        body: TipBody::parse("先垫付后返利，都是骗局。").unwrap(),
        builtin_key: None,
        author: by.clone(),
    };
    let repair = break_the_audit_log(&db).await;
    assert!(store.grant(4242, Role::Editor, &by, now).await.is_err());
    assert!(store.put_indicator(&indicator, now).await.is_err());
    assert!(store.add_tip(&tip, now).await.is_err());
    assert!(store.create_token("cms", "hash", Role::Editor, &by, now).await.is_err());
    assert_eq!(store.admin(4242).await.unwrap(), None, "no role without its entry");
    assert_eq!(store.indicator(IndicatorKind::Phone, "+8613800138000").await.unwrap(), None);
    assert!(store.tokens().await.unwrap().is_empty());
    let tips_before = store.tips(&pingan::store::TipQuery::default()).await.unwrap().len();

    run_sql(&db, repair).await;
    store.grant(4242, Role::Editor, &by, now).await.unwrap();
    store.put_indicator(&indicator, now).await.unwrap();
    let added = store.add_tip(&tip, now).await.unwrap();
    store.edit_tip(added.id, &tip.title, &TipBody::parse("改过的正文。").unwrap(), &by, now).await.unwrap();
    store.retire_tip(added.id, &by, now).await.unwrap();
    store.create_token("cms", "hash", Role::Editor, &by, now).await.unwrap();
    assert!(store.revoke_token("cms", &by, now).await.unwrap());
    assert!(store.remove_indicator(IndicatorKind::Phone, "+8613800138000", &by, now).await.unwrap());
    assert!(store.revoke(4242, &by, now).await.unwrap());
    assert!(!store.revoke(4242, &by, now).await.unwrap(), "nothing to revoke, nothing recorded");
    assert_eq!(
        store.tips(&pingan::store::TipQuery::default()).await.unwrap().len(),
        tips_before,
        "added, then retired"
    );
    assert!(store.tip(added.id).await.unwrap().unwrap().retired);
    let mut actions: Vec<AuditAction> =
        store.audit_log(Some(&by), 20).await.unwrap().iter().map(|e| e.action).collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            AuditAction::Granted,
            AuditAction::Listed,
            AuditAction::TipAdded,
            AuditAction::TipEdited,
            AuditAction::TipRetired,
            AuditAction::TokenCreated,
            AuditAction::TokenRevoked,
            AuditAction::Unlisted,
            AuditAction::Revoked,
        ]
    );
    store.close().await;
}

#[tokio::test]
async fn every_change_is_stored_with_its_audit_entry_or_not_at_all_on_sqlite() {
    every_change_is_stored_with_its_audit_entry_or_not_at_all(TestDb::sqlite()).await;
}

#[tokio::test]
async fn every_change_is_stored_with_its_audit_entry_or_not_at_all_on_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    every_change_is_stored_with_its_audit_entry_or_not_at_all(db).await;
}
