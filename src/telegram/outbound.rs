//! How handlers answer: one interface, with Telegram and the terminal console behind it.
//!
//! Handlers hand their messages over and return: the Telegram side queues them per chat,
//! paces them and retries them itself, so no handler ever sleeps for Telegram. A message
//! handed over is sent in order with the chat's others; an error here means it was not
//! even queued.

use async_trait::async_trait;

pub use super::error::SendError;
use crate::domain::{ChatId, Language};
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

/// One entry of a command menu (Bot API `BotCommand`): the command without its slash
/// (1–32 of `a–z 0–9 _`) and its description, plain text (1–256 characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuCommand {
    pub command: String,
    pub description: String,
}

/// Whose menu a change is for (Bot API `BotCommandScope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuScope {
    /// `default`: everyone without a narrower menu (citizens in private chats).
    Default,
    /// `all_group_chats`: every group and supergroup.
    AllGroupChats,
    /// `chat`: one chat; for a person, their private chat (whose id is their user id).
    Chat(ChatId),
}

/// One change of a command menu: `setMyCommands` with `commands`, or `deleteMyCommands`
/// when `commands` is `None` (the scope falls back to the next wider one). `language`
/// `None` is the menu for every client language without one of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuChange {
    pub scope: MenuScope,
    pub language: Option<Language>,
    pub commands: Option<Vec<MenuCommand>>,
}

/// How a batch of menu changes went: how many Telegram took, how many failed (each
/// logged where it failed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MenuReport {
    pub applied: usize,
    pub failed: usize,
}

/// Menu changes queued by [`Outbound::change_menus`].
#[derive(Debug)]
pub struct MenusQueued(tokio::sync::oneshot::Receiver<MenuReport>);

impl MenusQueued {
    /// Changes already made, or with nowhere to make them.
    pub fn done(report: MenuReport) -> MenusQueued {
        let (tell, queued) = tokio::sync::oneshot::channel();
        let _ = tell.send(report);
        MenusQueued(queued)
    }

    /// Follows a batch of changes; the other end says how it went.
    pub fn channel() -> (tokio::sync::oneshot::Sender<MenuReport>, MenusQueued) {
        let (tell, queued) = tokio::sync::oneshot::channel();
        (tell, MenusQueued(queued))
    }

    /// Waits until every change of the batch was made or given up (none made if the
    /// queue stopped).
    pub async fn finished(self) -> MenuReport {
        self.0.await.unwrap_or_default()
    }
}

/// Chats' turns shared by every instance of a deployment (implemented by
/// `delivery::instances::Instances` over the `chat_send_state` table): a reply from one
/// instance keeps a chat's spacing with another instance's broadcasts and replies, and a
/// 429 one instance sees holds the chat for all. Alone, an instance answers at once and
/// touches no database: its own pacer keeps the spacing.
#[async_trait]
pub trait SharedTurns: Send + Sync {
    /// Claims `chat`'s turn for a new message; `Some(wait)` while another instance has it
    /// (or Telegram holds it). A database that does not answer gives the turn (`None`):
    /// the pacer's own spacing still holds.
    async fn claim(&self, chat: ChatId) -> Option<std::time::Duration>;
    /// Telegram answered 429 for `chat` with `retry_after` = `wait`.
    async fn hold(&self, chat: ChatId, wait: std::time::Duration);
}

/// One ready-made message offered in answer to an inline query (Bot API
/// `InlineQueryResultArticle` with `InputTextMessageContent` in HTML): what the chat
/// picker lists (`title`, `description`) and the message it becomes when chosen (`html`,
/// at most 4096 characters after entity parsing, with `keyboard` under it — URL buttons
/// only, as a message sent via the bot has no one to answer its callbacks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineArticle {
    /// Unique within the answer; 1–64 bytes.
    pub id: String,
    /// Plain text.
    pub title: String,
    /// Plain text, shown under the title.
    pub description: String,
    pub html: Html,
    pub keyboard: Keyboard,
}

/// An answer to one inline query (Bot API `answerInlineQuery`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineAnswer {
    /// The `inline_query.id` answered.
    pub query_id: String,
    /// At most 50 (Telegram's limit).
    pub results: Vec<InlineArticle>,
    /// Seconds Telegram may keep this answer and give it again for the same query.
    pub cache_time: u32,
    /// Whether Telegram may give the cached answer only to the user who asked.
    pub is_personal: bool,
    /// The `offset` the client sends for the next page; empty when there is none (at
    /// most 64 bytes).
    pub next_offset: String,
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

    /// Queues changes of the command menus Telegram shows, made one at a time in order
    /// with every other batch's; [`MenusQueued::finished`] says how they went. A handler
    /// drops it and returns. Every implementation says what it does with them (no default:
    /// a wrapper that forgot to pass them on would drop them without a word).
    async fn change_menus(&self, changes: Vec<MenuChange>) -> Result<MenusQueued, SendError>;

    /// Answers an inline query: not a message to any chat, so it takes no chat's turn and
    /// waits behind none; it is sent (and retried while the query is still young) in a
    /// task of its own, and the handler returns at once. The default has no inline mode
    /// (the terminal console) and refuses.
    async fn answer_inline(&self, answer: InlineAnswer) -> Result<(), SendError> {
        let _ = answer;
        Err(SendError::NotSent("no inline mode here".into()))
    }
}
