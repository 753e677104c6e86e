//! A message from Telegram, reduced to what Pingan's handlers need.

use teloxide::types::Message;

use crate::domain::ChatId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    Group,
    Channel,
}

/// Where a reply goes: a chat, and in forum groups the topic the message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub chat: ChatId,
    pub thread_id: Option<i32>,
}

/// The person who sent a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    pub id: i64,
    pub first_name: String,
    /// The language their Telegram client is set to (`zh-hans`, `en`, …), if it says.
    pub language_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub target: Target,
    pub chat_kind: ChatKind,
    pub sender: Option<Sender>,
    pub text: String,
}

impl Incoming {
    /// Text messages only; photos, stickers and service messages give `None`.
    pub fn from_message(message: &Message) -> Option<Incoming> {
        let text = message.text()?.to_owned();
        let chat_kind = if message.chat.is_private() {
            ChatKind::Private
        } else if message.chat.is_channel() {
            ChatKind::Channel
        } else {
            ChatKind::Group
        };
        let thread_id = message
            .thread_id
            .filter(|_| message.is_topic_message)
            .map(|t| t.0.0);
        let sender = message.from.as_ref().filter(|u| !u.is_bot).map(|u| Sender {
            id: u.id.0 as i64,
            first_name: u.first_name.clone(),
            language_code: u.language_code.clone(),
        });
        Some(Incoming {
            target: Target {
                chat: ChatId(message.chat.id.0),
                thread_id,
            },
            chat_kind,
            sender,
            text,
        })
    }

    pub fn is_private(&self) -> bool {
        self.chat_kind == ChatKind::Private
    }
}
