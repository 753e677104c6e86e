//! Dialogues bound and bounded, and slips caught before they reach citizens (issue 13,
//! parts 5 and 6), over the fake Bot API, each finding with its exact input, in Chinese
//! and in English.

use std::sync::Arc;

use chrono::{Duration, Utc};
use pingan::clock::SystemClock;
use pingan::domain::{Actor, ChatId, Role, ScamType, Subject};
use pingan::store::{NoticeQuery, TipQuery};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const EDITOR_ZH: i64 = 1101;
const EDITOR_EN: i64 = 1102;
const CITIZEN_ZH: i64 = 1103;
const CITIZEN_EN: i64 = 1104;

async fn spawn() -> TestApp {
    let app =
        spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[("PINGAN_BOT_REPORTS_PER_HOUR", "20")])
            .await;
    let now = Utc::now();
    for editor in [EDITOR_ZH, EDITOR_EN] {
        app.store.grant(editor, Role::Editor, &Actor::System, now).await.unwrap();
    }
    app
}

fn english(id: i64) -> bool {
    id == EDITOR_EN || id == CITIZEN_EN
}

fn user(id: i64) -> TgUser {
    TgUser::new(id, "Someone", Some(if english(id) { "en" } else { "zh-hans" }))
}

/// `zh` or `en`, as `id` reads.
fn says<'a>(id: i64, zh: &'a str, en: &'a str) -> &'a str {
    if english(id) { en } else { zh }
}

async fn ask(app: &TestApp, from: i64, text: &str) -> SentMessage {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + 1).await.remove(before)
}

/// Sends `text` and waits until `n` messages have come back; returns them.
async fn ask_n(app: &TestApp, from: i64, text: &str, n: usize) -> Vec<SentMessage> {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + n).await.split_off(before)
}

async fn press(app: &TestApp, from: i64, message: &SentMessage, label: &str) -> Option<String> {
    let id = app.fake.press_labelled(&user(from), message, label);
    app.fake.wait_for_answer(&id).await
}

fn last_to(app: &TestApp, chat: i64) -> SentMessage {
    app.fake.sent_to(chat).pop().expect("a message")
}

async fn stored_dialogue(app: &TestApp, id: i64) -> Option<String> {
    app.store.dialogue(ChatId(id), id).await.unwrap()
}

async fn reports_by(app: &TestApp, id: i64) -> u64 {
    app.store.reports_by_user_since(id, Utc::now() - Duration::hours(1)).await.unwrap()
}

/// Starts a report and tells the story; returns the question that follows.
async fn report_story(app: &TestApp, id: i64, story: &str) -> SentMessage {
    assert!(ask(app, id, "/report").await.text.contains(says(id, "举报诈骗", "Report a scam")));
    ask(app, id, story).await
}

const OUTDATED: [&str; 2] =
    ["这个按钮已失效，请重新发送命令。", "This button has expired; please send the command again."];

fn outdated(id: i64) -> &'static str {
    if english(id) { OUTDATED[1] } else { OUTDATED[0] }
}

#[tokio::test]
async fn the_submit_button_under_a_cancelled_reports_summary_is_refused_and_files_nothing() {
    let app = spawn().await;
    for id in [CITIZEN_ZH, CITIZEN_EN] {
        let details = report_story(&app, id, "有人冒充客服让我转账到安全账户。").await;
        press(&app, id, &details, says(id, "没有", "None")).await;
        let summary = last_to(&app, id);
        assert!(summary.text.contains(says(id, "提交", "Send")), "{}", summary.text);
        let cancelled = ask(&app, id, "/cancel").await;
        assert_eq!(cancelled.text, says(id, "已取消。", "Cancelled."));

        // The next draft: its own story, not yet ready to send.
        report_story(&app, id, "另一件事：有人发来中奖短信。").await;
        let answer = press(&app, id, &summary, says(id, "📨 提交举报", "📨 Send the report")).await;
        assert_eq!(answer.as_deref(), Some(outdated(id)), "the stale button is refused");
        assert_eq!(reports_by(&app, id).await, 0, "nothing filed");
        let draft = stored_dialogue(&app, id).await.expect("the new draft stays");
        assert!(draft.contains("中奖短信"), "{draft}");

        // Its own buttons still work.
        let details = last_to(&app, id);
        press(&app, id, &details, says(id, "没有", "None")).await;
        let summary = last_to(&app, id);
        assert_eq!(press(&app, id, &summary, says(id, "📨 提交举报", "📨 Send the report")).await, None);
        assert_eq!(reports_by(&app, id).await, 1);
        // Pressed again after it was sent: expired too.
        let again = press(&app, id, &summary, says(id, "📨 提交举报", "📨 Send the report")).await;
        assert_eq!(again.as_deref(), Some(outdated(id)));
        assert_eq!(reports_by(&app, id).await, 1);
    }
    app.stop().await.unwrap();
}

