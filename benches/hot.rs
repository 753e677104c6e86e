//! Micro-benchmarks of the pure hot parts (issue 15): what every `/notice`, `/search`,
//! `/check` and digest spends outside the database and the network.
//!
//!     cargo bench --bench hot                   # all, criterion's medians
//!     cargo bench --bench hot -- search         # those whose name holds "search"
//!
//! Inputs are the demo notices (`pingan demo-data`), a notice whose body runs to three
//! messages, and what citizens type.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pingan::content::demo::demo_notices;
use pingan::domain::check::Subject;
use pingan::domain::{
    Actor, Body, ChatId, FoldedText, Keyword, Language, Notice, NoticeId, NoticeStatus, SearchTerms,
    Subscriber, Tip, TipId, index_tokens, tip_of_the_day,
};
use pingan::i18n::Texts;
use pingan::render::broadcast::{DigestKind, digest};
use pingan::render::{Style, notice_messages};

/// The demo notices as the store would return them once published.
fn notices() -> Vec<Notice> {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    demo_notices(now)
        .expect("the demo notices")
        .into_iter()
        .enumerate()
        .map(|(n, new)| Notice {
            id: NoticeId(n as i64 + 1),
            content: new.content().clone(),
            external_id: new.external_id().map(str::to_owned),
            language_group: None,
            cap: None,
            status: NoticeStatus::Published,
            publish_at: new.publish_at(),
            expires_at: new.expires_at(),
            author: Actor::System,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

fn rendering(c: &mut Criterion) {
    let texts = Texts::load().expect("the locales");
    let notices = notices();
    let zh = notices.iter().find(|n| n.content.language == Language::Zh).expect("a Chinese notice");
    let en = notices.iter().find(|n| n.content.language == Language::En).expect("an English notice");
    let zone = chrono_tz::Asia::Shanghai;
    let (zh_style, en_style) =
        (Style::new(&texts, Language::Zh, zone), Style::new(&texts, Language::En, zone));
    c.bench_function("render/notice_card_zh", |b| b.iter(|| notice_messages(&zh_style, black_box(zh))));
    c.bench_function("render/notice_card_en", |b| b.iter(|| notice_messages(&en_style, black_box(en))));

    // A notice three messages long: the splitter cuts it at paragraphs and sentences.
    let mut long = zh.clone();
    let paragraph = zh.content.body.as_str();
    let body =
        std::iter::repeat_n(paragraph, 9000 / paragraph.chars().count().max(1) + 1).collect::<Vec<_>>();
    long.content.body = Body::parse(&body.join("\n\n")).expect("a long body");
    let parts = notice_messages(&zh_style, &long).len();
    assert!(parts >= 2, "the long notice should need several messages, not {parts}");
    c.bench_function(&format!("render/notice_split_zh_{parts}_messages"), |b| {
        b.iter(|| notice_messages(&zh_style, black_box(&long)))
    });
}

fn search(c: &mut Criterion) {
    let notices = notices();
    let zh = notices.iter().find(|n| n.content.language == Language::Zh).expect("a Chinese notice");
    let en = notices.iter().find(|n| n.content.language == Language::En).expect("an English notice");
    let zh_text = format!("{} {}", zh.content.title, zh.content.body);
    let en_text = format!("{} {}", en.content.title, en.content.body);
    c.bench_function("search/index_tokens_zh_notice", |b| b.iter(|| index_tokens(black_box(&zh_text))));
    c.bench_function("search/index_tokens_en_notice", |b| b.iter(|| index_tokens(black_box(&en_text))));
    for (name, query) in
        [("zh", "刷單返利 诈骗"), ("en", "fake police call"), ("mixed", "\"order brushing\" 刷单 app")]
    {
        assert!(SearchTerms::parse(query).is_some(), "{query} is searchable");
        c.bench_function(&format!("search/terms_parse_{name}"), |b| {
            b.iter(|| SearchTerms::parse(black_box(query)))
        });
    }
}

fn check(c: &mut Criterion) {
    // The first phone number read loads the numbering plan; not part of a reply's cost.
    pingan::domain::check::warm_up();
    for (name, typed) in [
        ("phone", "+86 138-0013-8000"),
        ("link", "hxxps://icbc-secure-login[.]top/verify?id=1"),
        ("account", "账号 6222 0202 0011 2233 445"),
    ] {
        let found = Subject::read_check(typed).expect("it reads");
        assert_eq!(found.len(), 1, "{typed} is one value: {found:?}");
        c.bench_function(&format!("check/read_{name}"), |b| b.iter(|| Subject::read_check(black_box(typed))));
    }
}

fn digests(c: &mut Criterion) {
    let texts = Texts::load().expect("the locales");
    let notices = notices();
    let window: Vec<&Notice> = notices.iter().filter(|n| n.content.language == Language::Zh).collect();
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let mut subscriber = Subscriber::new(ChatId(1), Language::Zh, chrono_tz::Asia::Shanghai, now);
    subscriber.include_keywords = vec![Keyword::parse("诈骗").unwrap(), Keyword::parse("刷單").unwrap()];
    subscriber.exclude_keywords = vec![Keyword::parse("结冰").unwrap()];
    let style = Style::new(&texts, Language::Zh, chrono_tz::Asia::Shanghai);
    let tips: Vec<Tip> = pingan::content::tips::builtin_tips()
        .expect("the built-in tips")
        .into_iter()
        .filter(|t| t.language == Language::Zh)
        .enumerate()
        .map(|(n, t)| Tip {
            id: TipId(n as i64 + 1),
            scam_type: t.scam_type,
            language: t.language,
            title: t.title,
            body: t.body,
            builtin_key: t.builtin_key,
            retired: false,
            edited_by: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let date = now.date_naive();
    // What the scheduler does for one group of subscribers sharing a digest: their
    // interests, the notices of the window they follow, the digest rendered once.
    c.bench_function("digest/group_filter_and_render", |b| {
        b.iter_batched(
            || subscriber.clone(),
            |s| {
                let interests = s.interests();
                let matching: Vec<&Notice> = window
                    .iter()
                    .copied()
                    .filter(|n| {
                        interests
                            .follows(n.content.category, &format!("{} {}", n.content.title, n.content.body))
                    })
                    .collect();
                let tip = tip_of_the_day(&tips, date);
                digest(&style, DigestKind::Daily { date }, &matching, &[], &[], tip)
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("digest/interests_follows_window", |b| {
        let interests = subscriber.interests();
        b.iter(|| {
            window
                .iter()
                .filter(|n| {
                    interests.follows(n.content.category, &format!("{} {}", n.content.title, n.content.body))
                })
                .count()
        })
    });
    // What the scheduler does since: the window folded once (outside the loop), then
    // each group asks its interests of the folded texts.
    c.bench_function("digest/interests_follows_folded_window", |b| {
        let interests = subscriber.interests();
        let folded: Vec<FoldedText> =
            window.iter().map(|n| FoldedText::of_notice(&n.content.title, &n.content.body)).collect();
        b.iter(|| {
            window
                .iter()
                .zip(&folded)
                .filter(|(n, text)| interests.follows_folded(n.content.category, text))
                .count()
        })
    });
}

criterion_group!(hot, rendering, search, check, digests);
criterion_main!(hot);
