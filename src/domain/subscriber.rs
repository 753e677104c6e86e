//! Subscribers: chats that receive digests and alerts, and how each wants them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::keyword_enum::keyword_enum;
use super::text::bounded_text;
use super::{Category, Language};

/// A Telegram chat id: positive for users, negative for groups and channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatId(pub i64);

impl ChatId {
    pub fn is_group(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How often a digest is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Frequency {
    Off,
    Daily,
    Weekly(Weekday),
}

impl Frequency {
    /// The stored keyword; the weekday of a weekly digest is stored beside it.
    pub fn keyword(self) -> &'static str {
        match self {
            Frequency::Off => "off",
            Frequency::Daily => "daily",
            Frequency::Weekly(_) => "weekly",
        }
    }
}

/// The local time of day a digest is due, to the minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DigestTime(NaiveTime);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a time of day: {0:?} (expected HH:MM such as 07:30, 7:30pm or 7点半)")]
pub struct BadDigestTime(pub String);

impl DigestTime {
    pub const DEFAULT: DigestTime = DigestTime(match NaiveTime::from_hms_opt(8, 0, 0) {
        Some(t) => t,
        None => unreachable!(),
    });

    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl FromStr for DigestTime {
    type Err = BadDigestTime;

    /// Any time of day [`super::parse_time_of_day`] reads (`07:30`, `7:30pm`, `7点半`,
    /// `下午3点`, full-width digits), to the minute.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        super::parse_time_of_day(s).map(DigestTime).ok_or_else(|| BadDigestTime(s.trim().to_owned()))
    }
}

impl fmt::Display for DigestTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

keyword_enum! {
    /// Why a subscriber can no longer be reached.
    pub enum GoneReason ("reason") {
        /// The user blocked the bot.
        Blocked = "blocked",
        /// The user deleted their account.
        Deactivated = "deactivated",
        /// The bot was removed from the group or channel.
        Kicked = "kicked",
        /// Telegram no longer knows the chat.
        ChatNotFound = "chat_not_found",
    }
}

keyword_enum! {
    /// Why Telegram will not let the bot send to a chat for now. Unlike [`GoneReason`] the
    /// chat is still there: the subscription resumes when the bot may send again.
    pub enum PauseReason ("pause reason") {
        /// The forum topic the subscription posts into was closed (`TOPIC_CLOSED`).
        TopicClosed = "topic_closed",
        /// The bot may not send messages there ("not enough rights", "have no rights to
        /// send", a restriction in the group).
        NoRights = "no_rights",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriberStatus {
    Active,
    /// Telegram refuses to let the bot send there for now; kept, nothing is sent until a
    /// `my_chat_member` update gives the right back (or the user changes the settings).
    Paused {
        reason: PauseReason,
        since: DateTime<Utc>,
    },
    /// Telegram told us the chat is unreachable; the record is kept, nothing is sent.
    Gone {
        reason: GoneReason,
        since: DateTime<Utc>,
    },
}

bounded_text!(
    /// A word a subscriber wants to see, or not to see, in their digest.
    Keyword, "keyword", max = 50, Single
);

/// A chat's subscription and settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    pub chat_id: ChatId,
    /// Who made the subscription (in a private chat, the chat's own user).
    pub user_id: Option<i64>,
    /// The forum topic digests go into, for subscriptions made inside a topic.
    pub thread_id: Option<i32>,
    /// Whether the chat receives alerts and digests. A chat that only chose its language
    /// (or unsubscribed) keeps its settings with this off.
    pub subscribed: bool,
    pub language: Language,
    pub time_zone: Tz,
    pub digest_time: DigestTime,
    pub frequency: Frequency,
    /// Categories to follow; empty follows all.
    pub categories: BTreeSet<Category>,
    pub include_keywords: Vec<Keyword>,
    pub exclude_keywords: Vec<Keyword>,
    /// Districts followed ([`super::district`]); empty follows every district. Chosen in
    /// /settings or by sharing a location (only the district is kept).
    pub districts: super::DistrictSet,
    pub status: SubscriberStatus,
    /// Where the window of the last digest queued for this chat ended.
    pub last_digest_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Subscriber {
    /// A new daily subscription with the default settings.
    pub fn new(chat_id: ChatId, language: Language, time_zone: Tz, now: DateTime<Utc>) -> Self {
        Subscriber {
            chat_id,
            user_id: None,
            thread_id: None,
            subscribed: true,
            language,
            time_zone,
            digest_time: DigestTime::DEFAULT,
            frequency: Frequency::Daily,
            categories: BTreeSet::new(),
            include_keywords: Vec::new(),
            exclude_keywords: Vec::new(),
            districts: super::DistrictSet::new(),
            status: SubscriberStatus::Active,
            last_digest_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// When the next digest is due after the settings were saved: `None` for chats that are
    /// unsubscribed, unreachable or without digests. Counted from the last digest or the
    /// last change of settings, whichever is later, so a change never brings a digest
    /// already sent back. (The store keeps it; the scheduler then moves it on itself.)
    pub fn next_digest_at(&self) -> Option<DateTime<Utc>> {
        if !self.subscribed || self.status != SubscriberStatus::Active {
            return None;
        }
        let after = self.last_digest_at.map_or(self.updated_at, |last| last.max(self.updated_at));
        super::next_digest_after(self.frequency, self.digest_time, self.time_zone, after)
    }

    /// What the chat wants to read about (keywords lower-cased and in simplified
    /// characters, as [`Interests::follows`] compares them).
    pub fn interests(&self) -> Interests {
        Interests::new(
            self.categories.clone(),
            &self.include_keywords,
            &self.exclude_keywords,
            self.districts.clone(),
        )
    }

    /// Whether a notice with this text and category is one this chat follows.
    pub fn follows(&self, category: Category, text: &str) -> bool {
        self.interests().follows(category, text)
    }
}

/// A notice's text as [`Interests`] compare it: lower-cased, with traditional characters
/// in their simplified forms ([`super::hanzi`]). Folding costs microseconds a notice
/// (5.6 µs for a demo notice, BENCHMARKS.md): fold each notice once and ask every chat's
/// interests of it with [`Interests::follows_folded`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldedText(String);

impl FoldedText {
    /// Folds `text`.
    pub fn new(text: &str) -> FoldedText {
        FoldedText(super::hanzi::to_simplified(&text.to_lowercase()).into_owned())
    }

    /// Folds a notice's title and body, as the digest and alert filters read them.
    pub fn of_notice(title: impl std::fmt::Display, body: impl std::fmt::Display) -> FoldedText {
        FoldedText::new(&format!("{title} {body}"))
    }

    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Categories and keywords a chat follows; chats with the same interests get the same digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interests {
    /// Empty follows every category.
    pub categories: BTreeSet<Category>,
    /// Lower-cased, in simplified characters; if any, a notice must contain one.
    pub include: Vec<String>,
    /// Lower-cased, in simplified characters; a notice containing one is left out.
    pub exclude: Vec<String>,
    /// Districts followed; empty follows every district (see [`Interests::reaches`]).
    pub districts: super::DistrictSet,
}

impl Interests {
    /// Interests from a chat's settings: the keywords lower-cased and in simplified
    /// characters, as [`Interests::follows`] compares them.
    pub fn new(
        categories: BTreeSet<Category>,
        include: &[Keyword],
        exclude: &[Keyword],
        districts: super::DistrictSet,
    ) -> Interests {
        let lower = |words: &[Keyword]| {
            words
                .iter()
                .map(|w| super::hanzi::to_simplified(&w.as_str().to_lowercase()).into_owned())
                .collect()
        };
        Interests { categories, include: lower(include), exclude: lower(exclude), districts }
    }

    /// Whether a notice of `category` whose text is `text` is followed. Text and keywords
    /// are compared lower-cased and with traditional characters in their simplified forms
    /// ([`super::hanzi`]): the keyword `刷單` follows a notice about `刷单`, and `刷单` one
    /// written `刷單`. Folds `text` when keywords need it; to ask many chats about one
    /// notice, fold it once and use [`Interests::follows_folded`].
    pub fn follows(&self, category: Category, text: &str) -> bool {
        if !self.follows_category(category) {
            return false;
        }
        // Most chats have no keywords: the text is folded only for those that do.
        if self.include.is_empty() && self.exclude.is_empty() {
            return true;
        }
        self.follows_folded(category, &FoldedText::new(text))
    }

    /// [`Interests::follows`] of a text already folded.
    pub fn follows_folded(&self, category: Category, text: &FoldedText) -> bool {
        if !self.follows_category(category) {
            return false;
        }
        let text = text.as_str();
        (self.include.is_empty() || self.include.iter().any(|w| text.contains(w.as_str())))
            && !self.exclude.iter().any(|w| text.contains(w.as_str()))
    }

    /// Whether a notice concerning `districts` (empty: the whole city) is followed by
    /// district: a whole-city notice reaches everyone, a district's notice those who
    /// chose it or chose none ([`super::district_reaches`]).
    pub fn reaches(&self, districts: &super::DistrictSet) -> bool {
        super::district_reaches(districts, &self.districts)
    }

    fn follows_category(&self, category: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_times_parse_to_the_minute() {
        assert_eq!("07:30".parse::<DigestTime>().unwrap().to_string(), "07:30");
        assert_eq!("7:05".parse::<DigestTime>().unwrap().to_string(), "07:05");
        assert_eq!("21：00".parse::<DigestTime>().unwrap().to_string(), "21:00");
        assert_eq!("下午3点".parse::<DigestTime>().unwrap().to_string(), "15:00");
        for bad in ["24:00", "12:60", "12", "12:00:00", "-1:00"] {
            assert!(bad.parse::<DigestTime>().is_err(), "{bad}");
        }
        assert_eq!(DigestTime::DEFAULT.to_string(), "08:00");
    }

    #[test]
    fn a_chat_follows_its_categories_and_keywords() {
        let mut s = Subscriber::new(ChatId(1), Language::Zh, chrono_tz::Asia::Shanghai, Utc::now());
        assert!(s.follows(Category::Traffic, "道路结冰"), "no filter follows everything");
        s.categories.insert(Category::Fraud);
        assert!(!s.follows(Category::Traffic, "道路结冰"));
        assert!(s.follows(Category::Fraud, "刷单诈骗"));
        s.include_keywords.push(Keyword::parse("刷单").unwrap());
        assert!(!s.follows(Category::Fraud, "冒充公检法"));
        s.exclude_keywords.push(Keyword::parse("演练").unwrap());
        assert!(!s.follows(Category::Fraud, "刷单诈骗 演练"));
        assert!(s.follows(Category::Fraud, "Refund 刷单"));
    }

    #[test]
    fn keywords_match_in_either_script() {
        // (keyword, notice text, followed)
        let cases = [
            ("刷單", "警惕刷单返利诈骗", true),
            ("刷单", "警惕刷單返利詐騙", true),
            ("頭髮", "理发店预付卡跑路，头发没剪成", true),
            ("干部", "冒充幹部要求转账", true),
            ("乾淨", "干净的二手手机", true),
            ("APP刷單", "下载某app刷单", true),
            ("96110", "接到96110來電請接聽", true),
            ("刷單", "冒充公检法", false),
        ];
        for (keyword, text, followed) in cases {
            let mut s = Subscriber::new(ChatId(1), Language::Zh, chrono_tz::Asia::Shanghai, Utc::now());
            s.include_keywords.push(Keyword::parse(keyword).unwrap());
            assert_eq!(s.follows(Category::Fraud, text), followed, "include {keyword} in {text}");
            let mut s = Subscriber::new(ChatId(1), Language::Zh, chrono_tz::Asia::Shanghai, Utc::now());
            s.exclude_keywords.push(Keyword::parse(keyword).unwrap());
            assert_eq!(s.follows(Category::Fraud, text), !followed, "exclude {keyword} in {text}");
        }
        let traditional = |w: &str| {
            let mut s = Subscriber::new(ChatId(1), Language::Zh, chrono_tz::Asia::Shanghai, Utc::now());
            s.include_keywords.push(Keyword::parse(w).unwrap());
            s.interests()
        };
        assert_eq!(traditional("刷單"), traditional("刷单"), "one digest for both spellings");
    }

    #[test]
    fn only_active_subscriptions_with_digests_are_scheduled() {
        let now = Utc::now();
        let mut s = Subscriber::new(ChatId(1), Language::Zh, chrono_tz::Asia::Shanghai, now);
        assert!(s.next_digest_at().is_some_and(|t| t > now));
        s.frequency = Frequency::Off;
        assert_eq!(s.next_digest_at(), None);
        s.frequency = Frequency::Daily;
        s.subscribed = false;
        assert_eq!(s.next_digest_at(), None);
    }

    #[test]
    fn group_chats_have_negative_ids() {
        assert!(ChatId(-1001234567890).is_group());
        assert!(!ChatId(42).is_group());
    }
}
