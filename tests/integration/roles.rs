//! Roles over the fake Bot API (issue 13, part 7): each refusal names who may; role and
//! status names in the reader's language; configured owners cannot be revoked; an owner
//! grants a role by forwarding a message of the person or by their @username, and
//! `/forget` deletes the username the bot noted.

use std::sync::Arc;

use chrono::Utc;
use pingan::clock::SystemClock;
use pingan::domain::{Actor, AuditAction, Role, Username};
use pingan::store::Store;

use crate::support::fake_telegram::{ForwardOrigin, SentMessage, TgUser};
use crate::support::on_both_backends;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

/// An owner from the configuration file (`bot.owners`).
const OWNER: i64 = 3900;
const EDITOR: i64 = 3901;
const MODERATOR: i64 = 3902;
/// An owner by grant, who reads English.
const ENGLISH_OWNER: i64 = 3904;

async fn spawn(db: TestDb) -> TestApp {
    let app = spawn_app_with(db, Arc::new(SystemClock), &[("PINGAN_BOT_OWNERS", "3900")]).await;
    let now = Utc::now();
    app.store.grant(EDITOR, Role::Editor, &Actor::System, now).await.unwrap();
    app.store.grant(MODERATOR, Role::Moderator, &Actor::System, now).await.unwrap();
    app.store.grant(ENGLISH_OWNER, Role::Owner, &Actor::System, now).await.unwrap();
    app
}

fn zh(id: i64) -> TgUser {
    TgUser::new(id, "市局", Some("zh-hans"))
}

fn en(id: i64) -> TgUser {
    TgUser::new(id, "Sam", Some("en"))
}

/// `user` sends `text` in their private chat; the bot's next message there.
async fn say(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

/// `user` forwards `text` from `origin`; the bot's next message.
async fn forward(app: &TestApp, user: &TgUser, text: &str, origin: &ForwardOrigin) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_forwards_from(user, text, origin);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

async fn role_of(store: &Arc<dyn Store>, user: i64) -> Option<Role> {
    store.admin(user).await.unwrap().map(|a| a.role)
}

/// The audit log's role grants and revocations, oldest first, as (action, subject, detail).
async fn role_changes(store: &Arc<dyn Store>) -> Vec<(AuditAction, String, String)> {
    let mut entries: Vec<_> = store
        .audit_log(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.action, AuditAction::Granted | AuditAction::Revoked))
        .filter(|e| e.actor != Actor::System)
        .map(|e| (e.action, e.subject, e.detail))
        .collect();
    entries.reverse();
    entries
}

