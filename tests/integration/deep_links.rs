//! Deep links and command menus (issue 16, parts 3 and 5) over the fake Bot API:
//! `t.me/<bot>?start=n42` opens notice 42, `tip_<type>` a scam type's tips, `check` the
//! risk check; channel posts, `/latest` and digests link each notice into the bot; and
//! the command menus are registered per scope and role, refreshed on a grant and deleted
//! on a revocation.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use pingan::clock::{ManualClock, SystemClock};
use pingan::domain::{
    Actor, Body, Category, ChatId, Frequency, Language, NewNotice, NoticeContent, Publication, Role,
    Severity, Subscriber, Title,
};
use pingan::i18n::Texts;
use pingan::publishing::Desk;
use serde_json::json;

use crate::support::fake_telegram::{Call, Fault, FaultRule, SentMessage, TgUser};
use crate::support::on_both_backends;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

fn content(title: &str, language: Language) -> NoticeContent {
    NoticeContent {
        districts: Default::default(),
        title: Title::parse(title).unwrap(),
        body: Body::parse("请提高警惕。").unwrap(),
        category: Category::Fraud,
        severity: Severity::Minor,
        area: None,
        language,
        source: None,
    }
}

async fn add(app: &TestApp, title: &str, expires: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    let notice =
        NewNotice::new(content(title, Language::Zh), Publication::Now, expires, Actor::System, now).unwrap();
    app.store.insert_notice(&notice).await.unwrap().id.0
}

/// Sends `text` as `user` and returns the `n` replies it gets.
async fn ask_for(app: &TestApp, user: &TgUser, text: &str, n: usize) -> Vec<SentMessage> {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + n).await.split_off(before)
}

async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    ask_for(app, user, text, 1).await.remove(0)
}

fn link(app: &TestApp, payload: &str) -> String {
    format!("https://t.me/{}?start={payload}", app.fake.bot_username())
}

async fn start_links_open_notices_tips_and_the_check(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(db, clock.clone(), &[]).await;
    let shown = add(&app, "节日安全提示", None, start).await;
    let expiring = add(&app, "限时提示", Some(start + Duration::hours(1)), start).await;
    let withdrawn = add(&app, "已撤回的通告", None, start).await;
    let texts = Texts::load().unwrap();
    let desk =
        Desk { store: app.store.as_ref(), texts: &texts, zone: chrono_tz::Asia::Shanghai, clock: &*clock };
    desk.retract(pingan::domain::NoticeId(withdrawn), &Actor::Cli("editor".into())).await.unwrap();

    let user = TgUser::new(4101, "小李", Some("zh-hans"));
    // The link opens the card /notice gives, whose number links back to it.
    let opened = ask(&app, &user, &format!("/start n{shown}")).await;
    let typed = ask(&app, &user, &format!("/notice {shown}")).await;
    assert_eq!(opened.text, typed.text);
    assert_eq!(opened.raw, typed.raw);
    assert!(opened.text.starts_with("🔵 节日安全提示\n"), "{}", opened.text);
    let back = format!("<a href=\"{}\">{shown}</a>", link(&app, &format!("n{shown}")));
    assert!(opened.raw.contains(&back), "{}", opened.raw);

    assert_eq!(
        ask(&app, &user, "/start n9999").await.text,
        "没有找到编号为 9999 的通告。发送 /latest 查看最新通告。"
    );
    assert_eq!(
        ask(&app, &user, &format!("/start n{withdrawn}")).await.text,
        format!("编号为 {withdrawn} 的通告已撤回。发送 /latest 查看最新通告。")
    );
    clock.advance(Duration::hours(2));
    assert_eq!(
        ask(&app, &user, &format!("/start n{expiring}")).await.text,
        format!("编号为 {expiring} 的通告已过期。发送 /latest 查看最新通告。")
    );

    let tips = ask(&app, &user, "/start tip_order_brushing").await;
    assert_eq!(tips.text.lines().next(), Some("刷单返利"), "{}", tips.text);
    assert!(tips.text.lines().count() > 2, "the type's tips follow: {}", tips.text);
    assert_eq!(
        tips.buttons().concat().last().map(|b| b.0.as_str()),
        Some("◀ 全部类型"),
        "{:?}",
        tips.buttons()
    );
    let english = TgUser::new(4102, "Ann", Some("en"));
    let tips = ask(&app, &english, "/start tip_order_brushing").await;
    assert_eq!(tips.text.lines().next(), Some("Order brushing"), "{}", tips.text);

    let check = ask(&app, &user, "/start check").await;
    assert!(check.text.starts_with("发送 /check 加电话号码、网址或账号"), "{}", check.text);
    let check = ask(&app, &english, "/start check").await;
    assert!(check.text.starts_with("Send /check with a phone number"), "{}", check.text);

    // An unknown payload: a short note, then the welcome.
    let answers = ask_for(&app, &user, "/start tip_nonsense", 2).await;
    assert_eq!(answers[0].text, "这个链接已失效或无法识别，以下是平安的简介。");
    assert!(answers[1].text.starts_with("小李，您好！这里是「平安」"), "{}", answers[1].text);
    let answers = ask_for(&app, &english, "/start n007", 2).await;
    assert!(answers[0].text.starts_with("That link is out of date"), "{}", answers[0].text);
    assert!(answers[1].text.starts_with("Hello, Ann!"), "{}", answers[1].text);
    // Plain /start is the welcome alone.
    assert!(ask(&app, &user, "/start").await.text.starts_with("小李，您好！"));
    app.stop().await.unwrap();
}

