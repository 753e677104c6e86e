//! How handlers answer: one interface, with Telegram and the terminal console behind it.

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{ChatId, GoneReason};
use crate::html::Html;
use crate::render::keyboard::Keyboard;

/// Where a reply goes: a chat, and in forum groups the topic the message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub chat: ChatId,
    pub thread_id: Option<i32>,
}

/// A message as Pingan renders it, before any transport sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutMessage {
    pub html: Html,
    pub keyboard: Option<Keyboard>,
}

impl OutMessage {
    pub fn html(html: Html) -> OutMessage {
        OutMessage { html, keyboard: None }
    }

    pub fn with_keyboard(html: Html, keyboard: Keyboard) -> OutMessage {
        OutMessage { html, keyboard: (!keyboard.is_empty()).then_some(keyboard) }
    }
}

/// A message Telegram accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub chat: ChatId,
    pub message_id: i32,
}

/// Why a send failed, sorted by what the sender should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 429: wait this long, then try again.
    #[error("rate limited: retry after {0:?}")]
    RetryAfter(Duration),
    /// 403 and the like: the chat cannot be reached again; never retry.
    #[error("the chat is gone ({0})")]
    Gone(GoneReason),
    /// The group became a supergroup with a new id; send there instead.
    #[error("the chat moved to {0}")]
    Migrated(ChatId),
    /// 400: Telegram refused this message; sending it again will not help.
    #[error("Telegram rejected the message: {0}")]
    Rejected(String),
    /// 5xx, a timeout or a network failure: worth trying again later.
    #[error("temporary failure: {0}")]
    Transient(String),
}

#[async_trait]
pub trait Outbound: Send + Sync {
    async fn send(&self, to: Target, message: OutMessage) -> Result<Sent, SendError>;

    /// Sends a PNG image with an HTML caption (at most 1024 characters).
    async fn send_photo(&self, to: Target, png: Vec<u8>, caption: Html) -> Result<Sent, SendError>;

    /// Replaces a sent message's text and keyboard. Editing to the same content is not
    /// an error.
    async fn edit(&self, message: Sent, content: OutMessage) -> Result<(), SendError>;

    /// Stops the button's spinner, showing `text` as a short notice if given.
    async fn answer_callback(&self, callback_id: &str, text: Option<&str>) -> Result<(), SendError>;

    /// Whether `user_id` administers the group `chat`.
    async fn is_chat_admin(&self, chat: ChatId, user_id: i64) -> Result<bool, SendError>;
}
