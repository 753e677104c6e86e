//! How handlers answer: one interface, with Telegram and the terminal console behind it.
//!
//! Handlers hand their messages over and return: the Telegram side queues them per chat,
//! paces them and retries them itself, so no handler ever sleeps for Telegram. A message
//! handed over is sent in order with the chat's others; an error here means it was not
//! even queued.

use async_trait::async_trait;

pub use super::error::SendError;
use crate::domain::ChatId;
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

/// A message queued by [`Outbound::send_tracked`].
#[derive(Debug)]
pub struct Tracked(tokio::sync::oneshot::Receiver<Result<Sent, SendError>>);

impl Tracked {
    /// A message already sent (the console shows it at once).
    pub fn done(sent: Result<Sent, SendError>) -> Tracked {
        let (tell, tracked) = tokio::sync::oneshot::channel();
        let _ = tell.send(sent);
        Tracked(tracked)
    }

    /// Follows a message to be sent; the other end says how it went.
    pub fn channel() -> (tokio::sync::oneshot::Sender<Result<Sent, SendError>>, Tracked) {
        let (tell, tracked) = tokio::sync::oneshot::channel();
        (tell, Tracked(tracked))
    }

    /// Waits until the message is sent, or given up.
    pub async fn sent(self) -> Result<Sent, SendError> {
        self.0.await.unwrap_or_else(|_| Err(SendError::NotSent("the reply queue stopped".into())))
    }
}

/// A message Telegram accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub chat: ChatId,
    pub message_id: i32,
}

#[async_trait]
pub trait Outbound: Send + Sync {
    /// Queues a message; it goes out in order with the chat's others.
    async fn send(&self, to: Target, message: OutMessage) -> Result<(), SendError>;

    /// Queues a message, in order like [`Outbound::send`], for a caller that needs its id
    /// later: [`Tracked::sent`] waits until Telegram has it (retries included) — in a task
    /// of the caller's own, never on a handler's path.
    async fn send_tracked(&self, to: Target, message: OutMessage) -> Result<Tracked, SendError>;

    /// Queues a PNG image with an HTML caption (at most 1024 characters).
    async fn send_photo(&self, to: Target, png: Vec<u8>, caption: Html) -> Result<(), SendError>;

    /// Queues a change of a sent message's text and keyboard. Editing to the same content
    /// is not an error.
    async fn edit(&self, message: Sent, content: OutMessage) -> Result<(), SendError>;

    /// Stops the spinner of a button pressed in `chat`, showing `text` as a short notice if
    /// given — after the chat's messages and edits queued before it, so the spinner stops
    /// when the answer is on screen.
    async fn answer_callback(
        &self,
        chat: ChatId,
        callback_id: &str,
        text: Option<&str>,
    ) -> Result<(), SendError>;

    /// Whether `user_id` administers the group `chat`.
    async fn is_chat_admin(&self, chat: ChatId, user_id: i64) -> Result<bool, SendError>;
}
