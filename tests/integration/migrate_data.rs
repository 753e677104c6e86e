//! `pingan migrate-data`: a SQLite database filled by real traffic through the app, copied
//! into PostgreSQL by the real binary; the copy has every row and id, its sequences go on
//! from there, and a bot on it answers as the SQLite one did. Refusals and failures leave
//! the target as it was.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, Category, Language, NewNotice, Publication, Role, Severity};
use pingan::store::PollOutcome;
use serde_json::Value;
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::delivery::{FAST, content, subscribe};
use crate::support::binary::{output, pingan, text};
use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, free_port, spawn_app_with};
use crate::support::test_db::TestDb;

const EDITOR: i64 = 951;
const MODERATOR: i64 = 952;
const CITIZEN: i64 = 953;
/// Asks the same questions of both bots; nothing else happens in this chat.
const READER: i64 = 954;
/// Leaves a /report half written: a dialogue row.
const WRITER: i64 = 955;
const PASSWORD: &str = "s3cret-Pw0rd";

fn user(id: i64) -> TgUser {
    TgUser::new(id, "Someone", Some("zh-hans"))
}

/// Every message the bot sends `from` in answer to `text`, as (HTML text, keyboard).
async fn ask(app: &TestApp, from: i64, text: &str) -> Vec<(String, Option<Value>)> {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + 1).await;
    app.fake.wait_until_consumed().await;
    // A command may answer with several messages; they leave within a moment of each other.
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.fake.sent_to(from).split_off(before).into_iter().map(|m| (m.raw, m.reply_markup)).collect()
}

async fn press(app: &TestApp, from: i64, message: &SentMessage, label: &str) {
    let id = app.fake.press_labelled(&user(from), message, label);
    app.fake.wait_for_answer(&id).await;
}

/// The questions whose answers must not change by moving the data. The last [`RANKED`]
/// are searches whose many results tie closely: FTS5's bm25 and PostgreSQL's ts_rank
/// order those differently on any data, so only their counts are compared with SQLite's
/// (and their order with an index PostgreSQL built itself).
const QUESTIONS: &[&str] = &[
    "/latest",
    "/search 理赔",
    "/check +86 171 2345 6789",
    "/check kuaidi-lipei.top",
    "/search 诈骗",
    "/search fraud",
];
const RANKED: usize = 2;

async fn answers(app: &TestApp) -> Vec<Vec<(String, Option<Value>)>> {
    let mut all = Vec::new();
    for question in QUESTIONS {
        all.push(ask(app, READER, question).await);
    }
    all
}

fn first_line(answer: &[(String, Option<Value>)]) -> &str {
    answer[0].0.lines().next().unwrap_or_default()
}