on_both_backends!(start_links_open_notices_tips_and_the_check);

/// Fast ticks and retries, as the delivery tests run.
const FAST: &[(&str, &str)] = &[
    ("PINGAN_DELIVERY_TICK_MS", "50"),
    ("PINGAN_DELIVERY_RETRY_BASE_MS", "20"),
    ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000"),
];

#[tokio::test]
async fn channel_posts_latest_and_digest_items_link_into_the_bot() {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(); // 08:00 in Shanghai
    let clock = Arc::new(ManualClock::new(start));
    let channel = -1_009_000_000_016;
    let mut env = FAST.to_vec();
    env.push(("PINGAN_DELIVERY_CHANNEL", "-1009000000016"));
    let app = spawn_app_with(TestDb::sqlite(), clock.clone(), &env).await;
    app.fake.register_channel(channel);
    let mut reader = Subscriber::new(ChatId(4201), Language::Zh, chrono_tz::Asia::Shanghai, start);
    reader.frequency = Frequency::Daily;
    reader.digest_time = "08:00".parse().unwrap();
    app.store.save_subscriber(&reader).await.unwrap();

    let noon = start + Duration::hours(4);
    clock.set(noon);
    let id = add(&app, "刷单诈骗提醒 <新>", None, noon).await;
    let to_notice = link(&app, &format!("n{id}"));

    let post = app.fake.wait_for_sent(channel, 1).await.remove(0);
    let open = format!("<a href=\"{to_notice}\">在机器人中查看 ›</a>");
    assert!(post.raw.ends_with(&open), "{}", post.raw);
    assert!(post.text.ends_with("在机器人中查看 ›"), "{}", post.text);

    let user = TgUser::new(4202, "读者", Some("zh-hans"));
    let latest = ask(&app, &user, "/latest").await;
    let title = format!("<a href=\"{to_notice}\">刷单诈骗提醒 &lt;新&gt;</a>");
    assert!(latest.raw.contains(&format!("<b>{title}</b>")), "{}", latest.raw);
    assert!(latest.text.contains("刷单诈骗提醒 <新>"), "{}", latest.text);

    clock.set(start + Duration::days(1));
    let digest = app.fake.wait_for_sent(4201, 1).await.remove(0);
    assert!(digest.raw.contains(&format!("1. 🔵 {title}（")), "{}", digest.raw);
    assert!(digest.text.contains("1. 🔵 刷单诈骗提醒 <新>（"), "{}", digest.text);
    app.stop().await.unwrap();
}

const OWNER: i64 = 4301;
const EDITOR: i64 = 4302;
const MODERATOR: i64 = 4303;
const FORMER: i64 = 4304;
const NEWCOMER: i64 = 4305;

