//! `/indicator` for editors: the bureau's list of phone numbers, sites and accounts that
//! /check answers from.

use super::require;
use crate::bot::handlers::check::why_unreadable;
use crate::bot::handlers::{Ctx, HandlerResult};
use crate::domain::{Actor, IndicatorReason, NewIndicator, Risk, Role, Subject, SubjectError};
use crate::html::Html;
use crate::i18n::Arg;

/// How many entries `/indicator` shows.
const LATEST: u32 = 10;

pub(in crate::bot::handlers) async fn indicator(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let Some(editor) = require(ctx, Role::may_publish).await? else { return Ok(()) };
    let (verb, rest) = args.trim().split_once(char::is_whitespace).unwrap_or((args.trim(), ""));
    match verb.to_lowercase().as_str() {
        "add" => add(ctx, Actor::Telegram(editor), rest).await,
        "remove" | "rm" | "delete" => remove(ctx, Actor::Telegram(editor), rest).await,
        _ => overview(ctx).await,
    }
}

/// The risk word in an `add`, in English or Chinese.
fn risk_word(word: &str) -> Option<Risk> {
    match word {
        "涉诈" => Some(Risk::Fraud),
        "可疑" => Some(Risk::Suspicious),
        "官方" => Some(Risk::Official),
        other => other.parse().ok(),
    }
}

/// Why an `add` could not be read; each has its own answer.
enum AddUnreadable {
    /// No risk word, so no way to tell where the subject ends.
    Usage,
    Subject(SubjectError),
    Reason,
}

/// `add <number, link or account> <risk> <reason…>`: the subject is everything before the
/// first risk word.
fn parse_add(args: &str) -> Result<(Subject, Risk, IndicatorReason), AddUnreadable> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (at, risk) =
        words.iter().enumerate().find_map(|(i, w)| Some((i, risk_word(w)?))).ok_or(AddUnreadable::Usage)?;
    let subject = Subject::parse(&words[..at].join(" ")).map_err(AddUnreadable::Subject)?;
    let reason = IndicatorReason::parse(&words[at + 1..].join(" ")).map_err(|_| AddUnreadable::Reason)?;
    Ok((subject, risk, reason))
}

/// Reads `/indicator` arguments as the handler does and keeps nothing; for the fuzz targets.
#[allow(dead_code, reason = "the fuzz targets (src/fuzz_targets.rs) are not in this tree yet")]
pub(in crate::bot::handlers) fn read_indicator(args: &str) {
    let (verb, rest) = args.trim().split_once(char::is_whitespace).unwrap_or((args.trim(), ""));
    match verb.to_lowercase().as_str() {
        "add" => drop(parse_add(rest)),
        "remove" | "rm" | "delete" => drop(Subject::parse(rest)),
        _ => {}
    }
}

async fn add(ctx: &Ctx<'_>, by: Actor, args: &str) -> HandlerResult {
    let (subject, risk, reason) = match parse_add(args) {
        Ok(read) => read,
        Err(AddUnreadable::Usage) => {
            ctx.reply(ctx.text("indicator.usage")).await?;
            return Ok(());
        }
        Err(AddUnreadable::Subject(e)) => {
            let reason = why_unreadable(ctx, &e);
            ctx.reply(ctx.fill("indicator.unreadable", &[("reason", Arg::Html(&reason))])).await?;
            return Ok(());
        }
        Err(AddUnreadable::Reason) => {
            ctx.reply(ctx.text("indicator.need_reason")).await?;
            return Ok(());
        }
    };
    let value = subject.to_string();
    let new = NewIndicator { subject, risk, reason, added_by: by.clone() };
    // Listed and audited in one transaction.
    let (_, created) = ctx.app.store.put_indicator(&new, ctx.now()).await?;
    let risk_label = ctx.label(&format!("risk.{risk}"));
    let key = if created { "indicator.added" } else { "indicator.updated" };
    ctx.reply(ctx.fill(key, &[("value", value.as_str().into()), ("risk", risk_label.as_str().into())]))
        .await?;
    Ok(())
}

async fn remove(ctx: &Ctx<'_>, by: Actor, args: &str) -> HandlerResult {
    let subject = match Subject::parse(args) {
        Ok(subject) => subject,
        Err(e) => {
            let reason = why_unreadable(ctx, &e);
            ctx.reply(ctx.fill("indicator.unreadable", &[("reason", Arg::Html(&reason))])).await?;
            return Ok(());
        }
    };
    let value = subject.to_string();
    let removed = ctx.app.store.remove_indicator(subject.kind(), &subject.key(), &by, ctx.now()).await?;
    let key = if removed { "indicator.removed" } else { "indicator.not_listed" };
    ctx.reply(ctx.fill(key, &[("value", value.as_str().into())])).await?;
    Ok(())
}

async fn overview(ctx: &Ctx<'_>) -> HandlerResult {
    let mut text = ctx.text("indicator.usage");
    let latest = ctx.app.store.indicators(None, LATEST, 0).await?;
    text.push(&Html::trusted("\n\n".into()));
    if latest.is_empty() {
        text.push(&ctx.text("indicator.empty"));
    } else {
        text.push(&ctx.text("indicator.latest"));
        for i in latest {
            let shown = Subject::of_kind(i.kind, &i.value).map(|s| s.to_string()).unwrap_or(i.value.clone());
            let risk = ctx.label(&format!("risk.{}", i.risk));
            let line = ctx.fill(
                "indicator.line",
                &[
                    ("risk", risk.as_str().into()),
                    ("value", shown.as_str().into()),
                    ("reason", i.reason.as_str().into()),
                ],
            );
            text.push(&Html::trusted("\n".into()));
            text.push(&line);
        }
    }
    ctx.reply(text).await?;
    Ok(())
}
