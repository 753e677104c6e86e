//! The dialogue a user is in with the bot in a chat: what their next plain message
//! answers. One at a time, and bound and bounded:
//!
//! - each dialogue gets a number ([`DraftId`]) when it starts, and every button shown
//!   with it carries that number, so a button of a dialogue since ended or replaced
//!   answers "这个按钮已失效" and does nothing ([`bound`]);
//! - a dialogue left longer than `bot.draft_idle_hours` is not added to: the returning
//!   user is asked whether to carry on with it or drop it;
//! - starting another dialogue while one is under way asks first whether to drop it
//!   ([`may_start`]); /cancel ends it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::editor::{self, draft::Draft};
use super::report::{self, ReportDraft};
use super::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::bot::incoming::Forwarded;
use crate::render::callback::{Callback, DialogueChoice, DraftId};
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::{OutMessage, Sent};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "dialogue", rename_all = "snake_case")]
pub(crate) enum Dialogue {
    /// An editor composing or correcting a notice.
    Notice(Draft),
    /// A citizen telling the bureau about a scam.
    Report(ReportDraft),
    /// An editor writing a tip.
    Tip(editor::tips::TipDraft),
    /// An editor's `/indicator add` of a value the official list names, waiting for
    /// them to confirm it.
    Listing(editor::PendingListing),
    /// An owner granting a role: waiting for the person (a forwarded message of theirs,
    /// their @username or id) or for the role.
    Grant(editor::GrantDraft),
}

/// What the user asked to start while another dialogue was under way: kept with that
/// dialogue until they say whether to drop it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub(crate) enum Switch {
    Report,
    Post(String),
    Urgent(String),
    Edit(String),
    Indicator(String),
    Tip(editor::tips::TipDraft),
    Admins(String),
}

impl Switch {
    /// The command as the user knows it.
    fn command(&self) -> &'static str {
        match self {
            Switch::Report => "/report",
            Switch::Post(_) => "/post",
            Switch::Urgent(_) => "/urgent",
            Switch::Edit(_) => "/edit",
            Switch::Indicator(_) => "/indicator",
            Switch::Tip(_) => "/tips",
            Switch::Admins(_) => "/admins",
        }
    }
}

/// A dialogue as stored: its number and what it waits for. (Dialogues stored before
/// they were numbered read with number 0, which no button carries.)
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(default)]
    id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    switch_to: Option<Switch>,
    #[serde(flatten)]
    dialogue: Dialogue,
}

/// The user's dialogue, with its number and when it last moved on.
pub(crate) struct Current {
    pub id: DraftId,
    pub dialogue: Dialogue,
    pub since: DateTime<Utc>,
    switch_to: Option<Switch>,
}

pub(super) async fn load(ctx: &Ctx<'_>, user: i64) -> Result<Option<Current>, HandlerError> {
    let chat = ctx.origin.target.chat;
    let Some((json, since)) = ctx.app.store.dialogue_with_time(chat, user).await? else { return Ok(None) };
    match serde_json::from_str::<Stored>(&json) {
        // Stored before dialogues were numbered: numbered now (no button carries 0), kept
        // as old as it was.
        Ok(s) if s.id == 0 => {
            let id = DraftId(fastrand::u32(1..));
            write(ctx, user, id, s.switch_to.clone(), &s.dialogue, since).await?;
            Ok(Some(Current { id, dialogue: s.dialogue, since, switch_to: s.switch_to }))
        }
        Ok(s) => Ok(Some(Current { id: DraftId(s.id), dialogue: s.dialogue, since, switch_to: s.switch_to })),
        Err(e) => {
            // A dialogue written by an older version: start again rather than fail, and say so.
            tracing::warn!(error = %e, "dropping a dialogue that no longer reads");
            end(ctx, user).await?;
            ctx.reply(ctx.text("dialogue.unreadable")).await?;
            Ok(None)
        }
    }
}

/// The user's dialogue if it is the one numbered `draft` (the number a button carries);
/// `None` for a button of a dialogue since ended or replaced.
pub(super) async fn bound(
    ctx: &Ctx<'_>,
    user: i64,
    draft: DraftId,
) -> Result<Option<Dialogue>, HandlerError> {
    Ok(load(ctx, user).await?.filter(|c| c.id == draft && draft.0 > 0).map(|c| c.dialogue))
}

/// Starts `dialogue` with a new number, replacing whatever the user had; the number is
/// for the buttons shown with it.
pub(super) async fn start(ctx: &Ctx<'_>, user: i64, dialogue: &Dialogue) -> Result<DraftId, HandlerError> {
    let id = DraftId(fastrand::u32(1..));
    write(ctx, user, id, None, dialogue, ctx.now()).await?;
    Ok(id)
}

/// Moves dialogue `id` on.
pub(super) async fn save(
    ctx: &Ctx<'_>,
    user: i64,
    id: DraftId,
    dialogue: &Dialogue,
) -> Result<(), HandlerError> {
    write(ctx, user, id, None, dialogue, ctx.now()).await
}

