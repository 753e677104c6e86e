//! The `pingan` binary as an operator runs it, each test in an empty directory.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use pingan::bot::command::Audience;
use tempfile::TempDir;
use tokio::process::Command;

use crate::support::binary::{output, pingan, text};
use crate::support::fake_telegram::{FakeTelegram, TgUser};
use crate::support::test_db::TestDb;

#[tokio::test]
async fn run_in_an_empty_directory_creates_the_database_registers_commands_and_answers_many_chats() {
    let fake = FakeTelegram::start_with_token("1:x").await;
    let dir = TempDir::new().unwrap();
    let child = pingan(dir.path())
        .arg("run")
        .env("TELOXIDE_TOKEN", "1:x")
        .env("TELOXIDE_API_URL", fake.api_url())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    fake.wait_for("six command menus and a poll", |s| {
        let menus = s.calls.iter().filter(|c| c.method == "setMyCommands" && c.status == 200).count();
        (menus == 6 && s.poll_generation > 0).then_some(())
    })
    .await;
    assert!(dir.path().join("pingan.db").is_file(), "pingan.db is created in the working directory");

    for i in 0..30 {
        let lang = if i % 3 == 0 { Some("en") } else { Some("zh-hans") };
        fake.user_sends(&TgUser::new(5000 + i, "U", lang), "/start");
    }
    fake.wait_for("30 welcomes", |s| (s.sent.len() >= 30).then_some(())).await;
    for i in 0..30 {
        let replies = fake.sent_to(5000 + i);
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].text.starts_with("Hello"), i % 3 == 0, "{}", replies[0].text);
    }

    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let done = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output()).await;
    let output = done.expect("pingan stops within 10 s of SIGTERM").unwrap();
    assert!(output.status.success(), "{:?}\n{}", output.status, text(&output.stderr));
    assert!(started.elapsed() < Duration::from_secs(10));
    let log = text(&output.stderr);
    assert!(log.contains("SIGTERM received") && log.contains("stopped"), "{log}");
    assert!(!log.contains("1:x"), "the token is never logged");
}

#[tokio::test]
async fn run_without_a_token_prints_one_line_naming_teloxide_token() {
    let dir = TempDir::new().unwrap();
    let out = output(pingan(dir.path()).arg("run"), None).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TELOXIDE_TOKEN"), "{stderr}");
    assert!(!dir.path().join("pingan.db").exists(), "nothing is created without a token");
}

#[tokio::test]
async fn run_with_a_token_telegram_refuses_says_so() {
    let fake = FakeTelegram::start().await;
    let dir = TempDir::new().unwrap();
    let mut command = pingan(dir.path());
    command.arg("run").env("TELOXIDE_TOKEN", "42:wrong").env("TELOXIDE_API_URL", fake.api_url());
    let out = output(&mut command, None).await;
    assert!(!out.status.success());
    let last = text(&out.stderr).lines().last().unwrap_or_default().to_owned();
    assert!(last.contains("refused the bot token") && last.contains("TELOXIDE_TOKEN"), "{last}");
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_one_line() {
    let dir = TempDir::new().unwrap();
    let mut command = pingan(dir.path());
    command.arg("console").env("PINGAN_DATABASE_MAX_CONNECTIONS", "lots");
    let out = output(&mut command, Some("/help\n")).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("database.max_connections") && stderr.contains("PINGAN_DATABASE_MAX_CONNECTIONS")
    );

    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(dir.path().join("config/local.toml"), "[bot]\ndefault_language = \"fr\"\n").unwrap();
    let out = output(pingan(dir.path()).arg("config"), None).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("bot.default_language (from config/local.toml) must be zh or en"), "{stderr}");
}

#[tokio::test]
async fn config_shows_the_effective_settings_with_secrets_masked() {
    let dir = TempDir::new().unwrap();
    let mut command = pingan(dir.path());
    command.arg("config").env("TELOXIDE_TOKEN", "123:VERY-SECRET").env("PINGAN_LOG_FORMAT", "json");
    let out = output(&mut command, None).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("token = \"123:****\"  # environment variable TELOXIDE_TOKEN"), "{stdout}");
    assert!(stdout.contains("format = \"json\"  # environment variable PINGAN_LOG_FORMAT"));
    assert!(stdout.contains("url = \"sqlite://pingan.db\"  # default"));
    assert!(!stdout.contains("VERY-SECRET"));
}

