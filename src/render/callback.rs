//! What an inline button does, and its compact form in `callback_data` (at most 64 bytes).

use chrono::Weekday;
use chrono_tz::Tz;

use crate::domain::{
    Category, DigestTime, Frequency, Language, NoticeId, ReportId, ScamType, Severity, TipId,
};

/// Telegram's limit on `callback_data`.
pub const MAX_CALLBACK_BYTES: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Callback {
    /// A button that only shows something (a page number); pressing it does nothing.
    Noop,
    /// Page (from 0) of /latest.
    LatestPage(u32),
    OpenNotice(NoticeId),
    /// Page of the results of a remembered search query.
    SearchPage {
        query: i64,
        page: u32,
    },
    OpenTip(TipId),
    /// The scam-type menu in place of the message the button is on.
    TipsMenu,
    /// The scam-type menu as a new message (from under the tip of the day).
    MoreTips,
    TipsOf(ScamType),
    Settings(SettingsAction),
    /// /forget's confirmation: `true` deletes, `false` cancels.
    Forget(bool),
    /// A step of an editor's /post or /urgent.
    Post(PostAction),
    /// Confirms (`true`) or drops an editor's correction (/edit).
    Correct(bool),
    /// Confirms (`confirm`) or cancels the retraction of a notice.
    Retract {
        id: NoticeId,
        confirm: bool,
    },
    /// An editor's change to the tips library.
    Tip(TipAction),
    /// A step of a citizen's /report.
    Report(ReportStep),
    /// A moderator's decision on a report.
    Moderate {
        id: ReportId,
        decision: Decision,
    },
}

/// What an editor does to the tips library from /tips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TipAction {
    Edit(TipId),
    Retire(TipId),
    Add(ScamType),
}

/// The buttons of the /report dialogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportStep {
    /// No number, link or message to add.
    Skip,
    Send,
    Cancel,
}

/// What a moderator does with a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Accept it: its numbers and links count in /check as reported.
    Approve,
    /// Accept it and list its numbers and links as used in fraud.
    ApproveAndList,
    Reject,
}

/// The buttons of the /post dialogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostAction {
    Category(Category),
    Severity(Severity),
    /// The notice applies city-wide (no area).
    Citywide,
    /// Expires this many days after publication; 0 never.
    ExpiresInDays(u16),
    PublishNow,
    Publish,
    Restart,
    Cancel,
}

/// The sub-menus of /settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingsMenu {
    Frequency,
    Weekday,
    Time,
    Zone,
    Language,
    Categories,
    Keywords,
}

impl SettingsMenu {
    const ALL: [(SettingsMenu, &'static str); 7] = [
        (SettingsMenu::Frequency, "f"),
        (SettingsMenu::Weekday, "w"),
        (SettingsMenu::Time, "t"),
        (SettingsMenu::Zone, "z"),
        (SettingsMenu::Language, "l"),
        (SettingsMenu::Categories, "c"),
        (SettingsMenu::Keywords, "k"),
    ];

    fn code(self) -> &'static str {
        Self::ALL.iter().find(|(m, _)| *m == self).map_or("", |(_, c)| c)
    }

