//! The storage conformance suite: every test runs on SQLite and on PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc, Weekday};
use pingan::domain::{
    Actor, Area, Body, Category, ChatId, DigestTime, Frequency, GoneReason, Keyword, Language, NewNotice,
    NewTip, NoticeContent, NoticeCorrection, NoticeId, NoticeStatus, PauseReason, Publication, Role,
    ScamType, Severity, Source, Subscriber, SubscriberStatus, TipBody, TipTitle, Title,
};
use pingan::domain::{
    AuditAction, AuditEntry, ForwardedText, IndicatorKind, IndicatorReason, ListedReason, NewIndicator,
    NewReport, ReportDecision, ReportStatus, ReportStory, ReportedSubject, Risk, Subject,
};
use pingan::domain::{DistrictKey, Notice, SearchTerms, Tip, TipId};
use pingan::store::{
    DueDigests, FanoutKind, Found, Matches, NewFanout, NewPublication, NoticeChange, NoticeQuery, Outcome,
    Recipient, SeedOutcome, SentRecord, Standing, Store, StoreError, StoredMessage, TipChange, TipQuery,
};

/// A lease no test outlives.
const LEASE: std::time::Duration = std::time::Duration::from_secs(60);

/// Declares each test once per backend. PostgreSQL tests skip (saying so) when the
/// server is unreachable, unless PINGAN_REQUIRE_POSTGRES=1.
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = crate::support::test_db::TestDb::sqlite();
                    let store = db.store().await;
                    super::$name(store.clone()).await;
                    store.close().await;
                }
            )+
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = crate::support::test_db::TestDb::postgres().await else { return };
                    let store = db.store().await;
                    super::$name(store.clone()).await;
                    // Connections go back to the pool (rolling back what a test left open)
                    // before the schema is dropped.
                    store.close().await;
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
    public_notices_are_published_and_unexpired,
    external_ids_find_notices_and_stay_unique,
    search_finds_two_character_chinese_words_and_english_prefixes,
    search_lists_notices_first_and_title_matches_before_body_matches,
    search_leaves_out_what_citizens_may_not_see,
    search_pages_through_results,
    a_word_in_more_than_the_ranked_matches_lists_the_newest_and_says_there_are_more,
    remembered_queries_keep_one_id_per_text,
    shipped_tips_load_once_update_and_respect_editors,
    an_edited_tip_is_found_by_its_new_words,
    forgetting_a_chat_deletes_its_settings_and_unlinks_its_user,
    a_publication_is_fanned_out_once_and_claimed_once,
    indicators_are_listed_updated_and_removed,
    reports_are_decided_once_counted_and_forgotten,
    a_tips_import_is_all_or_nothing,
    a_publication_changed_since_it_was_read_is_not_fanned_out,
    a_follow_up_reaches_each_recipient_once_whatever_state_its_alert_was_in,
    expired_leases_are_claimed_again,
    a_sender_that_lost_its_claim_changes_nothing,
    a_sender_told_to_send_a_part_holds_its_lease_while_the_part_goes_out,
    a_withdrawn_or_corrected_notice_stops_its_waiting_alerts_before_they_are_sent,
    deliveries_sent_together_are_recorded_together_unless_a_claim_was_lost_or_a_follow_up_is_owed,
    a_paused_chat_gets_nothing_until_it_resumes,
    a_chat_that_moves_gets_each_fan_out_once,
    an_alerts_candidates_come_grouped_by_what_its_filter_reads,
    a_chat_whose_topic_is_gone_gets_its_deliveries_in_the_chat_itself,
    the_language_versions_of_an_alert_are_stored_together,
    a_publication_under_one_key_is_stored_once_with_its_audit_entry_and_ends_the_dialogue,
    a_settings_change_read_before_a_digest_and_saved_after_loses_neither,
    outcomes_close_deliveries_and_follow_the_chat,
    digests_are_queued_once_per_due_time_and_move_the_schedule_on,
    a_round_of_digest_groups_is_queued_at_once_leaving_out_chats_moved_meanwhile,
    due_notices_are_published_and_expired,
    a_dialogue_reads_back_with_when_it_last_moved_on,
    a_retired_tip_is_restored_once_with_its_audit_entry,
);

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap() + Duration::microseconds(123_456)
}

