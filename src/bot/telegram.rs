//! The Telegram side of [`Outbound`], and the command menu Telegram shows.

use std::future::Future;

use async_trait::async_trait;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, CallbackQueryId, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions,
    MessageId, ParseMode, Recipient, ThreadId, UserId,
};
use teloxide::{ApiError, RequestError};

use super::command::{Audience, COMMANDS};
use super::incoming::Target;
use super::keyboard::{ButtonAction, Keyboard};
use super::outbound::{OutMessage, Outbound, SendError, Sent};
use crate::domain::{ChatId, GoneReason, Language};
use crate::html::to_plain;
use crate::i18n::Texts;

/// How many times a reply is sent again after Telegram asks to wait (429).
const ATTEMPTS_ON_RETRY_AFTER: u32 = 8;

/// Sends replies through teloxide's [`Bot`].
#[derive(Clone, Debug)]
pub struct TelegramOutbound {
    bot: Bot,
}

impl TelegramOutbound {
    pub fn new(bot: Bot) -> Self {
        TelegramOutbound { bot }
    }
}

#[async_trait]
impl Outbound for TelegramOutbound {
    async fn send(&self, to: Target, message: OutMessage) -> Result<Sent, SendError> {
        let mut request = self
            .bot
            .send_message(recipient(to.chat), message.html.into_string())
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_link_preview());
        if let Some(thread) = to.thread_id {
            request = request.message_thread_id(ThreadId(MessageId(thread)));
        }
        if let Some(keyboard) = &message.keyboard {
            request = request.reply_markup(markup(keyboard));
        }
        let sent = with_retry_after(to.chat, || request.clone().send()).await?;
        Ok(Sent {
            chat: to.chat,
            message_id: sent.id.0,
        })
    }

    async fn edit(&self, message: Sent, content: OutMessage) -> Result<(), SendError> {
        let mut request = self
            .bot
            .edit_message_text(
                recipient(message.chat),
                MessageId(message.message_id),
                content.html.into_string(),
            )
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_link_preview());
        if let Some(keyboard) = &content.keyboard {
            request = request.reply_markup(markup(keyboard));
        }
        match with_retry_after(message.chat, || request.clone().send()).await {
            Ok(_) => Ok(()),
            // Pressing the button for the page already shown asks for no change.
            Err(SendError::Rejected(reason)) if reason.contains("message is not modified") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn answer_callback(
        &self,
        callback_id: &str,
        text: Option<&str>,
    ) -> Result<(), SendError> {
        let mut request = self
            .bot
            .answer_callback_query(CallbackQueryId(callback_id.to_owned()));
        if let Some(text) = text {
            request = request.text(text);
        }
        request.send().await.map(|_| ()).map_err(classify)
    }

    async fn is_chat_admin(&self, chat: ChatId, user_id: i64) -> Result<bool, SendError> {
        let user =
            UserId(u64::try_from(user_id).map_err(|_| SendError::Rejected("bad user id".into()))?);
        let member = with_retry_after(chat, || {
            self.bot.get_chat_member(recipient(chat), user).send()
        })
        .await?;
        Ok(member.is_privileged())
    }
}

fn recipient(chat: ChatId) -> Recipient {
    Recipient::Id(teloxide::types::ChatId(chat.0))
}

/// Runs a request again after each 429 Telegram answers, waiting as long as it says:
/// a reply to a user is never dropped for being rate limited.
async fn with_retry_after<T, F, Fut>(chat: ChatId, mut request: F) -> Result<T, SendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut attempt = 1;
    loop {
        match request().await {
            Ok(value) => return Ok(value),
            Err(RequestError::RetryAfter(wait)) if attempt < ATTEMPTS_ON_RETRY_AFTER => {
                tracing::warn!(
                    chat = chat.0,
                    wait_secs = wait.seconds(),
                    attempt,
                    "rate limited; waiting"
                );
                tokio::time::sleep(wait.duration()).await;
                attempt += 1;
            }
            Err(e) => return Err(classify(e)),
        }
    }
}

fn markup(keyboard: &Keyboard) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(keyboard.rows().iter().map(|row| {
        row.iter()
            .map(|button| match &button.action {
                ButtonAction::Callback(callback) => {
                    InlineKeyboardButton::callback(button.label.clone(), callback.encode())
                }
                ButtonAction::Url(url) => match url.parse() {
                    Ok(url) => InlineKeyboardButton::url(button.label.clone(), url),
                    // Pingan builds its URLs itself; a bad one becomes a harmless label.
                    Err(_) => InlineKeyboardButton::callback(button.label.clone(), "x"),
                },
            })
            .collect::<Vec<_>>()
    }))
}

fn no_link_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Sorts teloxide's errors by what a sender should do about them.
pub fn classify(error: RequestError) -> SendError {
    match error {
        RequestError::RetryAfter(wait) => SendError::RetryAfter(wait.duration()),
        RequestError::MigrateToChatId(to) => SendError::Migrated(ChatId(to.0)),
        RequestError::Api(api) => match api {
            ApiError::BotBlocked | ApiError::CantInitiateConversation => {
                SendError::Gone(GoneReason::Blocked)
            }
            ApiError::UserDeactivated => SendError::Gone(GoneReason::Deactivated),
            ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel => SendError::Gone(GoneReason::Kicked),
            ApiError::ChatNotFound => SendError::Gone(GoneReason::ChatNotFound),
            ApiError::Unknown(text) if text.starts_with("Forbidden") => {
                SendError::Gone(GoneReason::Kicked)
            }
            // Telegram's 5xx answers carry these descriptions.
            ApiError::Unknown(text) if is_server_error(&text) => SendError::Transient(text),
            ApiError::MessageNotModified => SendError::Rejected("message is not modified".into()),
            other => SendError::Rejected(other.to_string()),
        },
        // A 5xx answer usually carries no JSON, so it surfaces as InvalidJson.
        RequestError::Network(e) => SendError::Transient(e.to_string()),
        RequestError::InvalidJson { raw, .. } => SendError::Transient(format!(
            "unreadable answer: {}",
            raw.chars().take(200).collect::<String>()
        )),
        RequestError::Io(e) => SendError::Transient(e.to_string()),
    }
}

fn is_server_error(description: &str) -> bool {
    [
        "Internal Server Error",
        "Bad Gateway",
        "Service Unavailable",
        "Gateway Timeout",
    ]
    .iter()
    .any(|e| description.starts_with(e))
}

/// The citizens' command menu in `lang`.
pub fn command_menu(texts: &Texts, lang: Language) -> Vec<BotCommand> {
    COMMANDS
        .iter()
        .filter(|spec| spec.audience == Audience::Everyone)
        .map(|spec| {
            let description = to_plain(texts.template(lang, &format!("commands.{}", spec.name)));
            BotCommand::new(spec.name, description)
        })
        .collect()
}

/// Registers the command menu in Chinese and English, and in `default` for every other
/// client language.
pub async fn register_commands(
    bot: &Bot,
    texts: &Texts,
    default: Language,
) -> Result<(), RequestError> {
    for lang in Language::ALL {
        bot.set_my_commands(command_menu(texts, lang))
            .language_code(lang.code())
            .await?;
    }
    bot.set_my_commands(command_menu(texts, default)).await?;
    Ok(())
}
