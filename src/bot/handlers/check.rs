//! `/check <phone|link|account>`: what the bureau knows of it, and what to do.

use super::{Ctx, HandlerResult};
use crate::checking;
use crate::domain::check::{AccountError, LinkError, PhoneError, PhoneKind, ScriptNote};
use crate::domain::{IndicatorKind, Language, PhoneNumber, Subject, SubjectError, Verdict};
use crate::html::Html;
use crate::i18n::Arg;

pub(super) async fn check(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    if args.trim().is_empty() {
        ctx.reply(ctx.text("check.usage")).await?;
        return Ok(());
    }
    let subject = match Subject::parse(args) {
        Ok(subject) => subject,
        Err(e) => {
            let reason = why_unreadable(ctx, &e);
            ctx.reply(ctx.fill("check.unreadable", &[("reason", Arg::Html(&reason))])).await?;
            return Ok(());
        }
    };
    let verdict = checking::verdict(ctx.app.store.as_ref(), &subject, ctx.lang).await?;
    tracing::info!(kind = %subject.kind(), verdict = verdict_name(&verdict), "checked");
    ctx.reply(answer(ctx, &subject, &verdict)).await?;
    Ok(())
}

/// The answer: the verdict, what to do, and always the numbers to call.
pub(super) fn answer(ctx: &Ctx<'_>, subject: &Subject, verdict: &Verdict) -> Html {
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
            parts.push(
                ctx.fill("check.fraud", &joined(&base, &[("reason", indicator.reason.as_str().into())])),
            );
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
                parts.push(ctx.fill(
                    "check.listed_reason",
                    &joined(&base, &[("reason", indicator.reason.as_str().into())]),
                ));
            }
            if *reports > 0 {
                parts.push(ctx.fill("check.reported", &[("count", Arg::Number(*reports as i64))]));
            }
            parts.push(advice());
        }
        Verdict::Official(indicator) => {
            parts.push(
                ctx.fill("check.official", &joined(&base, &[("name", indicator.reason.as_str().into())])),
            );
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
    parts.push(ctx.text("check.footer"));
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
            ctx.fill("check.ip_address", &[("ip", ip.as_str().into())])
        }
        SubjectError::Link(LinkError::NotALink(_)) => ctx.text("check.bad_link"),
        SubjectError::Account(AccountError::Length(_) | AccountError::Characters(_)) => {
            ctx.text("check.bad_account")
        }
        SubjectError::Account(AccountError::Words(_)) => ctx.text("check.words"),
    }
}

/// How many values of a forwarded message are checked.
const FORWARDED_CHECKS: usize = 3;

/// A message forwarded to Pingan outside a report: every number and link in it checked.
pub(super) async fn forwarded(ctx: &Ctx<'_>, text: &str) -> HandlerResult {
    let found = Subject::find_all(text);
    if found.is_empty() {
        ctx.reply(ctx.text("check.forwarded_nothing")).await?;
        return Ok(());
    }
    for subject in found.iter().take(FORWARDED_CHECKS) {
        let verdict = checking::verdict(ctx.app.store.as_ref(), subject, ctx.lang).await?;
        ctx.reply(answer(ctx, subject, &verdict)).await?;
    }
    ctx.reply(ctx.text("check.forwarded_report")).await?;
    Ok(())
}