fn content(title: &str, language: Language) -> NoticeContent {
    NoticeContent {
        districts: Default::default(),
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
    let notice = NewNotice::new(content(title, language), publication, None, Actor::System, now).unwrap();
    store.insert_notice(&notice).await.unwrap();
}

async fn a_notice_reads_back_exactly_as_written(store: Arc<dyn Store>) {
    let mut c = content("警惕冒充公检法诈骗", Language::Zh);
    c.severity = Severity::Severe;
    c.area = Some(Area::parse("全市").unwrap());
    c.source = Some(Source::parse("市公安局反诈中心").unwrap());
    let expires = at(23, 0) + Duration::days(30);
    let new =
        NewNotice::new(c.clone(), Publication::Now, Some(expires), Actor::Telegram(42), at(8, 0)).unwrap();

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
    add(&store, "scheduled", Language::Zh, Publication::At(at(20, 0)), at(10, 0)).await;
    add(&store, "draft", Language::Zh, Publication::Draft, at(11, 0)).await;

    let titles = |notices: Vec<pingan::domain::Notice>| {
        notices.into_iter().map(|n| n.content.title.into_string()).collect::<Vec<_>>()
    };
    let all = store.list_notices(&NoticeQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(titles(all), ["scheduled", "draft", "middle", "oldest"]);

    let published = NoticeQuery { status: Some(NoticeStatus::Published), limit: 10, ..Default::default() };
    assert_eq!(titles(store.list_notices(&published).await.unwrap()), ["middle", "oldest"]);

    let english = NoticeQuery { language: Some(Language::En), limit: 10, ..Default::default() };
    assert_eq!(titles(store.list_notices(&english).await.unwrap()), ["oldest"]);

    let second_page = NoticeQuery { limit: 2, offset: 2, ..Default::default() };
    assert_eq!(titles(store.list_notices(&second_page).await.unwrap()), ["middle", "oldest"]);
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
    store.insert_tip(&tip(ScamType::OrderBrushing, Language::Zh, "刷单返利", None), at(8, 0)).await.unwrap();
    store
        .insert_tip(&tip(ScamType::OrderBrushing, Language::En, "Order brushing", None), at(8, 0))
        .await
        .unwrap();
    let stored =
        store.insert_tip(&tip(ScamType::Romance, Language::Zh, "网络交友", None), at(8, 0)).await.unwrap();
    assert!(!stored.retired);
    assert_eq!(stored.edited_by, None);

    let query = |scam_type, language| TipQuery { scam_type, language, include_retired: false };
    let titles =
        |tips: Vec<pingan::domain::Tip>| tips.into_iter().map(|t| t.title.into_string()).collect::<Vec<_>>();
    assert_eq!(
        titles(store.tips(&query(Some(ScamType::OrderBrushing), Some(Language::Zh))).await.unwrap()),
        ["刷单返利"]
    );
    assert_eq!(titles(store.tips(&query(None, Some(Language::Zh))).await.unwrap()).len(), 2);
    assert_eq!(titles(store.tips(&query(Some(ScamType::Romance), None)).await.unwrap()), ["网络交友"]);
}

async fn a_tips_import_is_all_or_nothing(store: Arc<dyn Store>) {
    let loan =
        store.insert_tip(&tip(ScamType::Loan, Language::Zh, "虚假贷款", None), at(8, 0)).await.unwrap();
    let editor = Actor::Cli("editor".into());
    let audit = AuditEntry {
        at: at(9, 0),
        actor: editor.clone(),
        action: AuditAction::Imported,
        subject: "tips.toml".into(),
        detail: "tips".into(),
    };
    let retire =
        TipChange::Update { id: loan.id, title: loan.title.clone(), body: loan.body.clone(), retired: true };
    let hidden =
        TipChange::Add { tip: tip(ScamType::Romance, Language::Zh, "网络交友", None), retired: true };
    let unknown = TipChange::Update {
        id: TipId(loan.id.0 + 1000),
        title: TipTitle::parse("x").unwrap(),
        body: TipBody::parse("y").unwrap(),
        retired: false,
    };
    let failed = store.import_tips(&[retire.clone(), hidden.clone(), unknown], &editor, &audit).await;
    assert!(matches!(failed, Err(StoreError::NotFound)), "{failed:?}");
    let all = store.tips(&TipQuery { include_retired: true, ..TipQuery::default() }).await.unwrap();
    assert_eq!((all.len(), all[0].retired), (1, false), "nothing of the failed import stayed");
    assert!(store.audit_log(None, 10).await.unwrap().is_empty());

    let done = store.import_tips(&[retire.clone(), hidden, retire], &editor, &audit).await.unwrap();
    assert_eq!((done.added, done.changed), (1, 1), "the second update of the same tip changes nothing");
    assert!(store.tips(&TipQuery::default()).await.unwrap().is_empty(), "both retired, the new one at once");
    let page =
        store.search(&SearchTerms::parse("交友").unwrap(), Language::Zh, at(9, 1), 5, 0).await.unwrap();
    assert_eq!(page.matches, Matches::All(0), "a retired tip is not found");
    let log = store.audit_log(Some(&editor), 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>(), ["tips: 1 added, 1 changed"]);
}

async fn builtin_tip_keys_are_unique(store: Arc<dyn Store>) {
    let first = tip(ScamType::Loan, Language::Zh, "虚假贷款", Some("loan.zh.1"));
    store.insert_tip(&first, at(8, 0)).await.unwrap();
    let again = store.insert_tip(&first, at(9, 0)).await;
    assert!(matches!(again, Err(pingan::store::StoreError::Conflict(_))), "{again:?}");
}

fn subscriber(chat: i64) -> Subscriber {
    let mut s = Subscriber::new(ChatId(chat), Language::En, chrono_tz::Europe::Berlin, at(8, 0));
    s.user_id = Some(77);
    s.thread_id = Some(12);
    s.digest_time = "07:30".parse::<DigestTime>().unwrap();
    s.frequency = Frequency::Weekly(Weekday::Sun);
    s.categories = BTreeSet::from([Category::Fraud, Category::Traffic]);
    s.include_keywords = vec![Keyword::parse("诈骗").unwrap(), Keyword::parse("refund").unwrap()];
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
    assert!(store.mark_gone(s.chat_id, GoneReason::Blocked, at(10, 0)).await.unwrap());
    assert!(!store.mark_gone(s.chat_id, GoneReason::Kicked, at(11, 0)).await.unwrap());
    let read = store.subscriber(s.chat_id).await.unwrap().unwrap();
    assert_eq!(read.status, SubscriberStatus::Gone { reason: GoneReason::Blocked, since: at(10, 0) });
    assert_eq!(read.updated_at, at(10, 0));
    assert!(!store.mark_gone(ChatId(404), GoneReason::Blocked, at(10, 0)).await.unwrap());
}

async fn roles_are_granted_replaced_and_revoked(store: Arc<dyn Store>) {
    let by = Actor::Cli("root".into());
    store.grant(11, Role::Editor, &by, at(8, 0)).await.unwrap();
    store.grant(12, Role::Moderator, &Actor::Telegram(11), at(8, 5)).await.unwrap();
    let replaced = store.grant(11, Role::Owner, &by, at(9, 0)).await.unwrap();
    assert_eq!((replaced.role, replaced.granted_at), (Role::Owner, at(9, 0)));

    let admins = store.admins().await.unwrap();
    assert_eq!(
        admins.iter().map(|a| (a.user_id, a.role)).collect::<Vec<_>>(),
        [(12, Role::Moderator), (11, Role::Owner)]
    );
    assert_eq!(store.admin(12).await.unwrap().unwrap().granted_by, Actor::Telegram(11));

    assert!(store.revoke(12, &Actor::System, at(9, 0)).await.unwrap());
    assert!(!store.revoke(12, &Actor::System, at(9, 0)).await.unwrap());
    assert_eq!(store.admin(12).await.unwrap(), None);
}

async fn migrating_twice_changes_nothing(store: Arc<dyn Store>) {
    let report = store.migrate().await.unwrap();
    assert!(report.applied_now.is_empty(), "{report:?}");
    assert!(report.version.is_some());
    assert_eq!(report.reindexed, None, "the search index is built under the current rules once");
}

fn notice_at(title: &str, body: &str, publication: Publication, expires: Option<DateTime<Utc>>) -> NewNotice {
    let mut c = content(title, Language::Zh);
    c.body = Body::parse(body).unwrap();
    NewNotice::new(c, publication, expires, Actor::System, at(8, 0)).unwrap()
}

fn found_titles(hits: &[Found]) -> Vec<String> {
    hits.iter()
        .map(|h| match h {
            Found::Notice(n) => n.content.title.as_str().to_owned(),
            Found::Tip(t) => format!("tip:{}", t.title.as_str()),
        })
        .collect()
}

async fn search(store: &Arc<dyn Store>, query: &str, now: DateTime<Utc>) -> Vec<String> {
    let terms = SearchTerms::parse(query).unwrap();
    found_titles(&store.search(&terms, Language::Zh, now, 20, 0).await.unwrap().hits)
}

async fn public_notices_are_published_and_unexpired(store: Arc<dyn Store>) {
    let later = at(8, 0) + Duration::hours(5);
    for (title, publication, expires) in [
        ("now", Publication::Now, None),
        ("expiring", Publication::Now, Some(at(8, 0) + Duration::hours(1))),
        ("draft", Publication::Draft, None),
        ("scheduled", Publication::At(at(8, 0) + Duration::days(1)), None),
    ] {
        store.insert_notice(&notice_at(title, "正文", publication, expires)).await.unwrap();
    }
    let at_eight = NoticeQuery::public(at(8, 30), 10, 0);
    assert_eq!(store.count_notices(&at_eight).await.unwrap(), 2);
    let at_one = NoticeQuery::public(later, 10, 0);
    assert_eq!(store.count_notices(&at_one).await.unwrap(), 1);
    let titles: Vec<String> = store
        .list_notices(&at_one)
        .await
        .unwrap()
        .into_iter()
        .map(|n: Notice| n.content.title.into_string())
        .collect();
    assert_eq!(titles, ["now"]);
    let english = NoticeQuery { language: Some(Language::En), ..NoticeQuery::public(later, 10, 0) };
    assert_eq!(store.count_notices(&english).await.unwrap(), 0);
}

async fn external_ids_find_notices_and_stay_unique(store: Arc<dyn Store>) {
    let notice = notice_at("CAP alert", "正文", Publication::Now, None).with_external_id("cap:cn-2026-1");
    let stored = store.insert_notice(&notice).await.unwrap();
    assert_eq!(stored.external_id.as_deref(), Some("cap:cn-2026-1"));
    assert_eq!(store.notice_by_external_id("cap:cn-2026-1").await.unwrap().map(|n| n.id), Some(stored.id));
    assert_eq!(store.notice_by_external_id("cap:other").await.unwrap(), None);
    assert!(matches!(store.insert_notice(&notice).await, Err(StoreError::Conflict(_))));
}

async fn search_finds_two_character_chinese_words_and_english_prefixes(store: Arc<dyn Store>) {
    store
        .insert_notice(&notice_at(
            "警惕冒充公检法",
            "骗子自称民警，要求转账到安全账户。",
            Publication::Now,
            None,
        ))
        .await
        .unwrap();
    store
        .insert_notice(&notice_at("刷单返利都是诈骗", "先垫钱再返佣的兼职不要做。", Publication::Now, None))
        .await
        .unwrap();
    let mut english = content("Beware of fraudsters", Language::En);
    english.body = Body::parse("Refund scams are common before holidays.").unwrap();
    store
        .insert_notice(&NewNotice::new(english, Publication::Now, None, Actor::System, at(8, 0)).unwrap())
        .await
        .unwrap();

    assert_eq!(search(&store, "冒充", at(9, 0)).await, ["警惕冒充公检法"]);
    assert_eq!(search(&store, "刷单", at(9, 0)).await, ["刷单返利都是诈骗"]);
    assert_eq!(search(&store, "转账", at(9, 0)).await, ["警惕冒充公检法"], "words in the body count");
    assert_eq!(search(&store, "刷单返利", at(9, 0)).await, ["刷单返利都是诈骗"]);
    assert_eq!(
        search(&store, "fraud", at(9, 0)).await,
        ["Beware of fraudsters"],
        "English words match as prefixes"
    );
    assert_eq!(search(&store, "REFUND", at(9, 0)).await, ["Beware of fraudsters"]);
    assert!(search(&store, "冒充 刷单", at(9, 0)).await.is_empty(), "every term must match");
    assert!(search(&store, "地震", at(9, 0)).await.is_empty());
}

async fn search_lists_notices_first_and_title_matches_before_body_matches(store: Arc<dyn Store>) {
    store.insert_tip(&tip(ScamType::OrderBrushing, Language::Zh, "刷单诈骗", None), at(8, 0)).await.unwrap();
    store
        .insert_notice(&notice_at("交通提示", "路上有人散发刷单诈骗传单。", Publication::Now, None))
        .await
        .unwrap();
    store
        .insert_notice(&notice_at("刷单诈骗又有新花样", "请大家注意。", Publication::Now, None))
        .await
        .unwrap();
    assert_eq!(search(&store, "诈骗", at(9, 0)).await, ["刷单诈骗又有新花样", "交通提示", "tip:刷单诈骗"]);
}

async fn search_leaves_out_what_citizens_may_not_see(store: Arc<dyn Store>) {
    let soon = Some(at(8, 0) + Duration::hours(1));
    store.insert_notice(&notice_at("诈骗草稿", "x", Publication::Draft, None)).await.unwrap();
    store.insert_notice(&notice_at("诈骗预告", "x", Publication::At(at(20, 0)), None)).await.unwrap();
    store.insert_notice(&notice_at("诈骗旧闻", "x", Publication::Now, soon)).await.unwrap();
    assert_eq!(search(&store, "诈骗", at(8, 30)).await, ["诈骗旧闻"]);
    assert!(search(&store, "诈骗", at(10, 0)).await.is_empty(), "expired notices drop out");
}

async fn a_word_in_more_than_the_ranked_matches_lists_the_newest_and_says_there_are_more(
    store: Arc<dyn Store>,
) {
    let ranked = pingan::store::RANKED_MATCHES as usize;
    // The oldest match is the best (the word in its title, twice): it is past the newest
    // `ranked` and so is not listed; the newest `ranked` are, and no more.
    let oldest = notice_at("诈骗诈骗", "诈骗", Publication::Now, None);
    let rest: Vec<NewNotice> =
        (0..ranked).map(|i| notice_at(&format!("案例{i}"), "谨防诈骗。", Publication::Now, None)).collect();
    store.insert_notices(&[oldest]).await.unwrap();
    store.insert_notices(&rest[..ranked - 1]).await.unwrap();
    let terms = SearchTerms::parse("诈骗").unwrap();
    let page = store.search(&terms, Language::Zh, at(9, 0), 5, 0).await.unwrap();
    assert_eq!(page.matches, Matches::All(ranked as u64), "exactly as many as are ranked");
    assert_eq!(found_titles(&page.hits)[0], "诈骗诈骗", "while it is among them, the best comes first");

    store.insert_notices(&rest[ranked - 1..]).await.unwrap();
    let first = store.search(&terms, Language::Zh, at(9, 0), 5, 0).await.unwrap();
    assert_eq!(first.matches, Matches::MoreThanRanked);
    assert_eq!(first.matches.ranked(), ranked as u64);
    assert_eq!(first.hits.len(), 5);
    assert!(!found_titles(&first.hits).contains(&"诈骗诈骗".to_owned()), "{:?}", found_titles(&first.hits));
    let last = store.search(&terms, Language::Zh, at(9, 0), 5, (ranked - 5) as u32).await.unwrap();
    assert_eq!((last.matches, last.hits.len()), (Matches::MoreThanRanked, 5));
    assert_eq!(found_titles(&last.hits).last().unwrap(), "案例0", "the oldest ranked comes last");
    let past = store.search(&terms, Language::Zh, at(9, 0), 5, ranked as u32).await.unwrap();
    assert_eq!(
        (past.matches, past.hits.len()),
        (Matches::MoreThanRanked, 0),
        "the count comes with an empty page"
    );
}

async fn search_pages_through_results(store: Arc<dyn Store>) {
    for i in 0..7 {
        store
            .insert_notice(&notice_at(&format!("诈骗案例{i}"), "正文", Publication::Now, None))
            .await
            .unwrap();
    }
    let terms = SearchTerms::parse("诈骗").unwrap();
    let first = store.search(&terms, Language::Zh, at(9, 0), 5, 0).await.unwrap();
    let second = store.search(&terms, Language::Zh, at(9, 0), 5, 5).await.unwrap();
    assert_eq!((first.matches, first.hits.len()), (Matches::All(7), 5));
    assert_eq!((second.matches, second.hits.len()), (Matches::All(7), 2));
    let mut all = found_titles(&first.hits);
    all.extend(found_titles(&second.hits));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 7, "pages do not overlap");
}

async fn remembered_queries_keep_one_id_per_text(store: Arc<dyn Store>) {
    let a = store.remember_query("刷单 返利", at(8, 0)).await.unwrap();
    let b = store.remember_query("fraud", at(8, 0)).await.unwrap();
    assert_ne!(a, b);
    assert_eq!(store.remember_query("刷单 返利", at(9, 0)).await.unwrap(), a);
    assert_eq!(store.remembered_query(a).await.unwrap().as_deref(), Some("刷单 返利"));
    assert_eq!(store.remembered_query(a + b + 100).await.unwrap(), None);
}

async fn shipped_tips_load_once_update_and_respect_editors(store: Arc<dyn Store>) {
    let shipped = tip(ScamType::Officials, Language::Zh, "冒充公检法", Some("officials.zh"));
    assert_eq!(store.seed_tip(&shipped, at(8, 0)).await.unwrap(), SeedOutcome::Inserted);
    assert_eq!(store.seed_tip(&shipped, at(9, 0)).await.unwrap(), SeedOutcome::Unchanged);

    let mut upgraded = shipped.clone();
    upgraded.title = TipTitle::parse("冒充公检法诈骗（新版）").unwrap();
    assert_eq!(store.seed_tip(&upgraded, at(10, 0)).await.unwrap(), SeedOutcome::Updated);
    let stored = store.tips(&TipQuery::default()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].title.as_str(), "冒充公检法诈骗（新版）");

    let edited_title = TipTitle::parse("编辑改过的标题").unwrap();
    store
        .edit_tip(stored[0].id, &edited_title, &stored[0].body, &Actor::Telegram(5), at(11, 0))
        .await
        .unwrap();
    assert_eq!(store.seed_tip(&shipped, at(12, 0)).await.unwrap(), SeedOutcome::KeptEdited);
    let kept: Tip = store.tip(stored[0].id).await.unwrap().unwrap();
    assert_eq!(kept.title, edited_title);
    assert_eq!(kept.edited_by, Some(Actor::Telegram(5)));
}

