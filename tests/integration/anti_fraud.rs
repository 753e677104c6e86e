//! The anti-fraud toolkit over the fake Bot API: /check with its normalisation and
//! verdicts, /indicator for editors, /report with moderation, /stats with its chart.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use pingan::clock::SystemClock;
use pingan::domain::{Actor, AuditAction, IndicatorKind, Role};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::on_both_backends;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const EDITOR: i64 = 801;
const MODERATOR: i64 = 802;
const CITIZEN: i64 = 803;
const ENGLISH: i64 = 804;

async fn spawn() -> TestApp {
    let app = spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[]).await;
    let now = Utc::now();
    app.store.grant(EDITOR, Role::Editor, &Actor::System, now).await.unwrap();
    app.store.grant(MODERATOR, Role::Moderator, &Actor::System, now).await.unwrap();
    app
}

fn user(id: i64) -> TgUser {
    let language = if id == ENGLISH { "en" } else { "zh-hans" };
    TgUser::new(id, "Someone", Some(language))
}

async fn ask(app: &TestApp, from: i64, text: &str) -> SentMessage {
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&user(from), text);
    app.fake.wait_for_sent(from, before + 1).await.remove(before)
}

#[tokio::test]
async fn every_way_of_writing_a_listed_number_finds_it_and_unknown_ones_are_not_called_safe() {
    let app = spawn().await;
    let added = ask(&app, EDITOR, "/indicator add 138-0013-8000 fraud 冒充银行客服要求屏幕共享").await;
    assert_eq!(
        added.text,
        "✅ 已将 +86 138 0013 8000 列为涉诈。查询它的群众将看到原因：“冒充银行客服要求屏幕共享”。"
    );
    for written in
        ["13800138000", "+86 138 0013 8000", "8613800138000", "0086-138-0013-8000", "(+86) 138.0013.8000"]
    {
        let answer = ask(&app, CITIZEN, &format!("/check {written}")).await;
        assert!(answer.text.starts_with("🔴 高风险：+86 138 0013 8000"), "{written}: {}", answer.text);
        assert!(answer.text.contains("冒充银行客服要求屏幕共享"), "{}", answer.text);
        assert!(answer.text.contains("96110"));
    }

    let unknown = ask(&app, CITIZEN, "/check 139 1234 5678").await;
    assert!(unknown.text.starts_with("⚪ 暂无记录：+86 139 1234 5678"), "{}", unknown.text);
    assert!(unknown.text.contains("没有记录不代表安全"), "{}", unknown.text);
    assert!(!unknown.text.contains("安全的") && unknown.text.contains("96110"));
    let english = ask(&app, ENGLISH, "/check 13912345678").await;
    assert!(english.text.contains("No record is not proof of safety"), "{}", english.text);

    let hotline = ask(&app, CITIZEN, "/check 96110").await;
    assert!(hotline.text.starts_with("🟢 官方：96110\n这是全国反诈预警劝阻专线。"), "{}", hotline.text);
    assert!(hotline.text.contains("类型：公安反诈预警劝阻专线。"), "{}", hotline.text);
    assert!(hotline.text.contains("来电显示可以伪造"));

    let removed = ask(&app, EDITOR, "/indicator remove +8613800138000").await;
    assert_eq!(removed.text, "✅ 已将 +86 138 0013 8000 移出名单。");
    assert!(ask(&app, CITIZEN, "/check 13800138000").await.text.starts_with("⚪ 暂无记录"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_number_listed_in_one_spelling_is_found_in_any_other_and_its_type_is_named() {
    let app = spawn().await;
    let added = ask(&app, EDITOR, "/indicator add +86 (0)21 5555 0000 fraud 冒充公安要求转账").await;
    assert!(added.text.starts_with("✅ 已将 +86 21 5555 0000 列为涉诈。"), "{}", added.text);
    for written in [
        "021-55550000",
        "+86 (0)21 5555 0000",
        "（０２１）５５５５－００００",
        "0086 21 5555 0000",
        "+86-21-5555-0000",
        "021 5555 0000。",
        "电话 021.5555.0000",
    ] {
        let answer = ask(&app, CITIZEN, &format!("/check {written}")).await;
        assert!(answer.text.starts_with("🔴 高风险：+86 21 5555 0000"), "{written}: {}", answer.text);
        assert!(answer.text.contains("冒充公安要求转账"), "{written}: {}", answer.text);
        assert!(answer.text.contains("类型：固定电话，区号 021（上海市）。"), "{written}: {}", answer.text);
    }
    let english = ask(&app, ENGLISH, "/check ０２１－５５５５００００").await;
    assert!(english.text.contains("Type: a landline, area code 021 (Shanghai)."), "{}", english.text);

    // A Chinese 400 number and the same digits in North America are two numbers.
    ask(&app, EDITOR, "/indicator add 400-810-8888 fraud 冒充银行客服").await;
    let chinese = ask(&app, CITIZEN, "/check 4008108888").await;
    assert!(chinese.text.starts_with("🔴 高风险：+86 400 810 8888"), "{}", chinese.text);
    assert!(chinese.text.contains("类型：400 企业服务热线，主叫方按市话付费"), "{}", chinese.text);
    let american = ask(&app, CITIZEN, "/check +1 400 810 8888").await;
    assert!(american.text.starts_with("⚪ 暂无记录：+1 400-810-8888"), "{}", american.text);
    assert!(american.text.contains("类型：境外号码（国家或地区代码 +1）"), "{}", american.text);

    for (written, kind) in [
        ("13800138000", "Type: a mobile number."),
        ("800 810 8888", "Type: an 800 toll-free number"),
        ("95588", "Type: a 95xxx nationwide customer service number"),
        ("12345", "Type: a 12xxx public service number"),
        ("110", "Type: an emergency number"),
        ("+852 2860 2000", "Type: a number abroad (country code +852)."),
        ("+86 812 3456", "Type: not recognised."),
    ] {
        let answer = ask(&app, ENGLISH, &format!("/check {written}")).await;
        assert!(answer.text.contains(kind), "{written}: {}", answer.text);
    }
    let sms = ask(&app, CITIZEN, "/check 12110").await;
    assert!(
        sms.text.starts_with("🟢 官方：12110") && sms.text.contains("类型：公安短信报警号码。"),
        "{}",
        sms.text
    );
    let nowhere = ask(&app, CITIZEN, "/check +999 1234 5678").await;
    assert!(nowhere.text.contains("没有以这些数字开头的代码"), "{}", nowhere.text);
    app.stop().await.unwrap();
}

on_both_backends!(
    numbers_stored_under_keys_of_the_old_rules_are_found_in_any_spelling_after_migrating,
    a_confirmed_reports_reason_stored_as_a_sentence_is_rekeyed_and_shown_in_each_language,
);

/// Phone keys before the phonenumber crate: `+86 (0)21 5555 0000` was kept as
/// `+8602155550000`, `+44 (0)20 7946 0000` as `+4402079460000`. A database of then is
/// migrated, and every spelling finds what it holds.
async fn numbers_stored_under_keys_of_the_old_rules_are_found_in_any_spelling_after_migrating(db: TestDb) {
    let backend = if matches!(db, TestDb::Sqlite { .. }) { "sqlite" } else { "postgres" };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut before = sqlx::migrate::Migrator::new(dir).await.unwrap();
    before.migrations = before.migrations.iter().filter(|m| m.version < 20261201000009).cloned().collect();
    let at = |day| Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap();
    // The same Shanghai number listed twice (as fraud under the old key, as suspicious
    // under today's), a foreign official number, a current key, a value no longer a number.
    let listed: [(&str, &str, &str, u32); 5] = [
        ("+8602155550000", "fraud", "冒充公安要求转账", 28),
        ("+862155550000", "suspicious", "群众反映的骚扰电话", 29),
        ("+4402079460000", "official", "某国驻华使馆", 28),
        ("+8613800138000", "fraud", "冒充银行客服", 28),
        ("+999123456789", "suspicious", "未知号码", 28),
    ];
    // Two approved reports name a Guangzhou number the old way; the first names it the
    // new way too.
    let reported: [(i64, &str); 3] = [(1, "+8602087654321"), (1, "+862087654321"), (2, "+8602087654321")];
    macro_rules! fill {
        ($pool:expr) => {{
            let pool = $pool;
            before.run(&pool).await.unwrap();
            for (value, risk, reason, day) in listed {
                sqlx::query(
                    "INSERT INTO indicators (kind, value, risk, reason, added_by, added_at) \
                     VALUES ('phone', $1, $2, $3, 'telegram:801', $4)",
                )
                .bind(value)
                .bind(risk)
                .bind(reason)
                .bind(at(day))
                .execute(&pool)
                .await
                .unwrap();
            }
            for id in [1_i64, 2] {
                sqlx::query(
                    "INSERT INTO reports (id, chat_id, user_id, language, story, status, decided_by, decided_at, created_at) \
                     VALUES ($1, 803, 803, 'zh', '冒充公安', 'approved', 'telegram:802', $2, $2)",
                )
                .bind(id)
                .bind(at(28))
                .execute(&pool)
                .await
                .unwrap();
            }
            for (report, value) in reported {
                sqlx::query("INSERT INTO report_subjects (report_id, kind, value, shown) VALUES ($1, 'phone', $2, $2)")
                    .bind(report)
                    .bind(value)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }};
    }
    match &db {
        TestDb::Sqlite { .. } => {
            fill!(sqlx::SqlitePool::connect(&format!("{}?mode=rwc", db.url())).await.unwrap())
        }
        TestDb::Postgres { .. } => fill!(sqlx::PgPool::connect(db.url()).await.unwrap()),
    }

    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    for written in ["021-55550000", "+86 (0)21 5555 0000", "（０２１）５５５５－００００"] {
        let answer = ask(&app, CITIZEN, &format!("/check {written}")).await;
        assert!(answer.text.starts_with("🔴 高风险：+86 21 5555 0000"), "{written}: {}", answer.text);
        assert!(answer.text.contains("冒充公安要求转账"), "the more serious entry is kept: {}", answer.text);
    }
    let embassy = ask(&app, ENGLISH, "/check +44 (0)20 7946 0000").await;
    assert!(embassy.text.starts_with("🟢 Official: +44 20 7946 0000"), "{}", embassy.text);
    let reported = ask(&app, CITIZEN, "/check 020-8765 4321").await;
    assert!(reported.text.starts_with("🟠 请警惕：+86 20 8765 4321"), "{}", reported.text);
    assert!(reported.text.contains("提到它 2 次"), "each report counts once: {}", reported.text);

    let mut values: Vec<String> = app
        .store
        .indicators(Some(IndicatorKind::Phone), 10, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.value)
        .collect();
    values.sort();
    assert_eq!(values, ["+442079460000", "+8613800138000", "+862155550000", "+999123456789"]);
    let rekeyed: Vec<_> = app
        .store
        .audit_log(Some(&Actor::System), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Rekeyed)
        .map(|e| (e.subject, e.detail))
        .collect();
    assert_eq!(rekeyed.len(), 3, "{rekeyed:#?}");
    assert!(
        rekeyed[0]
            .1
            .ends_with("2 list entries re-keyed (1 merged), 2 report subjects; 1 no longer numbers, kept"),
        "{rekeyed:#?}"
    );
    assert!(
        rekeyed.contains(&(
            "phone +862155550000".to_owned(),
            "was +8602155550000; merged with the entry already under +862155550000, kept as fraud".to_owned()
        )),
        "{rekeyed:#?}"
    );
    // Migrating again (another instance starting, a restart) changes nothing.
    assert_eq!(app.store.migrate().await.unwrap().rekeyed_phones, pingan::store::Rekeyed::default());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_punycode_look_alike_of_an_official_site_is_flagged() {
    let app = spawn().await;
    // Cyrillic "а" in place of the Latin one, as a phishing text carries it.
    let punycode = idna::domain_to_ascii("аlipay.com").unwrap();
    assert!(punycode.starts_with("xn--"));
    let answer = ask(&app, CITIZEN, &format!("/check https://{punycode}/refund")).await;
    assert!(answer.text.starts_with("🔴 高风险：аlipay.com"), "{}", answer.text);
    assert!(answer.text.contains("该网址仿冒 alipay.com"), "{}", answer.text);

    // Official sites an editor adds are guarded the same way.
    ask(&app, EDITOR, "/indicator add xining-police.gov.cn official 市公安局官方网站").await;
    let worn = ask(&app, CITIZEN, "/check http://xining-police.gov.cn.verify-id.top/login").await;
    assert!(worn.text.contains("伪装成 xining-police.gov.cn"), "{}", worn.text);
    assert!(worn.text.contains("实际打开的是另一个网站 verify-id.top"), "{}", worn.text);
    let real = ask(&app, CITIZEN, "/check https://www.alipay.com").await;
    assert!(real.text.starts_with("🟢 官方：alipay.com"), "{}", real.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_values_get_a_clear_answer_and_citizens_cannot_change_the_list() {
    let app = spawn().await;
    assert!(ask(&app, CITIZEN, "/check").await.text.starts_with("发送 /check 加电话号码"));
    let landline = ask(&app, CITIZEN, "/check 8123456").await;
    assert!(landline.text.contains("固定电话请带区号"), "{}", landline.text);
    let ip = ask(&app, ENGLISH, "/check http://203.0.113.9/pay").await;
    assert!(ip.text.contains("bare internet address (203.0.113.9)"), "{}", ip.text);
    let html = ask(&app, CITIZEN, "/check <b>x</b>").await;
    assert!(html.text.contains("无法识别"), "{}", html.text);

    let refused = ask(&app, CITIZEN, "/indicator add 13800138000 fraud 诈骗").await;
    assert_eq!(refused.text, "抱歉，只有市局授权的编辑才能使用这个命令。");
    assert!(app.store.indicators(None, 10, 0).await.unwrap().is_empty());
    let no_reason = ask(&app, EDITOR, "/indicator add 13800138000 fraud").await;
    assert!(no_reason.text.starts_with("请在风险等级后写明原因"), "{}", no_reason.text);
    let overview = ask(&app, EDITOR, "/indicator").await;
    assert!(overview.text.contains("名单为空"), "{}", overview.text);
    app.stop().await.unwrap();
}

async fn press(app: &TestApp, from: i64, message: &SentMessage, label: &str) -> Option<String> {
    let id = app.fake.press_labelled(&user(from), message, label);
    app.fake.wait_for_answer(&id).await
}

fn last_to(app: &TestApp, chat: i64) -> SentMessage {
    app.fake.sent_to(chat).pop().expect("a message")
}

#[tokio::test]
async fn a_report_is_moderated_listed_and_then_flagged_by_check_and_the_reporter_is_told() {
    let app = spawn().await;
    let scam_number = "+86 171 2345 6789";
    assert!(ask(&app, CITIZEN, &format!("/check {scam_number}")).await.text.starts_with("⚪ 暂无记录"));

    // The citizen reports: the story, then the scammer's message, forwarded.
    assert!(ask(&app, CITIZEN, "/report").await.text.starts_with("举报诈骗"));
    let details = ask(&app, CITIZEN, "有人自称快递客服说包裹丢了要理赔，让我下载会议软件共享屏幕。").await;
    assert!(details.text.contains("转发给我"), "{}", details.text);
    let before = app.fake.sent_to(CITIZEN).len();
    app.fake.user_forwards(
        &user(CITIZEN),
        "【理赔通知】请致电 171-2345-6789 或访问 kuaidi-lipei.top 办理。",
        "快递理赔中心",
    );
    let summary = app.fake.wait_for_sent(CITIZEN, before + 1).await.remove(before);
    assert!(summary.text.contains("转发自 快递理赔中心"), "{}", summary.text);
    assert!(
        summary.text.contains(scam_number) && summary.text.contains("kuaidi-lipei.top"),
        "{}",
        summary.text
    );
    assert_eq!(press(&app, CITIZEN, &summary, "📨 提交举报").await, None);
    let sent = app.fake.message(summary.chat_id, summary.message_id);
    assert!(sent.text.starts_with("✅ 感谢您的举报") && sent.text.contains("R000001"), "{}", sent.text);

    // Nobody but a moderator may see or decide it.
    let moderators_only = "抱歉，只有市局授权的审核员（及所有者）才能审核群众举报。";
    assert_eq!(ask(&app, CITIZEN, "/reports").await.text, moderators_only);
    assert_eq!(ask(&app, EDITOR, "/reports").await.text, moderators_only);
    let seen = app.fake.sent_to(MODERATOR).len();
    app.fake.user_sends(&user(MODERATOR), "/reports");
    let listing = app.fake.wait_for_sent(MODERATOR, seen + 2).await;
    assert!(listing[seen].text.contains("1 条举报待审核"), "{}", listing[seen].text);
    let card = listing[seen + 1].clone();
    assert!(card.text.starts_with("举报 R000001") && card.text.contains("共享屏幕"), "{}", card.text);
    let forged = app.fake.press(&user(CITIZEN), &card, "md:1:l");
    assert_eq!(app.fake.wait_for_answer(&forged).await.as_deref(), Some(moderators_only));
    assert!(app.store.indicators(None, 10, 0).await.unwrap().is_empty());

    assert_eq!(press(&app, MODERATOR, &card, "✅ 属实并列入名单").await, None);
    let decided = app.fake.message(card.chat_id, card.message_id);
    assert!(
        decided.text.contains("2 个号码、网址或账号已列为涉诈") && decided.text.contains("已通知举报人"),
        "{}",
        decided.text
    );
    assert_eq!(
        press(&app, MODERATOR, &card, "❌ 驳回").await.as_deref(),
        Some("这条举报已由其他审核人员处理。"),
        "decided once"
    );

    // The reporter was told, and /check now flags what the report named.
    let told = app.fake.wait_for_sent(CITIZEN, before + 2).await;
    assert!(told.iter().any(|m| m.text.contains("R000001 已经审核属实")), "{told:#?}");
    let flagged = ask(&app, ENGLISH, "/check 17123456789").await;
    assert!(flagged.text.starts_with(&format!("🔴 High risk: {scam_number}")), "{}", flagged.text);
    assert!(
        flagged.text.contains("Why: Reported by citizens (R000001) and confirmed by the bureau"),
        "{}",
        flagged.text
    );
    assert!(ask(&app, CITIZEN, "/check https://kuaidi-lipei.top/x").await.text.starts_with("🔴"));
    let audit = app.store.audit_log(None, 10).await.unwrap();
    assert!(audit.iter().any(|e| e.action == pingan::domain::AuditAction::ReportApproved));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_long_report_keeps_every_part_fits_each_message_and_never_lists_official_numbers() {
    let app = spawn().await;
    let story = format!(
        "He called from 13800138000 and said he was from my bank. Afterwards I called 96110 to check.{}",
        " He kept calling and asking for the code from my phone.".repeat(30)
    );
    assert!((1_700..2_000).contains(&story.chars().count()));
    ask(&app, ENGLISH, "/report").await;
    assert!(ask(&app, ENGLISH, &story).await.text.starts_with("Which phone number, link or account"));
    let too_long = ask(&app, ENGLISH, &"His colleague was rude to me on the phone. ".repeat(8)).await;
    assert!(too_long.text.contains("at most 2000 characters together"), "{}", too_long.text);
    let summary = ask(&app, ENGLISH, "His colleague used 13900139000 too.").await;
    assert!(summary.text.contains("Added: His colleague used 13900139000 too."), "{}", summary.text);
    assert!(!summary.text.contains("rude"), "the refused addition is not kept: {}", summary.text);

    // Two forwarded messages: a long text, and a photo's caption.
    let long_forward =
        format!("Refund notice: visit pay-refund.top today. {}", "Act now or lose it. ".repeat(180));
    let before = app.fake.sent_to(ENGLISH).len();
    app.fake.user_forwards(&user(ENGLISH), &long_forward, "Bank Service");
    app.fake.user_forwards_photo(&user(ENGLISH), "Scan to claim at claim-refund.top", "Bank Service");
    let summaries = app.fake.wait_for_sent(ENGLISH, before + 2).await;
    // A third names ten more sites: the summary names ten values and counts the rest.
    let domains: Vec<String> = (b'a'..=b'j')
        // Long, and as long as DNS lets a name be (253 characters).
        .map(|c| format!("{}.top", vec![(c as char).to_string().repeat(60); 4].join(".")))
        .collect();
    app.fake.user_forwards(&user(ENGLISH), &domains.join(" "), "Bank Service");
    let seen = summaries.len();
    let summary = &app
        .fake
        .wait_for("the summary with its Send button", |s| {
            let mine = s.sent.iter().filter(|m| m.chat_id == ENGLISH).skip(seen);
            mine.into_iter()
                .find(|m| m.buttons().iter().flatten().any(|(label, _)| label == "📨 Send the report"))
                .cloned()
        })
        .await;
    assert!(summary.text.contains(" and 5 more"), "{}", summary.text);
    for named in ["+86 138 0013 8000", "+86 139 0013 9000", "pay-refund.top", "claim-refund.top"] {
        assert!(summary.text.contains(named), "{named}: {}", summary.text);
    }
    assert_eq!(press(&app, ENGLISH, summary, "📨 Send the report").await, None);
    let report = app.store.pending_reports(1, 0).await.unwrap().remove(0);
    assert!(
        report.story.as_str().ends_with("\n\nHis colleague used 13900139000 too."),
        "the addition is kept"
    );
    let forwarded = report.forwarded.as_ref().unwrap().as_str();
    assert!(forwarded.starts_with("Bank Service: Refund notice") && forwarded.contains("claim-refund.top"));
    assert_eq!(report.subjects.len(), 15, "{:?}", report.subjects);

    // The moderator's card fits one message (the fake refuses longer ones); confirming
    // and listing leaves the official 96110 alone.
    let seen = app.fake.sent_to(MODERATOR).len();
    app.fake.user_sends(&user(MODERATOR), "/reports");
    let card = app.fake.wait_for_sent(MODERATOR, seen + 2).await.remove(seen + 1);
    assert!(card.text.contains("13900139000 too") && card.text.contains("pay-refund.top"), "{}", card.text);
    assert_eq!(press(&app, MODERATOR, &card, "✅ 属实并列入名单").await, None);
    let decided = app.fake.message(card.chat_id, card.message_id);
    assert!(decided.text.contains("14 个号码、网址或账号已列为涉诈"), "{}", decided.text);
    assert!(decided.text.contains("另有 1 项已在名单中或属官方号码、网站，保持不变"), "{}", decided.text);
    assert!(ask(&app, ENGLISH, "/check 96110").await.text.starts_with("🟢 Official"));
    assert!(ask(&app, ENGLISH, "/check 13900139000").await.text.starts_with("🔴 High risk"));

    // 1988 emoji are 1988 characters but 3976 of Telegram's units: the summary comes in
    // two messages, the buttons under the last, and every part of the card fits too.
    ask(&app, ENGLISH, "/report").await;
    let details = ask(&app, ENGLISH, &format!("{} 13700137000", "🚨".repeat(1_988))).await;
    let seen = app.fake.sent_to(ENGLISH).len();
    press(&app, ENGLISH, &details, "None").await;
    let parts = app.fake.wait_for_sent(ENGLISH, seen + 2).await.split_off(seen);
    assert!(parts[0].text.starts_with("Your report\n\n🚨"), "{}", parts[0].text);
    assert_eq!(press(&app, ENGLISH, &parts[1], "📨 Send the report").await, None);
    let seen = app.fake.sent_to(MODERATOR).len();
    app.fake.user_sends(&user(MODERATOR), "/reports");
    let last = app
        .fake
        .wait_for("the card's buttons", |s| {
            let mine = s.sent.iter().filter(|m| m.chat_id == MODERATOR).skip(seen);
            mine.into_iter().find(|m| !m.buttons().is_empty()).cloned()
        })
        .await;
    let card: Vec<_> = app.fake.sent_to(MODERATOR).split_off(seen + 1);
    assert!(card[0].text.starts_with("举报 R000002") && last.text.contains("+86 137 0013 7000"));
    assert_eq!(press(&app, MODERATOR, &last, "❌ 驳回").await, None);
    let decided = app.fake.message(last.chat_id, last.message_id).text;
    assert!(decided.starts_with("举报 R000002") && decided.contains("已驳回"), "{decided}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn reports_are_limited_per_hour_and_cancel_keeps_nothing() {
    let app =
        spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[("PINGAN_BOT_REPORTS_PER_HOUR", "2")])
            .await;
    for n in 1..=2 {
        ask(&app, CITIZEN, "/report").await;
        ask(&app, CITIZEN, &format!("第{n}次：有人冒充公检法让我转账到安全账户 6222 0212 3456 7890 128。"))
            .await;
        let details = last_to(&app, CITIZEN);
        press(&app, CITIZEN, &details, "没有").await;
        let summary = last_to(&app, CITIZEN);
        assert!(summary.text.contains("6222 0212 3456 7890 128"), "{}", summary.text);
        press(&app, CITIZEN, &summary, "📨 提交举报").await;
    }
    let refused = ask(&app, CITIZEN, "/report").await;
    assert!(refused.text.starts_with("您在过去一小时内已提交 2 条举报"), "{}", refused.text);
    assert_eq!(app.store.count_pending_reports().await.unwrap(), 2);

    let other = ENGLISH;
    ask(&app, other, "/report").await;
    assert_eq!(ask(&app, other, "/cancel").await.text, "Cancelled.");
    let hint = ask(&app, other, "what now?").await.text;
    assert!(hint.contains("/check") && hint.contains("/search"), "the dialogue is over: {hint}");
    assert_eq!(app.store.count_pending_reports().await.unwrap(), 2);
    let long = "诈".repeat(2_001);
    ask(&app, other, "/report").await;
    assert!(ask(&app, other, &long).await.text.contains("at most 2000 characters"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_forwarded_message_outside_a_report_is_checked() {
    let app = spawn().await;
    let added = ask(&app, EDITOR, "/indicator add 400-820-1234 fraud 冒充银行").await;
    assert!(added.text.starts_with("✅ 已将 +86 400 820 1234 列为涉诈。"), "{}", added.text);
    let before = app.fake.sent_to(CITIZEN).len();
    app.fake.user_forwards(
        &user(CITIZEN),
        "您的账户异常，请拨打 400 820 1234 或登录 icbc-verify.com.cn 验证",
        "银行通知",
    );
    // One answer for both values, as for a typed message; then how to report it.
    let answers = app.fake.wait_for_sent(CITIZEN, before + 2).await;
    let answer = &answers[before].text;
    assert!(answer.starts_with("🔴 高风险：+86 400 820 1234"), "{answer}");
    assert!(answer.contains("类型：400 企业服务热线"), "{answer}");
    assert!(answer.contains("\n\n⚪ 暂无记录：icbc-verify.com.cn"), "{answer}");
    assert!(answers[before + 1].text.contains("/report"));
    app.stop().await.unwrap();
}

/// Decodes a PNG: its size and its pixels.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let mut reader = png::Decoder::new(bytes).read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("its image");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixels = buffer[..info.buffer_size()].chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
    (info.width, info.height, pixels)
}

/// The separate blobs of exactly `colour` outside the legend: the chart draws each point
/// as one (and the legend's swatch, which is left out).
fn points_of(width: u32, height: u32, pixels: &[[u8; 3]], colour: [u8; 3]) -> usize {
    let legend = pingan::chart::LEGEND_AREA;
    let mut seen = vec![false; pixels.len()];
    let mut count = 0;
    for start in 0..pixels.len() {
        let (x, y) = (start as u32 % width, start as u32 / width);
        if seen[start] || pixels[start] != colour || legend.contains(x, y) {
            continue;
        }
        count += 1;
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(i) = stack.pop() {
            let (x, y) = (i as u32 % width, i as u32 / width);
            for (nx, ny) in [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)] {
                let j = (ny * width + nx) as usize;
                if nx < width && ny < height && !seen[j] && pixels[j] == colour {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    count
}

/// Pixels of text (neither white nor a series' colour) inside `area`.
fn text_pixels(width: u32, pixels: &[[u8; 3]], area: pingan::chart::Area) -> usize {
    let colours: Vec<[u8; 3]> =
        pingan::chart::PALETTE.iter().flat_map(|(a, b)| [[a.0, a.1, a.2], [b.0, b.1, b.2]]).collect();
    pixels
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            area.contains(*i as u32 % width, *i as u32 / width) && **p != [255; 3] && !colours.contains(p)
        })
        .count()
}

#[tokio::test]
async fn stats_show_the_latest_figures_and_a_chart_that_matches_the_data() {
    let app = spawn().await;
    assert_eq!(ask(&app, CITIZEN, "/stats").await.text, "市局尚未发布统计数据。");

    // The demo's first release: one period, so figures and no chart.
    app.store.put_figures(&pingan::content::figures::demo().unwrap(), Utc::now()).await.unwrap();
    let first = ask(&app, ENGLISH, "/stats").await;
    assert!(
        first.text.starts_with("Telecom and online fraud in the city, January to October 2023"),
        "{}",
        first.text
    );
    assert!(first.text.contains("Cases filed: 3,774 (down 4.79% on a year before)"), "{}", first.text);
    assert!(first.text.contains("Payments stopped: ¥1.72 billion"), "{}", first.text);
    let zh = ask(&app, CITIZEN, "/stats").await;
    assert!(zh.text.contains("立案：3,774 起（同比下降 4.79%）"), "{}", zh.text);
    assert!(
        zh.text.contains("群众损失：3.37 亿元（同比下降 6.84%）")
            && zh.text.contains("返还群众资金：1,743 万元"),
        "{}",
        zh.text
    );
    assert!(app.fake.sent_to(CITIZEN).iter().all(|m| m.photo.is_none()), "one period makes no chart");

    // Four quarters (solved is missing for two, money for one): the latest is shown, and
    // the trend of quarters drawn, without the ten months of the demo: two photos.
    let quarters = "[[period]]\nfrom = 2023-10-01\nto = 2023-12-31\nsource = \"test\"\ncases = 1200\nlosses = 90000000\n\
                    [[period]]\nfrom = 2024-01-01\nto = 2024-03-31\nsource = \"test\"\ncases = 1100\nsolved = 520\nlosses = 81000000\nreturned = 4000000\n\
                    [[period]]\nfrom = 2024-04-01\nto = 2024-06-30\nsource = \"test\"\ncases = 980\n\
                    [[period]]\nfrom = 2024-07-01\nto = 2024-09-30\nsource = \"test\"\ncases = 870\nsolved = 610\nlosses = 64500000\nreturned = 5200000\n";
    app.store.put_figures(&pingan::content::figures::parse(quarters).unwrap(), Utc::now()).await.unwrap();
    let [(cases, _), (solved, _), ..] = pingan::chart::PALETTE;
    let colour = |c: pingan::chart::Rgb| [c.0, c.1, c.2];
    for (chat, header, captions) in [
        (
            CITIZEN,
            "2024年7月至9月全市电信网络诈骗情况",
            [
                "立案数与破案数，共 4 个统计期：最早为2023年10月至12月，最近为2024年7月至9月。",
                "群众损失与紧急止付、冻结、返还的资金，共 3 个统计期：最早为2023年10月至12月，最近为2024年7月至9月。",
            ],
        ),
        (
            ENGLISH,
            "Telecom and online fraud in the city, July to September 2024",
            [
                "Cases filed and solved over 4 periods, from October to December 2023 to July to September 2024.",
                "Money lost, and payments stopped, proceeds frozen and money returned to victims over 3 periods, \
                 from October to December 2023 to July to September 2024.",
            ],
        ),
    ] {
        let before = app.fake.sent_to(chat).len();
        app.fake.user_sends(&user(chat), "/stats");
        let sent = app.fake.wait_for_sent(chat, before + 3).await;
        assert!(sent[before].text.starts_with(header), "{}", sent[before].text);
        let charts = &sent[before + 1..];
        assert_eq!(charts.len(), 2, "two photos");
        for (chart, caption) in charts.iter().zip(captions) {
            assert_eq!(chart.text, caption);
            assert!(chart.text.chars().count() <= 1024, "within Telegram's caption limit");
            let (width, height, pixels) = decode_png(chart.photo.as_ref().expect("a photo"));
            assert_eq!((width, height), (pingan::chart::WIDTH, pingan::chart::HEIGHT));
            let title = text_pixels(width, &pixels, pingan::chart::TITLE_AREA);
            let legend = text_pixels(width, &pixels, pingan::chart::LEGEND_AREA);
            assert!(title > 400 && legend > 150, "{chat}: title {title} and legend {legend} text pixels");
        }
        let (width, height, pixels) = decode_png(charts[0].photo.as_ref().unwrap());
        assert_eq!(points_of(width, height, &pixels, colour(cases)), 4, "a point per period with cases");
        assert_eq!(points_of(width, height, &pixels, colour(solved)), 2, "none where solved is missing");
        let (width, height, pixels) = decode_png(charts[1].photo.as_ref().unwrap());
        assert_eq!(points_of(width, height, &pixels, colour(cases)), 3, "money lost in three quarters");
        assert_eq!(points_of(width, height, &pixels, colour(solved)), 0, "no payments stopped: no series");
        let returned = colour(pingan::chart::PALETTE[3].0);
        assert_eq!(points_of(width, height, &pixels, returned), 2, "returned in two quarters");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn editors_edit_add_and_retire_tips_from_the_tips_menu_and_citizens_never_see_a_retired_one() {
    let app = spawn().await;
    let open_kind = |from: i64| {
        let app = &app;
        async move {
            let menu = ask(app, from, "/tips").await;
            press(app, from, &menu, "刷单返利").await;
            app.fake.message(menu.chat_id, menu.message_id)
        }
    };
    let citizen_view = open_kind(CITIZEN).await;
    assert!(
        citizen_view.buttons().iter().flatten().all(|(label, _)| !label.starts_with('✏')),
        "no editor buttons"
    );
    let shipped_title = "“动动手指就赚钱”的刷单兼职，都是诈骗";
    assert!(citizen_view.text.contains(shipped_title), "{}", citizen_view.text);
    let forged = app.fake.press(&user(CITIZEN), &citizen_view, "te:a:order_brushing");
    assert_eq!(
        app.fake.wait_for_answer(&forged).await.as_deref(),
        Some("抱歉，只有市局授权的编辑才能使用这个命令。")
    );

    // The editor adds a tip, then retires the shipped one.
    let view = open_kind(EDITOR).await;
    assert!(view.text.contains(&format!("1. {shipped_title}")), "{}", view.text);
    press(&app, EDITOR, &view, "➕ 新增提示").await;
    assert!(
        last_to(&app, EDITOR).text.contains("请发送“刷单返利”类的新提示"),
        "{}",
        last_to(&app, EDITOR).text
    );
    assert_eq!(ask(&app, EDITOR, "只有标题").await.text, "无法保存这条提示：提示正文为空。请重新发送。");
    let saved =
        ask(&app, EDITOR, "点赞返现先垫付？都是骗局\n先给小甜头，再让你垫付大单，钱就回不来了。").await;
    assert_eq!(saved.text, "✅ 提示已保存，群众可以在 /tips 和 /search 中看到。");
    let view = open_kind(EDITOR).await;
    assert_eq!(press(&app, EDITOR, &view, "🗄 1").await, None, "asks first");
    let question = last_to(&app, EDITOR);
    assert!(question.text.starts_with("确定要停用提示"), "{}", question.text);
    assert_eq!(
        press(&app, EDITOR, &question, "🗄 确认停用").await.as_deref(),
        Some("已停用：群众将不再看到这条提示。")
    );

    let citizen_view = open_kind(CITIZEN).await;
    assert!(!citizen_view.text.contains(shipped_title), "retired: {}", citizen_view.text);
    assert!(citizen_view.text.contains("点赞返现先垫付？都是骗局"), "{}", citizen_view.text);
    let search = ask(&app, CITIZEN, "/search 刷单兼职").await;
    assert!(!search.text.contains(shipped_title), "{}", search.text);

    // Editing the new tip, through the same buttons.
    let view = open_kind(EDITOR).await;
    press(&app, EDITOR, &view, "✏️ 1").await;
    assert!(last_to(&app, EDITOR).text.contains("现在的内容"), "{}", last_to(&app, EDITOR).text);
    ask(&app, EDITOR, "垫付返利都是骗局\n任何要求先垫钱的刷单都是诈骗。").await;
    assert!(open_kind(CITIZEN).await.text.contains("垫付返利都是骗局"));
    let by_editor = pingan::domain::Actor::Telegram(EDITOR);
    let actions: Vec<_> =
        app.store.audit_log(Some(&by_editor), 10).await.unwrap().into_iter().map(|e| e.action).collect();
    use pingan::domain::AuditAction::{TipAdded, TipEdited, TipRetired};
    assert_eq!(actions, [TipEdited, TipRetired, TipAdded]);

    // In a group the editor's view is everyone's: no editors' buttons there.
    let group = -1_001_000_000_077;
    app.fake.group_member_sends(group, &user(EDITOR), &format!("/tips@{}", app.fake.bot_username()), None);
    let menu = app.fake.wait_for_sent(group, 1).await.remove(0);
    press(&app, EDITOR, &menu, "刷单返利").await;
    let shared = app.fake.message(menu.chat_id, menu.message_id);
    assert!(shared.text.contains("垫付返利都是骗局"), "{}", shared.text);
    let labels: Vec<String> = shared.buttons().concat().into_iter().map(|(label, _)| label).collect();
    assert_eq!(labels, ["📤 分享", "◀ 全部类型"], "{shared:?}");

    // A type whose tips are all retired leaves the citizens' menu, not the editors'.
    let loans = pingan::store::TipQuery {
        scam_type: Some(pingan::domain::ScamType::Loan),
        ..pingan::store::TipQuery::default()
    };
    for tip in app.store.tips(&loans).await.unwrap() {
        app.store.retire_tip(tip.id, &Actor::System, Utc::now()).await.unwrap();
    }
    let labels = |m: &SentMessage| m.buttons().into_iter().flatten().map(|(l, _)| l).collect::<Vec<_>>();
    assert!(!labels(&ask(&app, CITIZEN, "/tips").await).contains(&"虚假网络贷款".to_owned()));
    let menu = ask(&app, EDITOR, "/tips").await;
    assert!(labels(&menu).contains(&"虚假网络贷款".to_owned()), "{:?}", labels(&menu));
    press(&app, EDITOR, &menu, "虚假网络贷款").await;
    let empty = app.fake.message(menu.chat_id, menu.message_id);
    assert!(labels(&empty).contains(&"➕ 新增提示".to_owned()), "{empty:?}");
    app.stop().await.unwrap();
}

/// Before reasons were kept as data, a value listed from a confirmed report was stored
/// with the sentence in the bureau's default language. Migrating re-keys that sentence (in
/// either language) to the report's reference, and leaves an editor's words as they are.
async fn a_confirmed_reports_reason_stored_as_a_sentence_is_rekeyed_and_shown_in_each_language(db: TestDb) {
    let backend = if matches!(db, TestDb::Sqlite { .. }) { "sqlite" } else { "postgres" };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut before = sqlx::migrate::Migrator::new(dir).await.unwrap();
    before.migrations = before.migrations.iter().filter(|m| m.version < 20261201000018).cloned().collect();
    let listed: [(&str, &str); 4] = [
        ("+8617123456789", "群众举报（R000007）经市局核实"),
        ("+8617123456780", "Reported by citizens (R000012) and confirmed by the bureau"),
        ("+8617123456781", "群众举报（R00x007）经市局核实"),
        ("+8617123456782", "冒充银行客服"),
    ];
    macro_rules! fill {
        ($pool:expr) => {{
            let pool = $pool;
            before.run(&pool).await.unwrap();
            for (value, reason) in listed {
                sqlx::query(
                    "INSERT INTO indicators (kind, value, risk, reason, added_by, added_at) \
                     VALUES ('phone', $1, 'fraud', $2, 'telegram:802', $3)",
                )
                .bind(value)
                .bind(reason)
                .bind(Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap())
                .execute(&pool)
                .await
                .unwrap();
            }
            pool.close().await;
        }};
    }
    match &db {
        TestDb::Sqlite { .. } => {
            fill!(sqlx::SqlitePool::connect(&format!("{}?mode=rwc", db.url())).await.unwrap())
        }
        TestDb::Postgres { .. } => fill!(sqlx::PgPool::connect(db.url()).await.unwrap()),
    }

    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    let reason = |value: &'static str| {
        let store = app.store.clone();
        async move { store.indicator(IndicatorKind::Phone, value).await.unwrap().unwrap().reason }
    };
    use pingan::domain::{ListedReason, ReportId};
    assert_eq!(reason("+8617123456789").await, ListedReason::ConfirmedReport(ReportId(7)));
    assert_eq!(reason("+8617123456780").await, ListedReason::ConfirmedReport(ReportId(12)));
    assert_eq!(
        reason("+8617123456781").await.to_string(),
        "群众举报（R00x007）经市局核实",
        "not a reference"
    );
    assert_eq!(reason("+8617123456782").await.to_string(), "冒充银行客服");
    let english = ask(&app, ENGLISH, "/check 17123456789").await;
    assert!(
        english.text.contains("Why: Reported by citizens (R000007) and confirmed by the bureau"),
        "{}",
        english.text
    );
    let chinese = ask(&app, CITIZEN, "/check 17123456780").await;
    assert!(chinese.text.contains("群众举报（R000012）经市局核实"), "{}", chinese.text);
    app.stop().await.unwrap();
}
