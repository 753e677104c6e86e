//! Settings and forms as people write them (issue 13, parts 2 and 3), over the fake Bot
//! API: time zones by offset and city name with the sign people mean, times of day in
//! Chinese and 12-hour forms, every label the interface shows accepted back, keyword
//! lists split on commas and spaces, and every bad line of a `/post` form named at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use pingan::clock::{ManualClock, SystemClock};
use pingan::domain::{Category, ChatId, Frequency, Language, Severity, Subscriber};
use pingan::store::NoticeQuery;

use crate::delivery::FAST;
use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app, spawn_app_with};
use crate::support::test_db::TestDb;

fn zh(id: i64) -> TgUser {
    TgUser::new(id, "小王", Some("zh-hans"))
}

fn en(id: i64) -> TgUser {
    TgUser::new(id, "Alex", Some("en"))
}

async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

async fn stored(app: &TestApp, user: &TgUser) -> Subscriber {
    app.store.subscriber(ChatId(user.id)).await.unwrap().expect("a subscriber")
}

/// When the store has the chat's next digest due (the scheduler's own column).
async fn due(app: &TestApp, user: &TgUser) -> DateTime<Utc> {
    let far = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let due = app.store.due_digests(far, 1000).await.unwrap();
    due.into_iter().find(|(s, _)| s.chat_id == ChatId(user.id)).map(|(_, at)| at).expect("a digest due")
}

