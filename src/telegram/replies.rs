//! The Telegram side of [`Outbound`] — replies, edits, button answers — over Pingan's own
//! [`BotApi`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::api::{ApiError, BotApi, HtmlMessage};
use super::outbound::{OutMessage, Outbound, SendError, Sent, Target};
use super::rate::RateLimiter;
use crate::domain::ChatId;
use crate::html::Html;
use crate::render::keyboard::reply_markup;

/// How many times a reply is tried: Telegram asking to wait (429) and passing failures
/// (5xx, timeouts) are tried again; a reply is never dropped for being rate limited.
const ATTEMPTS: u32 = 8;
/// The wait before trying a reply again after a passing failure; doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Replies through [`BotApi`], taking their turn from the shared rate limiter ahead of
/// every broadcast.
#[derive(Clone, Debug)]
pub struct TelegramOutbound {
    api: BotApi,
    limiter: Arc<RateLimiter>,
}

impl TelegramOutbound {
    pub fn new(api: BotApi, limiter: Arc<RateLimiter>) -> Self {
        TelegramOutbound { api, limiter }
    }

    /// Runs a request again after a 429 (as long as Telegram says) or a passing failure.
    async fn with_retries<T, F, Fut>(&self, chat: ChatId, mut request: F) -> Result<T, SendError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            tokio::time::sleep_until(self.limiter.reply_slot()).await;
            let error = match request().await {
                Ok(value) => return Ok(value),
                Err(e) => e.classify(),
            };
            let wait = match &error {
                SendError::RetryAfter(wait) => {
                    self.limiter.rate_limited(chat, *wait);
                    *wait
                }
                SendError::Transient(_) => {
                    let wait = backoff;
                    backoff *= 2;
                    wait
                }
                _ => return Err(error),
            };
            if attempt == ATTEMPTS {
                return Err(error);
            }
            tracing::warn!(chat = chat.0, attempt, wait_ms = wait.as_millis() as u64, %error, "reply failed; trying again");
            tokio::time::sleep(wait).await;
        }
        Err(SendError::Transient("out of attempts".into()))
    }
}

#[async_trait]
impl Outbound for TelegramOutbound {
    async fn send(&self, to: Target, message: OutMessage) -> Result<Sent, SendError> {
        let markup = message.keyboard.as_ref().map(reply_markup);
        let html = message.html.into_string();
        let request = HtmlMessage {
            chat: to.chat,
            thread_id: to.thread_id,
            html: &html,
            reply_markup: markup.as_ref(),
            paid_broadcast: false,
            reply_to: None,
        };
        let message_id = self.with_retries(to.chat, || self.api.send_html(&request)).await?;
        Ok(Sent { chat: to.chat, message_id })
    }

    async fn send_photo(&self, to: Target, png: Vec<u8>, caption: Html) -> Result<Sent, SendError> {
        let caption = caption.into_string();
        let message_id = self
            .with_retries(to.chat, || self.api.send_photo(to.chat, to.thread_id, png.clone(), &caption))
            .await?;
        Ok(Sent { chat: to.chat, message_id })
    }

    async fn edit(&self, message: Sent, content: OutMessage) -> Result<(), SendError> {
        let mut params = json!({
            "chat_id": message.chat.0,
            "message_id": message.message_id,
            "text": content.html.as_str(),
            "parse_mode": "HTML",
            "link_preview_options": { "is_disabled": true },
        });
        if let Some(keyboard) = &content.keyboard {
            params["reply_markup"] = reply_markup(keyboard);
        }
        let edited =
            self.with_retries(message.chat, || self.api.call::<Value>("editMessageText", &params)).await;
        match edited {
            Ok(_) => Ok(()),
            // Pressing the button for the page already shown asks for no change.
            Err(SendError::Rejected(reason)) if reason.contains("message is not modified") => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn answer_callback(&self, callback_id: &str, text: Option<&str>) -> Result<(), SendError> {
        let mut params = json!({ "callback_query_id": callback_id });
        if let Some(text) = text {
            params["text"] = text.into();
        }
        self.api.call::<Value>("answerCallbackQuery", &params).await.map(|_| ()).map_err(|e| e.classify())
    }

    async fn is_chat_admin(&self, chat: ChatId, user_id: i64) -> Result<bool, SendError> {
        let params = json!({ "chat_id": chat.0, "user_id": user_id });
        let member: Value = self.with_retries(chat, || self.api.call("getChatMember", &params)).await?;
        Ok(matches!(member["status"].as_str(), Some("creator" | "administrator")))
    }
}
