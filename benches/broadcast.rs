//! Broadcast benchmark: the real sender fans an urgent notice out to N subscribers through
//! a fake Bot API that answers 429 to whatever breaks Telegram's flood limits.
//!
//!     cargo bench --bench broadcast                       # 10 000 subscribers at 25/s
//!     BENCH_SUBSCRIBERS=2000 BENCH_RATE=25 cargo bench --bench broadcast
//!     BENCH_PAID=1 BENCH_RATE=1000 cargo bench --bench broadcast   # paid broadcasts
//!
//! It prints the achieved rate (sends after the first, over the time from the first to the
//! last), the 429s provoked, and the time from publication to the last delivery.

// The tests' support code; only part of it is used here, and its unit tests do not run
// in a benchmark.
#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{
    Actor, Body, Category, ChatId, Language, NewNotice, NoticeContent, Publication, Severity, Subscriber,
    Title,
};
use support::fake_telegram::{FakeTelegram, Limits};
use support::test_app::settings_for;
use support::test_db::TestDb;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let subscribers: i64 = env_or("BENCH_SUBSCRIBERS", 10_000);
    let rate: u32 = env_or("BENCH_RATE", 25);
    let paid = std::env::var("BENCH_PAID").is_ok_and(|v| v == "1");

    let fake = FakeTelegram::start().await;
    let limits = if paid { Limits { per_second: 1000, ..Limits::telegram() } } else { Limits::telegram() };
    fake.enforce_limits(limits);
    let db = TestDb::sqlite();
    let store = db.store().await;
    let now = Utc::now();
    for chat in 1..=subscribers {
        store
            .save_subscriber(&Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now))
            .await
            .unwrap();
    }

    let rate_text = rate.to_string();
    let mut env = vec![("PINGAN_DELIVERY_TICK_MS", "100"), ("RUST_LOG", "warn")];
    if paid {
        env.push(("PINGAN_DELIVERY_ALLOW_PAID_BROADCAST", "true"));
        env.push(("PINGAN_DELIVERY_PAID_RATE_PER_SECOND", rate_text.as_str()));
    } else {
        env.push(("PINGAN_DELIVERY_RATE_PER_SECOND", rate_text.as_str()));
    }
    let settings = settings_for(&fake, &db, &env);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = tokio::spawn(pingan::startup::run(settings, Arc::new(SystemClock), async {
        let _ = stopped.await;
    }));
    fake.wait_for("the bot to poll", |s| (s.poll_generation > 0).then_some(())).await;

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
    let published = Instant::now();
    let notice = NewNotice::new(content, Publication::Now, None, Actor::System, Utc::now()).unwrap();
    store.insert_notice(&notice).await.unwrap();

    let target = subscribers as usize;
    let mut last_report = Instant::now();
    loop {
        let delivered = fake.sent().len();
        if delivered >= target {
            break;
        }
        if last_report.elapsed().as_secs() >= 30 {
            eprintln!("... {delivered} of {target} delivered");
            last_report = Instant::now();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let total = published.elapsed();
    let calls = fake.calls_of("sendMessage");
    let ok: Vec<_> = calls.iter().filter(|c| c.status == 200).collect();
    let refused = calls.iter().filter(|c| c.status == 429).count();
    let span = ok.last().unwrap().at.duration_since(ok.first().unwrap().at).as_secs_f64();
    let achieved = (ok.len() - 1) as f64 / span;
    println!(
        "broadcast: {target} subscribers, configured {rate}/s{}: achieved {achieved:.2}/s ({:+.2}%), \
         {refused} x 429, publication to last delivery {:.1} s",
        if paid { " (paid)" } else { "" },
        (achieved / f64::from(rate) - 1.0) * 100.0,
        total.as_secs_f64(),
    );
    let _ = stop.send(());
    let _ = app.await;
}
