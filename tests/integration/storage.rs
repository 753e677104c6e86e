//! The storage conformance suite: every test runs on SQLite and on PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use pingan::domain::{
    Actor, Area, Body, Category, ChatId, DigestTime, Frequency, GoneReason, Keyword, Language,
    NewNotice, NewTip, NoticeContent, NoticeId, NoticeStatus, Publication, Role, ScamType,
    Severity, Source, Subscriber, SubscriberStatus, TipBody, TipTitle, Title,
};
use pingan::store::{NoticeQuery, Store, TipQuery};

/// Declares each test once per backend. PostgreSQL tests skip (saying so) when the
/// server is unreachable, unless PINGAN_REQUIRE_POSTGRES=1.
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = crate::support::test_db::TestDb::sqlite();
                    super::$name(db.store().await).await;
                }
            )+
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = crate::support::test_db::TestDb::postgres().await else { return };
                    super::$name(db.store().await).await;
                }
            )+
        }
    };
}

conformance!(
    a_notice_reads_back_exactly_as_written,
    notices_list_newest_first_and_filter_by_status_and_language,
    an_unknown_notice_is_absent,
    markup_and_chinese_text_are_stored_literally,
    tips_filter_by_scam_type_and_language,
    builtin_tip_keys_are_unique,
    a_subscription_reads_back_with_every_setting,
    saving_a_subscription_again_replaces_its_settings,
    a_subscriber_is_marked_gone_once,
    roles_are_granted_replaced_and_revoked,
    migrating_twice_changes_nothing,
);

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap() + Duration::microseconds(123_456)
}

fn content(title: &str, language: Language) -> NoticeContent {
    NoticeContent {
        title: Title::parse(title).unwrap(),
        body: Body::parse("第一段。\n\n第二段。").unwrap(),
        category: Category::Fraud,
        severity: Severity::Moderate,
        area: None,
        language,
        source: None,
    }
}

async fn add(
    store: &Arc<dyn Store>,
    title: &str,
    language: Language,
    publication: Publication,
    now: DateTime<Utc>,
) {
    let notice = NewNotice::new(
        content(title, language),
        publication,
        None,
        Actor::System,
        now,
    )
    .unwrap();
    store.insert_notice(&notice).await.unwrap();
}

async fn a_notice_reads_back_exactly_as_written(store: Arc<dyn Store>) {
    let mut c = content("警惕冒充公检法诈骗", Language::Zh);
    c.severity = Severity::Severe;
    c.area = Some(Area::parse("全市").unwrap());
    c.source = Some(Source::parse("市公安局反诈中心").unwrap());
    let expires = at(23, 0) + Duration::days(30);
    let new = NewNotice::new(
        c.clone(),
        Publication::Now,
        Some(expires),
        Actor::Telegram(42),
        at(8, 0),
    )
    .unwrap();

    let stored = store.insert_notice(&new).await.unwrap();
    assert_eq!(stored.content, c);
    assert_eq!(stored.status, NoticeStatus::Published);
    assert_eq!(stored.publish_at, Some(at(8, 0)));
    assert_eq!(stored.expires_at, Some(expires));
    assert_eq!(stored.author, Actor::Telegram(42));
    assert_eq!(stored.created_at, at(8, 0));

    let read = store.notice(stored.id).await.unwrap().expect("the notice");
    assert_eq!(read, stored);
}

