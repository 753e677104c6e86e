//! Inline mode in the fake: `inline_query` updates, `answerInlineQuery` checked as
//! Telegram checks it, and the message a chosen result becomes (sent by the user "via"
//! the bot, in a chat the bot need not be in).
//!
//! Checks, after the Bot API's `answerInlineQuery` and `InlineQueryResultArticle`: the
//! query id is one Telegram sent and not yet answered; at most 50 results; each has a
//! known `type`, an `id` of 1–64 bytes unique in the answer, a `title`, and
//! `input_message_content.message_text` that parses in its `parse_mode` to 1–4096
//! characters; its `reply_markup` passes the checks a message's does; `next_offset` is at
//! most 64 bytes.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::methods::{TEXT_LIMIT, check_markup_of, json_param, shown_text};
use super::state::{SentMessage, State};
use super::wire::Reply;

/// The most results one answer may hold.
pub const RESULTS_LIMIT: usize = 50;
/// The most bytes a result id and a `next_offset` may have.
pub const ID_LIMIT: usize = 64;

/// The result types the Bot API documents (`InlineQueryResult`).
const RESULT_TYPES: &[&str] = &[
    "article",
    "photo",
    "gif",
    "mpeg4_gif",
    "video",
    "audio",
    "voice",
    "document",
    "location",
    "venue",
    "contact",
    "game",
    "sticker",
];

/// What the bot answered to one inline query.
#[derive(Clone, Debug, PartialEq)]
pub struct InlineAnswer {
    pub query_id: String,
    /// The `InlineQueryResult` objects as sent.
    pub results: Vec<Value>,
    pub cache_time: Option<i64>,
    pub is_personal: Option<bool>,
    pub next_offset: String,
}