#[tokio::test]
async fn the_console_lists_the_commands_and_answers_in_english_when_asked() {
    let dir = TempDir::new().unwrap();
    let out = output(pingan(dir.path()).arg("console"), Some("/help\n")).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for command in pingan::bot::command::COMMANDS {
        let listed = stdout.contains(&format!("/{} — ", command.name));
        assert_eq!(listed, command.audience == Audience::Everyone, "/{}: {stdout}", command.name);
    }
    assert!(!stdout.contains('<'), "HTML is reduced to plain text: {stdout}");
    let mut admin = pingan(dir.path());
    admin.args(["console", "--admin"]);
    let stdout = text(&output(&mut admin, Some("/help\n")).await.stdout);
    for command in pingan::bot::command::COMMANDS {
        assert!(stdout.contains(&format!("/{} — ", command.name)), "--admin is an owner: {stdout}");
    }

    let mut english = pingan(dir.path());
    english.args(["console", "--lang", "en"]);
    let stdout = text(&output(&mut english, Some("/start\n")).await.stdout);
    assert!(stdout.contains("This is Pingan"), "{stdout}");
    assert!(dir.path().join("pingan.db").is_file(), "the console uses the same database as run");
}

#[tokio::test]
async fn the_console_acts_as_an_editor_with_admin() {
    let dir = TempDir::new().unwrap();
    let mut command = pingan(dir.path());
    command.args(["console", "--admin", "--lang", "en", "--chat-id", "4242"]);
    let stdout = text(&output(&mut command, Some("/help\n")).await.stdout);
    assert!(stdout.contains("Editor tools"), "{stdout}");
}

#[tokio::test]
async fn the_console_sends_messages_of_several_lines_so_the_post_form_and_edit_work() {
    let dir = TempDir::new().unwrap();
    let mut command = pingan(dir.path());
    command.args(["console", "--admin", "--lang", "zh"]);
    // A `"""` block (blank line and all) for the form, `#1` for its Publish button, a
    // line ending in `\` for /edit's title and text, and a one-line command after them.
    let typed = "/post \"\"\"\n标题：道路结冰提示\n分类：交通\n级别：一般\n地区：全市\n过期：不过期\n发布：立即\n\n早晚桥面易结冰，\n请慢行。\n\"\"\"\n#1\n/edit 1\n道路结冰提示（更正）\\\n早晚桥面易结冰，请减速慢行。\n/settings categories 反诈,\\\n交通\n";
    let out = output(&mut command, Some(typed)).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("> /post\n… 标题：道路结冰提示\n… 分类：交通"),
        "the message is echoed whole: {stdout}"
    );
    assert!(stdout.contains("🔵 道路结冰提示\n一般 · 交通 · 全市"), "{stdout}");
    assert!(stdout.contains("早晚桥面易结冰，\n请慢行。"), "the body keeps its lines: {stdout}");
    assert!(stdout.contains("✅ 已发布，通告编号 1"), "{stdout}");
    assert!(stdout.contains("道路结冰提示（更正）"), "the correction's title: {stdout}");
    assert!(stdout.contains("早晚桥面易结冰，请减速慢行。"), "and its text: {stdout}");
    assert!(stdout.contains("分类：反诈、交通"), "{stdout}");
}

async fn add_and_list(dir: &Path, database_url: Option<&str>) {
    // Times to come, within what a notice may reach: expiring in five years, published in a month.
    let shanghai = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let expires = format!("{}-01-01 00:00", chrono::Datelike::year(&shanghai) + 5);
    let publish = (shanghai + chrono::Duration::days(30)).format("%Y-%m-%d 08:00").to_string();
    let with_db = |mut c: Command| {
        if let Some(url) = database_url {
            c.env("DATABASE_URL", url);
        }
        c
    };
    let mut add = pingan(dir);
    add.args([
        "notices",
        "add",
        "--title",
        "警惕刷单返利诈骗",
        "--body",
        "刷单就是诈骗。",
        "--severity",
        "Moderate",
    ])
    .args(["--category", "fraud", "--area", "全市", "--expires-at", &expires]);
    let out = output(&mut with_db(add), None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("Notice 1 published"), "{}", text(&out.stdout));

    let mut add_en = pingan(dir);
    add_en
        .args(["notices", "add", "--title", "Road closure", "--body-file", "-", "--language", "en"])
        .args(["--severity", "minor", "--publish-at", &publish, "--category", "traffic"]);
    let out = output(&mut with_db(add_en), Some("Closed for the marathon.\n")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("scheduled for {publish} (Asia/Shanghai)")));

    let out = output(
        &mut with_db({
            let mut c = pingan(dir);
            c.args(["notices", "list"]);
            c
        }),
        None,
    )
    .await;
    let listing = text(&out.stdout);
    let lines: Vec<&str> = listing.lines().collect();
    assert!(lines[0].contains("ID") && lines[0].contains("TITLE"));
    assert!(
        lines[1].contains("scheduled") && lines[1].contains("Minor") && lines[1].ends_with("Road closure")
    );
    assert!(lines[2].contains("published") && lines[2].contains("Moderate") && lines[2].contains(&expires));
    assert!(lines[2].ends_with("警惕刷单返利诈骗"));

    let out = output(
        &mut with_db({
            let mut c = pingan(dir);
            c.args(["notices", "list", "--status", "published"]);
            c
        }),
        None,
    )
    .await;
    assert_eq!(text(&out.stdout).lines().count(), 3, "header, one notice, time zone note");
}

