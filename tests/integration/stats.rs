//! The bureau's figures outside `/stats`: a weekly digest carries the latest figures as
//! one line, in the reader's language; a daily digest does not. (`/stats` itself and its
//! charts: anti_fraud.rs, `stats_show_the_latest_figures_and_a_chart_that_matches_the_data`.)

use std::sync::Arc;

use chrono::{TimeZone, Utc, Weekday};
use pingan::clock::ManualClock;
use pingan::domain::{Category, ChatId, DigestTime, Frequency, Language, Publication, Severity, Subscriber};

use crate::delivery::{content, publish, spawn_on};

fn subscriber(chat: i64, language: Language, frequency: Frequency, now: chrono::DateTime<Utc>) -> Subscriber {
    let mut s = Subscriber::new(ChatId(chat), language, chrono_tz::Asia::Shanghai, now);
    s.digest_time = "09:00".parse::<DigestTime>().unwrap();
    s.frequency = frequency;
    s
}

#[tokio::test]
async fn a_weekly_digest_carries_the_latest_figures_in_one_line_in_the_readers_language() {
    let start = Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap(); // Monday 09:00 in Shanghai
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_on(clock.clone(), &[]).await;
    let friday = Frequency::Weekly(Weekday::Fri);
    app.store.save_subscriber(&subscriber(80, Language::Zh, friday, start)).await.unwrap();
    app.store.save_subscriber(&subscriber(81, Language::En, friday, start)).await.unwrap();
    app.store.save_subscriber(&subscriber(82, Language::Zh, Frequency::Daily, start)).await.unwrap();
    app.store.put_figures(&pingan::content::figures::demo().unwrap(), start).await.unwrap();
    for language in [Language::Zh, Language::En] {
        let at = start + chrono::Duration::hours(1);
        clock.set(at);
        publish(
            &app,
            content("本周通告 weekly", Severity::Minor, Category::Fraud, language),
            Publication::Now,
            at,
        )
        .await;
    }
    clock.set(Utc.with_ymd_and_hms(2026, 12, 4, 1, 0, 0).unwrap());

    let zh = app.fake.wait_for_sent(80, 1).await.remove(0);
    let line = "反诈数据（2023年1月至10月）：立案 3,774 起（同比下降 4.79%），破案 1,583 起（同比上升 166.05%），\
                群众损失 3.37 亿元（同比下降 6.84%）。详见 /stats";
    assert!(zh.text.lines().any(|l| l == line), "{}", zh.text);
    let en = app.fake.wait_for_sent(81, 1).await.remove(0);
    let line = "Anti-fraud figures, January to October 2023: cases filed 3,774 (down 4.79%), solved 1,583 \
                (up 166.05%), money lost ¥337.1 million (down 6.84%). More: /stats";
    assert!(en.text.lines().any(|l| l == line), "{}", en.text);
    assert!(en.text.contains("This week"), "beside the week's own figures: {}", en.text);
    let daily = app.fake.wait_for_sent(82, 1).await.remove(0);
    assert!(!daily.text.contains("反诈数据"), "a daily digest has no figures line: {}", daily.text);
    app.stop().await.unwrap();
}
