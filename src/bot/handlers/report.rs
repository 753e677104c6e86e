//! `/report`: a citizen tells the bureau about a scam in a short dialogue — what
//! happened, then the number, link or account used (or the scammer's message,
//! forwarded) — checks the summary and sends it. They get a reference number, and are
//! told when a moderator has decided.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::dialogue::{self, Dialogue};
use super::{ButtonResult, Ctx, HandlerResult};
use crate::domain::{ForwardedText, NewReport, ReportStory, ReportedSubject, Subject, TextError};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::{Callback, DraftId, ReportStep};
use crate::render::keyboard::{Button, Keyboard};
use crate::render::split::{Block, MESSAGE_LIMIT, into_messages};
use crate::telegram::outbound::{OutMessage, Sent};

/// How many forwarded messages one report keeps.
const MAX_FORWARDS: usize = 3;
/// How much of a forwarded message the summary and the moderators' card show.
pub(super) const FORWARD_EXCERPT: usize = 300;
/// How many of the values found the summary and the card name.
pub(super) const NAMED_VALUES: usize = 10;

/// What the citizen has told so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReportDraft {
    story: Option<String>,
    /// The messages they forwarded (the scammer's): whom each came from, and its text.
    /// (Drafts saved before several were kept have one, as `forwarded`.)
    #[serde(default, alias = "forwarded", deserialize_with = "one_or_many")]
    forwards: Vec<(String, String)>,
    /// What they typed after the story: numbers, links, accounts, more of what happened.
    details: Vec<String>,
    /// The summary with its Send button has been shown.
    ready: bool,
}

/// Reads the forwarded messages of a draft: a list, or the one (or none) older drafts held.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Forwards {
        Many(Vec<(String, String)>),
        One(Option<(String, String)>),
    }
    Ok(match Forwards::deserialize(d)? {
        Forwards::Many(all) => all,
        Forwards::One(one) => one.into_iter().collect(),
    })
}

impl ReportDraft {
    /// Everything the report says, where numbers and links are looked for.
    fn all_text(&self) -> String {
        let mut text = self.told();
        for (_, forwarded) in &self.forwards {
            text.push('\n');
            text.push_str(forwarded);
        }
        text
    }

    /// The reporter's own words: the story, then what they added, a line each.
    fn told(&self) -> String {
        let mut text = self.story.clone().unwrap_or_default();
        if !self.details.is_empty() {
            text.push_str("\n\n");
            text.push_str(&self.details.join("\n"));
        }
        text
    }

    /// The forwarded messages as one text, each under whom it came from; a long one
    /// keeps its start, where the numbers usually are.
    fn forwarded(&self) -> Option<ForwardedText> {
        if self.forwards.is_empty() {
            return None;
        }
        let all = self
            .forwards
            .iter()
            .map(|(from, text)| format!("{from}: {text}"))
            .collect::<Vec<_>>()
            .join("\n\n");
        ForwardedText::parse(&excerpt(&all, ForwardedText::MAX_CHARS)).ok()
    }

    fn subjects(&self) -> Vec<Subject> {
        Subject::find_all(&self.all_text())
    }
}

pub(super) async fn report(ctx: &Ctx<'_>) -> HandlerResult {
    let Some(user) = ctx.origin.sender.as_ref().filter(|s| !s.anonymous_admin).map(|s| s.id) else {
        return Ok(());
    };
    if !ctx.origin.is_private() {
        ctx.reply(ctx.fill("report.private_only", &[("bot", ctx.bot_username.into())])).await?;
        return Ok(());
    }
    if over_limit(ctx, user).await? {
        return Ok(());
    }
    if !dialogue::may_start(ctx, user, dialogue::Switch::Report).await? {
        return Ok(());
    }
    let id = dialogue::start(ctx, user, &Dialogue::Report(ReportDraft::default())).await?;
    ctx.send(OutMessage::with_keyboard(ctx.text("report.ask_story"), cancel_keyboard(ctx, id))).await?;
    Ok(())
}

/// True (and the user told) when they have sent as many reports as an hour allows.
async fn over_limit(ctx: &Ctx<'_>, user: i64) -> Result<bool, super::HandlerError> {
    let limit = ctx.app.settings.reports_per_hour;
    let recent = ctx.app.store.reports_by_user_since(user, ctx.now() - Duration::hours(1)).await?;
    if recent < u64::from(limit) {
        return Ok(false);
    }
    tracing::info!(user, recent, "report refused: over the hourly limit");
    ctx.reply(ctx.fill("report.limited", &[("count", Arg::Number(i64::from(limit)))])).await?;
    Ok(true)
}

