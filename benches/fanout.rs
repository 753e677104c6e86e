//! Fan-out benchmark (issue 15): an Extreme notice to 100 000 subscribers, the real
//! application against a fake Bot API that enforces no limit, and the sender unpaced.
//!
//!     cargo bench --bench fanout                          # 100 000 subscribers, SQLite
//!     BENCH_SUBSCRIBERS=10000 cargo bench --bench fanout
//!     BENCH_BACKEND=postgres cargo bench --bench fanout   # PostgreSQL at 127.0.0.1:5432 (TestDb)
//!     BENCH_FAKE=tests cargo bench --bench fanout         # against the tests' fake Bot API
//!     BENCH_FAKE_ONLY=1 cargo bench --bench fanout        # the fakes alone, no bot
//!
//! Setup: `BENCH_SUBSCRIBERS` (100 000) subscribers stored with `save_subscriber` (70% in
//! Chinese, 30% in English; 60% with the default settings, the rest with a random choice
//! of categories and of up to five districts; seeded), then the real application
//! (`pingan::startup::run`: scheduler, sender, polling) against a fake Bot API in this
//! process that enforces no flood limit (`fanout/fake.rs`, a counting fake;
//! `BENCH_FAKE=tests` uses `tests/support/fake_telegram` instead). The configuration allows at most 1 000 messages
//! a second (`delivery.rate_per_second`, `paid_rate_per_second`); the settings are built
//! from the shipped defaults and the rates then set on the struct to `BENCH_RATE` (100 000)
//! a second, so that the pacer does not hold the sender back. `delivery.concurrency` stays
//! the shipped 32 unless `BENCH_CONCURRENCY` sets it; the scheduler ticks every 100 ms
//! (shipped: every second, which can add up to 0.9 s to the time until queued).
//! Then a Chinese Extreme notice is published (`insert_notice`, as broadcast.rs does).
//!
//! Measured:
//! - the time from publication until the whole fan-out is queued: the scheduler's tick
//!   finds the publication, reads the alert's candidates and queues one delivery row per
//!   chat in one transaction (`Scheduler::fan_out`, `OutboxStore::enqueue_publication`);
//!   the benchmark asks `notice_fanouts` every 10 ms and takes the first answer that
//!   counts a delivery for every subscriber;
//! - the sender's rate: messages taken by the fake after the first, over the time from the
//!   first to the last, and over each tenth of the messages (whether it holds as the
//!   queue drains); whether every subscriber got exactly one message (counted per chat at
//!   the fake: missing, duplicates, strays); then the outbox's final counts;
//! - the process's resident memory (`VmRSS` from /proc/self/status, with its heap, file
//!   and shared parts) sampled every 250 ms from a thread of its own, printed when sending
//!   starts, at 25, 50, 75 and 100% sent, and its peak (`VmHWM`, reset through
//!   /proc/self/clear_refs at publication, so that setup does not count); the process
//!   holds the bot, the fake and, on SQLite, the database engine; CPU seconds (user +
//!   system) of the whole process over the sends. glibc's malloc arenas are bounded to
//!   two first, as the shipped binary bounds them (src/main.rs). After the run, one
//!   `alert_audiences` read is timed on its own (the scheduler's read of every
//!   subscriber, grouped by filter profile).
//!
//! `BENCH_FAKE_ONLY=1` measures the fakes alone: `BENCH_SUBSCRIBERS` sendMessage requests
//! of an alert-sized HTML text, 32 in flight (the sender's concurrency), from a reqwest
//! client in this process: requests a second and CPU per 1 000 requests (client included),
//! to show whether a fake could limit the rate measured.

// The tests' support code (a fresh database, the tests' fake Bot API and its HTML parser);
// only part of it is used here.
#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "fanout/fake.rs"]
mod fake;
#[path = "workload/memory.rs"]
mod memory;
#[path = "load/procfs.rs"]
mod procfs;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use pingan::clock::SystemClock;
use pingan::config::{Loaded, Settings};
use pingan::domain::{
    Actor, Body, Category, ChatId, DistrictKey, Language, NewNotice, NoticeContent, Publication, Severity,
    Subscriber, Title,
};
use pingan::store::Store;
use support::fake_telegram::FakeTelegram;
use support::test_app::settings_for;
use support::test_db::TestDb;
use tokio::time::Instant;

