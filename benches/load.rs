//! Load benchmark beside an echo floor (issue 15): the real `pingan run`, as a process of
//! its own, against a fake Bot API in this process; in the same run a minimal teloxide
//! echo bot gets the same updates from the same fake, and Pingan's figures are printed as
//! ratios to the echo bot's.
//!
//!     cargo bench --bench load                                # 20 000 updates, 3 runs
//!     BENCH_UPDATES=2000 BENCH_CHATS=100 BENCH_RUNS=1 cargo bench --bench load
//!     BENCH_BACKENDS=sqlite cargo bench --bench load          # skip PostgreSQL
//!
//! Workload: `pingan demo-data`, then `BENCH_UPDATES` (20 000) commands over `BENCH_CHATS`
//! (1 000) private chats, all queued at once — a reproducible mix of `/latest`,
//! `/notice N`, `/search` in Chinese and English, `/tip`, `/tips`, `/check` of a phone
//! number and of a link, `/settings`, `/about` and `/help`, half the users with a Chinese
//! client and half with an English one — then `BENCH_PACED` (2 000) more at
//! `BENCH_PACED_RATE` (200) a second, round the same chats, 1.5 s after the burst's last
//! reply.
//!
//! Measured for each bot: updates a second in the burst (from the first hand-out to the
//! last reply); the latency from an update's hand-out (the getUpdates answer that carried
//! it) to its reply's arrival at the fake (p50, p99, max), in the burst and paced; the
//! peak resident set (`VmHWM`), the resident set once started and idle (`VmRSS`), and
//! the CPU seconds (user + system) per 1 000 updates of the burst, from `/proc/<pid>`.
//! Every update's reply is counted: before the burst each distinct command is sent once,
//! in a chat of its own, to learn how many messages answer it; then, chat by chat,
//! replies are matched to updates in order and any update left without one is reported
//! as missing.
//!
//! Pingan runs with the shipped settings except the command budgets (raised to 10 000 a
//! minute, as the tests do: scripted users type faster than people) and
//! `delivery.rate_per_second` at its highest, 1 000. Its pacer still holds a private chat
//! to one message a second, as Telegram asks: with 20 commands a chat the burst cannot
//! end before about 20 s, so burst updates/s and burst latency measure the pacer; CPU and
//! memory measure the work, and so does the paced latency; `BENCH_CHATS=20000` spreads the
//! burst one update a chat, so that per-chat spacing plays no part (BENCHMARKS.md says why
//! no setting lifts the pacer). `BENCH_PINGAN_ENV="NAME=value …"` adds settings. Each bot's
//! pid is printed once it polls, for a profiler to attach.
//! `BENCH_RUNS` (3) runs of each bot; the table shows medians.

// The tests' support code (a fresh database, the binary's environment, the Bot API's
// JSON shapes); only part of it is used here.
#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "load/echo_bot.rs"]
mod echo_bot;
#[path = "load/fake.rs"]
mod fake;
#[path = "load/procfs.rs"]
mod procfs;

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

use fake::Fake;
use support::fake_telegram::wire::TgUser;
use support::test_db::TestDb;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// How long the benchmark waits for a reply that does not come before it counts the rest
/// as missing.
const STALL: Duration = Duration::from_secs(30);
/// Calibration chats, apart from the chats of the workload.
const CALIBRATION_CHATS: i64 = 5_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    Echo,
    Pingan(Backend),
}

impl Subject {
    fn name(self) -> &'static str {
        match self {
            Subject::Echo => "teloxide echo bot",
            Subject::Pingan(Backend::Sqlite) => "Pingan on SQLite",
            Subject::Pingan(Backend::Postgres) => "Pingan on PostgreSQL",
        }
    }
}

/// One command of the workload: who types what.
#[derive(Clone)]
struct Typed {
    user: TgUser,
    text: String,
}

