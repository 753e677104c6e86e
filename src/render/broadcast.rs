//! What broadcasts look like: alerts, channel posts and digests.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::payload::Payload;
use crate::domain::{Category, Figure, Notice, Tip};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::Callback;
use crate::render::keyboard::{Button, Keyboard, short_label};
use crate::render::split::{Block, MESSAGE_LIMIT, into_messages};
use crate::render::{Style, notice_blocks, severity_marker};

/// At most this many notices are listed in a digest; the rest are counted.
pub const DIGEST_MAX_LISTED: usize = 10;

/// An urgent notice, sent to subscribers at once.
pub fn alert(style: &Style<'_>, notice: &Notice) -> Payload {
    let mut blocks = vec![Block::Markup(style.text("alert.header"))];
    blocks.extend(notice_blocks(style, notice));
    Payload::new(into_messages(blocks, MESSAGE_LIMIT), None)
}

/// An urgent notice for a reader whose language it has no version in: the header and the
/// labels in the reader's language (`style`), one line saying which language the alert
/// is published in, then the notice as written.
pub fn alert_for_other_language(style: &Style<'_>, notice: &Notice) -> Payload {
    let note = format!("alert.only_in_{}", notice.content.language.code());
    let mut blocks = vec![Block::Markup(style.text("alert.header")), Block::Markup(style.text(&note))];
    blocks.extend(notice_blocks(style, notice));
    Payload::new(into_messages(blocks, MESSAGE_LIMIT), None)
}

/// A corrected notice, sent as a reply to the message each recipient got.
pub fn correction(style: &Style<'_>, notice: &Notice) -> Payload {
    let mut blocks = vec![Block::Markup(style.text("follow_up.correction"))];
    blocks.extend(notice_blocks(style, notice));
    Payload::new(into_messages(blocks, MESSAGE_LIMIT), None)
}

/// A withdrawn notice, as a reply to the message each recipient got.
pub fn cancellation(style: &Style<'_>, notice: &Notice) -> Payload {
    let id = notice.id.to_string();
    let text = style.fill(
        "follow_up.cancellation",
        &[("title", notice.content.title.as_str().into()), ("id", (&id).into())],
    );
    Payload::new(vec![text], None)
}

/// A notice as posted in the bureau's channel, with a last line that opens it in the bot
/// (`notice.open_in_bot`) when the style knows the bot.
pub fn channel_post(style: &Style<'_>, notice: &Notice) -> Payload {
    let mut blocks = Vec::new();
    if notice.content.severity.is_urgent() {
        blocks.push(Block::Markup(style.text("alert.header")));
    }
    blocks.extend(notice_blocks(style, notice));
    // Channel members may not have the bot open yet: one tap opens this notice there.
    if style.bot.is_some() {
        let label = style.text("notice.open_in_bot");
        blocks.push(Block::Markup(style.notice_link(notice.id, &label)));
    }
    Payload::new(into_messages(blocks, MESSAGE_LIMIT), None)
}

/// Which digest, and the window it covers.
#[derive(Clone, Copy, Debug)]
pub enum DigestKind {
    Daily { date: NaiveDate },
    Weekly { from: NaiveDate, to: NaiveDate },
}

