//! `/reports` for moderators: citizens' reports waiting for a decision, each with
//! buttons to approve (and list what it names as used in fraud) or reject. The reporter
//! is told the outcome.

use super::{require, require_for_button};
use crate::bot::handlers::{ButtonResult, Ctx, HandlerResult, report};
use crate::bot::incoming::Target;
use crate::content::officials;
use crate::domain::{
    Actor, Decided, ListedReason, NewIndicator, Permission, Report, ReportDecision, ReportId, ReportStatus,
    Risk,
};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::{Callback, Decision};
use crate::render::keyboard::{Button, Keyboard};
use crate::render::split::{Block, MESSAGE_LIMIT, into_messages};
use crate::telegram::outbound::{OutMessage, Sent};

/// How many reports `/reports` shows at once.
const PAGE: u32 = 5;

pub(in crate::bot::handlers) async fn reports(ctx: &Ctx<'_>) -> HandlerResult {
    if require(ctx, Permission::Moderate).await?.is_none() {
        return Ok(());
    }
    let waiting = ctx.app.store.count_pending_reports().await?;
    if waiting == 0 {
        ctx.reply(ctx.text("moderation.none")).await?;
        return Ok(());
    }
    ctx.reply(ctx.fill("moderation.header", &[("count", Arg::Number(waiting as i64))])).await?;
    for report in ctx.app.store.pending_reports(PAGE, 0).await? {
        let keyboard = Keyboard::new().row(vec![
            button(ctx, "moderation.approve_button", report.id, Decision::Approve),
            button(ctx, "moderation.list_button", report.id, Decision::ApproveAndList),
            button(ctx, "moderation.reject_button", report.id, Decision::Reject),
        ]);
        // One report that cannot be shown must not hide the ones after it.
        if let Err(e) = ctx.send_parts(card(ctx, &report), keyboard).await {
            tracing::warn!(report = %report.id, error = %e, "could not show a report to a moderator");
        }
    }
    Ok(())
}

fn button(ctx: &Ctx<'_>, label: &str, id: ReportId, decision: Decision) -> Button {
    Button::callback(ctx.label(label), Callback::Moderate { id, decision })
}

/// The first line of a report as moderators see it: reference, time and language.
fn card_header(ctx: &Ctx<'_>, report: &Report) -> Html {
    let reference = report.id.to_string();
    let when = ctx.style().date_time(report.created_at);
    let language = ctx.label(&crate::i18n::language_key(report.language));
    ctx.fill(
        "moderation.card_header",
        &[
            ("reference", reference.as_str().into()),
            ("time", when.as_str().into()),
            ("language", language.as_str().into()),
        ],
    )
}

/// A report as moderators see it, in as many messages as it takes; the buttons go
/// under the last.
fn card(ctx: &Ctx<'_>, report: &Report) -> Vec<Html> {
    let mut blocks =
        vec![Block::Markup(card_header(ctx, report)), Block::Text(report.story.as_str().to_owned())];
    if let Some(forwarded) = &report.forwarded {
        // Three forwards' worth.
        let excerpt = report::excerpt(forwarded.as_str(), 3 * report::FORWARD_EXCERPT);
        let line = ctx.fill("moderation.card_forwarded", &[("text", excerpt.as_str().into())]);
        blocks.push(Block::Text(crate::html::to_plain(line.as_str())));
    }
    blocks.push(Block::Markup(if report.subjects.is_empty() {
        ctx.text("moderation.card_nothing_found")
    } else {
        let shown: Vec<String> = report.subjects.iter().map(|s| s.shown.clone()).collect();
        let list = report::brief_list(ctx, &shown);
        ctx.fill("moderation.card_found", &[("list", list.as_str().into())])
    }));
    into_messages(blocks, MESSAGE_LIMIT)
}

pub(in crate::bot::handlers) async fn moderate(
    ctx: &Ctx<'_>,
    at: Sent,
    id: ReportId,
    decision: Decision,
) -> ButtonResult {
    let moderator = match require_for_button(ctx, Permission::Moderate).await? {
        Ok(user) => Actor::Telegram(user),
        Err(refusal) => return Ok(Some(refusal)),
    };
    let asked = match decision {
        Decision::Approve => ReportDecision::Approve { list: Vec::new() },
        Decision::ApproveAndList => {
            // The report's values do not change once it is sent: read them first.
            let Some(report) = ctx.app.store.report(id).await? else {
                return Ok(Some(ctx.label("moderation.already_decided")));
            };
            ReportDecision::Approve { list: to_list(&report, &moderator) }
        }
        Decision::Reject => ReportDecision::Reject,
    };
    let Some(Decided { report, listed }) =
        ctx.app.store.decide_report(id, &asked, &moderator, ctx.now()).await?
    else {
        return Ok(Some(ctx.label("moderation.already_decided")));
    };

    let told = tell_reporter(ctx, &report).await;
    // The message with the buttons becomes the decision (the story, if it took more
    // messages, stays above it).
    let mut text = card_header(ctx, &report);
    let mut outcome = match decision {
        Decision::Approve => ctx.text("moderation.approved"),
        Decision::ApproveAndList => {
            ctx.fill("moderation.approved_listed", &[("count", Arg::Number(listed.len() as i64))])
        }
        Decision::Reject => ctx.text("moderation.rejected"),
    };
    let left_alone = report.subjects.len().saturating_sub(listed.len());
    if decision == Decision::ApproveAndList && left_alone > 0 {
        outcome.push(&Html::trusted(" ".into()));
        outcome.push(&ctx.fill("moderation.left_alone", &[("count", Arg::Number(left_alone as i64))]));
    }
    for line in
        [outcome, ctx.text(if told { "moderation.reporter_told" } else { "moderation.reporter_not_told" })]
    {
        text.push(&Html::trusted("\n".into()));
        text.push(&line);
    }
    ctx.out.edit(at, OutMessage::html(text)).await?;
    Ok(None)
}

/// The entries "confirm and list" asks for: every value the report names as used in
/// fraud, except the genuine numbers and sites Pingan ships (a story that says "then I
/// called 96110" must not list 96110). Values the list already holds are left as
/// editors wrote them: the store adds only new ones. The reason is kept as data (the
/// report's reference) and written in each reader's language when shown.
fn to_list(report: &Report, moderator: &Actor) -> Vec<NewIndicator> {
    let reason = ListedReason::ConfirmedReport(report.id);
    report
        .subjects
        .iter()
        .filter_map(|s| s.subject())
        .filter(|subject| !officials::all().iter().any(|o| &o.subject == subject))
        .map(|subject| NewIndicator {
            subject,
            risk: Risk::Fraud,
            reason: reason.clone(),
            added_by: moderator.clone(),
        })
        .collect()
}

/// Tells the reporter the outcome, in their language. False if they cannot be reached
/// (they sent /forget, or blocked the bot).
async fn tell_reporter(ctx: &Ctx<'_>, report: &Report) -> bool {
    let Some(chat) = report.chat else { return false };
    let key = if report.status == ReportStatus::Approved {
        "report.outcome_approved"
    } else {
        "report.outcome_rejected"
    };
    let reference = report.id.to_string();
    let text = ctx.app.texts.fill(report.language, key, &[("reference", reference.as_str().into())]);
    match ctx.out.send(Target { chat, thread_id: None }, OutMessage::html(text)).await {
        Ok(_) => true,
        Err(e) => {
            tracing::info!(report = %report.id, error = %e, "could not tell a reporter the outcome");
            false
        }
    }
}
