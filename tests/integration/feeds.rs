//! CAP feeds, polled (`cap.feeds`): a feed served by a local HTTP server carries an Alert,
//! then an Update, then a Cancel; subscribers get each once; a poll answered 304 imports
//! nothing; a feed answering 500 is reported and tried again later; an alert from a sender
//! the feed does not speak for is refused.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{TimeZone, Utc};
use pingan::clock::{Clock, ManualClock};
use pingan::domain::{ChatId, Language, NoticeStatus, Subscriber};
use pingan::store::FeedState;

use crate::support::binary::{output, pingan, text};
use crate::support::test_app::{TestApp, free_port, spawn_app_with};
use crate::support::test_db::TestDb;

const SENDER: &str = "alerts@police.example.gov.cn";
const FILES: [&str; 3] = ["pingan_zh_alert.xml", "pingan_zh_update.xml", "pingan_cancel.xml"];

/// What the feed server answers, and what it was asked.
#[derive(Default)]
struct Served {
    /// How many of [`FILES`] the index lists.
    entries: usize,
    /// Answer every request to the index with this status instead.
    failing: Option<StatusCode>,
    /// Answers to the index, by status.
    index_answers: Vec<u16>,
    /// CAP files fetched, by name.
    files_fetched: Vec<String>,
    /// The `Accept` header of each request for a CAP file.
    cap_accepts: Vec<String>,
}

type Shared = Arc<Mutex<Served>>;

/// An Atom index of the first `entries` files, newest first as feeds list them; its
/// ETag changes with the number of entries.
async fn index(State(served): State<Shared>, headers: HeaderMap) -> Response {
    let mut served = served.lock().unwrap();
    if let Some(status) = served.failing {
        served.index_answers.push(status.as_u16());
        return (status, "<html><body>Internal Server Error</body></html>").into_response();
    }
    let etag = format!("\"entries-{}\"", served.entries);
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.to_str().ok() == Some(etag.as_str())) {
        served.index_answers.push(304);
        return StatusCode::NOT_MODIFIED.into_response();
    }
    served.index_answers.push(200);
    let mut entries = String::new();
    for (i, file) in FILES.iter().enumerate().take(served.entries).rev() {
        entries.push_str(&format!(
            "<entry><id>urn:pingan-test:{i}</id><title>{file}</title>\
             <updated>2026-11-28T0{}:00:00+08:00</updated>\
             <link rel=\"alternate\" type=\"application/cap+xml\" href=\"/cap/{file}\"/></entry>\n",
            8 + i
        ));
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>urn:pingan-test</id><title>Test alerts</title><updated>2026-11-28T10:00:00+08:00</updated>\n{entries}</feed>"
    );
    ([(header::ETAG, etag), (header::CONTENT_TYPE, "application/atom+xml".to_owned())], body).into_response()
}

