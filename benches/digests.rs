//! Digest benchmark (issue 15): the scheduler's tick that finds 100 000 subscribers' daily
//! and weekly digests due at once, renders each group's digest and queues a delivery for
//! every chat.
//!
//!     cargo bench --bench digests                           # 100 000 subscribers, SQLite
//!     BENCH_SUBSCRIBERS=10000 cargo bench --bench digests
//!     BENCH_BACKEND=postgres cargo bench --bench digests    # PostgreSQL at 127.0.0.1:5432 (TestDb)
//!     BENCH_BACKEND=postgres BENCH_ANALYZE=1 cargo bench --bench digests
//!
//! Setup, on a manual clock (`ManualClock`), the digests due at 08:00 in Shanghai on
//! 2026-12-01 (a Tuesday): the demo city's districts (`locales/demo-districts.toml`) as the
//! configuration; the demo notices (`content::demo::demo_notices`) and 20 generated ones
//! (`workload/notices.rs`, published over the day before, none Severe or Extreme, which
//! would be alerted instead) stored with `insert_notices`; the shipped tips, seeded by
//! `startup::open_store` as `pingan run` seeds them; then `BENCH_SUBSCRIBERS` (100 000)
//! subscribers over 50 filter profiles — language, daily or weekly (on Tuesdays),
//! categories, keywords to include and to leave out, districts — drawn so that the first
//! profile (no filter, Chinese, daily) is the most common and each next one rarer, as
//! settings are in life, stored with `save_subscriber`, each with its next digest due at
//! 08:00. The scheduler (`delivery::scheduler::Scheduler`, with the shipped delivery
//! settings) ticks once 30 s before, which publishes nothing new and marks the notices'
//! publications handled (none is urgent, no channel is set), as a running bot would have
//! done as they came.
//!
//! `BENCH_ANALYZE=1` runs `ANALYZE` before the tick: on PostgreSQL what autovacuum does
//! on a production server (the test server runs with it off, so its planner has no
//! statistics of the tables just filled); Pingan never runs it on SQLite.
//!
//! Measured: one `Scheduler::tick` one second after 08:00 — the function the scheduler
//! leader's loop calls every `delivery.tick_ms` (the loop itself, its interval and the
//! leader election are not run) — from the call until it returns, which is when every
//! digest delivery is queued (each round of 1 000 due chats is queued in one transaction,
//! as the tick goes). Printed: the tick's time (target < 10 s), the digests it reports
//! queued, the delivery rows and the distinct digest messages in the outbox afterwards
//! (read with SQL), the renderings the tick reports (`TickReport::rendered`: one per
//! distinct digest, however many rounds its chats come in), and the process's peak resident
//! memory over the tick (`VmHWM` reset at its start; `VmRSS` sampled every 100 ms; glibc's
//! malloc arenas bounded to two first, as the shipped binary bounds them in src/main.rs).

// The tests' support code (a fresh database); only part of it is used here.
#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "workload/memory.rs"]
mod memory;
#[path = "workload/notices.rs"]
mod notices;
#[path = "load/procfs.rs"]
mod procfs;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use pingan::clock::{Clock, ManualClock};
use pingan::config::{Loaded, Settings};
use pingan::delivery::scheduler::Scheduler;
use pingan::domain::{Category, ChatId, DistrictKey, Frequency, Keyword, Language, Subscriber};
use pingan::i18n::Texts;
use pingan::store::Store;
use sqlx::Connection;
use support::test_db::TestDb;
use tokio::sync::Notify;
use tokio::time::Instant;

use memory::{load_average, mib, reset_peak, sample, sampler};
use notices::{Generate, Generator};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Filter profiles the subscribers share.
const PROFILES: usize = 50;
/// Notices generated over the day before the digests.
const GENERATED_NOTICES: usize = 20;
/// The due chats the scheduler takes per round (`DIGEST_BATCH` in src/delivery/scheduler.rs).
const DIGEST_BATCH: usize = 1_000;
const ZONE: Tz = chrono_tz::Asia::Shanghai;

