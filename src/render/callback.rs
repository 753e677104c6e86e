//! What an inline button does, and its compact form in `callback_data` (at most 64 bytes).

use chrono::Weekday;
use chrono_tz::Tz;

use crate::domain::{
    Category, DigestTime, Frequency, Language, NoticeId, ReportId, Role, ScamType, Severity, TipId,
};

/// Telegram's limit on `callback_data`.
pub const MAX_CALLBACK_BYTES: usize = 64;

/// The highest page (from 0) a paging button may name. Anyone can send a button's data
/// with any number in it; bounded pages keep `page * PAGE_SIZE` far from overflowing.
pub const MAX_PAGE: u32 = 10_000;

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
    /// A step of an editor's /post or /urgent, under the draft it was shown with.
    Post {
        draft: DraftId,
        action: PostAction,
    },
    /// Confirms (`confirm`) or drops an editor's correction (/edit) of this draft.
    Correct {
        draft: DraftId,
        confirm: bool,
    },
    /// Confirms (`confirm`) or cancels the retraction of a notice.
    Retract {
        id: NoticeId,
        confirm: bool,
    },
    /// An editor's change to the tips library.
    Tip(TipAction),
    /// A step of a citizen's /report, under the draft it was shown with.
    Report {
        draft: DraftId,
        step: ReportStep,
    },
    /// What to do with the dialogue `draft`: carry on after a long pause, or drop it for
    /// the command the user started meanwhile.
    Dialogue {
        draft: DraftId,
        choice: DialogueChoice,
    },
    /// Lists (`confirm`) or drops the `/indicator add` held by dialogue `draft`, which
    /// would list a value the official list names as genuine.
    Listing {
        draft: DraftId,
        confirm: bool,
    },
    /// An owner's choice of the role to grant in dialogue `draft` (`None`: cancel).
    Grant {
        draft: DraftId,
        role: Option<Role>,
    },
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
    /// Asks whether to retire the tip.
    Retire(TipId),
    /// Retires it, as the question's answer.
    ConfirmRetire(TipId),
    /// Keeps it, as the question's answer.
    KeepTip(TipId),
    /// Brings a tip just retired back (the undo offered for a while after).
    Restore(TipId),
    Add(ScamType),
}

/// The identity of one dialogue (a draft notice, a report, a pending listing): a
/// number from 1 given when it starts, carried by every button shown with it, so that
/// a button of a dialogue since ended or replaced is refused ("这个按钮已失效").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DraftId(pub u32);

/// The answers to the questions a dialogue asks about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogueChoice {
    /// Carry on with the draft after a long pause.
    Continue,
    /// Drop the paused draft.
    Drop,
    /// Drop the current draft and start what the user asked for meanwhile.
    Switch,
    /// Keep the current draft; forget what the user asked for meanwhile.
    Keep,
}

/// A field of a notice draft the preview lets the editor change alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DraftField {
    Title,
    Body,
    Category,
    Severity,
    Area,
    Expiry,
    Timing,
    /// The next language in [`Language::ALL`].
    Language,
    /// The districts it concerns (offered only where `bot.districts` lists some).
    District,
}

impl DraftField {
    /// Every field with its code in `callback_data`.
    pub const ALL: [(DraftField, &'static str); 9] = [
        (DraftField::Title, "t"),
        (DraftField::Body, "b"),
        (DraftField::Category, "c"),
        (DraftField::Severity, "s"),
        (DraftField::Area, "a"),
        (DraftField::Expiry, "e"),
        (DraftField::Timing, "p"),
        (DraftField::Language, "l"),
        (DraftField::District, "d"),
    ];

    fn code(self) -> &'static str {
        Self::ALL.iter().find(|(f, _)| *f == self).map_or("", |(_, c)| c)
    }

