//! Several instances as real `pingan run` processes of the built binary on one PostgreSQL
//! and one fake Bot API, killed with SIGKILL: the scheduler leader dies mid-fan-out and
//! another finishes it and sends the next due digests, within the shared send rate as
//! the fake measures it; updates acknowledged by an instance killed at once are handled
//! by the others; polling passes to the other instance. (`instances.rs` and `webhook.rs`
//! show the same with instances inside the test process.) PostgreSQL only; skipped,
//! saying so, when it is unreachable, unless PINGAN_REQUIRE_POSTGRES=1.
//!
//! At least once, not exactly once: a send that reached Telegram from an instance killed
//! before it recorded the send (a delivery marked sent, an update marked handled) is made
//! again by the instance that takes the work over — Telegram has no idempotency key for
//! sendMessage. The tests let a chat or an update be served twice only when its first copy
//! reached the fake by the kill, and print how many were.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use pingan::domain::{
    Actor, Body, Category, ChatId, Frequency, Language, NewNotice, Notice, NoticeContent, Publication,
    Severity, Subscriber, Title,
};
use pingan::store::{InboxCounts, Store};
use tempfile::TempDir;
use tokio::time::Instant;

use crate::support::fake_telegram::methods::int_param;
use crate::support::fake_telegram::{Call, FakeTelegram, Limits, TgUser};
use crate::support::process::{Process, start_run};
use crate::support::test_app::{Intake, WEBHOOK_SECRET};
use crate::support::test_db::TestDb;

/// The send rate every process is configured with (`delivery.rate_per_second`, the
/// shipped default), and the limit the fake enforces and the test measures.
const RATE: usize = 25;
/// Claims on deliveries and updates run out after 5 s (the least `delivery.lease_secs`
/// allows), so work a killed process held is taken over after that, not after 30 s.
const ENV: &[(&str, &str)] = &[
    ("PINGAN_DELIVERY_RATE_PER_SECOND", "25"),
    ("PINGAN_DELIVERY_LEASE_SECS", "5"),
    ("PINGAN_DATABASE_BUSY_TIMEOUT_MS", "2000"),
    ("PINGAN_DELIVERY_TICK_MS", "200"),
    ("PINGAN_TELEGRAM_POLL_TIMEOUT_SECS", "2"),
];
/// How long after a kill a send from the killed process may still be recorded by the fake
/// (its request was on the wire when the signal came).
const IN_FLIGHT: Duration = Duration::from_millis(250);
/// The digest's header, in Chinese (the subscribers' language).
const DIGEST_HEADER: &str = "平安每日摘要";

/// One database, one fake Bot API, and the processes on them.
struct Deployment {
    fake: FakeTelegram,
    db: TestDb,
    store: Arc<dyn Store>,
    pool: sqlx::PgPool,
    dir: Arc<TempDir>,
    processes: Vec<Process>,
}

impl Deployment {
    /// The database (migrated by the test's own connection, before any process starts) and
    /// the fake, enforcing Telegram's limits at [`RATE`]: a send over it is answered 429.
    async fn start() -> Option<Deployment> {
        crate::support::init_logging();
        let db = TestDb::postgres().await?;
        let store = db.store().await;
        let pool = sqlx::PgPool::connect(db.url()).await.expect("the test's own PostgreSQL connection");
        let fake = FakeTelegram::start().await;
        fake.enforce_limits(Limits { per_second: RATE, ..Limits::telegram() });
        let dir = Arc::new(tempfile::tempdir().expect("a directory for the processes"));
        Some(Deployment { fake, db, store, pool, dir, processes: Vec::new() })
    }

    /// One more `pingan run` process; returns its index.
    async fn run(&mut self, intake: Intake) -> usize {
        let process = start_run(&self.fake, &self.db, &self.store, intake, &self.dir, ENV).await;
        self.processes.push(process);
        self.processes.len() - 1
    }

    /// The fake posts updates round-robin over every process started (a load balancer
    /// without health checks: a post to a dead one fails and goes to the next).
    fn balance(&self) {
        self.fake.balance_over(self.processes.iter().map(Process::webhook_url).collect());
    }