async fn an_edited_tip_is_found_by_its_new_words(store: Arc<dyn Store>) {
    let stored =
        store.insert_tip(&tip(ScamType::Loan, Language::Zh, "贷款先交保证金", None), at(8, 0)).await.unwrap();
    // Not 贷款: a tip is found by its scam type's name (虚假网络贷款) whatever its words.
    assert_eq!(search(&store, "保证金", at(9, 0)).await, ["tip:贷款先交保证金"]);
    let body = TipBody::parse("放款前收费的都是骗子。").unwrap();
    store
        .edit_tip(stored.id, &TipTitle::parse("网贷先收费").unwrap(), &body, &Actor::System, at(9, 0))
        .await
        .unwrap();
    assert!(search(&store, "保证金", at(10, 0)).await.is_empty());
    assert_eq!(search(&store, "放款", at(10, 0)).await, ["tip:网贷先收费"]);
    let missing =
        store.edit_tip(TipId(9_999), &TipTitle::parse("x").unwrap(), &body, &Actor::System, at(9, 0)).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

async fn forgetting_a_chat_deletes_its_settings_and_unlinks_its_user(store: Arc<dyn Store>) {
    let mut private = subscriber(77);
    private.subscribed = false;
    store.save_subscriber(&private).await.unwrap();
    assert_eq!(store.subscriber(ChatId(77)).await.unwrap().map(|s| s.subscribed), Some(false));
    let group = subscriber(-1_001_000_000_077);
    store.save_subscriber(&group).await.unwrap();

    let forgotten = store.forget(ChatId(77), Some(77)).await.unwrap();
    assert!(forgotten.subscription);
    assert_eq!(forgotten.group_links, 1);
    assert_eq!(store.subscriber(ChatId(77)).await.unwrap(), None);
    let group_now = store.subscriber(group.chat_id).await.unwrap().unwrap();
    assert_eq!(group_now.user_id, None, "the group keeps its subscription, not the user's id");

    let again = store.forget(ChatId(77), Some(77)).await.unwrap();
    assert_eq!((again.subscription, again.group_links), (false, 0));
}

fn fanout(key: &str, chats: &[i64]) -> NewFanout {
    NewFanout {
        key: key.to_owned(),
        kind: FanoutKind::Alert,
        notice_id: None,
        message: StoredMessage { content_key: format!("{key}:zh"), parts_json: "{\"parts\":[]}".into() },
        priority: 0,
        recipients: chats
            .iter()
            .map(|c| Recipient { chat_id: ChatId(*c), thread_id: None, dedupe_key: format!("{key}:{c}") })
            .collect(),
    }
}

async fn a_publication_is_fanned_out_once_and_claimed_once(store: Arc<dyn Store>) {
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    let now = at(8, 0);
    let queued = store.enqueue_publication(&notice, &[fanout("alert:1", &[1, 2, 3])], now).await.unwrap();
    assert_eq!(queued, Some(3));
    let again = store.enqueue_publication(&notice, &[fanout("alert:1", &[1, 2, 3])], now).await.unwrap();
    assert_eq!(again, None, "a second instance finds it done");
    assert!(store.publications_to_fan_out(now, 10).await.unwrap().is_empty());

    let lease = LEASE;
    let first = store.claim_deliveries("a", now, lease, 2).await.unwrap();
    let second = store.claim_deliveries("b", now, lease, 10).await.unwrap();
    assert_eq!((first.len(), second.len()), (2, 1));
    assert!(store.claim_deliveries("c", now, lease, 10).await.unwrap().is_empty(), "leased rows are taken");
    let progress = &store.fanout_progress(10).await.unwrap()[0];
    assert_eq!((progress.total(), progress.sending), (3, 3));
    // The totals behind /api/stats: PostgreSQL once handed these back as NUMERIC.
    let counts = store.delivery_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sending, counts.sent, counts.failed, counts.gone), (0, 3, 0, 0, 0));
    let subscribers = store.subscriber_counts().await.unwrap();
    assert_eq!((subscribers.active, subscribers.gone), (0, 0));
}