    fn from_code(code: &str) -> Option<DraftField> {
        Self::ALL.iter().find(|(_, c)| *c == code).map(|(f, _)| *f)
    }
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostAction {
    Category(Category),
    Severity(Severity),
    /// The notice applies city-wide (no area).
    Citywide,
    /// The notice concerns one district (by key), or the whole city (`None`).
    District(Option<crate::domain::DistrictKey>),
    /// Expires this many days after publication (at most [`PostAction::MAX_EXPIRY_DAYS`]); 0 never.
    ExpiresInDays(u16),
    PublishNow,
    Publish,
    Restart,
    Cancel,
    /// Asks for this one field again (from the preview).
    Change(DraftField),
}

impl PostAction {
    /// The most days an expiry button may carry: about ten years, within what a notice allows.
    pub const MAX_EXPIRY_DAYS: u16 = 3650;
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
    /// The city's districts (`bot.districts`), when it has some.
    Districts,
}

impl SettingsMenu {
    const ALL: [(SettingsMenu, &'static str); 8] = [
        (SettingsMenu::Frequency, "f"),
        (SettingsMenu::Weekday, "w"),
        (SettingsMenu::Time, "t"),
        (SettingsMenu::Zone, "z"),
        (SettingsMenu::Language, "l"),
        (SettingsMenu::Categories, "c"),
        (SettingsMenu::Keywords, "k"),
        (SettingsMenu::Districts, "d"),
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
    /// Follow or stop following a district, by its key (at most 32 ASCII bytes).
    ToggleDistrict(crate::domain::DistrictKey),
    /// Follow every district (clears the choice).
    AllDistricts,
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
            Callback::Post { draft, action } => format!("po:{}:{}", draft.0, encode_post(action.clone())),
            Callback::Correct { draft, confirm } => format!("ed:{}:{}", draft.0, u8::from(*confirm)),
            Callback::Retract { id, confirm } => format!("rt:{}:{}", id.0, u8::from(*confirm)),
            Callback::Tip(TipAction::Edit(id)) => format!("te:e:{}", id.0),
            Callback::Tip(TipAction::Retire(id)) => format!("te:r:{}", id.0),
            Callback::Tip(TipAction::ConfirmRetire(id)) => format!("te:R:{}", id.0),
            Callback::Tip(TipAction::KeepTip(id)) => format!("te:k:{}", id.0),
            Callback::Tip(TipAction::Restore(id)) => format!("te:u:{}", id.0),
            Callback::Tip(TipAction::Add(kind)) => format!("te:a:{}", kind.as_str()),
            Callback::Report { draft, step } => format!(
                "rp:{}:{}",
                draft.0,
                match step {
                    ReportStep::Skip => "k",
                    ReportStep::Send => "y",
                    ReportStep::Cancel => "x",
                }
            ),
            Callback::Dialogue { draft, choice } => format!(
                "dg:{}:{}",
                draft.0,
                match choice {
                    DialogueChoice::Continue => "c",
                    DialogueChoice::Drop => "d",
                    DialogueChoice::Switch => "s",
                    DialogueChoice::Keep => "k",
                }
            ),
            Callback::Listing { draft, confirm } => format!("ix:{}:{}", draft.0, u8::from(*confirm)),
            Callback::Grant { draft, role } => format!(
                "gr:{}:{}",
                draft.0,
                match role {
                    Some(Role::Owner) => "o",
                    Some(Role::Editor) => "e",
                    Some(Role::Moderator) => "m",
                    None => "x",
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

    /// The button `data` stands for, or `None` for data Pingan never made: stale buttons
    /// and forged data alike. Numbers are bounded (pages up to [`MAX_PAGE`], ids positive)
    /// and nothing is sliced by bytes, so no input makes this panic.
    pub fn decode(data: &str) -> Option<Callback> {
        let (head, rest) = data.split_once(':').unwrap_or((data, ""));
        Some(match (head, rest) {
            ("x", "") => Callback::Noop,
            ("l", page) => Callback::LatestPage(page_number(page)?),
            ("n", id) => Callback::OpenNotice(NoticeId(positive_id(id)?)),
            ("s", rest) => {
                let (query, page) = rest.split_once(':')?;
                Callback::SearchPage { query: positive_id(query)?, page: page_number(page)? }
            }
            ("p", id) => Callback::OpenTip(TipId(positive_id(id)?)),
            ("t", "") => Callback::TipsMenu,
            ("m", "") => Callback::MoreTips,
            ("t", kind) => Callback::TipsOf(kind.parse().ok()?),
            ("f", "1") => Callback::Forget(true),
            ("f", "0") => Callback::Forget(false),
            ("st", rest) => Callback::Settings(decode_settings(rest)?),
            ("po", rest) => {
                let (draft, action) = rest.split_once(':')?;
                Callback::Post { draft: draft_id(draft)?, action: decode_post(action)? }
            }
            ("ed", rest) => {
                let (draft, confirm) = rest.split_once(':')?;
                Callback::Correct { draft: draft_id(draft)?, confirm: flag(confirm)? }
            }
            ("rt", rest) => {
                let (id, confirm) = rest.split_once(':')?;
                let confirm = match confirm {
                    "1" => true,
                    "0" => false,
                    _ => return None,
                };
                Callback::Retract { id: NoticeId(positive_id(id)?), confirm }
            }
            ("te", rest) => Callback::Tip(match rest.split_once(':')? {
                ("e", id) => TipAction::Edit(TipId(positive_id(id)?)),
                ("r", id) => TipAction::Retire(TipId(positive_id(id)?)),
                ("R", id) => TipAction::ConfirmRetire(TipId(positive_id(id)?)),
                ("k", id) => TipAction::KeepTip(TipId(positive_id(id)?)),
                ("u", id) => TipAction::Restore(TipId(positive_id(id)?)),
                ("a", kind) => TipAction::Add(kind.parse().ok()?),
                _ => return None,
            }),
            ("rp", rest) => {
                let (draft, step) = rest.split_once(':')?;
                let step = match step {
                    "k" => ReportStep::Skip,
                    "y" => ReportStep::Send,
                    "x" => ReportStep::Cancel,
                    _ => return None,
                };
                Callback::Report { draft: draft_id(draft)?, step }
            }
            ("dg", rest) => {
                let (draft, choice) = rest.split_once(':')?;
                let choice = match choice {
                    "c" => DialogueChoice::Continue,
                    "d" => DialogueChoice::Drop,
                    "s" => DialogueChoice::Switch,
                    "k" => DialogueChoice::Keep,
                    _ => return None,
                };
                Callback::Dialogue { draft: draft_id(draft)?, choice }
            }
            ("ix", rest) => {
                let (draft, confirm) = rest.split_once(':')?;
                Callback::Listing { draft: draft_id(draft)?, confirm: flag(confirm)? }
            }
            ("gr", rest) => {
                let (draft, role) = rest.split_once(':')?;
                let role = match role {
                    "o" => Some(Role::Owner),
                    "e" => Some(Role::Editor),
                    "m" => Some(Role::Moderator),
                    "x" => None,
                    _ => return None,
                };
                Callback::Grant { draft: draft_id(draft)?, role }
            }
            ("md", rest) => {
                let (id, decision) = rest.split_once(':')?;
                let decision = match decision {
                    "a" => Decision::Approve,
                    "l" => Decision::ApproveAndList,
                    "r" => Decision::Reject,
                    _ => return None,
                };
                Callback::Moderate { id: ReportId(positive_id(id)?), decision }
            }
            _ => return None,
        })
    }
}

/// A whole number written the way `encode` writes them: ASCII digits only (no sign, no
/// spaces), at most `max`.
fn number<T: std::str::FromStr + PartialOrd>(text: &str, max: T) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n <= max)
}

fn page_number(text: &str) -> Option<u32> {
    number(text, MAX_PAGE)
}

/// A dialogue's identity: 1 to `u32::MAX`.
fn draft_id(text: &str) -> Option<DraftId> {
    number(text, u32::MAX).filter(|id| *id > 0).map(DraftId)
}

/// `1` or `0`.
fn flag(text: &str) -> Option<bool> {
    match text {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// A stored row's id: 1 or more.
fn positive_id(text: &str) -> Option<i64> {
    number(text, i64::MAX).filter(|id| *id > 0)
}

fn encode_post(action: PostAction) -> String {
    match action {
        PostAction::Category(c) => format!("c:{}", c.as_str()),
        PostAction::Severity(s) => format!("s:{}", s.as_str()),
        PostAction::Citywide => "a".into(),
        PostAction::District(None) => "d".into(),
        PostAction::District(Some(key)) => format!("d:{key}"),
        PostAction::ExpiresInDays(days) => format!("e:{days}"),
        PostAction::PublishNow => "n".into(),
        PostAction::Publish => "y".into(),
        PostAction::Restart => "r".into(),
        PostAction::Cancel => "x".into(),
        PostAction::Change(field) => format!("h:{}", field.code()),
    }
}

fn decode_post(rest: &str) -> Option<PostAction> {
    let (kind, value) = rest.split_once(':').unwrap_or((rest, ""));
    Some(match (kind, value) {
        ("c", c) => PostAction::Category(c.parse().ok()?),
        ("s", s) => PostAction::Severity(s.parse().ok()?),
        ("a", "") => PostAction::Citywide,
        ("d", "") => PostAction::District(None),
        ("d", key) => PostAction::District(Some(crate::domain::DistrictKey::parse(key)?)),
        ("e", days) => PostAction::ExpiresInDays(number(days, PostAction::MAX_EXPIRY_DAYS)?),
        ("n", "") => PostAction::PublishNow,
        ("y", "") => PostAction::Publish,
        ("r", "") => PostAction::Restart,
        ("x", "") => PostAction::Cancel,
        ("h", field) => PostAction::Change(DraftField::from_code(field)?),
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
        SettingsAction::ToggleDistrict(key) => format!(":d:{key}"),
        SettingsAction::AllDistricts => ":d:*".into(),
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
            let day: u8 = number(weekly.strip_prefix('w')?, 6)?;
            SettingsAction::Frequency(Frequency::Weekly(Weekday::try_from(day).ok()?))
        }
        ("t", hhmm) => {
            // Four ASCII digits, so the split falls between characters.
            if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (hours, minutes) = hhmm.split_at(2);
            SettingsAction::Time(format!("{hours}:{minutes}").parse().ok()?)
        }
        ("z", zone) => SettingsAction::Zone(zone.parse().ok()?),
        ("l", lang) => SettingsAction::Language(lang.parse().ok()?),
        ("c", "*") => SettingsAction::AllCategories,
        ("c", category) => SettingsAction::ToggleCategory(category.parse().ok()?),
        ("k", "-") => SettingsAction::ClearKeywords,
        ("d", "*") => SettingsAction::AllDistricts,
        ("d", key) => SettingsAction::ToggleDistrict(crate::domain::DistrictKey::parse(key)?),
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
            Callback::LatestPage(0),
            Callback::LatestPage(MAX_PAGE),
            Callback::OpenNotice(NoticeId(i64::MAX)),
            Callback::SearchPage { query: i64::MAX, page: MAX_PAGE },
            Callback::OpenTip(TipId(i64::MAX)),
            Callback::TipsMenu,
            Callback::MoreTips,
            Callback::Forget(true),
            Callback::Forget(false),
        ];
        all.extend(ScamType::ALL.iter().map(|t| Callback::TipsOf(*t)));
        all.extend(ScamType::ALL.iter().map(|t| Callback::Tip(TipAction::Add(*t))));
        let post = |action| Callback::Post { draft: DraftId(u32::MAX), action };
        all.extend(Category::ALL.iter().map(|c| post(PostAction::Category(*c))));
        all.extend(Severity::ALL.iter().map(|s| post(PostAction::Severity(*s))));
        all.extend(DraftField::ALL.iter().map(|(f, _)| post(PostAction::Change(*f))));
        all.extend(
            [
                PostAction::Citywide,
                PostAction::District(None),
                PostAction::District(crate::domain::DistrictKey::parse("chengdong-district_32")),
                PostAction::ExpiresInDays(0),
                PostAction::ExpiresInDays(PostAction::MAX_EXPIRY_DAYS),
                PostAction::PublishNow,
                PostAction::Publish,
                PostAction::Restart,
                PostAction::Cancel,
            ]
            .map(post),
        );
        all.extend([
            Callback::Correct { draft: DraftId(1), confirm: true },
            Callback::Correct { draft: DraftId(u32::MAX), confirm: false },
            Callback::Retract { id: NoticeId(i64::MAX), confirm: true },
            Callback::Retract { id: NoticeId(1), confirm: false },
            Callback::Tip(TipAction::Edit(TipId(i64::MAX))),
            Callback::Tip(TipAction::Retire(TipId(1))),
            Callback::Tip(TipAction::ConfirmRetire(TipId(i64::MAX))),
            Callback::Tip(TipAction::KeepTip(TipId(2))),
            Callback::Tip(TipAction::Restore(TipId(i64::MAX))),
            Callback::Report { draft: DraftId(1), step: ReportStep::Skip },
            Callback::Report { draft: DraftId(u32::MAX), step: ReportStep::Send },
            Callback::Report { draft: DraftId(7), step: ReportStep::Cancel },
            Callback::Dialogue { draft: DraftId(u32::MAX), choice: DialogueChoice::Continue },
            Callback::Dialogue { draft: DraftId(1), choice: DialogueChoice::Drop },
            Callback::Dialogue { draft: DraftId(2), choice: DialogueChoice::Switch },
            Callback::Dialogue { draft: DraftId(3), choice: DialogueChoice::Keep },
            Callback::Listing { draft: DraftId(u32::MAX), confirm: true },
            Callback::Listing { draft: DraftId(1), confirm: false },
            Callback::Grant { draft: DraftId(u32::MAX), role: Some(Role::Owner) },
            Callback::Grant { draft: DraftId(1), role: Some(Role::Editor) },
            Callback::Grant { draft: DraftId(2), role: Some(Role::Moderator) },
            Callback::Grant { draft: DraftId(3), role: None },
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
            SettingsAction::ToggleDistrict(
                crate::domain::DistrictKey::parse("chengdong-district_32").unwrap(),
            ),
            SettingsAction::AllDistricts,
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
            // Buttons from before dialogues were numbered, and numbers out of range.
            "rp:y",
            "rp:x",
            "po:y",
            "po:c:fraud",
            "ed:1",
            "rp:0:y",
            "rp:4294967296:y",
            "rp:-1:y",
            "dg:1:q",
            "dg:0:c",
            "ix:1:2",
            "po:1:h:q",
            "te:u:0",
            "te:R:-1",
            "md:0:a",
            "md:1:q",
            // Forged: a byte split inside a character, numbers out of range or signed.
            "st:t:1é2",
            "st:t:é12",
            "st:t:12é",
            "st:t:+730",
            "st:t:-730",
            "st:t: 730",
            "st:t:073",
            "st:t:07300",
            "st:f:w+1",
            "st:f:w256",
            "l:99999999999",
            "l:4294967295",
            "l:10001",
            "l:-1",
            "l:+1",
            "l: 1",
            "s:1:4294967295",
            "s:1:10001",
            "s:0:1",
            "s:-1:1",
            "s:9223372036854775808:1",
            "po:1:e:65535",
            "po:1:e:65536",
            "po:1:e:3651",
            "po:1:e:-1",
            "po:1:e:+7",
            "n:-1",
            "n:0",
            "n:+1",
            "n:9223372036854775808",
            "p:-1",
            "rt:-1:1",
            "rt:0:1",
            "te:e:-1",
            "te:r:0",
            "md:-1:a",
            "gr:0:e",
            "gr:1:owner",
            "gr:1:E",
            "md:18446744073709551615:a",
        ] {
            assert_eq!(Callback::decode(data), None, "{data}");
        }
    }

    /// What a decoded callback may hold, whoever wrote the data.
    fn within_bounds(callback: &Callback) -> bool {
        match callback {
            Callback::LatestPage(page) | Callback::SearchPage { page, .. } => *page <= MAX_PAGE,
            Callback::OpenNotice(id) | Callback::Retract { id, .. } => id.0 > 0,
            Callback::OpenTip(id)
            | Callback::Tip(
                TipAction::Edit(id)
                | TipAction::Retire(id)
                | TipAction::ConfirmRetire(id)
                | TipAction::KeepTip(id)
                | TipAction::Restore(id),
            ) => id.0 > 0,
            Callback::Post { draft, action: PostAction::ExpiresInDays(days) } => {
                draft.0 > 0 && *days <= PostAction::MAX_EXPIRY_DAYS
            }
            Callback::Post { draft, .. }
            | Callback::Correct { draft, .. }
            | Callback::Report { draft, .. }
            | Callback::Dialogue { draft, .. }
            | Callback::Listing { draft, .. }
            | Callback::Grant { draft, .. } => draft.0 > 0,
            Callback::Moderate { id, .. } => id.0 > 0,
            _ => true,
        }
    }

    /// Decodes `data`: it must not panic, and whatever it accepts is bounded and is what
    /// Pingan itself would have encoded.
    fn decode_checked(data: &str) {
        if let Some(callback) = Callback::decode(data) {
            assert!(within_bounds(&callback), "{data:?} decoded to {callback:?}");
            assert_eq!(Callback::decode(&callback.encode()), Some(callback), "{data:?}");
        }
    }

    #[test]
    fn no_data_makes_decoding_panic() {
        let valid: Vec<String> = every_kind().iter().map(Callback::encode).collect();
        let limits = [
            u16::MAX.to_string(),
            (u32::from(u16::MAX) + 1).to_string(),
            u32::MAX.to_string(),
            (u64::from(u32::MAX) + 1).to_string(),
            i64::MAX.to_string(),
            (i64::MAX as u64 + 1).to_string(),
            i64::MIN.to_string(),
            u64::MAX.to_string(),
            "340282366920938463463374607431768211456".to_owned(),
            "0".repeat(70),
        ];
        let odd = ["é", "平安", "😀", "\u{301}", "１２", "\0", ":", "::", "-", "+", " ", "\u{feff}"];
        let mut tails: Vec<String> = limits.to_vec();
        for piece in odd {
            tails.extend([piece.to_owned(), format!("1{piece}"), format!("{piece}1"), format!("1{piece}2")]);
        }
        // Every prefix of every valid encoding, alone and followed by an awkward tail.
        for data in &valid {
            for (end, _) in data.char_indices().chain([(data.len(), ' ')]) {
                let prefix = &data[..end];
                decode_checked(prefix);
                for tail in &tails {
                    decode_checked(&format!("{prefix}{tail}"));
                }
            }
        }
        // Random bytes read as UTF-8, and random mixes of the pieces callback data is made of.
        let mut rng = fastrand::Rng::with_seed(10);
        let pieces: Vec<&str> =
            ["x", "l", "n", "s", "p", "t", "m", "f", "st", "po", "ed", "rt", "te", "rp", "md", "dg", "ix"]
                .into_iter()
                .chain(["e", "r", "a", "c", "k", "y", "z", "w", "1", "0", "4", "9", "*", "R", "u", "h", "d"])
                .chain(limits.iter().map(String::as_str))
                .chain(odd)
                .collect();
        for _ in 0..20_000 {
            let bytes: Vec<u8> = (0..rng.usize(0..24)).map(|_| rng.u8(..)).collect();
            decode_checked(&String::from_utf8_lossy(&bytes));
            if let Ok(text) = std::str::from_utf8(&bytes) {
                decode_checked(text);
            }
            let mixed: String = (0..rng.usize(1..8)).map(|_| pieces[rng.usize(..pieces.len())]).collect();
            decode_checked(&mixed);
            let chars: String = (0..rng.usize(1..8)).map(|_| rng.char(..)).collect();
            decode_checked(&format!("{}:{chars}", pieces[rng.usize(..pieces.len())]));
        }
    }
}
