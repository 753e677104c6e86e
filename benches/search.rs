//! Search benchmark (issue 15): `/search`'s store query over 100 000 notices in Chinese
//! and English, on SQLite and on PostgreSQL.
//!
//!     cargo bench --bench search                            # 100 000 notices, 2 000 queries, both backends
//!     BENCH_NOTICES=10000 BENCH_QUERIES=1000 cargo bench --bench search
//!     BENCH_BACKENDS=sqlite cargo bench --bench search      # leave PostgreSQL out
//!     BENCH_REUSE=/tmp/pingan-search.db cargo bench --bench search
//!     BENCH_REUSE_PG=bench_search cargo bench --bench search  # keep PostgreSQL's schema too
//!
//! Load: `BENCH_NOTICES` (100 000) notices from a seeded generator (`workload/notices.rs`:
//! frauds such as 刷单返利, 冒充公检法, 虚假投资理财 and 杀猪盘, road closures, missing persons,
//! weather warnings and the rest, 60% in Chinese, published over the past year), stored
//! through `NoticeStore::insert_notices` in transactions of 1 000, so that each is indexed
//! as the bot indexes a notice (`index_tokens`, FTS5 on SQLite, a tsvector on PostgreSQL);
//! the shipped tips are seeded too (`content::tips::seed_tips`), as `pingan run` does, since
//! `/search` finds both. The load time is printed on its own. `BENCH_REUSE=<path>` keeps
//! the SQLite database in that file and, when it already holds the notices, searches it
//! without loading; `BENCH_REUSE_PG=<schema>` does the same with a PostgreSQL schema of
//! that name in the test database (created if absent, never dropped; drop it with
//! `psql -h 127.0.0.1 -U postgres test -c 'DROP SCHEMA <schema> CASCADE'`). By default
//! every run starts from an empty database.
//!
//! Measured: `BENCH_QUERIES` (2 000) queries from a seeded mix — Chinese words, English
//! words, quoted phrases, mixed Chinese and English, words found nowhere, and words found
//! in most notices — each asked in a Chinese or an English chat, one at a time, as
//! `/search` asks its first page: `SearchTerms::parse`, then `SearchStore::search` with
//! the handler's page size (5) at offset 0. The latency is of that call (the count and the
//! page of ranked ids, then the five hits read). 50 queries are asked first and not
//! counted. Printed: p50, p99 and max over all queries and per kind, the hits found, and
//! the slowest queries. `/search` also stores the query (`remember_query`, one write)
//! before it searches; that is not timed here. A search that finds nothing then builds
//! "did you mean" from the index's vocabulary (read at most once a minute): its cost is
//! printed apart. On PostgreSQL the mix is asked twice: as loaded, and again after an
//! `ANALYZE` — the test server runs with autovacuum off, and a production server's
//! autovacuum would analyse the tables soon after such a load.

// The tests' support code (a fresh database); only part of it is used here.
#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "workload/notices.rs"]
mod notices;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pingan::config::{DatabaseSettings, DatabaseUrl};
use pingan::domain::{Language, SearchTerms, suggestions};
use pingan::store::{NoticeQuery, Store};
use sqlx::Connection;
use support::test_db::TestDb;

use notices::{Generate, Generator};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `/search`'s page size (`PAGE_SIZE` in src/bot/handlers/latest.rs, which `/search` shares).
const PAGE_SIZE: u32 = 5;
/// Notices stored per transaction while loading.
const LOAD_BATCH: usize = 1_000;
/// Queries asked before the measured ones.
const WARM_UP: usize = 50;
/// Near queries "did you mean" tries (`SUGGESTIONS_TRIED` in src/bot/handlers/search.rs).
const SUGGESTIONS_TRIED: usize = 3;
/// The generator's seed: the same notices every run.
const SEED: u64 = 15;