    /// The scheduler lease's holder, while its lease runs.
    async fn leader(&self) -> Option<String> {
        let lease = self.store.lease("scheduler").await.unwrap()?;
        (lease.remaining_ms > 0).then_some(lease.holder)
    }

    /// The polling lease's holder and fencing token, while its lease runs.
    async fn poller(&self) -> Option<(String, i64)> {
        sqlx::query_as(
            "SELECT holder, token FROM poll_lease WHERE holder IS NOT NULL \
             AND lease_expires_ms > (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT",
        )
        .fetch_optional(&self.pool)
        .await
        .unwrap()
    }

    /// The process a worker id names.
    fn process_of(&self, worker: &str) -> usize {
        self.processes.iter().position(|p| p.is(worker)).unwrap_or_else(|| panic!("no process is {worker}"))
    }

    async fn subscribe(&self, chats: impl IntoIterator<Item = i64>, frequency: Frequency) {
        let now = Utc::now();
        for chat in chats {
            let mut s = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now);
            s.frequency = frequency;
            self.store.save_subscriber(&s).await.unwrap();
        }
    }

    /// An urgent notice published now: the leader fans its alert out to every subscriber.
    async fn alert(&self, title: &str) -> Notice {
        let content = NoticeContent {
            title: Title::parse(title).unwrap(),
            body: Body::parse("请各位市民注意。").unwrap(),
            category: Category::Fraud,
            severity: Severity::Extreme,
            area: None,
            language: Language::Zh,
            source: None,
            districts: Default::default(),
        };
        let notice =
            NewNotice::new(content, Publication::Now, None, Actor::Cli("editor".into()), Utc::now()).unwrap();
        self.store.insert_notice(&notice).await.unwrap()
    }

    /// When the fake accepted each message to a chat whose text passes `pick`, by chat.
    fn sends_by_chat(&self, pick: impl Fn(&str) -> bool) -> HashMap<i64, Vec<Instant>> {
        let mut by_chat: HashMap<i64, Vec<Instant>> = HashMap::new();
        for call in self.fake.calls_of("sendMessage").into_iter().filter(|c| c.status == 200) {
            if pick(call.params["text"].as_str().unwrap_or_default()) {
                by_chat.entry(int_param(&call.params, "chat_id").unwrap_or(0)).or_default().push(call.at);
            }
        }
        by_chat
    }

    /// The alert with `marker` in its title (not a digest that lists it), by chat.
    fn alerts(&self, marker: &str) -> HashMap<i64, Vec<Instant>> {
        self.sends_by_chat(|text| text.contains(marker) && !text.contains(DIGEST_HEADER))
    }

    /// Waits for `check` for at most `limit`.
    async fn wait<F, Fut>(&self, what: &str, limit: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + limit;
        while !check().await {
            assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the processes still running with SIGTERM; each exits cleanly.
    async fn stop_all(&mut self, killed: &[usize]) {
        for (i, process) in std::mem::take(&mut self.processes).into_iter().enumerate() {
            if !killed.contains(&i) {
                let status = process.stop().await;
                assert!(status.success(), "process {i} exited with {status} on SIGTERM");
            }
        }
    }
}

impl Drop for Deployment {
    /// A failed test shows the end of each process's log.
    fn drop(&mut self) {
        if std::thread::panicking() {
            for (i, process) in self.processes.iter().enumerate() {
                let log = process.log_text();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                eprintln!("--- process {i} (pid {}), {}:\n{}", process.pid, process.base, tail.join("\n"));
            }
        }
    }
}

fn citizen(id: i64) -> TgUser {
    TgUser::new(id, "Li", Some("en"))
}

/// `/notice N` is answered "There is no notice number N": when the fake accepted each
/// answer, by N.
fn answers(fake: &FakeTelegram) -> HashMap<u32, Vec<Instant>> {
    let mut by_number: HashMap<u32, Vec<Instant>> = HashMap::new();
    for call in fake.calls_of("sendMessage").into_iter().filter(|c| c.status == 200) {
        let text = call.params["text"].as_str().unwrap_or_default();
        let number = text
            .split("no notice number ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
        if let Some(number) = number {
            by_number.entry(number).or_default().push(call.at);
        }
    }
    by_number
}

/// Of `copies` (when the fake accepted each copy, by chat or update), those served more
/// than once; fails the test if one of them had its first copy only after `killed` (and
/// the requests in flight then): only what the killed process had sent is sent again.
fn served_twice<K: std::fmt::Debug + Copy + Ord + std::hash::Hash>(
    copies: &HashMap<K, Vec<Instant>>,
    killed: Instant,
) -> BTreeMap<K, usize> {
    let twice: BTreeMap<K, usize> =
        copies.iter().filter(|(_, at)| at.len() > 1).map(|(k, at)| (*k, at.len())).collect();
    for key in twice.keys() {
        let first = copies[key].iter().min().unwrap();
        assert!(
            *first <= killed + IN_FLIGHT,
            "{key:?} was served {} times, the first {:?} after the kill: not a send the killed process made",
            copies[key].len(),
            first.duration_since(killed)
        );
    }
    twice
}

/// How many chats (or updates) were served how many times.
fn histogram<K>(copies: &HashMap<K, Vec<Instant>>) -> BTreeMap<usize, usize> {
    let mut counts = BTreeMap::new();
    for at in copies.values() {
        *counts.entry(at.len()).or_default() += 1;
    }
    counts
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Three processes in webhook mode, `subscribers` plus ten digest readers: the leader is
/// killed when a third of the alert's fan-out is out, with the readers' digests due three
/// seconds later; citizens' updates come in before and after the kill.
async fn fan_out_through_three_processes(subscribers: i64) {
    let Some(mut d) = Deployment::start().await else { return };
    let readers = 900_001..=900_010_i64;
    let total = subscribers as usize + readers.clone().count();
    let marker = "三个进程共同发送的预警";
    d.subscribe(1..=subscribers, Frequency::Off).await;
    d.subscribe(readers.clone(), Frequency::Daily).await;
    for _ in 0..3 {
        d.run(Intake::Webhook).await;
    }
    d.balance();
    d.wait("a process to lead", Duration::from_secs(10), || async { d.leader().await.is_some() }).await;
    let leader = d.leader().await.expect("a leader");
    let old = d.process_of(&leader);
    // Every process counts the other two (and ends its warm-up) within two heartbeats.
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    let mut expected_answers = HashSet::new();
    for n in 0..12u32 {
        d.fake.user_sends(&citizen(800_000 + i64::from(n)), &format!("/notice {}", 7000 + n));
        expected_answers.insert(7000 + n);
    }
    let started = Instant::now();
    d.alert(marker).await;
    // At most the rate (and slower while one process's registration outlives it).
    let fan_out = Duration::from_secs(60 + 2 * total as u64 / RATE as u64);
    d.wait("a third of the fan-out to be out", fan_out, || async { d.alerts(marker).len() >= total / 3 })
        .await;
    // The readers' next digest comes due three seconds from now by the database's clock,
    // while no process leads.
    sqlx::query(
        "UPDATE subscribers SET next_digest_at = clock_timestamp() + INTERVAL '3 seconds' \
         WHERE chat_id BETWEEN $1 AND $2",
    )
    .bind(readers.start())
    .bind(readers.end())
    .execute(&d.pool)
    .await
    .unwrap();
    let killed = d.processes[old].kill().await;
    let out_at_kill = d.alerts(marker).len();
    for n in 12..24u32 {
        d.fake.user_sends(&citizen(800_000 + i64::from(n)), &format!("/notice {}", 7000 + n));
        expected_answers.insert(7000 + n);
    }

    d.wait("another process to lead", Duration::from_secs(15), || async {
        d.leader().await.is_some_and(|holder| holder != leader)
    })
    .await;
    let takeover = killed.elapsed();
    let new_leader = d.process_of(&d.leader().await.unwrap());
    d.wait("every subscriber to get the alert", fan_out, || async { d.alerts(marker).len() == total }).await;
    let finished = killed.elapsed();
    d.wait("every reader's digest", Duration::from_secs(60), || async {
        d.sends_by_chat(|text| text.contains(DIGEST_HEADER)).len() == readers.clone().count()
    })
    .await;
    let digested = killed.elapsed();
    d.wait("every citizen's answer", Duration::from_secs(60), || async {
        expected_answers.iter().all(|n| answers(&d.fake).contains_key(n))
    })
    .await;
    // Anything sent twice would be out by now: the claims of the killed process ran out
    // (5 s) long ago.
    let alerts = d.alerts(marker);
    let digests = d.sends_by_chat(|text| text.contains(DIGEST_HEADER));
    let answered = answers(&d.fake);
    let calls = d.fake.message_calls();
    let rate = d.fake.message_rate();
    let refused = calls.iter().filter(|c: &&Call| c.status == 429).count();
    let alerts_twice = served_twice(&alerts, killed);
    let answers_twice = served_twice(&answered, killed);
    eprintln!(
        "3 processes, rate_per_second = {RATE}, {total} subscribers: leader (process {old}) killed by SIGKILL \
         {} after the alert with {out_at_kill} sent; process {new_leader} led {} after the kill; the fan-out \
         finished {} and the {} due digests were out {} after the kill ({} from the alert to the last)",
        secs(killed.duration_since(started)),
        secs(takeover),
        secs(finished),
        digests.len(),
        secs(digested),
        secs(started.elapsed()),
    );
    eprintln!(
        "sends per chat (alert): {:?}; digests per reader: {:?}; answers per update: {:?}; \
         {} message requests, {:.1}/s on average, most in any 1-second window {} (from {} after the kill; \
         per whole second from the first {:?}); \
         429s {refused}; served twice (sent by the killed process as it died): alerts {alerts_twice:?}, \
         answers {answers_twice:?}",
        histogram(&alerts),
        histogram(&digests),
        histogram(&answered),
        rate.count,
        rate.mean_per_second(),
        rate.busiest,
        rate.busiest_from.map_or("-".to_owned(), |at| {
            if at >= killed { secs(at - killed) } else { format!("-{}", secs(killed - at)) }
        }),
        rate.per_second,
    );
    if let Some(from) = rate.busiest_from.filter(|_| rate.busiest > RATE) {
        // Before failing: who sent what in that second (a delivery's sender, or a reply).
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT chat_id, COALESCE(leased_by, '') FROM deliveries")
                .fetch_all(&d.pool)
                .await
                .unwrap();
        let by_chat: HashMap<i64, String> = rows.into_iter().collect();
        for c in calls.iter().filter(|c| c.at >= from && c.at < from + Duration::from_secs(1)) {
            let chat = int_param(&c.params, "chat_id").unwrap_or(0);
            let who = by_chat.get(&chat).map_or("a reply".to_owned(), |worker| {
                d.processes
                    .iter()
                    .position(|p| p.is(worker))
                    .map_or(worker.clone(), |i| format!("process {i}"))
            });
            eprintln!("{:4} ms: chat {chat}, {}, from {who}", (c.at - from).as_millis(), c.status);
        }
    }
    assert!(takeover <= Duration::from_secs(10), "another process led {takeover:?} after the kill");
    assert_eq!(alerts.len(), total, "every subscriber got the alert");
    assert!(digests.values().all(|at| at.len() == 1), "one digest each: {:?}", histogram(&digests));
    assert!(rate.busiest <= RATE, "{} messages within one second, over the limit of {RATE}", rate.busiest);
    assert_eq!(refused, 0, "Telegram's limit was never hit");
    d.stop_all(&[old]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_finish_a_fan_out_and_the_due_digests_when_the_leader_is_killed() {
    fan_out_through_three_processes(300).await;
}

/// `cargo test --test integration processes::five_thousand -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "about five minutes at 25 messages a second: the figures in BENCHMARKS.md"]
async fn five_thousand_subscribers_through_three_processes_with_the_leader_killed() {
    fan_out_through_three_processes(5_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updates_a_process_acknowledged_just_before_its_kill_are_handled_by_the_others() {
    let Some(mut d) = Deployment::start().await else { return };
    for _ in 0..3 {
        d.run(Intake::Webhook).await;
    }
    d.balance();
    let doomed = 0;
    let doomed_url = d.processes[doomed].webhook_url();

    // Without the right secret: 401 from a real process, and nothing stored.
    let refused_update = d.fake.user_message_update(&citizen(820_000), "/notice 4242");
    let almost = &WEBHOOK_SECRET[..WEBHOOK_SECRET.len() - 1];
    for secret in [None, Some("wrong"), Some(almost), Some("")] {
        let status = d.fake.post_update(&doomed_url, secret, &refused_update).await;
        assert_eq!(status, 401, "secret {secret:?}");
    }
    assert_eq!(d.store.inbox_counts().await.unwrap(), InboxCounts::default(), "nothing stored");

    // Thirty updates at once, spread over the three; the doomed one is killed the moment
    // it has answered 200 to eight of them.
    for n in 0..30u32 {
        d.fake.user_sends(&citizen(820_001 + i64::from(n)), &format!("/notice {}", 5000 + n));
    }
    let eighth = d
        .fake
        .wait_for("the doomed process to acknowledge eight updates", |s| {
            let ours: Vec<Instant> = s
                .webhooks
                .posts
                .iter()
                .filter(|p| p.target == doomed_url && p.status == 200)
                .map(|p| p.at)
                .collect();
            (ours.len() >= 8).then(|| ours[7])
        })
        .await;
    let killed = d.processes[doomed].kill().await;
    let after_ack = killed.duration_since(eighth);
    // Fifteen more, the dead process still in the rotation (a post to it fails and goes on).
    for n in 30..45u32 {
        d.fake.user_sends(&citizen(820_001 + i64::from(n)), &format!("/notice {}", 5000 + n));
    }
    // The refused update, with the secret now, to a live process: stored and answered.
    let live_url = d.processes[1].webhook_url();
    assert_eq!(d.fake.post_update(&live_url, Some(WEBHOOK_SECRET), &refused_update).await, 200);

    let expected: Vec<u32> = std::iter::once(4242).chain(5000..5045).collect();
    d.wait("every update answered", Duration::from_secs(60), || async {
        let answered = answers(&d.fake);
        expected.iter().all(|n| answered.contains_key(n))
    })
    .await;
    let all_answered = killed.elapsed();
    d.wait("every update handled", Duration::from_secs(30), || async {
        let counts = d.store.inbox_counts().await.unwrap();
        counts.handled == expected.len() as i64 && counts.pending == 0 && counts.handling == 0
    })
    .await;
    let counts = d.store.inbox_counts().await.unwrap();
    let answered = answers(&d.fake);
    let twice = served_twice(&answered, killed);
    let posts = d.fake.webhook_posts();
    let ours: HashSet<i64> =
        posts.iter().filter(|p| p.target == doomed_url && p.status == 200).map(|p| p.update_id).collect();
    let failed_posts = posts.iter().filter(|p| p.status != 200).count();
    // Who handled each update it acknowledged, and how many claims it took.
    let rows: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT update_id, COALESCE(leased_by, ''), claim FROM inbox_updates")
            .fetch_all(&d.pool)
            .await
            .unwrap();
    let doomed_pid = d.processes[doomed].pid;
    let by_doomed = |worker: &str| worker.starts_with(&format!("pid{doomed_pid}-"));
    let ours_rows: Vec<&(i64, String, i64)> = rows.iter().filter(|(id, _, _)| ours.contains(id)).collect();
    let handled_by_others = ours_rows.iter().filter(|(_, worker, _)| !by_doomed(worker)).count();
    let taken_over = ours_rows.iter().filter(|(_, worker, claim)| !by_doomed(worker) && *claim > 1).count();
    eprintln!(
        "the doomed process acknowledged {} updates and was killed {} ms after the eighth; of them {handled_by_others} \
         were handled by the others ({taken_over} after its claim ran out, the rest never claimed by it); every \
         one of {} updates answered {} after the kill; {failed_posts} posts to the dead process went on to the \
         next; answers per update {:?}; answered twice (sent by the killed process as it died): {twice:?}; \
         inbox {counts:?}",
        ours.len(),
        after_ack.as_millis(),
        expected.len(),
        secs(all_answered),
        histogram(&answered),
    );
    assert_eq!(counts.handled, expected.len() as i64, "each stored once, handled: {counts:?}");
    assert_eq!(answered.len(), expected.len(), "nothing but the expected answers");
    assert!(ours.len() >= 8);
    assert!(after_ack < Duration::from_millis(500), "killed {after_ack:?} after it answered 200");
    // An answer sent twice is one the killed process sent as it died: it held the update's
    // claim (whichever process the update was posted to: every process's workers claim from
    // the one inbox), so another took the claim over once it ran out.
    for n in twice.keys() {
        let chat = if *n == 4242 { 820_000 } else { 820_001 + i64::from(n - 5000) };
        let update = posts.iter().find(|p| p.status == 200 && p.chat_id == chat).map(|p| p.update_id);
        let row = update.and_then(|id| rows.iter().find(|(row, _, _)| *row == id));
        assert!(
            row.is_some_and(|(_, _, claim)| *claim > 1),
            "answer {n} twice, but its update was never taken over from another process: {row:?}"
        );
    }
    d.stop_all(&[doomed]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn polling_passes_to_the_other_process_within_ten_seconds_when_the_poller_is_killed() {
    let Some(mut d) = Deployment::start().await else { return };
    d.run(Intake::Polling).await;
    d.run(Intake::Polling).await;
    d.wait("a process to poll", Duration::from_secs(20), || async { d.poller().await.is_some() }).await;
    let (holder, token) = d.poller().await.unwrap();
    let poller = d.process_of(&holder);
    let other = 1 - poller;

    let mut expected = Vec::new();
    let send = |fake: &FakeTelegram, expected: &mut Vec<u32>, n: u32| {
        fake.user_sends(&citizen(830_000 + i64::from(n % 5)), &format!("/notice {}", 6000 + n));
        expected.push(6000 + n);
    };
    for n in 0..10 {
        send(&d.fake, &mut expected, n);
    }
    let first_ten: Vec<u32> = (6000..6010).collect();
    d.wait("the first ten answered", Duration::from_secs(30), || async {
        let answered = answers(&d.fake);
        first_ten.iter().all(|n| answered.contains_key(n))
    })
    .await;
    let polls = d.fake.calls_of("getUpdates");
    assert!(polls.iter().all(|c| c.status == 200), "never two polls at once (a 409): {polls:?}");
    let polls_before_kill = polls.len();
    assert_eq!(d.poller().await.map(|(_, t)| t), Some(token), "one process held the lease throughout");

    // Updates arrive, and the poller is killed at once (perhaps holding some).
    for n in 10..15 {
        send(&d.fake, &mut expected, n);
    }
    let generation = d.fake.wait_for("", |s| Some(s.poll_generation)).await;
    let killed = d.processes[poller].kill().await;
    let polled_again = d
        .fake
        .wait_for("the other process to poll", |s| (s.poll_generation > generation).then(Instant::now))
        .await;
    let failover = polled_again.duration_since(killed);
    let (new_holder, new_token) = d.poller().await.expect("a poller");
    assert_eq!(d.process_of(&new_holder), other);
    for n in 15..20 {
        send(&d.fake, &mut expected, n);
    }
    d.wait("every update answered", Duration::from_secs(30), || async {
        let answered = answers(&d.fake);
        expected.iter().all(|n| answered.contains_key(n))
    })
    .await;
    d.wait("every update handled", Duration::from_secs(30), || async {
        let counts = d.store.inbox_counts().await.unwrap();
        counts.handled == 20 && counts.pending == 0 && counts.handling == 0
    })
    .await;
    let answered = answers(&d.fake);
    let twice = served_twice(&answered, killed);
    // The killed process's last long poll, left open, is ended by the other's first: a 409
    // to no one. Any other would be two live processes polling at once.
    let conflicts =
        d.fake.calls_of("getUpdates")[polls_before_kill..].iter().filter(|c| c.status == 409).count();
    eprintln!(
        "polling: process {poller} polled (token {token}); killed by SIGKILL, process {other} polled {} later \
         (token {new_token}); answers per update {:?}; answered twice (sent by the killed process as it \
         died): {twice:?}; 409s {conflicts}",
        secs(failover),
        histogram(&answered),
    );
    assert!(failover < Duration::from_secs(10), "the other process polled {failover:?} after the kill");
    assert_eq!(answered.len(), 20);
    assert!(conflicts <= 1, "{conflicts} polls ended by another: two processes polled at once");
    d.stop_all(&[poller]).await;
}
