//! `/check <phone|link|account>`: what the bureau knows of it, and what to do; also the
//! numbers, links and accounts of a message typed or forwarded to Pingan.

use super::{Ctx, HandlerError, HandlerResult};
use crate::checking;
use crate::domain::check::{AccountError, Found, LinkError, PhoneError, PhoneKind, ScriptNote};
use crate::domain::{IndicatorKind, Language, PhoneNumber, Subject, SubjectError, Verdict};
use crate::html::Html;
use crate::i18n::Arg;

pub(super) async fn check(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let found = match Subject::read_check(args) {
        Ok(found) if found.is_empty() => {
            ctx.reply(ctx.text("check.usage")).await?;
            return Ok(());
        }
        Ok(found) => found,
        Err(e) => {
            let reason = why_unreadable(ctx, &e);
            ctx.reply(ctx.fill("check.unreadable", &[("reason", Arg::Html(&reason))])).await?;
            return Ok(());
        }
    };
    let answer = answer_all(ctx, &found).await?;
    ctx.reply(answer).await?;
    Ok(())
}

/// How many values of one message are checked: `/check` with several, a message typed or
/// forwarded. More are named as left out.
const CHECKS_PER_MESSAGE: usize = 3;

/// One answer for the values of one message: each value's verdict (a number whose Os were
/// taken for zeros asked about first), then the numbers to call once.
async fn answer_all(ctx: &Ctx<'_>, found: &[Found]) -> Result<Html, HandlerError> {
    let mut text = Html::default();
    let separator = Html::trusted("\n\n".into());
    for found in found.iter().take(CHECKS_PER_MESSAGE) {
        if !text.is_empty() {
            text.push(&separator);
        }
        let subject = found.subject();
        if let Found::Misspelt { typed, fixed, .. } = found {
            text.push(
                &ctx.fill(
                    "check.did_you_mean",
                    &[("typed", Arg::Typed(typed)), ("fixed", Arg::Typed(fixed))],
                ),
            );
            text.push(&separator);
        }
        let verdict = checking::verdict(ctx.app.store.as_ref(), subject, ctx.lang).await?;
        tracing::info!(kind = %subject.kind(), verdict = verdict_name(&verdict), "checked");
        text.push(&card(ctx, subject, &verdict));
    }
    if found.len() > CHECKS_PER_MESSAGE {
        text.push(&separator);
        let more = (found.len() - CHECKS_PER_MESSAGE) as i64;
        text.push(&ctx.fill(
            "check.more_values",
            &[("checked", Arg::Number(CHECKS_PER_MESSAGE as i64)), ("count", Arg::Number(more))],
        ));
    }
    text.push(&separator);
    text.push(&ctx.text("check.footer"));
    Ok(text)
}

/// One value's card: the verdict and what to do (the numbers to call come after the
/// cards, once).
fn card(ctx: &Ctx<'_>, subject: &Subject, verdict: &Verdict) -> Html {
    let shown = subject.to_string();
    let kind_word = match subject {
        // 16 to 19 digits that pass the Luhn check: a bank card, named as one.
        Subject::Account(account) if account.is_bank_card() => ctx.label("check.kind_card"),
        _ => ctx.label(&format!("check.kind_{}", subject.kind())),
    };
    let base = [("subject", Arg::Text(&shown)), ("kind", Arg::Text(&kind_word))];
    let advice = || ctx.text(&format!("check.advice_{}", subject.kind()));
    let mut parts: Vec<Html> = Vec::new();
    match verdict {
        Verdict::Fraud(indicator) => {
            let reason = ctx.app.texts.listed_reason(ctx.lang, &indicator.reason);
            parts.push(ctx.fill("check.fraud", &joined(&base, &[("reason", reason.as_str().into())])));
            parts.push(advice());
        }
        Verdict::Disguised { shown, leads_to } => {
            parts.push(ctx.fill(
                "check.disguised",
                &joined(&base, &[("shown", shown.as_str().into()), ("leads_to", leads_to.as_str().into())]),
            ));
            parts.push(advice());
        }
        Verdict::LookAlike { official } => {
            parts.push(
                ctx.fill("check.look_alike", &joined(&base, &[("official", official.as_str().into())])),
            );
            parts.push(advice());
        }
        Verdict::Suspicious { listed, reports } => {
            parts.push(ctx.fill("check.suspicious", &base));
            if let Some(indicator) = listed {
                let reason = ctx.app.texts.listed_reason(ctx.lang, &indicator.reason);
                parts.push(
                    ctx.fill("check.listed_reason", &joined(&base, &[("reason", reason.as_str().into())])),
                );
            }
            if *reports > 0 {
                parts.push(ctx.fill("check.reported", &[("count", Arg::Number(*reports as i64))]));
            }
            parts.push(advice());
        }
        Verdict::Official(indicator) => {
            let name = ctx.app.texts.listed_reason(ctx.lang, &indicator.reason);
            parts.push(ctx.fill("check.official", &joined(&base, &[("name", name.as_str().into())])));
            parts.push(match subject.kind() {
                IndicatorKind::Phone => ctx.text("check.official_phone_caution"),
                _ => ctx.text("check.official_domain_caution"),
            });
        }
        Verdict::NoRecord => {
            parts.push(ctx.fill("check.no_record", &base));
            // Letters of scripts imitations mix, or of another script that looks Latin;
            // a name in Chinese characters is said nothing of (UTS #39, `lookalike.rs`).
            if let Subject::Link(domain) = subject {
                let unicode = domain.unicode();
                match domain.script_note() {
                    Some(ScriptNote::Mixed) => {
                        parts.push(
                            ctx.fill("check.mixed_script_note", &[("unicode", unicode.as_str().into())]),
                        );
                    }
                    Some(ScriptNote::LooksLatin { reads_as }) => parts.push(ctx.fill(
                        "check.looks_latin_note",
                        &[("unicode", unicode.as_str().into()), ("reads_as", reads_as.as_str().into())],
                    )),
                    None => {}
                }
            }
        }
    }
    // What kind of number it is, after the verdict's own paragraph.
    if let Subject::Phone(phone) = subject {
        parts.insert(1, phone_kind(ctx, phone));
    }
    let mut text = Html::default();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            text.push(&Html::trusted("\n\n".into()));
        }
        text.push(part);
    }
    text
}

