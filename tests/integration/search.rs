//! Search finds what labels say (issue 13, part 4): scam types by their names in both
//! languages, every word of a query anywhere (phrases first), the chat's language first,
//! and "did you mean" for a near miss; end to end over the fake Bot API and in the store,
//! on SQLite and PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use pingan::clock::SystemClock;
use pingan::domain::{
    Actor, Body, Category, Language, NewNotice, NewTip, NoticeContent, Publication, ScamType, SearchTerms,
    Severity, TipBody, TipTitle, Title, suggestions,
};
use pingan::store::{Found, Store};

use crate::support::fake_telegram::{SentMessage, TgUser};
use crate::support::on_both_backends;
use crate::support::test_app::{TestApp, spawn_app_with};
use crate::support::test_db::TestDb;

on_both_backends!(
    a_tip_is_found_by_its_scam_types_names_in_either_language,
    every_word_is_required_anywhere_and_words_written_together_rank_first,
    the_chats_language_ranks_first,
    the_vocabulary_counts_the_documents_holding_each_token_and_answers_a_near_miss,
    migrating_indexes_tips_stored_before_under_their_scam_types_names,
    citizens_find_scam_types_by_name_in_zh_and_en_chats,
    citizens_words_match_apart_best_first_in_their_language,
    a_near_miss_gets_a_did_you_mean_that_finds_something,
    a_word_found_everywhere_lists_the_newest_it_ranks_and_says_there_are_more,
);

async fn add_notice(store: &Arc<dyn Store>, title: &str, body: &str, language: Language, now: DateTime<Utc>) {
    let content = NoticeContent {
        districts: Default::default(),
        title: Title::parse(title).unwrap(),
        body: Body::parse(body).unwrap(),
        category: Category::Fraud,
        severity: Severity::Moderate,
        area: None,
        language,
        source: None,
    };
    let notice = NewNotice::new(content, Publication::Now, None, Actor::System, now).unwrap();
    store.insert_notice(&notice).await.unwrap();
}

fn tip(scam_type: ScamType, language: Language, title: &str, body: &str) -> NewTip {
    NewTip {
        scam_type,
        language,
        title: TipTitle::parse(title).unwrap(),
        body: TipBody::parse(body).unwrap(),
        builtin_key: None,
        author: Actor::System,
    }
}

/// The titles found, best first (tips marked `tip:`).
async fn search(store: &Arc<dyn Store>, query: &str, language: Language, now: DateTime<Utc>) -> Vec<String> {
    let terms = SearchTerms::parse(query).unwrap();
    store
        .search(&terms, language, now, 20, 0)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|hit| match hit {
            Found::Notice(n) => n.content.title.as_str().to_owned(),
            Found::Tip(t) => format!("tip:{}", t.title.as_str()),
        })
        .collect()
}

async fn a_tip_is_found_by_its_scam_types_names_in_either_language(db: TestDb) {
    let store = db.store().await;
    let now = Utc::now();
    // Neither tip says its scam type's name.
    store
        .insert_tip(&tip(ScamType::Officials, Language::Zh, "接到“办案”电话", "挂断，拨打 110 核实。"), now)
        .await
        .unwrap();
    store
        .insert_tip(&tip(ScamType::CustomerService, Language::Zh, "快递丢了要理赔？", "先挂断电话。"), now)
        .await
        .unwrap();
    store
        .insert_tip(&tip(ScamType::OrderBrushing, Language::En, "Paid to click?", "It is a scam."), now)
        .await
        .unwrap();
    let later = now + Duration::minutes(1);
    for (query, expected) in [
        ("冒充公检法", "tip:接到“办案”电话"),
        ("fake police", "tip:接到“办案”电话"),
        ("Fake police or officials", "tip:接到“办案”电话"),
        // The name is 冒充电商物流客服: the query's words are in it, apart.
        ("冒充客服", "tip:快递丢了要理赔？"),
        ("fake customer service", "tip:快递丢了要理赔？"),
        ("刷单返利", "tip:Paid to click?"),
        ("order brushing", "tip:Paid to click?"),
    ] {
        for language in Language::ALL {
            assert_eq!(search(&store, query, language, later).await, [expected], "{query} ({language})");
        }
    }
    store.close().await;
}

