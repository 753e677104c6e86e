//! Several instances on one PostgreSQL and one fake Bot API: one scheduler leader with
//! failover, and a send rate, per-chat spacing and 429 holds shared by all instances.
//! PostgreSQL only (several instances is what it is for); skipped, saying so, when it is
//! unreachable, unless PINGAN_REQUIRE_POSTGRES=1.
//!
//! The instances and the fake run in one test process, on a runtime of several threads:
//! on one thread, a stall of that thread (a busy machine) would hold the fake's answers
//! and time them all at once when it wakes, as if the sends had come together.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, TimeZone, Utc};
use pingan::clock::{Clock, ManualClock, SystemClock};
use pingan::domain::{
    Actor, Body, Category, ChatId, DigestTime, Frequency, Language, NewNotice, Notice, NoticeContent,
    Publication, Severity, Subscriber, Title,
};
use pingan::store::Store;
use tokio::time::Instant;

use crate::support::fake_telegram::{Call, FakeTelegram, Fault, FaultRule};
use crate::support::test_app::{Instance, spawn_instance};
use crate::support::test_db::TestDb;

/// Fast ticks and retries, short leases; the rate is each test's own.
const ENV: &[(&str, &str)] = &[
    ("PINGAN_DELIVERY_TICK_MS", "50"),
    ("PINGAN_DELIVERY_RETRY_BASE_MS", "20"),
    ("PINGAN_DELIVERY_LEASE_SECS", "5"),
    ("PINGAN_DATABASE_BUSY_TIMEOUT_MS", "2000"),
];

/// One database, one fake Bot API, and the test's own connection.
struct Cluster {
    fake: FakeTelegram,
    db: TestDb,
    store: Arc<dyn Store>,
}

impl Cluster {
    async fn start() -> Option<Cluster> {
        crate::support::init_logging();
        let db = TestDb::postgres().await?;
        let store = db.store().await;
        Some(Cluster { fake: FakeTelegram::start().await, db, store })
    }

    /// One more instance; returns once it is registered among the live ones.
    async fn instance(&self, clock: Arc<dyn Clock>, extra: &[(&str, &str)]) -> Instance {
        let before = self.store.live_instances().await.unwrap().len();
        let mut env = ENV.to_vec();
        env.extend_from_slice(extra);
        let instance = spawn_instance(&self.fake, &self.db, clock, &env);
        self.wait("the instance to register", || async {
            self.store.live_instances().await.unwrap().len() > before
        })
        .await;
        instance
    }

    /// Waits for a condition on the database or the fake, with a deadline of a minute.
    async fn wait<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + StdDuration::from_secs(60);
        while !check().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    }

    /// The scheduler lease's holder now, if a lease runs.
    async fn leader(&self) -> Option<String> {
        let lease = self.store.lease("scheduler").await.unwrap()?;
        (lease.remaining_ms > 0).then_some(lease.holder)
    }

    async fn subscribe(&self, chats: impl IntoIterator<Item = i64>, now: DateTime<Utc>) {
        for chat in chats {
            let mut s = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now);
            s.frequency = Frequency::Off;
            self.store.save_subscriber(&s).await.unwrap();
        }
    }

    /// An urgent notice, published at `now`: the leader fans its alert out to everyone.
    async fn alert(&self, title: &str, now: DateTime<Utc>) -> Notice {
        let content = NoticeContent {
            districts: Default::default(),
            title: Title::parse(title).unwrap(),
            body: Body::parse("请各位市民注意。").unwrap(),
            category: Category::Fraud,
            severity: Severity::Extreme,
            area: None,
            language: Language::Zh,
            source: None,
        };
        let notice =
            NewNotice::new(content, Publication::Now, None, Actor::Cli("editor".into()), now).unwrap();
        self.store.insert_notice(&notice).await.unwrap()
    }

    /// Successful sendMessage calls, in the order the fake answered them.
    fn sends(&self) -> Vec<Call> {
        self.fake.calls_of("sendMessage").into_iter().filter(|c| c.status == 200).collect()
    }

    /// Messages each chat got with `marker` in them.
    fn served(&self, marker: &str) -> HashMap<i64, usize> {
        let mut served = HashMap::new();
        for m in self.fake.sent().into_iter().filter(|m| m.text.contains(marker)) {
            *served.entry(m.chat_id).or_default() += 1;
        }
        served
    }
}

