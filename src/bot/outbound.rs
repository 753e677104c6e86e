//! How handlers answer: one interface, with Telegram and the terminal console behind it.

use std::time::Duration;

use async_trait::async_trait;

use super::incoming::Target;
use crate::domain::{ChatId, GoneReason};
use crate::html::Html;

/// A message as Pingan renders it, before any transport sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutMessage {
    pub html: Html,
}

impl OutMessage {
    pub fn html(html: Html) -> OutMessage {
        OutMessage { html }
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
}