fn names(menu: Option<Vec<(String, String)>>) -> Vec<String> {
    menu.unwrap_or_default().into_iter().map(|(c, _)| c).collect()
}

/// The menus registered at start, per scope; refreshed on a grant, deleted on a
/// revocation; and as many calls as there are scopes and staff, not citizens.
#[tokio::test]
async fn command_menus_are_registered_per_scope_and_role_and_follow_grants_and_revocations() {
    let db = TestDb::sqlite();
    {
        let store = db.store().await;
        let now = Utc::now();
        store.grant(EDITOR, Role::Editor, &Actor::System, now).await.unwrap();
        store.grant(MODERATOR, Role::Moderator, &Actor::System, now).await.unwrap();
        store.grant(FORMER, Role::Editor, &Actor::System, now).await.unwrap();
        store.revoke(FORMER, &Actor::Cli("root".into()), now).await.unwrap();
        // The editor reads English; fifty citizens get no menu of their own.
        store
            .save_subscriber(&Subscriber::new(ChatId(EDITOR), Language::En, chrono_tz::Asia::Shanghai, now))
            .await
            .unwrap();
        for chat in 5000..5050 {
            store
                .save_subscriber(&Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, now))
                .await
                .unwrap();
        }
        store.close().await;
    }
    let app = spawn_app_with(db, Arc::new(SystemClock), &[("PINGAN_BOT_OWNERS", &OWNER.to_string())]).await;
    let scoped = |chat: i64| app.fake.commands(&format!("chat:{chat}"), "");
    app.fake.wait_for("the staff menus", |s| (s.commands.len() >= 9).then_some(())).await;

    let citizens = names(app.fake.commands("default", ""));
    assert_eq!(citizens[0], "latest");
    assert!(!citizens.contains(&"post".to_owned()));
    let groups = names(app.fake.commands("all_group_chats", "en"));
    assert!(groups.contains(&"subscribe".to_owned()) && !groups.contains(&"report".to_owned()), "{groups:?}");
    assert_eq!(app.fake.commands("all_group_chats", "zh").unwrap()[0], ("latest".into(), "最新通告".into()));

    let owner = names(scoped(OWNER));
    assert_eq!(owner[..7], ["post", "urgent", "edit", "retract", "indicator", "reports", "admins"]);
    assert!(owner.ends_with(&citizens));
    let texts = Texts::load().unwrap();
    let described = |lang: Language, name: &str| texts.template(lang, &format!("commands.{name}")).to_owned();
    let editor = scoped(EDITOR).unwrap();
    assert_eq!(editor[0], ("post".into(), described(Language::En, "post")), "in the editor's language");
    assert!(!names(Some(editor.clone())).contains(&"admins".to_owned()));
    let moderator = names(scoped(MODERATOR));
    assert_eq!(moderator[0], "reports");
    assert!(!moderator.contains(&"post".to_owned()));
    assert_eq!(scoped(FORMER), None);

    let calls = app.fake.calls();
    let set: Vec<_> = calls.iter().filter(|c| c.method == "setMyCommands").collect();
    let deleted: Vec<_> = calls.iter().filter(|c| c.method == "deleteMyCommands").collect();
    println!("at start: {} setMyCommands, {} deleteMyCommands", set.len(), deleted.len());
    assert_eq!(set.len(), 6 + 3, "default and groups in zh, en and for the rest; one per staff member");
    assert!(set.iter().all(|c| c.status == 200));
    let scope = |c: &&Call| c.params["scope"].clone();
    assert!(set.iter().any(|c| scope(c) == json!({ "type": "chat", "chat_id": EDITOR })
        && c.params.get("language_code").is_none()));
    assert_eq!(deleted.len(), 1, "the revoked editor's menu");
    assert_eq!(scope(&deleted[0]), json!({ "type": "chat", "chat_id": FORMER }));

    // An owner grants a role in Telegram: the person's menu comes at once.
    let owner_user = TgUser::new(OWNER, "Owner", Some("zh-hans"));
    app.fake.user_sends(&TgUser::new(NEWCOMER, "新人", Some("zh-hans")), "/help");
    app.fake.wait_for_sent(NEWCOMER, 1).await;
    let granted = ask(&app, &owner_user, &format!("/admins grant {NEWCOMER} moderator")).await;
    assert!(granted.text.contains(&NEWCOMER.to_string()), "{}", granted.text);
    let menu = app
        .fake
        .wait_for("the newcomer's menu", |s| {
            s.commands.get(&(format!("chat:{NEWCOMER}"), String::new())).cloned()
        })
        .await;
    assert_eq!(menu[0], ("reports".into(), described(Language::Zh, "reports")));

    // A new role replaces the menu; a revocation deletes it.
    ask(&app, &owner_user, &format!("/admins grant {NEWCOMER} editor")).await;
    app.fake
        .wait_for("the newcomer's editor menu", |s| {
            let menu = s.commands.get(&(format!("chat:{NEWCOMER}"), String::new()))?;
            (menu[0].0 == "post").then_some(())
        })
        .await;
    ask(&app, &owner_user, &format!("/admins revoke {NEWCOMER}")).await;
    app.fake
        .wait_for("the newcomer's menu to go", |s| {
            (!s.commands.contains_key(&(format!("chat:{NEWCOMER}"), String::new()))).then_some(())
        })
        .await;
    let deletes: Vec<_> = app
        .fake
        .calls_of("deleteMyCommands")
        .into_iter()
        .filter(|c| c.params["scope"] == json!({ "type": "chat", "chat_id": NEWCOMER }))
        .collect();
    assert_eq!(deletes.len(), 1);

    // The editor switches to Chinese: their menu follows.
    ask(&app, &TgUser::new(EDITOR, "Ed", Some("en")), "/lang zh").await;
    app.fake
        .wait_for("the editor's menu in Chinese", |s| {
            let menu = s.commands.get(&(format!("chat:{EDITOR}"), String::new()))?;
            (menu[0].1 == described(Language::Zh, "post")).then_some(())
        })
        .await;
    let total = app.fake.calls_of("setMyCommands").len() + app.fake.calls_of("deleteMyCommands").len();
    println!("in all: {total} menu calls for 5 staff and 51 citizens");
    app.stop().await.unwrap();
}

