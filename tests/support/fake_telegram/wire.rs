//! The Bot API's JSON shapes: users, chats, messages, and the `ok`/`error` envelope.

use serde_json::{Value, json};

/// A reply of the Bot API: HTTP status and JSON body (or, from a misbehaving proxy,
/// something else).
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// Sent instead of `body` when set: not Telegram's JSON.
    pub raw: Option<&'static str>,
}

impl Reply {
    pub fn raw(status: u16, text: &'static str) -> Reply {
        Reply { status, body: Value::Null, raw: Some(text) }
    }

    pub fn ok(result: Value) -> Reply {
        Reply { status: 200, body: json!({ "ok": true, "result": result }), raw: None }
    }

    pub fn error(status: u16, description: &str) -> Reply {
        Reply {
            status,
            body: json!({ "ok": false, "error_code": status, "description": description }),
            raw: None,
        }
    }

    pub fn bad_request(detail: &str) -> Reply {
        Reply::error(400, &format!("Bad Request: {detail}"))
    }

    pub fn retry_after(seconds: u32) -> Reply {
        Reply {
            status: 429,
            body: json!({
                "ok": false,
                "error_code": 429,
                "description": format!("Too Many Requests: retry after {seconds}"),
                "parameters": { "retry_after": seconds },
            }),
            raw: None,
        }
    }

    pub fn migrated(to: i64) -> Reply {
        Reply {
            status: 400,
            body: json!({
                "ok": false,
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": { "migrate_to_chat_id": to },
            }),
            raw: None,
        }
    }
}

/// A Telegram user as the API describes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub language_code: Option<String>,
    /// Their @username (without the `@`), if they have one.
    pub username: Option<String>,
}

impl TgUser {
    pub fn new(id: i64, first_name: &str, language_code: Option<&str>) -> TgUser {
        TgUser {
            id,
            first_name: first_name.to_owned(),
            language_code: language_code.map(str::to_owned),
            username: None,
        }
    }

    /// The same user with an @username (given without the `@`).
    pub fn with_username(mut self, username: &str) -> TgUser {
        self.username = Some(username.to_owned());
        self
    }

    pub fn json(&self) -> Value {
        let mut user = json!({ "id": self.id, "is_bot": false, "first_name": self.first_name });
        if let Some(code) = &self.language_code {
            user["language_code"] = json!(code);
        }
        if let Some(name) = &self.username {
            user["username"] = json!(name);
        }
        user
    }
}

/// Where a forwarded message came from: Bot API 7's `forward_origin` (`MessageOrigin`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForwardOrigin {
    /// `MessageOriginUser`: a person whose account the forward links to.
    User(TgUser),
    /// `MessageOriginHiddenUser`: a person who hides their account; only a name.
    HiddenUser(String),
    /// `MessageOriginChat`: a group posting in its own name (an anonymous admin).
    Chat { id: i64, title: String },
    /// `MessageOriginChannel`: a post of a channel.
    Channel { id: i64, title: String, message_id: i32 },
}

impl ForwardOrigin {
    /// The object as Telegram sends it, dated `date` (Unix seconds).
    pub fn json(&self, date: i64) -> Value {
        match self {
            ForwardOrigin::User(user) => json!({ "type": "user", "date": date, "sender_user": user.json() }),
            ForwardOrigin::HiddenUser(name) => {
                json!({ "type": "hidden_user", "date": date, "sender_user_name": name })
            }
            ForwardOrigin::Chat { id, title } => json!({
                "type": "chat",
                "date": date,
                "sender_chat": { "id": id, "type": "supergroup", "title": title },
            }),
            ForwardOrigin::Channel { id, title, message_id } => json!({
                "type": "channel",
                "date": date,
                "chat": { "id": id, "type": "channel", "title": title },
                "message_id": message_id,
            }),
        }
    }
}

/// The kind of chat an id stands for: positive ids are private chats, `-100…` ids are
/// supergroups, other negative ids are basic groups (channels are registered explicitly).
pub fn chat_json(id: i64, channel: bool) -> Value {
    if id > 0 {
        json!({ "id": id, "type": "private", "first_name": "User" })
    } else if channel {
        json!({ "id": id, "type": "channel", "title": "Channel" })
    } else if id < -1_000_000_000_000 {
        json!({ "id": id, "type": "supergroup", "title": "Supergroup", "is_forum": true })
    } else {
        json!({ "id": id, "type": "group", "title": "Group" })
    }
}

pub fn bot_user_json(id: i64, username: &str) -> Value {
    json!({ "id": id, "is_bot": true, "first_name": "Pingan", "username": username })
}

/// `getMe`'s answer; `inline` says whether inline mode is on (@BotFather's `/setinline`).
pub fn me_json(id: i64, username: &str, inline: bool) -> Value {
    let mut me = bot_user_json(id, username);
    for (flag, value) in [
        ("can_join_groups", true),
        ("can_read_all_group_messages", false),
        ("supports_inline_queries", inline),
        ("can_connect_to_business", false),
        ("has_main_web_app", false),
    ] {
        me[flag] = json!(value);
    }
    me
}

/// Entities a client attaches to a typed command, so updates look like the real thing.
pub fn command_entities(text: &str) -> Option<Value> {
    if !text.starts_with('/') {
        return None;
    }
    let length: usize = text.split_whitespace().next().map_or(0, |w| w.encode_utf16().count());
    Some(json!([{ "type": "bot_command", "offset": 0, "length": length }]))
}
