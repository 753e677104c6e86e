//! The Telegram side of [`Outbound`], and the command menu Telegram shows.

use async_trait::async_trait;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, LinkPreviewOptions, MessageId, ParseMode, Recipient, ThreadId};
use teloxide::{ApiError, RequestError};

use super::command::{Audience, COMMANDS};
use super::incoming::Target;
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
            .send_message(
                Recipient::Id(teloxide::types::ChatId(to.chat.0)),
                message.html.into_string(),
            )
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_link_preview());
        if let Some(thread) = to.thread_id {
            request = request.message_thread_id(ThreadId(MessageId(thread)));
        }
        let mut attempt = 1;
        loop {
            match request.clone().send().await {
                Ok(sent) => {
                    return Ok(Sent {
                        chat: to.chat,
                        message_id: sent.id.0,
                    });
                }
                Err(RequestError::RetryAfter(wait)) if attempt < ATTEMPTS_ON_RETRY_AFTER => {
                    tracing::warn!(
                        chat = to.chat.0,
                        wait_secs = wait.seconds(),
                        attempt,
                        "reply rate limited; waiting"
                    );
                    tokio::time::sleep(wait.duration()).await;
                    attempt += 1;
                }
                Err(e) => return Err(classify(e)),
            }
        }
    }
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