/// Telegram answers a menu change with 429: the menus' queue waits the time it gives and
/// tries again, while the person's own messages are not held for it.
#[tokio::test]
async fn a_menu_change_told_to_wait_is_made_after_the_wait_without_holding_the_chat() {
    let app =
        spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[("PINGAN_BOT_OWNERS", &OWNER.to_string())])
            .await;
    app.fake.add_fault(FaultRule::on("setMyCommands", Fault::RetryAfter(3)).times(1));
    let owner = TgUser::new(OWNER, "Owner", Some("en"));
    let newcomer = TgUser::new(NEWCOMER, "New", Some("en"));
    ask(&app, &newcomer, "/help").await;
    ask(&app, &owner, &format!("/admins grant {NEWCOMER} editor")).await;
    // Asked while the menu change waits out its 429.
    ask(&app, &newcomer, "/latest").await;
    app.fake
        .wait_for("the menu after the wait", |s| {
            s.commands.contains_key(&(format!("chat:{NEWCOMER}"), String::new())).then_some(())
        })
        .await;
    let scoped = |c: &Call| c.params["scope"] == json!({ "type": "chat", "chat_id": NEWCOMER });
    let tries: Vec<Call> = app.fake.calls_of("setMyCommands").into_iter().filter(scoped).collect();
    assert_eq!(tries.iter().map(|c| c.status).collect::<Vec<_>>(), [429, 200]);
    let waited = tries[1].at.duration_since(tries[0].at);
    let replies: Vec<Call> = app
        .fake
        .calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.params["chat_id"] == json!(NEWCOMER))
        .collect();
    let answered = replies.last().unwrap().at;
    println!(
        "menu retried {waited:?} after its 429; the reply came {:?} after the 429",
        answered - tries[0].at
    );
    assert!(waited >= std::time::Duration::from_secs(3), "the retry waited {waited:?}");
    // Held for the 429, the reply would have come 3 s after it; it waits only the chat's
    // own spacing (a second after the answer before it).
    assert!(answered < tries[1].at, "the person's reply waited for the menu");
    app.stop().await.unwrap();
}