async fn cap_file(
    State(served): State<Shared>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut served_now = served.lock().unwrap();
    served_now.files_fetched.push(name.clone());
    served_now.cap_accepts.push(accept);
    drop(served_now);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cap").join(&name);
    match std::fs::read(path) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/cap+xml")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves the feed on a free port; returns its index URL.
async fn serve(served: Shared) -> String {
    let router = axum::Router::new()
        .route("/feed.xml", get(index))
        .route("/cap/{name}", get(cap_file))
        .with_state(served);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/feed.xml")
}

fn feeds_setting(url: &str, senders: &str) -> String {
    format!("[{{name = \"police\", url = \"{url}\", senders = [\"{senders}\"], interval_secs = 60}}]")
}

/// Waits until the feed has been polled `polls` times.
async fn wait_for_polls(app: &TestApp, polls: i64) -> FeedState {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(state) = app.store.feed_states().await.unwrap().into_iter().find(|f| f.name == "police")
            && state.polls >= polls
        {
            return state;
        }
        assert!(tokio::time::Instant::now() < deadline, "the feed was not polled {polls} times");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn alert_update_cancel_each_once(db: TestDb) {
    let served: Shared = Arc::default();
    let url = serve(served.clone()).await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 0, 5, 0).unwrap()));
    let feeds = feeds_setting(&url, SENDER);
    let app = spawn_app_with(
        db,
        clock.clone(),
        &[
            ("PINGAN_DELIVERY_TICK_MS", "50"),
            ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000"),
            ("PINGAN_HTTP_LISTEN", &listen),
            ("PINGAN_CAP_FEEDS", &feeds),
        ],
    )
    .await;
    // Poll 1, at start: an empty feed.
    let state = wait_for_polls(&app, 1).await;
    assert_eq!((state.failures, state.alerts_imported), (0, 0), "{state:?}");
    let zh: Vec<i64> = (1..=3).collect();
    let en: Vec<i64> = (11..=12).collect();
    for (chats, language) in [(&zh, Language::Zh), (&en, Language::En)] {
        for &chat in chats {
            let subscriber = Subscriber::new(ChatId(chat), language, chrono_tz::Asia::Shanghai, clock.now());
            app.store.save_subscriber(&subscriber).await.unwrap();
        }
    }

    // Poll 2: the Alert.
    served.lock().unwrap().entries = 1;
    clock.advance(chrono::Duration::seconds(60));
    let state = wait_for_polls(&app, 2).await;
    assert_eq!(state.alerts_imported, 2, "the zh and en versions: {state:?}");
    for &chat in &zh {
        let got = app.fake.wait_for_sent(chat, 1).await;
        assert!(got[0].text.contains("冒充“客服”退款诈骗高发"), "{}", got[0].text);
    }
    for &chat in &en {
        let got = app.fake.wait_for_sent(chat, 1).await;
        assert!(got[0].text.contains("Fake customer-service refund calls are rising"), "{}", got[0].text);
    }

    // Poll 3: the Update; only the new entry's file is fetched.
    served.lock().unwrap().entries = 2;
    clock.advance(chrono::Duration::seconds(60));
    let state = wait_for_polls(&app, 3).await;
    assert_eq!(state.alerts_imported, 3, "the zh version corrected: {state:?}");
    for &chat in &zh {
        let got = app.fake.wait_for_sent(chat, 2).await;
        assert!(got[1].text.starts_with("📝 更正"), "{}", got[1].text);
    }

    // Poll 4: the Cancel withdraws both versions, telling everyone who got the alert.
    served.lock().unwrap().entries = 3;
    clock.advance(chrono::Duration::seconds(60));
    let state = wait_for_polls(&app, 4).await;
    assert_eq!(state.alerts_imported, 5, "{state:?}");
    for &chat in &zh {
        let got = app.fake.wait_for_sent(chat, 3).await;
        assert!(got[2].text.starts_with("❌ 撤回"), "{}", got[2].text);
        assert_eq!(got[2].reply_to, Some(i64::from(got[0].message_id)), "a reply to the alert");
    }
    let zh_notice = app
        .store
        .notice_by_external_id("cap:alerts@police.example.gov.cn:PINGAN-TEST-2026-001:zh")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(zh_notice.status, NoticeStatus::Retracted);

    // Poll 5: 304 Not Modified imports nothing.
    clock.advance(chrono::Duration::seconds(60));
    let state = wait_for_polls(&app, 5).await;
    assert_eq!((state.not_modified, state.alerts_imported, state.failures), (1, 5, 0), "{state:?}");

    // Poll 6: the feed answers 500; it is reported, and not due again for twice the interval.
    served.lock().unwrap().failing = Some(StatusCode::INTERNAL_SERVER_ERROR);
    clock.advance(chrono::Duration::seconds(60));
    let failed = wait_for_polls(&app, 6).await;
    assert_eq!(failed.failures, 1, "{failed:?}");
    let error = failed.last_error.clone().unwrap_or_default();
    assert!(error.contains("answered HTTP 500"), "{error}");
    assert_eq!(failed.next_poll_at - failed.last_polled_at.unwrap(), chrono::Duration::seconds(120));
    let client = reqwest::Client::new();
    let metrics = client.get(format!("http://{listen}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("pingan_feed_failures{feed=\"police\"} 1\n"), "{metrics}");
    assert!(metrics.contains("pingan_feed_alerts_imported_total{feed=\"police\"} 5\n"), "{metrics}");

    // Poll 7, two minutes on: the feed is back and nothing has changed.
    served.lock().unwrap().failing = None;
    clock.advance(chrono::Duration::seconds(120));
    let state = wait_for_polls(&app, 7).await;
    assert_eq!((state.failures, state.not_modified, state.alerts_imported), (0, 2, 5), "{state:?}");
    assert!(state.last_error.is_some(), "the last error stays on record");

    // Each chat got the alert, the correction and the withdrawal, once each; each CAP
    // file was fetched once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let per_chat: Vec<usize> = zh.iter().map(|&c| app.fake.sent_to(c).len()).collect();
    assert_eq!(per_chat, [3, 3, 3]);
    let per_chat: Vec<usize> = en.iter().map(|&c| app.fake.sent_to(c).len()).collect();
    assert_eq!(per_chat, [2, 2], "alert and withdrawal (the update had no English version)");
    {
        let served = served.lock().unwrap();
        assert_eq!(served.files_fetched, FILES.map(str::to_owned));
        assert_eq!(served.index_answers, [200, 200, 200, 200, 304, 500, 304]);
        // CAP is asked for by name, as servers that offer several forms need.
        assert!(
            served.cap_accepts.iter().all(|a| a.starts_with("application/cap+xml")),
            "{:?}",
            served.cap_accepts
        );
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_feed_brings_an_alert_its_update_and_its_cancel_each_once_on_sqlite() {
    alert_update_cancel_each_once(TestDb::sqlite()).await;
}

#[tokio::test]
async fn a_feed_brings_an_alert_its_update_and_its_cancel_each_once_on_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    alert_update_cancel_each_once(db).await;
}

/// The state of feed `name` once `done` holds for it (20 s at most).
async fn wait_for_feed(app: &TestApp, name: &str, done: impl Fn(&FeedState) -> bool) -> FeedState {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(state) = app.store.feed_states().await.unwrap().into_iter().find(|f| f.name == name)
            && done(&state)
        {
            return state;
        }
        assert!(tokio::time::Instant::now() < deadline, "feed {name} never got there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A bad day for feeds: one feed's server accepts the request and never answers. With
/// `cap.feed_timeout_secs = 3`, the other feed's alert reaches subscribers while the
/// first still hangs; the hanging one fails after its limit, is reported, backs off, and
/// imports once its server answers again.
#[tokio::test]
async fn a_feed_that_hangs_fails_at_its_time_limit_and_never_holds_up_another() {
    let served: Shared = Arc::default();
    served.lock().unwrap().entries = 1;
    let good = serve(served.clone()).await;
    // The other server: its index hangs while `hanging` is set, else serves the same feed.
    let hanging = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let hung = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let slow_served: Shared = Arc::default();
    slow_served.lock().unwrap().entries = 1;
    let slow = {
        let (hanging, hung) = (hanging.clone(), hung.clone());
        let router = axum::Router::new()
            .route(
                "/feed.xml",
                get(move |state: State<Shared>, headers: HeaderMap| {
                    let (hanging, hung) = (hanging.clone(), hung.clone());
                    async move {
                        if hanging.load(std::sync::atomic::Ordering::SeqCst) {
                            hung.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_secs(600)).await;
                        }
                        index(state, headers).await
                    }
                }),
            )
            .route("/cap/{name}", get(cap_file))
            .with_state(slow_served.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}/feed.xml")
    };
    let feeds = format!(
        "[{{name = \"stuck\", url = \"{slow}\", senders = [\"{SENDER}\"], interval_secs = 60}}, \
          {{name = \"police\", url = \"{good}\", senders = [\"{SENDER}\"], interval_secs = 60}}]"
    );
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 0, 5, 0).unwrap()));
    let started = std::time::Instant::now();
    let db = TestDb::sqlite();
    // Subscribers first, so that the first poll's alert reaches them.
    let store = db.store().await;
    for chat in [21, 22] {
        let subscriber = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, clock.now());
        store.save_subscriber(&subscriber).await.unwrap();
    }
    store.close().await;
    let app = spawn_app_with(
        db,
        clock.clone(),
        &[
            ("PINGAN_DELIVERY_TICK_MS", "50"),
            ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000"),
            ("PINGAN_CAP_FEEDS", &feeds),
            ("PINGAN_CAP_FEED_TIMEOUT_SECS", "3"),
        ],
    )
    .await;

    // The good feed's alert arrives while the stuck one's request is still open.
    for chat in [21, 22] {
        let got = app.fake.wait_for_sent(chat, 1).await;
        assert!(got[0].text.contains("冒充“客服”退款诈骗高发"), "{}", got[0].text);
    }
    let alert_after = started.elapsed();
    let stuck_now = app.store.feed_states().await.unwrap().into_iter().find(|f| f.name == "stuck");
    assert!(
        stuck_now.as_ref().is_none_or(|s| s.failures == 0),
        "the stuck feed had not failed yet: {stuck_now:?}"
    );
    assert_eq!(hung.load(std::sync::atomic::Ordering::SeqCst), 1, "its request was open meanwhile");

    // It fails at its limit, says why, and is not due again for twice its interval.
    let failed = wait_for_feed(&app, "stuck", |s| s.failures == 1).await;
    let failed_after = started.elapsed();
    assert_eq!(failed.last_error, Some(format!("{slow} did not answer within 3 seconds")), "{failed:?}");
    assert_eq!(failed.next_poll_at - failed.last_polled_at.unwrap(), chrono::Duration::seconds(120));
    assert!(failed_after >= Duration::from_secs(3), "{failed_after:?}");
    eprintln!(
        "good feed's alert delivered after {:.2} s; stuck feed failed after {:.2} s",
        alert_after.as_secs_f64(),
        failed_after.as_secs_f64()
    );

    // Its server answers again: two minutes on, it imports (its alert is the same
    // identifier as the good feed's, so nothing new reaches the chats: each once).
    hanging.store(false, std::sync::atomic::Ordering::SeqCst);
    clock.advance(chrono::Duration::seconds(120));
    let back = wait_for_feed(&app, "stuck", |s| s.failures == 0).await;
    assert_eq!(back.polls, 2, "{back:?}");
    let police = wait_for_feed(&app, "police", |s| s.polls >= 2).await;
    assert_eq!((police.failures, police.alerts_imported), (0, 2), "{police:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!([21, 22].map(|c| app.fake.sent_to(c).len()), [1, 1], "each chat got the alert once");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_command_line_polls_reports_refusals_and_failures() {
    let served: Shared = Arc::default();
    served.lock().unwrap().entries = 1;
    let url = serve(served.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], senders: &str| {
        let mut command = pingan(dir.path());
        command.args(args).env("PINGAN_CAP_FEEDS", feeds_setting(&url, senders));
        command
    };

    let out = output(&mut run(&["feeds", "status"], SENDER), None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("police  http://127.0.0.1:"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("not polled yet"), "{}", text(&out.stdout));

    // A feed that speaks for someone else: the alert is refused, nothing imported.
    let out = output(&mut run(&["feeds", "poll"], "someone@else.example"), None).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}{}", stdout, text(&out.stderr));
    assert!(
        stdout.contains("police: 1 document read; 0 created, 0 corrected, 0 withdrawn, 1 refused"),
        "{stdout}"
    );
    assert!(stdout.contains("feed police speaks for someone@else.example only"), "{stdout}");

    // The feed breaks: the poll says so and fails; the status keeps the error.
    served.lock().unwrap().failing = Some(StatusCode::BAD_GATEWAY);
    let out = output(&mut run(&["feeds", "poll", "police"], SENDER), None).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("answered HTTP 502"), "{}", text(&out.stdout));
    let out = output(&mut run(&["feeds", "status"], SENDER), None).await;
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1 failure in a row"), "{stdout}");
    assert!(stdout.contains("answered HTTP 502 Bad Gateway"), "{stdout}");

    let out = output(&mut run(&["feeds", "poll", "nosuch"], SENDER), None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no feed is named \"nosuch\""), "{}", text(&out.stderr));

    // Back, with the senders put right: the entry refused before is read again and imported.
    served.lock().unwrap().failing = None;
    let out = output(&mut run(&["feeds", "poll"], SENDER), None).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("police: 1 document read; 2 created, 0 corrected, 0 withdrawn, 0 refused"),
        "{stdout}"
    );
    assert_eq!(served.lock().unwrap().files_fetched, ["pingan_zh_alert.xml", "pingan_zh_alert.xml"]);
    // And once only: polled again (in full, as an operator's poll is), nothing is new.
    let out = output(&mut run(&["feeds", "poll"], SENDER), None).await;
    assert!(text(&out.stdout).contains("police: 0 documents read; 0 created"), "{}", text(&out.stdout));
    assert_eq!(served.lock().unwrap().files_fetched.len(), 2);
    let out = output(&mut run(&["audit"], SENDER), None).await;
    assert!(text(&out.stdout).contains("feed:police"), "{}", text(&out.stdout));
}

#[tokio::test]
async fn a_feed_that_is_badly_configured_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (value, reason) in [
        (
            "[{name = \"x\", url = \"ftp://a.example/\", senders = [\"a@b\"]}]",
            "feed 1 (x) needs a url, http or https",
        ),
        ("[{name = \"x\", url = \"https://a.example/\"}]", "feed 1 (x) needs senders"),
        ("[{name = \"x y\", url = \"https://a.example/\", senders = [\"a@b\"]}]", "feed 1 needs a name"),
        (
            "[{name = \"x\", url = \"https://a.example/\", senders = [\"a@b\"], interval_secs = 1}]",
            "interval_secs that is not a whole number from 10 to 86400",
        ),
        (
            "[{name = \"x\", url = \"https://a.example/\", senders = [\"a@b\"], every = 5}]",
            "unknown key `every`",
        ),
    ] {
        let out =
            output(pingan(dir.path()).args(["feeds", "status"]).env("PINGAN_CAP_FEEDS", value), None).await;
        assert_eq!(out.status.code(), Some(2), "{value}");
        assert!(text(&out.stderr).contains(reason), "{value}: {}", text(&out.stderr));
    }
}
