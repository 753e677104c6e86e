//! CAP as real feeds write it: files in the encoding they name, CAP 1.1 and 1.0, what feeds
//! get wrong accepted with a warning (expires not after sent, an empty `<references/>`, no
//! `<scope>`), WEA-only texts, HTML line breaks and entities; what makes an alert unusable
//! still refused with file, position and reason; a round trip keeps every area, shape,
//! code, parameter and resource; exports write the bureau's offset and UTC as `-00:00`.
//! Every test that stores runs on SQLite and on PostgreSQL.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use pingan::cap::{self, Alert};
use pingan::clock::{Clock, ManualClock};
use pingan::domain::{Actor, ChatId, Language, NoticeId, NoticeStatus, Subscriber};
use pingan::i18n::Texts;
use pingan::publishing::Desk;
use pingan::store::Store;
use tempfile::TempDir;

use crate::support::binary::{output, pingan, text};
use crate::support::on_both_backends;
use crate::support::test_app::spawn_app_with;
use crate::support::test_db::TestDb;

const OWN: &str = "pingan@police.example.gov.cn";
const FEED: &str = "fire@feed.example.org";
const CAP_12: &str = "urn:oasis:names:tc:emergency:cap:1.2";
const CAP_11: &str = "urn:oasis:names:tc:emergency:cap:1.1";
const CAP_10: &str = "http://www.incident.com/cap/1.0";
/// The alerts' `sent`, and the test clock half an hour later.
const SENT: &str = "2026-12-01T15:30:00+08:00";

on_both_backends!(
    real_feed_variants_import_as_the_rules_say,
    a_round_trip_keeps_every_info_area_shape_code_parameter_and_resource,
    the_command_line_warns_refuses_with_file_position_and_reason_and_exports_local_times,
    an_alerts_image_goes_as_a_photo_before_its_text_and_a_refused_photo_keeps_no_text_back,
);

fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap())
}

/// A one-`<info>` alert: `head` holds what follows `<status>` (msgType, scope,
/// references…), `info` what follows `<certainty>`.
fn alert(declaration: &str, namespace: &str, identifier: &str, head: &str, info: &str) -> String {
    format!(
        r#"<?xml version="1.0" {declaration}?>
<alert xmlns="{namespace}">
  <identifier>{identifier}</identifier>
  <sender>{FEED}</sender>
  <sent>{SENT}</sent>
  <status>Actual</status>
  {head}
  <info>
    <language>en-US</language>
    <category>Fire</category>
    <event>Wildfire</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    {info}
    <area><areaDesc>North Hills</areaDesc></area>
  </info>
</alert>"#
    )
}

const HEAD: &str = "<msgType>Alert</msgType><scope>Public</scope>";

fn utf8(declaration: &str, namespace: &str, identifier: &str, head: &str, info: &str) -> Vec<u8> {
    alert(declaration, namespace, identifier, head, info).into_bytes()
}

fn latin1(text: &str) -> Vec<u8> {
    text.chars().map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character")).collect()
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    std::iter::once(0xFEFF_u16)
        .chain(text.encode_utf16())
        .flat_map(|u| if big_endian { u.to_be_bytes() } else { u.to_le_bytes() })
        .collect()
}

/// What importing one file must do.
struct Expected {
    created: usize,
    retracted: usize,
    /// The first created notice's text is exactly this.
    body: Option<&'static str>,
    status: Option<NoticeStatus>,
    /// Each warning's path, in order.
    warnings: &'static [&'static str],
}

const CREATED: Expected = Expected { created: 1, retracted: 0, body: None, status: None, warnings: &[] };

fn desk<'a>(store: &'a Arc<dyn Store>, texts: &'a Texts, clock: &'a dyn Clock) -> Desk<'a> {
    Desk { store: store.as_ref(), texts, zone: chrono_tz::Asia::Shanghai, clock }
}