struct Workload {
    burst: Vec<Typed>,
    paced: Vec<Typed>,
    paced_rate: f64,
}

/// The command mix: what a citizen types after an alert.
fn mix(rng: &mut fastrand::Rng) -> String {
    const SEARCHES: [&str; 6] = ["诈骗", "刷单返利", "暴雨 预警", "fraud", "fake police", "icy roads"];
    const PHONES: [&str; 3] = ["13800138000", "+86 21 6234 5678", "021-62345678"];
    const LINKS: [&str; 3] =
        ["https://icbc-secure-login.top/verify", "http://www.taobao.com", "t.me/kefu_8888"];
    match rng.usize(0..12) {
        0 | 1 => "/latest".to_owned(),
        2 => format!("/notice {}", rng.usize(1..=16)),
        3 | 4 => format!("/search {}", SEARCHES[rng.usize(0..SEARCHES.len())]),
        5 => "/tip".to_owned(),
        6 => "/tips".to_owned(),
        7 => format!("/check {}", PHONES[rng.usize(0..PHONES.len())]),
        8 => format!("/check {}", LINKS[rng.usize(0..LINKS.len())]),
        9 => "/settings".to_owned(),
        10 => "/about".to_owned(),
        _ => "/help".to_owned(),
    }
}

fn user(chat: i64) -> TgUser {
    let language = if chat % 2 == 0 { "zh-hans" } else { "en" };
    TgUser::new(chat, "市民", Some(language))
}

impl Workload {
    fn new(updates: usize, chats: i64, paced: usize, paced_rate: f64) -> Workload {
        let mut rng = fastrand::Rng::with_seed(15);
        let mut typed = |n: usize| -> Vec<Typed> {
            (0..n).map(|k| Typed { user: user(1 + (k as i64 % chats)), text: mix(&mut rng) }).collect()
        };
        Workload { burst: typed(updates), paced: typed(paced), paced_rate }
    }

    /// Every distinct (language, text) of the workload.
    fn distinct(&self) -> Vec<(String, String)> {
        let mut seen: Vec<(String, String)> = self
            .burst
            .iter()
            .chain(&self.paced)
            .map(|t| (t.user.language_code.clone().unwrap_or_default(), t.text.clone()))
            .collect();
        seen.sort();
        seen.dedup();
        seen
    }
}

/// What one run of one bot measured.
#[derive(Clone, Debug, Default)]
struct Figures {
    updates_per_second: f64,
    /// Seconds: p50, p99, max.
    burst_latency: [f64; 3],
    paced_latency: [f64; 3],
    peak_rss_mib: f64,
    idle_rss_mib: f64,
    cpu_per_1000: f64,
    missing: usize,
    extra: usize,
    refused: u64,
    /// CPU seconds per 1 000 burst updates of this process (the fake Bot API, mostly):
    /// near a whole core's worth, the fake and not the bot would set the pace.
    fake_cpu_per_1000: f64,
}

/// A bot process under measurement, and what it needs kept alive.
struct Running {
    child: Child,
    pid: u32,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _db: Option<TestDb>,
}

impl Running {
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

async fn start_pingan(fake: &Fake, backend: Backend) -> Option<Running> {
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite(),
        Backend::Postgres => match TestDb::postgres().await {
            Some(db) => db,
            None => {
                println!("load: PostgreSQL at 127.0.0.1:5432 is unreachable; Pingan on PostgreSQL skipped");
                return None;
            }
        },
    };
    let dir = tempfile::tempdir().expect("a working directory");
    let demo = support::binary::pingan(dir.path())
        .arg("demo-data")
        .env("DATABASE_URL", db.url())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run pingan demo-data");
    assert!(demo.status.success(), "pingan demo-data failed: {}", String::from_utf8_lossy(&demo.stderr));