#[tokio::test]
async fn notices_added_at_the_command_line_are_listed_on_sqlite() {
    let dir = TempDir::new().unwrap();
    add_and_list(dir.path(), None).await;
    assert!(dir.path().join("pingan.db").is_file());
}

#[tokio::test]
async fn notices_added_at_the_command_line_are_listed_on_postgresql() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = TempDir::new().unwrap();
    add_and_list(dir.path(), Some(db.url())).await;
    assert!(!dir.path().join("pingan.db").exists(), "PostgreSQL was used, not the SQLite default");
}

#[tokio::test]
async fn a_bad_notice_is_refused_with_a_reason_and_nothing_is_stored() {
    let dir = TempDir::new().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--title", "  ", "--body", "x"], "title is empty"),
        (&["--title", "t", "--body", "x", "--publish-at", "next tuesday"], "--publish-at"),
        (&["--title", "t", "--body", "x", "--expires-at", "2001-01-01"], "expiry time"),
        (&["--title", "t", "--body", "x", "--severity", "loud"], "Extreme, Severe, Moderate, Minor, Unknown"),
    ];
    for (args, reason) in cases {
        let mut command = pingan(dir.path());
        command.args(["notices", "add"]).args(args);
        let out = output(&mut command, None).await;
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out.stderr).contains(reason), "{args:?}: {}", text(&out.stderr));
    }
    let out = output(
        &mut {
            let mut c = pingan(dir.path());
            c.args(["notices", "list"]);
            c
        },
        None,
    )
    .await;
    assert_eq!(text(&out.stdout).trim(), "No notices.");
}

#[tokio::test]
async fn migrate_reports_what_it_applied_and_is_idempotent() {
    let dir = TempDir::new().unwrap();
    let first = text(&output(pingan(dir.path()).arg("migrate"), None).await.stdout);
    assert!(first.contains("applied migration"), "{first}");
    let second = text(&output(pingan(dir.path()).arg("migrate"), None).await.stdout);
    assert!(!second.contains("applied migration") && second.contains("schema version"), "{second}");
}

#[tokio::test]
async fn every_help_text_describes_its_options() {
    let dir = TempDir::new().unwrap();
    let help = |args: &'static [&'static str]| {
        let mut c = pingan(dir.path());
        c.args(args).arg("--help");
        async move { output(&mut c, None).await }
    };
    let top = text(&help(&[]).await.stdout);
    for command in ["run", "migrate", "console", "config", "notices"] {
        assert!(top.contains(&format!("  {command} ")), "{top}");
    }
    let add = text(&help(&["notices", "add"]).await.stdout);
    for keyword in pingan::domain::Severity::ALL.iter().map(|s| s.as_str()) {
        assert!(add.contains(keyword), "severity {keyword} in: {add}");
    }
    for keyword in pingan::domain::Category::ALL.iter().map(|c| c.as_str()) {
        assert!(add.contains(keyword), "category {keyword} in: {add}");
    }
    let list = text(&help(&["notices", "list"]).await.stdout);
    for keyword in pingan::domain::NoticeStatus::ALL.iter().map(|s| s.as_str()) {
        assert!(list.contains(keyword), "status {keyword} in: {list}");
    }
    let console = text(&help(&["console"]).await.stdout);
    assert!(console.contains("--lang") && console.contains("--admin") && console.contains("--chat-id"));
}