/// `/settings tz GMT+8` (zh) and `UTC+8` (en) on 1 December 2026 at 10:00 in Beijing: the
/// 08:00 digest is due at 00:00 UTC the next day, and arrives then. Before the fix GMT+8
/// was stored as IANA's `Etc/GMT+8` (UTC−8) and the digest was due at 16:00 UTC.
async fn gmt_plus_8_digests_come_at_eight_in_beijing(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(db, clock.clone(), FAST).await;
    let eight_in_beijing = Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap();

    let chinese = zh(6001);
    ask(&app, &chinese, "/subscribe").await;
    ask(&app, &chinese, "/settings tz 伦敦").await;
    assert_eq!(stored(&app, &chinese).await.time_zone, chrono_tz::Europe::London);
    let saved = ask(&app, &chinese, "/settings tz GMT+8").await;
    assert!(
        saved.text.starts_with("✅ 已保存\nUTC+8 按 北京时间 UTC+8（Asia/Shanghai）保存"),
        "{}",
        saved.text
    );
    assert!(saved.text.contains("摘要：每天 08:00（北京时间 UTC+8）"), "{}", saved.text);
    assert_eq!(stored(&app, &chinese).await.time_zone, chrono_tz::Asia::Shanghai);
    assert_eq!(due(&app, &chinese).await, eight_in_beijing);

    let english = en(6002);
    ask(&app, &english, "/subscribe").await;
    ask(&app, &english, "/settings tz London").await;
    let saved = ask(&app, &english, "/settings tz UTC+8").await;
    assert!(saved.text.contains("UTC+8 is saved as Beijing UTC+8 (Asia/Shanghai)"), "{}", saved.text);
    assert!(saved.text.contains("Digest: daily at 08:00 (Beijing UTC+8)"), "{}", saved.text);
    assert_eq!(due(&app, &english).await, eight_in_beijing);

    clock.set(eight_in_beijing);
    let digest = app.fake.wait_for_sent(chinese.id, 4).await.remove(3);
    assert!(digest.text.starts_with("📰 平安每日摘要 · 2026年12月2日"), "{}", digest.text);
    let digest = app.fake.wait_for_sent(english.id, 4).await.remove(3);
    assert!(digest.text.starts_with("📰 Pingan daily digest"), "{}", digest.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn gmt_plus_8_digests_come_at_eight_in_beijing_on_sqlite() {
    gmt_plus_8_digests_come_at_eight_in_beijing(TestDb::sqlite()).await;
}

#[tokio::test]
async fn gmt_plus_8_digests_come_at_eight_in_beijing_on_postgresql() {
    let Some(db) = TestDb::postgres().await else { return };
    gmt_plus_8_digests_come_at_eight_in_beijing(db).await;
}

#[tokio::test]
async fn zones_and_times_are_read_as_people_write_them_in_both_languages() {
    let app = spawn_app().await;
    let chinese = zh(6011);
    let english = en(6012);
    for user in [&chinese, &english] {
        ask(&app, user, "/subscribe").await;
    }
    let zones: [(&TgUser, &str, Tz); 14] = [
        (&chinese, "GMT+8", chrono_tz::Asia::Shanghai),
        (&chinese, "东京", chrono_tz::Asia::Tokyo),
        (&chinese, "UTC+8", chrono_tz::Asia::Shanghai),
        (&chinese, "柏林", chrono_tz::Europe::Berlin),
        (&chinese, "+08:00", chrono_tz::Asia::Shanghai),
        (&chinese, "纽约", chrono_tz::America::New_York),
        (&chinese, "北京时间", chrono_tz::Asia::Shanghai),
        (&english, "Berlin", chrono_tz::Europe::Berlin),
        (&english, "北京", chrono_tz::Asia::Shanghai),
        (&english, "UTC-5", chrono_tz::America::New_York),
        (&english, "ＵＴＣ＋８", chrono_tz::Asia::Shanghai),
        (&english, "Tokyo", chrono_tz::Asia::Tokyo),
        (&english, "Beijing UTC+8", chrono_tz::Asia::Shanghai),
        (&chinese, "东京 UTC+9", chrono_tz::Asia::Tokyo),
    ];
    for (user, typed, zone) in zones {
        let reply = ask(&app, user, &format!("/settings tz {typed}")).await;
        assert_eq!(stored(&app, user).await.time_zone, zone, "{typed}: {}", reply.text);
    }
    let times = [
        (&chinese, "7点半", "07:30"),
        (&chinese, "下午3点", "15:00"),
        (&chinese, "19:30", "19:30"),
        (&chinese, "０７：３０", "07:30"),
        (&english, "7:30pm", "19:30"),
        (&english, "7 am", "07:00"),
        (&english, "晚上8点", "20:00"),
    ];
    for (user, typed, expected) in times {
        let reply = ask(&app, user, &format!("/settings time {typed}")).await;
        assert_eq!(stored(&app, user).await.digest_time.to_string(), expected, "{typed}: {}", reply.text);
    }
    let refused = ask(&app, &chinese, "/settings tz 火星").await;
    assert!(refused.text.contains("UTC+8、GMT-5"), "{}", refused.text);
    let refused = ask(&app, &english, "/settings time half past seven").await;
    assert!(refused.text.contains("“half past seven” is not a time"), "{}", refused.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_zone_buttons_show_names_and_offsets_one_per_offset_the_bureaus_first() {
    let app = spawn_app().await;
    for (user, bureau, tokyo) in
        [(zh(6021), "✓ 北京时间 UTC+8", "东京 UTC+9"), (en(6022), "✓ Beijing UTC+8", "Tokyo UTC+9")]
    {
        let screen = ask(&app, &user, "/settings").await;
        let id = app.fake.press_labelled(&user, &screen, if user.id == 6021 { "时区" } else { "Time zone" });
        app.fake.wait_for_answer(&id).await;
        let menu = app.fake.message(user.id, screen.message_id);
        let labels: Vec<String> = menu.buttons().into_iter().flatten().map(|(label, _)| label).collect();
        assert_eq!(labels[0], bureau, "{labels:?}");
        let offsets: Vec<&str> =
            labels.iter().filter_map(|l| l.rsplit(' ').next()).filter(|o| o.starts_with("UTC")).collect();
        let distinct: BTreeSet<&&str> = offsets.iter().collect();
        assert_eq!(distinct.len(), offsets.len(), "one button per offset: {labels:?}");
        assert!(offsets.len() >= 10, "{labels:?}");
        let id = app.fake.press_labelled(&user, &menu, tokyo);
        app.fake.wait_for_answer(&id).await;
        assert_eq!(stored(&app, &user).await.time_zone, chrono_tz::Asia::Tokyo);
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn categories_frequencies_and_languages_are_accepted_as_the_settings_card_shows_them() {
    let app = spawn_app().await;
    let chinese = zh(6031);
    ask(&app, &chinese, "/subscribe").await;
    let saved = ask(&app, &chinese, "/settings categories 反诈,交通").await;
    assert!(saved.text.contains("分类：反诈、交通"), "{}", saved.text);
    let both = BTreeSet::from([Category::Fraud, Category::Traffic]);
    assert_eq!(stored(&app, &chinese).await.categories, both);
    ask(&app, &chinese, "/settings categories 全部分类").await;
    assert!(stored(&app, &chinese).await.categories.is_empty());
    ask(&app, &chinese, "/settings 分类 交通、治安").await;
    assert_eq!(
        stored(&app, &chinese).await.categories,
        BTreeSet::from([Category::Traffic, Category::PublicOrder])
    );
    let refused = ask(&app, &chinese, "/settings categories 天气").await;
    assert!(refused.text.contains("没有“天气”这个分类。可选：反诈、治安、交通"), "{}", refused.text);
    ask(&app, &chinese, "/settings frequency 每周五").await;
    assert_eq!(stored(&app, &chinese).await.frequency, Frequency::Weekly(Weekday::Fri));
    ask(&app, &chinese, "/settings frequency 关闭摘要").await;
    assert_eq!(stored(&app, &chinese).await.frequency, Frequency::Off);

    let english = en(6032);
    ask(&app, &english, "/subscribe").await;
    ask(&app, &english, "/settings categories Fraud, Traffic").await;
    assert_eq!(stored(&app, &english).await.categories, both);
    ask(&app, &english, "/settings frequency every Friday").await;
    assert_eq!(stored(&app, &english).await.frequency, Frequency::Weekly(Weekday::Fri));
    ask(&app, &english, "/settings frequency Daily").await;
    assert_eq!(stored(&app, &english).await.frequency, Frequency::Daily);
    let switched = ask(&app, &english, "/settings lang 中文").await;
    assert!(switched.text.starts_with("✅ 已保存"), "{}", switched.text);
    assert_eq!(stored(&app, &english).await.language, Language::Zh);
    ask(&app, &english, "/settings language English").await;
    assert_eq!(stored(&app, &english).await.language, Language::En);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn keyword_lists_split_on_every_comma_and_on_spaces_and_unmatchable_ones_are_refused() {
    let app = spawn_app().await;
    for (user, clear) in [(zh(6041), "/settings 关键词 清空"), (en(6042), "/settings keywords clear")] {
        ask(&app, &user, "/subscribe").await;
        for typed in ["刷单,贷款", "刷单，贷款", "刷单、贷款", "刷单 贷款"] {
            ask(&app, &user, &format!("/settings include {typed}")).await;
            ask(&app, &user, &format!("/settings exclude {typed}")).await;
            let s = stored(&app, &user).await;
            let include: Vec<&str> = s.include_keywords.iter().map(|k| k.as_str()).collect();
            let exclude: Vec<&str> = s.exclude_keywords.iter().map(|k| k.as_str()).collect();
            assert_eq!((include, exclude), (vec!["刷单", "贷款"], vec!["刷单", "贷款"]), "{typed}");
            ask(&app, &user, clear).await;
        }
        let refused = ask(&app, &user, "/settings include 刷单,!!!").await;
        assert!(refused.text.contains("!!!"), "{}", refused.text);
        assert!(stored(&app, &user).await.include_keywords.is_empty(), "all or nothing");
    }
    let chinese = ask(&app, &zh(6041), "/settings include ？？").await;
    assert!(chinese.text.contains("不能作为关键词"), "{}", chinese.text);
    let english = ask(&app, &en(6042), "/settings include ...").await;
    assert!(english.text.contains("cannot be a keyword"), "{}", english.text);
    app.stop().await.unwrap();
}

const EDITOR: i64 = 6900;
const ENGLISH_EDITOR: i64 = 6901;

async fn spawn_with_editors() -> TestApp {
    spawn_app_with(
        TestDb::sqlite(),
        Arc::new(SystemClock),
        &[("PINGAN_BOT_OWNERS", "6900,6901"), ("PINGAN_DELIVERY_TICK_MS", "50")],
    )
    .await
}

/// Sends a one-message form and returns the bot's answers up to the preview question
/// (the first message with buttons).
async fn post_form(app: &TestApp, user: &TgUser, form: &str) -> Vec<SentMessage> {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, form);
    app.fake
        .wait_for("the preview question", |s| {
            let mine: Vec<SentMessage> =
                s.sent.iter().filter(|m| m.chat_id == user.id).skip(before).cloned().collect();
            mine.last().is_some_and(|m| !m.buttons().is_empty()).then_some(mine)
        })
        .await
}

#[tokio::test]
async fn the_one_message_form_takes_labels_and_names_every_bad_line_in_both_languages() {
    let app = spawn_with_editors().await;
    let editor = zh(EDITOR);
    let form = "/post\n标题：道路结冰提示\n分类：交通\n级别：一般\n地区：全市\n过期：不过期\n发布：立即\n\n早晚桥面易结冰，请慢行。";
    let answers = post_form(&app, &editor, form).await;
    let question = answers.last().unwrap().clone();
    assert!(question.text.contains("确认要立即发布吗"), "{answers:?}");
    assert!(answers[0].text.starts_with("🔵 道路结冰提示\n一般 · 交通 · 全市"), "{}", answers[0].text);
    let id = app.fake.press_labelled(&editor, &question, "发布");
    app.fake.wait_for_answer(&id).await;
    let notices = app.store.list_notices(&NoticeQuery { limit: 5, ..NoticeQuery::default() }).await.unwrap();
    assert_eq!(
        (notices[0].content.category, notices[0].content.severity),
        (Category::Traffic, Severity::Minor)
    );

    let bad =
        ask(&app, &editor, "/post\n标题：x\n分类：天气\n级别：很大\n颜色：红\n过期：明天\n\n正文").await;
    for line in ["第 2 行：没有“天气”这个分类", "第 3 行：没有“很大”这个级别", "第 4 行：", "第 5 行：“明天”"]
    {
        assert!(bad.text.contains(line), "{line} in {}", bad.text);
    }
    assert!(!bad.text.contains("第 1 行"), "{}", bad.text);

    let english = en(ENGLISH_EDITOR);
    let form = "/post\ntitle: Ice on the bridges\ncategory: Traffic\nseverity: Minor\narea: Citywide\nexpires: never\npublish: now\n\nDrive slowly.";
    let answers = post_form(&app, &english, form).await;
    assert!(answers.last().unwrap().text.contains("publish it now"), "{answers:?}");
    assert!(
        answers[0].text.starts_with("🔵 Ice on the bridges\nMinor · Traffic · Citywide"),
        "{}",
        answers[0].text
    );
    let bad = ask(&app, &english, "/post\ncategory: weather\nseverity: loud\n\nbody").await;
    for line in
        ["line 1: there is no category “weather”", "line 2: there is no severity “loud”: use one of Extreme"]
    {
        assert!(bad.text.contains(line), "{line} in {}", bad.text);
    }
    app.stop().await.unwrap();
}
