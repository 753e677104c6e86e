//! Webhook mode and several instances: updates are stored in the inbox before Telegram
//! hears 200, refused without the secret, handled once whoever received them and each
//! chat's in order; an instance killed after answering loses nothing; of several
//! instances in polling mode one polls, and another takes over when it dies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use pingan::domain::ChatId;
use pingan::store::{InboxCounts, NewUpdate, Received, Store};
use serde_json::json;
use tokio::time::Instant;

use crate::support::fake_telegram::{FakeTelegram, Fault, FaultRule, TgUser, WAIT};
use crate::support::test_app::{Instance, Intake, WEBHOOK_SECRET, start_instance};
use crate::support::test_db::TestDb;

/// Claims on updates run out after 5 s (the least `delivery.lease_secs` allows), so that
/// the tests of a dead instance wait that long, not the default 30 s.
const SHORT_LEASES: [(&str, &str); 3] = [
    ("PINGAN_DELIVERY_LEASE_SECS", "5"),
    ("PINGAN_DATABASE_BUSY_TIMEOUT_MS", "2000"),
    ("PINGAN_TELEGRAM_POLL_TIMEOUT_SECS", "2"),
];

fn citizen(id: i64) -> TgUser {
    TgUser::new(id, "Li", Some("en"))
}

/// The `/notice N` each test sends is answered "There is no notice number N": the number
/// says which update a reply answers.
fn answered_numbers(fake: &FakeTelegram, chat: i64) -> Vec<u32> {
    fake.sent_to(chat)
        .iter()
        .filter_map(|m| m.text.split("no notice number ").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect()
}

/// Waits until the inbox holds `handled` updates handled and none open.
async fn wait_handled(store: &Arc<dyn Store>, handled: i64) -> InboxCounts {
    let deadline = Instant::now() + WAIT;
    loop {
        let counts = store.inbox_counts().await.unwrap();
        if counts.handled >= handled && counts.pending == 0 && counts.handling == 0 {
            return counts;
        }
        assert!(Instant::now() < deadline, "waiting for {handled} handled updates: {counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every chat in `expected` was answered the numbers listed for it.
async fn wait_answered(fake: &FakeTelegram, expected: &HashMap<i64, Vec<u32>>) {
    let chats: Vec<i64> = expected.keys().copied().collect();
    fake.wait_for("every update answered", |s| {
        let done = chats.iter().all(|chat| {
            let answers = s.sent.iter().filter(|m| m.chat_id == *chat).count();
            answers >= expected[chat].len()
        });
        done.then_some(())
    })
    .await;
}

crate::support::on_both_backends!(
    the_inbox_hands_out_one_update_per_chat_oldest_first_and_fences_its_claims,
    the_polling_lease_is_held_by_one_and_fences_what_it_stores,
    an_update_posted_to_the_webhook_is_answered,
    a_request_without_the_right_secret_is_refused_and_changes_nothing,
    an_update_posted_twice_is_handled_once,
);

fn new_update(update_id: i64, chat: i64) -> NewUpdate {
    NewUpdate { update_id, chat: ChatId(chat), payload: format!("{{\"update_id\": {update_id}}}") }
}

async fn the_inbox_hands_out_one_update_per_chat_oldest_first_and_fences_its_claims(db: TestDb) {
    let store = db.store().await;
    let now = chrono::Utc::now();
    let lease = Duration::from_secs(30);
    for (id, chat) in [(1, 10), (2, 10), (3, 11)] {
        assert_eq!(store.receive_update(&new_update(id, chat), 32, now).await.unwrap(), Received::New);
    }
    assert_eq!(store.receive_update(&new_update(1, 10), 32, now).await.unwrap(), Received::Repeated);
    let first = store.claim_updates("w1", lease, 10).await.unwrap();
    let ids: Vec<i64> = first.iter().map(|u| u.update_id).collect();
    assert_eq!(ids, [1, 3], "each chat's oldest only");
    assert!(store.claim_updates("w2", lease, 10).await.unwrap().is_empty(), "chat 10 is held");
    assert!(store.finish_update(&first[0], now).await.unwrap());
    let second = store.claim_updates("w2", lease, 10).await.unwrap();
    assert_eq!(second.iter().map(|u| u.update_id).collect::<Vec<_>>(), [2], "then the next of chat 10");
    // A lease that ran out: another worker takes the update, and the first one's writes
    // change nothing.
    let short = store.claim_updates("w3", Duration::from_millis(1), 10).await.unwrap();
    assert!(short.is_empty(), "nothing else is open");
    assert!(store.finish_update(&second[0], now).await.unwrap());
    store.receive_update(&new_update(4, 12), 32, now).await.unwrap();
    let stale = store.claim_updates("w3", Duration::from_millis(1), 10).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let retaken = store.claim_updates("w4", lease, 10).await.unwrap();
    assert_eq!(retaken.iter().map(|u| u.update_id).collect::<Vec<_>>(), [4]);
    assert_eq!(retaken[0].claim, stale[0].claim + 1, "a new fencing token");
    assert!(!store.finish_update(&stale[0], now).await.unwrap(), "the old claim is fenced off");
    assert_eq!(store.renew_update_leases("w3", &[4], lease).await.unwrap(), Vec::<i64>::new());
    assert!(store.finish_update(&retaken[0], now).await.unwrap());
    let counts = store.inbox_counts().await.unwrap();
    assert_eq!((counts.handled, counts.pending, counts.handling), (3, 0, 1), "update 3 still held by w1");
    store.close().await;
}

async fn the_polling_lease_is_held_by_one_and_fences_what_it_stores(db: TestDb) {
    let store = db.store().await;
    let now = chrono::Utc::now();
    let lease = Duration::from_secs(30);
    let first = store.take_poll_lease("a", lease, false).await.unwrap().expect("a free lease");
    assert_eq!(first.next_offset, 0);
    assert!(store.take_poll_lease("b", lease, false).await.unwrap().is_none(), "a holds it");
    let stored = store.store_polled(&first, &[new_update(7, 1), new_update(8, 2)], 9, lease, 32, now).await;
    assert_eq!(stored.unwrap(), Some(vec![Received::New, Received::New]));
    assert!(store.renew_poll_lease(&first, lease).await.unwrap());
    // b takes over (as after a's lease ran out) and continues from a's offset.
    let second = store.take_poll_lease("b", lease, true).await.unwrap().expect("taken");
    assert_eq!((second.next_offset, second.token), (9, first.token + 1));
    assert!(!store.renew_poll_lease(&first, lease).await.unwrap(), "a lost it");
    let fenced = store.store_polled(&first, &[new_update(9, 1)], 10, lease, 32, now).await.unwrap();
    assert_eq!(fenced, None, "a's late batch stores nothing");
    let again = store.store_polled(&second, &[new_update(8, 2), new_update(9, 1)], 10, lease, 32, now).await;
    assert_eq!(again.unwrap(), Some(vec![Received::Repeated, Received::New]));
    store.release_poll_lease(&second).await.unwrap();
    let third = store.take_poll_lease("c", lease, false).await.unwrap().expect("given up on stop");
    assert_eq!(third.next_offset, 10);
    assert_eq!(store.inbox_counts().await.unwrap().pending, 3);
    store.close().await;
}

async fn an_update_posted_to_the_webhook_is_answered(db: TestDb) {
    let fake = FakeTelegram::start().await;
    let app = start_instance(&fake, &db, Intake::Webhook, &[]).await;
    let info = fake.webhook().expect("the webhook is registered");
    assert_eq!(info.url, app.webhook_url());
    assert_eq!(info.secret_token.as_deref(), Some(WEBHOOK_SECRET));
    assert_eq!(info.max_connections, 40);
    assert_eq!(info.allowed_updates, json!(["message", "callback_query", "my_chat_member", "inline_query"]));

    fake.user_sends(&citizen(501), "/start");
    let answer = fake.wait_for_sent(501, 1).await;
    assert!(answer[0].text.contains("This is Pingan"), "{}", answer[0].text);
    let store = db.store().await;
    wait_handled(&store, 1).await;
    let posts = fake.webhook_posts();
    assert_eq!(posts.len(), 1, "answered 200 the first time: {posts:?}");
    assert_eq!((posts[0].status, posts[0].target.as_str()), (200, app.webhook_url().as_str()));

    app.stop().await.unwrap();
    assert!(fake.calls_of("deleteWebhook").is_empty(), "other instances still serve the webhook");
    assert!(fake.webhook().is_some());
    store.close().await;
}

async fn a_request_without_the_right_secret_is_refused_and_changes_nothing(db: TestDb) {
    let fake = FakeTelegram::start().await;
    let app = start_instance(&fake, &db, Intake::Webhook, &[]).await;
    let url = app.webhook_url();
    let update = fake.user_message_update(&citizen(502), "/notice 4242");
    let almost = &WEBHOOK_SECRET[..WEBHOOK_SECRET.len() - 1];
    for secret in [None, Some("wrong"), Some(almost), Some("")] {
        assert_eq!(fake.post_update(&url, secret, &update).await, 401, "secret {secret:?}");
    }
    let store = db.store().await;
    assert_eq!(store.inbox_counts().await.unwrap(), InboxCounts::default(), "nothing stored");

    // The same update with the secret is the first the inbox holds, and answered once.
    assert_eq!(fake.post_update(&url, Some(WEBHOOK_SECRET), &update).await, 200);
    fake.wait_for_sent(502, 1).await;
    let counts = wait_handled(&store, 1).await;
    assert_eq!(counts.handled, 1, "{counts:?}");
    assert_eq!(answered_numbers(&fake, 502), [4242]);
    // A body that is no update, with the secret: refused, nothing stored.
    assert_eq!(fake.post_update(&url, Some(WEBHOOK_SECRET), &json!({ "message": {} })).await, 400);
    assert_eq!(store.inbox_counts().await.unwrap().handled, 1);
    app.stop().await.unwrap();
    store.close().await;
}

async fn an_update_posted_twice_is_handled_once(db: TestDb) {
    let fake = FakeTelegram::start().await;
    let app = start_instance(&fake, &db, Intake::Webhook, &[]).await;
    let url = app.webhook_url();
    let first = fake.user_message_update(&citizen(503), "/notice 4242");
    let second = fake.user_message_update(&citizen(503), "/notice 4343");
    // Telegram sends an update again when it missed the answer: twice at once, then
    // again after it was handled.
    let (a, b) = tokio::join!(
        fake.post_update(&url, Some(WEBHOOK_SECRET), &first),
        fake.post_update(&url, Some(WEBHOOK_SECRET), &first)
    );
    assert_eq!((a, b), (200, 200), "a repeat is answered 200 too, or Telegram keeps sending it");
    fake.wait_for_sent(503, 1).await;
    let store = db.store().await;
    wait_handled(&store, 1).await;
    assert_eq!(fake.post_update(&url, Some(WEBHOOK_SECRET), &first).await, 200);
    assert_eq!(fake.post_update(&url, Some(WEBHOOK_SECRET), &second).await, 200);
    fake.wait_for_sent(503, 2).await;
    let counts = wait_handled(&store, 2).await;
    assert_eq!(counts.handled, 2, "one row per update_id: {counts:?}");
    assert_eq!(answered_numbers(&fake, 503), [4242, 4343], "each once, in order");
    app.stop().await.unwrap();
    store.close().await;
}

/// `count` PostgreSQL instances in webhook mode on `db`, the fake spreading its posts
/// over them round-robin.
async fn webhook_instances(fake: &FakeTelegram, db: &TestDb, count: usize) -> Vec<Instance> {
    let mut instances = Vec::new();
    for _ in 0..count {
        instances.push(start_instance(fake, db, Intake::Webhook, &SHORT_LEASES).await);
    }
    fake.balance_over(instances.iter().map(Instance::webhook_url).collect());
    instances
}

#[tokio::test]
async fn three_instances_handle_every_update_once_and_each_chat_in_order() {
    let Some(db) = TestDb::postgres().await else { return };
    let fake = FakeTelegram::start().await;
    let instances = webhook_instances(&fake, &db, 3).await;
    // 60 updates over 15 chats, interleaved: four per chat.
    let mut expected: HashMap<i64, Vec<u32>> = HashMap::new();
    for n in 0..60u32 {
        let chat = 600 + i64::from(n % 15);
        fake.user_sends(&citizen(chat), &format!("/notice {}", 1000 + n));
        expected.entry(chat).or_default().push(1000 + n);
    }
    wait_answered(&fake, &expected).await;
    fake.wait_until_posted().await;
    let store = db.store().await;
    let counts = wait_handled(&store, 60).await;
    assert_eq!(counts.handled, 60, "{counts:?}");
    for (chat, numbers) in &expected {
        assert_eq!(&answered_numbers(&fake, *chat), numbers, "chat {chat}: each once, in order");
    }
    let posts = fake.webhook_posts();
    for instance in &instances {
        let took = posts.iter().filter(|p| p.target == instance.webhook_url() && p.status == 200).count();
        assert!(took >= 15, "{} took {took} of 60", instance.base);
    }
    for instance in instances {
        instance.stop().await.unwrap();
    }
    store.close().await;
}

#[tokio::test]
async fn updates_an_instance_stored_before_it_was_killed_are_handled_by_the_others() {
    let Some(db) = TestDb::postgres().await else { return };
    let fake = FakeTelegram::start().await;
    let doomed = webhook_instances(&fake, &db, 1).await.remove(0);
    // Its replies hang, so the kill finds it holding the updates it claimed.
    fake.add_fault(FaultRule::on("sendMessage", Fault::Delay(Duration::from_secs(120))));
    let mut expected: HashMap<i64, Vec<u32>> = HashMap::new();
    for n in 0..12u32 {
        let chat = 700 + i64::from(n);
        fake.user_sends(&citizen(chat), &format!("/notice {}", 2000 + n));
        expected.entry(chat).or_default().push(2000 + n);
    }
    fake.wait_until_posted().await;
    // Every reply it tried is held by the fake (a reply still on its way when the fault is
    // cleared below would be answered, and its update handled again by the others: at
    // least once, as with a real kill between a reply and marking it handled).
    fake.wait_for("the doomed instance's 12 replies to be held", |s| {
        (s.arrived.iter().filter(|m| *m == "sendMessage").count() >= 12).then_some(())
    })
    .await;
    let store = db.store().await;
    assert_eq!(store.inbox_counts().await.unwrap().handled, 0);
    doomed.kill().await;
    fake.clear_faults();
    assert!(fake.sent().is_empty(), "the killed instance answered nothing");

    let killed_at = Instant::now();
    let others = webhook_instances(&fake, &db, 2).await;
    wait_answered(&fake, &expected).await;
    let took = killed_at.elapsed();
    let counts = wait_handled(&store, 12).await;
    assert_eq!(counts.handled, 12, "{counts:?}");
    for (chat, numbers) in &expected {
        assert_eq!(&answered_numbers(&fake, *chat), numbers, "chat {chat}: once");
    }
    println!("updates of a killed instance handled by the others {took:?} after the kill");
    // More updates go to the two left, each once.
    fake.user_sends(&citizen(700), "/notice 2100");
    fake.wait_for_sent(700, 2).await;
    wait_handled(&store, 13).await;
    assert_eq!(answered_numbers(&fake, 700), [2000, 2100]);
    for instance in others {
        instance.stop().await.unwrap();
    }
    store.close().await;
}

#[tokio::test]
async fn polling_moves_to_another_instance_within_ten_seconds_when_the_poller_dies() {
    let Some(db) = TestDb::postgres().await else { return };
    let fake = FakeTelegram::start().await;
    let first = start_instance(&fake, &db, Intake::Polling, &SHORT_LEASES).await;
    fake.wait_for("the first instance to poll", |s| (s.poll_generation > 0).then_some(())).await;
    let second = start_instance(&fake, &db, Intake::Polling, &SHORT_LEASES).await;

    let mut expected: HashMap<i64, Vec<u32>> = HashMap::new();
    let send = |n: u32, expected: &mut HashMap<i64, Vec<u32>>| {
        let chat = 800 + i64::from(n % 5);
        fake.user_sends(&citizen(chat), &format!("/notice {}", 3000 + n));
        expected.entry(chat).or_default().push(3000 + n);
    };
    for n in 0..10 {
        send(n, &mut expected);
    }
    wait_answered(&fake, &expected).await;
    let store = db.store().await;
    // (An instance killed between a reply and marking its update handled has the update
    // handled again: at least once, never lost. The kill below comes after that.)
    wait_handled(&store, 10).await;
    let polls = fake.calls_of("getUpdates");
    assert!(polls.iter().all(|c| c.status == 200), "one instance polls, never two at once: {polls:?}");

    // Updates arrive, and the polling instance dies at once (perhaps holding some).
    for n in 10..15 {
        send(n, &mut expected);
    }
    let generation = fake.wait_for("", |s| Some(s.poll_generation)).await;
    first.kill().await;
    let killed_at = Instant::now();
    fake.wait_for("the other instance to poll", |s| (s.poll_generation > generation).then_some(())).await;
    let failover = killed_at.elapsed();
    assert!(failover < Duration::from_secs(10), "the other instance polled {failover:?} after the kill");
    println!("polling failover: {failover:?}");
    for n in 15..20 {
        send(n, &mut expected);
    }
    wait_answered(&fake, &expected).await;
    wait_handled(&store, 20).await;
    for (chat, numbers) in &expected {
        assert_eq!(&answered_numbers(&fake, *chat), numbers, "chat {chat}: each once, in order");
    }
    second.stop().await.unwrap();
    store.close().await;
}

/// Updates a second through the webhook: `updates` updates from as many chats, posted by
/// the fake (40 connections, round-robin over the instances), from the first post until
/// every one is handled and answered. The send rate is raised out of the way, so the
/// figure is the intake's, not Telegram's limit.
async fn webhook_throughput(db: &TestDb, instances: usize, updates: u32) -> f64 {
    let fake = FakeTelegram::start().await;
    let env = [("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")];
    let mut running = Vec::new();
    for _ in 0..instances {
        running.push(start_instance(&fake, db, Intake::Webhook, &env).await);
    }
    fake.balance_over(running.iter().map(Instance::webhook_url).collect());
    let store = db.store().await;
    let started = Instant::now();
    for n in 0..updates {
        fake.user_sends(&citizen(900_000 + i64::from(n)), &format!("/notice {n}"));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = store.inbox_counts().await.unwrap();
        if counts.handled >= i64::from(updates) && fake.sent().len() >= updates as usize {
            break;
        }
        assert!(Instant::now() < deadline, "not done in 2 minutes: {counts:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let rate = f64::from(updates) / started.elapsed().as_secs_f64();
    for instance in running {
        instance.stop().await.unwrap();
    }
    store.close().await;
    rate
}

/// `cargo test --release --test integration webhook::bench -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints updates a second through the webhook (BENCHMARKS.md)"]
async fn bench_updates_per_second_through_the_webhook() {
    let sqlite = webhook_throughput(&TestDb::sqlite(), 1, 1000).await;
    println!("webhook, SQLite, 1 instance: {sqlite:.0} updates/s");
    // A database each: a fresh fake numbers its updates from 1 again.
    let Some(db) = TestDb::postgres().await else { return };
    let one = webhook_throughput(&db, 1, 1000).await;
    println!("webhook, PostgreSQL, 1 instance: {one:.0} updates/s");
    let Some(db) = TestDb::postgres().await else { return };
    let three = webhook_throughput(&db, 3, 1000).await;
    println!("webhook, PostgreSQL, 3 instances: {three:.0} updates/s");
}