async fn import_bytes(store: &Arc<dyn Store>, clock: &dyn Clock, bytes: &[u8]) -> cap::ImportReport {
    let alerts =
        cap::parse_document(bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)));
    let prepared = alerts.iter().map(cap::prepare).collect::<Result<Vec<_>, _>>().unwrap();
    let texts = Texts::load().unwrap();
    cap::import_prepared(&prepared, &desk(store, &texts, clock), &Actor::Cli("test".into()), OWN)
        .await
        .unwrap()
}

async fn real_feed_variants_import_as_the_rules_say(db: TestDb) {
    let store = db.store().await;
    let clock = clock();
    let text = |body: &str| format!("<description>{body}</description>");
    let utf16_alert = alert("encoding=\"UTF-16\"", CAP_12, "F-UTF16", HEAD, &text("疏散 Zürich"));
    let cases: Vec<(&str, Vec<u8>, Expected)> = vec![
        (
            "ISO-8859-1",
            latin1(&alert("encoding=\"ISO-8859-1\"", CAP_12, "F-LATIN1", HEAD, &text("Zürich Öl été"))),
            Expected { body: Some("Zürich Öl été"), ..CREATED },
        ),
        (
            "UTF-16LE with a byte-order mark",
            utf16(&utf16_alert.replace("F-UTF16", "F-UTF16LE"), false),
            Expected { body: Some("疏散 Zürich"), ..CREATED },
        ),
        (
            "UTF-16BE with a byte-order mark",
            utf16(&utf16_alert.replace("F-UTF16", "F-UTF16BE"), true),
            Expected { body: Some("疏散 Zürich"), ..CREATED },
        ),
        (
            "UTF-8 with a byte-order mark",
            [&b"\xEF\xBB\xBF"[..], &utf8("encoding=\"UTF-8\"", CAP_12, "F-BOM", HEAD, &text("平安"))]
                .concat(),
            Expected { body: Some("平安"), ..CREATED },
        ),
        (
            "CAP 1.1",
            utf8("", CAP_11, "F-CAP11", HEAD, &text("CAP 1.1 text")),
            Expected { body: Some("CAP 1.1 text"), ..CREATED },
        ),
        (
            "CAP 1.0, its parameter written as name=value",
            utf8(
                "",
                CAP_10,
                "F-CAP10",
                HEAD,
                &format!("{}<parameter>EAS-ORG=WXR</parameter>", text("CAP 1.0 text")),
            ),
            Expected { body: Some("CAP 1.0 text"), ..CREATED },
        ),
        (
            "an Alert to cancel",
            utf8("", CAP_12, "F-1", HEAD, &text("It burns.")),
            Expected { body: Some("It burns."), status: Some(NoticeStatus::Published), ..CREATED },
        ),
        (
            "a Cancel whose expires equals its sent",
            utf8(
                "",
                CAP_12,
                "F-1-cancel",
                &format!(
                    "<msgType>Cancel</msgType><scope>Public</scope><references>{FEED},F-1,{SENT}</references>"
                ),
                &format!("<expires>{SENT}</expires>"),
            ),
            Expected { created: 0, retracted: 1, warnings: &["/alert/info[1]/expires"], ..CREATED },
        ),
        (
            "an Alert that expires when it is sent",
            utf8("", CAP_12, "F-2", HEAD, &format!("<expires>{SENT}</expires>{}", text("Over."))),
            Expected {
                status: Some(NoticeStatus::Expired),
                body: Some("Over."),
                warnings: &["/alert/info[1]/expires"],
                ..CREATED
            },
        ),
        (
            "an Alert that expires before it takes effect",
            utf8(
                "",
                CAP_12,
                "F-3",
                HEAD,
                "<effective>2026-12-01T18:00:00+08:00</effective><expires>2026-12-01T17:00:00+08:00</expires>",
            ),
            Expected {
                status: Some(NoticeStatus::Scheduled),
                warnings: &["/alert/info[1]/expires"],
                ..CREATED
            },
        ),
        (
            "an Update with an empty references",
            utf8("", CAP_12, "F-4", "<msgType>Update</msgType><scope>Public</scope><references/>", ""),
            Expected { body: Some("Wildfire"), warnings: &["/alert/references"], ..CREATED },
        ),
        (
            "no scope",
            utf8("", CAP_12, "F-5", "<msgType>Alert</msgType>", &text("No scope.")),
            Expected { body: Some("No scope."), warnings: &["/alert/scope"], ..CREATED },
        ),
        (
            "no scope and an empty references",
            utf8("", CAP_12, "F-6", "<msgType>Alert</msgType><references></references>", ""),
            Expected { warnings: &["/alert/scope", "/alert/references"], ..CREATED },
        ),
        (
            "WEA texts only, the long one first",
            utf8(
                "",
                CAP_12,
                "F-WEA-1",
                HEAD,
                "<parameter><valueName>CMAMtext</valueName><value>Evacuate now.</value></parameter>\
                 <parameter><valueName>CMAMlongtext</valueName><value>Evacuate North Hills now by the east road.</value></parameter>",
            ),
            Expected { body: Some("Evacuate North Hills now by the east road."), ..CREATED },
        ),
        (
            "only the short WEA text, and an instruction",
            utf8(
                "",
                CAP_12,
                "F-WEA-2",
                HEAD,
                "<instruction>Take water.</instruction>\
                 <parameter><valueName>CMAMtext</valueName><value>Evacuate now.</value></parameter>",
            ),
            Expected { body: Some("Evacuate now.\n\nTake water."), ..CREATED },
        ),
        (
            "HTML line breaks and entities",
            utf8(
                "",
                CAP_12,
                "F-HTML-1",
                HEAD,
                &text(
                    "Strong winds.&lt;br /&gt;Dry grass &amp;amp; brush.&lt;BR&gt;&lt;b&gt;Leave&lt;/b&gt; &amp;#8212; now",
                ),
            ),
            Expected { body: Some("Strong winds.\nDry grass & brush.\n<b>Leave</b> — now"), ..CREATED },
        ),
        (
            "HTML paragraphs and entities in the instruction",
            utf8(
                "",
                CAP_12,
                "F-HTML-2",
                HEAD,
                "<description><![CDATA[Fire<br/>near &quot;Old Mill&quot;]]></description>\
                 <instruction>&lt;p&gt;Go east.&lt;/p&gt;&lt;p&gt;Call&amp;nbsp;119 &amp;copy;&lt;/p&gt;</instruction>",
            ),
            Expected { body: Some("Fire\nnear \"Old Mill\"\n\nGo east.\n\nCall\u{a0}119 &copy;"), ..CREATED },
        ),
    ];
    assert!(cases.len() >= 8);
    for (what, bytes, expected) in cases {
        let report = import_bytes(&store, &clock, &bytes).await;
        assert_eq!(
            (report.created.len(), report.retracted.len()),
            (expected.created, expected.retracted),
            "{what}: {report:?}"
        );
        let paths: Vec<&str> = expected
            .warnings
            .iter()
            .copied()
            .filter(|path| report.warnings.iter().any(|w| w.contains(path)))
            .collect();
        assert_eq!(paths, expected.warnings, "{what}: {:?}", report.warnings);
        assert_eq!(report.warnings.len(), expected.warnings.len(), "{what}: {:?}", report.warnings);
        assert!(report.warnings.iter().all(|w| w.starts_with("alert F-")), "{what}: {:?}", report.warnings);
        if let Some(id) = report.created.first() {
            let notice = store.notice(*id).await.unwrap().unwrap();
            if let Some(body) = expected.body {
                assert_eq!(notice.content.body.as_str(), body, "{what}");
            }
            if let Some(status) = expected.status {
                assert_eq!(notice.status, status, "{what}");
            }
        }
    }
    // The expiry of an alert that expires at or before it takes effect is kept as given.
    let expired = store.notice_by_external_id(&format!("cap:{FEED}:F-3:en")).await.unwrap().unwrap();
    assert_eq!(expired.expires_at, cap::parse_time("2026-12-01T17:00:00+08:00"));
    // The CAP 1.0 parameter is kept, as CAP 1.2 writes it.
    let cap10 = store.notice_by_external_id(&format!("cap:{FEED}:F-CAP10:en")).await.unwrap().unwrap();
    let exported =
        cap::alert_from_store(store.as_ref(), &cap10, OWN, chrono_tz::Asia::Shanghai).await.unwrap();
    assert!(
        exported.info[0]
            .parameter
            .iter()
            .any(|p| (p.value_name.as_str(), p.value.as_str()) == ("EAS-ORG", "WXR")),
        "{exported:?}"
    );
    // The cancelled alert's notice is withdrawn.
    let first = store.notice_by_external_id(&format!("cap:{FEED}:F-1:en")).await.unwrap().unwrap();
    assert_eq!(first.status, NoticeStatus::Retracted);
    store.close().await;
}

