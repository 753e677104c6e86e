//! `/indicator` for editors: the bureau's list of phone numbers, sites and accounts that
//! /check answers from.

use super::require;
use crate::bot::handlers::check::why_unreadable;
use crate::bot::handlers::{Ctx, HandlerResult};
use crate::domain::{Actor, AuditAction, AuditEntry, IndicatorReason, NewIndicator, Risk, Role, Subject};
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

async fn add(ctx: &Ctx<'_>, by: Actor, args: &str) -> HandlerResult {
    let words: Vec<&str> = args.split_whitespace().collect();
    let Some(at) = words.iter().position(|w| risk_word(w).is_some()) else {
        ctx.reply(ctx.text("indicator.usage")).await?;
        return Ok(());
    };
    let risk = risk_word(words[at]).unwrap_or(Risk::Suspicious);
    let subject = match Subject::parse(&words[..at].join(" ")) {
        Ok(subject) => subject,
        Err(e) => {
            let reason = why_unreadable(ctx, &e);
            ctx.reply(ctx.fill("indicator.unreadable", &[("reason", Arg::Html(&reason))])).await?;
            return Ok(());
        }
    };
    let Ok(reason) = IndicatorReason::parse(&words[at + 1..].join(" ")) else {
        ctx.reply(ctx.text("indicator.need_reason")).await?;
        return Ok(());
    };
    let value = subject.to_string();
    let new = NewIndicator { subject, risk, reason, added_by: by.clone() };
    let (stored, created) = ctx.app.store.put_indicator(&new, ctx.now()).await?;
    let entry = AuditEntry {
        at: ctx.now(),
        actor: by,
        action: AuditAction::Listed,
        subject: format!("{} {}", stored.kind, stored.value),
        detail: format!("{}: {}", stored.risk, stored.reason.as_str()),
    };
    ctx.app.store.record_audit(&entry).await?;
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
    let removed = ctx.app.store.remove_indicator(subject.kind(), &subject.key()).await?;
    if removed {
        let entry = AuditEntry {
            at: ctx.now(),
            actor: by,
            action: AuditAction::Unlisted,
            subject: format!("{} {}", subject.kind(), subject.key()),
            detail: String::new(),
        };
        ctx.app.store.record_audit(&entry).await?;
    }
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
