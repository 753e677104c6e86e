//! A notice an editor is composing: what is filled in, what comes next, and the
//! one-message form experts type.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Area, Body, Category, DistrictKey, Districts, Language, LocalTimeError, NewNotice, NoticeContent,
    NoticeCorrection, NoticeError, Publication, Severity, Source, TextError, Title, check_expiry,
    check_publication, expiry_after_days, parse_local_time,
};
use crate::i18n::Texts;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DraftKind {
    Post,
    /// Goes out at once, Severe or Extreme.
    Urgent,
    /// A correction of this notice.
    Correct(i64),
}

/// What the dialogue asks for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    Title,
    Body,
    /// A correction's new title and body, in one message.
    Text,
    Category,
    Severity,
    Area,
    /// The districts it concerns, or the whole city (only where `bot.districts` lists some).
    District,
    Expiry,
    Timing,
    Preview,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub kind: DraftKind,
    pub language: Language,
    pub title: Option<String>,
    pub body: Option<String>,
    pub category: Option<Category>,
    pub severity: Option<Severity>,
    pub area: Option<AreaChoice>,
    /// The keys of the districts it concerns; `Some(empty)` the whole city, `None` not yet
    /// asked (drafts saved before districts existed read as `None`).
    #[serde(default)]
    pub districts: Option<Vec<String>>,
    pub expires_at: Option<Expiry>,
    pub publish_at: Option<Timing>,
}

