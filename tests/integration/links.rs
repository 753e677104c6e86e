//! `/check` of links over the fake Bot API: WHATWG parsing, the whole Public Suffix List,
//! look-alikes of official sites (README "The risk check"), and stored link keys moved when
//! their rules change.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use pingan::clock::SystemClock;
use pingan::domain::{Actor, AuditAction, IndicatorKind};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::on_both_backends;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

const CITIZEN: i64 = 903;
const ENGLISH: i64 = 904;

async fn ask(app: &TestApp, from: i64, text: &str) -> SentMessage {
    let language = if from == ENGLISH { "en" } else { "zh-hans" };
    let before = app.fake.sent_to(from).len();
    app.fake.user_sends(&TgUser::new(from, "Someone", Some(language)), text);
    app.fake.wait_for_sent(from, before + 1).await.remove(before)
}

/// Who asks, what, what the answer starts with, what it must say and what it must not.
type Case = (i64, &'static str, &'static str, &'static [&'static str], &'static [&'static str]);

/// The four inputs, and more of each kind: what the answer starts with and what
/// it must and must not say.
#[tokio::test]
async fn link_answers_name_what_a_link_shows_and_where_it_leads() {
    let app = spawn_app_with(TestDb::sqlite(), Arc::new(SystemClock), &[]).await;
    let cases: &[Case] = &[
        // A full-width dot, as Chinese input methods type it, and an ideographic one.
        (CITIZEN, "/check alipay．com", "🟢 官方：alipay.com", &["支付宝"], &[]),
        (CITIZEN, "/check ＡＬＩＰＡＹ。ＣＯＭ", "🟢 官方：alipay.com", &[], &[]),
        // Shows one site, leads to another: both are named.
        (
            CITIZEN,
            "/check https://alipay.com@evil.example/",
            "🔴 高风险：evil.example",
            &["伪装成 alipay.com", "实际打开的是另一个网站 evil.example"],
            &["暂无记录"],
        ),
        (
            ENGLISH,
            "/check https://alipay.com@evil.example/",
            "🔴 High risk: evil.example",
            &["made to look like alipay.com, but it leads to evil.example"],
            &[],
        ),
        (CITIZEN, "/check alipay.com.evil.example", "🔴 高风险：evil.example", &["伪装成 alipay.com"], &[]),
        (
            CITIZEN,
            "/check hxxps://www.icbc.com.cn[.]secure-pay[.]top/login",
            "🔴 高风险：secure-pay.top",
            &["伪装成 icbc.com.cn"],
            &[],
        ),
        // A domain in Chinese characters is not warned about for being non-Latin.
        (
            CITIZEN,
            "/check https://某区公安.中国/",
            "⚪ 暂无记录：某区公安.中国",
            &[],
            &["非拉丁", "不同文字", "外形像拉丁"],
        ),
        (ENGLISH, "/check 公安.中国", "⚪ No record: 公安.中国", &[], &["alphabet", "Latin"]),
        // One slip of an official name, under any suffix.
        (CITIZEN, "/check alipya.top", "🔴 高风险：alipya.top", &["该网址仿冒 alipay.com"], &[]),
        (CITIZEN, "/check taobaoo.shop", "🔴 高风险：taobaoo.shop", &["仿冒 taobao.com"], &[]),
        // Alibaba's cloud drive is one slip from alipay, and genuine.
        (CITIZEN, "/check https://www.alipan.com/s/x", "🟢 官方：alipan.com", &["阿里云盘"], &[]),
        // Look-alike letters of another script: mixed in, or all of them.
        (CITIZEN, "/check https://аlipay.com/refund", "🔴 高风险：аlipay.com", &["仿冒 alipay.com"], &[]),
        (CITIZEN, "/check аӏірау.com", "🔴 高风险：аӏірау.com", &["仿冒 alipay.com"], &[]),
        // Not an official name, but letters imitations use: a note under "no record".
        (CITIZEN, "/check аlipay-refund.top", "⚪ 暂无记录", &["混用了不同文字的字母"], &[]),
        (
            ENGLISH,
            "/check аррӏе.top",
            "⚪ No record",
            &["letters of another alphabet that look Latin", "reads as apple.top"],
            &[],
        ),
        // Defanged, and under a suffix of the whole list.
        (CITIZEN, "/check hxxp://shop.example.com[.]ua/pay", "⚪ 暂无记录：example.com.ua", &[], &[]),
    ];
    assert!(cases.len() >= 15);
    for (from, asked, starts, says, never) in cases {
        let answer = ask(&app, *from, asked).await;
        assert!(answer.text.starts_with(starts), "{asked}: {}", answer.text);
        for said in *says {
            assert!(answer.text.contains(said), "{asked} should say {said:?}: {}", answer.text);
        }
        for unsaid in *never {
            assert!(!answer.text.contains(unsaid), "{asked} should not say {unsaid:?}: {}", answer.text);
        }
    }
    app.stop().await.unwrap();
}

on_both_backends!(links_stored_under_keys_of_the_hand_kept_suffixes_move_to_their_key_when_migrating);

