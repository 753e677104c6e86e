//! CAP authority: an Update or Cancel changes only what its own sender published; a
//! notice written in Pingan changes only through Pingan unless the operator trusts the
//! file's sender; senders and identifiers with colons never collide; notices imported
//! before the sender and identifier were stored apart get them from their external ids.
//! Every test runs on SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use pingan::cap;
use pingan::clock::{ManualClock, SystemClock};
use pingan::domain::{
    Actor, AuditAction, Body, CapOrigin, Category, ChatId, Language, NewNotice, Notice, NoticeContent,
    NoticeStatus, Publication, Severity, Subscriber, Title,
};
use pingan::i18n::Texts;
use pingan::publishing::Desk;
use pingan::store::Store;
use tempfile::TempDir;

use crate::support::binary::{output, pingan, text};
use crate::support::on_both_backends;
use crate::support::test_app::spawn_app_with;
use crate::support::test_db::TestDb;

/// The sender this Pingan writes its own alerts as (the default `bot.cap_sender`).
const OWN: &str = "pingan@police.example.gov.cn";
const PARTNER: &str = "alerts@partner.example.org";

on_both_backends!(
    another_senders_update_or_cancel_of_an_editors_notice_is_refused_unless_the_sender_is_trusted,
    senders_and_identifiers_with_colons_neither_collide_nor_change_each_others_alerts,
    notices_imported_before_the_columns_existed_keep_their_sender,
);

fn cap_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// A CAP alert as XML: `references` for an Update or a Cancel, a Chinese `<info>` with
/// `headline` unless it is a Cancel.
fn alert_xml(
    sender: &str,
    identifier: &str,
    msg_type: &str,
    references: Option<&str>,
    headline: &str,
) -> String {
    let references = references.map(|r| format!("  <references>{r}</references>\n")).unwrap_or_default();
    let info = if msg_type == "Cancel" {
        String::new()
    } else {
        format!(
            "  <info>\n    <language>zh-CN</language>\n    <category>Security</category>\n    \
             <event>{headline}</event>\n    <urgency>Immediate</urgency>\n    <severity>Severe</severity>\n    \
             <certainty>Observed</certainty>\n    <headline>{headline}</headline>\n    \
             <description>{headline}：请注意防范。</description>\n  </info>\n"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n  \
         <identifier>{identifier}</identifier>\n  <sender>{sender}</sender>\n  <sent>{}</sent>\n  \
         <status>Actual</status>\n  <msgType>{msg_type}</msgType>\n  <scope>Public</scope>\n{references}{info}</alert>\n",
        cap_time(Utc::now()),
    )
}

fn write(dir: &Path, name: &str, xml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, xml).unwrap();
    path
}