/// A button of report `draft`.
fn step_button(ctx: &Ctx<'_>, key: &str, draft: DraftId, step: ReportStep) -> Button {
    Button::callback(ctx.label(key), Callback::Report { draft, step })
}

fn cancel_keyboard(ctx: &Ctx<'_>, draft: DraftId) -> Keyboard {
    Keyboard::new().row(vec![step_button(ctx, "report.cancel_button", draft, ReportStep::Cancel)])
}

/// A message in the dialogue: the story first, then details; a forwarded message is
/// the scammer's, whenever it comes.
pub(super) async fn take_message(
    ctx: &Ctx<'_>,
    user: i64,
    id: DraftId,
    mut draft: ReportDraft,
    text: &str,
    forwarded_from: Option<&str>,
) -> HandlerResult {
    if let Some(from) = forwarded_from {
        if draft.forwards.len() == MAX_FORWARDS {
            ctx.reply(ctx.fill("report.forwards_full", &[("max", Arg::Number(MAX_FORWARDS as i64))])).await?;
            return Ok(());
        }
        draft.forwards.push((from.to_owned(), text.to_owned()));
    } else if draft.story.is_none() {
        if let Err(e) = ReportStory::parse(text) {
            tracing::debug!(error = %e, "unusable report story");
            let max = Arg::Number(ReportStory::MAX_CHARS as i64);
            ctx.reply(ctx.fill("report.story_unusable", &[("max", max)])).await?;
            return Ok(());
        }
        draft.story = Some(text.trim().to_owned());
    } else {
        draft.details.push(text.trim().to_owned());
        // The story and what is added go to the bureau as one text, checked as one.
        if let Err(e) = ReportStory::parse(&draft.told()) {
            tracing::debug!(error = %e, "unusable report detail");
            let max = Arg::Number(ReportStory::MAX_CHARS as i64);
            let key = if matches!(e, TextError::TooLong { .. }) {
                "report.detail_too_long"
            } else {
                "report.story_unusable"
            };
            ctx.reply(ctx.fill(key, &[("max", max)])).await?;
            return Ok(());
        }
    }
    next_step(ctx, user, id, draft).await
}

/// Asks again for what report `id` waits for (after a pause).
pub(super) async fn resume(ctx: &Ctx<'_>, user: i64, id: DraftId, draft: ReportDraft) -> HandlerResult {
    next_step(ctx, user, id, draft).await
}

/// Asks for what is missing, or shows the summary to send.
async fn next_step(ctx: &Ctx<'_>, user: i64, id: DraftId, mut draft: ReportDraft) -> HandlerResult {
    if draft.story.is_none() {
        let key =
            if draft.forwards.is_empty() { "report.ask_story" } else { "report.ask_story_after_forward" };
        dialogue::save(ctx, user, id, &Dialogue::Report(draft)).await?;
        ctx.send(OutMessage::with_keyboard(ctx.text(key), cancel_keyboard(ctx, id))).await?;
        return Ok(());
    }
    if !draft.ready && draft.forwards.is_empty() && draft.details.is_empty() {
        dialogue::save(ctx, user, id, &Dialogue::Report(draft)).await?;
        let keyboard = Keyboard::new().row(vec![
            step_button(ctx, "report.skip_button", id, ReportStep::Skip),
            step_button(ctx, "report.cancel_button", id, ReportStep::Cancel),
        ]);
        ctx.send(OutMessage::with_keyboard(ctx.text("report.ask_details"), keyboard)).await?;
        return Ok(());
    }
    draft.ready = true;
    let summary = summary(ctx, &draft);
    dialogue::save(ctx, user, id, &Dialogue::Report(draft)).await?;
    let keyboard = Keyboard::new().row(vec![
        step_button(ctx, "report.send_button", id, ReportStep::Send),
        step_button(ctx, "report.cancel_button", id, ReportStep::Cancel),
    ]);
    ctx.send_parts(summary, keyboard).await?;
    Ok(())
}