async fn notices_list_newest_first_and_filter_by_status_and_language(store: Arc<dyn Store>) {
    add(&store, "oldest", Language::En, Publication::Now, at(8, 0)).await;
    add(&store, "middle", Language::Zh, Publication::Now, at(9, 0)).await;
    add(
        &store,
        "scheduled",
        Language::Zh,
        Publication::At(at(20, 0)),
        at(10, 0),
    )
    .await;
    add(&store, "draft", Language::Zh, Publication::Draft, at(11, 0)).await;

    let titles = |notices: Vec<pingan::domain::Notice>| {
        notices
            .into_iter()
            .map(|n| n.content.title.into_string())
            .collect::<Vec<_>>()
    };
    let all = store
        .list_notices(&NoticeQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(titles(all), ["scheduled", "draft", "middle", "oldest"]);

    let published = NoticeQuery {
        status: Some(NoticeStatus::Published),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        titles(store.list_notices(&published).await.unwrap()),
        ["middle", "oldest"]
    );

    let english = NoticeQuery {
        language: Some(Language::En),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        titles(store.list_notices(&english).await.unwrap()),
        ["oldest"]
    );

    let second_page = NoticeQuery {
        limit: 2,
        offset: 2,
        ..Default::default()
    };
    assert_eq!(
        titles(store.list_notices(&second_page).await.unwrap()),
        ["middle", "oldest"]
    );
}

async fn an_unknown_notice_is_absent(store: Arc<dyn Store>) {
    assert_eq!(store.notice(NoticeId(9_999)).await.unwrap(), None);
}

async fn markup_and_chinese_text_are_stored_literally(store: Arc<dyn Store>) {
    let mut c = content("<b>x</b> & <script>", Language::Zh);
    c.body = Body::parse("“刷单返利”是诈骗 — 100% <i>不要</i> 相信 &amp; 转账 😀").unwrap();
    let new = NewNotice::new(c.clone(), Publication::Now, None, Actor::System, at(8, 0)).unwrap();
    let id = store.insert_notice(&new).await.unwrap().id;
    let read = store.notice(id).await.unwrap().unwrap();
    assert_eq!(read.content.title.as_str(), "<b>x</b> & <script>");
    assert_eq!(read.content.body, c.body);
}

fn tip(scam_type: ScamType, language: Language, title: &str, key: Option<&str>) -> NewTip {
    NewTip {
        scam_type,
        language,
        title: TipTitle::parse(title).unwrap(),
        body: TipBody::parse("怎么骗：……\n识别：……\n怎么办：拨打 96110。").unwrap(),
        builtin_key: key.map(str::to_owned),
        author: Actor::System,
    }
}

async fn tips_filter_by_scam_type_and_language(store: Arc<dyn Store>) {
    store
        .insert_tip(
            &tip(ScamType::OrderBrushing, Language::Zh, "刷单返利", None),
            at(8, 0),
        )
        .await
        .unwrap();
    store
        .insert_tip(
            &tip(
                ScamType::OrderBrushing,
                Language::En,
                "Order brushing",
                None,
            ),
            at(8, 0),
        )
        .await
        .unwrap();
    let stored = store
        .insert_tip(
            &tip(ScamType::Romance, Language::Zh, "网络交友", None),
            at(8, 0),
        )
        .await
        .unwrap();
    assert!(!stored.retired);
    assert_eq!(stored.edited_by, None);

    let query = |scam_type, language| TipQuery {
        scam_type,
        language,
        include_retired: false,
    };
    let titles = |tips: Vec<pingan::domain::Tip>| {
        tips.into_iter()
            .map(|t| t.title.into_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(
            store
                .tips(&query(Some(ScamType::OrderBrushing), Some(Language::Zh)))
                .await
                .unwrap()
        ),
        ["刷单返利"]
    );
    assert_eq!(
        titles(store.tips(&query(None, Some(Language::Zh))).await.unwrap()).len(),
        2
    );
    assert_eq!(
        titles(
            store
                .tips(&query(Some(ScamType::Romance), None))
                .await
                .unwrap()
        ),
        ["网络交友"]
    );
}

async fn builtin_tip_keys_are_unique(store: Arc<dyn Store>) {
    let first = tip(ScamType::Loan, Language::Zh, "虚假贷款", Some("loan.zh.1"));
    store.insert_tip(&first, at(8, 0)).await.unwrap();
    let again = store.insert_tip(&first, at(9, 0)).await;
    assert!(
        matches!(again, Err(pingan::store::StoreError::Conflict(_))),
        "{again:?}"
    );
}

fn subscriber(chat: i64) -> Subscriber {
    let mut s = Subscriber::new(
        ChatId(chat),
        Language::En,
        chrono_tz::Europe::Berlin,
        at(8, 0),
    );
    s.user_id = Some(77);
    s.thread_id = Some(12);
    s.digest_time = "07:30".parse::<DigestTime>().unwrap();
    s.frequency = Frequency::Weekly(Weekday::Sun);
    s.categories = BTreeSet::from([Category::Fraud, Category::Traffic]);
    s.include_keywords = vec![
        Keyword::parse("诈骗").unwrap(),
        Keyword::parse("refund").unwrap(),
    ];
    s.exclude_keywords = vec![Keyword::parse("演习").unwrap()];
    s
}

async fn a_subscription_reads_back_with_every_setting(store: Arc<dyn Store>) {
    let s = subscriber(-1_001_234_567_890);
    store.save_subscriber(&s).await.unwrap();
    assert_eq!(store.subscriber(s.chat_id).await.unwrap(), Some(s));
    assert_eq!(store.subscriber(ChatId(5)).await.unwrap(), None);
}

async fn saving_a_subscription_again_replaces_its_settings(store: Arc<dyn Store>) {
    let mut s = subscriber(5);
    store.save_subscriber(&s).await.unwrap();
    s.frequency = Frequency::Daily;
    s.language = Language::Zh;
    s.categories.clear();
    s.include_keywords.clear();
    s.updated_at = at(9, 0);
    store.save_subscriber(&s).await.unwrap();
    assert_eq!(store.subscriber(s.chat_id).await.unwrap(), Some(s));
}

async fn a_subscriber_is_marked_gone_once(store: Arc<dyn Store>) {
    let s = subscriber(6);
    store.save_subscriber(&s).await.unwrap();
    assert!(
        store
            .mark_gone(s.chat_id, GoneReason::Blocked, at(10, 0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_gone(s.chat_id, GoneReason::Kicked, at(11, 0))
            .await
            .unwrap()
    );
    let read = store.subscriber(s.chat_id).await.unwrap().unwrap();
    assert_eq!(
        read.status,
        SubscriberStatus::Gone {
            reason: GoneReason::Blocked,
            since: at(10, 0)
        }
    );
    assert_eq!(read.updated_at, at(10, 0));
    assert!(
        !store
            .mark_gone(ChatId(404), GoneReason::Blocked, at(10, 0))
            .await
            .unwrap()
    );
}

async fn roles_are_granted_replaced_and_revoked(store: Arc<dyn Store>) {
    let by = Actor::Cli("root".into());
    store.grant(11, Role::Editor, &by, at(8, 0)).await.unwrap();
    store
        .grant(12, Role::Moderator, &Actor::Telegram(11), at(8, 5))
        .await
        .unwrap();
    let replaced = store.grant(11, Role::Owner, &by, at(9, 0)).await.unwrap();
    assert_eq!(
        (replaced.role, replaced.granted_at),
        (Role::Owner, at(9, 0))
    );

    let admins = store.admins().await.unwrap();
    assert_eq!(
        admins
            .iter()
            .map(|a| (a.user_id, a.role))
            .collect::<Vec<_>>(),
        [(12, Role::Moderator), (11, Role::Owner)]
    );
    assert_eq!(
        store.admin(12).await.unwrap().unwrap().granted_by,
        Actor::Telegram(11)
    );

    assert!(store.revoke(12).await.unwrap());
    assert!(!store.revoke(12).await.unwrap());
    assert_eq!(store.admin(12).await.unwrap(), None);
}

async fn migrating_twice_changes_nothing(store: Arc<dyn Store>) {
    let report = store.migrate().await.unwrap();
    assert!(report.applied_now.is_empty(), "{report:?}");
    assert!(report.version.is_some());
}
