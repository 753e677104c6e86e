//! The Bot API methods the fake answers (all but getUpdates, which waits and lives in
//! `mod.rs`), each checking its parameters as Telegram does.

use serde_json::{Value, json};

use super::html;
use super::state::{SentMessage, State};
use super::wire::{Reply, bot_user_json, chat_json, me_json};

pub const TEXT_LIMIT: usize = 4096;
pub const CAPTION_LIMIT: usize = 1024;
pub const CALLBACK_DATA_LIMIT: usize = 64;

/// Files uploaded with multipart requests, by field name.
pub type Files = Vec<(String, Vec<u8>)>;

/// The methods this fake answers, as the Bot API documentation spells them.
const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "answerCallbackQuery",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "sendPhoto",
    "sendChatAction",
    "getChatMember",
    "answerInlineQuery",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
];

/// Method names are case-insensitive (teloxide sends `SendMessage`); calls are recorded
/// under the documented spelling.
pub fn canonical(method: &str) -> String {
    METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_owned(), |m| m.to_string())
}

pub fn call(state: &mut State, method: &str, params: &Value, files: &Files) -> Reply {
    let result = match method.to_ascii_lowercase().as_str() {
        "getme" => Ok(me_json(state.bot_id, &state.bot_username, state.inline_mode)),
        "sendmessage" => send_message(state, params),
        "editmessagetext" => edit_message_text(state, params),
        "answercallbackquery" => answer_callback_query(state, params),
        "answerinlinequery" => super::inline::answer(state, params),
        "setmycommands" => check_scope(params).and_then(|()| set_my_commands(state, params)),
        "getmycommands" => check_scope(params).and_then(|()| get_my_commands(state, params)),
        "deletemycommands" => check_scope(params).map(|()| {
            state.commands.remove(&command_key(params));
            json!(true)
        }),
        "sendphoto" => send_photo(state, params, files),
        "getchatmember" => get_chat_member(state, params),
        "sendchataction" => Ok(json!(true)),
        m @ ("deletewebhook" | "setwebhook" | "getwebhookinfo") => Ok(state.webhook_method(m, params)),
        _ => Err(Reply::error(404, "Not Found")),
    };
    result.map_or_else(|e| e, Reply::ok)
}

/// A parameter as an integer, whether sent as a JSON number or (multipart) as text.
pub fn int_param(params: &Value, name: &str) -> Option<i64> {
    match &params[name] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn str_param<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params[name].as_str()
}

/// A parameter holding JSON, sent as an object or (multipart) as a JSON string.
pub(super) fn json_param(params: &Value, name: &str) -> Result<Option<Value>, Reply> {
    match &params[name] {
        Value::Null => Ok(None),
        Value::String(s) => serde_json::from_str(s)
            .map(Some)
            .map_err(|_| Reply::bad_request(&format!("can't parse {name} JSON object"))),
        other => Ok(Some(other.clone())),
    }
}

fn chat_id(params: &Value) -> Result<i64, Reply> {
    int_param(params, "chat_id").ok_or_else(|| Reply::bad_request("chat_id is empty"))
}

/// Applies the parse mode; returns the text a client shows.
pub(super) fn shown_text(text: &str, parse_mode: Option<&str>) -> Result<String, Reply> {
    match parse_mode {
        None => Ok(text.to_owned()),
        Some(mode) if mode.eq_ignore_ascii_case("html") => {
            html::parse(text).map_err(|detail| Reply::bad_request(&detail))
        }
        Some(other) => Err(Reply::bad_request(&format!("unsupported parse_mode {other:?} in this fake"))),
    }
}

fn check_text(params: &Value, too_long: &str) -> Result<(String, String), Reply> {
    let raw = str_param(params, "text").unwrap_or_default().to_owned();
    let shown = shown_text(&raw, str_param(params, "parse_mode"))?;
    if shown.trim().is_empty() {
        return Err(Reply::bad_request("message text is empty"));
    }
    if html::telegram_length(&shown) > TEXT_LIMIT {
        return Err(Reply::bad_request(too_long));
    }
    Ok((raw, shown))
}

