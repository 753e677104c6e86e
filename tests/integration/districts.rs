//! Districts end to end (issue 16): a subscriber who chose 城东区 gets its road closure in
//! the digest and not 城西区's; a shared location picks the district whose polygon holds
//! it, one outside every polygon is answered politely, and the location is stored nowhere.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use pingan::clock::{Clock, ManualClock, SystemClock};
use pingan::domain::{
    Category, ChatId, DistrictKey, DistrictSet, Frequency, Language, Publication, Severity, Subscriber,
};

use crate::delivery::{FAST, content, eventually, publish};
use crate::support::fake_telegram::TgUser;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

/// Two districts side by side, as `PINGAN_BOT_DISTRICTS` carries them: 城东区 east of
/// longitude 120.0, 城西区 west of 119.9, both from latitude 30.0 to 30.5.
pub(crate) const DISTRICTS: &str = r#"[
  {key = "chengdong", name_zh = "城东区", name_en = "Chengdong District", aliases = ["城东", "East"], polygon = [[120.0, 30.0], [120.5, 30.0], [120.5, 30.5], [120.0, 30.5], [120.0, 30.0]]},
  {key = "chengxi", name_zh = "城西区", name_en = "Chengxi District", aliases = ["城西", "West"], polygon = [[119.4, 30.0], [119.9, 30.0], [119.9, 30.5], [119.4, 30.5], [119.4, 30.0]]},
]"#;

async fn spawn(db: TestDb, clock: Arc<dyn Clock>) -> TestApp {
    let mut env: Vec<(&str, &str)> = FAST.to_vec();
    env.push(("PINGAN_BOT_DISTRICTS", DISTRICTS));
    spawn_app_with(db, clock, &env).await
}

fn key(k: &str) -> DistrictKey {
    DistrictKey::parse(k).unwrap()
}

async fn a_subscriber_in_chengdong_gets_its_road_closure_and_not_chengxis(db: TestDb) {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(); // 08:00 in Shanghai
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn(db, clock.clone()).await;
    let (east_zh, east_en, everywhere) =
        (TgUser::new(501, "东", Some("zh")), TgUser::new(502, "E", Some("en")), 503);
    for (chat, language) in [(501, Language::Zh), (502, Language::En), (everywhere, Language::Zh)] {
        let mut s = Subscriber::new(ChatId(chat), language, chrono_tz::Asia::Shanghai, start);
        s.frequency = Frequency::Daily;
        app.store.save_subscriber(&s).await.unwrap();
    }
    // Chosen by typing, by a name in Chinese and by an English name.
    app.fake.user_sends(&east_zh, "/settings districts 城东区");
    let saved = app.fake.wait_for_sent(501, 1).await.remove(0);
    assert!(saved.text.contains("已保存") && saved.text.contains("区域：城东区"), "{}", saved.text);
    app.fake.user_sends(&east_en, "/settings districts chengdong district");
    let saved = app.fake.wait_for_sent(502, 1).await.remove(0);
    assert!(
        saved.text.contains("Saved") && saved.text.contains("Districts: Chengdong District"),
        "{}",
        saved.text
    );
    for chat in [501, 502] {
        let s = app.store.subscriber(ChatId(chat)).await.unwrap().unwrap();
        assert_eq!(s.districts, DistrictSet::from([key("chengdong")]), "chat {chat}");
    }
    // A name that is none of the city's is answered with the ones there are.
    app.fake.user_sends(&east_zh, "/settings districts 城北区");
    let refused = app.fake.wait_for_sent(501, 2).await.remove(1);
    assert!(
        refused.text.contains("没有“城北区”这个区域") && refused.text.contains("城东区、城西区"),
        "{}",
        refused.text
    );

    let noon = start + Duration::hours(4);
    clock.set(noon);
    for (title, district, language) in [
        ("城东区人民路封闭施工", "chengdong", Language::Zh),
        ("城西区解放路封闭施工", "chengxi", Language::Zh),
        ("Renmin Road closed in Chengdong", "chengdong", Language::En),
        ("Jiefang Road closed in Chengxi", "chengxi", Language::En),
    ] {
        let mut c = content(title, Severity::Minor, Category::Traffic, language);
        c.districts = DistrictSet::from([key(district)]);
        publish(&app, c, Publication::Now, noon).await;
    }
    publish(
        &app,
        content("全市防汛提醒", Severity::Minor, Category::Disaster, Language::Zh),
        Publication::Now,
        noon,
    )
    .await;

    clock.set(start + Duration::days(1));
    let east = app.fake.wait_for_sent(501, 3).await.remove(2);
    assert!(east.text.contains("城东区人民路封闭施工"), "{}", east.text);
    assert!(!east.text.contains("城西区解放路封闭施工"), "{}", east.text);
    assert!(
        east.text.contains("全市防汛提醒"),
        "a notice for the whole city reaches every district: {}",
        east.text
    );
    let east_en = app.fake.wait_for_sent(502, 2).await.remove(1);
    assert!(east_en.text.contains("Renmin Road closed in Chengdong"), "{}", east_en.text);
    assert!(!east_en.text.contains("Jiefang Road"), "{}", east_en.text);
    let all = app.fake.wait_for_sent(everywhere, 1).await.remove(0);
    assert!(
        all.text.contains("城东区人民路封闭施工") && all.text.contains("城西区解放路封闭施工"),
        "no district chosen follows them all: {}",
        all.text
    );

    // 全部 clears the choice again.
    app.fake.user_sends(&east_zh, "/settings districts 全部");
    app.fake.wait_for_sent(501, 4).await;
    assert!(app.store.subscriber(ChatId(501)).await.unwrap().unwrap().districts.is_empty());
    // And with buttons: /settings → 区域 → tick 城西区.
    app.fake.user_sends(&east_zh, "/settings");
    let card = app.fake.wait_for_sent(501, 5).await.remove(4);
    let id = app.fake.press_labelled(&east_zh, &card, "区域");
    app.fake.wait_for_answer(&id).await;
    let menu = app.fake.message(501, card.message_id);
    let labels: Vec<String> = menu.buttons().into_iter().flatten().map(|(label, _)| label).collect();
    assert!(labels.starts_with(&["⬜ 城东区".to_owned(), "⬜ 城西区".to_owned()]), "{labels:?}");
    let id = app.fake.press_labelled(&east_zh, &menu, "⬜ 城西区");
    assert_eq!(app.fake.wait_for_answer(&id).await.as_deref(), Some("✅ 已保存"));
    assert_eq!(
        app.store.subscriber(ChatId(501)).await.unwrap().unwrap().districts,
        DistrictSet::from([key("chengxi")])
    );
    app.stop().await.unwrap();
}