#[tokio::test]
async fn after_demo_data_the_console_finds_chinese_and_english_fraud_notices() {
    let dir = TempDir::new().unwrap();
    let first = text(&output(pingan(dir.path()).arg("demo-data"), None).await.stdout);
    assert!(first.starts_with("Demo notices: 18 added, 0 already present."), "{first}");
    let again = text(&output(pingan(dir.path()).arg("demo-data"), None).await.stdout);
    assert!(again.starts_with("Demo notices: 0 added, 18 already present."), "idempotent: {again}");

    let out = output(pingan(dir.path()).arg("console"), Some("/search 诈骗\n/search fraud\n")).await;
    let stdout = text(&out.stdout);
    let (chinese, english) = stdout.split_once("> /search fraud").expect("two answers");
    let first_result = chinese.lines().find(|l| l.starts_with("1. ")).unwrap_or_default();
    assert!(
        first_result.contains("诈骗") && !first_result.contains("💡"),
        "an anti-fraud notice first: {chinese}"
    );
    assert!(chinese.lines().filter(|l| l.starts_with(char::is_numeric)).count() >= 5);
    assert!(english.contains("Telecom fraud cases down 4.79%"), "{english}");
}

#[tokio::test]
async fn roles_and_tokens_are_managed_from_the_command_line_and_audited() {
    let dir = TempDir::new().unwrap();
    let run = |args: &'static [&'static str]| {
        let mut command = pingan(dir.path());
        command.args(args).env("USER", "alice");
        async move { output(&mut command, None).await }
    };
    let stdout = |out: &std::process::Output| text(&out.stdout);

    assert!(stdout(&run(&["admin", "list"]).await).starts_with("No one has a role."));
    assert_eq!(stdout(&run(&["admin", "grant", "42", "editor"]).await).trim(), "User 42 is now editor.");
    let bad = run(&["admin", "grant", "43", "boss"]).await;
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("unknown role \"boss\": expected one of owner, editor, moderator"));
    let list = stdout(&run(&["admin", "list"]).await);
    assert!(list.contains("42  editor     granted by cli:alice"), "{list}");
    assert!(!list.contains("43"), "a refused grant changes nothing");
    assert_eq!(stdout(&run(&["admin", "revoke", "44"]).await).trim(), "User 44 had no role.");
    assert_eq!(stdout(&run(&["admin", "revoke", "42"]).await).trim(), "User 42 no longer has a role.");

    let created = run(&["admin", "token", "create", "cms", "--role", "moderator"]).await;
    let token = stdout(&created);
    assert!(
        token.trim().starts_with("pingan_") && token.lines().count() == 1,
        "only the token on stdout: {token}"
    );
    assert!(text(&created.stderr).contains("shown only now"));
    let again = run(&["admin", "token", "create", "cms"]).await;
    assert!(!again.status.success() && text(&again.stderr).contains("already a token named \"cms\""));
    let tokens = stdout(&run(&["admin", "token", "list"]).await);
    assert!(
        tokens.contains("cms") && tokens.contains("moderator") && !tokens.contains(token.trim()),
        "{tokens}"
    );
    assert!(run(&["admin", "token", "revoke", "cms"]).await.status.success());
    assert!(!run(&["admin", "token", "revoke", "cms"]).await.status.success(), "revoked once only");

    let audit = stdout(&run(&["audit"]).await);
    let actions: Vec<&str> = audit.lines().map(|l| l.split_whitespace().nth(3).unwrap_or_default()).collect();
    assert_eq!(actions, ["token_revoked", "token_created", "revoked", "granted"], "newest first:\n{audit}");
    assert!(audit.lines().all(|l| l.contains("cli:alice")));
    assert!(stdout(&run(&["audit", "--actor", "cli:bob"]).await).contains("empty for that actor"));
    assert!(stdout(&run(&["audit", "--actor", "cli:alice", "--limit", "1"]).await).lines().count() == 1);
}