impl InlineAnswer {
    /// Each result's `(id, title)`, in order.
    pub fn titles(&self) -> Vec<(String, String)> {
        self.results
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap_or_default().to_owned(),
                    r["title"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.titles().into_iter().map(|(id, _)| id).collect()
    }

    /// The result with id `id`; fails the test if there is none.
    pub fn result(&self, id: &str) -> &Value {
        self.results
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no result {id:?} among {:?}", self.ids()))
    }

    /// Every string a person sees of the results — titles, descriptions, message texts
    /// as a client shows them, button labels — one per line.
    pub fn shown(&self) -> Vec<String> {
        let mut shown = Vec::new();
        for r in &self.results {
            for field in ["title", "description"] {
                if let Some(s) = r[field].as_str() {
                    shown.push(s.to_owned());
                }
            }
            let content = &r["input_message_content"];
            if let Some(text) = content["message_text"].as_str() {
                shown.push(
                    shown_text(text, content["parse_mode"].as_str()).unwrap_or_else(|_| text.to_owned()),
                );
            }
            for row in r["reply_markup"]["inline_keyboard"].as_array().into_iter().flatten() {
                for button in row.as_array().into_iter().flatten() {
                    shown.push(button["text"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        shown
    }
}

/// A message a user sent by choosing an inline result: the chat's message as Telegram
/// delivers it (`from` the user, `via_bot` the bot) and as a client shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChosenMessage {
    pub message: SentMessage,
    /// The `Message` object, with `via_bot`.
    pub json: Value,
}

/// An `inline_query` update's object, as Telegram sends it.
pub fn query_json(id: &str, from: Value, query: &str, offset: &str, chat_type: &str) -> Value {
    json!({ "id": id, "from": from, "query": query, "offset": offset, "chat_type": chat_type })
}

/// `answerInlineQuery`.
pub fn answer(state: &mut State, params: &Value) -> Result<Value, Reply> {
    let id = params["inline_query_id"].as_str().unwrap_or_default().to_owned();
    match state.inline_queries.get(&id) {
        Some(None) => {}
        _ => {
            return Err(Reply::bad_request(
                "query is too old and response timeout expired or query ID is invalid",
            ));
        }
    }
    let results = json_param(params, "results")?.unwrap_or(Value::Null);
    let results = results.as_array().ok_or_else(|| Reply::bad_request("results is not an array"))?.clone();
    if results.len() > RESULTS_LIMIT {
        return Err(Reply::bad_request("RESULTS_TOO_MUCH"));
    }
    let mut ids = HashSet::new();
    for result in &results {
        check_result(result)?;
        if !ids.insert(result["id"].as_str().unwrap_or_default().to_owned()) {
            return Err(Reply::bad_request("RESULT_ID_DUPLICATE"));
        }
    }
    let next_offset = params["next_offset"].as_str().unwrap_or_default().to_owned();
    if next_offset.len() > ID_LIMIT {
        return Err(Reply::bad_request("NEXT_OFFSET_INVALID"));
    }
    let answer = InlineAnswer {
        query_id: id.clone(),
        results,
        cache_time: super::methods::int_param(params, "cache_time"),
        is_personal: params["is_personal"].as_bool(),
        next_offset,
    };
    state.inline_queries.insert(id, Some(answer));
    Ok(json!(true))
}

fn check_result(result: &Value) -> Result<(), Reply> {
    let kind = result["type"].as_str().unwrap_or_default();
    if !RESULT_TYPES.contains(&kind) {
        return Err(Reply::bad_request("RESULT_TYPE_INVALID"));
    }
    let id = result["id"].as_str().unwrap_or_default();
    if id.is_empty() || id.len() > ID_LIMIT {
        return Err(Reply::bad_request("RESULT_ID_INVALID"));
    }
    if kind != "article" {
        return Ok(());
    }
    if result["title"].as_str().is_none_or(|t| t.trim().is_empty()) {
        return Err(Reply::bad_request("RESULT_TITLE_EMPTY"));
    }
    let content = &result["input_message_content"];
    let text = content["message_text"]
        .as_str()
        .ok_or_else(|| Reply::bad_request("can't parse InputMessageContent: message_text is empty"))?;
    message_text(text, content["parse_mode"].as_str())?;
    check_markup_of(result)?;
    Ok(())
}

/// Checks a message text as Telegram does; returns what a client shows.
fn message_text(text: &str, parse_mode: Option<&str>) -> Result<String, Reply> {
    let shown = shown_text(text, parse_mode)?;
    if shown.trim().is_empty() {
        return Err(Reply::bad_request("MESSAGE_EMPTY"));
    }
    if super::html::telegram_length(&shown) > TEXT_LIMIT {
        return Err(Reply::bad_request("MESSAGE_TOO_LONG"));
    }
    Ok(shown)
}

/// `from` chose `result` of an answer in chat `chat_id`: the message it becomes. A
/// result Telegram would not send is refused with Telegram's description.
pub fn choose(state: &mut State, from: Value, result: &Value, chat_id: i64) -> Result<ChosenMessage, String> {
    let content = &result["input_message_content"];
    let raw = content["message_text"].as_str().ok_or("the result has no message text")?.to_owned();
    let parse_mode = content["parse_mode"].as_str().map(str::to_owned);
    let text = message_text(&raw, parse_mode.as_deref()).map_err(|r| r.body["description"].to_string())?;
    let reply_markup = check_markup_of(result).map_err(|r| r.body["description"].to_string())?;
    let message = SentMessage {
        chat_id,
        message_id: state.next_message_id(chat_id),
        raw,
        text,
        parse_mode,
        thread_id: None,
        reply_to: None,
        reply_markup,
        photo: None,
        photo_url: None,
        edits: 0,
    };
    let mut json = json!({
        "message_id": message.message_id,
        "date": 1_790_000_000,
        "chat": super::wire::chat_json(chat_id, state.channels.contains(&chat_id)),
        "from": from,
        "via_bot": super::wire::bot_user_json(state.bot_id, &state.bot_username),
        "text": message.text,
    });
    if let Some(markup) = &message.reply_markup {
        json["reply_markup"] = markup.clone();
    }
    let chosen = ChosenMessage { message, json };
    state.via_bot.push(chosen.clone());
    Ok(chosen)
}
