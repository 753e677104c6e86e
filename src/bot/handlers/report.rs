//! `/report`: a citizen tells the bureau about a scam in a short dialogue — what
//! happened, then the number, link or account used (or the scammer's message,
//! forwarded) — checks the summary and sends it. They get a reference number, and are
//! told when a moderator has decided.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::dialogue::{self, Dialogue};
use super::{ButtonResult, Ctx, HandlerResult};
use crate::bot::callback::{Callback, ReportStep};
use crate::bot::keyboard::{Button, Keyboard};
use crate::bot::outbound::{OutMessage, Sent};
use crate::domain::{ForwardedText, NewReport, ReportStory, ReportedSubject, Subject};
use crate::html::Html;
use crate::i18n::Arg;

/// What the citizen has told so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReportDraft {
    story: Option<String>,
    /// The text of a message they forwarded, and whom it came from.
    forwarded: Option<(String, String)>,
    /// Numbers, links and accounts they typed after the story.
    details: Vec<String>,
    /// The summary with its Send button has been shown.
    ready: bool,
}

impl ReportDraft {
    /// Everything the report says, where numbers and links are looked for.
    fn all_text(&self) -> String {
        let mut text = self.story.clone().unwrap_or_default();
        for part in self.details.iter().chain(self.forwarded.iter().map(|(_, t)| t)) {
            text.push('\n');
            text.push_str(part);
        }
        text
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
    dialogue::save(ctx, user, &Dialogue::Report(ReportDraft::default())).await?;
    ctx.send(OutMessage::with_keyboard(ctx.text("report.ask_story"), cancel_keyboard(ctx))).await?;
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

fn cancel_keyboard(ctx: &Ctx<'_>) -> Keyboard {
    Keyboard::new()
        .row(vec![Button::callback(ctx.label("report.cancel_button"), Callback::Report(ReportStep::Cancel))])
}

/// A message in the dialogue: the story first, then details; a forwarded message is
/// the scammer's, whenever it comes.
pub(super) async fn take_message(
    ctx: &Ctx<'_>,
    user: i64,
    mut draft: ReportDraft,
    text: &str,
    forwarded_from: Option<&str>,
) -> HandlerResult {
    if let Some(from) = forwarded_from {
        draft.forwarded = Some((from.to_owned(), text.to_owned()));
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
    }
    next_step(ctx, user, draft).await
}

/// Asks for what is missing, or shows the summary to send.
async fn next_step(ctx: &Ctx<'_>, user: i64, mut draft: ReportDraft) -> HandlerResult {
    if draft.story.is_none() {
        let key =
            if draft.forwarded.is_some() { "report.ask_story_after_forward" } else { "report.ask_story" };
        dialogue::save(ctx, user, &Dialogue::Report(draft)).await?;
        ctx.send(OutMessage::with_keyboard(ctx.text(key), cancel_keyboard(ctx))).await?;
        return Ok(());
    }
    if !draft.ready && draft.forwarded.is_none() && draft.details.is_empty() {
        dialogue::save(ctx, user, &Dialogue::Report(draft)).await?;
        let keyboard = Keyboard::new().row(vec![
            Button::callback(ctx.label("report.skip_button"), Callback::Report(ReportStep::Skip)),
            Button::callback(ctx.label("report.cancel_button"), Callback::Report(ReportStep::Cancel)),
        ]);
        ctx.send(OutMessage::with_keyboard(ctx.text("report.ask_details"), keyboard)).await?;
        return Ok(());
    }
    draft.ready = true;
    let summary = summary(ctx, &draft);
    dialogue::save(ctx, user, &Dialogue::Report(draft)).await?;
    let keyboard = Keyboard::new().row(vec![
        Button::callback(ctx.label("report.send_button"), Callback::Report(ReportStep::Send)),
        Button::callback(ctx.label("report.cancel_button"), Callback::Report(ReportStep::Cancel)),
    ]);
    ctx.send(OutMessage::with_keyboard(summary, keyboard)).await?;
    Ok(())
}

/// The report as it will be sent, and the question.
fn summary(ctx: &Ctx<'_>, draft: &ReportDraft) -> Html {
    let story = draft.story.as_deref().unwrap_or_default();
    let mut text = ctx.fill("report.summary", &[("story", story.into())]);
    if let Some((from, forwarded)) = &draft.forwarded {
        let excerpt = excerpt(forwarded, 300);
        text.push(&Html::trusted("\n".into()));
        text.push(&ctx.fill(
            "report.summary_forwarded",
            &[("from", from.as_str().into()), ("text", excerpt.as_str().into())],
        ));
    }
    for detail in &draft.details {
        text.push(&Html::trusted("\n".into()));
        text.push(&ctx.fill("report.summary_detail", &[("text", detail.as_str().into())]));
    }
    let found = draft.subjects();
    text.push(&Html::trusted("\n\n".into()));
    if found.is_empty() {
        text.push(&ctx.text("report.summary_nothing_found"));
    } else {
        let list = found.iter().map(ToString::to_string).collect::<Vec<_>>().join("、");
        text.push(&ctx.fill("report.summary_found", &[("list", list.as_str().into())]));
    }
    text.push(&Html::trusted("\n\n".into()));
    text.push(&ctx.text("report.summary_question"));
    text
}

fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

pub(super) async fn button(ctx: &Ctx<'_>, at: Sent, step: ReportStep) -> ButtonResult {
    let Some(user) = ctx.origin.sender.as_ref().map(|s| s.id) else { return Ok(None) };
    let Some(Dialogue::Report(draft)) = dialogue::load(ctx, user).await? else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    match step {
        ReportStep::Cancel => {
            dialogue::end(ctx, user).await?;
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.cancelled"))).await?;
        }
        ReportStep::Skip => {
            ctx.out.edit(at, OutMessage::html(ctx.text("report.ask_details"))).await?;
            next_step(ctx, user, ReportDraft { ready: true, ..draft }).await?;
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
    let Some(story) = draft.story.as_deref().and_then(|s| ReportStory::parse(s).ok()) else {
        dialogue::end(ctx, user).await?;
        return Ok(());
    };
    // A forwarded message longer than a report keeps its start: the numbers are near it.
    let forwarded = draft.forwarded.as_ref().and_then(|(from, text)| {
        ForwardedText::parse(&excerpt(&format!("{from}: {text}"), ForwardedText::MAX_CHARS)).ok()
    });
    let new = NewReport {
        chat: ctx.origin.target.chat,
        user_id: user,
        language: ctx.lang,
        story,
        forwarded,
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
