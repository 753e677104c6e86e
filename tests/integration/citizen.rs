//! The citizens' commands end to end, in Chinese and English, over the fake Bot API.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use pingan::clock::ManualClock;
use pingan::domain::{
    Actor, Area, Body, Category, ChatId, Frequency, Language, NewNotice, Notice, NoticeContent, Publication,
    Severity, Title,
};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app, spawn_app_with};
use crate::support::test_db::TestDb;

fn zh(id: i64) -> TgUser {
    TgUser::new(id, "小李", Some("zh-hans"))
}

fn en(id: i64) -> TgUser {
    TgUser::new(id, "Sam", Some("en"))
}

async fn demo(app: &TestApp) {
    pingan::content::demo::load_demo_notices(app.store.as_ref(), Utc::now()).await.unwrap();
}

async fn add_notice(app: &TestApp, title: &str, body: &str, language: Language, minutes_ago: i64) -> Notice {
    let content = NoticeContent {
        districts: Default::default(),
        title: Title::parse(title).unwrap(),
        body: Body::parse(body).unwrap(),
        category: Category::Fraud,
        severity: Severity::Moderate,
        area: Some(Area::parse("全市").unwrap()),
        language,
        source: None,
    };
    let now = Utc::now();
    let published = Publication::At(now - Duration::minutes(minutes_ago));
    let notice = NewNotice::new(content, published, None, Actor::System, now).unwrap();
    app.store.insert_notice(&notice).await.unwrap()
}

/// Sends `text` and waits for the bot's next message in that chat.
async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    ask_in(app, user.id, user, text, None).await
}

async fn ask_in(app: &TestApp, chat: i64, user: &TgUser, text: &str, thread: Option<i32>) -> SentMessage {
    let before = app.fake.sent_to(chat).len();
    if chat == user.id {
        app.fake.user_sends(user, text);
    } else {
        app.fake.group_member_sends(chat, user, text, thread);
    }
    app.fake.wait_for_sent(chat, before + 1).await.remove(before)
}

/// Presses a button and waits for the press to be answered; returns the answer's text.
async fn press(app: &TestApp, user: &TgUser, message: &SentMessage, label: &str) -> Option<String> {
    let id = app.fake.press_labelled(user, message, label);
    app.fake.wait_for_answer(&id).await
}

fn labels(message: &SentMessage) -> Vec<String> {
    message.buttons().into_iter().flatten().map(|(label, _)| label).collect()
}