/// What must survive a round trip, summed over an alert list's `<info>` blocks.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    infos: usize,
    areas: usize,
    polygons: usize,
    circles: usize,
    geocodes: usize,
    parameters: usize,
    event_codes: usize,
    resources: usize,
}

fn counts(alerts: &[Alert]) -> Counts {
    let mut c = Counts::default();
    for info in alerts.iter().flat_map(|a| &a.info) {
        c.infos += 1;
        c.areas += info.area.len();
        c.polygons += info.area.iter().map(|a| a.polygon.len()).sum::<usize>();
        c.circles += info.area.iter().map(|a| a.circle.len()).sum::<usize>();
        c.geocodes += info.area.iter().map(|a| a.geocode.len()).sum::<usize>();
        // Pingan adds its own category parameter to what it exports.
        c.parameters += info.parameter.iter().filter(|p| p.value_name != "pingan:category").count();
        c.event_codes += info.event_code.len();
        c.resources += info.resource.len();
    }
    c
}

/// Imports the alerts into `store` and exports every notice made, as the CLI would.
async fn import_then_export(store: &Arc<dyn Store>, clock: &dyn Clock, documents: &[Vec<u8>]) -> Vec<Alert> {
    let mut created: Vec<NoticeId> = Vec::new();
    for bytes in documents {
        let report = import_bytes(store, clock, bytes).await;
        assert!(report.warnings.is_empty(), "{report:?}");
        created.extend(report.created);
    }
    let mut exported = Vec::new();
    for id in created {
        let notice = store.notice(id).await.unwrap().unwrap();
        exported.push(
            cap::alert_from_store(store.as_ref(), &notice, OWN, chrono_tz::Asia::Shanghai).await.unwrap(),
        );
    }
    exported
}