async fn every_word_is_required_anywhere_and_words_written_together_rank_first(db: TestDb) {
    let store = db.store().await;
    let now = Utc::now();
    // Written together, stored first: without the phrase ranking the newer one would lead.
    add_notice(&store, "Fake refund calls are back", "Hang up and call 96110.", Language::En, now).await;
    add_notice(&store, "A refund from the courier", "The caller was a fake.", Language::En, now).await;
    add_notice(&store, "A fake courier", "Nothing about money.", Language::En, now).await;
    add_notice(&store, "退款客服电话是假的", "请挂断。", Language::Zh, now).await;
    add_notice(&store, "客服来电", "说可以退款，要你转账。", Language::Zh, now).await;
    add_notice(&store, "客服热线", "只有这个词。", Language::Zh, now).await;
    let later = now + Duration::minutes(1);
    assert_eq!(
        search(&store, "fake refund", Language::En, later).await,
        ["Fake refund calls are back", "A refund from the courier"]
    );
    assert_eq!(search(&store, "退款 客服", Language::Zh, later).await, ["退款客服电话是假的", "客服来电"]);
    // Every word is required: a document holding one of them is not a match.
    assert!(search(&store, "fake refund earthquake", Language::En, later).await.is_empty());
    store.close().await;
}

async fn the_chats_language_ranks_first(db: TestDb) {
    let store = db.store().await;
    let now = Utc::now();
    add_notice(&store, "Beware of fake police calls", "冒充公检法 fake police", Language::En, now).await;
    store
        .insert_tip(&tip(ScamType::Officials, Language::Zh, "公安不会电话办案", "挂断。"), now)
        .await
        .unwrap();
    store
        .insert_tip(&tip(ScamType::Officials, Language::En, "Police do not call", "Hang up."), now)
        .await
        .unwrap();
    add_notice(&store, "警惕冒充公检法诈骗", "fake police 骗局", Language::Zh, now).await;
    let later = now + Duration::minutes(1);
    for query in ["冒充公检法", "fake police"] {
        assert_eq!(
            search(&store, query, Language::Zh, later).await,
            [
                "警惕冒充公检法诈骗",
                "tip:公安不会电话办案",
                "Beware of fake police calls",
                "tip:Police do not call"
            ],
            "{query}"
        );
        assert_eq!(
            search(&store, query, Language::En, later).await,
            [
                "Beware of fake police calls",
                "tip:Police do not call",
                "警惕冒充公检法诈骗",
                "tip:公安不会电话办案"
            ],
            "{query}"
        );
    }
    store.close().await;
}

async fn the_vocabulary_counts_the_documents_holding_each_token_and_answers_a_near_miss(db: TestDb) {
    let store = db.store().await;
    let now = Utc::now();
    add_notice(&store, "刷单返利是诈骗", "Order brushing fraud", Language::Zh, now).await;
    add_notice(&store, "网上刷单兼职", "fraud again", Language::Zh, now).await;
    add_notice(&store, "刷卡消费", "pay by card", Language::Zh, now).await;
    let vocabulary = store.search_vocabulary().await.unwrap();
    assert_eq!(suggestions("frud", &vocabulary, 3), ["fraud"]);
    // 刷单 is in two documents, 刷卡 in one.
    assert_eq!(suggestions("刷丹", &vocabulary, 3), ["刷单", "刷卡"]);
    assert_eq!(suggestions("刷丹返利", &vocabulary, 3), ["刷单返利"]);
    assert!(suggestions("刷单 fraud", &vocabulary, 3).is_empty(), "nothing to correct");
    let later = now + Duration::minutes(1);
    assert_eq!(search(&store, "刷单", Language::Zh, later).await.len(), 2);
    store.close().await;
}