async fn an_extreme_alert_for_the_whole_city_reaches_every_district(db: TestDb) {
    // The system's clock: the sender spaces two messages to one chat by it.
    let start = Utc::now();
    let app = spawn(db, Arc::new(SystemClock)).await;
    for (chat, district) in [(601, "chengdong"), (602, "chengxi")] {
        let mut s = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, start);
        s.districts = DistrictSet::from([key(district)]);
        app.store.save_subscriber(&s).await.unwrap();
    }
    let mut east_only =
        content("城东区燃气泄漏 立即撤离", Severity::Severe, Category::Disaster, Language::Zh);
    east_only.districts = DistrictSet::from([key("chengdong")]);
    publish(&app, east_only, Publication::Now, start).await;
    publish(
        &app,
        content("全市台风红色预警", Severity::Extreme, Category::Disaster, Language::Zh),
        Publication::Now,
        start,
    )
    .await;
    let east = app.fake.wait_for_sent(601, 2).await;
    assert!(east.iter().any(|m| m.text.contains("城东区燃气泄漏")), "{east:?}");
    assert!(east.iter().any(|m| m.text.contains("全市台风红色预警")), "{east:?}");
    let west = app.fake.wait_for_sent(602, 1).await;
    assert!(west[0].text.contains("全市台风红色预警"), "{}", west[0].text);
    crate::delivery::settled(&app).await;
    let west: Vec<String> = app.fake.sent_to(602).iter().map(|m| m.text.clone()).collect();
    assert!(!west.iter().any(|t| t.contains("城东区燃气泄漏")), "城东区's alert stays in 城东区: {west:?}");
    app.stop().await.unwrap();
}

