//! Traditional and simplified Chinese alike (issue 12): search, its stored index and
//! `/check`, on SQLite and PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use pingan::clock::SystemClock;
use pingan::domain::{
    Actor, Body, Category, Language, NewNotice, NewTip, NoticeContent, Publication, ScamType, SearchTerms,
    Severity, TipBody, TipTitle, Title,
};
use pingan::store::{Found, Reindexed, Store};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::on_both_backends;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

on_both_backends!(
    search_finds_words_in_either_script_whichever_the_text_is_written_in,
    a_text_indexed_before_folding_is_found_by_traditional_words_after_migrating,
    citizens_search_and_check_in_traditional_characters,
);

async fn add_notice(store: &Arc<dyn Store>, title: &str, body: &str, now: DateTime<Utc>) {
    let content = NoticeContent {
        districts: Default::default(),
        title: Title::parse(title).unwrap(),
        body: Body::parse(body).unwrap(),
        category: Category::Fraud,
        severity: Severity::Moderate,
        area: None,
        language: Language::Zh,
        source: None,
    };
    let notice = NewNotice::new(content, Publication::Now, None, Actor::System, now).unwrap();
    store.insert_notice(&notice).await.unwrap();
}

async fn search(store: &Arc<dyn Store>, query: &str, now: DateTime<Utc>) -> Vec<String> {
    let terms = SearchTerms::parse(query).unwrap();
    let mut titles: Vec<String> = store
        .search(&terms, Language::Zh, now, 20, 0)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|hit| match hit {
            Found::Notice(n) => n.content.title.as_str().to_owned(),
            Found::Tip(t) => format!("tip:{}", t.title.as_str()),
        })
        .collect();
    titles.sort();
    titles
}

async fn search_finds_words_in_either_script_whichever_the_text_is_written_in(db: TestDb) {
    let store = db.store().await;
    let now = Utc::now();
    add_notice(&store, "警惕刷單返利詐騙", "動動手指就能賺錢的兼職，都是騙局。", now).await;
    add_notice(&store, "理发店预付卡跑路", "头发还没剪完，店就关门了。", now).await;
    add_notice(&store, "冒充幹部要求轉賬", "自稱單位領導，要求轉賬 5000 元。", now).await;
    add_notice(&store, "iPhone 16 退款诈骗", "自称客服，来电请拨 96110 核实。", now).await;
    add_notice(&store, "乾燥天气防火", "冬季天气干燥。", now).await;
    let later = now + Duration::minutes(1);

    let brushing = ["警惕刷單返利詐騙"];
    let hair = ["理发店预付卡跑路"];
    let cadre = ["冒充幹部要求轉賬"];
    let refund = ["iPhone 16 退款诈骗"];
    // (query, what it finds): each word in traditional and in simplified characters.
    let cases: &[(&str, &[&str])] = &[
        ("刷單", &brushing),
        ("刷单", &brushing),
        ("刷單返利", &brushing),
        ("赚钱 骗局", &brushing),
        ("頭髮", &hair),
        ("头发", &hair),
        ("幹部", &cadre),
        ("干部", &cadre),
        ("轉賬 5000", &cadre),
        ("转账 5000", &cadre),
        ("iphone 退款詐騙", &refund),
        ("IPHONE 16 退款诈骗", &refund),
        ("96110 來電", &refund),
        // 乾 and 幹 share 干: the one character finds both texts, and 干燥 finds 乾燥.
        ("乾", &["乾燥天气防火", "冒充幹部要求轉賬"]),
        ("乾燥", &["乾燥天气防火"]),
        ("干燥", &["乾燥天气防火"]),
        // 發 and 髮 share 发.
        ("發", &["理发店预付卡跑路"]),
        ("髮", &["理发店预付卡跑路"]),
    ];
    for (query, expected) in cases {
        let mut expected: Vec<String> = expected.iter().map(|t| (*t).to_owned()).collect();
        expected.sort();
        assert_eq!(search(&store, query, later).await, expected, "{query}");
    }
    store.close().await;
}