    let log = dir.path().join("pingan.log");
    let mut command = support::binary::pingan(dir.path());
    command
        .arg("run")
        .env("TELOXIDE_TOKEN", fake::TOKEN)
        .env("TELOXIDE_API_URL", fake.api_url())
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .env("PINGAN_BOT_COMMANDS_PER_MINUTE", "10000")
        .env("PINGAN_BOT_COSTLY_COMMANDS_PER_MINUTE", "10000")
        .env("PINGAN_BOT_GROUP_COMMANDS_PER_MINUTE", "10000")
        .env("PINGAN_DELIVERY_RATE_PER_SECOND", "1000");
    for setting in std::env::var("BENCH_PINGAN_ENV").unwrap_or_default().split_whitespace() {
        let (name, value) = setting.split_once('=').expect("BENCH_PINGAN_ENV holds NAME=value pairs");
        command.env(name, value);
    }
    Some(spawn(command, dir, log, Some(db)))
}

fn start_echo(fake: &Fake) -> Running {
    let dir = tempfile::tempdir().expect("a working directory");
    let log = dir.path().join("echo.log");
    let mut command = Command::new(std::env::current_exe().expect("this benchmark's path"));
    command.env("BENCH_ROLE", "echo-bot").env("BENCH_API_URL", fake.api_url()).env("RUST_LOG", "warn");
    spawn(command, dir, log, None)
}

fn spawn(
    mut command: Command,
    dir: tempfile::TempDir,
    log: std::path::PathBuf,
    db: Option<TestDb>,
) -> Running {
    let file = std::fs::File::create(&log).expect("a log file");
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(file).kill_on_drop(true);
    let child = command.spawn().expect("start the bot");
    let pid = child.id().expect("the bot's pid");
    Running { child, pid, log, _dir: dir, _db: db }
}