async fn indicators_are_listed_updated_and_removed(store: Arc<dyn Store>) {
    let new = |input: &str, risk: Risk, reason: &str| NewIndicator {
        subject: Subject::parse(input).unwrap(),
        risk,
        reason: IndicatorReason::parse(reason).unwrap().into(),
        added_by: Actor::System,
    };
    let (listed, created) =
        store.put_indicator(&new("138-0013-8000", Risk::Suspicious, "可疑"), at(8, 0)).await.unwrap();
    assert!(created);
    assert_eq!((listed.kind, listed.value.as_str()), (IndicatorKind::Phone, "+8613800138000"));
    let (updated, created) =
        store.put_indicator(&new("+86 138 0013 8000", Risk::Fraud, "冒充客服"), at(8, 1)).await.unwrap();
    assert!(!created, "the same number, written another way");
    assert_eq!((updated.risk, updated.reason.to_string().as_str()), (Risk::Fraud, "冒充客服"));
    store
        .put_indicator(&new("https://www.example-bank.cn/x", Risk::Official, "示例银行"), at(8, 2))
        .await
        .unwrap();
    store.put_indicator(&new("6222 0212 3456 7890 128", Risk::Fraud, "收款账户"), at(8, 3)).await.unwrap();

    let found = store.indicator(IndicatorKind::Phone, "+8613800138000").await.unwrap().unwrap();
    assert_eq!(found, updated);
    assert_eq!(store.official_domains().await.unwrap(), ["example-bank.cn"]);
    let all = store.indicators(None, 10, 0).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].value, "6222021234567890128", "newest first");
    assert_eq!(store.indicators(Some(IndicatorKind::Domain), 10, 0).await.unwrap().len(), 1);
    assert!(
        store
            .remove_indicator(IndicatorKind::Phone, "+8613800138000", &Actor::System, at(9, 0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_indicator(IndicatorKind::Phone, "+8613800138000", &Actor::System, at(9, 0))
            .await
            .unwrap()
    );
    assert_eq!(store.indicator(IndicatorKind::Phone, "+8613800138000").await.unwrap(), None);
}

async fn reports_are_decided_once_counted_and_forgotten(store: Arc<dyn Store>) {
    let story = "接到冒充客服的电话 13800138000，让我去 alipay-refund.top 填卡号。";
    let new = |user: i64, minute: u32| NewReport {
        chat: ChatId(user),
        user_id: user,
        language: Language::Zh,
        story: ReportStory::parse(story).unwrap(),
        forwarded: Some(ForwardedText::parse("【退款通知】<b>请点击</b>").unwrap()),
        subjects: Subject::find_all(story).iter().map(ReportedSubject::from).collect(),
        created_at: at(8, minute),
    };
    let first = store.submit_report(&new(31, 0)).await.unwrap();
    assert_eq!(first.status, ReportStatus::Pending);
    assert_eq!(first.subjects.len(), 2, "{:?}", first.subjects);
    assert_eq!(first.forwarded.as_ref().unwrap().as_str(), "【退款通知】<b>请点击</b>");
    let second = store.submit_report(&new(31, 5)).await.unwrap();
    let other = store.submit_report(&new(32, 6)).await.unwrap();
    assert_eq!(store.reports_by_user_since(31, at(8, 1)).await.unwrap(), 1);
    assert_eq!(store.reports_by_user_since(31, at(7, 0)).await.unwrap(), 2);
    assert_eq!(store.count_pending_reports().await.unwrap(), 3);
    let pending = store.pending_reports(2, 0).await.unwrap();
    assert_eq!(pending.iter().map(|r| r.id).collect::<Vec<_>>(), [first.id, second.id], "oldest first");
    assert_eq!(pending[0], first);

    let moderator = Actor::Telegram(99);
    // The bureau already lists the site as official: confirming the report lists only
    // the phone number, and leaves the site's entry as it was.
    let site = NewIndicator {
        subject: Subject::parse("alipay-refund.top").unwrap(),
        risk: Risk::Official,
        reason: IndicatorReason::parse("编辑核实").unwrap().into(),
        added_by: Actor::Telegram(7),
    };
    store.put_indicator(&site, at(8, 30)).await.unwrap();
    let list = first
        .subjects
        .iter()
        .filter_map(ReportedSubject::subject)
        .map(|subject| NewIndicator {
            subject,
            risk: Risk::Fraud,
            reason: ListedReason::ConfirmedReport(first.id),
            ..site.clone()
        })
        .collect();
    let approve = ReportDecision::Approve { list };
    let decided = store.decide_report(first.id, &approve, &moderator, at(9, 0)).await.unwrap().unwrap();
    assert_eq!(
        (decided.report.status, decided.report.decided_by.clone()),
        (ReportStatus::Approved, Some(moderator.clone()))
    );
    assert_eq!(decided.listed.iter().map(|i| i.value.as_str()).collect::<Vec<_>>(), ["+8613800138000"]);
    assert_eq!(decided.listed[0].added_by, moderator);
    // The bot's own reason is kept as data, not as a sentence in one language.
    let listed = store.indicator(IndicatorKind::Phone, "+8613800138000").await.unwrap().unwrap();
    assert_eq!(listed.reason, ListedReason::ConfirmedReport(first.id));
    let kept = store.indicator(IndicatorKind::Domain, "alipay-refund.top").await.unwrap().unwrap();
    assert_eq!((kept.risk, kept.added_by), (Risk::Official, Actor::Telegram(7)));
    let audit = store.audit_log(Some(&moderator), 10).await.unwrap();
    let actions: Vec<_> = audit.iter().map(|e| (e.action, e.subject.as_str())).collect();
    assert_eq!(
        actions,
        [(AuditAction::ReportApproved, "report R000001"), (AuditAction::Listed, "phone +8613800138000")]
    );
    assert_eq!(
        store.decide_report(first.id, &ReportDecision::Reject, &moderator, at(9, 1)).await.unwrap(),
        None
    );
    assert_eq!(store.audit_log(Some(&moderator), 10).await.unwrap().len(), 2, "nothing written twice");
    let plain = ReportDecision::Approve { list: Vec::new() };
    store.decide_report(other.id, &plain, &moderator, at(9, 2)).await.unwrap();
    assert_eq!(store.approved_reports_naming(IndicatorKind::Phone, "+8613800138000").await.unwrap(), 2);
    assert_eq!(store.approved_reports_naming(IndicatorKind::Domain, "alipay-refund.top").await.unwrap(), 2);

    let forgotten = store.forget(ChatId(31), Some(31)).await.unwrap();
    assert_eq!((forgotten.reports_deleted, forgotten.reports_unlinked), (1, 1));
    assert_eq!(store.report(second.id).await.unwrap(), None, "the pending one is gone");
    let kept = store.report(first.id).await.unwrap().unwrap();
    assert_eq!((kept.chat, kept.user_id), (None, None), "the decided one stays, unlinked");
    assert_eq!(store.approved_reports_naming(IndicatorKind::Phone, "+8613800138000").await.unwrap(), 2);
}

async fn a_publication_changed_since_it_was_read_is_not_fanned_out(store: Arc<dyn Store>) {
    let read = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    let correction = NoticeCorrection::new(content("更正后的警报", Language::Zh), None, at(8, 1)).unwrap();
    let message = StoredMessage { content_key: "correction:9".into(), parts_json: "{\"parts\":[]}".into() };
    let (corrected, told) = store
        .change_notice(read.id, NoticeChange::Correct(&correction), "correction:9", &message, &audit_at(8, 1))
        .await
        .unwrap();
    assert_eq!((corrected.content.title.as_str(), told), ("更正后的警报", 0));
    let stale = store.enqueue_publication(&read, &[fanout("alert:9", &[1])], at(8, 1)).await.unwrap();
    assert_eq!(stale, None, "rendered from the notice before its correction");
    let fresh = store.enqueue_publication(&corrected, &[fanout("alert:9", &[1])], at(8, 1)).await.unwrap();
    assert_eq!(fresh, Some(1));

    let other = store.insert_notice(&notice_at("另一条", "正文", Publication::Now, None)).await.unwrap();
    store
        .change_notice(other.id, NoticeChange::Retract, "retraction:10", &message, &audit_at(8, 2))
        .await
        .unwrap();
    assert_eq!(store.enqueue_publication(&other, &[fanout("alert:10", &[1])], at(8, 2)).await.unwrap(), None);

    // A change of a notice that is not there, or no longer published, writes nothing.
    let audit = audit_at(8, 3);
    let missing =
        store.change_notice(NoticeId(9_999), NoticeChange::Retract, "retraction:9999", &message, &audit);
    assert!(matches!(missing.await, Err(StoreError::NotFound)));
    let again = store.change_notice(other.id, NoticeChange::Retract, "retraction:10b", &message, &audit);
    assert!(matches!(again.await, Err(StoreError::NotFound)), "withdrawn once");
    let late =
        store.change_notice(other.id, NoticeChange::Correct(&correction), "correction:10", &message, &audit);
    assert!(matches!(late.await, Err(StoreError::NotFound)), "a correction cannot land after a withdrawal");
    let after = store.notice(other.id).await.unwrap().unwrap();
    assert_eq!((after.status, after.content.title.as_str()), (NoticeStatus::Retracted, "另一条"));
    let log = store.audit_log(None, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>(), ["change; 0 recipients told"; 2]);
    let keys: Vec<String> = store.fanout_progress(10).await.unwrap().into_iter().map(|p| p.key).collect();
    let refused = ["retraction:9999", "retraction:10b", "correction:10"];
    assert!(keys.iter().all(|k| !refused.contains(&k.as_str())), "{keys:?}");
}

/// The audit entry a test's notice change carries.
fn audit_at(hour: u32, minute: u32) -> AuditEntry {
    AuditEntry {
        at: at(hour, minute),
        actor: Actor::System,
        action: AuditAction::Corrected,
        subject: "notice".into(),
        detail: "change".into(),
    }
}

async fn a_follow_up_reaches_each_recipient_once_whatever_state_its_alert_was_in(store: Arc<dyn Store>) {
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    let mut alert = fanout("alert:1", &[1, 2, 3, 4]);
    alert.notice_id = Some(notice.id);
    store.enqueue_publication(&notice, &[alert], at(8, 0)).await.unwrap();
    let claimed = store.claim_deliveries("w", at(8, 0), LEASE, 10).await.unwrap();
    let of = |chat: i64| claimed.iter().find(|d| d.chat() == ChatId(chat)).unwrap().clone();
    let sent = |id: i32| Outcome::Sent { first_message_id: Some(id), parts: 1 };
    let retry = Outcome::Retry { at: at(8, 0), error: "502".into(), counts: true };
    // Chat 1 got the alert; chat 2's is in flight; chat 3's waits; chat 4's is half sent.
    store.record_outcome(&of(1), &sent(101), at(8, 0)).await.unwrap();
    store.record_outcome(&of(3), &retry, at(8, 0)).await.unwrap();
    store
        .record_outcome(&of(4), &Outcome::PartlySent { first_message_id: Some(104), parts: 1 }, at(8, 0))
        .await
        .unwrap();
    store.record_outcome(&of(4), &retry, at(8, 0)).await.unwrap();

    let message = |key: &str| StoredMessage { content_key: key.into(), parts_json: "{\"parts\":[]}".into() };
    let correction = NoticeCorrection::new(content("更正", Language::Zh), None, at(8, 1)).unwrap();
    let correct = NoticeChange::Correct(&correction);
    let (_, told) = store
        .change_notice(notice.id, correct, "correction:1", &message("correction:1"), &audit_at(8, 1))
        .await
        .unwrap();
    assert_eq!(told, 1, "only chat 1 has the alert already");
    let retract = NoticeChange::Retract;
    let (_, told) = store
        .change_notice(notice.id, retract, "retraction:1", &message("retraction:1"), &audit_at(8, 2))
        .await
        .unwrap();
    assert_eq!(told, 1);
    // The alert in flight lands, and the half-sent one is finished: each is told too.
    store.record_outcome(&of(2), &sent(102), at(8, 3)).await.unwrap();
    let mut rest = store.claim_deliveries("w", at(8, 3), LEASE, 10).await.unwrap();
    rest.sort_by_key(|d| d.chat());
    assert_eq!(rest.iter().map(|d| d.chat()).collect::<Vec<_>>(), [ChatId(1), ChatId(2), ChatId(4)]);
    let finished = rest.pop().unwrap();
    assert_eq!(
        (finished.parts_sent, finished.fanout_id),
        (1, of(4).fanout_id),
        "the half-sent alert goes on"
    );
    store
        .record_outcome(&finished, &Outcome::Sent { first_message_id: Some(104), parts: 2 }, at(8, 4))
        .await
        .unwrap();

    let mut follow_ups = rest;
    follow_ups.extend(store.claim_deliveries("w", at(8, 4), LEASE, 10).await.unwrap());
    let got: Vec<(ChatId, Option<i32>)> = follow_ups.iter().map(|d| (d.chat(), d.reply_to)).collect();
    assert_eq!(got, [(ChatId(1), Some(101)), (ChatId(2), Some(102)), (ChatId(4), Some(104))]);
    let retraction = follow_ups[0].message_id;
    assert!(
        follow_ups.iter().all(|d| d.message_id == retraction),
        "the latest change, not the superseded one"
    );
    let progress = store.notice_fanouts(notice.id).await.unwrap();
    let failed: u64 = progress.iter().map(|p| p.failed).sum();
    assert_eq!(failed, 2, "chat 1's superseded correction, chat 3's withdrawn alert");
}

async fn expired_leases_are_claimed_again(store: Arc<dyn Store>) {
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    store.enqueue_publication(&notice, &[fanout("alert:2", &[7])], at(8, 0)).await.unwrap();
    let short = std::time::Duration::from_millis(300);
    let claimed = store.claim_deliveries("crashed", at(8, 0), short, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // Leases run on the database's clock: the application's (a day later here) is not asked.
    assert!(store.claim_deliveries("b", at(8, 0) + Duration::days(1), LEASE, 10).await.unwrap().is_empty());
    tokio::time::sleep(short * 2).await;
    assert!(
        store.claim_deliveries("crashed", at(8, 0), LEASE, 10).await.unwrap().is_empty(),
        "a sender never takes back what it still holds itself"
    );
    let again = store.claim_deliveries("b", at(8, 0), LEASE, 10).await.unwrap();
    assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), [claimed[0].id], "after the lease runs out");
    assert_eq!(again[0].claim, claimed[0].claim + 1, "a new claim, a higher fence");
}

