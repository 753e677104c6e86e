//! Updates from Telegram, reduced to what Pingan's handlers need.

use teloxide::types::{
    CallbackQuery, Chat, InlineQuery, MaybeInaccessibleMessage, Message, MessageOrigin, User,
};

use crate::domain::ChatId;
use crate::telegram::outbound::Sent;
pub use crate::telegram::outbound::Target;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    Group,
    Channel,
}

impl ChatKind {
    fn of(chat: &Chat) -> ChatKind {
        if chat.is_private() {
            ChatKind::Private
        } else if chat.is_channel() {
            ChatKind::Channel
        } else {
            ChatKind::Group
        }
    }
}

/// The person behind a message or a button press.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    pub id: i64,
    pub first_name: String,
    /// The language their Telegram client is set to (`zh-hans`, `en`, …), if it says.
    pub language_code: Option<String>,
    /// A group admin posting anonymously, as the group itself.
    pub anonymous_admin: bool,
    /// Their @username, if they have one (`from.username`).
    pub username: Option<String>,
}

impl Sender {
    fn from_user(user: &User) -> Sender {
        Sender {
            id: user.id.0 as i64,
            first_name: user.first_name.clone(),
            language_code: user.language_code.clone(),
            anonymous_admin: false,
            username: user.username.clone(),
        }
    }
}

/// Where an update happened and who did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub target: Target,
    pub chat_kind: ChatKind,
    pub sender: Option<Sender>,
}

impl Origin {
    pub fn is_private(&self) -> bool {
        self.chat_kind == ChatKind::Private
    }
}

/// A text message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub origin: Origin,
    pub text: String,
    /// Who a forwarded message came from (Telegram's `forward_origin`); `None` if the
    /// sender wrote it.
    pub forwarded_from: Option<Forwarded>,
    /// A location the sender shared (Telegram's `location` message; `text` is then
    /// empty). Used once to find a district and never stored or logged.
    pub location: Option<SharedLocation>,
}

/// A shared point, in degrees (WGS 84), as Telegram's `Location` gives it. Its `Debug`
/// hides the coordinates, so that no log line can carry them.
#[derive(Clone, Copy, PartialEq)]
pub struct SharedLocation {
    pub latitude: f64,
    pub longitude: f64,
}

impl Eq for SharedLocation {}

impl std::fmt::Debug for SharedLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLocation(..)")
    }
}

/// Where a forwarded message came from, as Telegram's `forward_origin` says (Bot API 7):
/// a person whose account is linked (`user`), a person who hides it (`hidden_user`: only
/// a name), or a group or channel posting in its own name (`chat`, `channel`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forwarded {
    /// `MessageOriginUser`: the author's user id, full name, and whether it is a bot.
    User { id: i64, name: String, is_bot: bool },
    /// `MessageOriginHiddenUser`: the author hides their account; only their name.
    HiddenUser { name: String },
    /// `MessageOriginChat` or `MessageOriginChannel`: posted in a chat's name (its title).
    Chat { title: String },
}

impl Forwarded {
    /// The name a forwarded message shows as its origin.
    pub fn name(&self) -> &str {
        match self {
            Forwarded::User { name, .. } | Forwarded::HiddenUser { name } => name,
            Forwarded::Chat { title } => title,
        }
    }

    fn of(origin: &MessageOrigin) -> Forwarded {
        match origin {
            MessageOrigin::User { sender_user, .. } => Forwarded::User {
                id: sender_user.id.0 as i64,
                name: sender_user.full_name(),
                is_bot: sender_user.is_bot,
            },
            MessageOrigin::HiddenUser { sender_user_name, .. } => {
                Forwarded::HiddenUser { name: sender_user_name.clone() }
            }
            MessageOrigin::Chat { sender_chat, .. } => {
                Forwarded::Chat { title: sender_chat.title().unwrap_or_default().to_owned() }
            }
            MessageOrigin::Channel { chat, .. } => {
                Forwarded::Chat { title: chat.title().unwrap_or_default().to_owned() }
            }
        }
    }
}

impl Incoming {
    /// Text messages, the caption of a forwarded photo or file (scammers' QR codes
    /// and screenshots come so), and locations the sender shared (not forwarded ones);
    /// other media and service messages give `None`.
    pub fn from_message(message: &Message) -> Option<Incoming> {
        let location = message
            .location()
            .filter(|_| message.forward_origin().is_none())
            .map(|l| SharedLocation { latitude: l.latitude, longitude: l.longitude });
        let text = match location {
            Some(_) => String::new(),
            None => message.text().or_else(|| message.forward_origin().and(message.caption()))?.to_owned(),
        };
        let thread_id = message.thread_id.filter(|_| message.is_topic_message).map(|t| t.0.0);
        let anonymous_admin = message.sender_chat.as_ref().is_some_and(|c| c.id == message.chat.id);
        let sender = message
            .from
            .as_ref()
            .filter(|u| !u.is_bot || anonymous_admin)
            .map(|u| Sender { anonymous_admin, ..Sender::from_user(u) });
        Some(Incoming {
            origin: Origin {
                target: Target { chat: ChatId(message.chat.id.0), thread_id },
                chat_kind: ChatKind::of(&message.chat),
                sender,
            },
            text,
            forwarded_from: message.forward_origin().map(Forwarded::of),
            location,
        })
    }
}

/// A press on one of Pingan's inline buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ButtonPress {
    pub id: String,
    pub origin: Origin,
    /// The message the button is on.
    pub message: Sent,
    pub data: String,
}

impl ButtonPress {
    /// Presses on messages Pingan can still see; others (too old, inline mode) give `None`.
    pub fn from_query(query: &CallbackQuery) -> Option<ButtonPress> {
        let MaybeInaccessibleMessage::Regular(message) = query.message.as_ref()? else {
            return None;
        };
        let thread_id = message.thread_id.filter(|_| message.is_topic_message).map(|t| t.0.0);
        let chat = ChatId(message.chat.id.0);
        Some(ButtonPress {
            id: query.id.0.clone(),
            origin: Origin {
                target: Target { chat, thread_id },
                chat_kind: ChatKind::of(&message.chat),
                sender: Some(Sender::from_user(&query.from)),
            },
            message: Sent { chat, message_id: message.id.0 },
            data: query.data.clone().unwrap_or_default(),
        })
    }
}

/// An inline query: someone typed `@<bot> <query>` in a chat's input field (Bot API
/// `InlineQuery`). It names no chat — only who asks, what they typed so far and which
/// page of the answer they want.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineAsk {
    /// `inline_query.id`, to answer with `answerInlineQuery`.
    pub id: String,
    pub sender: Sender,
    /// What follows the bot's @username (up to 512 characters).
    pub query: String,
    /// The `next_offset` of the page before, empty for the first page.
    pub offset: String,
}

impl InlineAsk {
    pub fn from_query(query: &InlineQuery) -> InlineAsk {
        InlineAsk {
            id: query.id.0.clone(),
            sender: Sender::from_user(&query.from),
            query: query.query.clone(),
            offset: query.offset.clone(),
        }
    }
}