/// The `reply_markup` of a request or of an inline result, checked as Telegram checks it.
pub(super) fn check_markup_of(params: &Value) -> Result<Option<Value>, Reply> {
    check_markup(params)
}

fn check_markup(params: &Value) -> Result<Option<Value>, Reply> {
    let Some(markup) = json_param(params, "reply_markup")? else {
        return Ok(None);
    };
    if let Some(rows) = markup.get("inline_keyboard") {
        let rows = rows.as_array().ok_or_else(|| Reply::bad_request("inline keyboard expected"))?;
        for button in rows.iter().flat_map(|r| r.as_array().cloned().unwrap_or_default()) {
            if button["text"].as_str().is_none_or(|t| t.trim().is_empty()) {
                return Err(Reply::bad_request("BUTTON_TEXT_INVALID"));
            }
            if let Some(data) = button.get("callback_data") {
                let len = data.as_str().map_or(0, str::len);
                if len == 0 || len > CALLBACK_DATA_LIMIT {
                    return Err(Reply::bad_request("BUTTON_DATA_INVALID"));
                }
            } else if let Some(url) = button.get("url") {
                let url = url.as_str().unwrap_or_default();
                if !["https://", "http://", "tg://"].iter().any(|scheme| url.starts_with(scheme)) {
                    return Err(Reply::bad_request("BUTTON_URL_INVALID"));
                }
            } else if let Some(query) = button.get("switch_inline_query") {
                // The query a client types after the bot's @username: up to 256 characters.
                if query.as_str().is_none_or(|q| q.chars().count() > 256) {
                    return Err(Reply::bad_request("BUTTON_TYPE_INVALID"));
                }
            } else {
                return Err(Reply::bad_request("can't find field \"callback_data\" or \"url\""));
            }
        }
    }
    Ok(Some(markup))
}

fn reply_to(params: &Value) -> Result<Option<i64>, Reply> {
    Ok(json_param(params, "reply_parameters")?.and_then(|r| r["message_id"].as_i64()))
}

fn send_message(state: &mut State, params: &Value) -> Result<Value, Reply> {
    let chat_id = chat_id(params)?;
    let (raw, text) = check_text(params, "message is too long")?;
    let reply_markup = check_markup(params)?;
    let message = SentMessage {
        chat_id,
        message_id: state.next_message_id(chat_id),
        raw,
        text,
        parse_mode: str_param(params, "parse_mode").map(str::to_owned),
        thread_id: int_param(params, "message_thread_id"),
        reply_to: reply_to(params)?,
        reply_markup,
        photo: None,
        photo_url: None,
        edits: 0,
    };
    let json = message_json(state, &message);
    state.sent.push(message);
    Ok(json)
}

fn edit_message_text(state: &mut State, params: &Value) -> Result<Value, Reply> {
    let chat_id = chat_id(params)?;
    let message_id =
        int_param(params, "message_id").ok_or_else(|| Reply::bad_request("message_id is empty"))?;
    let (raw, text) = check_text(params, "MESSAGE_TOO_LONG")?;
    let reply_markup = check_markup(params)?;
    let parse_mode = str_param(params, "parse_mode").map(str::to_owned);
    let index = state
        .sent
        .iter()
        .position(|m| m.chat_id == chat_id && i64::from(m.message_id) == message_id && m.photo.is_none())
        .ok_or_else(|| Reply::bad_request("message to edit not found"))?;
    let message = &mut state.sent[index];
    if message.raw == raw && message.reply_markup == reply_markup {
        return Err(Reply::bad_request(
            "message is not modified: specified new message content and reply markup are exactly the same \
             as a current content and reply markup of the message",
        ));
    }
    message.raw = raw;
    message.text = text;
    message.parse_mode = parse_mode;
    message.reply_markup = reply_markup;
    message.edits += 1;
    let message = message.clone();
    Ok(message_json(state, &message))
}