/// Answers that may be "none": each is an enum, as `Option<Option<_>>` would not survive
/// JSON (`Some(None)` reads back as `None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AreaChoice {
    Citywide,
    Named(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiry {
    Never,
    At(DateTime<Utc>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timing {
    Now,
    At(DateTime<Utc>),
}

impl Draft {
    pub fn new(kind: DraftKind, language: Language) -> Draft {
        let mut draft = Draft {
            kind,
            language,
            title: None,
            body: None,
            category: None,
            severity: None,
            area: None,
            districts: None,
            expires_at: None,
            publish_at: None,
        };
        if kind == DraftKind::Urgent {
            draft.publish_at = Some(Timing::Now);
        }
        draft
    }

    fn expiry(&self) -> Option<DateTime<Utc>> {
        match self.expires_at {
            Some(Expiry::At(at)) => Some(at),
            _ => None,
        }
    }

    /// `at` as this draft's publication time: within a notice's reach of `now`, and before
    /// the expiry already chosen, so that the dialogue asks again rather than ending at a
    /// preview that cannot be published.
    pub fn publication_at(
        &self,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, NoticeError> {
        let at = check_publication(at, now)?;
        match self.expiry() {
            Some(expires_at) if expires_at <= at => {
                Err(NoticeError::ExpiresBeforePublication { publish_at: at, expires_at })
            }
            _ => Ok(at),
        }
    }

    /// `expires_at` as this draft's expiry: after the publication time already chosen
    /// (changed from the preview, an expiry before a scheduled publication is asked again
    /// at once rather than shown as a preview that cannot be published).
    pub fn expiry_after_publication(&self, expires_at: DateTime<Utc>) -> Result<DateTime<Utc>, NoticeError> {
        match self.publish_at {
            Some(Timing::At(publish_at)) if expires_at <= publish_at => {
                Err(NoticeError::ExpiresBeforePublication { publish_at, expires_at })
            }
            _ => Ok(expires_at),
        }
    }

    /// The first thing still missing, in the order the dialogue asks.
    pub fn next_step(&self) -> Step {
        if let DraftKind::Correct(_) = self.kind {
            return if self.title.is_none() || self.body.is_none() { Step::Text } else { Step::Preview };
        }
        match self {
            Draft { title: None, .. } => Step::Title,
            Draft { body: None, .. } => Step::Body,
            Draft { category: None, .. } => Step::Category,
            Draft { severity: None, .. } => Step::Severity,
            Draft { area: None, .. } => Step::Area,
            Draft { districts: None, .. } => Step::District,
            Draft { expires_at: None, .. } => Step::Expiry,
            Draft { publish_at: None, .. } => Step::Timing,
            _ => Step::Preview,
        }
    }

    pub fn content(&self) -> Result<NoticeContent, DraftError> {
        let title = Title::parse(self.title.as_deref().unwrap_or_default())?;
        let body = Body::parse(self.body.as_deref().unwrap_or_default())?;
        let area = match &self.area {
            Some(AreaChoice::Named(name)) => Some(Area::parse(name)?),
            _ => None,
        };
        let districts = self.districts.iter().flatten().filter_map(|k| DistrictKey::parse(k)).collect();
        Ok(NoticeContent {
            districts,
            title,
            body,
            category: self.category.ok_or(DraftError::Incomplete)?,
            severity: self.severity.ok_or(DraftError::Incomplete)?,
            area,
            language: self.language,
            source: None,
        })
    }

    /// The notice to publish, with `source` naming the publisher.
    pub fn notice(
        &self,
        source: Option<&str>,
        author: crate::domain::Actor,
        now: DateTime<Utc>,
    ) -> Result<NewNotice, DraftError> {
        let mut content = self.content()?;
        content.source = source.map(Source::parse).transpose()?;
        let publication = match self.publish_at {
            Some(Timing::At(at)) => Publication::At(at),
            _ => Publication::Now,
        };
        Ok(NewNotice::new(content, publication, self.expiry(), author, now)?)
    }

    /// The correction of a notice, keeping what the text does not change.
    pub fn correction(
        &self,
        mut current: NoticeContent,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<NoticeCorrection, DraftError> {
        current.title = Title::parse(self.title.as_deref().unwrap_or_default())?;
        current.body = Body::parse(self.body.as_deref().unwrap_or_default())?;
        Ok(NoticeCorrection::new(current, expires_at, now)?)
    }

    /// Reads a correction's text: the title on the first line, the body after it.
    pub fn take_text(&mut self, text: &str) {
        let text = text.trim();
        let (title, body) = text.split_once('\n').unwrap_or((text, ""));
        self.title = Some(title.trim().to_owned());
        self.body = Some(body.trim().to_owned());
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Notice(#[from] NoticeError),
    #[error(transparent)]
    Time(#[from] LocalTimeError),
    #[error("something is still missing")]
    Incomplete,
    /// Every line of a one-message form that could not be read, in order (at least one).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Form(Vec<FormLine>),
}

/// A line of the one-message form that could not be read: its number (from 1, counting
/// the lines after the command) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct FormLine {
    pub line: usize,
    pub problem: FormProblem,
}

/// Why a line of the one-message form cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormProblem {
    #[error("expected \"key: value\", got {0:?}")]
    NotKeyValue(String),
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    #[error("unknown category {0:?}")]
    Category(String),
    #[error("unknown severity {0:?}")]
    Severity(String),
    #[error("unknown language {0:?}")]
    Language(String),
    #[error("unknown district {0:?}")]
    District(String),
    #[error(transparent)]
    Time(#[from] LocalTimeError),
    /// A time further ahead (or back) than a notice may be.
    #[error(transparent)]
    OutOfReach(#[from] NoticeError),
}

/// An expiry typed at the dialogue's expiry step: a number of days from `now` (any
/// number of digits; too many days is refused, not overflowed) or a time.
pub fn typed_expiry(text: &str, zone: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, DraftError> {
    let text = text.trim();
    let days = (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<u64>().unwrap_or(u64::MAX))
        .filter(|days| *days > 0);
    match days {
        Some(days) => Ok(expiry_after_days(days, now)?),
        None => Ok(check_expiry(parse_local_time(text, zone)?, now)?),
    }
}

/// Reads the one-message form:
///
/// ```text
/// /post
/// title: 警惕冒充客服退款诈骗
/// category: fraud
/// severity: Moderate
/// area: 全市
/// district: 城东区, 城西区
/// expires: 2026-12-31
/// publish: 2026-12-01 08:00
/// ---
/// the body…
/// ```
///
/// Keys may also be written in Chinese (标题, 分类, 级别, 地区, 区域, 语言, 过期, 发布), and the
/// colon full-width; a blank line may stand for `---`. Categories, severities and
/// languages are read by keyword or by the label either locale shows (`分类：交通`,
/// `级别：一般`, `category: Traffic`; see [`Texts::read_category`]). Anything not given is
/// asked for afterwards. Every line that cannot be read is named, all at once, times
/// further from `now` than a notice may reach among them.
pub fn parse_form(
    kind: DraftKind,
    language: Language,
    text: &str,
    texts: &Texts,
    districts: &Districts,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Draft, DraftError> {
    let mut draft = Draft::new(kind, language);
    if districts.is_empty() {
        // No districts configured: every notice concerns the whole city, nothing to ask.
        draft.districts = Some(Vec::new());
    }
    let mut lines = text.lines().enumerate();
    let mut body = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in lines.by_ref() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "---" {
            break;
        }
        if let Err(problem) = read_form_line(&mut draft, trimmed, texts, districts, zone, now) {
            problems.push(FormLine { line: i + 1, problem });
        }
    }
    if !problems.is_empty() {
        return Err(DraftError::Form(problems));
    }
    body.extend(lines.map(|(_, line)| line));
    let body = body.join("\n");
    if !body.trim().is_empty() {
        draft.body = Some(body.trim().to_owned());
    }
    if kind == DraftKind::Urgent {
        draft.publish_at = Some(Timing::Now);
    }
    Ok(draft)
}

/// Reads one `key: value` line of the form into `draft`.
fn read_form_line(
    draft: &mut Draft,
    line: &str,
    texts: &Texts,
    districts: &Districts,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<(), FormProblem> {
    let Some((key, value)) = line.split_once([':', '：']) else {
        return Err(FormProblem::NotKeyValue(line.to_owned()));
    };
    let value = value.trim();
    match key.trim().to_lowercase().as_str() {
        "title" | "标题" => draft.title = Some(value.to_owned()),
        "category" | "分类" => {
            draft.category = Some(texts.read_category(value).ok_or(FormProblem::Category(value.to_owned()))?)
        }
        "severity" | "级别" => {
            draft.severity = Some(texts.read_severity(value).ok_or(FormProblem::Severity(value.to_owned()))?)
        }
        "area" | "地区" => {
            draft.area = Some(if value.is_empty() {
                AreaChoice::Citywide
            } else {
                AreaChoice::Named(value.to_owned())
            })
        }
        "district" | "districts" | "区域" => {
            let set = districts.parse_list(value).map_err(|e| FormProblem::District(e.0))?;
            draft.districts = Some(set.iter().map(|k| k.to_string()).collect());
        }
        "language" | "语言" => {
            draft.language = texts.read_language(value).ok_or(FormProblem::Language(value.to_owned()))?
        }
        "expires" | "过期" => {
            draft.expires_at = Some(match value {
                "never" | "不过期" => Expiry::Never,
                time => Expiry::At(check_expiry(parse_local_time(time, zone)?, now)?),
            })
        }
        "publish" | "发布" => {
            draft.publish_at = Some(match value {
                "now" | "立即" => Timing::Now,
                time => Timing::At(check_publication(parse_local_time(time, zone)?, now)?),
            });
        }
        other => return Err(FormProblem::UnknownKey(other.to_owned())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use chrono_tz::Asia::Shanghai;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
    }

    fn texts() -> Texts {
        Texts::load().unwrap()
    }

    #[test]
    fn the_dialogue_asks_for_what_is_missing_in_order() {
        let mut d = Draft::new(DraftKind::Post, Language::Zh);
        assert_eq!(d.next_step(), Step::Title);
        d.title = Some("t".into());
        d.body = Some("b".into());
        assert_eq!(d.next_step(), Step::Category);
        d.category = Some(Category::Fraud);
        d.severity = Some(Severity::Minor);
        d.area = Some(AreaChoice::Citywide);
        assert_eq!(d.next_step(), Step::District);
        d.districts = Some(vec!["chengdong".into()]);
        d.expires_at = Some(Expiry::Never);
        assert_eq!(d.next_step(), Step::Timing);
        d.publish_at = Some(Timing::Now);
        assert_eq!(d.next_step(), Step::Preview);
        assert_eq!(
            Draft::new(DraftKind::Urgent, Language::Zh).publish_at,
            Some(Timing::Now),
            "urgent means now"
        );
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Draft>(&json).unwrap(), d, "every answer survives storage");
        let before_districts = json.replace(",\"districts\":[\"chengdong\"]", "");
        assert_ne!(before_districts, json);
        assert_eq!(serde_json::from_str::<Draft>(&before_districts).unwrap().districts, None);
    }

    #[test]
    fn the_form_reads_districts_by_name_or_alias() {
        let city: Districts = {
            let d = |key: &str, zh: &str, en: &str| crate::domain::District {
                key: DistrictKey::parse(key).unwrap(),
                name_zh: zh.into(),
                name_en: en.into(),
                aliases: vec![],
                boundary: None,
                geocodes: vec![],
            };
            Districts::new(vec![
                d("east", "城东区", "Chengdong District"),
                d("west", "城西区", "Chengxi District"),
            ])
        };
        let form = "title: 道路封闭\n区域：城东区、Chengxi District\n---\n正文";
        let d = parse_form(DraftKind::Post, Language::Zh, form, &texts(), &city, Shanghai, now()).unwrap();
        assert_eq!(d.districts, Some(vec!["east".to_owned(), "west".to_owned()]));
        let d = parse_form(
            DraftKind::Post,
            Language::Zh,
            "district: 全市\n---\nx",
            &texts(),
            &city,
            Shanghai,
            now(),
        );
        assert_eq!(d.unwrap().districts, Some(vec![]));
        let d =
            parse_form(DraftKind::Post, Language::Zh, "title: x\n---\nx", &texts(), &city, Shanghai, now());
        assert_eq!(d.unwrap().districts, None, "asked for afterwards");
        let err = parse_form(
            DraftKind::Post,
            Language::Zh,
            "district: 城北区\n---\nx",
            &texts(),
            &city,
            Shanghai,
            now(),
        );
        assert!(
            matches!(err, Err(DraftError::Form(p)) if p[0].problem == FormProblem::District("城北区".into()))
        );
        let none = parse_form(
            DraftKind::Post,
            Language::Zh,
            "title: x\n---\nx",
            &texts(),
            &Districts::default(),
            Shanghai,
            now(),
        );
        assert_eq!(none.unwrap().districts, Some(vec![]), "a city without districts: the whole city");
    }

    #[test]
    fn the_one_message_form_fills_a_draft() {
        let form = "标题：警惕冒充客服\ncategory: fraud\n级别: Severe\narea: 全市\nexpires: 2026-12-31\n---\n第一段。\n\n第二段。";
        let d =
            parse_form(DraftKind::Post, Language::Zh, form, &texts(), &Districts::default(), Shanghai, now())
                .unwrap();
        assert_eq!(d.title.as_deref(), Some("警惕冒充客服"));
        assert_eq!(d.category, Some(Category::Fraud));
        assert_eq!(d.severity, Some(Severity::Severe));
        assert_eq!(d.area, Some(AreaChoice::Named("全市".into())));
        assert!(matches!(d.expires_at, Some(Expiry::At(_))));
        assert_eq!(d.body.as_deref(), Some("第一段。\n\n第二段。"));
        assert_eq!(d.next_step(), Step::Timing, "no publish line: asked");
    }

    #[test]
    fn a_bad_form_line_is_named() {
        let err = parse_form(
            DraftKind::Post,
            Language::Zh,
            "title: x\nseverity: loud\n\nbody",
            &texts(),
            &Districts::default(),
            Shanghai,
            now(),
        );
        assert!(matches!(err.as_ref().map_err(lines), Err(l) if l == [2]), "{err:?}");
        let err = parse_form(
            DraftKind::Post,
            Language::Zh,
            "just text",
            &texts(),
            &Districts::default(),
            Shanghai,
            now(),
        );
        assert!(matches!(err.as_ref().map_err(lines), Err(l) if l == [1]), "{err:?}");
    }

    fn lines(e: &DraftError) -> Vec<usize> {
        match e {
            DraftError::Form(lines) => lines.iter().map(|l| l.line).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn form_values_are_read_by_their_labels_in_either_language() {
        let form = "标题：交通管制\n分类：交通\n级别：一般\n语言：中文\n\n正文";
        let d =
            parse_form(DraftKind::Post, Language::En, form, &texts(), &Districts::default(), Shanghai, now())
                .unwrap();
        assert_eq!(
            (d.category, d.severity, d.language),
            (Some(Category::Traffic), Some(Severity::Minor), Language::Zh)
        );
        let form = "title: Road closed\ncategory: Public order\nseverity: Not graded\nlanguage: English";
        let d =
            parse_form(DraftKind::Post, Language::Zh, form, &texts(), &Districts::default(), Shanghai, now())
                .unwrap();
        assert_eq!(
            (d.category, d.severity, d.language),
            (Some(Category::PublicOrder), Some(Severity::Unknown), Language::En)
        );
    }

    #[test]
    fn every_bad_line_of_a_form_is_named_at_once() {
        let form = "标题：x\n分类：天气\n级别：很大\n地区：全市\n过期：明天\n颜色：红\n\n正文";
        let err =
            parse_form(DraftKind::Post, Language::Zh, form, &texts(), &Districts::default(), Shanghai, now())
                .unwrap_err();
        let DraftError::Form(problems) = err else { panic!("{err:?}") };
        let got: Vec<(usize, FormProblem)> = problems.into_iter().map(|l| (l.line, l.problem)).collect();
        assert_eq!(
            got,
            [
                (2, FormProblem::Category("天气".into())),
                (3, FormProblem::Severity("很大".into())),
                (5, FormProblem::Time(LocalTimeError::Unreadable("明天".into()))),
                (6, FormProblem::UnknownKey("颜色".into())),
            ]
        );
    }

    #[test]
    fn a_correction_reads_title_then_body() {
        let mut d = Draft::new(DraftKind::Correct(3), Language::En);
        assert_eq!(d.next_step(), Step::Text);
        d.take_text("New title\n\nNew body.\nMore.");
        assert_eq!((d.title.as_deref(), d.body.as_deref()), (Some("New title"), Some("New body.\nMore.")));
        assert_eq!(d.next_step(), Step::Preview);
    }

    #[test]
    fn an_expiry_typed_as_days_or_a_time_stays_within_ten_years() {
        assert_eq!(typed_expiry("7", Shanghai, now()), Ok(now() + Duration::days(7)));
        assert_eq!(typed_expiry(" 3650 ", Shanghai, now()), Ok(now() + Duration::days(3650)));
        assert_eq!(
            typed_expiry("2026-12-31", Shanghai, now()),
            Ok(Utc.with_ymd_and_hms(2026, 12, 30, 16, 0, 0).unwrap())
        );
        for absurd in ["99999999", "9223372036854775808", "99999999999999999999999999", "2999-01-01"] {
            let err = typed_expiry(absurd, Shanghai, now());
            assert!(
                matches!(err, Err(DraftError::Notice(NoticeError::ExpiresTooLate { .. }))),
                "{absurd}: {err:?}"
            );
        }
        for unreadable in ["0", "-5", "+99999-01-01", "７", "1e9", ""] {
            let err = typed_expiry(unreadable, Shanghai, now());
            assert!(
                matches!(err, Err(DraftError::Time(LocalTimeError::Unreadable(_)))),
                "{unreadable}: {err:?}"
            );
        }
    }

    #[test]
    fn a_form_line_with_a_time_out_of_reach_is_named() {
        let err = parse_form(
            DraftKind::Post,
            Language::Zh,
            "title: x\nexpires: 2999-01-01\n\nbody",
            &texts(),
            &Districts::default(),
            Shanghai,
            now(),
        );
        assert!(
            matches!(
                err.as_ref().map_err(|e| match e {
                    DraftError::Form(l) => l.as_slice(),
                    _ => &[],
                }),
                Err([FormLine {
                    line: 2,
                    problem: FormProblem::OutOfReach(NoticeError::ExpiresTooLate { .. })
                }])
            ),
            "{err:?}"
        );
        let err = parse_form(
            DraftKind::Post,
            Language::Zh,
            "发布: 2028-01-01 08:00\n\nbody",
            &texts(),
            &Districts::default(),
            Shanghai,
            now(),
        );
        assert!(
            matches!(
                err.as_ref().map_err(|e| match e {
                    DraftError::Form(l) => l.as_slice(),
                    _ => &[],
                }),
                Err([FormLine {
                    line: 1,
                    problem: FormProblem::OutOfReach(NoticeError::PublishedTooLate { .. })
                }])
            ),
            "{err:?}"
        );
        let ok = parse_form(
            DraftKind::Post,
            Language::Zh,
            "expires: 2036-01-01\npublish: 2027-06-01 08:00",
            &texts(),
            &Districts::default(),
            Shanghai,
            now(),
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn a_publication_time_must_be_within_a_year_and_before_the_expiry() {
        let mut d = Draft::new(DraftKind::Post, Language::Zh);
        let later = now() + Duration::days(60);
        assert_eq!(d.publication_at(later, now()), Ok(later));
        let err = d.publication_at(now() + Duration::days(366), now());
        assert!(matches!(err, Err(NoticeError::PublishedTooLate { .. })), "{err:?}");
        d.expires_at = Some(Expiry::At(now() + Duration::days(30)));
        let err = d.publication_at(later, now());
        assert!(matches!(err, Err(NoticeError::ExpiresBeforePublication { .. })), "{err:?}");
        d.expires_at = Some(Expiry::Never);
        assert_eq!(d.publication_at(later, now()), Ok(later));
    }
}