#[tokio::test]
async fn tips_indicators_and_figures_go_in_and_out_as_files() {
    let dir = TempDir::new().unwrap();
    let run = |args: Vec<String>| {
        let mut command = pingan(dir.path());
        command.args(args).env("USER", "editor");
        async move { output(&mut command, None).await }
    };
    let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();

    // Tips: export, change one, add one, retire one, import.
    let exported = dir.path().join("tips.toml");
    assert!(run(args(&format!("tips export {}", exported.display()))).await.status.success());
    let text = std::fs::read_to_string(&exported).unwrap();
    let mut file: toml::Value = toml::from_str(&text).unwrap();
    let tips = file["tip"].as_array_mut().unwrap();
    assert_eq!(tips.len(), 28, "the shipped library, both languages");
    tips[0]["title"] = "改过的标题".into();
    tips[1]["retired"] = true.into();
    let mut new = tips[0].clone();
    new.as_table_mut().unwrap().remove("id");
    new["title"] = "新提示".into();
    tips.push(new);
    std::fs::write(&exported, toml::to_string(&file).unwrap()).unwrap();
    let imported = run(args(&format!("tips import {}", exported.display()))).await;
    assert!(imported.status.success(), "{}", text_of(&imported.stderr));
    assert!(text_of(&imported.stdout).contains("1 added, 2 changed"), "{}", text_of(&imported.stdout));
    let again = run(args(&format!("tips export {}", exported.display()))).await;
    assert!(again.status.success());
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("改过的标题") && text.contains("新提示") && text.contains("retired = true"));
    std::fs::write(
        &exported,
        "[[tip]]\nid = 9999\nscam_type = \"loan\"\nlanguage = \"zh\"\ntitle = \"x\"\nbody = \"y\"\n",
    )
    .unwrap();
    let refused = run(args(&format!("tips import {}", exported.display()))).await;
    assert!(!refused.status.success());
    assert!(text_of(&refused.stderr).contains("tip 1: there is no tip 9999"), "{}", text_of(&refused.stderr));

    // Indicators: a bad line imports nothing; a good file lists.
    let list = dir.path().join("list.csv");
    std::fs::write(&list, "13800138000,fraud,冒充客服\nnot a value,fraud,x\n").unwrap();
    let refused = run(args(&format!("indicators import {}", list.display()))).await;
    assert!(
        !refused.status.success() && text_of(&refused.stderr).contains("line 2:"),
        "{}",
        text_of(&refused.stderr)
    );
    std::fs::write(&list, "# list\n13800138000,fraud,冒充客服\nalipay-refund.top,suspicious,仿冒退款\n")
        .unwrap();
    let imported = run(args(&format!("indicators import {}", list.display()))).await;
    assert!(
        text_of(&imported.stdout).contains("2 entries: 2 new, 0 updated"),
        "{}",
        text_of(&imported.stderr)
    );
    let listed = text_of(&run(args("indicators list")).await.stdout);
    assert!(listed.contains("+86 138 0013 8000") && listed.contains("alipay-refund.top"), "{listed}");

    // Figures: the demo data, then a file.
    assert!(text_of(&run(args("demo-data")).await.stdout).contains("Demo figures: 7 stored"));
    let figures = dir.path().join("figures.toml");
    std::fs::write(
        &figures,
        "[[period]]\nfrom = 2022-01-01\nto = 2022-10-31\nsource = \"test\"\ncases = 3964\n",
    )
    .unwrap();
    assert!(run(args(&format!("stats import {}", figures.display()))).await.status.success());
    let stats = text_of(&run(args("stats list")).await.stdout);
    let rows: Vec<Vec<&str>> = stats.lines().map(|l| l.split_whitespace().collect()).collect();
    assert!(rows.iter().any(|r| r[..4] == ["2022-01-01..2022-10-31", "cases", "3964", "test"]), "{stats}");
    assert!(rows.iter().any(|r| r[..4] == ["2023-01-01..2023-10-31", "cases", "3774", "-4.79%"]), "{stats}");
    let audit = text_of(&run(args("audit --actor cli:editor")).await.stdout);
    assert_eq!(audit.lines().filter(|l| l.contains("imported")).count(), 3, "{audit}");
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `pingan healthcheck` (the image's HEALTHCHECK) exits 0 while the bot's /healthz answers
/// and 1, saying why, when nothing answers at http.listen.
#[tokio::test]
async fn healthcheck_passes_while_the_bot_serves_and_fails_when_nothing_answers() {
    let (app, base) =
        crate::support::test_app::spawn_app_with_http(std::sync::Arc::new(pingan::clock::SystemClock), &[])
            .await;
    let dir = TempDir::new().unwrap();
    let listen = base.trim_start_matches("http://").to_owned();

    let healthy =
        output(pingan(dir.path()).arg("healthcheck").env("PINGAN_HTTP_LISTEN", &listen), None).await;
    assert!(healthy.status.success(), "{}", text(&healthy.stderr));
    assert_eq!(text(&healthy.stdout).trim(), format!("{base}/healthz: 200 OK"));

    let by_url =
        output(pingan(dir.path()).args(["healthcheck", "--url", &format!("{base}/healthz")]), None).await;
    assert!(by_url.status.success(), "{}", text(&by_url.stderr));

    app.stop().await.unwrap();
    let down = output(pingan(dir.path()).arg("healthcheck").env("PINGAN_HTTP_LISTEN", &listen), None).await;
    assert_eq!(down.status.code(), Some(1));
    assert!(text(&down.stderr).contains(&format!("no answer from {base}/healthz")), "{}", text(&down.stderr));

    let off = output(pingan(dir.path()).arg("healthcheck"), None).await;
    assert_eq!(off.status.code(), Some(1));
    assert!(text(&off.stderr).contains("http.listen is \"off\""), "{}", text(&off.stderr));
}
