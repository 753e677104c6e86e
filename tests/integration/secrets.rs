//! Secrets and personal data stay out of the log: a whole session of the real binary at
//! the default log level — start, citizens' commands, a scam report, an editor's urgent
//! notice fanned out to subscribers, a clean stop — with a database URL and a Bot API URL
//! that carry passwords, and a bot token of the real shape; then `pingan config`,
//! `pingan migrate` and a connection error. Nothing any of them wrote may contain the
//! token, a password, the phone number a citizen checked (in any spelling) or the text of
//! the report.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tempfile::TempDir;
use url::Url;

use crate::support::binary::{output, pingan, text};
use crate::support::fake_telegram::{FakeTelegram, Fault, FaultRule, SentMessage, TgUser};
use crate::support::test_app::free_port;
use crate::support::test_db::TestDb;

/// The shape @BotFather hands out: a bot id, and 35 characters of secret.
const TOKEN: &str = "7012345678:AAHf3k-Qs9Vb2xYzL0pQrStUvWxYz1234Ab";
const TOKEN_SECRET: &str = "AAHf3k-Qs9Vb2xYzL0pQrStUvWxYz1234Ab";
/// Apache's answer for a path it does not serve quotes the path, token and all.
const NOT_FOUND_PAGE: &str = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head><title>404 Not Found</title>\
    </head><body><p>The requested URL /bot7012345678:AAHf3k-Qs9Vb2xYzL0pQrStUvWxYz1234Ab/GetUpdates was not found \
    on this server.</p></body></html>";
/// PostgreSQL here trusts local connections, so passwords are accepted and ignored.
const DB_PASSWORD: &str = "s3cret-pw";
const DB_QUERY_PASSWORD: &str = "qu3ry-pw";
/// A proxy in front of the Bot API, reached with credentials in its URL.
const PROXY_USER: &str = "tg-relay";
const PROXY_PASSWORD: &str = "pr0xy-pw";

const CITIZENS: [i64; 3] = [5101, 5102, 5103];
const EDITOR: i64 = 5199;
const PHONE: &str = "+86 138 0013 8000";
const STORY: &str = "昨天有人冒充快递客服打电话，说包裹丢了要理赔，让我下载会议软件并打开屏幕共享。";
const DETAILS: &str = "他让我转账到 6222021234567890128，还发来网址 kuaidi-lipei.top";

macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::test_db::TestDb::sqlite()).await;
                }
            )+
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::support::test_db::TestDb::postgres().await else { return };
                    super::$name(db).await;
                }
            )+
        }
    };
}

on_both_backends!(a_whole_session_at_the_default_log_level_logs_no_secret_and_no_personal_data);

/// The test database's URL with two passwords (PostgreSQL), as an operator might write it.
fn database_url(db: &TestDb) -> String {
    match db {
        TestDb::Sqlite { .. } => db.url().to_owned(),
        TestDb::Postgres { .. } => {
            let mut url = Url::parse(db.url()).unwrap();
            url.set_password(Some(DB_PASSWORD)).unwrap();
            url.query_pairs_mut()
                .append_pair("password", DB_QUERY_PASSWORD)
                .append_pair("sslmode", "disable");
            url.to_string()
        }
    }
}

/// What must appear nowhere, with a name for the failure message.
fn forbidden() -> Vec<(&'static str, String)> {
    let mut all = vec![
        ("the bot token", TOKEN.to_owned()),
        ("the token's secret", TOKEN_SECRET.to_owned()),
        ("the database password", DB_PASSWORD.to_owned()),
        ("the database password given as a parameter", DB_QUERY_PASSWORD.to_owned()),
        ("the proxy's user", PROXY_USER.to_owned()),
        ("the proxy's password", PROXY_PASSWORD.to_owned()),
        ("the report's account number", "6222021234567890128".to_owned()),
        ("the report's link", "kuaidi-lipei".to_owned()),
    ];
    for spelling in
        [PHONE, "+8613800138000", "8613800138000", "13800138000", "138 0013 8000", "138-0013-8000"]
    {
        all.push(("the phone number", spelling.to_owned()));
    }
    // The story, and any part of it long enough to say something.
    let story: Vec<char> = STORY.chars().collect();
    for window in story.windows(6).step_by(3) {
        all.push(("the report's story", window.iter().collect()));
    }
    all
}