#[tokio::test]
async fn each_refusal_names_who_may_in_the_readers_language() {
    let app = spawn(TestDb::sqlite()).await;
    let owners_only = "抱歉，只有机器人的所有者才能管理角色。";
    let moderators_only = "抱歉，只有市局授权的审核员（及所有者）才能审核群众举报。";
    let editors_only = "抱歉，只有市局授权的编辑才能使用这个命令。";
    assert_eq!(say(&app, &zh(MODERATOR), "/admins").await.text, owners_only);
    assert_eq!(say(&app, &zh(EDITOR), "/admins grant 5 editor").await.text, owners_only);
    assert_eq!(say(&app, &zh(EDITOR), "/reports").await.text, moderators_only);
    assert_eq!(say(&app, &zh(MODERATOR), "/post").await.text, editors_only);
    assert_eq!(say(&app, &zh(3903), "/reports").await.text, moderators_only, "a citizen");
    // A moderation button pressed by an editor: the refusal names moderators.
    let card = say(&app, &zh(MODERATOR), "/reports").await;
    let id = app.fake.press(&zh(EDITOR), &card, "md:1:a");
    assert_eq!(app.fake.wait_for_answer(&id).await.as_deref(), Some(moderators_only));

    assert_eq!(
        say(&app, &en(MODERATOR), "/admins").await.text,
        "Sorry, only the bot's owners may manage roles."
    );
    assert_eq!(
        say(&app, &en(EDITOR), "/reports").await.text,
        "Sorry, only the bureau's moderators (and owners) may review citizens' reports."
    );
    assert_eq!(
        say(&app, &en(MODERATOR), "/retract 1").await.text,
        "Sorry, only the bureau's editors may use this command."
    );
    assert_eq!(app.store.admins().await.unwrap().len(), 3, "nothing changed");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_configured_owner_is_not_revoked_or_granted_here_and_admins_speaks_the_readers_language() {
    let app = spawn(TestDb::sqlite()).await;
    let listing = say(&app, &zh(OWNER), "/admins").await;
    for line in ["3900 — 所有者（配置文件）", "3901 — 编辑（授予者 系统）", "3902 — 审核员（授予者 系统）"]
    {
        assert!(listing.text.contains(line), "{line}: {}", listing.text);
    }
    let roles_line = listing.text.lines().filter(|l| l.contains(" — ")).collect::<Vec<_>>().join("\n");
    for english in ["owner", "editor", "moderator"] {
        assert!(!roles_line.contains(english), "{english} in {roles_line}");
    }
    let english = say(&app, &en(ENGLISH_OWNER), "/admins").await;
    assert!(english.text.contains("3900 — owner (configuration file)"), "{}", english.text);
    assert!(english.text.contains("3902 — moderator (granted by Pingan itself)"), "{}", english.text);

    let revoke = say(&app, &zh(OWNER), "/admins revoke 3900").await;
    assert_eq!(
        revoke.text,
        "用户 3900 是配置文件（bot.owners）中的所有者，不能在这里撤销；须由运维人员从 bot.owners 中删除。"
    );
    let revoke = say(&app, &en(ENGLISH_OWNER), "/admins revoke 3900").await;
    assert!(revoke.text.starts_with("User 3900 is an owner from the configuration file"), "{}", revoke.text);
    let grant = say(&app, &zh(OWNER), "/admins grant 3900 编辑").await;
    assert!(grant.text.contains("已拥有全部权限"), "{}", grant.text);
    assert_eq!(role_of(&app.store, OWNER).await, None, "nothing stored for a configured owner");
    assert_eq!(role_changes(&app.store).await, vec![], "nothing audited");

    // Roles are read by their Chinese labels (and 版主), and named so in the answer.
    let granted = say(&app, &zh(OWNER), "/admins grant 3905 版主").await;
    assert_eq!(granted.text, "✅ 已授予用户 3905“审核员”角色。");
    let granted = say(&app, &en(ENGLISH_OWNER), "/admins grant editor 3906").await;
    assert_eq!(granted.text, "✅ User 3906 now has the role editor.");
    assert_eq!(role_of(&app.store, 3905).await, Some(Role::Moderator));
    assert_eq!(role_of(&app.store, 3906).await, Some(Role::Editor));
    assert_eq!(say(&app, &zh(OWNER), "/admins revoke 3907").await.text, "用户 3907 没有角色。");
    app.stop().await.unwrap();
}

async fn an_owner_grants_a_role_by_forwarding_a_message_of_the_person(db: TestDb) {
    let app = spawn(db).await;
    let owner = zh(OWNER);
    let person = TgUser::new(3910, "李雷", Some("zh-hans"));

    // The role first, then the person's message, forwarded.
    let asked = say(&app, &owner, "/admins grant editor").await;
    assert!(asked.text.starts_with("要授予谁“编辑”角色？请转发"), "{}", asked.text);
    let done = forward(&app, &owner, "明天上午开会", &ForwardOrigin::User(person.clone())).await;
    assert_eq!(done.text, "✅ 已授予用户 3910 (李雷)“编辑”角色。");
    let admin = app.store.admin(3910).await.unwrap().expect("granted");
    assert_eq!((admin.role, admin.granted_by), (Role::Editor, Actor::Telegram(OWNER)));
    // The dialogue is over: the next forward is checked as any other.
    let checked = forward(&app, &owner, "你好", &ForwardOrigin::User(person.clone())).await;
    assert!(!checked.text.contains("角色"), "{}", checked.text);

    // The person first, then the role with a button.
    let asked = say(&app, &owner, "/admins grant").await;
    assert!(asked.text.starts_with("要给谁授予角色？"), "{}", asked.text);
    let second = TgUser::new(3911, "韩梅梅", None);
    let choose = forward(&app, &owner, "收到", &ForwardOrigin::User(second)).await;
    assert_eq!(choose.text, "给用户 3911 (韩梅梅) 授予哪个角色？");
    let labels: Vec<String> = choose.buttons().into_iter().flatten().map(|(label, _)| label).collect();
    assert_eq!(labels, ["编辑", "审核员", "所有者", "取消"]);
    let id = app.fake.press_labelled(&owner, &choose, "审核员");
    assert_eq!(app.fake.wait_for_answer(&id).await, None);
    let edited = app.fake.message(OWNER, choose.message_id);
    assert_eq!(edited.text, "✅ 已授予用户 3911 (韩梅梅)“审核员”角色。");
    assert_eq!(role_of(&app.store, 3911).await, Some(Role::Moderator));
    // The same button again belongs to a dialogue that has ended.
    let again = app.fake.press_labelled(&owner, &choose, "所有者");
    assert_eq!(app.fake.wait_for_answer(&again).await.as_deref(), Some("这个按钮已失效，请重新发送命令。"));
    assert_eq!(role_of(&app.store, 3911).await, Some(Role::Moderator));

    // In English, with the person named by id and the role by button.
    let choose = say(&app, &en(ENGLISH_OWNER), "/admins grant 3912").await;
    assert_eq!(choose.text, "Which role for user 3912?");
    let id = app.fake.press_labelled(&en(ENGLISH_OWNER), &choose, "owner");
    app.fake.wait_for_answer(&id).await;
    assert_eq!(
        app.fake.message(ENGLISH_OWNER, choose.message_id).text,
        "✅ User 3912 now has the role owner."
    );

    let changes = role_changes(&app.store).await;
    let granted = |user: &str, role: &str| (AuditAction::Granted, format!("user {user}"), role.to_owned());
    assert_eq!(
        changes,
        vec![granted("3910", "editor"), granted("3911", "moderator"), granted("3912", "owner")]
    );
    app.stop().await.unwrap();
}

async fn a_hidden_or_chat_origin_grants_nothing_and_says_what_to_do(db: TestDb) {
    let app = spawn(db).await;
    let owner = zh(OWNER);
    say(&app, &owner, "/admins grant moderator").await;
    let hidden = forward(&app, &owner, "我是王芳", &ForwardOrigin::HiddenUser("王芳".into())).await;
    assert!(hidden.text.starts_with("“王芳”设置了转发消息时隐藏账号"), "{}", hidden.text);
    assert!(hidden.text.contains("/start") && hidden.text.contains("@用户名"), "{}", hidden.text);
    let channel =
        ForwardOrigin::Channel { id: -1_001_234_567_890, title: "反诈频道".into(), message_id: 7 };
    let from_channel = forward(&app, &owner, "频道消息", &channel).await;
    assert!(
        from_channel.text.starts_with("这条消息是以群组或频道“反诈频道”的名义发出的"),
        "{}",
        from_channel.text
    );
    let group = ForwardOrigin::Chat { id: -1_009_876_543_210, title: "社区群".into() };
    assert!(forward(&app, &owner, "群消息", &group).await.text.contains("“社区群”"));
    let unreadable = say(&app, &owner, "就是那个人").await;
    assert!(unreadable.text.starts_with("请转发一条此人写的消息"), "{}", unreadable.text);
    assert_eq!(app.store.admins().await.unwrap().len(), 3, "nothing granted");
    assert_eq!(role_changes(&app.store).await, vec![]);

    // In English, the hidden account is explained the same way.
    let english = en(ENGLISH_OWNER);
    say(&app, &english, "/admins grant editor").await;
    let hidden = forward(&app, &english, "hi", &ForwardOrigin::HiddenUser("Wang Fang".into())).await;
    assert!(
        hidden.text.starts_with("“Wang Fang” hides their account on forwarded messages"),
        "{}",
        hidden.text
    );
    assert!(hidden.text.contains("send /start to the bot"), "{}", hidden.text);
    assert_eq!(say(&app, &english, "/cancel").await.text, "Cancelled.");
    assert_eq!(app.store.admins().await.unwrap().len(), 3, "nothing granted");
    app.stop().await.unwrap();
}

async fn an_owner_grants_by_username_once_telegram_told_it_and_forget_deletes_it(db: TestDb) {
    let app = spawn(db).await;
    let owner = zh(OWNER);
    let unknown = say(&app, &owner, "/admins grant @Li_Lei editor").await;
    assert!(unknown.text.starts_with("我还不知道 @Li_Lei 是谁"), "{}", unknown.text);
    assert!(unknown.text.contains("发送 /start"), "{}", unknown.text);
    let english = say(&app, &en(ENGLISH_OWNER), "/admins grant @li_lei editor").await;
    assert!(english.text.starts_with("I do not know @li_lei yet"), "{}", english.text);
    assert!(english.text.contains("Ask them to send /start to the bot first"), "{}", english.text);

    // The person writes to the bot: Telegram gives their username with the message.
    let person = TgUser::new(3920, "Li Lei", Some("en")).with_username("Li_Lei");
    say(&app, &person, "/start").await;
    let granted = say(&app, &owner, "/admins grant @li_lei 编辑").await;
    assert_eq!(granted.text, "✅ 已授予用户 3920 (@Li_Lei)“编辑”角色。");
    assert_eq!(role_of(&app.store, 3920).await, Some(Role::Editor));
    assert!(say(&app, &owner, "/admins").await.text.contains("3920 (@Li_Lei) — 编辑（授予者 用户 3900）"));

    // A changed username replaces the old one.
    let renamed = TgUser::new(3920, "Li Lei", Some("en")).with_username("lilei_2026");
    say(&app, &renamed, "/help").await;
    let old = say(&app, &owner, "/admins revoke @Li_Lei").await;
    assert!(old.text.starts_with("我还不知道 @Li_Lei 是谁"), "{}", old.text);
    assert_eq!(
        say(&app, &owner, "/admins revoke @LILEI_2026").await.text,
        "✅ 已收回用户 3920 (@lilei_2026) 的角色。"
    );
    assert_eq!(role_of(&app.store, 3920).await, None);

    // /forget deletes it, and says so.
    let question = say(&app, &renamed, "/forget").await;
    let id = app.fake.press(&renamed, &question, "f:1");
    app.fake.wait_for_answer(&id).await;
    let done = app.fake.message(3920, question.message_id);
    assert!(done.text.contains("· the Telegram username the bot had noted for you"), "{}", done.text);
    assert_eq!(app.store.username_of(3920).await.unwrap(), None);
    let name = Username::parse("lilei_2026").unwrap();
    assert_eq!(app.store.user_by_username(&name).await.unwrap(), None);
    let unknown = say(&app, &owner, "/admins grant @lilei_2026 editor").await;
    assert!(unknown.text.starts_with("我还不知道 @lilei_2026 是谁"), "{}", unknown.text);

    // The process remembered the username it noted (no read per message); /forget dropped
    // that too, so the next message notes it again.
    say(&app, &renamed, "/help").await;
    assert_eq!(app.store.username_of(3920).await.unwrap(), Some(name));
    app.stop().await.unwrap();
}

/// The store keeps one username per person and one person per spelling, in any case.
async fn usernames_are_kept_one_per_person_and_spelling(db: TestDb) {
    let store = db.store().await;
    let name = |s: &str| Username::parse(s).unwrap();
    store.note_username(1, Some(&name("Li_Lei"))).await.unwrap();
    store.note_username(1, Some(&name("Li_Lei"))).await.unwrap();
    assert_eq!(store.user_by_username(&name("@li_lei")).await.unwrap(), Some((1, name("Li_Lei"))));
    assert_eq!(store.username_of(1).await.unwrap(), Some(name("Li_Lei")));
    // Renamed: the old spelling is nobody's.
    store.note_username(1, Some(&name("lilei_new"))).await.unwrap();
    assert_eq!(store.user_by_username(&name("Li_Lei")).await.unwrap(), None);
    // A spelling given up and taken by someone else moves to them.
    store.note_username(2, Some(&name("LILEI_NEW"))).await.unwrap();
    assert_eq!(store.user_by_username(&name("lilei_new")).await.unwrap(), Some((2, name("LILEI_NEW"))));
    assert_eq!(store.username_of(1).await.unwrap(), None);
    // No username any more: deleted.
    store.note_username(2, None).await.unwrap();
    assert_eq!(store.username_of(2).await.unwrap(), None);
    assert_eq!(store.user_by_username(&name("lilei_new")).await.unwrap(), None);
    // /forget deletes it, and says so.
    store.note_username(3, Some(&name("wang_fang"))).await.unwrap();
    let forgotten = store.forget(pingan::domain::ChatId(3), Some(3)).await.unwrap();
    assert!(forgotten.username);
    assert_eq!(store.username_of(3).await.unwrap(), None);
}

on_both_backends!(
    usernames_are_kept_one_per_person_and_spelling,
    an_owner_grants_a_role_by_forwarding_a_message_of_the_person,
    a_hidden_or_chat_origin_grants_nothing_and_says_what_to_do,
    an_owner_grants_by_username_once_telegram_told_it_and_forget_deletes_it,
);