/// The kinds of query, each with the words citizens type.
const KINDS: [(&str, u32, &[&str]); 6] = [
    (
        "Chinese word",
        25,
        &[
            "诈骗",
            "刷单",
            "返利",
            "杀猪盘",
            "公检法",
            "安全账户",
            "投资理财",
            "封闭施工",
            "绕行",
            "走失",
            "寻人启事",
            "暴雨",
            "预警",
            "电动自行车",
            "出入境",
            "目击证人",
            "验证码",
            "屏幕共享",
            "保证金",
            "马拉松",
            "人民路",
            "城东区",
            "刷單返利",
            "冒充客服",
        ],
    ),
    (
        "English word",
        20,
        &[
            "fraud",
            "scam",
            "police",
            "investment",
            "detour",
            "missing",
            "rainstorm",
            "witnesses",
            "refund",
            "loan",
            "marathon",
            "charging",
            "crypto",
            "dating",
            "Renmin",
            "invest",
            "brushing",
            "warrants",
        ],
    ),
    (
        "phrase",
        15,
        &[
            "\"safe account\"",
            "\"order brushing\"",
            "\"customer service\"",
            "\"pig butchering\"",
            "\"Renmin Road\"",
            "\"安全账户\"",
            "\"冒充客服\"",
            "\"交通管制\"",
            "\"城东区人民路\"",
            "\"verification code\"",
        ],
    ),
    (
        "mixed",
        15,
        &[
            "刷单 APP",
            "USDT 虚拟币",
            "96110 诈骗",
            "APP 预约",
            "城东区 110",
            "冒充客服 refund",
            "fraud 96110",
            "USDT crypto",
            "\"order brushing\" 刷单 app",
            "马拉松 marathon",
        ],
    ),
    (
        "found nowhere",
        10,
        &[
            "量子纠缠",
            "比特币矿机",
            "xylophone",
            "quantum entanglement",
            "熊猫 zebra",
            "蓝鲸游戏",
            "zzyzx",
            "天文台望远镜",
        ],
    ),
    ("found in most", 15, &["请", "110", "the", "市民", "please", "警方", "city", "万元"]),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// One query of the mix.
struct Query {
    kind: &'static str,
    text: &'static str,
    language: Language,
}

fn queries(n: usize, seed: u64) -> Vec<Query> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let weights: u32 = KINDS.iter().map(|(_, w, _)| w).sum();
    (0..n)
        .map(|_| {
            let mut pick = rng.u32(..weights);
            let (kind, _, words) = KINDS
                .iter()
                .find(|(_, w, _)| {
                    let found = pick < *w;
                    pick = pick.saturating_sub(*w);
                    found
                })
                .expect("a kind");
            let language = if rng.bool() { Language::Zh } else { Language::En };
            Query { kind, text: words[rng.usize(..words.len())], language }
        })
        .collect()
}

