//! The bot end to end: the real `run` path, long-polling a fake Bot API.

use std::sync::Arc;

use pingan::bot::command::{Audience, COMMANDS, CommandSpec};
use pingan::clock::SystemClock;
use pingan::domain::{Actor, Role};

use crate::support::fake_telegram::{Fault, FaultRule, TgUser};
use crate::support::test_app::{spawn_app, spawn_app_with};
use crate::support::test_db::TestDb;

#[tokio::test]
async fn a_chinese_user_gets_the_chinese_welcome() {
    let app = spawn_app().await;
    let user = TgUser::new(1001, "小王", Some("zh-hans"));
    app.fake.user_sends(&user, "/start");
    let reply = &app.fake.wait_for_sent(1001, 1).await[0];
    assert!(reply.text.starts_with("小王，您好！这里是「平安」"), "{}", reply.text);
    assert!(reply.text.contains("96110") && reply.text.contains("110"));
    assert_eq!(reply.parse_mode.as_deref(), Some("HTML"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_english_user_gets_the_english_welcome() {
    let app = spawn_app().await;
    app.fake.user_sends(&TgUser::new(1002, "Alice", Some("en")), "/start");
    let reply = &app.fake.wait_for_sent(1002, 1).await[0];
    assert!(reply.text.starts_with("Hello, Alice! This is Pingan"), "{}", reply.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn other_languages_get_english_and_no_language_gets_the_default() {
    let app = spawn_app().await;
    app.fake.user_sends(&TgUser::new(1003, "Jonas", Some("de")), "/start");
    app.fake.user_sends(&TgUser::new(1004, "匿名", None), "/start");
    assert!(app.fake.wait_for_sent(1003, 1).await[0].text.starts_with("Hello, Jonas!"));
    assert!(app.fake.wait_for_sent(1004, 1).await[0].text.starts_with("匿名，您好！"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn help_lists_every_command_in_the_users_language() {
    let app = spawn_app().await;
    app.fake.user_sends(&TgUser::new(1005, "A", Some("en")), "/help");
    app.fake.user_sends(&TgUser::new(1006, "B", Some("zh")), "/help");
    let en = &app.fake.wait_for_sent(1005, 1).await[0].text;
    let zh = &app.fake.wait_for_sent(1006, 1).await[0].text;
    for command in citizens_commands() {
        assert!(en.contains(&format!("/{} — ", command.name)), "{en}");
        assert!(zh.contains(&format!("/{} — ", command.name)), "{zh}");
    }
    assert!(en.contains("List all commands") && zh.contains("查看全部命令"));
    assert!(en.contains(&format!("/help@{}", app.fake.bot_username())));
    assert!(!en.contains("Editor tools") && !en.contains("/post"), "citizens do not see editor tools");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_command_menu_is_registered_in_chinese_english_and_by_default() {
    let app = spawn_app().await;
    let names = |lang: &str| -> Vec<String> {
        app.fake.commands("default", lang).unwrap_or_default().into_iter().map(|(c, _)| c).collect()
    };
    // The citizens' menu; staff get chat-scoped menus of their own (deep_links.rs).
    let expected: Vec<String> = citizens_commands().map(|c| c.name.to_owned()).collect();
    assert_eq!(names("zh"), expected);
    assert_eq!(names("en"), expected);
    assert_eq!(names(""), expected);
    let zh = app.fake.commands("default", "zh").unwrap();
    let default = app.fake.commands("default", "").unwrap();
    assert_eq!(zh, default, "the default menu is in the default language, Chinese");
    let en = app.fake.commands("default", "en").unwrap();
    assert!(en.contains(&("help".to_owned(), "List all commands".to_owned())), "{en:?}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn editors_see_their_tools_in_help() {
    let app = spawn_app().await;
    app.store.grant(2001, Role::Editor, &Actor::System, chrono::Utc::now()).await.unwrap();
    app.fake.user_sends(&TgUser::new(2001, "Editor", Some("en")), "/help");
    let reply = &app.fake.wait_for_sent(2001, 1).await[0];
    assert!(reply.text.contains("Editor tools"), "{}", reply.text);
    for command in COMMANDS {
        let listed = reply.text.contains(&format!("/{} — ", command.name));
        let for_editors = matches!(command.audience, Audience::Everyone | Audience::Editors);
        assert_eq!(listed, for_editors, "/{}: {}", command.name, reply.text);
    }
    assert!(!reply.text.contains("Owner tools"));
    app.stop().await.unwrap();
}

fn citizens_commands() -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS.iter().filter(|c| c.audience == Audience::Everyone)
}

#[tokio::test]
async fn an_unknown_command_gets_a_short_help() {
    let app = spawn_app().await;
    app.fake.user_sends(&TgUser::new(1007, "A", Some("en")), "/frobnicate now");
    let reply = &app.fake.wait_for_sent(1007, 1).await[0];
    assert!(reply.text.starts_with("There is no command /frobnicate."), "{}", reply.text);
    assert!(reply.text.contains("/help — "));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn plain_text_gets_a_hint_in_private() {
    let app = spawn_app().await;
    app.fake.user_sends(&TgUser::new(1008, "A", Some("zh")), "有人让我刷单");
    let reply = &app.fake.wait_for_sent(1008, 1).await[0];
    assert!(reply.text.contains("/help"), "{}", reply.text);
    app.stop().await.unwrap();
}

/// In a group Pingan answers only what is meant for it. Updates from one chat are
/// handled in order, so once the reply to the last command is in, the earlier messages
/// have been handled too: any answer to them would already be there.
#[tokio::test]
async fn in_groups_only_commands_for_this_bot_are_answered() {
    let app = spawn_app().await;
    let group = -1_001_000_000_001;
    let member = TgUser::new(1009, "Member", Some("en"));
    let bot = app.fake.bot_username();
    for text in ["hello everyone", "/frobnicate", "/start@another_bot", &format!("/frobnicate@{bot}")] {
        app.fake.group_member_sends(group, &member, text, None);
    }
    app.fake.group_member_sends(group, &member, &format!("/help@{bot}"), None);
    app.fake
        .wait_for("the answer to /help", |s| {
            s.sent.iter().any(|m| m.text.starts_with("Commands")).then_some(())
        })
        .await;
    let replies = app.fake.sent_to(group);
    assert_eq!(replies.len(), 2, "{replies:#?}");
    assert!(replies[0].text.starts_with("There is no command /frobnicate."));
    assert!(replies[1].text.starts_with("Commands"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_reply_goes_into_the_forum_topic_it_was_asked_in() {
    let app = spawn_app().await;
    let forum = -1_001_000_000_002;
    let bot = app.fake.bot_username();
    app.fake.group_member_sends(
        forum,
        &TgUser::new(1010, "M", Some("en")),
        &format!("/help@{bot}"),
        Some(77),
    );
    let reply = &app.fake.wait_for_sent(forum, 1).await[0];
    assert_eq!(reply.thread_id, Some(77));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn markup_in_a_users_name_is_shown_literally_and_telegram_accepts_it() {
    let app = spawn_app().await;
    let user = TgUser::new(1011, "<b>x</b> & <script>", Some("en"));
    app.fake.user_sends(&user, "/start");
    let reply = &app.fake.wait_for_sent(1011, 1).await[0];
    assert!(reply.text.starts_with("Hello, <b>x</b> & <script>! This is Pingan"), "{}", reply.text);
    assert!(reply.raw.contains("&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_reply_that_gets_429_is_sent_again_after_retry_after() {
    let app = spawn_app().await;
    app.fake.add_fault(FaultRule::on("sendMessage", Fault::RetryAfter(1)).chat(1012).times(1));
    app.fake.user_sends(&TgUser::new(1012, "A", Some("en")), "/help");
    let replies = app.fake.wait_for_sent(1012, 1).await;
    assert_eq!(replies.len(), 1);
    let attempts: Vec<u16> = app.fake.calls_of("sendMessage").iter().map(|c| c.status).collect();
    assert_eq!(attempts, [429, 200]);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn many_chats_are_answered_and_the_app_stops_cleanly() {
    let app = spawn_app().await;
    for i in 0..50 {
        let lang = if i % 2 == 0 { "zh" } else { "en" };
        app.fake.user_sends(&TgUser::new(3000 + i, "U", Some(lang)), "/start");
    }
    app.fake.wait_for("50 welcomes", |s| (s.sent.len() >= 50).then_some(())).await;
    for i in 0..50 {
        let replies = app.fake.sent_to(3000 + i);
        assert_eq!(replies.len(), 1, "chat {}", 3000 + i);
        let chinese = replies[0].text.contains("您好");
        assert_eq!(chinese, i % 2 == 0);
    }
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(10), app.stop()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
}

#[tokio::test]
async fn the_bot_runs_on_postgresql_too() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    app.fake.user_sends(&TgUser::new(1013, "Pg", Some("en")), "/start");
    assert!(app.fake.wait_for_sent(1013, 1).await[0].text.starts_with("Hello, Pg!"));
    app.stop().await.unwrap();
}