/// A tip indexed before scam types' names were (its tokens and a version row as the rules
/// before made them) is found by its name once migrating rebuilds the index.
async fn migrating_indexes_tips_stored_before_under_their_scam_types_names(db: TestDb) {
    let store = db.store().await;
    let now = Utc::now();
    store.insert_tip(&tip(ScamType::Officials, Language::Zh, "接到电话", "挂断"), now).await.unwrap();
    let old = ("接 到 电 话 接到 到电 电话", "挂 断 挂断");
    macro_rules! go_back {
        ($pool:expr, $update:literal) => {{
            let pool = $pool;
            sqlx::query($update).bind(old.0).bind(old.1).execute(&pool).await.unwrap();
            sqlx::query(
                "UPDATE data_versions SET version = 'ferrous-opencc 0.4.0 t2s by character, pingan 2' \
                 WHERE name = 'search_tokens'",
            )
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
             WHERE rowid = (SELECT id FROM search_documents WHERE kind = 'tip')"
        ),
        TestDb::Postgres { .. } => go_back!(
            sqlx::PgPool::connect(db.url()).await.unwrap(),
            "UPDATE search_documents SET title = $1, body = $2 WHERE kind = 'tip'"
        ),
    }
    let later = now + Duration::minutes(1);
    assert!(search(&store, "冒充公检法", Language::Zh, later).await.is_empty(), "the old index has no names");
    let report = store.migrate().await.unwrap();
    assert_eq!(report.reindexed.map(|r| r.tips), Some(1));
    assert_eq!(search(&store, "冒充公检法", Language::Zh, later).await, ["tip:接到电话"]);
    assert_eq!(search(&store, "fake police", Language::En, later).await, ["tip:接到电话"]);
    assert_eq!(store.migrate().await.unwrap().reindexed, None, "once is enough");
    store.close().await;
}

async fn ask(app: &TestApp, user: &TgUser, text: &str) -> SentMessage {
    let before = app.fake.sent_to(user.id).len();
    app.fake.user_sends(user, text);
    app.fake.wait_for_sent(user.id, before + 1).await.remove(before)
}

/// Where `needle` first appears in `text`; panics, showing the text, if it does not.
fn at(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or_else(|| panic!("{needle:?} is not in {text}"))
}

async fn demo_app(db: TestDb) -> TestApp {
    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    pingan::content::demo::load_demo_notices(app.store.as_ref(), Utc::now()).await.unwrap();
    app
}

fn zh(id: i64) -> TgUser {
    TgUser::new(id, "小李", Some("zh-hans"))
}

fn en(id: i64) -> TgUser {
    TgUser::new(id, "Sam", Some("en"))
}

// The shipped tips (locales/tips.*.toml) of the scam types the issue searched for.
const ZH_CUSTOMER_SERVICE: &str = "自称“客服”要给你理赔、退款？先挂电话";
const ZH_ORDER_BRUSHING: &str = "“动动手指就赚钱”的刷单兼职，都是诈骗";
const ZH_OFFICIALS: &str = "公检法不会在电话里办案，更没有“安全账户”";
const EN_CUSTOMER_SERVICE: &str = "“Customer service” calling with a refund? Hang up first";
const EN_ORDER_BRUSHING: &str = "“Earn money with a few taps”: order brushing is always a scam";
const EN_OFFICIALS: &str = "Police do not handle cases by phone, and there is no “safe account”";
// The demo notice that names all three.
const ZH_NOTICE: &str = "年底警惕冒充公检法、冒充客服和刷单返利诈骗";

/// The searches, after `pingan demo-data`: each finds the notice and the tips whose
/// scam type it names, in a Chinese chat and an English one, the chat's language first.
async fn citizens_find_scam_types_by_name_in_zh_and_en_chats(db: TestDb) {
    let app = demo_app(db).await;
    for (query, zh_tip, en_tip) in [
        ("冒充客服", ZH_CUSTOMER_SERVICE, EN_CUSTOMER_SERVICE),
        ("刷单返利", ZH_ORDER_BRUSHING, EN_ORDER_BRUSHING),
        ("冒充公检法", ZH_OFFICIALS, EN_OFFICIALS),
        ("fake police", ZH_OFFICIALS, EN_OFFICIALS),
    ] {
        let chinese = ask(&app, &zh(4901), &format!("/search {query}")).await;
        assert!(chinese.text.starts_with(&format!("搜索“{query}”：找到")), "{}", chinese.text);
        assert!(at(&chinese.text, zh_tip) < at(&chinese.text, en_tip), "{query}: zh first: {}", chinese.text);
        let english = ask(&app, &en(4902), &format!("/search {query}")).await;
        assert!(english.text.starts_with(&format!("Search “{query}”:")), "{}", english.text);
        assert!(at(&english.text, en_tip) < at(&english.text, zh_tip), "{query}: en first: {}", english.text);
        if query != "fake police" {
            assert!(at(&chinese.text, ZH_NOTICE) < at(&chinese.text, zh_tip), "{}", chinese.text);
        }
    }
    app.stop().await.unwrap();
}

/// `fake refund` and `退款 客服` find documents holding the words apart, after those
/// holding them together, in the chat's language first.
async fn citizens_words_match_apart_best_first_in_their_language(db: TestDb) {
    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    let now = Utc::now();
    add_notice(&app.store, "Fake refund calls are back", "Hang up and call 96110.", Language::En, now).await;
    add_notice(&app.store, "A refund from the courier", "The caller was a fake.", Language::En, now).await;
    add_notice(&app.store, "退款客服电话是假的", "请挂断。", Language::Zh, now).await;
    add_notice(&app.store, "客服来电", "说可以退款，要你转账。", Language::Zh, now).await;

    let english = ask(&app, &en(4903), "/search fake refund").await;
    let together = at(&english.text, "Fake refund calls are back");
    let apart = at(&english.text, "A refund from the courier");
    assert!(together < apart, "{}", english.text);
    // The shipped English customer-service tip holds both words apart too (its name and title).
    assert!(apart < at(&english.text, EN_CUSTOMER_SERVICE), "{}", english.text);

    let chinese = ask(&app, &zh(4904), "/search 退款 客服").await;
    let together = at(&chinese.text, "退款客服电话是假的");
    let apart = at(&chinese.text, "客服来电");
    assert!(together < apart && apart < at(&chinese.text, ZH_CUSTOMER_SERVICE), "{}", chinese.text);
    assert!(
        !chinese.text.contains("Fake refund calls"),
        "an English notice without the words: {}",
        chinese.text
    );
    app.stop().await.unwrap();
}

/// A word in more notices than a search ranks: the header says "more than", the pager
/// counts the pages of those ranked, and the newest notice is among them.
async fn a_word_found_everywhere_lists_the_newest_it_ranks_and_says_there_are_more(db: TestDb) {
    let app = spawn_app_with(db, Arc::new(SystemClock), &[]).await;
    let now = Utc::now();
    let ranked = pingan::store::RANKED_MATCHES as usize;
    let notices: Vec<NewNotice> = (0..=ranked)
        .map(|i| {
            let content = NoticeContent {
                districts: Default::default(),
                title: Title::parse(&format!("第{i}号通报")).unwrap(),
                body: Body::parse("警惕电信网络诈骗。").unwrap(),
                category: Category::Fraud,
                severity: Severity::Moderate,
                area: None,
                language: Language::Zh,
                source: None,
            };
            NewNotice::new(content, Publication::Now, None, Actor::System, now).unwrap()
        })
        .collect();
    app.store.insert_notices(&notices).await.unwrap();

    let chinese = ask(&app, &zh(4905), "/search 网络诈骗").await;
    assert!(chinese.text.starts_with(&format!("搜索“网络诈骗”：找到 {ranked} 条以上")), "{}", chinese.text);
    assert!(chinese.text.contains(&format!("第{ranked}号通报")), "the newest: {}", chinese.text);
    let pages = format!("1/{}", ranked / 5);
    assert!(chinese.buttons().iter().flatten().any(|(label, _)| *label == pages), "{:?}", chinese.buttons());
    let english = ask(&app, &en(4906), "/search 诈骗").await;
    assert!(
        english.text.starts_with(&format!("Search “诈骗”: more than {ranked} found")),
        "{}",
        english.text
    );
    app.stop().await.unwrap();
}

async fn press(app: &TestApp, user: &TgUser, message: &SentMessage, label: &str) -> SentMessage {
    let id = app.fake.press_labelled(user, message, label);
    assert_eq!(app.fake.wait_for_answer(&id).await, None);
    app.fake.message(user.id, message.message_id)
}

/// A near miss gets a "did you mean" naming a query that finds something, and its button
/// shows that query's results in place; a query with nothing near still says nothing found.
async fn a_near_miss_gets_a_did_you_mean_that_finds_something(db: TestDb) {
    let app = demo_app(db).await;
    let english = ask(&app, &en(4905), "/search frud").await;
    assert!(english.text.starts_with("Nothing found for “frud”. Did you mean “fraud”?"), "{}", english.text);
    let results = press(&app, &en(4905), &english, "Search “fraud”").await;
    assert!(results.text.starts_with("Search “fraud”:"), "{}", results.text);
    assert!(results.text.contains("Telecom fraud cases down 4.79%"), "{}", results.text);

    let chinese = ask(&app, &zh(4906), "/search 刷丹").await;
    assert!(
        chinese.text.starts_with("没有找到与“刷丹”有关的通告或提示。您要找的是不是“刷单”？"),
        "{}",
        chinese.text
    );
    let results = press(&app, &zh(4906), &chinese, "搜索“刷单”").await;
    assert!(results.text.starts_with("搜索“刷单”：找到"), "{}", results.text);
    assert!(results.text.contains(ZH_ORDER_BRUSHING), "{}", results.text);

    let english = ask(&app, &en(4905), "/search fake polise").await;
    assert!(english.text.contains("Did you mean “fake police”?"), "{}", english.text);
    let nothing = ask(&app, &en(4905), "/search earthquake").await;
    assert!(nothing.text.starts_with("Nothing found for “earthquake”. Try other words"), "{}", nothing.text);
    assert!(nothing.buttons().is_empty());
    app.stop().await.unwrap();
}
