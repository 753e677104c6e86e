//! The delivery engine end to end: alerts, scheduled publishing, the channel mirror,
//! digests across time zones and daylight-saving changes, and every send outcome.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use futures::StreamExt;
use pingan::clock::{Clock, ManualClock, SystemClock};
use pingan::config::Loaded;
use pingan::delivery::scheduler::Scheduler;
use pingan::domain::{
    Actor, Body, Category, ChatId, DigestTime, Frequency, GoneReason, Language, NewNotice, Notice,
    NoticeContent, Publication, Severity, Subscriber, SubscriberStatus, Title,
};
use pingan::i18n::Texts;
use pingan::store::{FanoutProgress, Store};
use tokio::sync::Notify;

use crate::support::fake_telegram::{Fault, FaultRule, Limits, SentMessage};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

/// Fast ticks, fast retries, a rate no test waits for.
pub(crate) const FAST: &[(&str, &str)] = &[
    ("PINGAN_DELIVERY_TICK_MS", "50"),
    ("PINGAN_DELIVERY_RETRY_BASE_MS", "20"),
    ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000"),
    ("PINGAN_DELIVERY_LEASE_SECS", "5"),
    ("PINGAN_DATABASE_BUSY_TIMEOUT_MS", "2000"),
];

pub(crate) async fn spawn(extra: &[(&str, &str)]) -> TestApp {
    spawn_on(Arc::new(SystemClock), extra).await
}

pub(crate) async fn spawn_on(clock: Arc<dyn Clock>, extra: &[(&str, &str)]) -> TestApp {
    let mut env: Vec<(&str, &str)> = FAST.to_vec();
    env.extend_from_slice(extra);
    spawn_app_with(TestDb::sqlite(), clock, &env).await
}

pub(crate) fn subscriber(chat: i64, language: Language, now: DateTime<Utc>) -> Subscriber {
    Subscriber::new(ChatId(chat), language, chrono_tz::Asia::Shanghai, now)
}

pub(crate) async fn subscribe(app: &TestApp, chats: impl IntoIterator<Item = i64>, language: Language) {
    let now = Utc::now();
    for chat in chats {
        app.store.save_subscriber(&subscriber(chat, language, now)).await.unwrap();
    }
}

pub(crate) fn content(
    title: &str,
    severity: Severity,
    category: Category,
    language: Language,
) -> NoticeContent {
    NoticeContent {
        districts: Default::default(),
        title: Title::parse(title).unwrap(),
        body: Body::parse("请各位市民注意。").unwrap(),
        category,
        severity,
        area: None,
        language,
        source: None,
    }
}

/// Stores a notice as another process (`pingan notices add`, the API) would.
pub(crate) async fn publish(
    app: &TestApp,
    c: NoticeContent,
    publication: Publication,
    now: DateTime<Utc>,
) -> Notice {
    let notice = NewNotice::new(c, publication, None, Actor::Cli("editor".into()), now).unwrap();
    app.store.insert_notice(&notice).await.unwrap()
}

/// Waits (polling the database, with a deadline) until a fan-out has nothing left to send.
pub(crate) async fn finished(app: &TestApp, key: &str) -> FanoutProgress {
    finished_within(app, key, StdDuration::from_secs(60)).await
}