#[tokio::test]
async fn latest_pages_in_place_and_its_buttons_open_notices() {
    let app = spawn_app().await;
    for i in 1..=12 {
        add_notice(&app, &format!("第{i}号通告"), &format!("第{i}号通告的正文。"), Language::Zh, 100 - i)
            .await;
    }
    let user = zh(4001);
    let list = ask(&app, &user, "/latest").await;
    assert!(list.text.contains("最新通告（第 1/3 页）"), "{}", list.text);
    assert!(
        list.text.contains("第12号通告")
            && list.text.contains("第8号通告")
            && !list.text.contains("第7号通告")
    );
    assert_eq!(labels(&list).len(), 5 + 2, "five notices, then the page and ▶");
    assert_eq!(labels(&list)[5..], ["1/3", "下一页 ▶"]);

    assert_eq!(press(&app, &user, &list, "下一页").await, None);
    let page2 = app.fake.message(4001, list.message_id);
    assert_eq!(page2.edits, 1);
    assert!(
        page2.text.contains("第 2/3 页")
            && page2.text.contains("第7号通告")
            && page2.text.contains("第3号通告")
    );
    assert_eq!(labels(&page2)[5..], ["◀ 上一页", "2/3", "下一页 ▶"]);

    press(&app, &user, &page2, "下一页").await;
    let page3 = app.fake.message(4001, list.message_id);
    assert!(page3.text.contains("第 3/3 页") && page3.text.contains("第1号通告"));
    assert_eq!(labels(&page3)[2..], ["◀ 上一页", "3/3"]);

    press(&app, &user, &page3, "上一页").await;
    let back = app.fake.message(4001, list.message_id);
    assert!(back.text.contains("第 2/3 页"));

    press(&app, &user, &back, "第5号通告").await;
    let opened = app.fake.wait_for_sent(4001, 2).await;
    assert!(opened[1].text.contains("第5号通告的正文。"), "{}", opened[1].text);
    assert_eq!(app.fake.sent_to(4001).len(), 2, "paging edits in place; opening adds one message");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn latest_shows_notices_in_the_users_language_or_says_there_are_none() {
    let app = spawn_app().await;
    let empty = ask(&app, &en(4002), "/latest").await;
    assert_eq!(empty.text, "There are no notices at the moment.");
    demo(&app).await;
    let list = ask(&app, &en(4002), "/latest").await;
    assert!(list.text.starts_with("Latest notices (page 1 of 2)"), "{}", list.text);
    assert!(list.text.contains("Icy roads") && !list.text.contains("路面"), "{}", list.text);
    let chinese = ask(&app, &zh(4003), "/latest").await;
    assert!(chinese.text.contains("冬季路面易结冰") && !chinese.text.contains("Icy roads"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_notice_is_shown_in_full_and_unknown_retracted_and_expired_ones_are_explained() {
    let start = Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(TestDb::sqlite(), clock.clone(), &[]).await;
    let content = |title: &str| NoticeContent {
        districts: Default::default(),
        title: Title::parse(title).unwrap(),
        body: Body::parse("请提高警惕。").unwrap(),
        category: Category::PublicOrder,
        severity: Severity::Minor,
        area: None,
        language: Language::Zh,
        source: None,
    };
    let add = |title: &str, publication, expires: Option<DateTime<Utc>>| {
        let store = app.store.clone();
        let notice = NewNotice::new(content(title), publication, expires, Actor::System, start).unwrap();
        async move { store.insert_notice(&notice).await.unwrap().id.0 }
    };
    let shown = add("节日安全提示", Publication::Now, None).await;
    let expiring = add("限时提示", Publication::Now, Some(start + Duration::hours(1))).await;
    let draft = add("草稿", Publication::Draft, None).await;
    let retracted = add("已撤回的通告", Publication::Now, None).await;
    sqlx::query("UPDATE notices SET status = 'retracted' WHERE id = $1")
        .bind(retracted)
        .execute(&mut sqlx::SqliteConnection::connect(app.db.url()).await.unwrap())
        .await
        .unwrap();

    let user = zh(4004);
    let full = ask(&app, &user, &format!("/notice {shown}")).await;
    assert!(
        full.text.starts_with("🔵 节日安全提示\n一般 · 治安 · 全市 · 2026年11月28日 10:00"),
        "{}",
        full.text
    );
    assert!(full.text.contains("请提高警惕。") && full.text.ends_with(&format!("通告编号 {shown}")));
    assert_eq!(
        ask(&app, &user, "/notice 9999").await.text,
        "没有找到编号为 9999 的通告。发送 /latest 查看最新通告。"
    );
    assert!(
        ask(&app, &user, &format!("/notice {draft}")).await.text.starts_with("没有找到"),
        "drafts stay hidden"
    );
    assert!(ask(&app, &user, &format!("/notice {retracted}")).await.text.contains("已撤回"));
    clock.advance(Duration::hours(2));
    assert!(ask(&app, &user, &format!("/notice #{expiring}")).await.text.contains("已过期"));
    assert!(ask(&app, &user, "/notice abc").await.text.starts_with("请在命令后写上通告编号"));
    let english = ask(&app, &en(4005), "/notice 9999").await;
    assert_eq!(english.text, "There is no notice number 9999. Send /latest for the newest notices.");
    app.stop().await.unwrap();
}

use sqlx::Connection;

#[tokio::test]
async fn a_10000_character_notice_arrives_in_parts_that_add_up_to_it() {
    let app = spawn_app().await;
    let paragraph =
        "接到自称客服的电话，对方说出了你的订单号，要你开启屏幕共享办理退款。这是诈骗，请立即挂断。";
    let mut body = String::new();
    while body.chars().count() < 10_000 {
        body.push_str(paragraph);
        body.push_str("\n\n");
    }
    let body: String = body.chars().take(10_000).collect();
    let notice = add_notice(&app, "长通告", &body, Language::Zh, 1).await;
    let user = zh(4006);
    app.fake.user_sends(&user, &format!("/notice {}", notice.id));
    let parts = app
        .fake
        .wait_for("every part of the notice", |s| {
            let sent: Vec<SentMessage> = s.sent.iter().filter(|m| m.chat_id == 4006).cloned().collect();
            sent.last().is_some_and(|m| m.text.contains("通告编号")).then_some(sent)
        })
        .await;
    assert!(parts.len() >= 3, "{} parts", parts.len());
    for part in &parts {
        assert!(part.text.encode_utf16().count() <= 4096, "{} units", part.text.encode_utf16().count());
    }
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let joined = squeeze(&parts.iter().map(|p| p.text.as_str()).collect::<String>());
    let expected_body = squeeze(body.trim());
    assert!(joined.contains(&expected_body), "the parts together hold the whole body, in order");
    assert!(
        joined.starts_with(&squeeze("🟡 长通告"))
            && joined.ends_with(&squeeze(&format!("通告编号 {}", notice.id)))
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_title_with_markup_is_shown_literally_and_telegram_accepts_it() {
    let app = spawn_app().await;
    let notice = add_notice(&app, "<b>x</b> & <script>", "正文 <i>也</i> & 照原样", Language::Zh, 1).await;
    let user = zh(4007);
    let list = ask(&app, &user, "/latest").await;
    assert!(list.text.contains("<b>x</b> & <script>"), "{}", list.text);
    assert!(list.raw.contains("&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;"));
    let full = ask(&app, &user, &format!("/notice {}", notice.id)).await;
    assert!(full.text.contains("<b>x</b> & <script>") && full.text.contains("正文 <i>也</i> & 照原样"));
    let search = ask(&app, &user, "/search script").await;
    assert!(search.text.contains("<b>x</b> & <script>"), "{}", search.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn search_finds_chinese_and_english_words_pages_and_opens_results() {
    let app = spawn_app().await;
    demo(&app).await;
    let user = zh(4008);
    let results = ask(&app, &user, "/search 诈骗").await;
    assert!(results.text.starts_with("搜索“诈骗”：找到"), "{}", results.text);
    let first_page: Vec<&str> = results.text.split("\n\n").skip(1).collect();
    assert_eq!(first_page.len(), 5);
    assert!(first_page.iter().all(|item| !item.contains("💡")), "notices come before tips: {first_page:?}");
    assert!(first_page.iter().any(|item| item.contains("电信网络诈骗立案下降4.79%")));
    assert!(labels(&results).contains(&"下一页 ▶".to_owned()));

    press(&app, &user, &results, "下一页").await;
    let page2 = app.fake.message(4008, results.message_id);
    assert!(page2.text.contains("💡"), "tips follow the notices: {}", page2.text);
    press(&app, &user, &page2, "刷单兼职").await;
    let opened = app.fake.wait_for_sent(4008, 2).await;
    assert!(opened[1].text.contains("96110"), "{}", opened[1].text);

    let english = ask(&app, &en(4009), "/search fraud").await;
    assert!(english.text.starts_with("Search “fraud”:"), "{}", english.text);
    assert!(english.text.contains("Telecom fraud cases down 4.79%"), "{}", english.text);
    assert!(ask(&app, &user, "/search").await.text.starts_with("请在命令后写上要搜索的词"));
    assert!(ask(&app, &user, "/search ？！").await.text.contains("没有可以搜索的字词"));
    assert!(
        ask(&app, &en(4009), "/search earthquake").await.text.starts_with("Nothing found for “earthquake”")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_tip_of_the_day_is_the_same_for_everyone_that_day_in_their_language() {
    let app = spawn_app().await;
    let first = ask(&app, &zh(4010), "/tip").await;
    let second = ask(&app, &zh(4011), "/tip").await;
    assert_eq!(first.text, second.text);
    assert!(first.text.starts_with("💡 今日防骗提示 · "), "{}", first.text);
    assert!(
        first.text.contains("【骗子怎么骗】")
            && first.text.contains("【怎么办】")
            && first.text.contains("96110")
    );
    let english = ask(&app, &en(4012), "/tip").await;
    assert!(english.text.starts_with("💡 Today's anti-fraud tip · ") && english.text.contains("What to do"));

    press(&app, &zh(4010), &first, "更多防骗提示").await;
    let menu = app.fake.wait_for_sent(4010, 2).await.remove(1);
    assert_eq!(labels(&menu).len(), pingan::domain::ScamType::ALL.len());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn tips_are_browsed_by_scam_type_in_both_languages() {
    let app = spawn_app().await;
    for (user, kind, back, title) in [
        (zh(4013), "刷单返利", "◀ 全部类型", "刷单兼职，都是诈骗"),
        (en(4014), "Fake police or officials", "◀ All types", "no “safe account”"),
    ] {
        let menu = ask(&app, &user, "/tips").await;
        assert_eq!(labels(&menu).len(), 14, "{:?}", labels(&menu));
        press(&app, &user, &menu, kind).await;
        let shown = app.fake.message(user.id, menu.message_id);
        assert!(shown.text.starts_with(kind) && shown.text.contains(title), "{}", shown.text);
        press(&app, &user, &shown, back).await;
        assert_eq!(labels(&app.fake.message(user.id, menu.message_id)).len(), 14);
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn subscribing_and_changing_settings_with_buttons_and_arguments() {
    let app = spawn_app().await;
    let user = zh(4015);
    let chat = ChatId(4015);
    let done = ask(&app, &user, "/subscribe").await;
    assert!(
        done.text.starts_with("✅ 订阅成功") && done.text.contains("每天 08:00（北京时间 UTC+8）"),
        "{}",
        done.text
    );
    let stored = app.store.subscriber(chat).await.unwrap().unwrap();
    assert!(stored.subscribed);
    assert_eq!((stored.frequency, stored.language), (Frequency::Daily, Language::Zh));
    assert!(ask(&app, &user, "/subscribe").await.text.starts_with("您已经订阅了"));

    let screen = ask(&app, &user, "/settings").await;
    press(&app, &user, &screen, "频率").await;
    let menu = app.fake.message(4015, screen.message_id);
    press(&app, &user, &menu, "每周").await;
    let days = app.fake.message(4015, screen.message_id);
    assert_eq!(press(&app, &user, &days, "周五").await.as_deref(), Some("✅ 已保存"));
    let stored = app.store.subscriber(chat).await.unwrap().unwrap();
    assert_eq!(stored.frequency, Frequency::Weekly(Weekday::Fri));
    let main = app.fake.message(4015, screen.message_id);
    assert!(main.text.contains("每周五 08:00"), "{}", main.text);
    press(&app, &user, &main, "时间").await;
    press(&app, &user, &app.fake.message(4015, screen.message_id), "07:30").await;
    press(&app, &user, &app.fake.message(4015, screen.message_id), "分类").await;
    press(&app, &user, &app.fake.message(4015, screen.message_id), "反诈").await;
    let categories = app.fake.message(4015, screen.message_id);
    assert!(labels(&categories).contains(&"✅ 反诈".to_owned()), "{:?}", labels(&categories));

    assert!(ask(&app, &user, "/settings tz Europe/Berlin").await.text.contains("（柏林 UTC+"));
    let suggestion = ask(&app, &user, "/settings tz Asia/Shangai").await;
    assert!(suggestion.text.contains("您是不是想找 Asia/Shanghai"), "{}", suggestion.text);
    ask(&app, &user, "/settings include 刷单").await;
    let stored = app.store.subscriber(chat).await.unwrap().unwrap();
    assert_eq!(stored.digest_time.to_string(), "07:30");
    assert_eq!(stored.time_zone, chrono_tz::Europe::Berlin, "the near miss changed nothing");
    assert!(stored.categories.contains(&Category::Fraud));
    assert_eq!(stored.include_keywords[0].as_str(), "刷单");

    let off = ask(&app, &user, "/unsubscribe").await;
    assert!(off.text.contains("/subscribe"));
    assert!(
        !app.store.subscriber(chat).await.unwrap().unwrap().subscribed,
        "settings stay, subscription stops"
    );

    let english = en(4016);
    assert!(ask(&app, &english, "/subscribe").await.text.starts_with("✅ Subscribed."));
    assert!(ask(&app, &english, "/settings time 25:00").await.text.contains("“25:00” is not a time"));
    assert!(ask(&app, &english, "/settings colour blue").await.text.starts_with("Usage:"));
    assert!(ask(&app, &english, "/unsubscribe").await.text.starts_with("Unsubscribed"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn in_a_group_only_administrators_change_the_subscription_and_a_topic_keeps_it() {
    let app = spawn_app().await;
    let group = -1_001_000_004_017;
    let (admin, member) = (en(4017), en(4018));
    app.fake.set_admins(group, &[admin.id]);
    let bot = app.fake.bot_username();

    let refused = ask_in(&app, group, &member, &format!("/subscribe@{bot}"), None).await;
    assert_eq!(refused.text, "Only the group's administrators can change its subscription.");
    assert_eq!(app.store.subscriber(ChatId(group)).await.unwrap(), None);

    let done = ask_in(&app, group, &admin, &format!("/subscribe@{bot}"), Some(42)).await;
    assert!(done.text.starts_with("✅ Subscribed."), "{}", done.text);
    assert_eq!(done.thread_id, Some(42), "the answer goes into the topic");
    let stored = app.store.subscriber(ChatId(group)).await.unwrap().unwrap();
    assert_eq!((stored.thread_id, stored.user_id), (Some(42), Some(admin.id)));

    let answer = press(&app, &member, &done, "Settings").await;
    assert_eq!(answer, None, "anyone may look at the settings");
    let screen = app.fake.message(group, done.message_id);
    let refused = press(&app, &member, &screen, "Unsubscribe").await;
    assert_eq!(refused.as_deref(), Some("Only the group's administrators can change its subscription."));
    assert!(app.store.subscriber(ChatId(group)).await.unwrap().unwrap().subscribed);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn lang_switches_the_language_of_every_reply() {
    let app = spawn_app().await;
    let user = zh(4019);
    let switched = ask(&app, &user, "/lang en").await;
    assert!(
        switched.text.starts_with("✅ Saved") && switched.text.contains("Language: English"),
        "{}",
        switched.text
    );
    assert!(ask(&app, &user, "/help").await.text.starts_with("Commands"));
    assert!(ask(&app, &user, "/lang fr").await.text.contains("“fr” is not one of the languages"));
    let menu = ask(&app, &user, "/lang").await;
    press(&app, &user, &menu, "中文").await;
    assert!(ask(&app, &user, "/help").await.text.starts_with("可用命令"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn about_names_the_publisher_and_the_numbers_in_both_languages() {
    let app = spawn_app().await;
    let chinese = ask(&app, &zh(4020), "/about").await;
    assert!(
        chinese.text.contains("由市公安局运营")
            && chinese.text.contains("110")
            && chinese.text.contains("96110")
    );
    let english = ask(&app, &en(4021), "/about").await;
    assert!(
        english.text.contains("run by the City Public Security Bureau") && english.text.contains("96110")
    );
    assert!(english.text.contains(env!("CARGO_PKG_VERSION")));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn forget_deletes_only_after_confirmation_and_says_what_it_deleted() {
    let app = spawn_app().await;
    let user = zh(4022);
    ask(&app, &user, "/subscribe").await;
    let question = ask(&app, &user, "/forget").await;
    assert_eq!(labels(&question), ["确认删除", "取消"]);
    press(&app, &user, &question, "取消").await;
    assert_eq!(app.fake.message(4022, question.message_id).text, "已取消，什么都没有删除。");
    assert!(app.store.subscriber(ChatId(4022)).await.unwrap().is_some());

    let question = ask(&app, &user, "/forget").await;
    press(&app, &user, &question, "确认删除").await;
    let done = app.fake.message(4022, question.message_id);
    assert!(
        done.text.starts_with("✅ 已删除：") && done.text.contains("本聊天的订阅和设置"),
        "{}",
        done.text
    );
    assert_eq!(app.store.subscriber(ChatId(4022)).await.unwrap(), None);

    let english = en(4023);
    let question = ask(&app, &english, "/forget").await;
    press(&app, &english, &question, "Delete").await;
    assert_eq!(
        app.fake.message(4023, question.message_id).text,
        "There was nothing about this chat or about you for /forget to delete."
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn every_command_answers_in_chinese_and_in_english() {
    let app = spawn_app().await;
    demo(&app).await;
    for (i, spec) in pingan::bot::command::COMMANDS.iter().enumerate() {
        let text = format!("/{}", spec.name);
        let chinese = ask(&app, &zh(4100 + i as i64), &text).await;
        let english = ask(&app, &en(4200 + i as i64), &text).await;
        assert_ne!(chinese.text, english.text, "{text} answers each in their language");
        let has_han = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        assert!(has_han(&chinese.text), "{text}: {}", chinese.text);
        if !matches!(spec.name, "start" | "about" | "lang" | "tip") {
            assert!(!has_han(&english.text), "{text} in English: {}", english.text);
        }
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_outdated_button_gets_an_answer_not_a_silence() {
    let app = spawn_app().await;
    let user = zh(4024);
    let menu = ask(&app, &user, "/tips").await;
    let id = app.fake.press(&user, &menu, "l:not-a-page");
    assert_eq!(app.fake.wait_for_answer(&id).await.as_deref(), Some("这个按钮已失效，请重新发送命令。"));
    app.stop().await.unwrap();
}