async fn write(
    ctx: &Ctx<'_>,
    user: i64,
    id: DraftId,
    switch_to: Option<Switch>,
    dialogue: &Dialogue,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let stored = Stored { id: id.0, switch_to, dialogue: dialogue.clone() };
    let json = serde_json::to_string(&stored).expect("a dialogue serialises");
    ctx.app.store.save_dialogue(ctx.origin.target.chat, user, &json, at).await?;
    Ok(())
}

pub(super) async fn end(ctx: &Ctx<'_>, user: i64) -> Result<(), HandlerError> {
    ctx.app.store.end_dialogue(ctx.origin.target.chat, user).await?;
    Ok(())
}

/// Before a command starts a dialogue: true if the user has none under way. Otherwise
/// the command is kept with the current dialogue, the user is asked whether to drop it,
/// and false is returned (the command waits for the answer).
pub(super) async fn may_start(ctx: &Ctx<'_>, user: i64, wanted: Switch) -> Result<bool, HandlerError> {
    let Some(current) = load(ctx, user).await? else { return Ok(true) };
    let command = wanted.command();
    // Kept under the same number (its own buttons still work) and as old as it was.
    write(ctx, user, current.id, Some(wanted), &current.dialogue, current.since).await?;
    let what = what(ctx, &current.dialogue);
    let question =
        ctx.fill("dialogue.switch_question", &[("what", what.as_str().into()), ("command", command.into())]);
    let button = |key: &str, choice| {
        Button::callback(ctx.label(key), Callback::Dialogue { draft: current.id, choice })
    };
    let keyboard = Keyboard::new().row(vec![
        button("dialogue.switch_button", DialogueChoice::Switch),
        button("dialogue.keep_button", DialogueChoice::Keep),
    ]);
    ctx.send(OutMessage::with_keyboard(question, keyboard)).await?;
    Ok(false)
}

/// What the dialogue is, as the questions about it name it.
fn what(ctx: &Ctx<'_>, dialogue: &Dialogue) -> String {
    use editor::draft::DraftKind;
    let key = match dialogue {
        Dialogue::Notice(draft) => match draft.kind {
            DraftKind::Post => "dialogue.what_post",
            DraftKind::Urgent => "dialogue.what_urgent",
            DraftKind::Correct(_) => "dialogue.what_correction",
        },
        Dialogue::Report(_) => "dialogue.what_report",
        Dialogue::Tip(_) => "dialogue.what_tip",
        Dialogue::Listing(_) => "dialogue.what_listing",
        Dialogue::Grant(_) => "dialogue.what_grant",
    };
    ctx.label(key)
}

/// A message in a private chat that is no command: the next step of the sender's
/// dialogue (unless it was left too long: then they are asked whether to carry on); else
/// a check of the numbers and links it contains, typed or forwarded, or a hint if it has
/// none.
pub(super) async fn continue_with(ctx: &Ctx<'_>, text: &str, forwarded: Option<&Forwarded>) -> HandlerResult {
    let forwarded_from = forwarded.map(Forwarded::name);
    let current = match &ctx.origin.sender {
        Some(sender) => load(ctx, sender.id).await?.map(|d| (sender.id, d)),
        None => None,
    };
    if let Some((_, current)) = &current {
        if ctx.now() - current.since > ctx.app.settings.draft_idle
            && !matches!(current.dialogue, Dialogue::Listing(_))
        {
            return ask_to_resume(ctx, current).await;
        }
    }
    let taken = match current {
        Some((user, Current { id, dialogue: Dialogue::Report(draft), .. })) => {
            report::take_message(ctx, user, id, draft, text, forwarded_from).await?;
            true
        }
        // An editor may forward the text they are publishing (a bulletin, say).
        Some((user, Current { id, dialogue: Dialogue::Notice(draft), .. })) => {
            editor::take_text(ctx, user, id, draft, text).await?
        }
        Some((user, Current { id, dialogue: Dialogue::Grant(draft), .. })) => {
            editor::take_grant(ctx, user, id, draft, text, forwarded).await?
        }
        Some((user, Current { dialogue: Dialogue::Tip(draft), .. })) => {
            editor::tips::take_text(ctx, user, draft, text).await?;
            true
        }
        _ => false,
    };
    if taken {
        return Ok(());
    }
    if forwarded.is_none() && !within_costly_budget(ctx, text).await? {
        return Ok(());
    }
    super::check::in_text(ctx, text, forwarded_from.is_some()).await
}

/// Typed text with a number or link in it, about to be checked, costs what /check costs
/// (a forwarded message was charged so on arrival). Returns whether to go on; when the
/// costly budget is spent the sender is told once a window.
async fn within_costly_budget(ctx: &Ctx<'_>, text: &str) -> Result<bool, HandlerError> {
    let Some(sender) = &ctx.origin.sender else { return Ok(true) };
    if crate::domain::Subject::find_all(text).is_empty() {
        return Ok(true);
    }
    match ctx.app.budgets.spend_costly(sender.id) {
        crate::bot::budget::Verdict::Go => Ok(true),
        verdict => {
            ctx.app.metrics.shed(crate::metrics::Shed::OverBudget);
            if verdict == crate::bot::budget::Verdict::TellOnce {
                ctx.reply(ctx.text("reply.slow_down")).await?;
            }
            Ok(false)
        }
    }
}