/// [`finished`], for fan-outs that take longer than a minute by design.
pub(crate) async fn finished_within(app: &TestApp, key: &str, limit: StdDuration) -> FanoutProgress {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let all = app.store.fanout_progress(100).await.unwrap();
        if let Some(p) = all.into_iter().find(|p| p.key == key && p.finished()) {
            return p;
        }
        assert!(tokio::time::Instant::now() < deadline, "fan-out {key} did not finish");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// Waits until every fan-out so far has finished: nothing waiting, nothing in flight. A
/// test that moves the clock on by a day waits for this first, so that what it sees next
/// was caused by the new day.
pub(crate) async fn settled(app: &TestApp) {
    for p in app.store.fanout_progress(100).await.unwrap() {
        finished(app, &p.key).await;
    }
}

/// Waits for a condition on the database, with a deadline.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(20);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

pub(crate) fn sends_to(app: &TestApp, chat: i64) -> Vec<SentMessage> {
    app.fake.sent_to(chat)
}

#[tokio::test]
async fn an_urgent_notice_reaches_every_matching_subscriber_at_once() {
    let app = spawn(&[]).await;
    subscribe(&app, 1..=20, Language::Zh).await;
    subscribe(&app, 101..=105, Language::En).await;
    let mut traffic_only = subscriber(50, Language::Zh, Utc::now());
    traffic_only.categories = BTreeSet::from([Category::Traffic]);
    app.store.save_subscriber(&traffic_only).await.unwrap();
    let mut unsubscribed = subscriber(51, Language::Zh, Utc::now());
    unsubscribed.subscribed = false;
    app.store.save_subscriber(&unsubscribed).await.unwrap();

    let severe = publish(
        &app,
        content("冒充公检法诈骗高发", Severity::Severe, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    let progress = finished(&app, &format!("alert:{}", severe.id)).await;
    assert_eq!((progress.sent, progress.total()), (20, 20));
    for chat in 1..=20 {
        let got = sends_to(&app, chat);
        assert_eq!(got.len(), 1, "chat {chat}");
        assert!(got[0].text.starts_with("🚨 紧急预警\n\n🟠 冒充公检法诈骗高发"), "{}", got[0].text);
    }
    for chat in [50, 51] {
        assert!(sends_to(&app, chat).is_empty(), "chat {chat} does not follow it");
    }
    // English readers get the one version there is, introduced in their language.
    let english = finished(&app, &format!("alert:{}:en", severe.id)).await;
    assert_eq!((english.sent, english.total()), (5, 5));
    for chat in 101..=105 {
        let got = sends_to(&app, chat);
        assert_eq!(got.len(), 1, "chat {chat}");
        assert!(
            got[0].text.starts_with(
                "🚨 URGENT ALERT\n\nℹ️ This alert is published in Chinese only; the original follows.\n\n🟠 冒充公检法诈骗高发"
            ),
            "{}",
            got[0].text
        );
    }

    let extreme = publish(
        &app,
        content("暴雨红色预警", Severity::Extreme, Category::Disaster, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    finished(&app, &format!("alert:{}", extreme.id)).await;
    finished(&app, &format!("alert:{}:en", extreme.id)).await;
    assert_eq!(sends_to(&app, 50).len(), 1, "Extreme reaches every subscriber, whatever they follow");
    assert_eq!(sends_to(&app, 101).len(), 2, "in every language");
    assert!(sends_to(&app, 51).is_empty());

    let minor = publish(
        &app,
        content("一般提示", Severity::Minor, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    eventually("the minor notice to be marked done", || async {
        app.store.publications_to_fan_out(Utc::now(), 10).await.unwrap().is_empty()
    })
    .await;
    assert!(app.store.fanout_progress(10).await.unwrap().iter().all(|p| p.notice_id != Some(minor.id)));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn scheduled_notices_go_out_when_due_and_expired_ones_leave_the_lists() {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_on(clock.clone(), &[]).await;
    app.store.save_subscriber(&subscriber(7, Language::Zh, start)).await.unwrap();
    let at = start + Duration::minutes(10);
    let notice = NewNotice::new(
        content("定时发布的预警", Severity::Severe, Category::PublicOrder, Language::Zh),
        Publication::At(at),
        Some(at + Duration::hours(2)),
        Actor::System,
        start,
    )
    .unwrap();
    let stored = app.store.insert_notice(&notice).await.unwrap();

    let reader = crate::support::fake_telegram::TgUser::new(8, "读者", Some("zh"));
    app.fake.user_sends(&reader, "/latest");
    assert_eq!(app.fake.wait_for_sent(8, 1).await[0].text, "目前没有通告。");

    clock.set(at);
    let alert = app.fake.wait_for_sent(7, 1).await;
    assert!(alert[0].text.contains("定时发布的预警"));
    eventually("the notice to be published", || async {
        app.store.notice(stored.id).await.unwrap().unwrap().status == pingan::domain::NoticeStatus::Published
    })
    .await;
    app.fake.user_sends(&reader, "/latest");
    assert!(app.fake.wait_for_sent(8, 2).await[1].text.contains("定时发布的预警"));

    clock.set(at + Duration::hours(3));
    eventually("the notice to expire", || async {
        app.store.notice(stored.id).await.unwrap().unwrap().status == pingan::domain::NoticeStatus::Expired
    })
    .await;
    app.fake.user_sends(&reader, "/latest");
    assert_eq!(app.fake.wait_for_sent(8, 3).await[2].text, "目前没有通告。");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn every_published_notice_is_mirrored_into_the_channel_once() {
    let channel = -1_009_000_000_001;
    let app = spawn(&[("PINGAN_DELIVERY_CHANNEL", "-1009000000001")]).await;
    app.fake.register_channel(channel);
    let now = Utc::now();
    publish(
        &app,
        content("交通提示", Severity::Minor, Category::Traffic, Language::Zh),
        Publication::Now,
        now,
    )
    .await;
    publish(
        &app,
        content("Flood warning", Severity::Severe, Category::Disaster, Language::En),
        Publication::Now,
        now,
    )
    .await;
    publish(
        &app,
        content("两天前的旧闻", Severity::Minor, Category::General, Language::Zh),
        Publication::At(now - Duration::days(2)),
        now,
    )
    .await;
    let posts = app.fake.wait_for_sent(channel, 2).await;
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert!(texts.iter().any(|t| t.starts_with("🔵 交通提示")), "{texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("🚨 URGENT ALERT\n\n🟠 Flood warning")), "{texts:?}");
    eventually("every publication to be handled", || async {
        app.store.publications_to_fan_out(Utc::now(), 10).await.unwrap().is_empty()
    })
    .await;
    for p in app.store.fanout_progress(10).await.unwrap() {
        finished(&app, &p.key).await;
    }
    assert_eq!(sends_to(&app, channel).len(), 2, "old news is not mirrored, and nothing twice");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn blocked_chats_are_marked_gone_and_never_tried_again() {
    let app = spawn(&[]).await;
    subscribe(&app, [31, 32], Language::Zh).await;
    app.fake.add_fault(FaultRule::on("sendMessage", Fault::Blocked).chat(31));
    let n = publish(
        &app,
        content("预警", Severity::Extreme, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    let p = finished(&app, &format!("alert:{}", n.id)).await;
    assert_eq!((p.sent, p.gone), (1, 1));
    let gone = app.store.subscriber(ChatId(31)).await.unwrap().unwrap();
    assert!(matches!(gone.status, SubscriberStatus::Gone { reason: GoneReason::Blocked, .. }));
    let second = publish(
        &app,
        content("又一条预警", Severity::Extreme, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    finished(&app, &format!("alert:{}", second.id)).await;
    let tries = app.fake.calls_of("sendMessage").iter().filter(|c| c.params["chat_id"] == 31).count();
    assert_eq!(tries, 1, "a gone chat is never sent to again");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn retry_after_and_server_errors_are_waited_out_and_hopeless_sends_given_up() {
    let app = spawn(&[("PINGAN_DELIVERY_MAX_ATTEMPTS", "3")]).await;
    subscribe(&app, [41, 42, 43], Language::Zh).await;
    app.fake.add_fault(FaultRule::on("sendMessage", Fault::RetryAfter(1)).chat(41).times(2));
    app.fake.add_fault(FaultRule::on("sendMessage", Fault::ServerError(502)).chat(42).times(2));
    app.fake.add_fault(FaultRule::on("sendMessage", Fault::ServerError(500)).chat(43));
    let n = publish(
        &app,
        content("预警", Severity::Extreme, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    let p = finished(&app, &format!("alert:{}", n.id)).await;
    assert_eq!((p.sent, p.failed), (2, 1));
    assert_eq!(sends_to(&app, 41).len(), 1);
    assert_eq!(sends_to(&app, 42).len(), 1);
    let attempts =
        |chat: i64| app.fake.calls_of("sendMessage").iter().filter(|c| c.params["chat_id"] == chat).count();
    assert_eq!((attempts(41), attempts(42), attempts(43)), (3, 3, 3));
    let to_41: Vec<_> =
        app.fake.calls_of("sendMessage").into_iter().filter(|c| c.params["chat_id"] == 41).collect();
    assert!(
        to_41[1].at.duration_since(to_41[0].at) >= StdDuration::from_secs(1),
        "retry_after is waited out"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_group_that_became_a_supergroup_keeps_its_subscription() {
    let app = spawn(&[]).await;
    let (old, new) = (-4_400, -1_000_000_004_400);
    subscribe(&app, [old], Language::Zh).await;
    app.fake.add_fault(FaultRule::on("sendMessage", Fault::Migrate(new)).chat(old));
    let n = publish(
        &app,
        content("预警", Severity::Extreme, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    let p = finished(&app, &format!("alert:{}", n.id)).await;
    assert_eq!(p.sent, 1);
    assert_eq!(sends_to(&app, new).len(), 1);
    assert!(app.store.subscriber(ChatId(old)).await.unwrap().is_none());
    assert!(app.store.subscriber(ChatId(new)).await.unwrap().unwrap().subscribed);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_user_who_blocks_the_bot_is_marked_gone_at_once_and_back_when_unblocked() {
    let app = spawn(&[]).await;
    subscribe(&app, [61], Language::Zh).await;
    let member_update = |status: &str| {
        serde_json::json!({ "my_chat_member": {
            "chat": { "id": 61, "type": "private", "first_name": "U" },
            "from": { "id": 61, "is_bot": false, "first_name": "U" },
            "date": 1_790_000_000,
            "old_chat_member": { "status": "member", "user": { "id": 7_000_000_001_i64, "is_bot": true, "first_name": "Pingan" } },
            "new_chat_member": { "status": status, "user": { "id": 7_000_000_001_i64, "is_bot": true, "first_name": "Pingan" }, "until_date": 0 },
        }})
    };
    app.fake.push_update(member_update("kicked"));
    eventually("the subscriber to be gone", || async {
        matches!(
            app.store.subscriber(ChatId(61)).await.unwrap().unwrap().status,
            SubscriberStatus::Gone { .. }
        )
    })
    .await;
    app.fake.push_update(member_update("member"));
    eventually("the subscriber to be back", || async {
        app.store.subscriber(ChatId(61)).await.unwrap().unwrap().status == SubscriberStatus::Active
    })
    .await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_fan_out_to_2000_under_errors_reaches_every_reachable_subscriber_exactly_once() {
    let app = spawn(&[("PINGAN_DELIVERY_CONCURRENCY", "64")]).await;
    let chats: Vec<i64> = (1..=2000).map(|i| 100_000 + i).collect();
    subscribe(&app, chats.iter().copied(), Language::Zh).await;
    let blocked: Vec<i64> = chats.iter().copied().filter(|c| c % 20 == 0).collect();
    for chat in &blocked {
        app.fake.add_fault(FaultRule::on("sendMessage", Fault::Blocked).chat(*chat));
    }
    // A burst of 429s (the first 60 sends are refused once), and 502s for one send in ten
    // throughout.
    for chat in chats.iter().filter(|c| *c % 20 != 0).take(60) {
        app.fake.add_fault(FaultRule::on("sendMessage", Fault::RetryAfter(1)).chat(*chat).times(1));
    }
    app.fake.random_server_errors(0.10, 7);
    let n = publish(
        &app,
        content("紧急预警", Severity::Extreme, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    let p = finished(&app, &format!("alert:{}", n.id)).await;

    assert_eq!(blocked.len(), 100);
    assert_eq!((p.total(), p.sent, p.gone, p.failed), (2000, 1900, 100, 0), "{p:?}");
    let mut received: HashMap<i64, usize> = HashMap::new();
    for m in app.fake.sent() {
        *received.entry(m.chat_id).or_default() += 1;
    }
    for chat in &chats {
        let expected = usize::from(!blocked.contains(chat));
        assert_eq!(received.get(chat).copied().unwrap_or(0), expected, "chat {chat}");
    }
    for chat in &blocked {
        assert!(matches!(
            app.store.subscriber(ChatId(*chat)).await.unwrap().unwrap().status,
            SubscriberStatus::Gone { .. }
        ));
    }
    let calls = app.fake.calls_of("sendMessage");
    let by_status = |s: u16| calls.iter().filter(|c| c.status == s).count();
    assert_eq!(by_status(200), 1900);
    assert_eq!(by_status(403), 100);
    assert!(by_status(502) > 0 && by_status(429) > 0, "the errors happened");
    assert_eq!(
        calls.len(),
        by_status(200) + by_status(403) + by_status(502) + by_status(429),
        "every call is counted"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn under_telegrams_limits_the_sender_holds_its_rate_and_provokes_no_429() {
    let app = spawn(&[("PINGAN_DELIVERY_RATE_PER_SECOND", "25")]).await;
    app.fake.enforce_limits(Limits::telegram());
    subscribe(&app, 1..=200, Language::Zh).await;
    let n = publish(
        &app,
        content("紧急预警", Severity::Extreme, Category::Fraud, Language::Zh),
        Publication::Now,
        Utc::now(),
    )
    .await;
    finished(&app, &format!("alert:{}", n.id)).await;
    let calls = app.fake.calls_of("sendMessage");
    assert!(
        calls.iter().all(|c| c.status == 200),
        "no 429: {}",
        calls.iter().filter(|c| c.status == 429).count()
    );
    let first = calls.first().unwrap().at;
    let last = calls.last().unwrap().at;
    let rate = (calls.len() - 1) as f64 / last.duration_since(first).as_secs_f64();
    eprintln!("achieved {rate:.2} messages/s for {} sends at a configured 25/s", calls.len());
    assert!((23.75..=26.25).contains(&rate), "rate {rate:.2} is not within 5% of 25");
    app.stop().await.unwrap();
}

// --- Digests --------------------------------------------------------------------------

/// A subscriber with a daily digest at `time` in `zone`, subscribed at `now`.
fn digest_subscriber(
    chat: i64,
    zone: Tz,
    time: &str,
    frequency: Frequency,
    now: DateTime<Utc>,
) -> Subscriber {
    let mut s = Subscriber::new(ChatId(chat), Language::Zh, zone, now);
    s.digest_time = time.parse::<DigestTime>().unwrap();
    s.frequency = frequency;
    s
}

/// Moves the clock to each moment in turn, waiting after each for the digests due by then.
async fn walk(app: &TestApp, clock: &ManualClock, steps: &[(DateTime<Utc>, i64, usize)]) {
    for (at, chat, expected) in steps {
        clock.set(*at);
        app.fake.wait_for_sent(*chat, *expected).await;
        settled(app).await;
    }
}

#[tokio::test]
async fn daily_digests_come_once_a_local_day_across_daylight_saving_changes() {
    // Berlin's clocks jump from 02:00 to 03:00 on 29 March 2026; New York's fall back from
    // 02:00 to 01:00 on 1 November 2026.
    let start = Utc.with_ymd_and_hms(2026, 3, 27, 12, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_on(clock.clone(), &[]).await;
    app.store
        .save_subscriber(&digest_subscriber(901, chrono_tz::Europe::Berlin, "02:30", Frequency::Daily, start))
        .await
        .unwrap();
    let berlin = [
        Utc.with_ymd_and_hms(2026, 3, 28, 1, 30, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 30, 0, 30, 0).unwrap(),
    ];
    walk(&app, &clock, &[(berlin[0], 901, 1), (berlin[1], 901, 2), (berlin[2], 901, 3)]).await;
    let headers: Vec<String> =
        sends_to(&app, 901).iter().map(|m| m.text.lines().next().unwrap().to_owned()).collect();
    assert_eq!(
        headers,
        [
            "📰 平安每日摘要 · 2026年3月28日",
            "📰 平安每日摘要 · 2026年3月29日",
            "📰 平安每日摘要 · 2026年3月30日"
        ]
    );

    let autumn = Utc.with_ymd_and_hms(2026, 10, 31, 12, 0, 0).unwrap();
    clock.set(autumn);
    app.store
        .save_subscriber(&digest_subscriber(
            902,
            chrono_tz::America::New_York,
            "01:30",
            Frequency::Daily,
            autumn,
        ))
        .await
        .unwrap();
    let first_0130 = Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap();
    walk(&app, &clock, &[(first_0130, 902, 1)]).await;
    // 01:30 comes round again an hour later (EST): no second digest.
    clock.set(first_0130 + Duration::hours(1));
    let next_day = Utc.with_ymd_and_hms(2026, 11, 2, 6, 30, 0).unwrap();
    walk(&app, &clock, &[(next_day, 902, 2)]).await;
    let dates: Vec<String> =
        sends_to(&app, 902).iter().map(|m| m.text.lines().next().unwrap().to_owned()).collect();
    assert_eq!(dates, ["📰 平安每日摘要 · 2026年11月1日", "📰 平安每日摘要 · 2026年11月2日"]);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_digest_holds_what_is_new_and_followed_and_is_rendered_once_per_group() {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(); // 08:00 in Shanghai
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_on(clock.clone(), &[]).await;
    for chat in 1..=30 {
        app.store
            .save_subscriber(&digest_subscriber(
                chat,
                chrono_tz::Asia::Shanghai,
                "08:00",
                Frequency::Daily,
                start,
            ))
            .await
            .unwrap();
    }
    let mut fraud_only = digest_subscriber(40, chrono_tz::Asia::Shanghai, "08:00", Frequency::Daily, start);
    fraud_only.categories = BTreeSet::from([Category::Fraud]);
    app.store.save_subscriber(&fraud_only).await.unwrap();
    let noon = start + Duration::hours(4);
    clock.set(noon);
    publish(
        &app,
        content("刷单诈骗提醒", Severity::Moderate, Category::Fraud, Language::Zh),
        Publication::Now,
        noon,
    )
    .await;
    publish(
        &app,
        content("道路施工", Severity::Minor, Category::Traffic, Language::Zh),
        Publication::Now,
        noon,
    )
    .await;
    publish(
        &app,
        content("English only", Severity::Minor, Category::Traffic, Language::En),
        Publication::Now,
        noon,
    )
    .await;

    clock.set(start + Duration::days(1));
    let everyone = app.fake.wait_for_sent(1, 1).await.remove(0);
    assert!(
        everyone.text.contains("自上次摘要以来的 2 条新通告")
            && everyone.text.contains("刷单诈骗提醒")
            && everyone.text.contains("道路施工"),
        "{}",
        everyone.text
    );
    assert!(
        everyone.text.contains("今日防骗提示") && !everyone.text.contains("English only"),
        "{}",
        everyone.text
    );
    assert_eq!(everyone.buttons().len(), 2, "a button per notice");
    let fraud = app.fake.wait_for_sent(40, 1).await.remove(0);
    assert!(fraud.text.contains("1 条新通告") && !fraud.text.contains("道路施工"), "{}", fraud.text);
    for chat in 1..=30 {
        app.fake.wait_for_sent(chat, 1).await;
    }
    let rendered: Vec<(String,)> =
        sqlx::query_as("SELECT content_key FROM outbox_messages WHERE content_key LIKE 'digest:%'")
            .fetch_all(
                &mut <sqlx::SqliteConnection as sqlx::Connection>::connect(app.db.url()).await.unwrap(),
            )
            .await
            .unwrap();
    assert_eq!(rendered.len(), 2, "one digest for the 30 alike, one for the fraud follower: {rendered:?}");

    // Nothing new the next day: the tip of the day alone (the default policy).
    settled(&app).await;
    clock.set(start + Duration::days(2));
    let quiet = app.fake.wait_for_sent(1, 2).await.remove(1);
    assert!(
        quiet.text.contains("自上次摘要以来没有新的通告") && quiet.text.contains("今日防骗提示"),
        "{}",
        quiet.text
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_weekly_digest_comes_on_its_day_with_the_weeks_figures_and_empty_ones_can_be_skipped() {
    let start = Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap(); // Monday 09:00 in Shanghai
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_on(clock.clone(), &[("PINGAN_DELIVERY_EMPTY_DIGEST", "skip")]).await;
    app.store
        .save_subscriber(&digest_subscriber(
            70,
            chrono_tz::Asia::Shanghai,
            "09:00",
            Frequency::Weekly(Weekday::Fri),
            start,
        ))
        .await
        .unwrap();
    app.store
        .save_subscriber(&digest_subscriber(71, chrono_tz::Asia::Shanghai, "10:00", Frequency::Daily, start))
        .await
        .unwrap();
    for (i, category) in [Category::Fraud, Category::Fraud, Category::Traffic].into_iter().enumerate() {
        let at = start + Duration::hours(1 + i as i64);
        clock.set(at);
        publish(
            &app,
            content(&format!("本周通告{i}"), Severity::Minor, category, Language::Zh),
            Publication::Now,
            at,
        )
        .await;
    }
    let friday = Utc.with_ymd_and_hms(2026, 12, 4, 1, 0, 0).unwrap();
    clock.set(friday);
    let weekly = app.fake.wait_for_sent(70, 1).await.remove(0);
    assert!(weekly.text.starts_with("📰 平安每周摘要 · 2026年11月27日—2026年12月4日"), "{}", weekly.text);
    assert!(weekly.text.contains("本周数字：共发布 3 条通告（反诈 2 条、交通 1 条）"), "{}", weekly.text);
    // The daily subscriber's digests came due while the clock was away: only the latest
    // is sent, covering all three notices; the stale ones are not sent late.
    let daily = app.fake.wait_for_sent(71, 1).await.remove(0);
    assert!(daily.text.contains("3 条新通告"), "{}", daily.text);
    eventually("the daily schedule to catch up", || async {
        app.store.subscriber(ChatId(71)).await.unwrap().unwrap().next_digest_at().is_some_and(|t| t > friday)
    })
    .await;
    settled(&app).await;
    assert_eq!(sends_to(&app, 71).len(), 1);

    // Nothing new by the next day: with the "skip" policy, nothing is sent.
    let saturday = Utc.with_ymd_and_hms(2026, 12, 5, 3, 0, 0).unwrap();
    clock.set(saturday);
    eventually("Friday's digest to be handled", || async {
        app.store
            .subscriber(ChatId(71))
            .await
            .unwrap()
            .unwrap()
            .next_digest_at()
            .is_some_and(|t| t > saturday)
    })
    .await;
    assert_eq!(sends_to(&app, 71).len(), 1, "an empty digest is skipped");
    app.stop().await.unwrap();
}

// --- Digests over many rounds ------------------------------------------------------------

/// The scheduler as the leader runs it, on `store`, with the shipped settings: the tests
/// below call its `tick` themselves, as the leader's loop would, to read its report.
fn digest_scheduler(store: Arc<dyn Store>, clock: Arc<ManualClock>, db: &TestDb) -> Scheduler {
    let env: HashMap<&str, String> = HashMap::from([
        ("TELOXIDE_TOKEN", "123456:TEST-digest-rounds".to_owned()),
        ("DATABASE_URL", db.url().to_owned()),
        ("PINGAN_HTTP_LISTEN", "off".to_owned()),
    ]);
    let settings = Loaded::from_sources(None, &|name| env.get(name).cloned()).unwrap().settings;
    Scheduler::new(
        store,
        clock,
        Texts::load().unwrap(),
        settings.bot,
        settings.delivery,
        settings.retention,
        Arc::new(Notify::new()),
    )
}

/// Chats 1..=2 500 follow everything, 2 501..=2 530 fraud only, both in Chinese; 2 531..=2 550
/// read English: three digests, due at 08:00 in Shanghai on 1 December 2026, over three
/// rounds of the scheduler (1 000 due chats a round). Returns the chats of each profile.
async fn three_profiles_due_at_eight(store: &Arc<dyn Store>, due: DateTime<Utc>) -> [Vec<i64>; 3] {
    let saved = due - Duration::hours(20);
    let profiles = [(1..=2_500).collect::<Vec<i64>>(), (2_501..=2_530).collect(), (2_531..=2_550).collect()];
    let mut all = Vec::new();
    for (k, chats) in profiles.iter().enumerate() {
        for chat in chats {
            let mut s = digest_subscriber(*chat, chrono_tz::Asia::Shanghai, "08:00", Frequency::Daily, saved);
            match k {
                1 => s.categories = BTreeSet::from([Category::Fraud]),
                2 => s.language = Language::En,
                _ => {}
            }
            assert_eq!(s.next_digest_at(), Some(due));
            all.push(s);
        }
    }
    futures::stream::iter(all.iter())
        .map(|s| async { store.save_subscriber(s).await.unwrap() })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    let noon = due - Duration::hours(12);
    for (title, category, language) in [
        ("刷单诈骗提醒", Category::Fraud, Language::Zh),
        ("道路施工", Category::Traffic, Language::Zh),
        ("Road works", Category::Traffic, Language::En),
    ] {
        let c = content(title, Severity::Minor, category, language);
        let notice = NewNotice::new(c, Publication::Now, None, Actor::Cli("editor".into()), noon).unwrap();
        store.insert_notice(&notice).await.unwrap();
    }
    profiles
}

/// What the outbox holds after the digests: each delivery's (chat, message, fan-out),
/// and the digest fan-outs and messages stored.
async fn digest_outbox(db: &TestDb) -> (Vec<(i64, i64, i64)>, i64, i64) {
    const DELIVERIES: &str = "SELECT chat_id, message_id, fanout_id FROM deliveries ORDER BY chat_id";
    const FANOUTS: &str = "SELECT COUNT(*) FROM fanouts WHERE kind = 'digest'";
    const MESSAGES: &str = "SELECT COUNT(*) FROM outbox_messages WHERE content_key LIKE 'digest:%'";
    macro_rules! read {
        ($conn:ty) => {{
            let mut conn = <$conn as sqlx::Connection>::connect(db.url()).await.unwrap();
            let rows: Vec<(i64, i64, i64)> = sqlx::query_as(DELIVERIES).fetch_all(&mut conn).await.unwrap();
            let (fanouts,): (i64,) = sqlx::query_as(FANOUTS).fetch_one(&mut conn).await.unwrap();
            let (messages,): (i64,) = sqlx::query_as(MESSAGES).fetch_one(&mut conn).await.unwrap();
            (rows, fanouts, messages)
        }};
    }
    match db {
        TestDb::Sqlite { .. } => read!(sqlx::SqliteConnection),
        TestDb::Postgres { .. } => read!(sqlx::PgConnection),
    }
}

/// Every chat has exactly one delivery, the chats of a profile share one message and
/// each profile has its own, all under one fan-out; and every schedule moved on once, to
/// 08:00 the next day.
async fn each_chat_got_its_profiles_digest_once(
    store: &Arc<dyn Store>,
    db: &TestDb,
    profiles: &[Vec<i64>; 3],
    due: DateTime<Utc>,
) {
    let (deliveries, fanouts, messages) = digest_outbox(db).await;
    let chats: Vec<i64> = deliveries.iter().map(|(chat, _, _)| *chat).collect();
    assert_eq!(chats, (1..=2_550).collect::<Vec<i64>>(), "one delivery per chat, none missing");
    let message_of: HashMap<i64, i64> =
        deliveries.iter().map(|(chat, message, _)| (*chat, *message)).collect();
    let shared: Vec<BTreeSet<i64>> =
        profiles.iter().map(|chats| chats.iter().map(|c| message_of[c]).collect()).collect();
    assert!(shared.iter().all(|ids| ids.len() == 1), "a profile's chats share one message: {shared:?}");
    assert_eq!(shared.iter().flatten().collect::<BTreeSet<_>>().len(), 3, "a message per profile");
    assert_eq!(deliveries.iter().map(|(_, _, f)| *f).collect::<BTreeSet<_>>().len(), 1, "one fan-out");
    assert_eq!((fanouts, messages), (1, 3));
    assert!(store.due_digests(due + Duration::hours(1), 10).await.unwrap().is_empty(), "none still due");
    let tomorrow = store.due_digests(due + Duration::days(1), 5_000).await.unwrap();
    assert_eq!(tomorrow.len(), 2_550);
    assert!(tomorrow.iter().all(|(s, at)| *at == due + Duration::days(1) && s.last_digest_at == Some(due)));
}

/// 2 550 chats over three profiles come due at once: the tick takes them in three rounds
/// of 1 000, renders each profile's digest once (not once a round) and queues each chat's
/// delivery once; a second tick finds nothing.
async fn a_digest_shared_across_rounds_is_rendered_once_and_reaches_each_chat_once(db: TestDb) {
    let due = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(); // 08:00 in Shanghai
    let store = db.store().await;
    let profiles = three_profiles_due_at_eight(&store, due).await;
    let clock = Arc::new(ManualClock::new(due + Duration::seconds(1)));
    let scheduler = digest_scheduler(store.clone(), clock.clone(), &db);

    let report = scheduler.tick().await.unwrap();
    assert_eq!((report.digests, report.rendered), (2_550, 3), "{report:?}");
    each_chat_got_its_profiles_digest_once(&store, &db, &profiles, due).await;
    clock.set(due + Duration::minutes(1));
    let again = scheduler.tick().await.unwrap();
    assert_eq!((again.digests, again.rendered), (0, 0), "{again:?}");
    store.close().await;
}

#[tokio::test]
async fn a_digest_shared_across_rounds_is_rendered_once_and_reaches_each_chat_once_on_sqlite() {
    a_digest_shared_across_rounds_is_rendered_once_and_reaches_each_chat_once(TestDb::sqlite()).await;
}

#[tokio::test]
async fn a_digest_shared_across_rounds_is_rendered_once_and_reaches_each_chat_once_on_postgresql() {
    let Some(db) = TestDb::postgres().await else { return };
    a_digest_shared_across_rounds_is_rendered_once_and_reaches_each_chat_once(db).await;
}

/// Two instances tick at the same moment over the same 2 550 due chats, each with a store
/// (a pool) of its own, as during a leader's handover: between them every chat is queued
/// once and its schedule moved on once.
async fn two_instances_ticking_at_once_queue_each_digest_once(db: TestDb) {
    let due = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let store = db.store().await;
    let profiles = three_profiles_due_at_eight(&store, due).await;
    let other = db.store().await;
    let clock = Arc::new(ManualClock::new(due + Duration::seconds(1)));
    let one = digest_scheduler(store.clone(), clock.clone(), &db);
    let two = digest_scheduler(other.clone(), clock.clone(), &db);

    let (a, b) = tokio::join!(one.tick(), two.tick());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.digests + b.digests, 2_550, "queued once between them: {a:?} {b:?}");
    each_chat_got_its_profiles_digest_once(&store, &db, &profiles, due).await;
    other.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_ticking_at_once_queue_each_digest_once_on_sqlite() {
    two_instances_ticking_at_once_queue_each_digest_once(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_ticking_at_once_queue_each_digest_once_on_postgresql() {
    let Some(db) = TestDb::postgres().await else { return };
    two_instances_ticking_at_once_queue_each_digest_once(db).await;
}