/// What a group of subscribers chose in /settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Profile {
    language: Language,
    weekly: bool,
    categories: BTreeSet<Category>,
    include: Vec<&'static str>,
    exclude: Vec<&'static str>,
    districts: Vec<&'static str>,
}

/// 50 distinct profiles: the first follows everything, daily, in Chinese; the rest are
/// drawn from what /settings offers.
fn profiles(seed: u64) -> Vec<Profile> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let categories: [&[Category]; 7] = [
        &[],
        &[Category::Fraud],
        &[Category::Traffic],
        &[Category::Fraud, Category::Traffic],
        &[Category::Appeal, Category::PublicOrder],
        &[Category::Disaster, Category::Fire],
        &[Category::General],
    ];
    let include_zh: [&[&str]; 5] = [&[], &["诈骗"], &["刷单"], &["预警", "结冰"], &["封闭"]];
    let include_en: [&[&str]; 5] = [&[], &["fraud"], &["scam"], &["road"], &["missing"]];
    let exclude: [&[&str]; 3] = [&[], &["演练"], &["marathon"]];
    let districts: [&[&str]; 3] = [&[], &["chengdong"], &["chengxi", "gaoxin"]];
    let mut chosen = vec![Profile {
        language: Language::Zh,
        weekly: false,
        categories: BTreeSet::new(),
        include: Vec::new(),
        exclude: Vec::new(),
        districts: Vec::new(),
    }];
    while chosen.len() < PROFILES {
        let language = if rng.f64() < 0.6 { Language::Zh } else { Language::En };
        let include = if language == Language::Zh { &include_zh } else { &include_en };
        let profile = Profile {
            language,
            weekly: rng.f64() < 0.2,
            categories: categories[rng.usize(..categories.len())].iter().copied().collect(),
            include: include[rng.usize(..include.len())].to_vec(),
            exclude: exclude[rng.usize(..exclude.len())].to_vec(),
            districts: districts[rng.usize(..districts.len())].to_vec(),
        };
        if !chosen.contains(&profile) {
            chosen.push(profile);
        }
    }
    chosen
}

impl Profile {
    fn subscriber(&self, chat: i64, saved: DateTime<Utc>, due: DateTime<Utc>) -> Subscriber {
        let mut s = Subscriber::new(ChatId(chat), self.language, ZONE, saved);
        if self.weekly {
            s.frequency = Frequency::Weekly(due.with_timezone(&ZONE).weekday());
        }
        s.categories = self.categories.clone();
        let keywords = |words: &[&str]| words.iter().map(|w| Keyword::parse(w).expect("a keyword")).collect();
        s.include_keywords = keywords(&self.include);
        s.exclude_keywords = keywords(&self.exclude);
        s.districts = self.districts.iter().map(|k| DistrictKey::parse(k).expect("a district key")).collect();
        s
    }
}

/// Settings as `pingan run` would read them with the demo districts as its configuration
/// file: the shipped defaults otherwise.
fn settings(db: &TestDb) -> Settings {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("locales/demo-districts.toml");
    let text = std::fs::read_to_string(&path).expect("locales/demo-districts.toml");
    let env: HashMap<&str, String> = HashMap::from([
        ("TELOXIDE_TOKEN", "123456:BENCH-digests-token".to_owned()),
        ("DATABASE_URL", db.url().to_owned()),
        ("PINGAN_HTTP_LISTEN", "off".to_owned()),
    ]);
    Loaded::from_sources(Some((path, text)), &|name| env.get(name).cloned()).expect("bench settings").settings
}