/// The message typed after a long pause is not added; the user says whether to carry on.
async fn ask_to_resume(ctx: &Ctx<'_>, current: &Current) -> HandlerResult {
    let what = what(ctx, &current.dialogue);
    let since = ctx.style().date_time(current.since);
    let question = ctx
        .fill("dialogue.idle_question", &[("what", what.as_str().into()), ("time", since.as_str().into())]);
    let button = |key: &str, choice| {
        Button::callback(ctx.label(key), Callback::Dialogue { draft: current.id, choice })
    };
    let keyboard = Keyboard::new().row(vec![
        button("dialogue.continue_button", DialogueChoice::Continue),
        button("dialogue.drop_button", DialogueChoice::Drop),
    ]);
    ctx.send(OutMessage::with_keyboard(question, keyboard)).await?;
    Ok(())
}

/// The answers to [`may_start`]'s and [`ask_to_resume`]'s questions.
pub(super) async fn button(ctx: &Ctx<'_>, at: Sent, draft: DraftId, choice: DialogueChoice) -> ButtonResult {
    let Some(user) = ctx.origin.sender.as_ref().map(|s| s.id) else { return Ok(None) };
    let Some(current) = load(ctx, user).await?.filter(|c| c.id == draft && draft.0 > 0) else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    match choice {
        DialogueChoice::Continue => {
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.resumed"))).await?;
            save(ctx, user, current.id, &current.dialogue).await?;
            resume(ctx, user, current.id, current.dialogue).await?;
        }
        DialogueChoice::Drop => {
            end(ctx, user).await?;
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.dropped"))).await?;
        }
        DialogueChoice::Keep => {
            let Some(_) = current.switch_to else { return Ok(Some(ctx.label("button.outdated"))) };
            save(ctx, user, current.id, &current.dialogue).await?;
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.kept"))).await?;
            resume(ctx, user, current.id, current.dialogue).await?;
        }
        DialogueChoice::Switch => {
            let Some(wanted) = current.switch_to else { return Ok(Some(ctx.label("button.outdated"))) };
            end(ctx, user).await?;
            ctx.out.edit(at, OutMessage::html(ctx.text("dialogue.dropped"))).await?;
            match wanted {
                Switch::Report => report::report(ctx).await?,
                Switch::Post(args) => editor::post(ctx, &args, editor::draft::DraftKind::Post).await?,
                Switch::Urgent(args) => editor::post(ctx, &args, editor::draft::DraftKind::Urgent).await?,
                Switch::Edit(args) => editor::edit(ctx, &args).await?,
                Switch::Indicator(args) => editor::indicator(ctx, &args).await?,
                Switch::Tip(tip) => editor::tips::start(ctx, user, tip).await?,
                Switch::Admins(args) => editor::admins(ctx, &args).await?,
            }
        }
    }
    Ok(None)
}

/// Asks again for what dialogue `id` waits for.
async fn resume(ctx: &Ctx<'_>, user: i64, id: DraftId, dialogue: Dialogue) -> HandlerResult {
    match dialogue {
        Dialogue::Report(draft) => report::resume(ctx, user, id, draft).await,
        Dialogue::Notice(draft) => editor::resume(ctx, id, draft).await,
        Dialogue::Tip(draft) => editor::tips::prompt(ctx, &draft).await,
        Dialogue::Listing(pending) => editor::ask_listing(ctx, id, &pending).await,
        Dialogue::Grant(draft) => editor::ask_grant(ctx, id, &draft).await,
    }
}

/// `/cancel`: ends whatever the sender was writing.
pub(super) async fn cancel(ctx: &Ctx<'_>) -> HandlerResult {
    let had = match &ctx.origin.sender {
        Some(sender) if load(ctx, sender.id).await?.is_some() => {
            end(ctx, sender.id).await?;
            true
        }
        _ => false,
    };
    ctx.reply(ctx.text(if had { "dialogue.cancelled" } else { "dialogue.nothing_to_cancel" })).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialogues_stored_before_they_were_numbered_read_with_no_number() {
        let old = r#"{"dialogue":"report","story":"s","forwards":[],"details":[],"ready":true}"#;
        let stored: Stored = serde_json::from_str(old).unwrap();
        assert_eq!(stored.id, 0, "no button carries 0");
        assert!(matches!(stored.dialogue, Dialogue::Report(_)));
        assert!(stored.switch_to.is_none());
    }

    #[test]
    fn a_numbered_dialogue_and_the_command_it_waits_on_survive_storage() {
        let stored = Stored {
            id: 42,
            switch_to: Some(Switch::Post("title: x".into())),
            dialogue: Dialogue::Report(ReportDraft::default()),
        };
        let json = serde_json::to_string(&stored).unwrap();
        let back: Stored = serde_json::from_str(&json).unwrap();
        assert_eq!((back.id, back.switch_to, back.dialogue), (42, stored.switch_to, stored.dialogue));
    }
}