/// Keys made with the hand-kept suffix list: `gitee.io` and `com.ae` were public suffixes
/// there and are not in the Public Suffix List, so a site under them is keyed by the suffix
/// now. A database of then (its phone keys current, its link keys unrecorded) is migrated,
/// and the list, the reports and the audit log follow.
async fn links_stored_under_keys_of_the_hand_kept_suffixes_move_to_their_key_when_migrating(db: TestDb) {
    let backend = if matches!(db, TestDb::Sqlite { .. }) { "sqlite" } else { "postgres" };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let before = sqlx::migrate::Migrator::new(dir).await.unwrap();
    let at = |day| Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap();
    // Two Gitee Pages sites (fraud, then suspicious), a site under com.ae, a current key,
    // and a value no longer a link.
    let listed: [(&str, &str, &str, u32); 5] = [
        ("pay.gitee.io", "fraud", "仿冒银行退款页面", 28),
        ("refund.gitee.io", "suspicious", "群众反映的可疑页面", 29),
        ("shop.com.ae", "fraud", "虚假购物网站", 28),
        ("alipay-refund.top", "fraud", "仿冒支付平台", 28),
        ("localhost", "suspicious", "无效记录", 28),
    ];
    // Report 1 names the Gitee site both ways; report 2 the com.ae one.
    let reported: [(i64, &str); 3] = [(1, "pay.gitee.io"), (1, "gitee.io"), (2, "shop.com.ae")];
    macro_rules! fill {
        ($pool:expr) => {{
            let pool = $pool;
            before.run(&pool).await.unwrap();
            sqlx::query("INSERT INTO data_versions (name, version, updated_at) VALUES ('phone_keys', $1, $2)")
                .bind(pingan::domain::check::PHONE_KEY_RULES)
                .bind(at(28))
                .execute(&pool)
                .await
                .unwrap();
            for (value, risk, reason, day) in listed {
                sqlx::query(
                    "INSERT INTO indicators (kind, value, risk, reason, added_by, added_at) \
                     VALUES ('domain', $1, $2, $3, 'telegram:801', $4)",
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
                     VALUES ($1, 903, 903, 'zh', '假网站', 'approved', 'telegram:802', $2, $2)",
                )
                .bind(id)
                .bind(at(28))
                .execute(&pool)
                .await
                .unwrap();
            }
            for (report, value) in reported {
                sqlx::query("INSERT INTO report_subjects (report_id, kind, value, shown) VALUES ($1, 'domain', $2, $2)")
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
    for written in ["https://pay.gitee.io/x", "refund.gitee.io", "GITEE.IO"] {
        let answer = ask(&app, CITIZEN, &format!("/check {written}")).await;
        assert!(answer.text.starts_with("🔴 高风险：gitee.io"), "{written}: {}", answer.text);
        assert!(answer.text.contains("仿冒银行退款页面"), "the more serious entry is kept: {}", answer.text);
    }
    let shop = ask(&app, CITIZEN, "/check https://shop.com.ae/").await;
    assert!(shop.text.starts_with("🔴 高风险：com.ae"), "{}", shop.text);

    let mut values: Vec<String> = app
        .store
        .indicators(Some(IndicatorKind::Domain), 10, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.value)
        .collect();
    values.sort();
    assert_eq!(values, ["alipay-refund.top", "com.ae", "gitee.io", "localhost"]);
    let rekeyed: Vec<_> = app
        .store
        .audit_log(Some(&Actor::System), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Rekeyed)
        .map(|e| (e.subject, e.detail))
        .collect();
    assert_eq!(rekeyed.len(), 4, "{rekeyed:#?}");
    assert_eq!(rekeyed[0].0, "domain keys", "{rekeyed:#?}");
    assert!(
        rekeyed[0].1.starts_with(pingan::domain::check::LINK_KEY_RULES)
            && rekeyed[0]
                .1
                .ends_with("3 list entries re-keyed (1 merged), 2 report subjects; 1 no longer links, kept"),
        "{rekeyed:#?}"
    );
    assert!(
        rekeyed.contains(&(
            "domain gitee.io".to_owned(),
            "was refund.gitee.io; merged with the entry already under gitee.io, kept as fraud".to_owned()
        )),
        "{rekeyed:#?}"
    );
    // Each report counts once for the site it names.
    let answer = ask(&app, ENGLISH, "/check gitee.io").await;
    assert!(answer.text.starts_with("🔴 High risk: gitee.io"), "{}", answer.text);
    assert_eq!(app.store.approved_reports_naming(IndicatorKind::Domain, "gitee.io").await.unwrap(), 1);
    assert_eq!(app.store.approved_reports_naming(IndicatorKind::Domain, "com.ae").await.unwrap(), 1);
    // Migrating again (another instance starting, a restart) changes nothing.
    let again = app.store.migrate().await.unwrap();
    assert_eq!(again.rekeyed_links, pingan::store::Rekeyed::default());
    assert_eq!(again.rekeyed_phones, pingan::store::Rekeyed::default());
    app.stop().await.unwrap();
}