/// Moves the user's dialogue back by `hours`, as if they had left it that long.
async fn age_dialogue(app: &TestApp, id: i64, hours: i64) {
    let (state, _) = app.store.dialogue_with_time(ChatId(id), id).await.unwrap().expect("a dialogue");
    app.store.save_dialogue(ChatId(id), id, &state, Utc::now() - Duration::hours(hours)).await.unwrap();
}

#[tokio::test]
async fn a_draft_idle_longer_than_the_limit_is_not_appended_to_and_the_user_is_asked_whether_to_continue() {
    let app = spawn().await;
    for id in [CITIZEN_ZH, CITIZEN_EN] {
        report_story(&app, id, "有人冒充客服让我转账到安全账户。").await;
        age_dialogue(&app, id, 25).await;
        let before = stored_dialogue(&app, id).await.unwrap();
        let typed = says(id, "你好，请问怎么订阅？", "Hello, how do I subscribe?");
        let question = ask(&app, id, typed).await;
        assert!(
            question.text.contains(says(id, "刚才的消息没有加进去", "your last message was not added")),
            "{}",
            question.text
        );
        assert!(question.text.contains(says(id, "举报", "report")), "names the dialogue: {}", question.text);
        assert_eq!(stored_dialogue(&app, id).await.unwrap(), before, "not appended to");
        assert!(!before.contains(typed));

        // Carrying on: asked for the step it waited at, and what comes next is taken.
        assert_eq!(press(&app, id, &question, says(id, "继续填写", "Carry on")).await, None);
        let asked = last_to(&app, id);
        assert!(
            asked.text.contains(says(id, "电话号码、网址或账号", "phone number, link or account")),
            "{}",
            asked.text
        );
        let summary = ask(&app, id, "对方号码 171-2345-6789").await;
        assert!(summary.text.contains("171 2345 6789"), "{}", summary.text);

        // Left again, then dropped.
        age_dialogue(&app, id, 30).await;
        let question = ask(&app, id, typed).await;
        assert_eq!(press(&app, id, &question, says(id, "放弃", "Drop it")).await, None);
        assert_eq!(stored_dialogue(&app, id).await, None, "dropped");
        assert_eq!(reports_by(&app, id).await, 0);
        // Its buttons, and the question's, have expired.
        assert_eq!(
            press(&app, id, &question, says(id, "继续填写", "Carry on")).await.as_deref(),
            Some(outdated(id))
        );
    }

    // A draft moved on within the limit is simply continued.
    report_story(&app, CITIZEN_ZH, "又有人冒充客服。").await;
    age_dialogue(&app, CITIZEN_ZH, 23).await;
    let summary = ask(&app, CITIZEN_ZH, "对方号码 171-2345-6789").await;
    assert!(summary.text.contains("171 2345 6789"), "{}", summary.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn post_during_a_report_asks_before_dropping_it_and_report_during_post_too() {
    let app = spawn().await;
    for id in [EDITOR_ZH, EDITOR_EN] {
        report_story(&app, id, "有人冒充客服让我转账到安全账户。").await;
        let question = ask(&app, id, "/post").await;
        assert_eq!(
            question.text,
            says(
                id,
                "您还有一份未完成的举报。要放弃它，改为开始 /post 吗？",
                "You have an unfinished report. Drop it and start /post instead?"
            )
        );
        assert!(
            stored_dialogue(&app, id).await.unwrap().contains("安全账户"),
            "the report stays while asked"
        );
        // Keep it: the report carries on.
        assert_eq!(press(&app, id, &question, says(id, "继续原来的", "Keep the one I have")).await, None);
        assert!(stored_dialogue(&app, id).await.unwrap().contains("安全账户"));
        // Ask again and drop it: /post starts.
        let question = ask(&app, id, "/post").await;
        assert_eq!(press(&app, id, &question, says(id, "放弃并开始新的", "Drop it and start")).await, None);
        let asked = last_to(&app, id);
        assert!(asked.text.contains(says(id, "标题", "title")), "{}", asked.text);
        let draft = stored_dialogue(&app, id).await.unwrap();
        assert!(draft.contains("\"notice\"") && !draft.contains("安全账户"), "{draft}");

        // /report during /post asks in the same way, naming the notice draft.
        ask(&app, id, "警惕冒充客服").await;
        let question = ask(&app, id, "/report").await;
        assert_eq!(
            question.text,
            says(
                id,
                "您还有一份未完成的通告草稿。要放弃它，改为开始 /report 吗？",
                "You have an unfinished notice draft. Drop it and start /report instead?"
            )
        );
        assert!(stored_dialogue(&app, id).await.unwrap().contains("警惕冒充客服"));
        assert_eq!(press(&app, id, &question, says(id, "放弃并开始新的", "Drop it and start")).await, None);
        assert!(last_to(&app, id).text.contains(says(id, "举报诈骗", "Report a scam")));
        let draft = stored_dialogue(&app, id).await.unwrap();
        assert!(draft.contains("\"report\"") && !draft.contains("警惕冒充客服"), "{draft}");
        // The question, answered, has expired.
        assert_eq!(
            press(&app, id, &question, says(id, "放弃并开始新的", "Drop it and start")).await.as_deref(),
            Some(outdated(id))
        );
        ask(&app, id, "/cancel").await;
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_300_character_title_is_refused_at_the_title_step_and_the_step_asked_again() {
    let app = spawn().await;
    for id in [EDITOR_ZH, EDITOR_EN] {
        ask(&app, id, "/post").await;
        let title = "诈".repeat(300);
        let answers = ask_n(&app, id, &title, 2).await;
        assert!(
            answers[0].text.contains(says(id, "最多 200", "at most 200")),
            "the reason: {}",
            answers[0].text
        );
        assert!(answers[1].text.contains(says(id, "标题", "title")), "asked again: {}", answers[1].text);
        let draft = stored_dialogue(&app, id).await.unwrap();
        assert!(draft.contains("\"title\":null"), "{draft}");
        // A title that fits moves on to the body.
        assert!(ask(&app, id, "警惕冒充客服").await.text.contains(says(id, "正文", "text")));
        ask(&app, id, "/cancel").await;
    }
    assert_eq!(app.store.count_notices(&NoticeQuery::default()).await.unwrap(), 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_preview_shows_every_field_and_changes_one_without_starting_over() {
    let app = spawn().await;
    for id in [EDITOR_ZH, EDITOR_EN] {
        let form = "/post\ntitle: 警惕冒充客服\ncategory: fraud\nseverity: Moderate\narea: 全市\nexpires: never\npublish: now\n\n接到自称客服的退款电话，请先挂断核实。";
        let parts = ask_n(&app, id, form, 2).await;
        let question = &parts[1];
        for field in says(
            id,
            "语言：中文|过期：不过期|发布：立即发布|地区：全市",
            "Language: English|Expires: Never|Publish: publish it now|Area: 全市",
        )
        .split('|')
        {
            assert!(question.text.contains(field), "{field}: {}", question.text);
        }
        // Change the title alone: asked for it, then back at the preview with the rest kept.
        assert_eq!(press(&app, id, question, says(id, "改标题", "Title")).await, None);
        assert!(last_to(&app, id).text.contains(says(id, "标题", "title")));
        let parts = ask_n(&app, id, "警惕冒充快递理赔", 2).await;
        assert!(
            parts[1].text.contains("警惕冒充快递理赔")
                && parts[1].text.contains(says(id, "过期：不过期", "Expires: Never")),
            "{}",
            parts[1].text
        );
        // And the language, which moves to the other one.
        press(&app, id, &parts[1], says(id, "换语言", "Language")).await;
        let question = last_to(&app, id);
        assert!(question.text.contains(says(id, "语言：English", "Language: 中文")), "{}", question.text);
        ask(&app, id, "/cancel").await;
    }
    app.stop().await.unwrap();
}

/// Changed from the preview of a scheduled notice, an expiry before its publication is
/// refused at the expiry step (typed or by a button) and the step asked again; the
/// preview is never reached with a notice that cannot be published.
#[tokio::test]
async fn an_expiry_changed_from_the_preview_to_before_the_publication_is_asked_again() {
    let app = spawn().await;
    let zone: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let local = |days: i64| {
        (Utc::now() + Duration::days(days)).with_timezone(&zone).format("%Y-%m-%d 09:00").to_string()
    };
    for id in [EDITOR_ZH, EDITOR_EN] {
        let form = format!(
            "/post\ntitle: 元旦交通管制\ncategory: traffic\nseverity: Minor\narea: 全市\nexpires: never\npublish: {}\n\n元旦期间部分道路临时管制。",
            local(60)
        );
        let parts = ask_n(&app, id, &form, 2).await;
        assert_eq!(press(&app, id, &parts[1], says(id, "改过期", "Expiry")).await, None);
        let asked = last_to(&app, id);
        // Typed: a date before the publication.
        let answers = ask_n(&app, id, &local(30), 2).await;
        assert!(
            answers[0].text.contains(says(id, "不晚于发布时间", "is not after the publication time")),
            "{}",
            answers[0].text
        );
        assert_eq!(answers[1].text, asked.text, "the expiry step asked again");
        assert!(stored_dialogue(&app, id).await.unwrap().contains("\"expires_at\":null"));
        // A button for 7 days from now is before it too.
        let seven =
            answers[1].buttons().into_iter().flatten().find(|(label, _)| label.contains('7')).unwrap().0;
        let refusal = press(&app, id, &answers[1], &seven).await.unwrap_or_default();
        assert!(
            refusal.contains(says(id, "不晚于发布时间", "is not after the publication time")),
            "{refusal}"
        );
        // After the publication is fine, and the preview can publish.
        let parts = ask_n(&app, id, &local(90), 2).await;
        assert!(
            parts[1]
                .buttons()
                .into_iter()
                .flatten()
                .any(|(label, _)| label.contains(says(id, "发布", "Publish")))
        );
        ask(&app, id, "/cancel").await;
    }
    assert_eq!(app.store.count_notices(&NoticeQuery::default()).await.unwrap(), 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn listing_an_official_value_asks_naming_what_it_is_and_lists_nothing_until_confirmed() {
    let app = spawn().await;
    let icbc = Subject::parse("95588").unwrap();
    for id in [EDITOR_ZH, EDITOR_EN] {
        let usage = ask(&app, id, "/indicator").await;
        assert!(
            usage.text.contains(says(
                id,
                "原因会原样显示给查询的群众",
                "The reason is shown, as written, to citizens"
            )),
            "{}",
            usage.text
        );

        let question = ask(&app, id, "/indicator add 95588 fraud 测试").await;
        assert!(
            question.text.contains(says(id, "中国工商银行客服", "ICBC customer service")),
            "names what it is: {}",
            question.text
        );
        assert!(
            question.text.contains("测试") && question.text.contains(says(id, "群众", "Citizens")),
            "{}",
            question.text
        );
        assert_eq!(app.store.indicator(icbc.kind(), &icbc.key()).await.unwrap(), None, "nothing listed yet");
        let check = ask(&app, CITIZEN_ZH, "/check 95588").await;
        assert!(!check.text.starts_with("🔴"), "{}", check.text);

        // Cancelled: nothing listed, and the question's buttons have expired.
        assert_eq!(press(&app, id, &question, says(id, "取消", "Cancel")).await, None);
        assert_eq!(app.store.indicator(icbc.kind(), &icbc.key()).await.unwrap(), None);
        let stale = press(&app, id, &question, says(id, "确认列入", "List it")).await;
        assert_eq!(stale.as_deref(), Some(outdated(id)));
        assert_eq!(app.store.indicator(icbc.kind(), &icbc.key()).await.unwrap(), None);

        // Other official values ask too.
        for value in ["110", "12306", "96110", "12306.cn", "www.12306.cn"] {
            let question = ask(&app, id, &format!("/indicator add {value} suspicious 测试")).await;
            assert!(question.text.contains("⚠️"), "{value}: {}", question.text);
            press(&app, id, &question, says(id, "取消", "Cancel")).await;
        }
    }
    // What the bureau itself listed as official counts too, named as it listed it.
    let own = ask(&app, EDITOR_ZH, "/indicator add 0571-8765-4321 official 市反诈中心值班电话").await;
    assert!(own.text.starts_with("✅"), "{}", own.text);
    let question = ask(&app, EDITOR_ZH, "/indicator add 0571-8765-4321 fraud 测试").await;
    assert!(question.text.contains("市反诈中心值班电话"), "{}", question.text);
    press(&app, EDITOR_ZH, &question, "取消").await;

    // Confirmed: listed, and the editor is told what citizens will see.
    let question = ask(&app, EDITOR_ZH, "/indicator add 95588 fraud 测试").await;
    assert_eq!(press(&app, EDITOR_ZH, &question, "确认列入").await, None);
    let listed = app.store.indicator(icbc.kind(), &icbc.key()).await.unwrap().expect("listed");
    assert_eq!(listed.reason.to_string(), "测试");
    assert!(
        last_to(&app, EDITOR_ZH).text.contains("查询它的群众将看到原因：“测试”"),
        "{}",
        last_to(&app, EDITOR_ZH).text
    );
    // A value not on the official list is listed at once, the reason's audience named.
    let added = ask(&app, EDITOR_EN, "/indicator add 171-2345-6789 fraud fake courier").await;
    assert!(added.text.contains("Citizens who check it see the reason: “fake courier”"), "{}", added.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn urgent_offers_only_extreme_and_severe_and_refuses_minor() {
    let app = spawn().await;
    for id in [EDITOR_ZH, EDITOR_EN] {
        ask(&app, id, "/urgent").await;
        ask(&app, id, "燃气泄漏").await;
        let category = ask(&app, id, "请立即撤离。").await;
        press(&app, id, &category, says(id, "反诈", "Fraud")).await;
        let severity = last_to(&app, id);
        let data: Vec<String> = severity.buttons().into_iter().flatten().filter_map(|(_, d)| d).collect();
        let offered: Vec<&String> = data.iter().filter(|d| d.contains(":s:")).collect();
        assert_eq!(offered.len(), 2, "{data:?}");
        assert!(offered[0].ends_with(":s:Extreme") && offered[1].ends_with(":s:Severe"), "{offered:?}");

        // Typed: refused and asked again.
        let answers = ask_n(&app, id, "Minor", 2).await;
        assert!(
            answers[0].text.contains(says(
                id,
                "紧急通告只能是",
                "An urgent notice is Extreme or Severe only"
            )),
            "{}",
            answers[0].text
        );
        assert_eq!(
            answers[1]
                .buttons()
                .into_iter()
                .flatten()
                .filter(|(_, d)| d.as_deref().is_some_and(|d| d.contains(":s:")))
                .count(),
            2
        );
        // Pressed with forged data: refused.
        let forged = offered[0].replace(":s:Extreme", ":s:Minor");
        let press_id = app.fake.press(&user(id), &severity, &forged);
        let answer = app.fake.wait_for_answer(&press_id).await.unwrap_or_default();
        assert!(
            answer.contains(says(id, "紧急通告只能是", "An urgent notice is Extreme or Severe only")),
            "{answer}"
        );
        let draft = stored_dialogue(&app, id).await.unwrap();
        assert!(draft.contains("\"severity\":null"), "{draft}");
        ask(&app, id, "/cancel").await;

        // Written in the one-message form: refused, and asked.
        let answers =
            ask_n(&app, id, "/urgent\ntitle: 燃气泄漏\ncategory: fire\nseverity: Minor\n\n请立即撤离。", 2)
                .await;
        assert!(
            answers[0].text.contains(says(
                id,
                "紧急通告只能是",
                "An urgent notice is Extreme or Severe only"
            )),
            "{}",
            answers[0].text
        );
        assert!(stored_dialogue(&app, id).await.unwrap().contains("\"severity\":null"));
        ask(&app, id, "/cancel").await;
    }
    assert_eq!(app.store.count_notices(&NoticeQuery::default()).await.unwrap(), 0, "nothing published");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn retiring_a_tip_asks_first_offers_undo_and_warns_when_it_is_the_last_of_its_type() {
    let app = spawn().await;
    for id in [EDITOR_ZH, EDITOR_EN] {
        let (kind_name, language) = if english(id) {
            ("Fake loans", pingan::domain::Language::En)
        } else {
            ("虚假网络贷款", pingan::domain::Language::Zh)
        };
        // Leave one tip of the type in the editor's language.
        let query =
            TipQuery { scam_type: Some(ScamType::Loan), language: Some(language), include_retired: false };
        let tips = app.store.tips(&query).await.unwrap();
        for tip in tips.iter().skip(1) {
            app.store.retire_tip(tip.id, &Actor::System, Utc::now()).await.unwrap();
        }
        let only = &tips[0];
        let citizen = if english(id) { CITIZEN_EN } else { CITIZEN_ZH };
        let labels = |m: &SentMessage| m.buttons().into_iter().flatten().map(|(l, _)| l).collect::<Vec<_>>();

        let menu = ask(&app, id, "/tips").await;
        press(&app, id, &menu, kind_name).await;
        let list = app.fake.message(menu.chat_id, menu.message_id);
        assert_eq!(press(&app, id, &list, "🗄 1").await, None, "asks first");
        let question = last_to(&app, id);
        assert!(question.text.contains(only.title.as_str()), "{}", question.text);
        assert!(question.text.contains(says(id, "唯一的提示", "the only tip")), "warns: {}", question.text);
        assert!(!app.store.tip(only.id).await.unwrap().unwrap().retired, "not yet");
        // Kept.
        assert_eq!(press(&app, id, &question, says(id, "保留", "Keep it")).await, None);
        assert!(!app.store.tip(only.id).await.unwrap().unwrap().retired);

        // Retired after confirming: the type leaves citizens' /tips, and the editor is warned.
        press(&app, id, &list, "🗄 1").await;
        let question = last_to(&app, id);
        press(&app, id, &question, says(id, "确认停用", "Retire it")).await;
        assert!(app.store.tip(only.id).await.unwrap().unwrap().retired);
        let done = app.fake.message(question.chat_id, question.message_id);
        assert!(done.text.contains(says(id, "现在没有提示了", "There is no tip on")), "{}", done.text);
        assert!(!labels(&ask(&app, citizen, "/tips").await).contains(&kind_name.to_owned()));

        // Undone: back for citizens.
        assert_eq!(
            press(&app, id, &done, says(id, "撤销", "Undo")).await.as_deref(),
            Some(says(id, "已撤销：提示恢复。", "Undone: the tip is back."))
        );
        assert!(!app.store.tip(only.id).await.unwrap().unwrap().retired);
        assert!(labels(&ask(&app, citizen, "/tips").await).contains(&kind_name.to_owned()));

        // The undo works for a while only.
        let long_ago = Utc::now() - Duration::minutes(11);
        app.store.retire_tip(only.id, &Actor::Telegram(id), long_ago).await.unwrap();
        let late = app.fake.press(&user(id), &done, &format!("te:u:{}", only.id.0));
        assert_eq!(
            app.fake.wait_for_answer(&late).await.as_deref(),
            Some(says(
                id,
                "已超过撤销时限，请重新添加这条提示。",
                "Too late to undo; add the tip again instead."
            ))
        );
        assert!(app.store.tip(only.id).await.unwrap().unwrap().retired);
        app.store.restore_tip(only.id, &Actor::System, Utc::now()).await.unwrap();
    }
    use pingan::domain::AuditAction::{TipRestored, TipRetired};
    let actions: Vec<_> = app
        .store
        .audit_log(Some(&Actor::Telegram(EDITOR_ZH)), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, [TipRetired, TipRestored, TipRetired], "newest first");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn dialogues_stored_before_they_were_numbered_carry_on_and_unreadable_ones_are_dropped_politely() {
    let app = spawn().await;
    for id in [CITIZEN_ZH, CITIZEN_EN] {
        let old =
            r#"{"dialogue":"report","story":"有人冒充客服。","forwards":[],"details":[],"ready":false}"#;
        app.store.save_dialogue(ChatId(id), id, old, Utc::now()).await.unwrap();
        let summary = ask(&app, id, "对方号码 171-2345-6789").await;
        assert!(summary.text.contains("171 2345 6789"), "{}", summary.text);
        assert_eq!(press(&app, id, &summary, says(id, "📨 提交举报", "📨 Send the report")).await, None);
        assert_eq!(reports_by(&app, id).await, 1, "its new buttons work");

        app.store.save_dialogue(ChatId(id), id, r#"{"dialogue":"séance"}"#, Utc::now()).await.unwrap();
        let told = ask(&app, id, "你好").await;
        assert!(told.text.contains(says(id, "请重新开始", "Please start again")), "{}", told.text);
        assert_eq!(stored_dialogue(&app, id).await, None);
    }
    app.stop().await.unwrap();
}