/// p50, p99 and max of `times` (sorted here).
fn percentiles(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    (at(0.50), at(0.99), *times.last().expect("some times"))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The database of a run: a fresh one, or the file `BENCH_REUSE` names.
enum Database {
    Fresh(TestDb),
    Reused(DatabaseSettings),
}

impl Database {
    fn settings(&self) -> DatabaseSettings {
        match self {
            Database::Fresh(db) => db.settings(),
            Database::Reused(settings) => settings.clone(),
        }
    }
}

async fn load(store: &Arc<dyn Store>, n: usize) {
    let now = Utc::now();
    let mut generator = Generator::new(
        SEED,
        Generate {
            chinese_share: 0.6,
            urgent: true,
            from: now - chrono::Duration::days(365),
            until: now - chrono::Duration::minutes(1),
            now,
        },
    );
    let started = Instant::now();
    let mut generating = Duration::ZERO;
    let mut stored = 0;
    while stored < n {
        let batch_started = Instant::now();
        let batch = generator.notices(LOAD_BATCH.min(n - stored));
        generating += batch_started.elapsed();
        store.insert_notices(&batch).await.expect("store a batch of notices");
        stored += batch.len();
        if stored % 20_000 == 0 {
            eprintln!("... {stored} of {n} notices stored ({:.1} s)", started.elapsed().as_secs_f64());
        }
    }
    let total = started.elapsed();
    let storing = total - generating;
    println!(
        "  load: {n} notices in {:.1} s — {:.1} s storing and indexing ({:.0} notices/s, \
         transactions of {LOAD_BATCH}), {:.1} s generating",
        total.as_secs_f64(),
        storing.as_secs_f64(),
        n as f64 / storing.as_secs_f64(),
        generating.as_secs_f64(),
    );
}

/// Asks the mix's queries one at a time (the first [`WARM_UP`] not counted) and prints
/// their latencies.
async fn measure(store: &Arc<dyn Store>, mix: &[Query]) {
    let (warm_up, mix) = mix.split_at(WARM_UP);
    for q in warm_up {
        let terms = SearchTerms::parse(q.text).expect("a searchable query");
        store.search(&terms, q.language, Utc::now(), PAGE_SIZE, 0).await.expect("search");
    }
    // (kind, query, latency, hits in all)
    let mut measured: Vec<(&str, &str, Duration, u64)> = Vec::with_capacity(mix.len());
    for q in mix {
        let started = Instant::now();
        let terms = SearchTerms::parse(q.text).expect("a searchable query");
        let page = store.search(&terms, q.language, Utc::now(), PAGE_SIZE, 0).await.expect("search");
        let took = started.elapsed();
        assert!(page.hits.len() <= PAGE_SIZE as usize);
        measured.push((q.kind, q.text, took, page.matches.ranked()));
    }

    let mut all: Vec<Duration> = measured.iter().map(|m| m.2).collect();
    let (p50, p99, max) = percentiles(&mut all);
    println!(
        "  {} queries: p50 {} / p99 {} / max {}  (target p99 < 10 ms: {})",
        measured.len(),
        ms(p50),
        ms(p99),
        ms(max),
        if p99 < Duration::from_millis(10) { "met" } else { "MISSED" }
    );
    println!(
        "  {:<14} {:>7} {:>10} {:>10} {:>10} {:>12}",
        "kind", "queries", "p50", "p99", "max", "hits (mean)"
    );
    for (kind, _, _) in KINDS {
        let of_kind: Vec<_> = measured.iter().filter(|m| m.0 == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let mut times: Vec<Duration> = of_kind.iter().map(|m| m.2).collect();
        let (p50, p99, max) = percentiles(&mut times);
        let hits = of_kind.iter().map(|m| m.3).sum::<u64>() as f64 / of_kind.len() as f64;
        println!(
            "  {kind:<14} {:>7} {:>10} {:>10} {:>10} {hits:>12.0}",
            of_kind.len(),
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    // The slowest distinct queries, by their median.
    let mut by_text: Vec<(&str, Vec<Duration>, u64)> = Vec::new();
    for (_, text, took, total) in &measured {
        match by_text.iter_mut().find(|(t, _, _)| t == text) {
            Some((_, times, _)) => times.push(*took),
            None => by_text.push((text, vec![*took], *total)),
        }
    }
    for (_, times, _) in &mut by_text {
        times.sort();
    }
    by_text.sort_by_key(|(_, times, _)| std::cmp::Reverse(times[times.len() / 2]));
    let slowest: Vec<String> = by_text
        .iter()
        .take(5)
        .map(|(text, times, total)| format!("{text} ({} hits, median {})", total, ms(times[times.len() / 2])))
        .collect();
    println!("  slowest queries: {}", slowest.join("; "));
}

async fn run(backend: Backend, notices: usize, n_queries: usize) {
    println!("{}: search (load average {})", backend.name(), load_average());
    let database = match backend {
        Backend::Sqlite => match std::env::var("BENCH_REUSE").ok().filter(|p| !p.is_empty()) {
            Some(path) => Database::Reused(DatabaseSettings {
                url: DatabaseUrl::parse(&format!("sqlite://{path}")).expect("BENCH_REUSE as a SQLite path"),
                max_connections: 5,
                busy_timeout: Duration::from_secs(5),
            }),
            None => Database::Fresh(TestDb::sqlite()),
        },
        Backend::Postgres => match std::env::var("BENCH_REUSE_PG").ok().filter(|s| !s.is_empty()) {
            Some(schema) => {
                assert!(
                    schema.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "BENCH_REUSE_PG: a schema name of lowercase letters and _"
                );
                let base = std::env::var("TEST_DATABASE_URL")
                    .unwrap_or_else(|_| support::test_db::DEFAULT_POSTGRES.to_owned());
                let mut conn =
                    sqlx::PgConnection::connect(&base).await.expect("PostgreSQL for BENCH_REUSE_PG");
                sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the schema");
                let _ = conn.close().await;
                let separator = if base.contains('?') { '&' } else { '?' };
                Database::Reused(DatabaseSettings {
                    url: DatabaseUrl::parse(&format!("{base}{separator}options[search_path]={schema}"))
                        .expect("a PostgreSQL URL"),
                    max_connections: 5,
                    busy_timeout: Duration::from_secs(5),
                })
            }
            None => match TestDb::postgres().await {
                Some(db) => Database::Fresh(db),
                None => {
                    println!("  skipped: PostgreSQL at 127.0.0.1:5432 does not answer");
                    return;
                }
            },
        },
    };
    let store = pingan::store::open(&database.settings()).await.expect("open the database").0;
    let tips = pingan::content::tips::seed_tips(store.as_ref(), Utc::now()).await.expect("seed the tips");
    let held = store.count_notices(&NoticeQuery::default()).await.expect("count the notices");
    match (&database, held as usize) {
        (Database::Reused(settings), have) if have == notices => {
            println!("  reusing {} with {have} notices (no load)", settings.url);
        }
        (Database::Reused(settings), have) if have != 0 => {
            panic!(
                "{} holds {have} notices, not {notices}: remove it or set BENCH_NOTICES={have}",
                settings.url
            );
        }
        _ => load(&store, notices).await,
    }
    let tips = tips.inserted + tips.updated + tips.unchanged + tips.kept_edited;
    println!("  also in the index: the {tips} shipped tips (seeded as `pingan run` seeds them)");

    let mix = queries(WARM_UP + n_queries, SEED);
    measure(&store, &mix).await;
    if let Database::Fresh(db @ TestDb::Postgres { .. }) = &database {
        // This server runs with autovacuum off; a production server's autovacuum would
        // have analysed the tables soon after the load. Asked again once analysed:
        let mut conn = sqlx::PgConnection::connect(db.url()).await.expect("a connection");
        sqlx::query("ANALYZE").execute(&mut conn).await.expect("ANALYZE");
        let _ = conn.close().await;
        println!("  after ANALYZE (what autovacuum does after a load):");
        measure(&store, &mix).await;
    }

    // "Did you mean", for a search that found nothing: the vocabulary (read once a
    // minute), then near queries tried one by one until one finds something.
    let started = Instant::now();
    let vocabulary = store.search_vocabulary().await.expect("the vocabulary");
    let read = started.elapsed();
    let mut tried = Vec::new();
    let nowhere = KINDS.iter().find(|k| k.0 == "found nowhere").expect("the kind").2;
    for (n, text) in nowhere.iter().enumerate() {
        let language = if n % 2 == 0 { Language::Zh } else { Language::En };
        let started = Instant::now();
        for suggestion in suggestions(text, &vocabulary, SUGGESTIONS_TRIED) {
            let Some(terms) = SearchTerms::parse(&suggestion) else { continue };
            if store.search(&terms, language, Utc::now(), 1, 0).await.expect("search").matches.ranked() > 0 {
                break;
            }
        }
        tried.push(started.elapsed());
    }
    let (p50, _, max) = percentiles(&mut tried);
    println!(
        "  did you mean: reading the vocabulary {} (once a minute at most), then suggestions and \
         their searches p50 {} / max {} over the {} queries found nowhere",
        ms(read),
        ms(p50),
        ms(max),
        nowhere.len()
    );
    store.close().await;
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let notices: usize = env_or("BENCH_NOTICES", 100_000);
    let n_queries: usize = env_or("BENCH_QUERIES", 2_000);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    for name in backends.split(',').map(str::trim) {
        let backend = match name {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("BENCH_BACKENDS: unknown backend {other:?} (sqlite, postgres)"),
        };
        run(backend, notices, n_queries).await;
    }
}