    fn from_code(code: &str) -> Option<SettingsMenu> {
        Self::ALL.iter().find(|(_, c)| *c == code).map(|(m, _)| *m)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingsAction {
    Show,
    Menu(SettingsMenu),
    Frequency(Frequency),
    Time(DigestTime),
    Zone(Tz),
    Language(Language),
    ToggleCategory(Category),
    AllCategories,
    ClearKeywords,
    /// Subscribe (`true`) or unsubscribe from the settings screen.
    Subscribed(bool),
}

impl Callback {
    pub fn encode(&self) -> String {
        match self {
            Callback::Noop => "x".into(),
            Callback::LatestPage(page) => format!("l:{page}"),
            Callback::OpenNotice(id) => format!("n:{}", id.0),
            Callback::SearchPage { query, page } => format!("s:{query}:{page}"),
            Callback::OpenTip(id) => format!("p:{}", id.0),
            Callback::TipsMenu => "t".into(),
            Callback::MoreTips => "m".into(),
            Callback::TipsOf(kind) => format!("t:{}", kind.as_str()),
            Callback::Forget(yes) => format!("f:{}", u8::from(*yes)),
            Callback::Settings(action) => format!("st{}", encode_settings(action)),
            Callback::Post(action) => format!("po:{}", encode_post(*action)),
            Callback::Correct(yes) => format!("ed:{}", u8::from(*yes)),
            Callback::Retract { id, confirm } => format!("rt:{}:{}", id.0, u8::from(*confirm)),
            Callback::Tip(TipAction::Edit(id)) => format!("te:e:{}", id.0),
            Callback::Tip(TipAction::Retire(id)) => format!("te:r:{}", id.0),
            Callback::Tip(TipAction::Add(kind)) => format!("te:a:{}", kind.as_str()),
            Callback::Report(step) => format!(
                "rp:{}",
                match step {
                    ReportStep::Skip => "k",
                    ReportStep::Send => "y",
                    ReportStep::Cancel => "x",
                }
            ),
            Callback::Moderate { id, decision } => format!(
                "md:{}:{}",
                id.0,
                match decision {
                    Decision::Approve => "a",
                    Decision::ApproveAndList => "l",
                    Decision::Reject => "r",
                }
            ),
        }
    }

    pub fn decode(data: &str) -> Option<Callback> {
        let (head, rest) = data.split_once(':').unwrap_or((data, ""));
        Some(match (head, rest) {
            ("x", "") => Callback::Noop,
            ("l", page) => Callback::LatestPage(page.parse().ok()?),
            ("n", id) => Callback::OpenNotice(NoticeId(id.parse().ok()?)),
            ("s", rest) => {
                let (query, page) = rest.split_once(':')?;
                Callback::SearchPage { query: query.parse().ok()?, page: page.parse().ok()? }
            }
            ("p", id) => Callback::OpenTip(TipId(id.parse().ok()?)),
            ("t", "") => Callback::TipsMenu,
            ("m", "") => Callback::MoreTips,
            ("t", kind) => Callback::TipsOf(kind.parse().ok()?),
            ("f", "1") => Callback::Forget(true),
            ("f", "0") => Callback::Forget(false),
            ("st", rest) => Callback::Settings(decode_settings(rest)?),
            ("po", rest) => Callback::Post(decode_post(rest)?),
            ("ed", "1") => Callback::Correct(true),
            ("ed", "0") => Callback::Correct(false),
            ("rt", rest) => {
                let (id, confirm) = rest.split_once(':')?;
                let confirm = match confirm {
                    "1" => true,
                    "0" => false,
                    _ => return None,
                };
                Callback::Retract { id: NoticeId(id.parse().ok()?), confirm }
            }
            ("te", rest) => Callback::Tip(match rest.split_once(':')? {
                ("e", id) => TipAction::Edit(TipId(id.parse().ok()?)),
                ("r", id) => TipAction::Retire(TipId(id.parse().ok()?)),
                ("a", kind) => TipAction::Add(kind.parse().ok()?),
                _ => return None,
            }),
            ("rp", "k") => Callback::Report(ReportStep::Skip),
            ("rp", "y") => Callback::Report(ReportStep::Send),
            ("rp", "x") => Callback::Report(ReportStep::Cancel),
            ("md", rest) => {
                let (id, decision) = rest.split_once(':')?;
                let decision = match decision {
                    "a" => Decision::Approve,
                    "l" => Decision::ApproveAndList,
                    "r" => Decision::Reject,
                    _ => return None,
                };
                Callback::Moderate { id: ReportId(id.parse().ok().filter(|n: &i64| *n > 0)?), decision }
            }
            _ => return None,
        })
    }
}

fn encode_post(action: PostAction) -> String {
    match action {
        PostAction::Category(c) => format!("c:{}", c.as_str()),
        PostAction::Severity(s) => format!("s:{}", s.as_str()),
        PostAction::Citywide => "a".into(),
        PostAction::ExpiresInDays(days) => format!("e:{days}"),
        PostAction::PublishNow => "n".into(),
        PostAction::Publish => "y".into(),
        PostAction::Restart => "r".into(),
        PostAction::Cancel => "x".into(),
    }
}

fn decode_post(rest: &str) -> Option<PostAction> {
    let (kind, value) = rest.split_once(':').unwrap_or((rest, ""));
    Some(match (kind, value) {
        ("c", c) => PostAction::Category(c.parse().ok()?),
        ("s", s) => PostAction::Severity(s.parse().ok()?),
        ("a", "") => PostAction::Citywide,
        ("e", days) => PostAction::ExpiresInDays(days.parse().ok()?),
        ("n", "") => PostAction::PublishNow,
        ("y", "") => PostAction::Publish,
        ("r", "") => PostAction::Restart,
        ("x", "") => PostAction::Cancel,
        _ => return None,
    })
}

fn encode_settings(action: &SettingsAction) -> String {
    match action {
        SettingsAction::Show => String::new(),
        SettingsAction::Menu(menu) => format!(":m:{}", menu.code()),
        SettingsAction::Frequency(Frequency::Off) => ":f:o".into(),
        SettingsAction::Frequency(Frequency::Daily) => ":f:d".into(),
        SettingsAction::Frequency(Frequency::Weekly(day)) => {
            format!(":f:w{}", day.num_days_from_monday())
        }
        SettingsAction::Time(time) => format!(":t:{}", time.to_string().replace(':', "")),
        SettingsAction::Zone(zone) => format!(":z:{}", zone.name()),
        SettingsAction::Language(lang) => format!(":l:{}", lang.code()),
        SettingsAction::ToggleCategory(category) => format!(":c:{}", category.as_str()),
        SettingsAction::AllCategories => ":c:*".into(),
        SettingsAction::ClearKeywords => ":k:-".into(),
        SettingsAction::Subscribed(on) => format!(":s:{}", u8::from(*on)),
    }
}

fn decode_settings(rest: &str) -> Option<SettingsAction> {
    if rest.is_empty() {
        return Some(SettingsAction::Show);
    }
    let (kind, value) = rest.split_once(':')?;
    Some(match (kind, value) {
        ("m", menu) => SettingsAction::Menu(SettingsMenu::from_code(menu)?),
        ("f", "o") => SettingsAction::Frequency(Frequency::Off),
        ("f", "d") => SettingsAction::Frequency(Frequency::Daily),
        ("f", weekly) => {
            let day: u8 = weekly.strip_prefix('w')?.parse().ok()?;
            SettingsAction::Frequency(Frequency::Weekly(Weekday::try_from(day).ok()?))
        }
        ("t", hhmm) if hhmm.len() == 4 => {
            SettingsAction::Time(format!("{}:{}", &hhmm[..2], &hhmm[2..]).parse().ok()?)
        }
        ("z", zone) => SettingsAction::Zone(zone.parse().ok()?),
        ("l", lang) => SettingsAction::Language(lang.parse().ok()?),
        ("c", "*") => SettingsAction::AllCategories,
        ("c", category) => SettingsAction::ToggleCategory(category.parse().ok()?),
        ("k", "-") => SettingsAction::ClearKeywords,
        ("s", "1") => SettingsAction::Subscribed(true),
        ("s", "0") => SettingsAction::Subscribed(false),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Callback> {
        let mut all = vec![
            Callback::Noop,
            Callback::LatestPage(u32::MAX),
            Callback::OpenNotice(NoticeId(i64::MAX)),
            Callback::SearchPage { query: i64::MAX, page: u32::MAX },
            Callback::OpenTip(TipId(i64::MAX)),
            Callback::TipsMenu,
            Callback::MoreTips,
            Callback::Forget(true),
            Callback::Forget(false),
        ];
        all.extend(ScamType::ALL.iter().map(|t| Callback::TipsOf(*t)));
        all.extend(ScamType::ALL.iter().map(|t| Callback::Tip(TipAction::Add(*t))));
        all.extend(Category::ALL.iter().map(|c| Callback::Post(PostAction::Category(*c))));
        all.extend(Severity::ALL.iter().map(|s| Callback::Post(PostAction::Severity(*s))));
        all.extend(
            [
                PostAction::Citywide,
                PostAction::ExpiresInDays(0),
                PostAction::ExpiresInDays(u16::MAX),
                PostAction::PublishNow,
                PostAction::Publish,
                PostAction::Restart,
                PostAction::Cancel,
            ]
            .map(Callback::Post),
        );
        all.extend([
            Callback::Correct(true),
            Callback::Correct(false),
            Callback::Retract { id: NoticeId(i64::MAX), confirm: true },
            Callback::Retract { id: NoticeId(1), confirm: false },
            Callback::Tip(TipAction::Edit(TipId(i64::MAX))),
            Callback::Tip(TipAction::Retire(TipId(1))),
            Callback::Report(ReportStep::Skip),
            Callback::Report(ReportStep::Send),
            Callback::Report(ReportStep::Cancel),
            Callback::Moderate { id: ReportId(i64::MAX), decision: Decision::Approve },
            Callback::Moderate { id: ReportId(1), decision: Decision::ApproveAndList },
            Callback::Moderate { id: ReportId(7), decision: Decision::Reject },
        ]);
        let mut settings = vec![
            SettingsAction::Show,
            SettingsAction::Frequency(Frequency::Off),
            SettingsAction::Frequency(Frequency::Daily),
            SettingsAction::Time("07:30".parse().unwrap()),
            SettingsAction::AllCategories,
            SettingsAction::ClearKeywords,
            SettingsAction::Subscribed(true),
            SettingsAction::Subscribed(false),
        ];
        settings.extend(SettingsMenu::ALL.iter().map(|(m, _)| SettingsAction::Menu(*m)));
        settings.extend(Language::ALL.iter().map(|l| SettingsAction::Language(*l)));
        settings.extend(Category::ALL.iter().map(|c| SettingsAction::ToggleCategory(*c)));
        settings.extend(
            [Weekday::Mon, Weekday::Sun].into_iter().map(|d| SettingsAction::Frequency(Frequency::Weekly(d))),
        );
        settings.extend(chrono_tz::TZ_VARIANTS.iter().map(|z| SettingsAction::Zone(*z)));
        all.extend(settings.into_iter().map(Callback::Settings));
        all
    }

    #[test]
    fn every_callback_round_trips_within_telegrams_limit() {
        for callback in every_kind() {
            let data = callback.encode();
            assert!(data.len() <= MAX_CALLBACK_BYTES, "{data} is {} bytes", data.len());
            assert_eq!(Callback::decode(&data), Some(callback), "{data}");
        }
    }

    #[test]
    fn stale_or_forged_data_decodes_to_nothing() {
        for data in [
            "",
            "l:",
            "l:x",
            "n:-",
            "s:1",
            "t:nope",
            "st:m:q",
            "st:f:w9",
            "st:t:2561",
            "zz",
            "f:2",
            "rp:",
            "md:0:a",
            "md:1:q",
        ] {
            assert_eq!(Callback::decode(data), None, "{data}");
        }
    }
}
