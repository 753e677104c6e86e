//! What Pingan keeps about a citizen, and that /forget forgets it: after it, the chat's id
//! and the user's id are nowhere in the database in clear, and nothing more reaches the
//! chat — not even the withdrawal of an alert it once got.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{
    Actor, Body, Category, ChatId, Language, NewNotice, NewReport, NoticeContent, Publication,
    ReportDecision, ReportStory, Severity, Subscriber, Title,
};
use pingan::i18n::Texts;
use pingan::publishing::Desk;

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

/// A citizen whose id no timestamp, counter or message id is likely to contain.
const CITIZEN: i64 = 7_604_315_129;

/// Every table and column of the database where `needle` appears, as `table.column`.
async fn found_in(db: &TestDb, needle: i64) -> Vec<String> {
    let pattern = format!("%{needle}%");
    let mut found = Vec::new();
    if db.url().starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&pool)
            .await
            .unwrap();
        for (table,) in tables {
            let columns: Vec<(String,)> =
                sqlx::query_as(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            for (column,) in columns {
                let sql =
                    format!("SELECT COUNT(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1");
                let (n,): (i64,) = sqlx::query_as(&sql).bind(&pattern).fetch_one(&pool).await.unwrap();
                if n > 0 {
                    found.push(format!("{table}.{column}"));
                }
            }
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (table, column) in columns {
            let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1");
            let (n,): (i64,) = sqlx::query_as(&sql).bind(&pattern).fetch_one(&pool).await.unwrap();
            if n > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
        pool.close().await;
    }
    found
}

fn citizen() -> TgUser {
    TgUser::new(CITIZEN, "市民", Some("zh-hans"))
}

async fn ask(app: &TestApp, text: &str) -> SentMessage {
    let before = app.fake.sent_to(CITIZEN).len();
    app.fake.user_sends(&citizen(), text);
    app.fake.wait_for_sent(CITIZEN, before + 1).await.remove(before)
}

async fn forget_leaves_no_trace(db: TestDb) {
    let env = [("PINGAN_DELIVERY_TICK_MS", "50"), ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")];
    let app = spawn_app_with(db, Arc::new(SystemClock), &env).await;
    let now = Utc::now();
    for chat in [11, 12] {
        app.store
            .save_subscriber(&Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now))
            .await
            .unwrap();
    }
    // The citizen subscribes, searches, checks a number, gets an alert, and sends two
    // reports: one the bureau decides, one still waiting.
    ask(&app, "/subscribe").await;
    ask(&app, "/search 诈骗").await;
    ask(&app, "/check 13800138000").await;
    let content = NoticeContent {
        districts: Default::default(),
        title: Title::parse("燃气泄漏预警").unwrap(),
        body: Body::parse("请立即撤离。").unwrap(),
        category: Category::Disaster,
        severity: Severity::Extreme,
        area: None,
        language: Language::Zh,
        source: None,
    };
    let notice = app
        .store
        .insert_notice(&NewNotice::new(content, Publication::Now, None, Actor::System, now).unwrap())
        .await
        .unwrap();
    app.fake.wait_for_sent(CITIZEN, 4).await;
    for chat in [11, 12] {
        app.fake.wait_for_sent(chat, 1).await;
    }
    crate::delivery::settled(&app).await;
    let report = |story: &str| NewReport {
        chat: ChatId(CITIZEN),
        user_id: CITIZEN,
        language: Language::Zh,
        story: ReportStory::parse(story).unwrap(),
        forwarded: None,
        subjects: Vec::new(),
        created_at: now,
    };
    let decided = app.store.submit_report(&report("对方冒充客服要求转账。")).await.unwrap();
    let moderator = Actor::Telegram(902);
    app.store.decide_report(decided.id, &ReportDecision::Reject, &moderator, now).await.unwrap();
    app.store.submit_report(&report("有人让我下载会议软件。")).await.unwrap();
    let before = found_in(&app.db, CITIZEN).await;
    assert!(before.len() >= 3, "the citizen is in the database before: {before:?}");

    let question = ask(&app, "/forget").await;
    let id = app.fake.press_labelled(&citizen(), &question, "确认删除");
    app.fake.wait_for_answer(&id).await;
    let told = app.fake.message(CITIZEN, question.message_id).text;
    assert!(told.contains("条记录") && told.contains("举报"), "says what was deleted and kept: {told}");

    let after = found_in(&app.db, CITIZEN).await;
    println!("the citizen's id before /forget in {before:?}; after in {after:?}");
    assert!(after.is_empty(), "still in {after:?}");

    // The bureau withdraws the alert: those who got it are told, the forgotten chat is not.
    let sent_before = app.fake.sent_to(CITIZEN).len();
    let texts = Texts::load().unwrap();
    let desk = Desk {
        store: app.store.as_ref(),
        texts: &texts,
        zone: chrono_tz::Asia::Shanghai,
        clock: &SystemClock,
    };
    desk.retract(notice.id, &Actor::Cli("editor".into())).await.unwrap();
    for chat in [11, 12] {
        let got = app.fake.wait_for_sent(chat, 2).await;
        assert!(got[1].text.starts_with("❌ 撤回"), "{}", got[1].text);
    }
    crate::delivery::settled(&app).await;
    assert_eq!(app.fake.sent_to(CITIZEN).len(), sent_before, "nothing reaches the forgotten chat");
    let progress = app.store.notice_fanouts(notice.id).await.unwrap();
    let alert = progress.iter().find(|p| p.key == format!("alert:{}", notice.id)).unwrap();
    assert_eq!(alert.sent, 3, "the fan-out's totals keep the forgotten chat's send");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn after_forget_the_chat_is_nowhere_in_the_database_and_no_follow_up_reaches_it_on_sqlite() {
    forget_leaves_no_trace(TestDb::sqlite()).await;
}

#[tokio::test]
async fn after_forget_the_chat_is_nowhere_in_the_database_and_no_follow_up_reaches_it_on_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    forget_leaves_no_trace(db).await;
}

/// Retention on the application's clock: unfinished dialogues go after 2 days, remembered
/// searches and publication keys after 7, delivery records after 30 (their fan-outs keep
/// the totals), and decided reports lose who sent them after 90.
#[tokio::test]
async fn what_is_no_longer_needed_is_pruned_on_time_and_totals_stay_whole() {
    use chrono::{Duration, TimeZone};
    use pingan::clock::{Clock, ManualClock};
    use pingan::domain::Frequency;
    use pingan::store::NewPublication;

    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()));
    let app = crate::delivery::spawn_on(clock.clone(), &[]).await;
    let start = clock.now();
    let reader = CITIZEN + 1;
    for chat in reader..reader + 3 {
        let mut s = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, start);
        s.frequency = Frequency::Off;
        app.store.save_subscriber(&s).await.unwrap();
    }
    let content = NoticeContent {
        districts: Default::default(),
        title: Title::parse("暴雨红色预警").unwrap(),
        body: Body::parse("请减少外出。").unwrap(),
        category: Category::Disaster,
        severity: Severity::Extreme,
        area: None,
        language: Language::Zh,
        source: None,
    };
    let notice = NewNotice::new(content, Publication::Now, None, Actor::System, start).unwrap();
    let actor = Actor::Telegram(901);
    let publication = NewPublication {
        notices: std::slice::from_ref(&notice),
        actor: &actor,
        idempotency_key: Some("telegram:901:5"),
        ends_dialogue: None,
    };
    let published = app.store.publish(&publication).await.unwrap().notices.remove(0);
    let key = format!("alert:{}", published.id);
    crate::delivery::finished(&app, &key).await;
    let query = app.store.remember_query("诈骗", start).await.unwrap();
    app.store.save_dialogue(ChatId(1), 1, "{}", start).await.unwrap();
    let report = app
        .store
        .submit_report(&NewReport {
            chat: ChatId(1),
            user_id: 1,
            language: Language::Zh,
            story: ReportStory::parse("对方冒充客服要求转账。").unwrap(),
            forwarded: None,
            subjects: Vec::new(),
            created_at: start,
        })
        .await
        .unwrap();
    app.store.decide_report(report.id, &ReportDecision::Reject, &Actor::Telegram(902), start).await.unwrap();

    let at = |days: i64| start + Duration::days(days) + Duration::minutes(1);
    clock.set(at(3));
    crate::delivery::eventually("the dialogue to go", || async {
        app.store.dialogue(ChatId(1), 1).await.unwrap().is_none()
    })
    .await;
    assert!(app.store.remembered_query(query).await.unwrap().is_some(), "a search is kept a week");

    clock.set(at(8));
    crate::delivery::eventually("the search and the key to go", || async {
        app.store.remembered_query(query).await.unwrap().is_none()
            && app.store.published_under("telegram:901:5").await.unwrap().is_none()
    })
    .await;
    assert_eq!(app.store.delivery_counts().await.unwrap().sent, 3);

    clock.set(at(31));
    // The totals are whole before and after the prune, so the wait is for the records
    // themselves to go (waiting on the totals alone raced the prune).
    crate::delivery::eventually("the delivery records to go", || async {
        let counts = app.store.delivery_counts().await.unwrap();
        counts.sent == 3
            && app.store.fanout_progress(10).await.unwrap().iter().all(|p| p.sent == 3 && p.total() == 3)
            && found_in(&app.db, reader).await == ["subscribers.chat_id"]
    })
    .await;
    let names_reader = found_in(&app.db, reader).await;
    assert_eq!(names_reader, ["subscribers.chat_id"], "only the subscription names the reader now");
    let kept = app.store.report(report.id).await.unwrap().unwrap();
    assert_eq!(kept.user_id, Some(1), "a decided report keeps its sender for 90 days");

    clock.set(at(91));
    crate::delivery::eventually("the report to lose its sender", || async {
        app.store.report(report.id).await.unwrap().unwrap().user_id.is_none()
    })
    .await;
    let kept = app.store.report(report.id).await.unwrap().unwrap();
    assert_eq!((kept.chat, kept.story.as_str()), (None, "对方冒充客服要求转账。"), "what it said stays");
    app.stop().await.unwrap();
}
