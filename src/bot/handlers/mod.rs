//! Handlers: one message in, replies out through [`Outbound`]. They never build SQL and
//! never talk to Telegram directly, so the console runs exactly the same code.

mod help;
mod start;

use std::sync::Arc;

use teloxide::types::Me;

use super::command::{self, Command, Parsed};
use super::incoming::Incoming;
use super::outbound::{OutMessage, Outbound, SendError, Sent};
use crate::app::App;
use crate::domain::Language;
use crate::html::Html;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
}

pub type HandlerResult = Result<(), HandlerError>;

/// One message being answered.
pub(crate) struct Ctx<'a> {
    pub app: &'a App,
    pub out: &'a dyn Outbound,
    pub msg: &'a Incoming,
    pub lang: Language,
    pub bot_username: &'a str,
}

impl Ctx<'_> {
    pub async fn reply(&self, html: Html) -> Result<Sent, SendError> {
        self.out.send(self.msg.target, OutMessage::html(html)).await
    }

    pub fn text(&self, key: &str) -> Html {
        self.app.texts.get(self.lang, key)
    }
}

/// The endpoint for text messages. Failures are answered and logged here, so the
/// dispatcher never sees an error.
pub async fn on_message(
    app: Arc<App>,
    out: Arc<dyn Outbound>,
    me: Me,
    msg: Incoming,
) -> HandlerResult {
    let ctx = Ctx {
        lang: app.language_for(&msg),
        app: &app,
        out: out.as_ref(),
        msg: &msg,
        bot_username: me.username(),
    };
    if let Err(error) = route(&ctx).await {
        report_failure(&ctx, error).await;
    }
    Ok(())
}

async fn route(ctx: &Ctx<'_>) -> HandlerResult {
    match command::parse(&ctx.msg.text, ctx.bot_username) {
        Parsed::Command(command) => {
            tracing::info!(chat = ctx.msg.target.chat.0, command = ?command, "command");
            match command {
                Command::Start => start::start(ctx).await,
                Command::Help => help::help(ctx).await,
            }
        }
        Parsed::Unknown { typed, addressed } if addressed || ctx.msg.is_private() => {
            help::unknown_command(ctx, &typed).await
        }
        Parsed::NotACommand if ctx.msg.is_private() => {
            ctx.reply(ctx.text("reply.not_a_command")).await?;
            Ok(())
        }
        // In groups, other people's chatter and other bots' commands are not for us.
        Parsed::Unknown { .. } | Parsed::NotACommand | Parsed::OtherBot => Ok(()),
    }
}

async fn report_failure(ctx: &Ctx<'_>, error: HandlerError) {
    let chat = ctx.msg.target.chat.0;
    let apology = match &error {
        HandlerError::Send(SendError::Gone(reason)) => {
            tracing::info!(chat, %reason, "chat unreachable while answering");
            return;
        }
        HandlerError::Store(e) if e.is_busy() => {
            tracing::warn!(chat, error = %e, "database busy while answering");
            "reply.busy"
        }
        other => {
            tracing::error!(chat, error = %other, "failed to answer a message");
            "reply.internal_error"
        }
    };
    if let Err(e) = ctx.reply(ctx.text(apology)).await {
        tracing::warn!(chat, error = %e, "could not send the apology either");
    }
}