fn answer_callback_query(state: &mut State, params: &Value) -> Result<Value, Reply> {
    let id = str_param(params, "callback_query_id").unwrap_or_default();
    match state.callback_queries.get_mut(id) {
        Some(answered @ false) => {
            *answered = true;
            Ok(json!(true))
        }
        _ => Err(Reply::bad_request("query is too old and response timeout expired or query ID is invalid")),
    }
}

fn get_chat_member(state: &mut State, params: &Value) -> Result<Value, Reply> {
    let chat_id = chat_id(params)?;
    let user_id = int_param(params, "user_id").ok_or_else(|| Reply::bad_request("user_id is empty"))?;
    let user = json!({ "id": user_id, "is_bot": false, "first_name": "Member" });
    let is_admin = state.admins.get(&chat_id).is_some_and(|ids| ids.contains(&user_id));
    Ok(if chat_id > 0 && chat_id == user_id {
        json!({ "status": "member", "user": user })
    } else if is_admin {
        json!({
            "status": "administrator",
            "user": user,
            "can_be_edited": false,
            "is_anonymous": false,
            "can_manage_chat": true,
            "can_delete_messages": true,
            "can_manage_video_chats": true,
            "can_restrict_members": true,
            "can_promote_members": false,
            "can_change_info": true,
            "can_invite_users": true,
            "can_post_stories": false,
            "can_edit_stories": false,
            "can_delete_stories": false,
            "can_pin_messages": true,
            "can_manage_topics": true,
        })
    } else {
        json!({ "status": "member", "user": user })
    })
}

/// Refuses a `scope` Telegram would: an unknown type, or one that names a chat without
/// its `chat_id` (or a member without `user_id`), as `BotCommandScope` is documented.
fn check_scope(params: &Value) -> Result<(), Reply> {
    let Some(scope) = json_param(params, "scope")? else { return Ok(()) };
    let kind = scope["type"].as_str().unwrap_or_default();
    let needs_chat = match kind {
        "default" | "all_private_chats" | "all_group_chats" | "all_chat_administrators" => false,
        "chat" | "chat_administrators" | "chat_member" => true,
        _ => return Err(Reply::bad_request("BOT_COMMAND_SCOPE_INVALID")),
    };
    let missing = |field: &str| scope[field].is_null();
    if (needs_chat && missing("chat_id")) || (kind == "chat_member" && missing("user_id")) {
        return Err(Reply::bad_request("chat_id is empty"));
    }
    Ok(())
}

/// A menu's place: its scope (`default`, `all_group_chats`, …; `chat:<id>` for the scopes
/// that name a chat, `chat_member:<chat>:<user>` for one member) and its language code.
fn command_key(params: &Value) -> (String, String) {
    let scope = json_param(params, "scope").ok().flatten().unwrap_or(Value::Null);
    let kind = scope["type"].as_str().unwrap_or("default");
    let scope = match (kind, &scope["chat_id"], &scope["user_id"]) {
        ("chat_member", chat, user) => format!("chat_member:{chat}:{user}"),
        (kind, Value::Null, _) => kind.to_owned(),
        (kind, chat, _) => {
            format!("{kind}:{}", chat.as_str().map_or_else(|| chat.to_string(), str::to_owned))
        }
    };
    (scope, str_param(params, "language_code").unwrap_or_default().to_owned())
}