async fn a_round_trip_keeps_every_info_area_shape_code_parameter_and_resource(db: TestDb) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cap/feed_two_infos.xml");
    let original_bytes = std::fs::read(path).unwrap();
    let original = cap::parse_document(&original_bytes).unwrap();
    let expected = Counts {
        infos: 2,
        areas: 4,
        polygons: 6,
        circles: 2,
        geocodes: 4,
        parameters: 4,
        event_codes: 3,
        resources: 2,
    };
    assert_eq!(counts(&original), expected);

    let clock = clock();
    let first = db.store().await;
    let exported = import_then_export(&first, &clock, &[original_bytes]).await;
    assert_eq!(counts(&exported), expected, "first export");
    first.close().await;

    // The export, read back as another system would, into a fresh database of this kind.
    let second_db = match &db {
        TestDb::Sqlite { .. } => TestDb::sqlite(),
        TestDb::Postgres { .. } => TestDb::postgres().await.unwrap(),
    };
    let second = second_db.store().await;
    let documents: Vec<Vec<u8>> = exported.iter().map(|a| cap::to_xml(a).into_bytes()).collect();
    let again = import_then_export(&second, &clock, &documents).await;
    assert_eq!(counts(&again), expected, "second export");
    second.close().await;

    // Not only the counts: the areas, event codes, parameters and resources themselves.
    for alerts in [&exported, &again] {
        let mut infos: Vec<_> = alerts.iter().flat_map(|a| a.info.iter()).collect();
        infos.sort_by_key(|i| i.language != "en-US");
        for (info, source) in infos.iter().zip(&original[0].info) {
            assert_eq!(info.area, source.area);
            assert_eq!(info.event_code, source.event_code);
            assert_eq!(info.resource, source.resource);
            assert_eq!(info.category, source.category);
            assert_eq!(info.response_type, source.response_type);
            assert_eq!(
                (&info.web, &info.contact, &info.onset),
                (&source.web, &source.contact, &source.onset)
            );
            let parameters: Vec<_> =
                info.parameter.iter().filter(|p| p.value_name != "pingan:category").collect();
            assert_eq!(parameters, source.parameter.iter().collect::<Vec<_>>());
        }
        for alert in alerts.iter() {
            assert_eq!(alert.code, original[0].code);
            assert_eq!((&alert.source, &alert.note), (&original[0].source, &original[0].note));
            // Times at the bureau's offset (Asia/Shanghai).
            assert!(alert.sent.ends_with("+08:00"), "{}", alert.sent);
            assert_eq!(alert.info[0].effective.as_deref(), Some(SENT));
            assert_eq!(alert.info[0].expires.as_deref(), Some("2026-12-02T15:30:00+08:00"));
        }
    }
}