use memory::{Sample, load_average, mib, reset_peak, sample, sampler};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Districts some subscribers follow (keys as a bureau would configure them; the store
/// keeps keys, the configuration is not needed to read them).
const DISTRICTS: [&str; 5] = ["chengdong", "chengxi", "gaoxin", "jiangbei", "kaifa"];

/// How often the resident memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// How often the benchmark asks whether the fan-out is queued.
const QUEUED_POLL: Duration = Duration::from_millis(10);
/// Without a new message for this long, the rest are counted as missing.
const STALL: Duration = Duration::from_secs(60);

/// The fake Bot API of a run.
enum Api {
    Counting(fake::Fake),
    Tests(FakeTelegram),
}

/// What the fake saw.
struct Seen {
    /// Arrival of every message taken, in order.
    arrivals: Vec<Instant>,
    /// Messages per chat, for chats 1 to N (index 0 unused).
    per_chat: Vec<u32>,
    stray: u64,
    refused: u64,
    bad_texts: Vec<String>,
}

impl Api {
    async fn polled(&self) -> bool {
        match self {
            Api::Counting(fake) => fake.lock().polls > 0,
            Api::Tests(fake) => fake.wait_for("a poll count", |s| Some(s.poll_generation > 0)).await,
        }
    }

    /// Messages taken so far.
    async fn delivered(&self) -> usize {
        match self {
            Api::Counting(fake) => fake.lock().arrivals.len(),
            Api::Tests(fake) => fake.wait_for("a count", |s| Some(s.sent.len())).await,
        }
    }

    fn seen(&self, chats: usize) -> Seen {
        match self {
            Api::Counting(fake) => {
                let bad_texts = fake.bad_texts();
                let state = fake.lock();
                Seen {
                    arrivals: state.arrivals.clone(),
                    per_chat: state.per_chat.clone(),
                    stray: state.stray,
                    refused: state.refused,
                    bad_texts,
                }
            }
            Api::Tests(fake) => {
                let calls = fake.calls_of("sendMessage");
                let mut per_chat = vec![0; chats + 1];
                let mut stray = 0;
                for message in fake.sent() {
                    match usize::try_from(message.chat_id).ok().filter(|c| *c > 0 && *c <= chats) {
                        Some(c) => per_chat[c] += 1,
                        None => stray += 1,
                    }
                }
                let mut arrivals: Vec<Instant> =
                    calls.iter().filter(|c| c.status == 200).map(|c| c.at).collect();
                arrivals.sort();
                let refused = calls.iter().filter(|c| c.status != 200).count() as u64;
                Seen { arrivals, per_chat, stray, refused, bad_texts: Vec::new() }
            }
        }
    }
}

/// The settings `support::test_app::settings_for` makes, for the counting fake.
fn settings_for_counting(fake: &fake::Fake, db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = HashMap::from([
        ("TELOXIDE_TOKEN".to_owned(), fake::TOKEN.to_owned()),
        ("TELOXIDE_API_URL".to_owned(), fake.api_url()),
        ("DATABASE_URL".to_owned(), db.url().to_owned()),
        ("PINGAN_HTTP_LISTEN".to_owned(), "off".to_owned()),
    ]);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Loaded::from_sources(None, &|name| env.get(name).cloned()).expect("bench settings").settings
}

async fn store_subscribers(store: &Arc<dyn Store>, n: i64) -> (usize, usize) {
    let now = Utc::now();
    let mut rng = fastrand::Rng::with_seed(15);
    // Made one by one as they are stored, so that the process does not hold them all.
    let mut zh = 0;
    let subscribers = (0..n).map(|k| {
        let language = if rng.f64() < 0.7 { Language::Zh } else { Language::En };
        let mut subscriber = Subscriber::new(ChatId(k + 1), language, chrono_tz::Asia::Shanghai, now);
        // Most keep the defaults; the rest chose some categories, and some of those a
        // district or two: profiles a city's subscribers could have (an Extreme
        // alert for the whole city reaches them all anyway).
        if rng.f64() < 0.4 {
            subscriber.categories = Category::ALL.iter().copied().filter(|_| rng.bool()).collect();
            subscriber.districts = DISTRICTS
                .iter()
                .filter(|_| rng.f64() < 0.2)
                .map(|key| DistrictKey::parse(key).expect("a district key"))
                .collect();
        }
        zh += usize::from(language == Language::Zh);
        subscriber
    });
    let started = Instant::now();
    futures::stream::iter(subscribers)
        .map(|subscriber| {
            let store = store.clone();
            async move {
                store.save_subscriber(&subscriber).await.expect("store a subscriber");
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    println!(
        "  setup: {n} subscribers ({zh} Chinese, {} English) stored in {:.1} s",
        n as usize - zh,
        started.elapsed().as_secs_f64()
    );
    (zh, n as usize - zh)
}

fn extreme_notice() -> NewNotice {
    let content = NoticeContent {
        districts: Default::default(),
        title: Title::parse("暴雨红色预警：请立即停止户外活动").unwrap(),
        body: Body::parse(
            "市气象台发布暴雨红色预警，预计未来 3 小时全市降雨量将超过 100 毫米。\n\n\
             请立即停止户外活动，远离低洼地带、地下通道和河道；车辆不要涉水通行。如遇险情请拨打 110 或 119。",
        )
        .unwrap(),
        category: Category::Disaster,
        severity: Severity::Extreme,
        area: None,
        language: Language::Zh,
        source: None,
    };
    NewNotice::new(content, Publication::Now, None, Actor::System, Utc::now()).unwrap()
}

async fn run(subscribers: i64, rate: u32, backend: &str, which_fake: &str) {
    println!(
        "fan-out: {subscribers} subscribers, {backend}, fake: {which_fake}, rate set to {rate}/s \
         (load average {})",
        load_average()
    );
    let db = match backend {
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
    let chats = subscribers as usize;
    let api = match which_fake {
        "counting" => Api::Counting(fake::Fake::start(chats).await),
        "tests" => Api::Tests(FakeTelegram::start().await),
        other => panic!("BENCH_FAKE: unknown fake {other:?} (counting, tests)"),
    };
    let store = db.store().await;
    store_subscribers(&store, subscribers).await;

    let env = [("PINGAN_DELIVERY_TICK_MS", "100")];
    let mut settings = match &api {
        Api::Counting(fake) => settings_for_counting(fake, &db, &env),
        Api::Tests(fake) => settings_for(fake, &db, &env),
    };
    // Past what the configuration allows (1 000): set on the struct, as the pacer reads it.
    settings.delivery.rate_per_second = rate;
    settings.delivery.paid_rate_per_second = rate;
    if let Some(concurrency) = std::env::var("BENCH_CONCURRENCY").ok().and_then(|c| c.parse().ok()) {
        settings.delivery.concurrency = concurrency;
    }
    let concurrency = settings.delivery.concurrency;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = tokio::spawn(pingan::startup::run(settings, Arc::new(SystemClock), async {
        let _ = stopped.await;
    }));
    while !api.polled().await {
        if app.is_finished() {
            panic!("the app stopped while starting: {:?}", app.await);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the instance register and its sender start before the clock runs.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = sample();

    let sampling = Arc::new(AtomicBool::new(false));
    let peak_reset = reset_peak();
    let samples = sampler(SAMPLE_EVERY, sampling.clone());
    let published = Instant::now();
    let notice = store.insert_notice(&extreme_notice()).await.expect("publish the notice");

    // Queued: the first answer that counts a delivery for every subscriber (the fan-out is
    // written in one transaction, so the first that counts any counts all).
    let mut asked = published;
    let (queued, queued_after_ask) = loop {
        let now = Instant::now();
        let fanouts = store.notice_fanouts(notice.id).await.expect("the notice's fan-outs");
        let total: u64 = fanouts.iter().map(|f| f.total()).sum();
        if total >= subscribers as u64 {
            break (now, asked);
        }
        assert!(published.elapsed() < STALL, "the fan-out was not queued within {STALL:?} ({total} rows)");
        asked = now;
        tokio::time::sleep(QUEUED_POLL).await;
    };

    let mut last_progress = (0, Instant::now());
    let mut last_report = Instant::now();
    loop {
        let delivered = api.delivered().await;
        if delivered >= chats {
            break;
        }
        if delivered > last_progress.0 {
            last_progress = (delivered, Instant::now());
        } else if last_progress.1.elapsed() > STALL {
            println!("  STALLED: no message for {STALL:?} at {delivered} of {chats}");
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            eprintln!("... {delivered} of {chats} delivered ({:.0} s)", published.elapsed().as_secs_f64());
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sampling.store(true, Ordering::Relaxed);
    let samples = samples.join().expect("the sampler");
    let end = sample();

    // The outbox settles: every outcome recorded.
    let settle_until = Instant::now() + Duration::from_secs(30);
    // (Read from the notice's fan-outs: `delivery_counts` fails on PostgreSQL, its sums
    // being NUMERIC.)
    let counts = loop {
        let fanouts = store.notice_fanouts(notice.id).await.expect("the notice's fan-outs");
        let sum = |count: fn(&pingan::store::FanoutProgress) -> u64| fanouts.iter().map(count).sum::<u64>();
        let counts =
            [sum(|f| f.sent), sum(|f| f.failed), sum(|f| f.gone), sum(|f| f.pending), sum(|f| f.sending)];
        if counts[3] + counts[4] == 0 || Instant::now() > settle_until {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let seen = api.seen(chats);
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), app).await;

    // (a) Queued.
    let queued_in = queued.duration_since(published);
    println!(
        "  (a) publication to the whole fan-out queued: {:.3} s (it was not yet at {:.3} s; \
         target < 3 s: {})",
        queued_in.as_secs_f64(),
        queued_after_ask.duration_since(published).as_secs_f64(),
        if queued_in < Duration::from_secs(3) { "met" } else { "MISSED" }
    );

    // (c) Rate and exactly once.
    let arrivals = &seen.arrivals;
    let (first, last) = (arrivals.first().copied(), arrivals.last().copied());
    let rate_achieved = match (first, last) {
        (Some(first), Some(last)) if arrivals.len() > 1 => {
            (arrivals.len() - 1) as f64 / last.duration_since(first).as_secs_f64()
        }
        _ => 0.0,
    };
    let mut per_second: Vec<usize> = Vec::new();
    if let Some(first) = first {
        for at in arrivals {
            let s = at.duration_since(first).as_secs() as usize;
            if per_second.len() <= s {
                per_second.resize(s + 1, 0);
            }
            per_second[s] += 1;
        }
    }
    // Whole seconds only (the last is cut short).
    let mut whole: Vec<usize> = per_second.iter().copied().take(per_second.len().saturating_sub(1)).collect();
    whole.sort();
    let seconds = if whole.is_empty() {
        String::new()
    } else {
        format!(
            "; per whole second min {} / median {} / max {}",
            whole[0],
            whole[whole.len() / 2],
            whole[whole.len() - 1]
        )
    };
    // The rate over each tenth of the messages: whether it holds as the queue drains.
    let tenths: Vec<String> = (0..10)
        .filter_map(|k| {
            let (from, to) = (arrivals.len() * k / 10, (arrivals.len() * (k + 1) / 10).saturating_sub(1));
            let span = arrivals.get(to)?.duration_since(*arrivals.get(from)?).as_secs_f64();
            (to > from && span > 0.0).then(|| format!("{:.0}", (to - from) as f64 / span))
        })
        .collect();
    let missing = seen.per_chat.iter().skip(1).filter(|c| **c == 0).count();
    let duplicates: u64 = seen.per_chat.iter().skip(1).map(|c| u64::from(c.saturating_sub(1))).sum();
    let cpu = end.cpu_secs - samples.first().map_or(idle.cpu_secs, |s| s.cpu_secs);
    println!(
        "  (c) sender: {} messages at {rate_achieved:.0}/s from the first to the last \
         (target >= 2 000/s: {}){seconds}; publication to last delivery {:.1} s; concurrency {concurrency}",
        arrivals.len(),
        if rate_achieved >= 2000.0 { "met" } else { "MISSED" },
        last.map_or(0.0, |l| l.duration_since(published).as_secs_f64()),
    );
    println!("      rate over each tenth of the messages, first to last (/s): {}", tenths.join(", "));
    println!(
        "      exactly once: {missing} chats missing, {duplicates} duplicates, {} to other chats, \
         {} refused{}; outbox: {} sent, {} failed, {} gone, {} pending, {} sending",
        seen.stray,
        seen.refused,
        if seen.bad_texts.is_empty() { String::new() } else { format!(" ({:?})", seen.bad_texts) },
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4]
    );
    println!(
        "      CPU of the whole process (bot, fake{}): {cpu:.1} s from publication to the last message, \
         {:.3} s per 1 000 deliveries",
        if backend == "sqlite" { ", SQLite" } else { "; PostgreSQL's own not counted" },
        cpu * 1000.0 / arrivals.len().max(1) as f64
    );

    // (b) Memory while it sends.
    let sent_by = |at: Instant| arrivals.partition_point(|a| *a <= at);
    println!(
        "  (b) resident memory (VmRSS; peak VmHWM {}): idle before publication {} (heap {})",
        if peak_reset { "since publication" } else { "since the process started: clear_refs refused" },
        mib(idle.rss_kib),
        mib(idle.anon_kib)
    );
    let mut points: Vec<(String, Option<&Sample>)> =
        vec![("sending starts".to_owned(), first.and_then(|first| samples.iter().find(|s| s.at >= first)))];
    for quarter in [25, 50, 75, 100] {
        let wanted = (chats * quarter).div_ceil(100);
        points.push((format!("{quarter}% sent"), samples.iter().find(|s| sent_by(s.at) >= wanted)));
    }
    for (label, found) in points {
        match found {
            Some(s) => println!(
                "      {label:<14} +{:>6.2} s  {:>6} sent  VmRSS {:>10} (heap {}, files {}, shared {})",
                s.at.duration_since(published).as_secs_f64(),
                sent_by(s.at),
                mib(s.rss_kib),
                mib(s.anon_kib),
                mib(s.file_kib),
                mib(s.shmem_kib)
            ),
            None => println!("      {label:<14} (no sample: it ended between two samples)"),
        }
    }
    let max = samples.iter().max_by_key(|s| s.rss_kib).copied().unwrap_or(end);
    println!(
        "      max VmRSS sampled {} at +{:.2} s ({} sent); VmHWM {}; at the end {} ({} samples, every {:?})",
        mib(max.rss_kib),
        max.at.duration_since(published).as_secs_f64(),
        sent_by(max.at),
        mib(end.hwm_kib),
        mib(end.rss_kib),
        samples.len(),
        SAMPLE_EVERY
    );

    // What the scheduler's read of every subscriber costs alone (after the run: the
    // subscribers it reads would otherwise stay in this process's heap, and in its
    // memory figures).
    let started = Instant::now();
    let audiences = store.alert_audiences().await.expect("alert audiences");
    let read = started.elapsed().as_secs_f64();
    println!(
        "  apart (after the run, the app stopped): alert_audiences() read {} subscribers in {} \
         profiles in {read:.3} s",
        audiences.iter().map(|a| a.chats.len()).sum::<usize>(),
        audiences.len(),
    );
    store.close().await;
}

/// A sendMessage of an alert's size, as Pingan sends it.
fn alert_request(chat: i64) -> serde_json::Value {
    serde_json::json!({
        "chat_id": chat,
        "text": "🔴 <b>暴雨红色预警：请立即停止户外活动</b>\n\n市气象台发布暴雨红色预警，预计未来 3 小时全市降雨量将超过 100 毫米。\n\n\
                 请立即停止户外活动，远离低洼地带、地下通道和河道；车辆不要涉水通行。如遇险情请拨打 110 或 119。\n\n\
                 <i>全市 · 市气象台</i>",
        "parse_mode": "HTML",
        "link_preview_options": { "is_disabled": true },
    })
}

/// The fakes alone: `n` sendMessage requests, 32 in flight.
async fn fakes_alone(n: usize) {
    println!("the fakes alone: {n} sendMessage requests, 32 in flight (load average {})", load_average());
    for which in ["counting", "tests"] {
        let (url, token, api) = match which {
            "counting" => {
                let fake = fake::Fake::start(n).await;
                (fake.api_url(), fake::TOKEN, Api::Counting(fake))
            }
            _ => {
                let fake = FakeTelegram::start().await;
                (fake.api_url(), FakeTelegram::TOKEN, Api::Tests(fake))
            }
        };
        let client = reqwest::Client::new();
        let endpoint = format!("{url}/bot{token}/sendMessage");
        let before = sample();
        let started = Instant::now();
        futures::stream::iter(1..=n as i64)
            .map(|chat| {
                let (client, endpoint) = (client.clone(), endpoint.clone());
                async move {
                    let response =
                        client.post(endpoint).json(&alert_request(chat)).send().await.expect("a send");
                    assert!(response.status().is_success(), "the fake refused: {}", response.status());
                    let _ = response.bytes().await;
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<()>>()
            .await;
        let took = started.elapsed().as_secs_f64();
        let after = sample();
        assert_eq!(api.delivered().await, n);
        println!(
            "  {which:<8} fake: {:.0} requests/s, {:.3} CPU s per 1 000 (fake and client), VmRSS {} -> {}",
            n as f64 / took,
            (after.cpu_secs - before.cpu_secs) * 1000.0 / n as f64,
            mib(before.rss_kib),
            mib(after.rss_kib)
        );
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
    let subscribers: i64 = env_or("BENCH_SUBSCRIBERS", 100_000);
    if std::env::var("BENCH_FAKE_ONLY").is_ok_and(|v| v == "1") {
        fakes_alone(subscribers as usize).await;
        return;
    }
    let rate: u32 = env_or("BENCH_RATE", 100_000);
    let backend = std::env::var("BENCH_BACKEND").unwrap_or_else(|_| "sqlite".to_owned());
    let which_fake = std::env::var("BENCH_FAKE").unwrap_or_else(|_| "counting".to_owned());
    run(subscribers, rate, &backend, &which_fake).await;
}