fn set_my_commands(state: &mut State, params: &Value) -> Result<Value, Reply> {
    let commands = json_param(params, "commands")?.unwrap_or(Value::Null);
    let commands = commands.as_array().ok_or_else(|| Reply::bad_request("commands is not an array"))?;
    let mut list = Vec::new();
    for c in commands {
        let name = c["command"].as_str().unwrap_or_default();
        let description = c["description"].as_str().unwrap_or_default();
        let name_ok = (1..=32).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(Reply::bad_request("BOT_COMMAND_INVALID"));
        }
        if !(1..=256).contains(&description.chars().count()) {
            return Err(Reply::bad_request("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
        list.push((name.to_owned(), description.to_owned()));
    }
    if list.len() > 100 {
        return Err(Reply::bad_request("too many commands"));
    }
    let language = str_param(params, "language_code").unwrap_or_default();
    if !language.is_empty() && language.len() != 2 {
        return Err(Reply::bad_request("language code is invalid"));
    }
    state.commands.insert(command_key(params), list);
    Ok(json!(true))
}

fn get_my_commands(state: &mut State, params: &Value) -> Result<Value, Reply> {
    let list = state.commands.get(&command_key(params)).cloned().unwrap_or_default();
    Ok(Value::Array(list.into_iter().map(|(c, d)| json!({ "command": c, "description": d })).collect()))
}

fn send_photo(state: &mut State, params: &Value, files: &Files) -> Result<Value, Reply> {
    let chat_id = chat_id(params)?;
    // A photo on the web, which Telegram fetches itself: as Telegram does, the fake cannot
    // fetch one from a host that does not exist (`.invalid`, RFC 2606).
    let url = str_param(params, "photo").filter(|p| p.starts_with("http://") || p.starts_with("https://"));
    if let Some(url) = url {
        let host = url.split('/').nth(2).unwrap_or_default();
        if host.ends_with(".invalid") {
            return Err(Reply::bad_request("failed to get HTTP URL content"));
        }
    }
    // Uploads come as a part named `photo`, or as `photo=attach://<part>`.
    let part = str_param(params, "photo").and_then(|p| p.strip_prefix("attach://")).unwrap_or("photo");
    let photo = match url {
        Some(_) => Vec::new(),
        None => files
            .iter()
            .find(|(name, _)| name == part)
            .map(|(_, bytes)| bytes.clone())
            .ok_or_else(|| Reply::bad_request("there is no photo in the request"))?,
    };
    if photo.is_empty() && url.is_none() {
        return Err(Reply::bad_request("IMAGE_PROCESS_FAILED"));
    }
    let raw = str_param(params, "caption").unwrap_or_default().to_owned();
    let text = shown_text(&raw, str_param(params, "parse_mode"))?;
    if html::telegram_length(&text) > CAPTION_LIMIT {
        return Err(Reply::bad_request("message caption is too long"));
    }
    let message = SentMessage {
        chat_id,
        message_id: state.next_message_id(chat_id),
        raw,
        text,
        parse_mode: str_param(params, "parse_mode").map(str::to_owned),
        thread_id: int_param(params, "message_thread_id"),
        reply_to: reply_to(params)?,
        reply_markup: check_markup(params)?,
        photo: Some(photo),
        photo_url: url.map(str::to_owned),
        edits: 0,
    };
    let json = message_json(state, &message);
    state.sent.push(message);
    Ok(json)
}

/// The `Message` object Telegram returns for a message the bot sent.
fn message_json(state: &State, m: &SentMessage) -> Value {
    let mut json = json!({
        "message_id": m.message_id,
        "date": 1_790_000_000,
        "chat": chat_json(m.chat_id, state.channels.contains(&m.chat_id)),
        "from": bot_user_json(state.bot_id, &state.bot_username),
    });
    match &m.photo {
        Some(bytes) => {
            let (width, height) = png_size(bytes).unwrap_or((0, 0));
            json["photo"] = json!([{
                "file_id": format!("photo-{}-{}", m.chat_id, m.message_id),
                "file_unique_id": format!("u{}{}", m.chat_id, m.message_id),
                "width": width,
                "height": height,
                "file_size": bytes.len(),
            }]);
            if !m.text.is_empty() {
                json["caption"] = json!(m.text);
            }
        }
        None => json["text"] = json!(m.text),
    }
    if let Some(thread) = m.thread_id {
        json["message_thread_id"] = json!(thread);
        json["is_topic_message"] = json!(true);
    }
    if let Some(markup) = &m.reply_markup {
        json["reply_markup"] = markup.clone();
    }
    json
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some((word(16), word(20)))
}