/// Waits until `done` holds, or until nothing has arrived at the fake for [`STALL`].
async fn wait_for_replies(fake: &Fake, bot: &mut Running, mut done: impl FnMut(&Fake) -> bool) {
    let mut last_count = fake.arrived();
    let mut last_progress = Instant::now();
    while !done(fake) {
        if let Ok(Some(status)) = bot.child.try_wait() {
            panic!("the bot stopped ({status}); its log ends:\n{}", bot.log_tail());
        }
        let count = fake.arrived();
        if count != last_count {
            (last_count, last_progress) = (count, Instant::now());
        } else if last_progress.elapsed() > STALL {
            println!("load: no reply for {STALL:?}; counting the rest as missing");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends each distinct command once, in chats of their own, and counts the messages that
/// answer it (waiting until nothing more has come for 2 s: the pacer spaces messages to
/// one chat by a second).
async fn calibrate(fake: &Fake, bot: &mut Running, workload: &Workload) -> HashMap<(String, String), usize> {
    let distinct = workload.distinct();
    let chats: Vec<(i64, TgUser)> = distinct
        .iter()
        .enumerate()
        .map(|(n, (language, _))| {
            let chat = CALIBRATION_CHATS + n as i64;
            (chat, TgUser::new(chat, "市民", Some(language)))
        })
        .collect();
    fake.users_send(chats.iter().zip(&distinct).map(|((_, user), (_, text))| (user, text.as_str())));
    wait_for_replies(fake, bot, |f| chats.iter().all(|(chat, _)| f.arrived_in(*chat) > 0)).await;
    let mut quiet = (fake.arrived(), Instant::now());
    while quiet.1.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if fake.arrived() != quiet.0 {
            quiet = (fake.arrived(), Instant::now());
        }
    }
    chats.iter().zip(distinct).map(|((chat, _), key)| (key, fake.arrived_in(*chat))).collect()
}

fn percentiles(mut seconds: Vec<f64>) -> [f64; 3] {
    if seconds.is_empty() {
        return [f64::NAN; 3];
    }
    seconds.sort_by(f64::total_cmp);
    let at = |p: usize| seconds[(seconds.len() * p).div_ceil(100).max(1) - 1];
    [at(50), at(99), seconds[seconds.len() - 1]]
}

async fn measure(subject: Subject, workload: &Workload) -> Option<Figures> {
    let fake = Fake::start().await;
    let mut bot = match subject {
        Subject::Echo => start_echo(&fake),
        Subject::Pingan(backend) => start_pingan(&fake, backend).await?,
    };
    let started = Instant::now();
    while !fake.polled() {
        if let Ok(Some(status)) = bot.child.try_wait() {
            panic!("{} stopped while starting ({status}); its log ends:\n{}", subject.name(), bot.log_tail());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} did not poll within a minute",
            subject.name()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Started: let the start-up work (the command menu, the first scheduler tick) settle.
    // The pid lets a profiler attach (`perf record -g -p PID`, BENCHMARKS.md).
    println!("load: {} polling, pid {}", subject.name(), bot.pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = procfs::status_kib(bot.pid, "VmRSS").unwrap_or(0);

    let replies_per_command = calibrate(&fake, &mut bot, workload).await;
    let expected = |t: &Typed| {
        let key = (t.user.language_code.clone().unwrap_or_default(), t.text.clone());
        replies_per_command.get(&key).copied().unwrap_or(1).max(1)
    };
    let silent: Vec<_> = replies_per_command.iter().filter(|(_, n)| **n == 0).map(|(k, _)| k).collect();
    if !silent.is_empty() {
        println!(
            "load: {} sent no reply to {silent:?} when calibrating; counted as one reply each",
            subject.name()
        );
    }

    // The burst.
    let mut wanted: HashMap<i64, usize> = HashMap::new();
    for t in workload.burst.iter().chain(&workload.paced) {
        *wanted.entry(t.user.id).or_default() += expected(t);
    }
    let burst_wanted: HashMap<i64, usize> = workload.burst.iter().fold(HashMap::new(), |mut m, t| {
        *m.entry(t.user.id).or_default() += expected(t);
        m
    });
    let cpu_before = procfs::cpu_seconds(bot.pid).unwrap_or(0.0);
    let fake_cpu_before = procfs::cpu_seconds(std::process::id()).unwrap_or(0.0);
    let burst_ids = fake.users_send(workload.burst.iter().map(|t| (&t.user, t.text.as_str())));
    wait_for_replies(&fake, &mut bot, |f| burst_wanted.iter().all(|(chat, n)| f.arrived_in(*chat) >= *n))
        .await;
    let cpu_burst = procfs::cpu_seconds(bot.pid).unwrap_or(0.0) - cpu_before;
    let fake_cpu_burst = procfs::cpu_seconds(std::process::id()).unwrap_or(0.0) - fake_cpu_before;
    let peak_rss = procfs::status_kib(bot.pid, "VmHWM").unwrap_or(0);

    // Paced, after a pause as long as the pacer's interval for one chat, so that the
    // first paced reply to a chat does not wait out the burst's last.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let start = Instant::now();
    let mut paced_ids = Vec::with_capacity(workload.paced.len());
    for (n, t) in workload.paced.iter().enumerate() {
        tokio::time::sleep_until(start + Duration::from_secs_f64(n as f64 / workload.paced_rate)).await;
        paced_ids.push(fake.user_sends(&t.user, &t.text));
    }
    wait_for_replies(&fake, &mut bot, |f| wanted.iter().all(|(chat, n)| f.arrived_in(*chat) >= *n)).await;
    let _ = bot.child.start_kill();
    let _ = bot.child.wait().await;

    // Match replies to updates, chat by chat, in order.
    let state = fake.lock();
    let mut next: HashMap<i64, usize> = HashMap::new();
    let (mut burst_latency, mut paced_latency) = (Vec::new(), Vec::new());
    let (mut missing, mut first_hand_out, mut last_reply) = (0, None::<Instant>, None::<Instant>);
    let phases = [
        (&workload.burst, &burst_ids, &mut burst_latency),
        (&workload.paced, &paced_ids, &mut paced_latency),
    ];
    for (phase, (typed, ids, latencies)) in phases.into_iter().enumerate() {
        for (t, id) in typed.iter().zip(ids.iter()) {
            let cursor = next.entry(t.user.id).or_default();
            let (first, count) = (*cursor, expected(t));
            *cursor += count;
            let arrivals = state.arrivals.get(&t.user.id).map_or(&[][..], Vec::as_slice);
            let (Some(handed), Some(reply)) = (state.handed_out.get(id), arrivals.get(first)) else {
                missing += 1;
                continue;
            };
            latencies.push(reply.saturating_duration_since(*handed).as_secs_f64());
            if phase == 0 {
                first_hand_out = Some(first_hand_out.map_or(*handed, |f| f.min(*handed)));
                let last = arrivals.get(first + count - 1).unwrap_or(reply);
                last_reply = Some(last_reply.map_or(*last, |l| l.max(*last)));
            }
        }
    }
    let extra =
        wanted.iter().map(|(chat, n)| state.arrivals.get(chat).map_or(0, Vec::len).saturating_sub(*n)).sum();
    let burst_seconds = match (first_hand_out, last_reply) {
        (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64(),
        _ => f64::NAN,
    };
    Some(Figures {
        updates_per_second: burst_latency.len() as f64 / burst_seconds,
        burst_latency: percentiles(burst_latency),
        paced_latency: percentiles(paced_latency),
        peak_rss_mib: peak_rss as f64 / 1024.0,
        idle_rss_mib: idle_rss as f64 / 1024.0,
        cpu_per_1000: cpu_burst / workload.burst.len() as f64 * 1000.0,
        missing,
        extra,
        refused: state.refused,
        fake_cpu_per_1000: fake_cpu_burst / workload.burst.len() as f64 * 1000.0,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn medians(runs: &[Figures]) -> Figures {
    let of = |f: fn(&Figures) -> f64| median(runs.iter().map(f).collect());
    Figures {
        updates_per_second: of(|f| f.updates_per_second),
        burst_latency: [of(|f| f.burst_latency[0]), of(|f| f.burst_latency[1]), of(|f| f.burst_latency[2])],
        paced_latency: [of(|f| f.paced_latency[0]), of(|f| f.paced_latency[1]), of(|f| f.paced_latency[2])],
        peak_rss_mib: of(|f| f.peak_rss_mib),
        idle_rss_mib: of(|f| f.idle_rss_mib),
        cpu_per_1000: of(|f| f.cpu_per_1000),
        missing: runs.iter().map(|f| f.missing).sum(),
        extra: runs.iter().map(|f| f.extra).sum(),
        refused: runs.iter().map(|f| f.refused).sum(),
        fake_cpu_per_1000: of(|f| f.fake_cpu_per_1000),
    }
}

fn ms(seconds: f64) -> String {
    if seconds.is_nan() {
        "–".to_owned()
    } else if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else {
        format!("{:.2} ms", seconds * 1000.0)
    }
}

fn print_run(subject: Subject, run: usize, f: &Figures) {
    println!(
        "load: run {run}, {}: {:.0} updates/s; burst p50 {} p99 {} max {}; paced p50 {} p99 {} max {}; \
         peak RSS {:.1} MiB, idle {:.1} MiB; CPU {:.3} s per 1 000 updates (the fake's {:.3} s); {} missing, {} extra, {} refused",
        subject.name(),
        f.updates_per_second,
        ms(f.burst_latency[0]),
        ms(f.burst_latency[1]),
        ms(f.burst_latency[2]),
        ms(f.paced_latency[0]),
        ms(f.paced_latency[1]),
        ms(f.paced_latency[2]),
        f.peak_rss_mib,
        f.idle_rss_mib,
        f.cpu_per_1000,
        f.fake_cpu_per_1000,
        f.missing,
        f.extra,
        f.refused,
    );
}

fn print_table(results: &BTreeMap<usize, (Subject, Vec<Figures>)>) {
    let Some((_, (_, echo_runs))) = results.iter().find(|(_, (s, _))| *s == Subject::Echo) else { return };
    let echo = medians(echo_runs);
    println!();
    println!(
        "| bot | runs | updates/s | burst p50 / p99 / max | paced p50 / p99 / max | peak RSS | idle RSS | CPU s per 1 000 updates | missing replies |"
    );
    println!("|---|---:|---:|---|---|---:|---:|---:|---:|");
    for (subject, runs) in results.values() {
        let f = medians(runs);
        let ratio = |ours: f64, floor: f64| {
            if *subject == Subject::Echo { String::new() } else { format!(" ({:.2}×)", ours / floor) }
        };
        println!(
            "| {} | {} | {:.0}{} | {} / {} / {}{} | {} / {} / {}{} | {:.1} MiB{} | {:.1} MiB{} | {:.3}{} | {} |",
            subject.name(),
            runs.len(),
            f.updates_per_second,
            ratio(f.updates_per_second, echo.updates_per_second),
            ms(f.burst_latency[0]),
            ms(f.burst_latency[1]),
            ms(f.burst_latency[2]),
            ratio(f.burst_latency[1], echo.burst_latency[1]),
            ms(f.paced_latency[0]),
            ms(f.paced_latency[1]),
            ms(f.paced_latency[2]),
            ratio(f.paced_latency[1], echo.paced_latency[1]),
            f.peak_rss_mib,
            ratio(f.peak_rss_mib, echo.peak_rss_mib),
            f.idle_rss_mib,
            ratio(f.idle_rss_mib, echo.idle_rss_mib),
            f.cpu_per_1000,
            ratio(f.cpu_per_1000, echo.cpu_per_1000),
            f.missing,
        );
    }
    println!(
        "\nMedians of each figure over the runs; (×) is Pingan's figure over the echo bot's in the same \
         run (latency ratios are of p99). Missing replies are summed over the runs."
    );
}

async fn bench() {
    let updates: usize = env_or("BENCH_UPDATES", 20_000);
    let chats: i64 = env_or("BENCH_CHATS", 1_000);
    let runs: usize = env_or("BENCH_RUNS", 3);
    let paced: usize = env_or("BENCH_PACED", 2_000);
    let paced_rate: f64 = env_or("BENCH_PACED_RATE", 200.0);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    let workload = Workload::new(updates, chats, paced, paced_rate);
    println!(
        "load: {updates} updates over {chats} chats at once, then {paced} at {paced_rate}/s; {runs} run(s); \
         {} distinct commands",
        workload.distinct().len()
    );
    let mut subjects = vec![Subject::Echo];
    for backend in backends.split(',').map(str::trim) {
        match backend {
            "sqlite" => subjects.push(Subject::Pingan(Backend::Sqlite)),
            "postgres" => subjects.push(Subject::Pingan(Backend::Postgres)),
            other => panic!("BENCH_BACKENDS: unknown backend {other:?} (sqlite, postgres)"),
        }
    }
    let mut results: BTreeMap<usize, (Subject, Vec<Figures>)> = BTreeMap::new();
    for run in 1..=runs {
        for (n, subject) in subjects.iter().enumerate() {
            let Some(figures) = measure(*subject, &workload).await else { continue };
            print_run(*subject, run, &figures);
            results.entry(n).or_insert_with(|| (*subject, Vec::new())).1.push(figures);
        }
    }
    print_table(&results);
}

fn main() {
    if std::env::var("BENCH_ROLE").is_ok_and(|role| role == "echo-bot") {
        return echo_bot::main();
    }
    // `cargo bench` passes `--bench`; this benchmark takes no arguments.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime");
    runtime.block_on(bench());
}
