//! CAP 1.2: the public samples import, a round trip keeps a notice, Update corrects,
//! Cancel withdraws (telling those who received it), and a bad file imports nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use pingan::cap;
use pingan::clock::{Clock, ManualClock};
use pingan::domain::{Actor, ChatId, Language, Notice, NoticeStatus, Subscriber};
use pingan::i18n::Texts;
use pingan::publishing::Desk;
use pingan::store::Store;
use tempfile::TempDir;

use crate::support::binary::{output, pingan, text};
use crate::support::test_app::spawn_app_with;
use crate::support::test_db::TestDb;

/// The sender this Pingan writes its own alerts as.
const OWN_SENDER: &str = "pingan@police.example.gov.cn";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cap").join(name)
}

fn samples() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cap-samples");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "xml"));
    files.sort();
    Some(files)
}

async fn import(store: &Arc<dyn Store>, clock: &dyn Clock, path: &Path) -> cap::ImportReport {
    let alerts = cap::parse_xml(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let texts = Texts::load().unwrap();
    let desk = Desk { store: store.as_ref(), texts: &texts, zone: chrono_tz::Asia::Shanghai, clock };
    cap::import_alerts(&[alerts], &desk, &Actor::Cli("test".into()), OWN_SENDER).await.unwrap()
}

#[tokio::test]
async fn every_public_sample_imports() {
    let Some(files) = samples() else {
        eprintln!("SKIPPED: ../shared/cap-samples is not here");
        return;
    };
    assert!(files.len() >= 6, "{files:?}");
    let db = TestDb::sqlite();
    let store = db.store().await;
    let clock = ManualClock::new(Utc::now());
    let mut created = Vec::new();
    for file in &files {
        let report = import(&store, &clock, file).await;
        eprintln!("{}: {report:?}", file.display());
        let outcomes = report.created.len() + report.corrected.len() + report.retracted.len();
        assert!(outcomes + report.skipped.len() > 0, "{}: nothing was said about it", file.display());
        assert!(
            report.skipped.iter().all(|why| why.contains("alert ")),
            "{}: {:?}",
            file.display(),
            report.skipped
        );
        created.extend(report.created);
    }
    // Six samples: five carry an English or Chinese info; the Nevada one cancels an alert that was never here.
    assert_eq!(created.len(), files.len() - 1, "{created:?}");
    let mut languages = Vec::new();
    for id in created {
        let notice = store.notice(id).await.unwrap().unwrap();
        assert!(!notice.content.title.as_str().contains('\n'), "{:?}", notice.content.title);
        assert!(
            notice.external_id.as_deref().is_some_and(|e| e.starts_with("cap:")),
            "{:?}",
            notice.external_id
        );
        languages.push(notice.content.language);
    }
    assert!(languages.contains(&Language::Zh), "the Taiwanese sample is Chinese: {languages:?}");
    assert!(languages.contains(&Language::En));
    store.close().await;
}

fn same_notice(a: &Notice, b: &Notice) {
    assert_eq!(a.content, b.content);
    assert_eq!((a.publish_at, a.expires_at, a.status), (b.publish_at, b.expires_at, b.status));
    assert_eq!(a.external_id, b.external_id);
}

#[tokio::test]
async fn a_round_trip_import_export_import_keeps_the_notice() {
    let mut files = vec![fixture("pingan_zh_alert.xml")];
    files.extend(samples().unwrap_or_default());
    for file in files {
        let (first_db, second_db) = (TestDb::sqlite(), TestDb::sqlite());
        let (first, second) = (first_db.store().await, second_db.store().await);
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap());
        let report = import(&first, &clock, &file).await;
        for id in report.created {
            let original = first.notice(id).await.unwrap().unwrap();
            let zone = chrono_tz::Asia::Shanghai;
            let xml = cap::to_xml(
                &cap::alert_from_store(first.as_ref(), &original, OWN_SENDER, zone).await.unwrap(),
            );
            let dir = TempDir::new().unwrap();
            let exported = dir.path().join("exported.xml");
            std::fs::write(&exported, &xml).unwrap();
            let again = import(&second, &clock, &exported).await;
            assert_eq!(again.created.len(), 1, "{}: {again:?}", file.display());
            let copy = second.notice(again.created[0]).await.unwrap().unwrap();
            same_notice(&original, &copy);
        }
        first.close().await;
        second.close().await;
    }
}