/// `ANALYZE`: the planner's statistics, which a PostgreSQL server's autovacuum keeps (the
/// test server runs with autovacuum off); Pingan never runs it on SQLite.
async fn analyze(db: &TestDb) {
    match db {
        TestDb::Sqlite { .. } => {
            let mut conn = sqlx::SqliteConnection::connect(db.url()).await.expect("a connection");
            sqlx::query("ANALYZE").execute(&mut conn).await.expect("ANALYZE");
        }
        TestDb::Postgres { .. } => {
            let mut conn = sqlx::PgConnection::connect(db.url()).await.expect("a connection");
            sqlx::query("ANALYZE").execute(&mut conn).await.expect("ANALYZE");
        }
    }
}

/// (delivery rows, distinct messages they send, digest messages stored), read with SQL.
async fn outbox_contents(db: &TestDb) -> (i64, i64, i64) {
    const DELIVERIES: &str = "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM deliveries";
    const MESSAGES: &str = "SELECT COUNT(*) FROM outbox_messages WHERE content_key LIKE 'digest:%'";
    match db {
        TestDb::Sqlite { .. } => {
            let mut conn = sqlx::SqliteConnection::connect(db.url()).await.expect("a connection");
            let (rows, distinct): (i64, i64) = sqlx::query_as(DELIVERIES).fetch_one(&mut conn).await.unwrap();
            let (messages,): (i64,) = sqlx::query_as(MESSAGES).fetch_one(&mut conn).await.unwrap();
            (rows, distinct, messages)
        }
        TestDb::Postgres { .. } => {
            let mut conn = sqlx::PgConnection::connect(db.url()).await.expect("a connection");
            let (rows, distinct): (i64, i64) = sqlx::query_as(DELIVERIES).fetch_one(&mut conn).await.unwrap();
            let (messages,): (i64,) = sqlx::query_as(MESSAGES).fetch_one(&mut conn).await.unwrap();
            (rows, distinct, messages)
        }
    }
}

fn main() {
    pingan::startup::bound_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(bench());
}