/// The most sends in any one-second window, sliding (from each send on) and by the
/// seconds since the first send.
fn busiest_second(calls: &[Call]) -> (usize, Vec<usize>) {
    let times: Vec<Instant> = calls.iter().map(|c| c.at).collect();
    let mut sliding = 0;
    for (i, start) in times.iter().enumerate() {
        let within =
            times[i..].iter().take_while(|t| t.duration_since(*start) < StdDuration::from_secs(1)).count();
        sliding = sliding.max(within);
    }
    let mut per_second = Vec::new();
    if let Some(first) = times.first() {
        for t in &times {
            let second = t.duration_since(*first).as_secs() as usize;
            if per_second.len() <= second {
                per_second.resize(second + 1, 0);
            }
            per_second[second] += 1;
        }
    }
    (sliding, per_second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_serve_a_fan_out_to_a_thousand_once_within_the_shared_rate() {
    let Some(cluster) = Cluster::start().await else { return };
    let rate = [("PINGAN_DELIVERY_RATE_PER_SECOND", "30")];
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(cluster.instance(clock.clone(), &rate).await);
    }
    cluster.subscribe(1..=1_000, Utc::now()).await;
    // Every instance has counted the other two (and warmed up) within two heartbeats.
    tokio::time::sleep(StdDuration::from_secs(2)).await;

    cluster.alert("三个实例共同发送的预警", Utc::now()).await;
    cluster
        .wait("every subscriber to get the alert", || async {
            cluster.served("三个实例共同发送的预警").len() == 1_000
        })
        .await;
    let served = cluster.served("三个实例共同发送的预警");
    let twice: Vec<_> = served.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "served more than once: {twice:?}");

    let sends = cluster.sends();
    let refused = cluster.fake.calls_of("sendMessage").iter().filter(|c| c.status == 429).count();
    let (sliding, per_second) = busiest_second(&sends);
    let span = sends.last().unwrap().at.duration_since(sends[0].at).as_secs_f64();
    eprintln!(
        "3 instances, rate_per_second = 30: {} sends in {span:.1} s ({:.1}/s); busiest sliding second {sliding}; \
         per second {per_second:?}; 429s {refused}",
        sends.len(),
        (sends.len() - 1) as f64 / span
    );
    assert_eq!(refused, 0);
    assert!(sliding <= 30, "{sliding} sends within one second, over the limit of 30");
    for instance in instances {
        instance.stop().await.unwrap();
    }
    assert!(cluster.store.live_instances().await.unwrap().is_empty(), "each stop leaves the register");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_leader_dies_mid_fan_out_another_takes_over_within_ten_seconds_and_finishes_its_work() {
    let Some(cluster) = Cluster::start().await else { return };
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let rate = [("PINGAN_DELIVERY_RATE_PER_SECOND", "30")];
    cluster.subscribe(1..=300, start).await;
    // One digest reader, due at 08:00 in Shanghai (00:00 UTC) tomorrow.
    let mut reader = Subscriber::new(ChatId(5_000), Language::Zh, chrono_tz::Asia::Shanghai, start);
    reader.digest_time = "08:00".parse::<DigestTime>().unwrap();
    cluster.store.save_subscriber(&reader).await.unwrap();

    // The first instance leads: it is alone when the lease is first taken.
    let first = cluster.instance(clock.clone(), &rate).await;
    cluster.wait("the first instance to lead", || async { cluster.leader().await.is_some() }).await;
    let old_leader = cluster.leader().await.unwrap();
    let others = [cluster.instance(clock.clone(), &rate).await, cluster.instance(clock.clone(), &rate).await];

    cluster.alert("领导者中途退出时的预警", start).await;
    cluster
        .wait("a third of the fan-out to be sent", || async {
            cluster.served("领导者中途退出时的预警").len() >= 100
        })
        .await;
    first.kill().await;
    let killed = Instant::now();
    let sent_at_kill = cluster.served("领导者中途退出时的预警").len();
    cluster
        .wait("another instance to lead", || async {
            cluster.leader().await.is_some_and(|holder| holder != old_leader)
        })
        .await;
    let takeover = killed.elapsed();

    // The next digest comes due: only a leader queues it.
    clock.set(Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 30).unwrap());
    cluster.fake.wait_for_sent(5_000, 1).await;
    let digest_after = killed.elapsed();
    // The 300, and the digest reader: an Extreme alert reaches every subscriber.
    cluster
        .wait("every subscriber to get the alert", || async {
            cluster.served("领导者中途退出时的预警").len() == 301
        })
        .await;
    let finished = killed.elapsed();
    let served = cluster.served("领导者中途退出时的预警");
    let twice = served.values().filter(|n| **n > 1).count();
    eprintln!(
        "leader killed after {sent_at_kill} of 301 sends; another led {:.2} s later, sent the due digest \
         {:.2} s after the kill, and the fan-out was finished {:.2} s after it; {twice} chat(s) served twice \
         (sends in flight at the kill)",
        takeover.as_secs_f64(),
        digest_after.as_secs_f64(),
        finished.as_secs_f64()
    );
    assert!(takeover <= StdDuration::from_secs(10), "takeover took {takeover:?}");
    // At least once, never lost: only what the dead instance had in flight may go twice,
    // and it sends one chat at a time per slot (a few in the moment it died).
    assert!(twice <= 5, "{twice} chats served twice");
    assert_eq!(cluster.fake.sent_to(5_000).len(), 1, "one digest");
    for instance in others {
        instance.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sending_to_one_chat_keep_its_spacing() {
    let Some(cluster) = Cluster::start().await else { return };
    let fast = [("PINGAN_DELIVERY_RATE_PER_SECOND", "200")];
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let instances =
        [cluster.instance(clock.clone(), &fast).await, cluster.instance(clock.clone(), &fast).await];
    cluster.subscribe([77], Utc::now()).await;
    tokio::time::sleep(StdDuration::from_secs(2)).await;
    // Six alerts at once: six deliveries to one chat, claimed by whichever instance is free.
    for i in 0..6 {
        cluster.alert(&format!("同一聊天的第{i}条预警"), Utc::now()).await;
    }
    let sent = cluster.fake.wait_for_sent(77, 6).await;
    let times: Vec<Instant> = cluster
        .sends()
        .into_iter()
        .filter(|c| c.params["chat_id"].as_i64() == Some(77))
        .map(|c| c.at)
        .collect();
    let gaps: Vec<u128> = times.windows(2).map(|w| w[1].duration_since(w[0]).as_millis()).collect();
    eprintln!("six alerts to one chat from two instances: gaps {gaps:?} ms");
    assert_eq!(sent.len(), 6);
    // One second by the database's clock between claims; the fake sees it a request's
    // latency apart at most.
    assert!(gaps.iter().all(|gap| *gap >= 900), "sends to one chat closer than its interval: {gaps:?}");
    for instance in instances {
        instance.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_429_for_a_chat_seen_by_one_instance_holds_the_others() {
    let Some(cluster) = Cluster::start().await else { return };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let fast = [("PINGAN_DELIVERY_RATE_PER_SECOND", "200")];
    cluster.subscribe([88], Utc::now()).await;
    cluster.fake.add_fault(FaultRule::on("sendMessage", Fault::RetryAfter(6)).chat(88).times(1));
    let first = cluster.instance(clock.clone(), &fast).await;
    cluster.alert("第一条预警", Utc::now()).await;
    cluster
        .wait("Telegram to refuse the first alert", || async {
            cluster.fake.calls_of("sendMessage").iter().any(|c| c.status == 429)
        })
        .await;
    let refused_at = cluster.fake.calls_of("sendMessage").iter().find(|c| c.status == 429).unwrap().at;
    // The instance that saw the 429 leaves; a fresh one, whose own pacer knows nothing of
    // it, is the only one left to send the next alert (and the first one's retry).
    first.stop().await.unwrap();
    let second = cluster.instance(clock.clone(), &fast).await;
    cluster.alert("第二条预警", Utc::now()).await;
    let sent = cluster.fake.wait_for_sent(88, 2).await;
    let after: Vec<f64> = cluster
        .sends()
        .into_iter()
        .filter(|c| c.params["chat_id"].as_i64() == Some(88))
        .map(|c| c.at.duration_since(refused_at).as_secs_f64())
        .collect();
    eprintln!("a 429 with retry_after 6 s: the chat's next sends came {after:?} s after it");
    assert_eq!(sent.len(), 2);
    assert!(after.iter().all(|s| *s >= 5.9), "a send within the hold Telegram gave: {after:?}");
    second.stop().await.unwrap();
}

// --- The store's side, on both backends -----------------------------------------------

crate::support::on_both_backends!(
    a_lease_is_held_renewed_released_and_taken_over_with_a_new_token,
    a_chats_turn_is_taken_once_within_its_interval_and_a_429_holds_it
);

async fn a_lease_is_held_renewed_released_and_taken_over_with_a_new_token(db: TestDb) {
    let store = db.store().await;
    let long = StdDuration::from_secs(60);
    assert_eq!(store.acquire_lease("scheduler", "a", long).await.unwrap(), Some(1));
    assert_eq!(store.acquire_lease("scheduler", "b", long).await.unwrap(), None, "a's lease runs");
    assert_eq!(store.acquire_lease("scheduler", "a", long).await.unwrap(), Some(1), "renewed, same token");
    let lease = store.lease("scheduler").await.unwrap().unwrap();
    assert_eq!((lease.holder.as_str(), lease.token), ("a", 1));
    assert!(lease.remaining_ms > 50_000);

    store.release_lease("scheduler", "b").await.unwrap();
    assert_eq!(
        store.acquire_lease("scheduler", "b", long).await.unwrap(),
        None,
        "only its holder releases it"
    );
    store.release_lease("scheduler", "a").await.unwrap();
    assert_eq!(store.acquire_lease("scheduler", "b", long).await.unwrap(), Some(2), "taken over, token up");
    assert_eq!(store.acquire_lease("scheduler", "a", long).await.unwrap(), None, "a no longer leads");

    // A lease that runs out is taken by the next to ask.
    assert_eq!(store.acquire_lease("other", "a", StdDuration::from_millis(1)).await.unwrap(), Some(1));
    tokio::time::sleep(StdDuration::from_millis(20)).await;
    assert_eq!(store.acquire_lease("other", "b", long).await.unwrap(), Some(2));

    assert_eq!(store.heartbeat_instance("a", long).await.unwrap(), 1);
    assert_eq!(store.heartbeat_instance("b", long).await.unwrap(), 2);
    assert_eq!(store.heartbeat_instance("a", long).await.unwrap(), 2, "a renewal is no new instance");
    assert_eq!(store.heartbeat_instance("c", StdDuration::from_millis(300)).await.unwrap(), 3);
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert_eq!(store.live_instances().await.unwrap(), ["a", "b"], "c ran out");
    store.leave_instances("a").await.unwrap();
    assert_eq!(store.live_instances().await.unwrap(), ["b"]);
}

async fn a_chats_turn_is_taken_once_within_its_interval_and_a_429_holds_it(db: TestDb) {
    use pingan::store::ChatTurn;
    let store = db.store().await;
    let second = StdDuration::from_secs(1);
    assert_eq!(store.claim_chat_turn(ChatId(1), second).await.unwrap(), ChatTurn::Go);
    let ChatTurn::Wait(wait) = store.claim_chat_turn(ChatId(1), second).await.unwrap() else {
        panic!("a chat's turn taken twice within its interval")
    };
    assert!(wait > StdDuration::from_millis(800) && wait <= second, "{wait:?}");
    assert_eq!(store.claim_chat_turn(ChatId(2), second).await.unwrap(), ChatTurn::Go, "other chats go on");

    assert_eq!(store.claim_chat_turn(ChatId(3), StdDuration::from_millis(1)).await.unwrap(), ChatTurn::Go);
    tokio::time::sleep(StdDuration::from_millis(20)).await;
    assert_eq!(store.claim_chat_turn(ChatId(3), second).await.unwrap(), ChatTurn::Go, "its interval passed");

    store.hold_chat(ChatId(4), StdDuration::from_secs(30)).await.unwrap();
    store.hold_chat(ChatId(4), StdDuration::from_secs(5)).await.unwrap();
    let ChatTurn::Wait(wait) = store.claim_chat_turn(ChatId(4), second).await.unwrap() else {
        panic!("a chat held by a 429 was sent to")
    };
    assert!(wait > StdDuration::from_secs(25), "the longer hold stays: {wait:?}");
    // Chat 2's and 3's turns came round (chat 1's too, after its second); 4 is held.
    tokio::time::sleep(StdDuration::from_millis(1_500)).await;
    assert_eq!(store.prune_chat_turns().await.unwrap(), 3, "the chats whose turn came are forgotten");
    assert!(matches!(store.claim_chat_turn(ChatId(4), second).await.unwrap(), ChatTurn::Wait(_)), "held");
    // What an instance left alone adopts into its own pacer: the held chat, and no other.
    let held = store.chats_on_hold().await.unwrap();
    assert_eq!(held.iter().map(|(chat, _)| *chat).collect::<Vec<_>>(), [ChatId(4)]);
    assert!(held[0].1 > StdDuration::from_secs(25) && held[0].1 <= StdDuration::from_secs(30), "{held:?}");
}
