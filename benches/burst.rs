//! Reply burst benchmark: many citizens type commands at the same moment (say, right after
//! an alert), against a fake Bot API that answers 429 to whatever breaks Telegram's flood
//! limits (30 messages a second in all, 900 ms between two messages to one private chat).
//!
//!     cargo bench --bench burst                         # 300 commands from 100 chats
//!     BENCH_CHATS=500 BENCH_COMMANDS=4 cargo bench --bench burst
//!     BENCH_ALERT=2000 cargo bench --bench burst       # the same burst during an alert's fan-out
//!
//! It prints the replies a second, the 429s the replies provoked (Telegram refusing a
//! reply), and the delay from the burst to each reply (p50, p99, max). With BENCH_ALERT it
//! also fans an Extreme alert out to that many subscribers during the burst and prints the
//! alert's share of the sends while both were waiting.

// The tests' support code; only part of it is used here, and its unit tests do not run
// in a benchmark.
#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{
    Actor, Body, Category, ChatId, Language, NewNotice, NoticeContent, Publication, Severity, Subscriber,
    Title,
};
use support::fake_telegram::{FakeTelegram, Limits, TgUser};
use support::test_app::settings_for;
use support::test_db::TestDb;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p).div_ceil(100).max(1) - 1]
}

#[tokio::main]
async fn main() {
    let chats: i64 = env_or("BENCH_CHATS", 100);
    let commands: usize = env_or("BENCH_COMMANDS", 3);
    let alert: i64 = env_or("BENCH_ALERT", 0);

    let fake = FakeTelegram::start().await;
    fake.enforce_limits(Limits::telegram());
    let db = TestDb::sqlite();
    let store = db.store().await;
    // The alert's subscribers are chats of their own, apart from those typing commands.
    let now = Utc::now();
    for chat in 1_000_000..1_000_000 + alert {
        store
            .save_subscriber(&Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now))
            .await
            .unwrap();
    }
    let settings = settings_for(
        &fake,
        &db,
        &[
            ("PINGAN_DELIVERY_TICK_MS", "100"),
            ("RUST_LOG", "warn"),
            // The shipped budgets: a few commands each are well within them.
            ("PINGAN_BOT_COMMANDS_PER_MINUTE", "20"),
            ("PINGAN_BOT_COSTLY_COMMANDS_PER_MINUTE", "10"),
            ("PINGAN_BOT_GROUP_COMMANDS_PER_MINUTE", "10"),
        ],
    );
    let rate = settings.delivery.rate_per_second;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = tokio::spawn(pingan::startup::run(settings, Arc::new(SystemClock), async {
        let _ = stopped.await;
    }));
    fake.wait_for("the bot to poll", |s| (s.poll_generation > 0).then_some(())).await;

    if alert > 0 {
        let content = NoticeContent {
            districts: Default::default(),
            title: Title::parse("暴雨红色预警").unwrap(),
            body: Body::parse("请减少外出，远离低洼地带。").unwrap(),
            category: Category::Disaster,
            severity: Severity::Extreme,
            area: None,
            language: Language::Zh,
            source: None,
        };
        let notice = NewNotice::new(content, Publication::Now, None, Actor::System, Utc::now()).unwrap();
        store.insert_notice(&notice).await.unwrap();
        fake.wait_for("the alert to start", |s| s.sent.iter().any(|m| m.chat_id >= 1_000_000).then_some(()))
            .await;
    }

    let typed = ["/help", "/about", "/latest", "/tip", "/tips"];
    let burst = tokio::time::Instant::now();
    let started = Instant::now();
    for round in 0..commands {
        for chat in 1..=chats {
            fake.user_sends(&TgUser::new(chat, "市民", Some("zh-hans")), typed[round % typed.len()]);
        }
    }
    let expected = chats as usize * commands;
    loop {
        let replies = fake.sent().iter().filter(|m| m.chat_id <= chats).count();
        if replies >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed().as_secs_f64();
    let calls = fake.calls_of("sendMessage");
    let to_citizens =
        |c: &&support::fake_telegram::Call| c.params["chat_id"].as_i64().is_some_and(|id| id <= chats);
    let replies: Vec<_> = calls.iter().filter(to_citizens).filter(|c| c.status == 200).collect();
    let refused = calls.iter().filter(to_citizens).filter(|c| c.status == 429).count();
    let mut delays: Vec<Duration> = replies.iter().map(|c| c.at.duration_since(burst)).collect();
    delays.sort();
    let last_reply = replies.iter().map(|c| c.at).max().unwrap_or(burst);
    let alert_sends = calls
        .iter()
        .filter(|c| c.status == 200 && c.at <= last_reply)
        .filter(|c| c.params["chat_id"].as_i64().is_some_and(|id| id >= 1_000_000))
        .count();
    println!(
        "burst: {expected} commands from {chats} chats at once under Telegram's limits (rate {rate}/s): \
         {} replies in {took:.1} s = {:.1} replies/s ({:.2} of the configured rate), {refused} x 429; \
         delay p50 {:.2} s, p99 {:.2} s, max {:.2} s{}",
        replies.len(),
        replies.len() as f64 / took,
        replies.len() as f64 / took / f64::from(rate),
        percentile(&delays, 50).as_secs_f64(),
        percentile(&delays, 99).as_secs_f64(),
        delays.last().copied().unwrap_or_default().as_secs_f64(),
        if alert > 0 {
            format!(
                "; alert sends meanwhile {alert_sends} ({:.0}% of all sends)",
                alert_sends as f64 * 100.0 / (alert_sends + replies.len()) as f64
            )
        } else {
            String::new()
        },
    );
    let _ = stop.send(());
    let _ = app.await;
}