/// A digest: the notices since the last one, the tip of the day, and for weekly digests
/// the week's figures and the bureau's latest anti-fraud figures as one line
/// (`figures::digest_line`; none when `figures` is empty).
pub fn digest(
    style: &Style<'_>,
    kind: DigestKind,
    notices: &[&Notice],
    week: &[&Notice],
    figures: &[Figure],
    tip: Option<&Tip>,
) -> Payload {
    let date = |d: NaiveDate| d.format(style.texts.template(style.lang, "format.date")).to_string();
    let header = match kind {
        DigestKind::Daily { date: d } => style.fill("digest.daily_header", &[("date", (&date(d)).into())]),
        DigestKind::Weekly { from, to } => {
            style.fill("digest.weekly_header", &[("from", (&date(from)).into()), ("to", (&date(to)).into())])
        }
    };
    let mut blocks = vec![Block::Markup(header)];
    let mut keyboard = Keyboard::new();
    if notices.is_empty() {
        blocks.push(Block::Markup(style.text("digest.nothing_new")));
    } else {
        let mut list = style.fill("digest.new_notices", &[("count", Arg::Number(notices.len() as i64))]);
        for (i, notice) in notices.iter().take(DIGEST_MAX_LISTED).enumerate() {
            list.push(&Html::trusted("\n".into()));
            list.push(&digest_line(style, i + 1, notice));
            let label = format!("{}. {}", i + 1, short_label(notice.content.title.as_str(), 28));
            keyboard = keyboard.row(vec![Button::callback(label, Callback::OpenNotice(notice.id))]);
        }
        if notices.len() > DIGEST_MAX_LISTED {
            list.push(&Html::trusted("\n".into()));
            let more = (notices.len() - DIGEST_MAX_LISTED) as i64;
            list.push(&style.fill("digest.more", &[("count", Arg::Number(more))]));
        }
        blocks.push(Block::Markup(list));
    }
    if matches!(kind, DigestKind::Weekly { .. }) {
        if !week.is_empty() {
            blocks.push(Block::Markup(week_figures(style, week)));
        }
        if let Some(line) = super::figures::digest_line(style.texts, style.lang, figures) {
            blocks.push(Block::Markup(line));
        }
    }
    if let Some(tip) = tip {
        let heading = style.fill("tip.of_the_day", &[("kind", (&style.scam_type(tip.scam_type)).into())]);
        blocks.push(Block::Markup(heading));
        blocks.push(Block::Markup(style.fill("tip.title", &[("title", tip.title.as_str().into())])));
        blocks.push(Block::Text(tip.body.as_str().to_owned()));
    }
    blocks.push(Block::Markup(style.text("digest.footer")));
    Payload::new(into_messages(blocks, MESSAGE_LIMIT), Some(&keyboard))
}

/// One notice of a digest; its title links into the bot when the style knows the bot.
fn digest_line(style: &Style<'_>, number: usize, notice: &Notice) -> Html {
    let date = notice.publish_at.map(|t| style.date(t)).unwrap_or_default();
    let title = style.notice_link(notice.id, &Html::escape(notice.content.title.as_str()));
    style.fill(
        "digest.line",
        &[
            ("number", Arg::Number(number as i64)),
            ("marker", severity_marker(notice.content.severity).into()),
            ("title", Arg::Html(&title)),
            ("date", (&date).into()),
        ],
    )
}

/// "This week: 7 notices (Fraud 5, Traffic 2)".
fn week_figures(style: &Style<'_>, week: &[&Notice]) -> Html {
    let mut by_category: BTreeMap<Category, i64> = BTreeMap::new();
    for notice in week {
        *by_category.entry(notice.content.category).or_default() += 1;
    }
    let separator = style.text("settings.list_separator");
    let mut breakdown = Html::default();
    for (i, (category, count)) in by_category.iter().enumerate() {
        if i > 0 {
            breakdown.push(&separator);
        }
        breakdown.push(&style.fill(
            "digest.category_count",
            &[("category", (&style.category(*category)).into()), ("count", Arg::Number(*count))],
        ));
    }
    style.fill(
        "digest.week_figures",
        &[("total", Arg::Number(week.len() as i64)), ("by_category", (&breakdown).into())],
    )
}

/// The digest window's local dates, for its header.
pub fn digest_kind(weekly: bool, since: DateTime<Utc>, due: DateTime<Utc>, style: &Style<'_>) -> DigestKind {
    let local = |t: DateTime<Utc>| t.with_timezone(&style.zone).date_naive();
    if weekly {
        DigestKind::Weekly { from: local(since), to: local(due) }
    } else {
        DigestKind::Daily { date: local(due) }
    }
}