async fn bench() {
    let subscribers: usize = env_or("BENCH_SUBSCRIBERS", 100_000);
    let backend = std::env::var("BENCH_BACKEND").unwrap_or_else(|_| "sqlite".to_owned());
    println!(
        "digests: {subscribers} subscribers over {PROFILES} profiles, {backend} (load average {})",
        load_average()
    );
    let db = match backend.as_str() {
        "sqlite" => TestDb::sqlite(),
        "postgres" => match TestDb::postgres().await {
            Some(db) => db,
            None => {
                println!("  skipped: PostgreSQL at 127.0.0.1:5432 does not answer");
                return;
            }
        },
        other => panic!("BENCH_BACKEND: unknown backend {other:?} (sqlite, postgres)"),
    };
    // 08:00 in Shanghai.
    let due = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let saved = due - chrono::Duration::hours(20);
    let written = due - chrono::Duration::minutes(30);
    let clock = Arc::new(ManualClock::new(written));
    let mut settings = settings(&db);
    let store: Arc<dyn Store> = pingan::startup::open_store(&settings, clock.as_ref())
        .await
        .expect("open the database and seed the tips");

    // The day's notices.
    let started = Instant::now();
    let demo = pingan::content::demo::demo_notices(written).expect("the demo notices");
    let mut generator = Generator::new(
        15,
        Generate {
            chinese_share: 0.5,
            urgent: false,
            from: due - chrono::Duration::hours(24) + chrono::Duration::minutes(1),
            until: written - chrono::Duration::minutes(1),
            now: written,
        },
    );
    let generated = generator.notices(GENERATED_NOTICES);
    store.insert_notices(&demo).await.expect("store the demo notices");
    store.insert_notices(&generated).await.expect("store the generated notices");

    // The subscribers.
    let profiles = profiles(15);
    let weights: Vec<f64> = (1..=PROFILES).map(|k| 1.0 / k as f64).collect();
    let total_weight: f64 = weights.iter().sum();
    let mut rng = fastrand::Rng::with_seed(15);
    let chosen: Vec<usize> = (0..subscribers)
        .map(|_| {
            let mut pick = rng.f64() * total_weight;
            weights
                .iter()
                .position(|w| {
                    pick -= w;
                    pick < 0.0
                })
                .unwrap_or(PROFILES - 1)
        })
        .collect();
    let all: Vec<Subscriber> =
        chosen.iter().enumerate().map(|(k, p)| profiles[*p].subscriber(k as i64 + 1, saved, due)).collect();
    assert!(all.iter().all(|s| s.next_digest_at() == Some(due)), "every digest is due at 08:00");
    futures::stream::iter(all.iter())
        .map(|s| {
            let store = store.clone();
            async move { store.save_subscriber(s).await.expect("store a subscriber") }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    drop(all);
    let used: HashSet<usize> = chosen.iter().copied().collect();
    println!(
        "  setup: {} demo and {} generated notices, {subscribers} subscribers ({} of the profiles used, \
         the commonest by {} chats) in {:.1} s",
        demo.len(),
        generated.len(),
        used.len(),
        chosen.iter().filter(|p| **p == 0).count(),
        started.elapsed().as_secs_f64()
    );

    if std::env::var("BENCH_ANALYZE").is_ok_and(|v| v == "1") {
        analyze(&db).await;
        println!("  ANALYZE run before the tick (BENCH_ANALYZE=1)");
    }
    settings.bot.username = Some("pingan_digests_bot".to_owned());
    let texts = Texts::load().expect("the locales");
    let scheduler = Scheduler::new(
        store.clone(),
        clock.clone(),
        texts,
        settings.bot.clone(),
        settings.delivery.clone(),
        settings.retention,
        Arc::new(Notify::new()),
    );
    clock.set(due - chrono::Duration::seconds(30));
    let before = scheduler.tick().await.expect("the tick before");
    assert_eq!(before.digests, 0, "nothing is due before 08:00");

    clock.set(due + chrono::Duration::seconds(1));
    let idle = sample();
    let peak_reset = reset_peak();
    let stop = Arc::new(AtomicBool::new(false));
    let samples = sampler(Duration::from_millis(100), stop.clone());
    let started = Instant::now();
    let report = scheduler.tick().await.expect("the digest tick");
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let samples = samples.join().expect("the sampler");
    let end = sample();

    let (rows, distinct, messages) = outbox_contents(&db).await;
    println!(
        "  Scheduler::tick at 08:00:01: {:.2} s (target < 10 s: {}); {} digests queued, as it reports",
        took.as_secs_f64(),
        if took < Duration::from_secs(10) { "met" } else { "MISSED" },
        report.digests
    );
    println!(
        "  outbox afterwards: {rows} delivery rows sending {distinct} distinct messages; {messages} digest \
         messages stored; renderings made: {} ({} groups in {} rounds of {DIGEST_BATCH})",
        report.rendered,
        used.len(),
        subscribers.div_ceil(DIGEST_BATCH)
    );
    let max = samples.iter().map(|s| s.rss_kib).max().unwrap_or(end.rss_kib);
    println!(
        "  memory: VmRSS {} before the tick, max sampled {} during it, {} after; peak VmHWM {} ({}); \
         CPU of the process over the tick {:.2} s",
        mib(idle.rss_kib),
        mib(max),
        mib(end.rss_kib),
        mib(end.hwm_kib),
        if peak_reset { "since the tick began" } else { "since the process started: clear_refs refused" },
        end.cpu_secs - idle.cpu_secs
    );
    // Where the tick's time goes, apart: one round's read of due chats.
    let started = Instant::now();
    let due_now =
        store.due_digests(clock.now() + chrono::Duration::days(1), DIGEST_BATCH as u32).await.unwrap();
    println!(
        "  apart: one round's due_digests read ({} chats, as the next day's round would read them) {:.3} s",
        due_now.len(),
        started.elapsed().as_secs_f64()
    );
    store.close().await;
}