async fn a_sender_that_lost_its_claim_changes_nothing(store: Arc<dyn Store>) {
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    store.enqueue_publication(&notice, &[fanout("alert:4", &[8])], at(8, 0)).await.unwrap();
    let short = std::time::Duration::from_millis(200);
    let old = store.claim_deliveries("slow", at(8, 0), short, 10).await.unwrap().remove(0);
    assert_eq!(
        store.delivery_standing(&old, short).await.unwrap(),
        Standing::Go { message_id: old.message_id }
    );
    assert_eq!(store.renew_leases("slow", &[old.id], short).await.unwrap(), [old.id], "renewed while held");
    tokio::time::sleep(short * 2).await;
    let new = store.claim_deliveries("fast", at(8, 0), LEASE, 10).await.unwrap().remove(0);
    assert_eq!(new.id, old.id);

    assert_eq!(store.delivery_standing(&old, LEASE).await.unwrap(), Standing::Lost);
    assert!(store.renew_leases("slow", &[old.id], LEASE).await.unwrap().is_empty());
    let retry = Outcome::Retry { at: at(8, 1), error: "429".into(), counts: false };
    assert!(!store.record_outcome(&old, &retry, at(8, 1)).await.unwrap(), "the old claim writes nothing");
    assert!(!store.switch_message(&old, old.message_id).await.unwrap());
    let sent = Outcome::Sent { first_message_id: Some(9), parts: 1 };
    assert!(store.record_outcome(&new, &sent, at(8, 1)).await.unwrap());
    assert!(
        !store.record_outcome(&old, &retry, at(8, 2)).await.unwrap(),
        "a late retry cannot turn a sent delivery back to pending"
    );
    let p = store.fanout_progress(10).await.unwrap().into_iter().find(|p| p.key == "alert:4").unwrap();
    assert_eq!((p.sent, p.pending, p.sending), (1, 0, 0));
}

/// The check before a part is the last word before a send: when it says "go", no other
/// sender may take the row while that part goes out, even if this sender's heartbeat was
/// late and its lease had run out by the database's clock (say, after a slow spell of the
/// database) without anyone taking the row yet.
async fn a_sender_told_to_send_a_part_holds_its_lease_while_the_part_goes_out(store: Arc<dyn Store>) {
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    store.enqueue_publication(&notice, &[fanout("alert:9", &[9])], at(8, 0)).await.unwrap();
    let short = std::time::Duration::from_millis(200);
    let late = store.claim_deliveries("late", at(8, 0), short, 10).await.unwrap().remove(0);
    tokio::time::sleep(short * 2).await;
    assert_eq!(
        store.delivery_standing(&late, LEASE).await.unwrap(),
        Standing::Go { message_id: late.message_id }
    );
    assert!(
        store.claim_deliveries("other", at(8, 0), LEASE, 10).await.unwrap().is_empty(),
        "the row is not taken from a sender about to send its part: both would send it"
    );
}

async fn a_withdrawn_or_corrected_notice_stops_its_waiting_alerts_before_they_are_sent(
    store: Arc<dyn Store>,
) {
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    let mut alert = fanout("alert:5", &[31, 32]);
    alert.notice_id = Some(notice.id);
    store.enqueue_publication(&notice, &[alert], at(8, 0)).await.unwrap();
    let claimed = store.claim_deliveries("w", at(8, 0), LEASE, 10).await.unwrap();
    let message = |key: &str| StoredMessage { content_key: key.into(), parts_json: "{\"parts\":[]}".into() };
    let correction = NoticeCorrection::new(content("更正", Language::Zh), None, at(8, 1)).unwrap();
    store
        .change_notice(
            notice.id,
            NoticeChange::Correct(&correction),
            "correction:5",
            &message("c5"),
            &audit_at(8, 1),
        )
        .await
        .unwrap();
    let corrected = store.delivery_standing(&claimed[0], LEASE).await.unwrap();
    let Standing::Superseded { latest: Some(latest) } = corrected else { panic!("{corrected:?}") };
    assert!(store.switch_message(&claimed[0], latest).await.unwrap());
    assert_eq!(
        store.delivery_standing(&claimed[0], LEASE).await.unwrap(),
        Standing::Go { message_id: latest }
    );
    store
        .change_notice(notice.id, NoticeChange::Retract, "retraction:5", &message("r5"), &audit_at(8, 2))
        .await
        .unwrap();
    for d in &claimed {
        assert_eq!(store.delivery_standing(d, LEASE).await.unwrap(), Standing::Withdrawn);
    }
}