/// Every value of every table, as text.
async fn everything_stored(db: &TestDb) -> String {
    use sqlx::Connection;
    let mut all = String::new();
    if db.url().starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut c)
            .await
            .unwrap();
        for (table,) in tables {
            let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1)")
                .bind(&table)
                .fetch_all(&mut c)
                .await
                .unwrap();
            if columns.is_empty() {
                continue;
            }
            let row =
                columns.iter().map(|(n,)| format!("quote(\"{n}\")")).collect::<Vec<_>>().join(" || '|' || ");
            let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT {row} FROM \"{table}\""))
                .fetch_all(&mut c)
                .await
                .unwrap_or_default();
            all.extend(rows.into_iter().map(|(r,)| format!("{table}: {r}\n")));
        }
    } else {
        let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (table,) in tables {
            let rows: Vec<(String,)> =
                sqlx::query_as(&format!("SELECT row_to_json(t)::TEXT FROM \"{table}\" t"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
            all.extend(rows.into_iter().map(|(r,)| format!("{table}: {r}\n")));
        }
    }
    all
}

async fn a_shared_location_picks_its_district_and_is_not_kept(db: TestDb) {
    let app = spawn(db, Arc::new(SystemClock)).await;
    let (zh, en) = (TgUser::new(701, "西", Some("zh")), TgUser::new(702, "W", Some("en")));
    // Inside 城西区; distinctive digits, so that a scan finds them wherever they went.
    app.fake.user_shares_location(&zh, 30.271_828, 119.631_415);
    let found = app.fake.wait_for_sent(701, 1).await.remove(0);
    assert!(found.text.contains("该位置在城西区") && found.text.contains("不保存位置"), "{}", found.text);
    let s = app.store.subscriber(ChatId(701)).await.unwrap().unwrap();
    assert_eq!(s.districts, DistrictSet::from([key("chengxi")]));
    app.fake.user_shares_location(&en, 30.314_159, 120.271_828);
    let found = app.fake.wait_for_sent(702, 1).await.remove(0);
    assert!(found.text.contains("That location is in Chengdong District"), "{}", found.text);

    // Between the two districts, and far away: a polite answer naming the districts.
    app.fake.user_shares_location(&zh, 30.222_333, 119.951_234);
    let outside = app.fake.wait_for_sent(701, 2).await.remove(1);
    assert!(outside.text.contains("不在本市任何区域内（城东区、城西区）"), "{}", outside.text);
    app.fake.user_shares_location(&en, 51.507_351, -0.127_758);
    let outside = app.fake.wait_for_sent(702, 2).await.remove(1);
    assert!(
        outside
            .text
            .contains("not inside any of the city's districts (Chengdong District, Chengxi District)"),
        "{}",
        outside.text
    );
    assert_eq!(
        app.store.subscriber(ChatId(701)).await.unwrap().unwrap().districts,
        DistrictSet::from([key("chengxi")]),
        "a point outside changes nothing"
    );

    // Once every update is handled, no table holds the coordinates.
    let db = &app.db;
    eventually("every update to be handled", || async {
        let stored = everything_stored(db).await;
        !stored.lines().any(|l| {
            l.starts_with("inbox_updates:")
                && (l.contains("'pending'") || l.contains("\"pending\"") || l.contains("handling"))
        })
    })
    .await;
    let stored = everything_stored(&app.db).await;
    assert!(stored.contains("chengxi"), "the scan reads the tables: {stored}");
    for digits in [
        "30.271828",
        "119.631415",
        "30.314159",
        "120.271828",
        "30.222333",
        "119.951234",
        "51.507351",
        "0.127758",
    ] {
        assert!(!stored.contains(digits), "{digits} is stored:\n{stored}");
    }
    app.stop().await.unwrap();
}

async fn an_editor_names_the_district_with_a_button_or_in_the_form(db: TestDb) {
    use pingan::domain::{Actor, Role};
    let mut env: Vec<(&str, &str)> = FAST.to_vec();
    env.push(("PINGAN_BOT_DISTRICTS", DISTRICTS));
    let app = spawn_app_with(db, Arc::new(SystemClock), &env).await;
    app.store.grant(801, Role::Editor, &Actor::System, Utc::now()).await.unwrap();
    let editor = TgUser::new(801, "Editor", Some("zh-hans"));
    let n = say(&app, &editor, "/post");
    app.fake.wait_for_sent(801, n).await;
    let n = say(&app, &editor, "解放路夜间封闭");
    app.fake.wait_for_sent(801, n).await;
    let n = say(&app, &editor, "今晚22时起封闭施工。");
    app.fake.wait_for_sent(801, n).await;
    press(&app, &editor, "交通").await;
    press(&app, &editor, "一般").await;
    press(&app, &editor, "全市").await; // the free-text area
    let ask = last(&app);
    assert!(ask.text.contains("涉及哪个区域"), "{}", ask.text);
    let labels: Vec<String> = ask.buttons().into_iter().flatten().map(|(label, _)| label).collect();
    assert_eq!(labels[..3], ["全市", "城东区", "城西区"], "全市 first, then the districts: {labels:?}");
    press(&app, &editor, "城西区").await;
    press(&app, &editor, "7 天").await;
    press(&app, &editor, "立即发布").await;
    let question = last(&app);
    assert!(question.text.contains("区域：城西区"), "{}", question.text);
    press(&app, &editor, "发布").await;
    // The one-message form, with an alias and an English name.
    app.fake.user_sends(
        &editor,
        "/post\ntitle: 两区停水通知\ncategory: general\nseverity: Minor\narea: 全市\n区域：城东、Chengxi District\nexpires: never\npublish: now\n---\n明日停水。",
    );
    let question = app
        .fake
        .wait_for("the form's preview", |s| {
            s.sent
                .iter()
                .rev()
                .find(|m| m.chat_id == 801 && m.text.contains("两区停水通知") && m.text.contains("区域："))
                .cloned()
        })
        .await;
    assert!(question.text.contains("区域：城东区、城西区"), "{}", question.text);
    let id = app.fake.press_labelled(&editor, &question, "发布");
    app.fake.wait_for_answer(&id).await;
    let notices =
        app.store.list_notices(&pingan::store::NoticeQuery { limit: 5, ..Default::default() }).await.unwrap();
    let of = |title: &str| {
        notices.iter().find(|n| n.content.title.as_str() == title).map(|n| n.content.districts.clone())
    };
    assert_eq!(of("解放路夜间封闭"), Some(DistrictSet::from([key("chengxi")])));
    assert_eq!(of("两区停水通知"), Some(DistrictSet::from([key("chengdong"), key("chengxi")])));
    app.stop().await.unwrap();
}

fn last(app: &TestApp) -> crate::support::fake_telegram::SentMessage {
    app.fake.sent_to(801).pop().expect("a message")
}

/// The editor types `text`; returns how many messages they will have when answered.
fn say(app: &TestApp, editor: &TgUser, text: &str) -> usize {
    let before = app.fake.sent_to(801).len();
    app.fake.user_sends(editor, text);
    before + 1
}

async fn press(app: &TestApp, editor: &TgUser, label: &str) {
    let id = app.fake.press_labelled(editor, &last(app), label);
    app.fake.wait_for_answer(&id).await;
}

#[tokio::test]
async fn the_api_and_the_cli_take_districts_by_name_and_refuse_unknown_ones() {
    use crate::support::binary::{output, pingan, text};
    use pingan::domain::{Actor, Role};
    let (app, base) = crate::support::test_app::spawn_app_with_http(
        Arc::new(SystemClock),
        &[("PINGAN_BOT_DISTRICTS", DISTRICTS), ("PINGAN_DELIVERY_RATE_PER_SECOND", "1000")],
    )
    .await;
    let token = pingan::tokens::new_token().unwrap();
    app.store
        .create_token("cms", &pingan::tokens::hash(&token), Role::Editor, &Actor::System, Utc::now())
        .await
        .unwrap();
    let post = |districts: serde_json::Value| {
        let body = serde_json::json!({ "title": "封路", "body": "请绕行。", "category": "traffic",
            "severity": "Minor", "language": "zh", "districts": districts });
        reqwest::Client::new().post(format!("{base}/api/notices")).bearer_auth(&token).json(&body).send()
    };
    let created = post(serde_json::json!(["城东", "chengxi"])).await.unwrap();
    assert_eq!(created.status(), 201);
    let view: serde_json::Value = created.json().await.unwrap();
    assert_eq!(view["districts"], serde_json::json!(["chengdong", "chengxi"]));
    let refused = post(serde_json::json!(["城北区"])).await.unwrap();
    assert_eq!(refused.status(), 422);
    let why = refused.text().await.unwrap();
    assert!(why.contains("城北区") && why.contains("is not a district"), "{why}");

    let dir = tempfile::TempDir::new().unwrap();
    let cli = |args: &[&str]| {
        let mut c = pingan(dir.path());
        c.env("DATABASE_URL", app.db.url()).env("PINGAN_BOT_DISTRICTS", DISTRICTS).args(args);
        c
    };
    let out = output(
        &mut cli(&["notices", "add", "--title", "西区封路", "--body", "绕行。", "--district", "城西区"]),
        None,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out =
        output(&mut cli(&["notices", "add", "--title", "x", "--body", "y", "--district", "城北区"]), None)
            .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("--district: not a district: \"城北区\"") && err.contains("城东区 (chengdong)"),
        "{err}"
    );
    let notices =
        app.store.list_notices(&pingan::store::NoticeQuery { limit: 5, ..Default::default() }).await.unwrap();
    let west = notices.iter().find(|n| n.content.title.as_str() == "西区封路").unwrap();
    assert_eq!(west.content.districts, DistrictSet::from([key("chengxi")]));
    app.stop().await.unwrap();
}

crate::support::on_both_backends!(
    an_editor_names_the_district_with_a_button_or_in_the_form,
    a_subscriber_in_chengdong_gets_its_road_closure_and_not_chengxis,
    an_extreme_alert_for_the_whole_city_reaches_every_district,
    a_shared_location_picks_its_district_and_is_not_kept,
    cap_alerts_are_placed_by_area_description_geocode_and_polygon,
);

/// A CAP alert with one Chinese `<info>` whose `<area>` is `area` (XML inside `<area>`).
fn cap_alert(id: &str, headline: &str, area: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{id}</identifier>
  <sender>alerts@weather.example.gov.cn</sender>
  <sent>2026-11-28T08:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨</event>
    <urgency>Expected</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <headline>{headline}</headline>
    <description>请注意防范。</description>
    <area>{area}</area>
  </info>
</alert>"#
    )
}