/// `pingan notices import FILES` against `url`, with `trusted` as cap.trusted_senders;
/// returns its standard output, after checking that it succeeded.
async fn import_with_the_cli(url: &str, files: &[&Path], trusted: Option<&str>) -> String {
    let dir = TempDir::new().unwrap();
    let mut command = pingan(dir.path());
    command.env("DATABASE_URL", url).args(["notices", "import"]).args(files);
    if let Some(trusted) = trusted {
        command.env("PINGAN_CAP_TRUSTED_SENDERS", trusted);
    }
    let out = output(&mut command, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

async fn another_senders_update_or_cancel_of_an_editors_notice_is_refused_unless_the_sender_is_trusted(
    db: TestDb,
) {
    let app = spawn_app_with(
        db,
        Arc::new(SystemClock),
        &[("PINGAN_DELIVERY_TICK_MS", "50"), ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")],
    )
    .await;
    let chats = [7101, 7102, 7103];
    for chat in chats {
        let subscriber = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, Utc::now());
        app.store.save_subscriber(&subscriber).await.unwrap();
    }
    // An editor publishes an urgent notice; every subscriber gets the alert.
    let texts = Texts::load().unwrap();
    let desk = Desk {
        store: app.store.as_ref(),
        texts: &texts,
        zone: chrono_tz::Asia::Shanghai,
        clock: &SystemClock,
    };
    let editor = Actor::Telegram(4242);
    let content = NoticeContent {
        districts: Default::default(),
        title: Title::parse("警惕冒充公检法诈骗").unwrap(),
        body: Body::parse("公检法机关不会通过电话办案，更不会要求转账到“安全账户”。").unwrap(),
        category: Category::Fraud,
        severity: Severity::Severe,
        area: None,
        language: Language::Zh,
        source: None,
    };
    let new = NewNotice::new(content, Publication::Now, None, editor.clone(), Utc::now()).unwrap();
    let published = desk.publish(&new, &editor).await.unwrap();
    for chat in chats {
        app.fake.wait_for_sent(chat, 1).await;
    }
    let before = app.store.notice(published.id).await.unwrap().unwrap();
    let fanouts_before = app.store.notice_fanouts(published.id).await.unwrap().len();

    // A partner's feed carries an Update and a Cancel that name the editor's notice the
    // way Pingan's exports do, and a file that calls itself Pingan's own sender does too.
    let ours = format!("{OWN},pingan-{},{}", published.id, cap_time(published.publish_at.unwrap()));
    let dir = TempDir::new().unwrap();
    let update = write(
        dir.path(),
        "update.xml",
        &alert_xml(PARTNER, "P-2", "Update", Some(&ours), "已解除：冒充公检法"),
    );
    let cancel = write(dir.path(), "cancel.xml", &alert_xml(PARTNER, "P-3", "Cancel", Some(&ours), ""));
    let spoofed = write(dir.path(), "spoofed.xml", &alert_xml(OWN, "pingan-x", "Cancel", Some(&ours), ""));
    let stdout = import_with_the_cli(app.db.url(), &[&update, &cancel, &spoofed], None).await;
    let id = published.id;
    for expected in [
        format!(
            "refused: alert P-2 from {PARTNER} (zh): may not correct notice {id}: it was written in Pingan, \
             and cap.trusted_senders does not list {PARTNER}"
        ),
        format!("refused: alert P-3 from {PARTNER} (zh): may not withdraw notice {id}"),
        format!("refused: alert pingan-x from {OWN} (zh): may not withdraw notice {id}"),
        "update.xml: 0 created, 0 corrected, 0 withdrawn, 0 skipped, 1 refused".to_owned(),
    ] {
        assert!(stdout.contains(&expected), "{expected:?} in\n{stdout}");
    }

    // The notice stays published and unchanged, no follow-up is queued, and each refusal
    // is in the audit log.
    assert_eq!(app.store.notice(id).await.unwrap().unwrap(), before);
    assert_eq!(app.store.notice_fanouts(id).await.unwrap().len(), fanouts_before, "no follow-up queued");
    let audit = app.store.audit_log(None, 50).await.unwrap();
    let refusals: Vec<_> = audit.iter().filter(|e| e.action == AuditAction::ImportRefused).collect();
    assert_eq!(refusals.len(), 3, "{audit:?}");
    assert!(refusals.iter().all(|e| e.subject == format!("notice {id}")), "{refusals:?}");
    assert!(
        refusals.iter().any(|e| e.detail.starts_with(&format!("CAP Cancel P-3 from {PARTNER}: may not")))
    );

    // The operator trusts the partner: the same Cancel now withdraws the notice, and those
    // who got the alert are told.
    let stdout = import_with_the_cli(app.db.url(), &[&cancel], Some(PARTNER)).await;
    assert!(stdout.contains("cancel.xml: 0 created, 0 corrected, 1 withdrawn, 0 skipped"), "{stdout}");
    assert!(!stdout.contains("refused"), "{stdout}");
    assert_eq!(app.store.notice(id).await.unwrap().unwrap().status, NoticeStatus::Retracted);
    for chat in chats {
        let got = app.fake.wait_for_sent(chat, 2).await;
        assert!(got[1].text.starts_with("❌ 撤回"), "{}", got[1].text);
    }
    for chat in chats {
        let got = app.fake.sent_to(chat);
        assert_eq!(got.len(), 2, "the alert and the withdrawal, nothing from the refused files: {got:?}");
    }
    app.stop().await.unwrap();
}

/// What an import through a desk over `store` at a fixed time reports.
struct Importer {
    store: Arc<dyn Store>,
    clock: ManualClock,
    texts: Texts,
}

impl Importer {
    fn new(store: Arc<dyn Store>) -> Importer {
        // A minute after the alerts were written: they are published, not scheduled.
        let clock = ManualClock::new(Utc::now() + chrono::Duration::minutes(1));
        Importer { store, clock, texts: Texts::load().unwrap() }
    }

    async fn import(&self, xml: &str, trusted: &[String]) -> cap::ImportReport {
        let desk = Desk {
            store: self.store.as_ref(),
            texts: &self.texts,
            zone: chrono_tz::Asia::Shanghai,
            clock: &self.clock,
        };
        let alert = cap::parse_xml(xml).unwrap();
        let authority = cap::Authority { own_sender: OWN, trusted_senders: trusted };
        cap::import_alerts(&[alert], &desk, &Actor::Cli("test".into()), authority).await.unwrap()
    }

    async fn notice(&self, id: pingan::domain::NoticeId) -> Notice {
        self.store.notice(id).await.unwrap().unwrap()
    }
}

async fn senders_and_identifiers_with_colons_neither_collide_nor_change_each_others_alerts(db: TestDb) {
    let store = db.store().await;
    let i = Importer::new(store.clone());
    // Joined as cap:<sender>:<identifier>:<language>, both were cap:urn:oid:2.49.0.1:156:7:zh.
    let (a_sender, a_id) = ("urn:oid:2.49.0.1", "156:7");
    let (b_sender, b_id) = ("urn:oid:2.49.0.1:156", "7");
    let a = i.import(&alert_xml(a_sender, a_id, "Alert", None, "甲：台风预警"), &[]).await.created;
    let b = i.import(&alert_xml(b_sender, b_id, "Alert", None, "乙：暴雨预警"), &[]).await.created;
    assert_eq!((a.len(), b.len()), (1, 1), "{a:?} {b:?}");
    let (a, b) = (a[0], b[0]);
    assert_ne!(a, b);
    let (na, nb) = (i.notice(a).await, i.notice(b).await);
    assert_eq!(na.cap, Some(CapOrigin { sender: a_sender.into(), identifier: a_id.into() }));
    assert_eq!(nb.cap, Some(CapOrigin { sender: b_sender.into(), identifier: b_id.into() }));
    assert_ne!(na.external_id, nb.external_id);
    assert_ne!(na.language_group, nb.language_group);
    let again = i.import(&alert_xml(b_sender, b_id, "Alert", None, "乙：暴雨预警"), &[]).await;
    assert!(again.created.is_empty() && again.skipped[0].contains(&format!("already here as notice {b}")));

    // B's sender may not withdraw A's alert, however its references name it.
    let a_ref = format!("{a_sender},{a_id},2026-11-28T02:00:00+00:00");
    let b_ref = format!("{b_sender},{b_id},2026-11-28T02:00:00+00:00");
    let refused = i.import(&alert_xml(b_sender, "B-cancel", "Cancel", Some(&a_ref), ""), &[]).await;
    assert!(refused.retracted.is_empty(), "{refused:?}");
    assert_eq!(refused.refused.len(), 1, "{refused:?}");
    assert!(
        refused.refused[0].ends_with(&format!(
            "may not withdraw notice {a}: it came from {a_sender}, and cap.trusted_senders does not list {b_sender}"
        )),
        "{refused:?}"
    );
    assert_eq!(i.notice(a).await, na, "A is left exactly as it was");

    // A's own Update corrects A, not B; B's own Cancel withdraws B, not A.
    let corrected =
        i.import(&alert_xml(a_sender, "156:8", "Update", Some(&a_ref), "甲：台风预警（更新）"), &[]).await;
    assert_eq!(corrected.corrected, [a], "{corrected:?}");
    assert_eq!(i.notice(b).await.content.title.as_str(), "乙：暴雨预警");
    let withdrawn = i.import(&alert_xml(b_sender, "B-cancel-2", "Cancel", Some(&b_ref), ""), &[]).await;
    assert_eq!(withdrawn.retracted, [b], "{withdrawn:?}");
    assert_eq!(i.notice(a).await.status, NoticeStatus::Published);

    // The alert that corrected A is remembered as A's: importing it again changes nothing,
    // and B's sender may not reach A through it either.
    let a_update_ref = format!("{a_sender},156:8,2026-11-28T02:30:00+00:00");
    let again =
        i.import(&alert_xml(a_sender, "156:8", "Update", Some(&a_ref), "甲：台风预警（更新）"), &[]).await;
    assert!(again.corrected.is_empty() && again.skipped[0].contains(&format!("already here as notice {a}")));
    let through_alias = i.import(&alert_xml(b_sender, "B-3", "Cancel", Some(&a_update_ref), ""), &[]).await;
    assert_eq!((through_alias.retracted.len(), through_alias.refused.len()), (0, 1), "{through_alias:?}");

    // Trusted, B's sender may.
    let trusted = [b_sender.to_owned()];
    let done = i.import(&alert_xml(b_sender, "B-4", "Cancel", Some(&a_ref), ""), &trusted).await;
    assert_eq!((done.retracted.as_slice(), done.refused.len()), (&[a][..], 0), "{done:?}");
    store.close().await;
}

async fn notices_imported_before_the_columns_existed_keep_their_sender(db: TestDb) {
    // The schema as it was before migration 20261201000007, with two notices imported
    // then (one an Update had changed) and one an editor wrote.
    let backend = if matches!(db, TestDb::Sqlite { .. }) { "sqlite" } else { "postgres" };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut before = sqlx::migrate::Migrator::new(dir).await.unwrap();
    before.migrations = before.migrations.iter().filter(|m| m.version < 20261201000007).cloned().collect();
    let at = Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap();
    let insert = "INSERT INTO notices (title, body, category, severity, language, status, publish_at, \
                  author, external_id, created_at, updated_at) \
                  VALUES ($1, '正文', 'fraud', 'Moderate', $2, 'published', $3, 'cli:test', $4, $3, $3) RETURNING id";
    let legacy: [(&str, &str, &str); 4] = [
        ("旧预警", "zh", "cap:alerts@police.example.gov.cn:OLD-1:zh"),
        ("Old alert", "en", "cap:alerts@police.example.gov.cn:OLD-1:en"),
        ("编辑写的", "zh", "cms-1"),
        ("URN 发来的", "zh", "cap:urn:oid:2.49.0.1:156:9:zh"),
    ];
    let mut ids = Vec::new();
    match &db {
        TestDb::Sqlite { .. } => {
            let pool = sqlx::SqlitePool::connect(&format!("{}?mode=rwc", db.url())).await.unwrap();
            before.run(&pool).await.unwrap();
            for (title, language, external) in legacy {
                let (id,): (i64,) = sqlx::query_as(insert)
                    .bind(title)
                    .bind(language)
                    .bind(at)
                    .bind(external)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                ids.push(id);
            }
            sqlx::query(
                "INSERT INTO notice_aliases (external_id, notice_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind("cap:alerts@police.example.gov.cn:OLD-2:zh")
            .bind(ids[0])
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
        TestDb::Postgres { .. } => {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            before.run(&pool).await.unwrap();
            for (title, language, external) in legacy {
                let (id,): (i64,) = sqlx::query_as(insert)
                    .bind(title)
                    .bind(language)
                    .bind(at)
                    .bind(external)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                ids.push(id);
            }
            sqlx::query(
                "INSERT INTO notice_aliases (external_id, notice_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind("cap:alerts@police.example.gov.cn:OLD-2:zh")
            .bind(ids[0])
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
    }

    // Migrating fills the sender and identifier in, and the language group.
    let store = db.store().await;
    let origin = |sender: &str, identifier: &str| {
        Some(CapOrigin { sender: sender.into(), identifier: identifier.into() })
    };
    let notice = |n: usize| {
        let store = store.clone();
        let id = pingan::domain::NoticeId(ids[n]);
        async move { store.notice(id).await.unwrap().unwrap() }
    };
    let (zh, en, editors, urn) = (notice(0).await, notice(1).await, notice(2).await, notice(3).await);
    assert_eq!(zh.cap, origin("alerts@police.example.gov.cn", "OLD-1"));
    assert_eq!(en.cap, zh.cap);
    assert_eq!(zh.language_group.as_deref(), Some("cap:28:alerts@police.example.gov.cn:OLD-1"));
    assert_eq!(en.language_group, zh.language_group);
    assert_eq!(editors.cap, None, "an external id not of the cap: form is no CAP alert");
    assert_eq!(editors.external_id.as_deref(), Some("cms-1"));
    // The old id cannot say where a sender with colons ended: read up to the first colon,
    // as the exports always did.
    assert_eq!(urn.cap, origin("urn", "oid:2.49.0.1:156:9"));
    assert_eq!(
        zh.external_id.as_deref(),
        Some("cap:alerts@police.example.gov.cn:OLD-1:zh"),
        "kept as it was"
    );

    // The same sender's Cancel of the alert, or of the Update that changed it, finds them;
    // another sender's is refused.
    let i = Importer::new(store.clone());
    let old_2 = "alerts@police.example.gov.cn,OLD-2,2026-11-28T02:00:00+00:00";
    let refused = i.import(&alert_xml(PARTNER, "X-1", "Cancel", Some(old_2), ""), &[]).await;
    assert_eq!((refused.retracted.len(), refused.refused.len()), (0, 1), "{refused:?}");
    let cancel =
        i.import(&alert_xml("alerts@police.example.gov.cn", "OLD-3", "Cancel", Some(old_2), ""), &[]).await;
    assert_eq!(cancel.retracted, [zh.id], "the alias is the zh version's: {cancel:?}");
    let old_1 = "alerts@police.example.gov.cn,OLD-1,2026-11-28T02:00:00+00:00";
    let cancel =
        i.import(&alert_xml("alerts@police.example.gov.cn", "OLD-4", "Cancel", Some(old_1), ""), &[]).await;
    assert_eq!(cancel.retracted, [en.id], "{cancel:?}");
    assert_eq!(i.notice(editors.id).await.status, NoticeStatus::Published);
    store.close().await;
}