/// `text` without the terminal's colour codes (`ESC [ … m`), which the log writes around
/// field names and values.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Fails naming each forbidden value found in `log`, with the line it is on. Digits are
/// also compared with everything but digits taken out of each line, so a number written
/// with any separators is found.
fn assert_clean(what: &str, log: &str) {
    let log = without_colours(log);
    let mut found = Vec::new();
    for line in log.lines() {
        for (name, value) in forbidden() {
            if line.contains(&value) {
                found.push(format!("{name} ({value:?}) in: {line}"));
            }
        }
        let digits: String = line.chars().filter(char::is_ascii_digit).collect();
        if digits.contains("13800138000") {
            found.push(format!("the phone number, with separators, in: {line}"));
        }
    }
    assert!(found.is_empty(), "{what} leaks:\n{}\n\nthe whole of it:\n{log}", found.join("\n"));
}

fn user(id: i64) -> TgUser {
    TgUser::new(id, "市民", Some("zh-hans"))
}

async fn ask(fake: &FakeTelegram, from: i64, text: &str) -> SentMessage {
    let before = fake.sent_to(from).len();
    fake.user_sends(&user(from), text);
    fake.wait_for_sent(from, before + 1).await.remove(before)
}

/// The last message to `chat` that has a button labelled `label`, once there is one.
async fn with_button(fake: &FakeTelegram, chat: i64, label: &str) -> SentMessage {
    fake.wait_for(&format!("a message with {label:?} to {chat}"), |s| {
        s.sent
            .iter()
            .rev()
            .find(|m| m.chat_id == chat && m.buttons().iter().flatten().any(|(text, _)| text.contains(label)))
            .cloned()
    })
    .await
}