/// The sender's group commit (SQLite): one statement records every delivery of the batch
/// that is plainly sent; a claim lost or a correction owed leaves its row for
/// `record_outcome`, which tells the two apart. PostgreSQL records none together.
async fn deliveries_sent_together_are_recorded_together_unless_a_claim_was_lost_or_a_follow_up_is_owed(
    store: Arc<dyn Store>,
) {
    let alert = |key: &str, notice: &Notice, chat: i64| {
        let mut alert = fanout(key, &[chat]);
        alert.notice_id = Some(notice.id);
        alert
    };
    let first = store.insert_notice(&notice_at("警报一", "正文", Publication::Now, None)).await.unwrap();
    store.enqueue_publication(&first, &[alert("alert:12", &first, 41)], at(8, 0)).await.unwrap();
    let short = std::time::Duration::from_millis(200);
    let lost = store.claim_deliveries("slow", at(8, 0), short, 10).await.unwrap().remove(0);
    tokio::time::sleep(short * 2).await;
    assert_eq!(store.claim_deliveries("fast", at(8, 0), LEASE, 10).await.unwrap()[0].id, lost.id);

    let corrected = store.insert_notice(&notice_at("警报二", "正文", Publication::Now, None)).await.unwrap();
    store.enqueue_publication(&corrected, &[alert("alert:13", &corrected, 42)], at(8, 0)).await.unwrap();
    let plain = store.insert_notice(&notice_at("警报三", "正文", Publication::Now, None)).await.unwrap();
    store.enqueue_publication(&plain, &[alert("alert:14", &plain, 43)], at(8, 0)).await.unwrap();
    let claimed = store.claim_deliveries("w", at(8, 0), LEASE, 10).await.unwrap();
    let [owing, sent] =
        [42, 43].map(|chat| claimed.iter().find(|d| d.chat() == ChatId(chat)).unwrap().clone());
    let message = StoredMessage { content_key: "c13".into(), parts_json: "{\"parts\":[]}".into() };
    let correction = NoticeCorrection::new(content("更正", Language::Zh), None, at(8, 1)).unwrap();
    store
        .change_notice(
            corrected.id,
            NoticeChange::Correct(&correction),
            "correction:13",
            &message,
            &audit_at(8, 1),
        )
        .await
        .unwrap();

    let records =
        [&lost, &owing, &sent].map(|d| SentRecord { delivery: d, parts: 1, first_message_id: Some(7) });
    let together = store.record_sent_together(&records, at(8, 2)).await.unwrap();
    if store.records_sent_together() {
        assert_eq!(together, [sent.id], "only the delivery with nothing else to it");
    } else {
        assert!(together.is_empty());
    }
    // What the sender then does with the others.
    let outcome = Outcome::Sent { first_message_id: Some(7), parts: 1 };
    assert!(!store.record_outcome(&lost, &outcome, at(8, 2)).await.unwrap(), "the lost claim writes nothing");
    assert!(store.record_outcome(&owing, &outcome, at(8, 2)).await.unwrap());
    assert_eq!(
        store.record_outcome(&sent, &outcome, at(8, 2)).await.unwrap(),
        together.is_empty(),
        "a delivery recorded together is sent: recording it again finds no claim in flight"
    );
    let progress = store.fanout_progress(10).await.unwrap();
    let of = |key: &str| {
        let p = progress.iter().find(|p| p.key == key).unwrap();
        (p.sent, p.pending, p.sending)
    };
    assert_eq!(of("alert:12"), (0, 0, 1), "still the other sender's");
    assert_eq!((of("alert:13"), of("alert:14")), ((1, 0, 0), (1, 0, 0)));
    assert_eq!(of("correction:13"), (0, 1, 0), "the correction the sent alert lacked is queued as a reply");
}

async fn outcomes_close_deliveries_and_follow_the_chat(store: Arc<dyn Store>) {
    for chat in [11, 12, 13, -14, -15] {
        store.save_subscriber(&subscriber(chat)).await.unwrap();
    }
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    store
        .enqueue_publication(&notice, &[fanout("alert:3", &[11, 12, 13, -14, -15])], at(8, 0))
        .await
        .unwrap();
    let claimed = store.claim_deliveries("w", at(8, 0), LEASE, 10).await.unwrap();
    let by_chat = |chat: i64| claimed.iter().find(|d| d.chat() == ChatId(chat)).unwrap().clone();
    let now = at(8, 1);
    store
        .record_outcome(&by_chat(11), &Outcome::Sent { first_message_id: Some(5), parts: 1 }, now)
        .await
        .unwrap();
    store
        .record_outcome(
            &by_chat(12),
            &Outcome::Retry { at: at(8, 5), error: "502".into(), counts: true },
            now,
        )
        .await
        .unwrap();
    store.record_outcome(&by_chat(13), &Outcome::Gone { reason: GoneReason::Blocked }, now).await.unwrap();
    store
        .record_outcome(&by_chat(-14), &Outcome::Moved { to: ChatId(-1_000_000_000_014) }, now)
        .await
        .unwrap();
    store
        .record_outcome(&by_chat(-15), &Outcome::Failed { error: "can't parse entities".into() }, now)
        .await
        .unwrap();

    let p = &store.fanout_progress(1).await.unwrap()[0];
    assert_eq!((p.sent, p.pending, p.gone, p.failed, p.sending), (1, 2, 1, 1, 0));
    assert!(matches!(
        store.subscriber(ChatId(13)).await.unwrap().unwrap().status,
        SubscriberStatus::Gone { .. }
    ));
    assert_eq!(store.subscriber(ChatId(-14)).await.unwrap(), None, "the subscription moved");
    assert!(store.subscriber(ChatId(-1_000_000_000_014)).await.unwrap().is_some());

    let retried = store.claim_deliveries("w", at(8, 2), LEASE, 10).await.unwrap();
    assert_eq!(
        retried.iter().map(|d| d.chat()).collect::<Vec<_>>(),
        [ChatId(-1_000_000_000_014)],
        "moved: at once"
    );
    let later = store.claim_deliveries("w", at(8, 5), LEASE, 10).await.unwrap();
    assert_eq!(later.iter().map(|d| (d.chat(), d.attempts)).collect::<Vec<_>>(), [(ChatId(12), 1)]);
}

async fn digests_are_queued_once_per_due_time_and_move_the_schedule_on(store: Arc<dyn Store>) {
    let mut s = Subscriber::new(ChatId(21), Language::Zh, chrono_tz::Asia::Shanghai, at(0, 0));
    s.updated_at = at(0, 0);
    store.save_subscriber(&s).await.unwrap();
    let due = s.next_digest_at().unwrap();
    assert!(store.due_digests(due - Duration::minutes(1), 10).await.unwrap().is_empty());
    assert_eq!(store.due_digests(due, 10).await.unwrap().len(), 1);

    let digests = DueDigests {
        fanout_key: format!("digest:{due}"),
        message: Some(StoredMessage { content_key: "digest:x".into(), parts_json: "{\"parts\":[]}".into() }),
        due,
        next: Some(due + Duration::days(1)),
        window_start: due,
        recipients: vec![Recipient {
            chat_id: ChatId(21),
            thread_id: None,
            dedupe_key: "digest:21:x".into(),
        }],
        priority: 2,
    };
    assert_eq!(store.enqueue_digests(&digests, due).await.unwrap(), 1);
    assert_eq!(store.enqueue_digests(&digests, due).await.unwrap(), 0, "another instance queues nothing");
    assert!(store.due_digests(due, 10).await.unwrap().is_empty());
    let moved_on = store.subscriber(ChatId(21)).await.unwrap().unwrap();
    assert_eq!(moved_on.last_digest_at, Some(due));
    assert_eq!(moved_on.next_digest_at(), Some(due + Duration::days(1)));
}

