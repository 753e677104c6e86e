//! `/indicator` for editors: the bureau's list of phone numbers, sites and accounts that
//! /check answers from. The reason given is shown to citizens who check the value.
//! Listing as fraud or suspicious a value that the official list (`locales/officials.toml`,
//! or the bureau's own `official` entries) names as genuine asks first, naming whose it is.

use serde::{Deserialize, Serialize};

use super::{require, require_for_button};
use crate::bot::handlers::check::why_unreadable;
use crate::bot::handlers::dialogue::{self, Dialogue, Switch};
use crate::bot::handlers::{ButtonResult, Ctx, HandlerResult};
use crate::content::officials;
use crate::domain::{Actor, IndicatorReason, NewIndicator, Permission, Risk, Subject, SubjectError};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::{Callback, DraftId};
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::{OutMessage, Sent};

/// An `/indicator add` waiting for the editor to confirm it: its arguments as typed, read
/// again when confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingListing {
    args: String,
}

/// How many entries `/indicator` shows.
const LATEST: u32 = 10;

pub(in crate::bot::handlers) async fn indicator(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let Some(editor) = require(ctx, Permission::Publish).await? else { return Ok(()) };
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
pub(in crate::bot::handlers) fn read_indicator(args: &str) {
    let (verb, rest) = args.trim().split_once(char::is_whitespace).unwrap_or((args.trim(), ""));
    match verb.to_lowercase().as_str() {
        "add" => drop(parse_add(rest)),
        "remove" | "rm" | "delete" => drop(Subject::parse(rest)),
        _ => {}
    }
}

/// Reads an `add` as [`add`] does, telling the editor what does not fit.
async fn read_add(
    ctx: &Ctx<'_>,
    args: &str,
) -> Result<Option<(Subject, Risk, IndicatorReason)>, super::HandlerError> {
    Ok(Some(match parse_add(args) {
        Ok(read) => read,
        Err(AddUnreadable::Usage) => {
            ctx.reply(ctx.text("indicator.usage")).await?;
            return Ok(None);
        }
        Err(AddUnreadable::Subject(e)) => {
            let reason = why_unreadable(ctx, &e);
            ctx.reply(ctx.fill("indicator.unreadable", &[("reason", Arg::Html(&reason))])).await?;
            return Ok(None);
        }
        Err(AddUnreadable::Reason) => {
            ctx.reply(ctx.text("indicator.need_reason")).await?;
            return Ok(None);
        }
    }))
}

/// Whose genuine number, site or account `subject` is, if the official list names it:
/// the shipped list, or an entry the bureau listed as official.
async fn official_name(ctx: &Ctx<'_>, subject: &Subject) -> Result<Option<String>, super::HandlerError> {
    let (kind, key) = (subject.kind(), subject.key());
    // A site's official domain covers its subdomains (www.icbc.com.cn is ICBC's too).
    let covers = |official: &Subject| {
        official.kind() == kind
            && (official.key() == key
                || (matches!(subject, Subject::Link(_)) && key.ends_with(&format!(".{}", official.key()))))
    };
    if let Some(official) = officials::all().iter().find(|o| covers(&o.subject)) {
        return Ok(Some(ctx.app.texts.listed_reason(ctx.lang, &official.indicator(ctx.lang).reason)));
    }
    let listed = ctx.app.store.indicator(kind, &key).await?;
    Ok(listed.filter(|i| i.risk == Risk::Official).map(|i| ctx.app.texts.listed_reason(ctx.lang, &i.reason)))
}

async fn add(ctx: &Ctx<'_>, by: Actor, args: &str) -> HandlerResult {
    let Some((subject, risk, _)) = read_add(ctx, args).await? else { return Ok(()) };
    if risk != Risk::Official && official_name(ctx, &subject).await?.is_some() {
        let Actor::Telegram(editor) = by else { return Ok(()) };
        if !dialogue::may_start(ctx, editor, Switch::Indicator(format!("add {args}"))).await? {
            return Ok(());
        }
        let pending = PendingListing { args: args.to_owned() };
        let id = dialogue::start(ctx, editor, &Dialogue::Listing(pending.clone())).await?;
        return ask_listing(ctx, id, &pending).await;
    }
    list(ctx, by, args).await
}

/// Asks whether to list the official value of listing `id`, naming whose it is.
pub(in crate::bot::handlers) async fn ask_listing(
    ctx: &Ctx<'_>,
    id: DraftId,
    pending: &PendingListing,
) -> HandlerResult {
    let Ok((subject, risk, reason)) = parse_add(&pending.args) else { return Ok(()) };
    let name = official_name(ctx, &subject).await?.unwrap_or_default();
    let value = subject.to_string();
    let risk_label = ctx.label(&format!("risk.{risk}"));
    let question = ctx.fill(
        "indicator.official_question",
        &[
            ("value", value.as_str().into()),
            ("name", name.as_str().into()),
            ("risk", risk_label.as_str().into()),
            ("reason", reason.as_str().into()),
        ],
    );
    let button =
        |key: &str, confirm| Button::callback(ctx.label(key), Callback::Listing { draft: id, confirm });
    let keyboard = Keyboard::new().row(vec![
        button("indicator.official_confirm_button", true),
        button("indicator.official_cancel_button", false),
    ]);
    ctx.send(OutMessage::with_keyboard(question, keyboard)).await?;
    Ok(())
}

/// The answer to [`ask_listing`]'s question.
pub(in crate::bot::handlers) async fn listing_button(
    ctx: &Ctx<'_>,
    at: Sent,
    id: DraftId,
    confirm: bool,
) -> ButtonResult {
    let editor = match require_for_button(ctx, Permission::Publish).await? {
        Ok(user) => user,
        Err(refusal) => return Ok(Some(refusal)),
    };
    let Some(Dialogue::Listing(pending)) = dialogue::bound(ctx, editor, id).await? else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    dialogue::end(ctx, editor).await?;
    if !confirm {
        ctx.out.edit(at, OutMessage::html(ctx.text("indicator.official_not_listed"))).await?;
        return Ok(None);
    }
    ctx.out.edit(at, OutMessage::html(ctx.text("indicator.official_confirmed"))).await?;
    list(ctx, Actor::Telegram(editor), &pending.args).await?;
    Ok(None)
}

/// Lists what `add` arguments say, and says so.
async fn list(ctx: &Ctx<'_>, by: Actor, args: &str) -> HandlerResult {
    let Some((subject, risk, reason)) = read_add(ctx, args).await? else { return Ok(()) };
    let value = subject.to_string();
    let new = NewIndicator { subject, risk, reason: reason.into(), added_by: by.clone() };
    // Listed and audited in one transaction.
    let (_, created) = ctx.app.store.put_indicator(&new, ctx.now()).await?;
    let risk_label = ctx.label(&format!("risk.{risk}"));
    let key = if created { "indicator.added" } else { "indicator.updated" };
    let shown = ctx.app.texts.listed_reason(ctx.lang, &new.reason);
    ctx.reply(ctx.fill(
        key,
        &[
            ("value", value.as_str().into()),
            ("risk", risk_label.as_str().into()),
            ("reason", shown.as_str().into()),
        ],
    ))
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
            let reason = ctx.app.texts.listed_reason(ctx.lang, &i.reason);
            let line = ctx.fill(
                "indicator.line",
                &[
                    ("risk", risk.as_str().into()),
                    ("value", shown.as_str().into()),
                    ("reason", reason.as_str().into()),
                ],
            );
            text.push(&Html::trusted("\n".into()));
            text.push(&line);
        }
    }
    ctx.reply(text).await?;
    Ok(())
}
