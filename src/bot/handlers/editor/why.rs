//! Why what an editor sent does not fit, in the editor's language: the reasons behind
//! `editor.invalid`, `editor.form_error` and `editor_tips.unusable`.

use super::draft::{DraftError, FormLine, FormProblem};
use crate::bot::handlers::Ctx;
use crate::domain::{Category, LocalTimeError, NoticeError, Severity, TextError};
use crate::i18n::{Arg, category_key, severity_key};

pub(super) fn draft_error(ctx: &Ctx<'_>, error: &DraftError) -> String {
    match error {
        DraftError::Text(e) => text_error(ctx, e),
        DraftError::Notice(e) => notice_error(ctx, e),
        DraftError::Time(e) => time_error(ctx, e),
        DraftError::Incomplete => plain(ctx, "why.incomplete", &[]),
        DraftError::Form(lines) => {
            let lines: Vec<String> = lines
                .iter()
                .map(|FormLine { line, problem }| {
                    let problem = form_problem(ctx, problem);
                    plain(
                        ctx,
                        "why.form_line",
                        &[("line", Arg::Number(*line as i64)), ("problem", problem.as_str().into())],
                    )
                })
                .collect();
            // One line: in the sentence; several: one under another.
            match lines.as_slice() {
                [one] => one.clone(),
                _ => format!("\n{}", lines.join("\n")),
            }
        }
    }
}

pub(super) fn text_error(ctx: &Ctx<'_>, error: &TextError) -> String {
    let (key, field, limits) = match error {
        TextError::Empty { field } => ("why.empty", *field, None),
        TextError::TooLong { field, max, got } => ("why.too_long", *field, Some((*max, *got))),
        TextError::ControlCharacter { field, .. } => ("why.control", *field, None),
        TextError::LineBreak { field } => ("why.line_break", *field, None),
    };
    let field = field_name(ctx, field);
    let mut args = vec![("field", Arg::Text(&field))];
    if let Some((max, got)) = limits {
        args.extend([("max", Arg::Number(max as i64)), ("got", Arg::Number(got as i64))]);
    }
    plain(ctx, key, &args)
}

pub(super) fn time_error(ctx: &Ctx<'_>, error: &LocalTimeError) -> String {
    match error {
        LocalTimeError::Unreadable(text) => plain(ctx, "why.time_unreadable", &[("text", Arg::Typed(text))]),
        LocalTimeError::Skipped { time, zone } => {
            let time = time.format("%Y-%m-%d %H:%M").to_string();
            let zone = zone.name();
            plain(ctx, "why.time_skipped", &[("time", time.as_str().into()), ("zone", zone.into())])
        }
    }
}

fn notice_error(ctx: &Ctx<'_>, error: &NoticeError) -> String {
    match error {
        NoticeError::Text(e) => text_error(ctx, e),
        NoticeError::ExpiresBeforePublication { publish_at, expires_at } => {
            let style = ctx.style();
            let (publish, expires) = (style.date_time(*publish_at), style.date_time(*expires_at));
            plain(
                ctx,
                "why.expires_before",
                &[("publish", publish.as_str().into()), ("expires", expires.as_str().into())],
            )
        }
        NoticeError::ExpiresTooLate { latest } => {
            let latest = ctx.style().date_time(*latest);
            plain(ctx, "why.expires_too_late", &[("latest", latest.as_str().into())])
        }
        NoticeError::PublishedTooLate { latest } => {
            let latest = ctx.style().date_time(*latest);
            plain(ctx, "why.published_too_late", &[("latest", latest.as_str().into())])
        }
        NoticeError::PublishedTooEarly { earliest } => {
            let earliest = ctx.style().date_time(*earliest);
            plain(ctx, "why.published_too_early", &[("earliest", earliest.as_str().into())])
        }
    }
}

fn form_problem(ctx: &Ctx<'_>, problem: &FormProblem) -> String {
    match problem {
        FormProblem::NotKeyValue(text) => plain(ctx, "why.not_key_value", &[("text", Arg::Typed(text))]),
        FormProblem::UnknownKey(key) => plain(ctx, "why.unknown_key", &[("key", Arg::Typed(key))]),
        FormProblem::Category(value) => {
            let choices = ctx.app.texts.choices(ctx.lang, Category::ALL, category_key);
            plain(
                ctx,
                "why.unknown_category",
                &[("value", Arg::Typed(value)), ("choices", choices.as_str().into())],
            )
        }
        FormProblem::Severity(value) => {
            let choices = ctx.app.texts.choices(ctx.lang, Severity::ALL, severity_key);
            plain(
                ctx,
                "why.unknown_severity",
                &[("value", Arg::Typed(value)), ("choices", choices.as_str().into())],
            )
        }
        FormProblem::Language(value) => plain(ctx, "why.unknown_language", &[("value", Arg::Typed(value))]),
        FormProblem::District(value) => {
            let all: Vec<&str> = ctx.app.settings.districts.all().iter().map(|d| d.name(ctx.lang)).collect();
            let all = all.join(ctx.label("settings.list_separator").as_str());
            plain(
                ctx,
                "why.unknown_district",
                &[("value", Arg::Typed(value)), ("choices", all.as_str().into())],
            )
        }
        FormProblem::Time(e) => time_error(ctx, e),
        FormProblem::OutOfReach(e) => notice_error(ctx, e),
    }
}

/// What the checked texts are called; the names are the domain's (`TextError`'s field).
fn field_name(ctx: &Ctx<'_>, field: &str) -> String {
    let key = match field {
        "title" => "why.field_title",
        "body" => "why.field_body",
        "area" => "why.field_area",
        "source" => "why.field_source",
        "tip title" => "why.field_tip_title",
        "tip body" => "why.field_tip_body",
        "reason" => "why.field_reason",
        "keyword" => "why.field_keyword",
        _ => return field.to_owned(),
    };
    ctx.label(key)
}

/// A filled text as plain text, to go into another text as an escaped argument.
fn plain(ctx: &Ctx<'_>, key: &str, args: &[(&str, Arg<'_>)]) -> String {
    crate::html::to_plain(ctx.fill(key, args).as_str())
}