/// A database indexed before traditional characters were folded holds the token `刷單`,
/// which the query `刷單` (the term `刷单` now) does not find; migrating rebuilds the index.
async fn a_text_indexed_before_folding_is_found_by_traditional_words_after_migrating(db: TestDb) {
    let store = db.store().await;
    let now = Utc::now();
    add_notice(&store, "警惕刷單返利", "正文", now).await;
    let tip = NewTip {
        // Not order brushing: a tip is found by its scam type's name (刷单返利) too.
        scam_type: ScamType::CustomerService,
        language: Language::Zh,
        title: TipTitle::parse("網購退款").unwrap(),
        body: TipBody::parse("接到來電請撥打 96110。").unwrap(),
        builtin_key: None,
        author: Actor::System,
    };
    store.insert_tip(&tip, now).await.unwrap();
    // The tokens the rules before folding made, and a version row naming those rules.
    let old_notice = ("警 惕 刷 單 返 利 警惕 惕刷 刷單 單返 返利", "正 文 正文");
    let old_tip = ("網 購 退 款 網購 購退 退款", "接 到 來 電 請 撥 打 接到 到來 來電 電請 請撥 撥打 96110");
    macro_rules! go_back {
        ($pool:expr, $update:literal) => {{
            let pool = $pool;
            for (kind, (title, body)) in [("notice", old_notice), ("tip", old_tip)] {
                let changed =
                    sqlx::query($update).bind(title).bind(body).bind(kind).execute(&pool).await.unwrap();
                assert_eq!(changed.rows_affected(), 1, "{kind}");
            }
            sqlx::query("UPDATE data_versions SET version = 'before folding' WHERE name = 'search_tokens'")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }};
    }
    match &db {
        TestDb::Sqlite { .. } => go_back!(
            sqlx::SqlitePool::connect(db.url()).await.unwrap(),
            "UPDATE search_fts SET title = $1, body = $2 \
             WHERE rowid = (SELECT id FROM search_documents WHERE kind = $3)"
        ),
        TestDb::Postgres { .. } => go_back!(
            sqlx::PgPool::connect(db.url()).await.unwrap(),
            "UPDATE search_documents SET title = $1, body = $2 WHERE kind = $3"
        ),
    }
    let later = now + Duration::minutes(1);
    assert!(search(&store, "刷單", later).await.is_empty(), "the old index does not fold");
    assert!(search(&store, "網購", later).await.is_empty(), "the old index does not fold");

    let report = store.migrate().await.unwrap();
    assert_eq!(report.reindexed, Some(Reindexed { notices: 1, tips: 1 }));
    for query in ["刷單", "刷单", "刷單返利"] {
        assert_eq!(search(&store, query, later).await, ["警惕刷單返利"], "{query}");
    }
    for query in ["網購退款", "网购退款", "来电 96110"] {
        assert_eq!(search(&store, query, later).await, ["tip:網購退款"], "{query}");
    }
    // Migrating again (a restart, another instance) leaves the index alone.
    assert_eq!(store.migrate().await.unwrap().reindexed, None);
    store.close().await;
}

async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

/// The measurement: `/search 刷單` found nothing while `/search 刷单` found the
/// shipped tips. Now both find the same, and `/check` reads traditional kind words.
async fn citizens_search_and_check_in_traditional_characters(db: TestDb) {
    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    let user = TgUser::new(4801, "小陳", Some("zh-hant"));
    let traditional = ask(&app, &user, "/search 刷單").await;
    let simple = ask(&app, &user, "/search 刷单").await;
    assert!(traditional.text.starts_with("搜索“刷單”：找到"), "{}", traditional.text);
    assert!(traditional.text.contains("刷单兼职"), "the shipped tips: {}", traditional.text);
    let results = |m: &SentMessage| m.text.split_once('：').map(|(_, rest)| rest.to_owned());
    assert_eq!(results(&traditional), results(&simple));

    for written in ["/check 電話 138 0013 8000", "/check 号码 13800138000", "/check 手機 138-0013-8000"]
    {
        let answer = ask(&app, &user, written).await;
        assert!(answer.text.contains("+86 138 0013 8000"), "{written}: {}", answer.text);
    }
    let link = ask(&app, &user, "/check 網址 example.com").await;
    assert!(link.text.contains("example.com"), "{}", link.text);
    assert!(!link.text.contains("看起来是一段文字"), "{}", link.text);
    app.stop().await.unwrap();
}