#[tokio::test]
async fn an_update_corrects_and_a_cancel_withdraws_telling_those_who_got_the_alert() {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 0, 5, 0).unwrap()));
    let app = spawn_app_with(
        TestDb::sqlite(),
        clock.clone(),
        &[("PINGAN_DELIVERY_TICK_MS", "50"), ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")],
    )
    .await;
    for chat in 1..=3 {
        app.store
            .save_subscriber(&Subscriber::new(
                ChatId(chat),
                Language::Zh,
                chrono_tz::Asia::Shanghai,
                clock.now(),
            ))
            .await
            .unwrap();
    }
    for chat in 11..=12 {
        app.store
            .save_subscriber(&Subscriber::new(
                ChatId(chat),
                Language::En,
                chrono_tz::Asia::Shanghai,
                clock.now(),
            ))
            .await
            .unwrap();
    }
    let report = import(&app.store, clock.as_ref(), &fixture("pingan_zh_alert.xml")).await;
    assert_eq!(report.created.len(), 2, "zh and en");
    for chat in 1..=3 {
        let alert = app.fake.wait_for_sent(chat, 1).await;
        assert!(alert[0].text.contains("冒充“客服”退款诈骗高发 & 请勿开启屏幕共享"), "{}", alert[0].text);
    }
    // The two versions are stored together: English readers get theirs, never the Chinese
    // one with a note.
    for chat in 11..=12 {
        let alert = app.fake.wait_for_sent(chat, 1).await;
        assert!(alert[0].text.contains("Fake customer-service refund calls are rising"), "{}", alert[0].text);
        assert!(!alert[0].text.contains("published in"), "{}", alert[0].text);
    }
    let zh = app
        .store
        .notice_by_external_id("cap:alerts@police.example.gov.cn:PINGAN-TEST-2026-001:zh")
        .await
        .unwrap()
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.store.notice_fanouts(zh.id).await.unwrap().iter().all(|f| f.sent < 3) {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let update = import(&app.store, clock.as_ref(), &fixture("pingan_zh_update.xml")).await;
    assert_eq!(update.corrected, [zh.id]);
    for chat in 1..=3 {
        let got = app.fake.wait_for_sent(chat, 2).await;
        assert!(got[1].text.starts_with("📝 更正") && got[1].text.contains("（更新）"), "{}", got[1].text);
    }
    let cancel = import(&app.store, clock.as_ref(), &fixture("pingan_cancel.xml")).await;
    assert_eq!(cancel.retracted.len(), 2, "both languages: {cancel:?}");
    for chat in 1..=3 {
        let got = app.fake.wait_for_sent(chat, 3).await;
        assert!(got[2].text.starts_with("❌ 撤回"), "{}", got[2].text);
        assert_eq!(got[2].reply_to, Some(i64::from(got[0].message_id)), "a reply to the alert");
    }
    assert_eq!(app.store.notice(zh.id).await.unwrap().unwrap().status, NoticeStatus::Retracted);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_file_is_reported_with_its_position_and_nothing_is_imported() {
    let dir = TempDir::new().unwrap();
    let truncated = dir.path().join("truncated.xml");
    std::fs::write(
        &truncated,
        "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n  <identifier>x</identifier>\n  <sender>",
    )
    .unwrap();
    let mut command = pingan(dir.path());
    command
        .args(["notices", "import"])
        .arg(fixture("pingan_zh_alert.xml"))
        .arg(&truncated)
        .arg(fixture("broken_missing_sender.xml"));
    let out = output(&mut command, None).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("truncated.xml: line 3"), "{stderr}");
    assert!(stderr.contains("broken_missing_sender.xml: /alert/sender: is missing"), "{stderr}");
    let list = text(&output(pingan(dir.path()).args(["notices", "list"]), None).await.stdout);
    assert_eq!(list.trim(), "No notices.", "the good file was not imported either");

    let mut good = pingan(dir.path());
    good.args(["notices", "import"]).arg(fixture("pingan_alert.json")).arg(fixture("pingan_zh_alert.xml"));
    let out = output(&mut good, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("pingan_alert.json: 1 created") && stdout.contains("pingan_zh_alert.xml: 2 created"),
        "{stdout}"
    );
    let audit = text(&output(pingan(dir.path()).arg("audit"), None).await.stdout);
    assert!(audit.contains("imported") && audit.contains("pingan_alert.json"), "{audit}");
    let exported = text(&output(pingan(dir.path()).args(["notices", "export", "1"]), None).await.stdout);
    assert!(cap::parse_xml(&exported).is_ok(), "{exported}");
}

fn parsed(name: &str) -> cap::Alert {
    cap::parse_xml(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

#[tokio::test]
async fn alerts_apply_in_order_once_and_only_when_actual() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap());
    let texts = Texts::load().unwrap();
    let desk = Desk { store: store.as_ref(), texts: &texts, zone: chrono_tz::Asia::Shanghai, clock: &clock };
    let me = Actor::Cli("test".into());
    let import = |alerts: Vec<cap::Alert>| {
        let (desk, me) = (&desk, &me);
        async move { cap::import_alerts(&alerts, desk, me, OWN_SENDER).await.unwrap() }
    };

    // An alert, its update and its cancellation in one batch: each finds the one before.
    let alert = parsed("pingan_zh_alert.xml");
    let update = parsed("pingan_zh_update.xml");
    let batch = import(vec![alert.clone(), update.clone()]).await;
    assert_eq!((batch.created.len(), batch.corrected.len()), (2, 1), "{batch:?}");
    let zh = batch.created[0];
    assert!(store.notice(zh).await.unwrap().unwrap().content.title.as_str().contains("（更新）"));

    // Importing them again changes nothing: the update is remembered too.
    let again = import(vec![alert, update]).await;
    assert!(again.created.is_empty() && again.corrected.is_empty(), "{again:?}");
    assert!(again.skipped.iter().all(|s| s.contains("already here")), "{again:?}");

    // A test cancellation withdraws nothing; the actual one does.
    let mut drill = parsed("pingan_cancel.xml");
    drill.status = "Test".into();
    let nothing = import(vec![drill]).await;
    assert!(nothing.retracted.is_empty() && nothing.skipped[0].contains("a Test Cancel changes nothing"));
    assert_eq!(store.notice(zh).await.unwrap().unwrap().status, NoticeStatus::Published);
    let withdrawn = import(vec![parsed("pingan_cancel.xml")]).await;
    assert_eq!(withdrawn.retracted.len(), 2, "{withdrawn:?}");
    assert_eq!(store.notice(zh).await.unwrap().unwrap().status, NoticeStatus::Retracted);

    // A bad alert anywhere in a batch stores nothing of it.
    let mut broken = parsed("pingan_zh_alert.xml");
    broken.identifier = "PINGAN-TEST-2026-009".into();
    let mut bad = broken.clone();
    bad.info[0].severity = "Apocalyptic".into();
    let before = store.count_notices(&pingan::store::NoticeQuery::default()).await.unwrap();
    let err = cap::import_alerts(&[broken, bad], &desk, &me, OWN_SENDER).await.unwrap_err();
    assert!(err.to_string().contains("/alert/info[1]/severity"), "{err}");
    assert_eq!(store.count_notices(&pingan::store::NoticeQuery::default()).await.unwrap(), before);
    store.close().await;
}

#[tokio::test]
async fn pingan_knows_its_own_exports() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap());
    let texts = Texts::load().unwrap();
    let desk = Desk { store: store.as_ref(), texts: &texts, zone: chrono_tz::Asia::Shanghai, clock: &clock };
    let me = Actor::Cli("test".into());
    let content = pingan::domain::NoticeContent {
        districts: Default::default(),
        title: pingan::domain::Title::parse("本站自己的通告").unwrap(),
        body: pingan::domain::Body::parse("正文").unwrap(),
        category: pingan::domain::Category::Fraud,
        severity: pingan::domain::Severity::Moderate,
        area: None,
        language: Language::Zh,
        source: None,
    };
    let ours = pingan::domain::NewNotice::new(
        content,
        pingan::domain::Publication::Now,
        None,
        me.clone(),
        clock.now(),
    )
    .unwrap();
    let ours = desk.publish(&ours, &me).await.unwrap();
    let exported = cap::parse_xml(&cap::export(&ours, None, OWN_SENDER, chrono_tz::UTC)).unwrap();
    let report = cap::import_alerts(std::slice::from_ref(&exported), &desk, &me, OWN_SENDER).await.unwrap();
    assert!(report.created.is_empty(), "{report:?}");
    assert!(report.skipped[0].contains(&format!("already here as notice {}", ours.id)), "{report:?}");

    // An update another system writes about our notice is refused, unless the operator
    // trusts that system; then it corrects it.
    let mut update = exported;
    update.msg_type = "Update".into();
    update.references = Some(format!("{OWN_SENDER},{},{}", update.identifier, update.sent));
    update.identifier = "CMS-42".into();
    update.sender = "cms@police.example.gov.cn".into();
    update.info[0].headline = Some("本站自己的通告（更新）".into());
    let report = cap::import_alerts(std::slice::from_ref(&update), &desk, &me, OWN_SENDER).await.unwrap();
    assert!(report.corrected.is_empty() && report.refused.len() == 1, "{report:?}");
    assert_eq!(store.notice(ours.id).await.unwrap().unwrap().content.title.as_str(), "本站自己的通告");
    let trusted = ["cms@police.example.gov.cn".to_owned()];
    let authority = cap::Authority { own_sender: OWN_SENDER, trusted_senders: &trusted };
    let report = cap::import_alerts(&[update], &desk, &me, authority).await.unwrap();
    assert_eq!(report.corrected, [ours.id]);
    assert_eq!(
        store.notice(ours.id).await.unwrap().unwrap().content.title.as_str(),
        "本站自己的通告（更新）"
    );

    // Another Pingan takes our alert; when we withdraw the notice, our export is its
    // Cancel, and the other withdraws its copy.
    let other_db = TestDb::sqlite();
    let other_store = other_db.store().await;
    let other = Desk { store: other_store.as_ref(), ..desk };
    let theirs_sender = "pingan@other.example.gov.cn";
    let alert = cap::parse_xml(&cap::export(&ours, None, OWN_SENDER, chrono_tz::UTC)).unwrap();
    let copy = cap::import_alerts(&[alert], &other, &me, theirs_sender).await.unwrap().created[0];
    desk.retract(ours.id, &me).await.unwrap();
    let withdrawn = store.notice(ours.id).await.unwrap().unwrap();
    let xml = cap::export(&withdrawn, None, OWN_SENDER, chrono_tz::UTC);
    let cancel = cap::parse_xml(&xml).unwrap();
    assert_eq!(
        (cancel.msg_type.as_str(), cancel.identifier.as_str()),
        ("Cancel", &*format!("pingan-{}-cancel", ours.id))
    );
    assert!(
        cancel.references.as_deref().unwrap().starts_with(&format!("{OWN_SENDER},pingan-{},", ours.id)),
        "{xml}"
    );
    let report = cap::import_alerts(&[cancel], &other, &me, theirs_sender).await.unwrap();
    assert_eq!(report.retracted, [copy], "{report:?}");
    assert_eq!(
        other_store.notice(copy).await.unwrap().unwrap().status,
        pingan::domain::NoticeStatus::Retracted
    );
    other_store.close().await;
    store.close().await;
}