async fn cap_alerts_are_placed_by_area_description_geocode_and_polygon(db: TestDb) {
    use crate::support::binary::{output, pingan, text};
    let dir = tempfile::TempDir::new().unwrap();
    // The file form: 城东区's boundary in a GeoJSON file, 城西区's inline, geocodes.
    let east = r#"{"type": "Feature", "properties": {"name": "城东区"}, "geometry": {"type": "Polygon",
        "coordinates": [[[120.0, 30.0], [120.5, 30.0], [120.5, 30.5], [120.0, 30.5], [120.0, 30.0]]]}}"#;
    std::fs::write(dir.path().join("east.geojson"), east).unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config/local.toml"),
        r#"[[bot.districts]]
key = "chengdong"
name_zh = "城东区"
name_en = "Chengdong District"
boundary = "east.geojson"
geocodes = [{valueName = "GB2260", value = "330102"}]

[[bot.districts]]
key = "chengxi"
name_zh = "城西区"
name_en = "Chengxi District"
aliases = ["西湖片区"]
polygon = [[119.4, 30.0], [119.9, 30.0], [119.9, 30.5], [119.4, 30.5], [119.4, 30.0]]
"#,
    )
    .unwrap();
    let alerts = [
        ("by-name", "城东区暴雨", "<areaDesc>城东区人民路一带</areaDesc>"),
        ("by-alias", "西湖片区暴雨", "<areaDesc>西湖片区</areaDesc>"),
        (
            "by-geocode",
            "编码暴雨",
            "<areaDesc>某街道</areaDesc><geocode><valueName>GB2260</valueName><value>330102</value></geocode>",
        ),
        // A polygon across 城西区's western edge (CAP writes latitude first).
        (
            "by-polygon",
            "多边形暴雨",
            "<areaDesc>山区</areaDesc><polygon>30.1,119.3 30.1,119.5 30.2,119.5 30.2,119.3 30.1,119.3</polygon>",
        ),
        ("by-circle", "圆形暴雨", "<areaDesc>某处</areaDesc><circle>30.25,120.25 3</circle>"),
        (
            "nowhere",
            "外省暴雨",
            "<areaDesc>邻省</areaDesc><polygon>40.1,100.3 40.1,100.5 40.2,100.5 40.2,100.3 40.1,100.3</polygon>",
        ),
        ("everywhere", "全域暴雨", "<areaDesc>城东区、城西区</areaDesc>"),
    ];
    let mut command = pingan(dir.path());
    command.env("DATABASE_URL", db.url()).args(["notices", "import"]);
    for (id, headline, area) in alerts {
        let path = dir.path().join(format!("{id}.xml"));
        std::fs::write(&path, cap_alert(id, headline, area)).unwrap();
        command.arg(path);
    }
    let out = output(&mut command, None).await;
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let store = db.store().await;
    let notices =
        store.list_notices(&pingan::store::NoticeQuery { limit: 100, ..Default::default() }).await.unwrap();
    let placed = |headline: &str| -> Vec<String> {
        let n = notices
            .iter()
            .find(|n| n.content.title.as_str() == headline)
            .unwrap_or_else(|| panic!("{headline}"));
        n.content.districts.iter().map(|k| k.to_string()).collect()
    };
    assert_eq!(placed("城东区暴雨"), ["chengdong"]);
    assert_eq!(placed("西湖片区暴雨"), ["chengxi"]);
    assert_eq!(placed("编码暴雨"), ["chengdong"]);
    assert_eq!(placed("多边形暴雨"), ["chengxi"]);
    assert_eq!(placed("圆形暴雨"), ["chengdong"]);
    assert!(placed("外省暴雨").is_empty(), "nothing matched: the whole city");
    assert!(placed("全域暴雨").is_empty(), "every district matched: the whole city");
    store.close().await;
}
