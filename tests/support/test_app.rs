//! The real application, started in this process against a fake Bot API.

use std::collections::HashMap;
use std::sync::Arc;

use pingan::clock::{Clock, SystemClock};
use pingan::config::{Loaded, Settings};
use pingan::store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::fake_telegram::FakeTelegram;
use super::test_db::TestDb;

pub struct TestApp {
    pub fake: FakeTelegram,
    pub db: TestDb,
    /// A connection of the test's own to the app's database.
    pub store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The settings a test app runs with: the fake's URL and token, the test database, and
/// any extra environment variables.
pub fn settings_for(fake: &FakeTelegram, db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = HashMap::from([
        ("TELOXIDE_TOKEN".to_owned(), FakeTelegram::TOKEN.to_owned()),
        ("TELOXIDE_API_URL".to_owned(), fake.api_url()),
        ("DATABASE_URL".to_owned(), db.url().to_owned()),
        // Tests that want HTTP ask for it on a port of their own.
        ("PINGAN_HTTP_LISTEN".to_owned(), "off".to_owned()),
        // Scripted users type dozens of commands a second, as no person does; the tests of
        // the budgets themselves set the shipped ones back.
        ("PINGAN_BOT_COMMANDS_PER_MINUTE".to_owned(), "10000".to_owned()),
        ("PINGAN_BOT_COSTLY_COMMANDS_PER_MINUTE".to_owned(), "10000".to_owned()),
        ("PINGAN_BOT_GROUP_COMMANDS_PER_MINUTE".to_owned(), "10000".to_owned()),
    ]);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Loaded::from_sources(None, &|name| env.get(name).cloned()).expect("test settings").settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[]).await
}

pub async fn spawn_app_with(db: TestDb, clock: Arc<dyn Clock>, extra_env: &[(&str, &str)]) -> TestApp {
    super::init_logging();
    let fake = FakeTelegram::start().await;
    let settings = settings_for(&fake, &db, extra_env);
    let (stop, stopped) = oneshot::channel::<()>();
    let mut task = tokio::spawn(pingan::startup::run(settings, clock, async {
        let _ = stopped.await;
    }));
    // The app migrates on start; wait for it to be polling before the test looks inside,
    // and say why if it stopped instead.
    tokio::select! {
        () = fake.wait_for("the bot to start polling", |s| (s.poll_generation > 0).then_some(())) => {}
        ended = &mut task => panic!("the app stopped while starting: {ended:?}"),
    }
    let store = db.store().await;
    TestApp { fake, db, store, stop: Some(stop), task: Some(task) }
}

impl TestApp {
    /// Stops the app as SIGTERM would, and returns how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("the app task");
        let result = task.await.expect("the app task panicked");
        self.store.close().await;
        let content = super::chinese::written_content(&self.db).await;
        assert_no_chinese_in_english_replies(&self.fake, &content);
        result
    }
}

/// Every app a test runs is checked when it ends: no English reply holds Chinese writing
/// nobody wrote ([`super::chinese::english_replies_speaking_chinese`]).
fn assert_no_chinese_in_english_replies(fake: &FakeTelegram, content: &[String]) {
    let found = super::chinese::english_replies_speaking_chinese(fake, content);
    assert!(found.is_empty(), "English replies speak Chinese:\n{}", found.join("\n"));
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some(task) = self.task.take() else { return };
        task.abort();
        if std::thread::panicking() {
            return;
        }
        // Drop runs outside async code: a small runtime of its own reads the database.
        let url_holder = &self.db;
        let content = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    Some(runtime.block_on(super::chinese::written_content(url_holder)))
                })
                .join()
        });
        let content = content.ok().flatten().unwrap_or_default();
        assert_no_chinese_in_english_replies(&self.fake, &content);
    }
}

/// A port nothing listens on right now, for an app's HTTP server.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A running app serving HTTP too; returns it and the server's base URL.
pub async fn spawn_app_with_http(clock: Arc<dyn Clock>, extra_env: &[(&str, &str)]) -> (TestApp, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut env = vec![("PINGAN_HTTP_LISTEN", listen.as_str()), ("PINGAN_DELIVERY_TICK_MS", "50")];
    env.extend_from_slice(extra_env);
    let app = spawn_app_with(TestDb::sqlite(), clock, &env).await;
    let base = format!("http://{listen}");
    // The server starts before polling does; this only waits out a slow first accept.
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (app, base)
}