async fn a_whole_session_at_the_default_log_level_logs_no_secret_and_no_personal_data(db: TestDb) {
    let fake = FakeTelegram::start_with_token(TOKEN).await;
    let api_url =
        format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{}", fake.api_url().trim_start_matches("http://"));
    let url = database_url(&db);
    let dir = TempDir::new().unwrap();
    let log_path = dir.path().join("pingan.log");
    let settings = |command: &mut tokio::process::Command| {
        command
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", &api_url)
            .env("DATABASE_URL", &url)
            .env("PINGAN_BOT_OWNERS", EDITOR.to_string())
            .env("PINGAN_DELIVERY_TICK_MS", "100")
            // Short polls, so that the page below answers the next one soon.
            .env("PINGAN_TELEGRAM_POLL_TIMEOUT_SECS", "1")
            .env("PINGAN_DELIVERY_RATE_PER_SECOND", "200");
    };

    // `pingan run` at the default log level (the helper unsets RUST_LOG), its log kept.
    let mut run = pingan(dir.path());
    settings(&mut run);
    run.arg("run")
        .env("PINGAN_HTTP_LISTEN", format!("127.0.0.1:{}", free_port()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap());
    let mut bot = run.spawn().expect("start pingan run");
    fake.wait_for("the bot to poll", |s| (s.poll_generation > 0).then_some(())).await;

    // Citizens start, subscribe, and check a number the ways people write it.
    for chat in CITIZENS {
        assert!(ask(&fake, chat, "/start").await.text.contains("平安"));
        assert!(ask(&fake, chat, "/subscribe").await.text.starts_with("✅ 订阅成功"));
    }
    let checked = ask(&fake, CITIZENS[0], &format!("/check {PHONE}")).await;
    assert!(checked.text.contains(PHONE), "{}", checked.text);
    ask(&fake, CITIZENS[1], "/check 138-0013-8000").await;
    let before = fake.sent_to(CITIZENS[2]).len();
    fake.user_forwards(&user(CITIZENS[2]), "【退款通知】请致电 13800138000 办理", "客服中心");
    fake.wait_for_sent(CITIZENS[2], before + 1).await;

    // A citizen reports a scam: the story, then what was used, then sends it.
    let reporter = CITIZENS[0];
    assert!(ask(&fake, reporter, "/report").await.text.starts_with("举报诈骗"));
    ask(&fake, reporter, STORY).await;
    ask(&fake, reporter, &format!("{DETAILS}，电话 {PHONE}")).await;
    let summary = with_button(&fake, reporter, "提交举报").await;
    let pressed = fake.press_labelled(&user(reporter), &summary, "提交举报");
    fake.wait_for_answer(&pressed).await;
    let thanked = fake.message(summary.chat_id, summary.message_id);
    assert!(thanked.text.starts_with("✅ 感谢您的举报"), "{}", thanked.text);

    // An editor publishes an urgent notice; every subscriber gets it.
    fake.user_sends(
        &user(EDITOR),
        "/urgent\ntitle: 暴雨红色预警\ncategory: disaster\nseverity: Extreme\narea: 全市\nexpires: never\n---\n请减少外出。",
    );
    let question = with_button(&fake, EDITOR, "发布").await;
    let pressed = fake.press_labelled(&user(EDITOR), &question, "发布");
    fake.wait_for_answer(&pressed).await;
    for chat in CITIZENS {
        fake.wait_for(&format!("the alert to reach {chat}"), |s| {
            s.sent.iter().any(|m| m.chat_id == chat && m.text.contains("暴雨红色预警")).then_some(())
        })
        .await;
    }

    // A web server in front of the Bot API answers one poll with its own error page.
    fake.add_fault(FaultRule::on("getUpdates", Fault::Page(404, NOT_FOUND_PAGE)).times(1));
    fake.wait_for("a poll answered with the page", |s| {
        s.calls.iter().any(|c| c.method == "getUpdates" && c.status == 404).then_some(())
    })
    .await;
    fake.wait_for("polling again after it", |s| {
        let page = s.calls.iter().position(|c| c.method == "getUpdates" && c.status == 404)?;
        s.calls[page + 1..].iter().any(|c| c.method == "getUpdates").then_some(())
    })
    .await;

    // A clean stop, as systemd asks for one.
    let pid = bot.id().expect("the bot's process id");
    let killed = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), bot.wait()).await.expect("stopped").unwrap();
    assert!(status.success(), "{status}");

    let log = without_colours(&std::fs::read_to_string(&log_path).unwrap());
    for expected in [
        "connected to the Bot API",
        "command",
        "report received",
        "publication fanned out",
        "getUpdates failed",
        "stopped",
    ] {
        assert!(log.contains(expected), "{expected:?} is in the log at the default level:\n{log}");
    }
    assert_clean("the log of `pingan run`", &log);
    assert!(
        log.contains(&format!("api={}", fake.api_url())),
        "the API URL is shown without its user:\n{log}"
    );

    // What the operator's commands print, and a connection error.
    let mut config = pingan(dir.path());
    settings(&mut config);
    config.arg("config");
    let out = output(&mut config, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("`pingan config`", &format!("{}{}", text(&out.stdout), text(&out.stderr)));

    let mut migrate = pingan(dir.path());
    settings(&mut migrate);
    migrate.arg("migrate");
    let out = output(&mut migrate, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("`pingan migrate`", &format!("{}{}", text(&out.stdout), text(&out.stderr)));

    let unreachable = match &db {
        TestDb::Postgres { .. } => {
            let mut at = Url::parse(&url).unwrap();
            at.set_port(Some(free_port())).unwrap();
            at.to_string()
        }
        TestDb::Sqlite { .. } => "sqlite:///nonexistent-dir/pingan.db".to_owned(),
    };
    let mut failing = pingan(Path::new(dir.path()));
    settings(&mut failing);
    failing.env("DATABASE_URL", &unreachable).arg("migrate");
    let out = output(&mut failing, None).await;
    assert!(!out.status.success());
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(said.contains("cannot open the database"), "{said}");
    assert_clean("a connection error", &said);
}
