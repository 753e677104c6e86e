//! How notices, tips and settings look in a chat, in one language and time zone.

pub mod broadcast;
pub mod callback;
pub mod figures;
pub mod keyboard;
pub mod link;
pub mod payload;
pub mod split;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{Category, Language, Notice, NoticeId, ScamType, Severity, Tip};
use crate::html::Html;
use crate::i18n::{Arg, Texts};
use split::{Block, MESSAGE_LIMIT, into_messages};

/// The texts of one language, with times shown in one zone.
#[derive(Clone, Copy, Debug)]
pub struct Style<'a> {
    pub texts: &'a Texts,
    pub lang: Language,
    pub zone: Tz,
    /// The bot's @username without the @, when known: notices' titles and numbers then
    /// link into the bot (`https://t.me/<bot>?start=n<id>`, [`link`]). The chat handlers
    /// know it from `getMe`; the scheduler from `bot.username`, learned the same way when
    /// `pingan run` starts.
    pub bot: Option<&'a str>,
}

impl<'a> Style<'a> {
    pub fn new(texts: &'a Texts, lang: Language, zone: Tz) -> Style<'a> {
        Style { texts, lang, zone, bot: None }
    }

    /// The same style, with deep links to the bot `bot` (its @username without the @).
    pub fn with_bot(self, bot: Option<&'a str>) -> Style<'a> {
        Style { bot: bot.filter(|b| !b.is_empty()), ..self }
    }

    /// `inner` as a link that opens notice `id` in the bot, when the bot is known.
    pub fn notice_link(&self, id: NoticeId, inner: &Html) -> Html {
        link::linked(self.bot, link::StartPayload::Notice(id), inner)
    }

    pub fn text(&self, key: &str) -> Html {
        self.texts.get(self.lang, key)
    }

    pub fn fill(&self, key: &str, args: &[(&str, Arg<'_>)]) -> Html {
        self.texts.fill(self.lang, key, args)
    }

    /// A label as plain text, for buttons.
    pub fn label(&self, key: &str) -> String {
        crate::html::to_plain(self.texts.template(self.lang, key))
    }

    pub fn date(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.zone).format(self.texts.template(self.lang, "format.date")).to_string()
    }

    pub fn date_time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.zone).format(self.texts.template(self.lang, "format.date_time")).to_string()
    }

    pub fn category(&self, c: Category) -> String {
        self.label(&format!("category.{}", c.as_str()))
    }

    pub fn severity(&self, s: Severity) -> String {
        self.label(&format!("severity.{}", s.as_str()))
    }

    pub fn scam_type(&self, t: ScamType) -> String {
        self.label(&format!("scam.{}", t.as_str()))
    }
}

/// The "Share" button under a tip or notice card (`share.button`): it opens the chat
/// picker, and in the chosen chat types `@<bot> <query>`, whose inline answer offers the
/// card's item first ([`link::SharedItem::query`], or a scam type's name for a type's tips).
pub fn share_button(style: &Style<'_>, query: String) -> keyboard::Button {
    keyboard::Button::switch_inline(style.label("share.button"), query)
}

/// A marker a reader sees before reading a word: red for the most severe.
pub fn severity_marker(severity: Severity) -> &'static str {
    match severity {
        Severity::Extreme => "🔴",
        Severity::Severe => "🟠",
        Severity::Moderate => "🟡",
        Severity::Minor => "🔵",
        Severity::Unknown => "⚪",
    }
}

/// A notice as one entry of a list: number, marker, title (a link into the bot when the
/// style knows the bot), then date and area.
pub fn notice_line(style: &Style<'_>, number: usize, notice: &Notice) -> Html {
    let c = &notice.content;
    let date = notice.publish_at.map(|t| style.date(t)).unwrap_or_default();
    let area =
        c.area.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_else(|| style.label("notice.citywide"));
    let title = style.notice_link(notice.id, &Html::escape(c.title.as_str()));
    style.fill(
        "notice.line",
        &[
            ("number", Arg::Number(number as i64)),
            ("marker", severity_marker(c.severity).into()),
            ("title", Arg::Html(&title)),
            ("date", (&date).into()),
            ("area", (&area).into()),
        ],
    )
}

/// A tip as one entry of a list.
pub fn tip_line(style: &Style<'_>, number: usize, tip: &Tip) -> Html {
    let kind = style.scam_type(tip.scam_type);
    style.fill(
        "tip.line",
        &[
            ("number", Arg::Number(number as i64)),
            ("title", tip.title.as_str().into()),
            ("kind", (&kind).into()),
        ],
    )
}

/// A whole notice, as one or more messages.
pub fn notice_messages(style: &Style<'_>, notice: &Notice) -> Vec<Html> {
    into_messages(notice_blocks(style, notice), MESSAGE_LIMIT)
}

/// A whole notice as blocks: header, body, footer (whose number links into the bot when
/// the style knows the bot).
pub fn notice_blocks(style: &Style<'_>, notice: &Notice) -> Vec<Block> {
    let c = &notice.content;
    let date = notice.publish_at.map(|t| style.date_time(t)).unwrap_or_default();
    let area =
        c.area.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_else(|| style.label("notice.citywide"));
    let header = style.fill(
        "notice.header",
        &[
            ("marker", severity_marker(c.severity).into()),
            ("title", c.title.as_str().into()),
            ("severity", (&style.severity(c.severity)).into()),
            ("category", (&style.category(c.category)).into()),
            ("area", (&area).into()),
            ("date", (&date).into()),
        ],
    );
    let mut blocks = vec![Block::Markup(header), Block::Text(c.body.as_str().to_owned())];
    // The number links back to the notice in the bot, so a forwarded card leads there.
    let id = style.notice_link(notice.id, &Html::escape(&notice.id.0.to_string()));
    let footer = match &c.source {
        Some(source) => {
            style.fill("notice.footer_source", &[("source", source.as_str().into()), ("id", Arg::Html(&id))])
        }
        None => style.fill("notice.footer", &[("id", Arg::Html(&id))]),
    };
    blocks.push(Block::Markup(footer));
    blocks
}

/// A whole tip, as one or more messages.
pub fn tip_messages(style: &Style<'_>, heading_key: &str, tip: &Tip) -> Vec<Html> {
    let heading = style.fill(heading_key, &[("kind", (&style.scam_type(tip.scam_type)).into())]);
    let title = style.fill("tip.title", &[("title", tip.title.as_str().into())]);
    let blocks = vec![
        Block::Markup(heading),
        Block::Markup(title),
        Block::Text(tip.body.as_str().to_owned()),
        Block::Markup(style.text("tip.footer")),
    ];
    into_messages(blocks, MESSAGE_LIMIT)
}