/// One call queues a round's groups (the scheduler's round of due chats): a message
/// two groups share is stored once, each group's chats move on to their own next time,
/// and a chat another instance moved meanwhile gets nothing, in any group.
async fn a_round_of_digest_groups_is_queued_at_once_leaving_out_chats_moved_meanwhile(store: Arc<dyn Store>) {
    let saved = at(0, 0);
    let mut due = None;
    for chat in 31..=36 {
        let mut s = Subscriber::new(ChatId(chat), Language::Zh, chrono_tz::Asia::Shanghai, saved);
        s.updated_at = saved;
        store.save_subscriber(&s).await.unwrap();
        due = s.next_digest_at();
    }
    let due = due.unwrap();
    let recipients = |chats: &[i64]| {
        chats
            .iter()
            .map(|c| Recipient { chat_id: ChatId(*c), thread_id: None, dedupe_key: format!("digest:{c}:x") })
            .collect::<Vec<_>>()
    };
    let group = |content_key: &str, next: DateTime<Utc>, chats: &[i64]| DueDigests {
        fanout_key: format!("digest:{due}"),
        message: Some(StoredMessage { content_key: content_key.into(), parts_json: "{\"parts\":[]}".into() }),
        due,
        next: Some(next),
        window_start: due,
        recipients: recipients(chats),
        priority: 2,
    };
    // Another instance queued chat 33's digest first.
    let first = group("digest:a", due + Duration::days(1), &[33]);
    assert_eq!(store.enqueue_digests(&first, due).await.unwrap(), 1);

    let round = [
        group("digest:a", due + Duration::days(1), &[31, 32, 33]),
        group("digest:a", due + Duration::days(1), &[34]),
        group("digest:b", due + Duration::days(7), &[35, 36]),
    ];
    assert_eq!(store.enqueue_digest_groups(&round, due).await.unwrap(), 5, "all but chat 33");
    assert_eq!(store.enqueue_digest_groups(&round, due).await.unwrap(), 0, "another instance queues nothing");
    let claimed = store.claim_deliveries("w", due, LEASE, 10).await.unwrap();
    let mut chats: Vec<i64> = claimed.iter().map(|d| d.chat().0).collect();
    chats.sort_unstable();
    assert_eq!(chats, [31, 32, 33, 34, 35, 36], "one delivery each");
    let message_of = |chat: i64| claimed.iter().find(|d| d.chat().0 == chat).unwrap().message_id;
    assert!([32, 33, 34].into_iter().all(|c| message_of(c) == message_of(31)), "digest:a stored once");
    assert_eq!(message_of(35), message_of(36));
    assert_ne!(message_of(35), message_of(31));
    let digests = store.fanout_progress(10).await.unwrap();
    let digests: Vec<_> = digests.iter().filter(|p| p.kind == FanoutKind::Digest).collect();
    assert_eq!(digests.len(), 1, "one fan-out for the moment: {digests:?}");
    assert_eq!(digests[0].total(), 6);
    // Each chat's stored schedule: the next digest of its own group.
    let mut scheduled: Vec<(i64, i64, Option<DateTime<Utc>>)> = store
        .due_digests(due + Duration::days(7), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(s, next)| (s.chat_id.0, (next - due).num_days(), s.last_digest_at))
        .collect();
    scheduled.sort_unstable();
    let moved = |chat, days| (chat, days, Some(due));
    assert_eq!(
        scheduled,
        [moved(31, 1), moved(32, 1), moved(33, 1), moved(34, 1), moved(35, 7), moved(36, 7)]
    );
}

async fn due_notices_are_published_and_expired(store: Arc<dyn Store>) {
    let soon = at(9, 0);
    store
        .insert_notice(&notice_at("预告", "正文", Publication::At(soon), Some(soon + Duration::hours(1))))
        .await
        .unwrap();
    assert_eq!(store.publish_due(at(8, 59)).await.unwrap(), 0);
    assert_eq!(store.publish_due(soon).await.unwrap(), 1);
    assert_eq!(store.publications_to_fan_out(soon, 10).await.unwrap().len(), 1);
    assert_eq!(store.expire_due(soon + Duration::minutes(59)).await.unwrap(), 0);
    assert_eq!(store.expire_due(soon + Duration::hours(1)).await.unwrap(), 1);
    let listed = store.list_notices(&NoticeQuery { limit: 5, ..NoticeQuery::default() }).await.unwrap();
    assert_eq!(listed[0].status, NoticeStatus::Expired);
}

async fn a_paused_chat_gets_nothing_until_it_resumes(store: Arc<dyn Store>) {
    for chat in [-41, -42] {
        store.save_subscriber(&subscriber(chat)).await.unwrap();
    }
    store
        .enqueue_publication(
            &store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap(),
            &[fanout("alert:6", &[-41, -42])],
            at(8, 0),
        )
        .await
        .unwrap();
    let claimed = store.claim_deliveries("w", at(8, 0), LEASE, 1).await.unwrap().remove(0);
    let paused = Outcome::Paused { reason: PauseReason::TopicClosed };
    assert!(store.record_outcome(&claimed, &paused, at(8, 1)).await.unwrap());
    assert!(store.mark_paused(ChatId(-42), PauseReason::NoRights, at(8, 1)).await.unwrap());
    assert!(!store.mark_paused(ChatId(-42), PauseReason::NoRights, at(8, 2)).await.unwrap(), "once");
    let read = store.subscriber(ChatId(-42)).await.unwrap().unwrap();
    assert_eq!(read.status, SubscriberStatus::Paused { reason: PauseReason::NoRights, since: at(8, 1) });
    assert!(store.alert_audiences().await.unwrap().is_empty(), "paused chats are no candidates");
    let p = store.fanout_progress(10).await.unwrap().into_iter().find(|p| p.key == "alert:6").unwrap();
    assert_eq!((p.failed, p.pending, p.sending), (2, 0, 0), "both chats' deliveries end, with the reason");
    assert_eq!(store.subscriber_counts().await.unwrap().paused, 2);

    assert!(store.mark_active(ChatId(-42), at(9, 0)).await.unwrap());
    let audiences = store.alert_audiences().await.unwrap();
    assert_eq!(audiences.iter().flat_map(|a| a.chats.clone()).collect::<Vec<_>>(), [(ChatId(-42), Some(12))]);
}

async fn an_alerts_candidates_come_grouped_by_what_its_filter_reads(store: Arc<dyn Store>) {
    let topic = subscriber(-100);
    // Another chat with the same filters but no topic, another digest time and user.
    let mut plain = subscriber(-1_001_234_567_890);
    (plain.thread_id, plain.user_id, plain.digest_time) = (None, None, "18:00".parse().unwrap());
    let mut district = subscriber(-102);
    district.districts = BTreeSet::from([DistrictKey::parse("chengdong").unwrap()]);
    let default = Subscriber::new(ChatId(7), Language::Zh, chrono_tz::Asia::Shanghai, at(8, 0));
    let elsewhere = Subscriber::new(ChatId(8), Language::Zh, chrono_tz::Europe::Berlin, at(8, 0));
    let mut left = Subscriber::new(ChatId(9), Language::Zh, chrono_tz::Asia::Shanghai, at(8, 0));
    left.subscribed = false;
    let mut gone = Subscriber::new(ChatId(10), Language::Zh, chrono_tz::Asia::Shanghai, at(8, 0));
    gone.status = SubscriberStatus::Gone { reason: GoneReason::Blocked, since: at(8, 0) };
    let mut paused = Subscriber::new(ChatId(11), Language::Zh, chrono_tz::Asia::Shanghai, at(8, 0));
    paused.status = SubscriberStatus::Paused { reason: PauseReason::NoRights, since: at(8, 0) };
    for s in [&topic, &plain, &district, &default, &elsewhere, &left, &gone, &paused] {
        store.save_subscriber(s).await.unwrap();
    }

    let mut audiences = store.alert_audiences().await.unwrap();
    for a in &mut audiences {
        a.chats.sort_unstable_by_key(|(chat, _)| chat.0);
    }
    audiences.sort_by_key(|a| a.chats[0].0.0);
    let chats: Vec<_> = audiences.iter().map(|a| a.chats.clone()).collect();
    assert_eq!(
        chats,
        [
            vec![(plain.chat_id, None), (topic.chat_id, Some(12))],
            vec![(district.chat_id, Some(12))],
            vec![(default.chat_id, None), (elsewhere.chat_id, None)],
        ],
        "one audience a profile; the chats that left, are gone or are paused in none"
    );
    assert_eq!(audiences[0].language, Language::En);
    assert_eq!(audiences[0].interests, topic.interests(), "keywords folded as a chat's own are");
    assert_eq!(audiences[1].interests, district.interests());
    assert_eq!((audiences[2].language, &audiences[2].interests), (Language::Zh, &default.interests()));
}

async fn a_chat_that_moves_gets_each_fan_out_once(store: Arc<dyn Store>) {
    let (old, new) = (ChatId(-51), ChatId(-1_000_000_000_051));
    store.save_subscriber(&subscriber(old.0)).await.unwrap();
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    // The fan-out reached both ids: the old group's subscription and a new one of the supergroup.
    store.enqueue_publication(&notice, &[fanout("alert:7", &[old.0, new.0])], at(8, 0)).await.unwrap();
    assert!(store.move_chat(old, new, at(8, 1)).await.unwrap());
    assert!(!store.move_chat(old, new, at(8, 2)).await.unwrap(), "the second service message moves nothing");
    assert!(store.subscriber(old).await.unwrap().is_none());
    assert!(store.subscriber(new).await.unwrap().is_some());
    let claimed = store.claim_deliveries("w", at(8, 2), LEASE, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|d| d.chat()).collect::<Vec<_>>(), [new], "once, to the new id");
    let p = store.fanout_progress(10).await.unwrap().into_iter().find(|p| p.key == "alert:7").unwrap();
    assert_eq!(p.failed, 1, "the old id's copy ends, counted");
}