async fn the_command_line_warns_refuses_with_file_position_and_reason_and_exports_local_times(db: TestDb) {
    let dir = TempDir::new().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let run = |args: &[&std::ffi::OsStr], zone: &str| {
        let mut command = pingan(dir.path());
        command.env("DATABASE_URL", db.url()).env("PINGAN_BOT_TIME_ZONE", zone).args(args);
        command
    };
    // Files that stay refused: each names the file, the place and the reason, and
    // nothing of the batch is stored.
    let good = write(
        "good.xml",
        &utf8("", CAP_12, "C-1", "<msgType>Alert</msgType>", "<description>Good.</description>"),
    );
    let refused = [
        (
            write(
                "declared_utf8.xml",
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert>Z\xfcrich</alert>",
            ),
            "declared_utf8.xml: line 2, column 9: byte 47 is not valid UTF-8",
        ),
        (
            write("unknown_encoding.xml", b"<?xml version=\"1.0\" encoding=\"X-MARTIAN\"?><alert/>"),
            "unknown_encoding.xml: line 1, column 1: the declared encoding \"X-MARTIAN\" is not one Pingan knows",
        ),
        (
            write(
                "no_event.xml",
                alert("", CAP_12, "C-2", HEAD, "").replace("<event>Wildfire</event>", "").as_bytes(),
            ),
            "no_event.xml: /alert/info[1]/event: is missing",
        ),
        (
            write("truncated.xml", b"<alert>\n  <identifier>x</identifier>\n  <sender>"),
            "truncated.xml: line 3",
        ),
    ];
    let mut args: Vec<&std::ffi::OsStr> = vec!["notices".as_ref(), "import".as_ref(), good.as_os_str()];
    args.extend(refused.iter().map(|(path, _)| path.as_os_str()));
    let out = output(&mut run(&args, "Asia/Shanghai"), None).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    for (_, said) in &refused {
        assert!(stderr.contains(said), "{said}\n{stderr}");
    }
    let list =
        text(&output(&mut run(&["notices".as_ref(), "list".as_ref()], "Asia/Shanghai"), None).await.stdout);
    assert_eq!(list.trim(), "No notices.");

    // Accepted with a warning: printed, and counted in the audit summary.
    let out =
        output(&mut run(&["notices".as_ref(), "import".as_ref(), good.as_os_str()], "Asia/Shanghai"), None)
            .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("good.xml: 1 created, 0 corrected, 0 withdrawn, 0 skipped, 1 warning"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  warning: alert C-1 from fire@feed.example.org: /alert/scope is missing"),
        "{stdout}"
    );
    let audit = text(&output(&mut run(&["audit".as_ref()], "Asia/Shanghai"), None).await.stdout);
    assert!(audit.contains("1 warning"), "{audit}");

    // Exports: the bureau's offset, and UTC as -00:00 (never +00:00 or Z).
    for (zone, offset) in [("Asia/Shanghai", "+08:00"), ("UTC", "-00:00")] {
        let out = output(&mut run(&["notices".as_ref(), "export".as_ref(), "1".as_ref()], zone), None).await;
        let xml = text(&out.stdout);
        let alert = cap::parse_xml(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
        for time in [Some(&alert.sent), alert.info[0].effective.as_ref()].into_iter().flatten() {
            assert!(time.ends_with(offset), "{zone}: {time}");
        }
        assert!(!xml.contains("+00:00") && !xml.contains("Z<"), "{xml}");
        assert_eq!(alert.scope.as_deref(), Some("Public"), "an alert without scope is exported as Public");
    }
}

async fn an_alerts_image_goes_as_a_photo_before_its_text_and_a_refused_photo_keeps_no_text_back(db: TestDb) {
    use base64::Engine as _;
    let clock = Arc::new(clock());
    let app = spawn_app_with(
        db,
        clock.clone(),
        &[("PINGAN_DELIVERY_TICK_MS", "50"), ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")],
    )
    .await;
    let chat = 41;
    let subscriber = Subscriber::new(ChatId(chat), Language::En, chrono_tz::Asia::Shanghai, clock.now());
    app.store.save_subscriber(&subscriber).await.unwrap();
    let png = b"\x89PNG\r\n\x1a\n a map of the fire".to_vec();
    let image = |identifier: &str, resource: &str| {
        let info = format!(
            "<headline>{identifier} headline</headline><description>{identifier} text</description>\
             <resource><resourceDesc>Map &amp; exits</resourceDesc><mimeType>image/png</mimeType>{resource}</resource>"
        );
        alert("", CAP_12, identifier, HEAD, &info)
            .replace("<severity>Severe</severity>", "<severity>Extreme</severity>")
    };
    let cases = [
        ("P-URL", "<uri>https://fire.example.gov/map.png</uri>".to_owned()),
        ("P-BAD", "<uri>https://maps.invalid/map.png</uri>".to_owned()),
        (
            "P-DATA",
            format!(
                "<uri>map.png</uri><derefUri>{}</derefUri>",
                base64::engine::general_purpose::STANDARD.encode(&png)
            ),
        ),
    ];
    let mut expected = 0;
    for (identifier, resource) in &cases {
        let report = import_bytes(&app.store, clock.as_ref(), image(identifier, resource).as_bytes()).await;
        assert_eq!(report.created.len(), 1, "{identifier}: {report:?}");
        let photo = *identifier != "P-BAD";
        expected += if photo { 2 } else { 1 };
        let got = app.fake.wait_for_sent(chat, expected).await;
        let text = &got[expected - 1];
        assert!(
            text.text.contains(&format!("{identifier} text")) && text.photo.is_none(),
            "{identifier}: {text:?}"
        );
        if photo {
            let sent_photo = &got[expected - 2];
            assert_eq!(sent_photo.text, "Map & exits", "{identifier}: the caption");
            match *identifier {
                "P-URL" => {
                    assert_eq!(sent_photo.photo_url.as_deref(), Some("https://fire.example.gov/map.png"));
                }
                _ => assert_eq!(sent_photo.photo.as_deref(), Some(png.as_slice()), "uploaded as carried"),
            }
        }
        // Every delivery of the alert ends sent, the refused photo's included.
        let id = report.created[0];
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while app.store.notice_fanouts(id).await.unwrap().iter().any(|f| f.sent < 1) {
            assert!(tokio::time::Instant::now() < deadline, "{identifier} was never recorded as sent");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    // The refused photo was asked for once, and never again.
    let refused = app
        .fake
        .calls_of("sendPhoto")
        .into_iter()
        .filter(|c| c.params["photo"].as_str() == Some("https://maps.invalid/map.png"))
        .count();
    assert_eq!(refused, 1);
    assert_eq!(app.fake.sent_to(chat).len(), 5, "two photos and three texts, nothing twice");
    app.stop().await.unwrap();
}