/// How an [`Instance`] takes updates in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intake {
    /// Long polling (by whichever instance holds the polling lease).
    Polling,
    /// Telegram's webhook, at `<base>/telegram/webhook`, with [`WEBHOOK_SECRET`].
    Webhook,
}

/// The webhook secret test instances register and check.
pub const WEBHOOK_SECRET: &str = "test-webhook_Secret-42";

/// One `pingan run` of several sharing a fake Bot API and a database, as instances of one
/// deployment do. It runs on a tokio runtime of its own, so that killing it ends every
/// task it started (detached ones too), as SIGKILL ends a process. Dropping it kills it.
pub struct Instance {
    /// Its HTTP server, such as `http://127.0.0.1:4321` (empty for [`spawn_instance`]'s).
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// One more app instance on the test's own runtime, without HTTP, with `clock` (a manual
/// one, for the scheduler's due times): for tests of the scheduler leader and the shared
/// send rate. Returns once it runs; the test waits for what it needs of it (registered,
/// leading) itself. Killing it aborts its main task (its detached tasks may run on until
/// the test's runtime ends); [`start_instance`] kills more thoroughly.
pub fn spawn_instance(
    fake: &FakeTelegram,
    db: &TestDb,
    clock: Arc<dyn Clock>,
    extra_env: &[(&str, &str)],
) -> Instance {
    super::init_logging();
    let settings = settings_for(fake, db, extra_env);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(pingan::startup::run(settings, clock, async {
        let _ = stopped.await;
    }));
    Instance { base: String::new(), stop: Some(stop), task: Some(task), runtime: None }
}

/// Starts an app against an existing fake and database (neither is re-created), serving
/// HTTP on a port of its own; returns once it serves `/healthz` and, in webhook mode, has
/// registered its webhook with the fake.
pub async fn start_instance(
    fake: &FakeTelegram,
    db: &TestDb,
    intake: Intake,
    extra_env: &[(&str, &str)],
) -> Instance {
    super::init_logging();
    let base = format!("http://127.0.0.1:{}", free_port());
    let listen = base.trim_start_matches("http://").to_owned();
    let webhook_url = format!("{base}/telegram/webhook");
    let mut env = vec![("PINGAN_HTTP_LISTEN", listen.as_str())];
    if intake == Intake::Webhook {
        env.push(("PINGAN_TELEGRAM_WEBHOOK_URL", webhook_url.as_str()));
        env.push(("PINGAN_TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET));
    }
    env.extend_from_slice(extra_env);
    let settings = settings_for(fake, db, &env);
    let (stop, stopped) = oneshot::channel::<()>();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the instance");
    let mut task = runtime.spawn(pingan::startup::run(settings, Arc::new(SystemClock), async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let ready = async {
        loop {
            let up =
                client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success());
            let registered = intake == Intake::Polling
                || fake.calls_of("setWebhook").iter().any(|c| c.params["url"] == webhook_url.as_str());
            if up && registered {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        () = ready => {}
        ended = &mut task => panic!("the instance stopped while starting: {ended:?}"),
        () = tokio::time::sleep(super::fake_telegram::WAIT) => panic!("the instance at {base} did not start"),
    }
    Instance { base, stop: Some(stop), task: Some(task), runtime: Some(runtime) }
}

impl Instance {
    /// Where it serves Telegram's webhook (in webhook mode).
    pub fn webhook_url(&self) -> String {
        format!("{}/telegram/webhook", self.base)
    }

    /// Kills it at once, as SIGKILL would: every task it runs ends wherever it is, and
    /// nothing it holds is given back.
    pub async fn kill(mut self) {
        let task = self.task.take();
        match self.runtime.take() {
            Some(runtime) => runtime.shutdown_background(),
            None => {
                if let Some(task) = task {
                    task.abort();
                    let _ = task.await;
                }
            }
        }
    }

    /// Stops it as SIGTERM would, and returns how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let ended = self.task.take().expect("the instance's task").await.expect("the instance panicked");
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        ended
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