/// The report as it will be sent, and the question: as many messages as it takes (a
/// long story in emoji is longer than one), the question last.
fn summary(ctx: &Ctx<'_>, draft: &ReportDraft) -> Vec<Html> {
    let mut blocks = vec![Block::Markup(ctx.text("report.summary_header"))];
    blocks.push(Block::Text(draft.story.clone().unwrap_or_default()));
    for detail in &draft.details {
        let line = ctx.fill("report.summary_detail", &[("text", detail.as_str().into())]);
        blocks.push(Block::Text(crate::html::to_plain(line.as_str())));
    }
    for (from, forwarded) in &draft.forwards {
        // A sender's name as Telegram shows it, kept short.
        let (from, text) = (excerpt(from, 64), excerpt(forwarded, FORWARD_EXCERPT));
        blocks.push(Block::Markup(ctx.fill(
            "report.summary_forwarded",
            &[("from", from.as_str().into()), ("text", text.as_str().into())],
        )));
    }
    let found: Vec<String> = draft.subjects().iter().map(ToString::to_string).collect();
    blocks.push(Block::Markup(if found.is_empty() {
        ctx.text("report.summary_nothing_found")
    } else {
        ctx.fill("report.summary_found", &[("list", brief_list(ctx, &found).as_str().into())])
    }));
    blocks.push(Block::Markup(ctx.text("report.summary_question")));
    into_messages(blocks, MESSAGE_LIMIT)
}

/// `items` joined as the language lists things, the first [`NAMED_VALUES`] of them and
/// how many more.
/// A long value (a made-up domain can run to hundreds of letters) is cut short.
pub(super) fn brief_list(ctx: &Ctx<'_>, items: &[String]) -> String {
    let separator = crate::html::to_plain(ctx.text("report.list_separator").as_str());
    let mut list =
        items.iter().take(NAMED_VALUES).map(|v| excerpt(v, 64)).collect::<Vec<_>>().join(&separator);
    if items.len() > NAMED_VALUES {
        let more = Arg::Number((items.len() - NAMED_VALUES) as i64);
        list.push_str(&crate::html::to_plain(ctx.fill("report.list_more", &[("count", more)]).as_str()));
    }
    list
}

/// The start of `text`, at most `max` characters with the ellipsis.
pub(super) fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// A button of report `id`; a button of any other (one cancelled, sent or replaced)
/// has expired and does nothing.
pub(super) async fn button(ctx: &Ctx<'_>, at: Sent, id: DraftId, step: ReportStep) -> ButtonResult {
    let Some(user) = ctx.origin.sender.as_ref().map(|s| s.id) else { return Ok(None) };
    let Some(Dialogue::Report(draft)) = dialogue::bound(ctx, user, id).await? else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    match step {
        ReportStep::Cancel => {
            dialogue::end(ctx, user).await?;
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.cancelled"))).await?;
        }
        ReportStep::Skip => {
            ctx.out.edit(at, OutMessage::html(ctx.text("report.ask_details"))).await?;
            next_step(ctx, user, id, ReportDraft { ready: true, ..draft }).await?;
        }
        ReportStep::Send => send(ctx, at, user, draft).await?,
    }
    Ok(None)
}

async fn send(ctx: &Ctx<'_>, at: Sent, user: i64, draft: ReportDraft) -> HandlerResult {
    if !draft.ready {
        return Ok(());
    }
    if over_limit(ctx, user).await? {
        dialogue::end(ctx, user).await?;
        return Ok(());
    }
    let story = match ReportStory::parse(&draft.told()) {
        Ok(story) => story,
        // Checked as each part came; a draft from an older version may still not fit.
        Err(_) => {
            let max = Arg::Number(ReportStory::MAX_CHARS as i64);
            ctx.reply(ctx.fill("report.story_unusable", &[("max", max)])).await?;
            return Ok(());
        }
    };
    let new = NewReport {
        chat: ctx.origin.target.chat,
        user_id: user,
        language: ctx.lang,
        story,
        forwarded: draft.forwarded(),
        subjects: draft.subjects().iter().map(ReportedSubject::from).collect(),
        created_at: ctx.now(),
    };
    let stored = ctx.app.store.submit_report(&new).await?;
    dialogue::end(ctx, user).await?;
    // Never the story itself in the log: it is personal.
    tracing::info!(report = %stored.id, subjects = stored.subjects.len(), "report received");
    let reference = stored.id.to_string();
    ctx.out
        .edit(at, OutMessage::html(ctx.fill("report.sent", &[("reference", reference.as_str().into())])))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ReportDraft;

    #[test]
    fn drafts_saved_when_one_forward_was_kept_still_read() {
        let old = r#"{"story":"s","forwarded":["Bank","call 95588"],"details":[],"ready":true}"#;
        let draft: ReportDraft = serde_json::from_str(old).unwrap();
        assert_eq!(draft.forwards, [("Bank".to_owned(), "call 95588".to_owned())]);
        let none = r#"{"story":null,"forwarded":null,"details":[],"ready":false}"#;
        assert!(serde_json::from_str::<ReportDraft>(none).unwrap().forwards.is_empty());
        let saved = serde_json::to_string(&draft).unwrap();
        assert_eq!(serde_json::from_str::<ReportDraft>(&saved).unwrap(), draft);
    }
}
