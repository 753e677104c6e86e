//! The real binary as a child process: a notice added by another process is alerted, and
//! a fan-out survives SIGKILL.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::config::{DatabaseSettings, DatabaseUrl};
use pingan::domain::{ChatId, Language, Subscriber};
use pingan::store::Store;
use tempfile::TempDir;
use tokio::process::Child;

use crate::support::binary::{output, pingan, text};
use crate::support::fake_telegram::{FakeTelegram, Fault, FaultRule};
use crate::support::test_app::spawn_app_with;
use crate::support::test_db::TestDb;

#[tokio::test]
async fn a_notice_added_at_the_command_line_is_alerted_by_the_running_bot() {
    let app =
        spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[("PINGAN_DELIVERY_TICK_MS", "100")]).await;
    let now = Utc::now();
    for chat in [81, 82] {
        app.store
            .save_subscriber(&Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now))
            .await
            .unwrap();
    }
    let dir = TempDir::new().unwrap();
    let mut add = pingan(dir.path());
    add.env("DATABASE_URL", app.db.url())
        .args([
            "notices",
            "add",
            "--title",
            "台风红色预警",
            "--severity",
            "Extreme",
            "--category",
            "disaster",
        ])
        .args(["--body", "请留在室内，远离海边。"]);
    let out = output(&mut add, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    for chat in [81, 82] {
        let alert = app.fake.wait_for_sent(chat, 1).await;
        assert!(alert[0].text.starts_with("🚨 紧急预警\n\n🔴 台风红色预警"), "{}", alert[0].text);
    }
    app.stop().await.unwrap();
}

const SUBSCRIBERS: i64 = 600;
const CONCURRENCY: usize = 16;

fn start_bot(dir: &TempDir, fake: &FakeTelegram, url: &str) -> Child {
    pingan(dir.path())
        .arg("run")
        .env("TELOXIDE_TOKEN", FakeTelegram::TOKEN)
        .env("TELOXIDE_API_URL", fake.api_url())
        .env("DATABASE_URL", url)
        .env("PINGAN_DELIVERY_RATE_PER_SECOND", "200")
        .env("PINGAN_DELIVERY_CONCURRENCY", CONCURRENCY.to_string())
        .env("PINGAN_DELIVERY_LEASE_SECS", "5")
        .env("PINGAN_DATABASE_BUSY_TIMEOUT_MS", "2000")
        .env("PINGAN_DELIVERY_TICK_MS", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pingan run")
}

fn delivered(fake: &FakeTelegram) -> HashMap<i64, usize> {
    let mut counts = HashMap::new();
    for message in fake.sent() {
        *counts.entry(message.chat_id).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_killed_midway_finishes_after_a_restart_with_no_one_missed() {
    let dir = TempDir::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pingan.db").display());
    let settings = DatabaseSettings {
        url: DatabaseUrl::parse(&url).unwrap(),
        max_connections: 2,
        busy_timeout: Duration::from_secs(5),
    };
    let store: Arc<dyn Store> = pingan::store::open(&settings).await.unwrap().0;
    let now = Utc::now();
    for chat in 1..=SUBSCRIBERS {
        store
            .save_subscriber(&Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now))
            .await
            .unwrap();
    }
    let fake = FakeTelegram::start().await;
    // Slow answers keep sends in flight, as a real network does.
    fake.add_fault(FaultRule::on("sendMessage", Fault::Delay(Duration::from_millis(30))));

    let mut first = start_bot(&dir, &fake, &url);
    fake.wait_for("the bot to poll", |s| (s.poll_generation > 0).then_some(())).await;
    let notice = pingan::domain::NewNotice::new(
        pingan::domain::NoticeContent {
            districts: Default::default(),
            title: pingan::domain::Title::parse("地震预警").unwrap(),
            body: pingan::domain::Body::parse("请立即避险。").unwrap(),
            category: pingan::domain::Category::Disaster,
            severity: pingan::domain::Severity::Extreme,
            area: None,
            language: Language::Zh,
            source: None,
        },
        pingan::domain::Publication::Now,
        None,
        pingan::domain::Actor::System,
        Utc::now(),
    )
    .unwrap();
    store.insert_notice(&notice).await.unwrap();

    fake.wait_for("a third of the fan-out", |s| (s.sent.len() as i64 >= SUBSCRIBERS / 3).then_some(())).await;
    first.start_kill().expect("SIGKILL");
    first.wait().await.expect("the killed bot");
    let at_kill = fake.sent().len();
    assert!((at_kill as i64) < SUBSCRIBERS, "killed in the middle, after {at_kill}");

    let mut second = start_bot(&dir, &fake, &url);
    fake.wait_for("every subscriber to be served after the restart", |s| {
        let chats: std::collections::HashSet<i64> = s.sent.iter().map(|m| m.chat_id).collect();
        (chats.len() as i64 == SUBSCRIBERS).then_some(())
    })
    .await;
    let counts = delivered(&fake);
    let missing: Vec<i64> = (1..=SUBSCRIBERS).filter(|c| !counts.contains_key(c)).collect();
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    eprintln!(
        "crash test: {at_kill} of {SUBSCRIBERS} sent before SIGKILL; after the restart none missing, \
         {duplicates} duplicate(s) (at most {CONCURRENCY} sends were in flight)"
    );
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert!(duplicates <= CONCURRENCY, "{duplicates} duplicates, more than the {CONCURRENCY} in flight");

    let progress = store.fanout_progress(5).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut done = progress.iter().any(|p| p.finished());
    while !done && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        done = store
            .fanout_progress(5)
            .await
            .unwrap()
            .iter()
            .any(|p| p.finished() && p.sent as i64 == SUBSCRIBERS);
    }
    assert!(done, "the outbox records every delivery as sent");
    second.start_kill().ok();
    store.close().await;
}