/// A SQLite database as a bureau's would be after a while: `pingan demo-data`, then the
/// app running on it with subscribers, an alert fanned out and delivered, a report
/// confirmed into the list, an API client publishing with an idempotency key, a dialogue
/// left open, a CAP feed polled. Returns the database and the answers to [`QUESTIONS`].
async fn populated_sqlite(dir: &Path) -> (TestDb, Vec<Vec<(String, Option<Value>)>>) {
    let db = TestDb::sqlite();
    let demo = output(pingan(dir).arg("demo-data").env("DATABASE_URL", db.url()), None).await;
    assert!(demo.status.success(), "{}", text(&demo.stderr));

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut env = FAST.to_vec();
    env.push(("PINGAN_HTTP_LISTEN", &listen));
    let app = spawn_app_with(db, Arc::new(SystemClock), &env).await;
    let now = Utc::now();
    app.store.grant(EDITOR, Role::Editor, &Actor::System, now).await.unwrap();
    app.store.grant(MODERATOR, Role::Moderator, &Actor::System, now).await.unwrap();

    // Subscribers: five stored, one through /subscribe.
    subscribe(&app, 1..=5, Language::Zh).await;
    assert!(ask(&app, CITIZEN, "/subscribe").await[0].0.contains("订阅"));

    // An API client publishes an Extreme alert with an idempotency key; it fans out.
    let token = pingan::tokens::new_token().unwrap();
    app.store
        .create_token("cms", &pingan::tokens::hash(&token), Role::Editor, &Actor::System, now)
        .await
        .unwrap();
    let created = reqwest::Client::new()
        .post(format!("http://{listen}/api/notices"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "migrate-1")
        .json(&serde_json::json!({
            "title": "紧急提醒：冒充快递理赔诈骗", "body": "接到“快递理赔”电话请立即挂断，不要共享屏幕。",
            "category": "fraud", "severity": "Extreme", "language": "zh",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    for chat in 1..=5 {
        app.fake.wait_for_sent(chat, 1).await;
    }
    app.fake.wait_for_sent(CITIZEN, 2).await;

    // A report, confirmed by a moderator: the number and the site are listed.
    ask(&app, CITIZEN, "/report").await;
    ask(&app, CITIZEN, "有人自称快递客服说包裹丢了要理赔，让我下载会议软件共享屏幕。").await;
    let before = app.fake.sent_to(CITIZEN).len();
    app.fake.user_forwards(
        &user(CITIZEN),
        "【理赔通知】请致电 171-2345-6789 或访问 kuaidi-lipei.top 办理。",
        "快递理赔中心",
    );
    let summary = app.fake.wait_for_sent(CITIZEN, before + 1).await.remove(before);
    press(&app, CITIZEN, &summary, "📨 提交举报").await;
    let seen = app.fake.sent_to(MODERATOR).len();
    app.fake.user_sends(&user(MODERATOR), "/reports");
    let card = app.fake.wait_for_sent(MODERATOR, seen + 2).await.remove(seen + 1);
    press(&app, MODERATOR, &card, "✅ 属实并列入名单").await;
    assert_eq!(app.store.indicators(None, 10, 0).await.unwrap().len(), 2);

    // A report begun and not finished.
    ask(&app, WRITER, "/report").await;

    // A CAP feed polled once, with one entry handled.
    let feed = app
        .store
        .claim_feed(
            "police",
            "https://alerts.example/cap.atom",
            now,
            now + chrono::Duration::minutes(1),
            false,
        )
        .await
        .unwrap()
        .expect("a first claim");
    let outcome = PollOutcome::Success {
        etag: Some("\"v1\"".into()),
        last_modified: None,
        not_modified: false,
        imported: 0,
    };
    app.store
        .finish_feed_poll("police", feed.token, now, now + chrono::Duration::minutes(5), &outcome)
        .await
        .unwrap();
    app.store.record_feed_entry("police", "urn:oid:2.49.0.1.156#2026-12-01T08:00:00Z", now).await.unwrap();

    let answers = answers(&app).await;
    let db = stop(app).await;
    (db, answers)
}

/// Stops the app and hands back its database.
async fn stop(mut app: TestApp) -> TestDb {
    let db = std::mem::replace(&mut app.db, TestDb::sqlite());
    app.stop().await.unwrap();
    db
}

/// Row counts of every table in a SQLite database (sqlx's own record and SQLite's aside).
async fn sqlite_counts(url: &str) -> BTreeMap<String, i64> {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' \
         AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'search_fts%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut counts = BTreeMap::new();
    for (name,) in names {
        let (n,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM {name}")).fetch_one(&mut conn).await.unwrap();
        counts.insert(name, n);
    }
    conn.close().await.unwrap();
    counts
}

/// Row counts of every table in the test's PostgreSQL schema.
async fn postgres_counts(conn: &mut PgConnection) -> BTreeMap<String, i64> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut counts = BTreeMap::new();
    for (name,) in names {
        let (n,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM {name}")).fetch_one(&mut *conn).await.unwrap();
        counts.insert(name, n);
    }
    counts
}

/// Everything a refused or failed run must leave as it was: each table's count, the ids
/// of the tables that have them, and the rows migrating wrote.
async fn postgres_state(conn: &mut PgConnection) -> (BTreeMap<String, i64>, Vec<(String, String)>) {
    let counts = postgres_counts(conn).await;
    let versions: Vec<(String, String)> =
        sqlx::query_as("SELECT name, version FROM data_versions ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    (counts, versions)
}

async fn ids(url_is_postgres: bool, url: &str, table: &str) -> Vec<i64> {
    let query = format!("SELECT id FROM {table} ORDER BY id");
    if url_is_postgres {
        let mut conn = PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(&query).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(&query).fetch_all(&mut conn).await.unwrap()
    }
}

/// The test database's URL with a password in it (trust authentication ignores it).
fn with_password(url: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_password(Some(PASSWORD)).unwrap();
    url.to_string()
}

async fn migrate_data(dir: &Path, from: &str, to: &str, extra: &[&str]) -> std::process::Output {
    output(pingan(dir).args(["migrate-data", "--from", from, "--to", to]).args(extra), None).await
}

#[tokio::test]
async fn a_populated_sqlite_database_moves_to_postgresql_whole_and_the_bot_answers_the_same() {
    let Some(pg) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, before) = populated_sqlite(dir.path()).await;

    let source = sqlite_counts(sqlite.url()).await;
    for busy in [
        "notices",
        "tips",
        "search_documents",
        "subscribers",
        "admins",
        "outbox_messages",
        "fanouts",
        "deliveries",
        "idempotency_keys",
        "audit_log",
        "api_tokens",
        "dialogues",
        "indicators",
        "reports",
        "report_subjects",
        "fraud_figures",
        "data_versions",
        "cap_feeds",
        "cap_feed_entries",
    ] {
        assert!(source[busy] > 0, "the source has rows in {busy}: {source:?}");
    }

    let out = migrate_data(dir.path(), sqlite.url(), pg.url(), &["--batch-rows", "7"]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("every count agrees"), "{stdout}");

    // Every table PostgreSQL has holds as many rows as SQLite's of that name; the only
    // SQLite tables it has not are the FTS5 ones, whose rows went into search_documents.
    let mut conn = PgConnection::connect(pg.url()).await.unwrap();
    let target = postgres_counts(&mut conn).await;
    // The running instances' own state (leases, heartbeats, chat turns) is not copied.
    let runtime: Vec<&str> = pingan::cli::migrate_data::NOT_COPIED.iter().map(|(name, _)| *name).collect();
    for (table, n) in target.iter().filter(|(table, _)| !runtime.contains(&table.as_str())) {
        assert_eq!(Some(n), source.get(table), "{table}: PostgreSQL {n}, SQLite {:?}", source.get(table));
    }
    for table in ["leader_leases", "instances", "chat_send_state", "poll_lease"] {
        assert_eq!(target.get(table), Some(&0), "{table} is not copied");
    }
    let only_in_sqlite: Vec<&String> = source.keys().filter(|t| !target.contains_key(*t)).collect();
    assert!(only_in_sqlite.is_empty(), "tables not copied: {only_in_sqlite:?}");
    for table in
        ["notices", "deliveries", "fanouts", "reports", "indicators", "audit_log", "api_tokens", "tips"]
    {
        assert_eq!(
            ids(true, pg.url(), table).await,
            ids(false, sqlite.url(), table).await,
            "{table} keeps its ids"
        );
    }
    let (documents,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM search_documents WHERE title <> '' AND document <> ''::tsvector",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(documents, source["search_documents"], "every document keeps its tokens");
    let (sent,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND sent_at IS NOT NULL")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(sent >= 6, "the alert's deliveries, sent, with their times: {sent}");
    // Each document's tokens are FTS5's, as they were.
    let tokens: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, title, body FROM search_documents ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mut fts = SqliteConnection::connect(sqlite.url()).await.unwrap();
    let sqlite_tokens: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT rowid, title, body FROM search_fts ORDER BY rowid")
            .fetch_all(&mut fts)
            .await
            .unwrap();
    fts.close().await.unwrap();
    assert_eq!(tokens, sqlite_tokens);
    // Every identity sequence hands out the id after the largest copied (notices are
    // left to the app, below).
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
         WHERE table_schema = current_schema() AND is_identity = 'YES' AND table_name <> 'notices'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(identities.len() >= 10, "{identities:?}");
    for (table, column) in identities {
        let (largest, next): (Option<i64>, i64) = sqlx::query_as(&format!(
            "SELECT (SELECT MAX({column}) FROM {table}), nextval(pg_get_serial_sequence('{table}', '{column}'))"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(next, largest.unwrap_or(0) + 1, "{table}.{column}");
    }

    // A bot on PostgreSQL answers as the SQLite one did.
    let largest_notice = *ids(false, sqlite.url(), "notices").await.last().unwrap();
    let app = spawn_app_with(pg, Arc::new(SystemClock), FAST).await;
    // Telegram's update ids go on from where the SQLite bot's stopped (this fake's would
    // start again at 1, and the inbox, copied too, already holds those ids).
    app.fake.continue_update_ids_from(1_000);
    let after = answers(&app).await;
    let exact = QUESTIONS.len() - RANKED;
    for ((question, sqlite_answer), postgres_answer) in QUESTIONS.iter().zip(&before).zip(&after).take(exact)
    {
        assert_eq!(postgres_answer, sqlite_answer, "{question}");
    }
    assert!(
        before[1][0].0.contains("紧急提醒：冒充快递理赔诈骗"),
        "the API's notice is found: {:?}",
        before[1]
    );
    assert!(before[2][0].0.starts_with("🔴"), "the reported number is flagged: {:?}", before[2]);
    for (question, (sqlite_answer, postgres_answer)) in
        QUESTIONS.iter().zip(before.iter().zip(&after)).skip(exact)
    {
        assert!(first_line(sqlite_answer).contains("找到"), "{question}: {sqlite_answer:?}");
        assert_eq!(first_line(postgres_answer), first_line(sqlite_answer), "{question}: as many results");
    }
    // The copied index is the one PostgreSQL builds itself from the same notices and tips:
    // after a rebuild, the broad searches answer exactly as before it.
    sqlx::query("DELETE FROM data_versions WHERE name = 'search_tokens'").execute(&mut conn).await.unwrap();
    let report = app.store.migrate().await.unwrap();
    let rebuilt = report.reindexed.expect("the index rebuilt");
    assert_eq!(i64::try_from(rebuilt.notices + rebuilt.tips).unwrap(), source["search_documents"]);
    for (question, answer) in QUESTIONS.iter().zip(&after).skip(exact) {
        assert_eq!(
            &ask(&app, READER, question).await,
            answer,
            "{question}: the copied index ranks as a rebuilt one"
        );
    }
    conn.close().await.unwrap();

    // The sequences go on past the copied ids: a new notice gets the next one.
    let notice = NewNotice::new(
        content("迁移后的第一条通知", Severity::Minor, Category::Fraud, Language::Zh),
        Publication::Now,
        None,
        Actor::Cli("editor".into()),
        Utc::now(),
    )
    .unwrap();
    let stored = app.store.insert_notice(&notice).await.unwrap();
    assert_eq!(stored.id.0, largest_notice + 1);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_target_holding_data_is_refused_unchanged_and_replaced_only_when_asked() {
    let Some(pg) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = TestDb::sqlite();
    let demo = output(pingan(dir.path()).arg("demo-data").env("DATABASE_URL", sqlite.url()), None).await;
    assert!(demo.status.success(), "{}", text(&demo.stderr));

    let store = pg.store().await;
    let notice = NewNotice::new(
        content("已在 PostgreSQL 的通知", Severity::Minor, Category::Fraud, Language::Zh),
        Publication::Now,
        None,
        Actor::Cli("editor".into()),
        Utc::now(),
    )
    .unwrap();
    store.insert_notice(&notice).await.unwrap();
    store.close().await;
    let mut conn = PgConnection::connect(pg.url()).await.unwrap();
    let unchanged = postgres_state(&mut conn).await;

    let to = with_password(pg.url());
    let out = migrate_data(dir.path(), sqlite.url(), &to, &[]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("already holds data: notices (1 row)"), "{stderr}");
    assert!(stderr.contains("--replace-target-data"), "{stderr}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "{stdout}\n{stderr}");
    assert_eq!(postgres_state(&mut conn).await, unchanged, "nothing changed");

    let out = migrate_data(dir.path(), sqlite.url(), &to, &["--replace-target-data"]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Deleting what postgres://127.0.0.1:5432/test holds first: notices (1 row)"),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "{stdout}\n{stderr}");
    let source = sqlite_counts(sqlite.url()).await;
    let target = postgres_counts(&mut conn).await;
    assert_eq!(target["notices"], source["notices"], "the source's notices in place of the target's");
    assert_eq!(ids(true, pg.url(), "notices").await, ids(false, sqlite.url(), "notices").await);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn the_binary_prints_the_counts_table_and_never_the_password() {
    let Some(pg) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = TestDb::sqlite();
    let demo = output(pingan(dir.path()).arg("demo-data").env("DATABASE_URL", sqlite.url()), None).await;
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let source = sqlite_counts(sqlite.url()).await;

    let out = migrate_data(dir.path(), sqlite.url(), &with_password(pg.url()), &[]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "{stdout}\n{stderr}");
    assert!(stdout.contains("Copying "), "{stdout}");
    assert!(stdout.contains(" into postgres://127.0.0.1:5432/test "), "{stdout}");
    let header = stdout.lines().find(|l| l.starts_with("table ")).expect("a counts table");
    assert!(
        header.contains("SQLite") && header.contains("PostgreSQL") && header.contains("next id"),
        "{header}"
    );
    for table in pingan::cli::migrate_data::COPIED {
        let n = source[table.name];
        let line =
            stdout.lines().find(|l| l.split_whitespace().next() == Some(table.name)).unwrap_or_else(|| {
                panic!("a line for {} in\n{stdout}", table.name);
            });
        let figures: Vec<&str> = line.split_whitespace().skip(1).take(3).collect();
        assert_eq!(figures, vec![n.to_string(); 3], "{line}");
    }
    let notices = stdout.lines().find(|l| l.starts_with("notices ")).unwrap();
    assert!(notices.ends_with(&format!("id {}", source["notices"] + 1)), "{notices}");

    let help = output(pingan(dir.path()).args(["migrate-data", "--help"]), None).await;
    let help = text(&help.stdout);
    assert!(help.contains("one PostgreSQL transaction") && help.contains("Stop the bot first"), "{help}");
    for flag in ["--from", "--to", "--migrate-source", "--replace-target-data", "--batch-rows"] {
        assert!(help.contains(flag), "{flag} in\n{help}");
    }
}

#[tokio::test]
async fn a_failure_midway_leaves_the_target_as_it_was() {
    let Some(pg) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = TestDb::sqlite();
    let demo = output(pingan(dir.path()).arg("demo-data").env("DATABASE_URL", sqlite.url()), None).await;
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    // SQLite keeps a NUL character in text; PostgreSQL refuses it. Reports are copied
    // after notices, tips, search documents and more, which are written by then.
    let mut source = SqliteConnection::connect(sqlite.url()).await.unwrap();
    sqlx::query(
        "INSERT INTO reports (chat_id, user_id, language, story, status, created_at) \
         VALUES (7, 7, 'zh', 'a' || char(0) || 'b', 'pending', '2026-12-01T08:00:00Z')",
    )
    .execute(&mut source)
    .await
    .unwrap();
    source.close().await.unwrap();

    pg.store().await.close().await;
    let mut conn = PgConnection::connect(pg.url()).await.unwrap();
    let unchanged = postgres_state(&mut conn).await;
    assert!(unchanged.0.iter().all(|(t, n)| *n == 0 || t == "data_versions"), "{unchanged:?}");

    let out = migrate_data(dir.path(), sqlite.url(), pg.url(), &["--batch-rows", "5"]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("nothing was written") && stderr.contains("reports"), "{stderr}");
    assert_eq!(
        postgres_state(&mut conn).await,
        unchanged,
        "the notices and tips written before were rolled back"
    );
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_source_behind_this_pingans_schema_is_refused_or_migrated_when_asked() {
    let Some(pg) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    // A database an older pingan made: every SQLite migration but the last.
    let older = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let latest = files.pop().unwrap();
    for file in &files {
        std::fs::copy(file, older.path().join(file.file_name().unwrap())).unwrap();
    }
    let latest: i64 =
        latest.file_name().unwrap().to_str().unwrap().split('_').next().unwrap().parse().unwrap();
    let sqlite = TestDb::sqlite();
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(sqlite.url()).unwrap().create_if_missing(true);
    let mut source = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::migrate::Migrator::new(older.path()).await.unwrap().run(&mut source).await.unwrap();
    sqlx::query(
        "INSERT INTO notices (title, body, category, severity, language, status, publish_at, author, \
         created_at, updated_at) VALUES ('旧通知', '正文', 'fraud', 'Minor', 'zh', 'published', \
         '2026-11-01T08:00:00Z', 'cli:editor', '2026-11-01T08:00:00Z', '2026-11-01T08:00:00Z')",
    )
    .execute(&mut source)
    .await
    .unwrap();
    source.close().await.unwrap();

    let out = migrate_data(dir.path(), sqlite.url(), pg.url(), &[]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("lacks {latest}")) && stderr.contains("--migrate-source"), "{stderr}");
    let mut conn = PgConnection::connect(pg.url()).await.unwrap();
    let untouched = postgres_counts(&mut conn).await;
    assert!(untouched.is_empty(), "refused before the target is even migrated: {untouched:?}");

    let out = migrate_data(dir.path(), sqlite.url(), pg.url(), &["--migrate-source"]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("applied migration {latest} ")), "{stdout}");
    assert_eq!(postgres_counts(&mut conn).await["notices"], 1);
    conn.close().await.unwrap();
}