async fn a_chat_whose_topic_is_gone_gets_its_deliveries_in_the_chat_itself(store: Arc<dyn Store>) {
    let mut forum = subscriber(-61);
    forum.thread_id = Some(7);
    store.save_subscriber(&forum).await.unwrap();
    let mut alert = fanout("alert:8", &[]);
    alert.recipients =
        vec![Recipient { chat_id: ChatId(-61), thread_id: Some(7), dedupe_key: "alert:8:-61".into() }];
    let notice = store.insert_notice(&notice_at("警报", "正文", Publication::Now, None)).await.unwrap();
    store.enqueue_publication(&notice, &[alert], at(8, 0)).await.unwrap();
    let claimed = store.claim_deliveries("w", at(8, 0), LEASE, 10).await.unwrap().remove(0);
    assert_eq!(claimed.thread_id, Some(7));
    assert!(store.record_outcome(&claimed, &Outcome::TopicGone, at(8, 1)).await.unwrap());
    let again = store.claim_deliveries("w", at(8, 1), LEASE, 10).await.unwrap().remove(0);
    assert_eq!((again.id, again.thread_id), (claimed.id, None));
    assert_eq!(
        store.subscriber(ChatId(-61)).await.unwrap().unwrap().thread_id,
        None,
        "the topic is forgotten"
    );
}

async fn the_language_versions_of_an_alert_are_stored_together(store: Arc<dyn Store>) {
    let version = |title: &str, language: Language| {
        NewNotice::new(content(title, language), Publication::Now, None, Actor::System, at(8, 0))
            .unwrap()
            .with_language_group("cap:3:abc:42")
    };
    let stored = store
        .insert_notices(&[version("暴雨预警", Language::Zh), version("Rainstorm", Language::En)])
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|n| n.language_group.as_deref() == Some("cap:3:abc:42")));
    let mut languages = store.group_languages("cap:3:abc:42").await.unwrap();
    languages.sort_by_key(|l| l.code());
    assert_eq!(languages, [Language::En, Language::Zh]);
    assert_eq!(store.publications_to_fan_out(at(8, 0), 10).await.unwrap().len(), 2, "found together");
    assert!(store.group_languages("cap:3:abc:43").await.unwrap().is_empty());
}

async fn a_publication_under_one_key_is_stored_once_with_its_audit_entry_and_ends_the_dialogue(
    store: Arc<dyn Store>,
) {
    let editor = Actor::Telegram(901);
    store.save_dialogue(ChatId(901), 901, "{}", at(8, 0)).await.unwrap();
    let notice = notice_at("燃气泄漏", "请撤离。", Publication::Now, None);
    let publication = NewPublication {
        notices: std::slice::from_ref(&notice),
        actor: &editor,
        idempotency_key: Some("telegram:901:7"),
        ends_dialogue: Some((ChatId(901), 901)),
    };
    // Two presses at the same moment, and one after.
    let (a, b) = tokio::join!(store.publish(&publication), store.publish(&publication));
    let again = store.publish(&publication).await.unwrap();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.notices[0].id, b.notices[0].id);
    assert_eq!(again.notices[0].id, a.notices[0].id);
    assert_eq!([a.repeated, b.repeated, again.repeated].iter().filter(|r| !**r).count(), 1, "stored once");
    assert_eq!(store.count_notices(&NoticeQuery::default()).await.unwrap(), 1);
    assert_eq!(store.audit_log(Some(&editor), 10).await.unwrap().len(), 1);
    assert_eq!(store.dialogue(ChatId(901), 901).await.unwrap(), None, "the draft is used up");
    let found = store.published_under("telegram:901:7").await.unwrap().unwrap();
    assert_eq!(found[0].id, a.notices[0].id);
    assert_eq!(store.published_under("telegram:901:8").await.unwrap(), None);
}

/// A settings press reads the chat's settings; the scheduler queues the chat's digest (it
/// moves `last_digest_at` and `next_digest_at` on) and the outcome recorder marks another
/// chat gone; then the press saves. Neither the digest's progress nor the chat's state is
/// lost, and the change is kept.
async fn a_settings_change_read_before_a_digest_and_saved_after_loses_neither(store: Arc<dyn Store>) {
    let mut s = Subscriber::new(ChatId(71), Language::Zh, chrono_tz::Asia::Shanghai, at(0, 0));
    s.updated_at = at(0, 0);
    store.save_subscriber(&s).await.unwrap();
    let due = s.next_digest_at().unwrap();
    let read_by_the_press = store.subscriber(ChatId(71)).await.unwrap().unwrap();

    let digests = DueDigests {
        fanout_key: format!("digest:{due}"),
        message: Some(StoredMessage { content_key: "digest:71".into(), parts_json: "{\"parts\":[]}".into() }),
        due,
        next: Some(due + Duration::days(1)),
        window_start: due,
        recipients: vec![Recipient {
            chat_id: ChatId(71),
            thread_id: None,
            dedupe_key: "digest:71:x".into(),
        }],
        priority: 2,
    };
    assert_eq!(store.enqueue_digests(&digests, due).await.unwrap(), 1);

    let mut pressed = read_by_the_press;
    pressed.categories = BTreeSet::from([Category::Traffic]);
    pressed.updated_at = due + Duration::minutes(1);
    store.save_settings(&pressed, false).await.unwrap();
    let saved = store.subscriber(ChatId(71)).await.unwrap().unwrap();
    assert_eq!(saved.categories, BTreeSet::from([Category::Traffic]), "the change is kept");
    assert_eq!(saved.last_digest_at, Some(due), "the digest's progress is kept");

    // The scheduler schedules the next digest from the new settings and the last one sent.
    for unscheduled in store.unscheduled_subscribers(10).await.unwrap() {
        assert!(
            store
                .schedule_digest(unscheduled.chat_id, unscheduled.next_digest_at(), unscheduled.updated_at)
                .await
                .unwrap()
        );
    }
    assert!(store.due_digests(due + Duration::hours(1), 10).await.unwrap().is_empty(), "not sent again");
    assert!(store.due_digests(due + Duration::days(1), 10).await.unwrap().len() == 1, "due tomorrow");

    // A press read before the chat was found gone does not bring it back.
    let stale = store.subscriber(ChatId(71)).await.unwrap().unwrap();
    store.mark_gone(ChatId(71), GoneReason::Blocked, due + Duration::minutes(2)).await.unwrap();
    store.save_settings(&Subscriber { language: Language::En, ..stale.clone() }, false).await.unwrap();
    let after = store.subscriber(ChatId(71)).await.unwrap().unwrap();
    assert!(matches!(after.status, SubscriberStatus::Gone { .. }), "still gone: {:?}", after.status);
    assert_eq!(after.language, Language::En);
    // /subscribe from the chat is someone talking to us from it: active again.
    store.save_settings(&stale, true).await.unwrap();
    assert_eq!(store.subscriber(ChatId(71)).await.unwrap().unwrap().status, SubscriberStatus::Active);
}

/// The SQLite file holds chat ids and reports: it is made readable by its owner only,
/// and its write-ahead log follows, whatever the process's umask.
#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = crate::support::test_db::TestDb::sqlite();
    let store = db.store().await;
    store
        .save_subscriber(&pingan::domain::Subscriber::new(
            pingan::domain::ChatId(1),
            Language::Zh,
            chrono_tz::Asia::Shanghai,
            Utc::now(),
        ))
        .await
        .unwrap();
    let path = db.url().trim_start_matches("sqlite://").to_owned();
    for file in [path.clone(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is {mode:o}");
    }
}

async fn a_dialogue_reads_back_with_when_it_last_moved_on(store: Arc<dyn Store>) {
    assert_eq!(store.dialogue_with_time(ChatId(7), 7).await.unwrap(), None);
    store.save_dialogue(ChatId(7), 7, "{\"id\":1}", at(8, 0)).await.unwrap();
    store.save_dialogue(ChatId(7), 7, "{\"id\":2}", at(9, 30)).await.unwrap();
    let (state, since) = store.dialogue_with_time(ChatId(7), 7).await.unwrap().unwrap();
    assert_eq!((state.as_str(), since), ("{\"id\":2}", at(9, 30)));
    assert_eq!(store.dialogue_with_time(ChatId(7), 8).await.unwrap(), None, "another user's");
}

async fn a_retired_tip_is_restored_once_with_its_audit_entry(store: Arc<dyn Store>) {
    let editor = Actor::Telegram(5);
    let added = store
        .add_tip(&tip(ScamType::Loan, Language::Zh, "先交费的贷款都是骗局", None), at(8, 0))
        .await
        .unwrap();
    assert!(
        matches!(store.restore_tip(added.id, &editor, at(8, 1)).await, Err(StoreError::NotFound)),
        "not retired"
    );
    store.retire_tip(added.id, &editor, at(8, 2)).await.unwrap();
    let back = store.restore_tip(added.id, &editor, at(8, 3)).await.unwrap();
    assert!(!back.retired);
    assert_eq!(back.updated_at, at(8, 3));
    assert!(
        matches!(store.restore_tip(added.id, &editor, at(8, 4)).await, Err(StoreError::NotFound)),
        "once"
    );
    assert!(matches!(store.restore_tip(TipId(999_999), &editor, at(8, 4)).await, Err(StoreError::NotFound)));
    let actions: Vec<_> =
        store.audit_log(Some(&editor), 10).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::TipRestored, AuditAction::TipRetired]);
}
