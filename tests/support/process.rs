//! `pingan run` as real processes of the built binary, several on one database and one
//! fake Bot API, as a deployment runs them: each with its own HTTP port (and webhook URL
//! in webhook mode), its log in a file, and killed with SIGKILL or stopped with SIGTERM.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pingan::store::Store;
use tempfile::TempDir;
use tokio::process::Child;
use tokio::time::Instant;

use super::fake_telegram::FakeTelegram;
use super::test_app::{Intake, WEBHOOK_SECRET, free_port};
use super::test_db::TestDb;

/// How long a process may take to start (migrated database, fake answering).
const START: Duration = Duration::from_secs(30);

/// One `pingan run` process. Dropping it kills it (SIGKILL).
pub struct Process {
    /// The operating system's process id: the instance's worker id is `pid<pid>-…`.
    pub pid: u32,
    /// Its HTTP server, such as `http://127.0.0.1:4321`.
    pub base: String,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
    child: Child,
    _dir: Arc<TempDir>,
}

/// Starts `pingan run` against `fake` and `db` (migrated beforehand by the test's own
/// connection) with `intake`, in `dir`, with `extra_env` on top of the settings every
/// test instance has; returns once it serves `/healthz`, has registered its webhook (in
/// webhook mode) and has registered among the live instances in `store`.
pub async fn start_run(
    fake: &FakeTelegram,
    db: &TestDb,
    store: &Arc<dyn Store>,
    intake: Intake,
    dir: &Arc<TempDir>,
    extra_env: &[(&str, &str)],
) -> Process {
    let base = format!("http://127.0.0.1:{}", free_port());
    let listen = base.trim_start_matches("http://").to_owned();
    let webhook_url = format!("{base}/telegram/webhook");
    let log = dir.path().join(format!("pingan-{}.log", listen.replace([':', '.'], "-")));
    let file = std::fs::File::create(&log).expect("a log file");
    let mut command = super::binary::pingan(dir.path());
    command
        .arg("run")
        .env("TELOXIDE_TOKEN", FakeTelegram::TOKEN)
        .env("TELOXIDE_API_URL", fake.api_url())
        .env("DATABASE_URL", db.url())
        .env("PINGAN_HTTP_LISTEN", &listen)
        .env("PINGAN_BOT_COMMANDS_PER_MINUTE", "10000")
        .env("PINGAN_BOT_COSTLY_COMMANDS_PER_MINUTE", "10000")
        .env("PINGAN_BOT_GROUP_COMMANDS_PER_MINUTE", "10000")
        .env("RUST_LOG", std::env::var("TEST_LOG").unwrap_or_else(|_| "info,sqlx=warn".to_owned()))
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("the log file"))
        .stderr(file);
    if intake == Intake::Webhook {
        command.env("PINGAN_TELEGRAM_WEBHOOK_URL", &webhook_url);
        command.env("PINGAN_TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET);
    }
    for (name, value) in extra_env {
        command.env(name, value);
    }
    let before = store.live_instances().await.expect("the live instances").len();
    let mut child = command.spawn().expect("start pingan run");
    let pid = child.id().expect("a running process has an id");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + START;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("pingan run exited while starting ({status}):\n{}", read_log(&log));
        }
        let up = client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success());
        let registered = intake == Intake::Polling
            || fake.calls_of("setWebhook").iter().any(|c| c.params["url"] == webhook_url.as_str());
        let live = store.live_instances().await.expect("the live instances");
        let counted = live.len() > before && live.iter().any(|id| id.starts_with(&format!("pid{pid}-")));
        if up && registered && counted {
            break;
        }
        assert!(Instant::now() < deadline, "pingan run did not start in {START:?}:\n{}", read_log(&log));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Process { pid, base, log, child, _dir: dir.clone() }
}

impl Process {
    /// Where it serves Telegram's webhook (in webhook mode).
    pub fn webhook_url(&self) -> String {
        format!("{}/telegram/webhook", self.base)
    }

    /// Whether `worker` (a lease holder, an instance in the register) is this process.
    pub fn is(&self, worker: &str) -> bool {
        worker.starts_with(&format!("pid{}-", self.pid))
    }

    /// SIGKILL: it ends wherever it is, giving nothing back. Returns, once it is gone,
    /// the moment the signal was sent.
    pub async fn kill(&mut self) -> Instant {
        self.child.start_kill().expect("SIGKILL");
        let sent = Instant::now();
        let _ = self.child.wait().await;
        sent
    }

    /// SIGTERM, as an operator's stop: returns how it exited (within 20 s).
    pub async fn stop(mut self) -> ExitStatus {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(sent.success(), "kill -TERM {}", self.pid);
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("pingan run stopped within 20 s of SIGTERM")
            .expect("its exit status")
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        read_log(&self.log)
    }
}

fn read_log(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("(no log: {e})"))
}