/// The number's type: mobile, a landline and where, 400, 800, a short service number,
/// abroad, or not recognised.
fn phone_kind(ctx: &Ctx<'_>, phone: &PhoneNumber) -> Html {
    match phone.kind() {
        PhoneKind::Mobile => ctx.text("check.phone_mobile"),
        PhoneKind::Landline { area_code } => {
            let code = format!("0{area_code}");
            match phone.area() {
                Some(area) => {
                    let name = if ctx.lang == Language::Zh { area.zh } else { area.en };
                    ctx.fill("check.phone_landline", &[("code", Arg::Text(&code)), ("area", Arg::Text(name))])
                }
                None => ctx.fill("check.phone_landline_code", &[("code", Arg::Text(&code))]),
            }
        }
        PhoneKind::TollFree => ctx.text("check.phone_toll_free"),
        PhoneKind::Service400 => ctx.text("check.phone_service_400"),
        PhoneKind::SharedCost => ctx.text("check.phone_shared_cost"),
        PhoneKind::PremiumRate => ctx.text("check.phone_premium_rate"),
        PhoneKind::Short(kind) => ctx.text(&format!("check.phone_short_{}", kind.name())),
        PhoneKind::Abroad { country_code } => {
            ctx.fill("check.phone_abroad", &[("code", Arg::Number(i64::from(*country_code)))])
        }
        PhoneKind::Unknown => ctx.text("check.phone_unknown"),
    }
}

fn joined<'a>(base: &[(&'a str, Arg<'a>)], extra: &[(&'a str, Arg<'a>)]) -> Vec<(&'a str, Arg<'a>)> {
    base.iter().chain(extra).copied().collect()
}

fn verdict_name(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Fraud(_) => "fraud",
        Verdict::Disguised { .. } => "disguised",
        Verdict::LookAlike { .. } => "look_alike",
        Verdict::Suspicious { .. } => "suspicious",
        Verdict::Official(_) => "official",
        Verdict::NoRecord => "no_record",
    }
}

/// Why the value could not be read, in the chat's language.
pub(super) fn why_unreadable(ctx: &Ctx<'_>, error: &SubjectError) -> Html {
    match error {
        SubjectError::Phone(PhoneError::NeedsAreaCode(_)) => ctx.text("check.needs_area_code"),
        SubjectError::Phone(PhoneError::TooLong(_) | PhoneError::TooShort) => {
            ctx.text("check.bad_phone_length")
        }
        SubjectError::Phone(PhoneError::NoDigits | PhoneError::NotANumber(_)) => ctx.text("check.bad_phone"),
        SubjectError::Phone(PhoneError::NotChinese(_)) => ctx.text("check.not_chinese"),
        SubjectError::Phone(PhoneError::UnknownCountry) => ctx.text("check.unknown_country"),
        SubjectError::Link(LinkError::IpAddress(ip)) => {
            ctx.fill("check.ip_address", &[("ip", Arg::Typed(ip))])
        }
        SubjectError::Link(LinkError::NotALink(_)) => ctx.text("check.bad_link"),
        SubjectError::Account(AccountError::Length(_) | AccountError::Characters(_)) => {
            ctx.text("check.bad_account")
        }
        SubjectError::Account(AccountError::Words(_)) => ctx.text("check.words"),
    }
}

/// A message in a private chat that is no command, typed or forwarded, outside a dialogue:
/// its numbers, links and accounts checked as `/check` checks them, in one answer; a
/// message with none gets a hint of what Pingan does with text (issue 13, part 1).
pub(super) async fn in_text(ctx: &Ctx<'_>, text: &str, forwarded: bool) -> HandlerResult {
    let found = Subject::read_text(text);
    if found.is_empty() {
        let hint = if forwarded { "check.forwarded_nothing" } else { "reply.not_a_command" };
        ctx.reply(ctx.text(hint)).await?;
        return Ok(());
    }
    ctx.app.metrics.command("check");
    let answer = answer_all(ctx, &found).await?;
    ctx.reply(answer).await?;
    if forwarded {
        ctx.reply(ctx.text("check.forwarded_report")).await?;
    }
    Ok(())
}
