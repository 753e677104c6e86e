//! What the fake Bot API remembers: pending updates, every call, every message the bot
//! sent, and the faults it was told to produce.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use serde_json::Value;

use super::wire::Reply;

/// One request the bot made.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub status: u16,
    /// When the fake answered it.
    pub at: Instant,
}

/// Telegram's flood limits, for a fake that enforces them: over a limit, a send gets 429.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Messages in any one second, to all chats.
    pub per_second: usize,
    /// The least time between two messages to one private chat.
    pub chat_interval: Duration,
    /// Messages in any one minute to one group.
    pub group_per_minute: usize,
}

impl Limits {
    /// Telegram's published figures, with a little slack for request jitter.
    pub fn telegram() -> Limits {
        Limits { per_second: 30, chat_interval: Duration::from_millis(900), group_per_minute: 20 }
    }
}

/// Recent sends, for enforcing [`Limits`].
#[derive(Debug, Default)]
pub struct Flood {
    pub limits: Option<Limits>,
    all: VecDeque<Instant>,
    per_chat: HashMap<i64, VecDeque<Instant>>,
}

impl Flood {
    /// Whether a send to `chat` now would break a limit; if not, counts it.
    pub fn refuse(&mut self, chat: i64, now: Instant) -> bool {
        let Some(limits) = self.limits else { return false };
        while self.all.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            self.all.pop_front();
        }
        let chat_sends = self.per_chat.entry(chat).or_default();
        while chat_sends.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            chat_sends.pop_front();
        }
        let chat_too_soon = if chat < 0 {
            chat_sends.len() >= limits.group_per_minute
        } else {
            chat_sends.back().is_some_and(|t| now.duration_since(*t) < limits.chat_interval)
        };
        if self.all.len() >= limits.per_second || chat_too_soon {
            return true;
        }
        self.all.push_back(now);
        chat_sends.push_back(now);
        false
    }
}

/// A message the bot sent, as it stands after any edits.
#[derive(Clone, Debug, PartialEq)]
pub struct SentMessage {
    pub chat_id: i64,
    pub message_id: i32,
    /// The `text` (or caption) exactly as the bot sent it.
    pub raw: String,
    /// What a client shows: markup removed, entities decoded.
    pub text: String,
    pub parse_mode: Option<String>,
    pub thread_id: Option<i64>,
    pub reply_to: Option<i64>,
    pub reply_markup: Option<Value>,
    /// An uploaded photo's bytes (empty for one sent by URL).
    pub photo: Option<Vec<u8>>,
    /// The URL of a photo sent by URL, which Telegram fetches itself.
    pub photo_url: Option<String>,
    pub edits: u32,
}

impl SentMessage {
    /// The labels and callback data of the inline keyboard's buttons, row by row.
    pub fn buttons(&self) -> Vec<Vec<(String, Option<String>)>> {
        let rows = self.reply_markup.as_ref().and_then(|m| m["inline_keyboard"].as_array());
        rows.map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|buttons| {
                            buttons
                                .iter()
                                .map(|b| {
                                    let label = b["text"].as_str().unwrap_or_default().to_owned();
                                    (label, b["callback_data"].as_str().map(str::to_owned))
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
    }
}

/// What to do to a matching request instead of (or before) answering it normally.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 429 with `parameters.retry_after`.
    RetryAfter(u32),
    /// 403 "Forbidden: bot was blocked by the user".
    Blocked,
    /// 403 "Forbidden: user is deactivated".
    Deactivated,
    /// 403 "Forbidden: bot was kicked from the group chat".
    Kicked,
    /// 400 "Bad Request: chat not found".
    ChatNotFound,
    /// 400 with `parameters.migrate_to_chat_id`.
    Migrate(i64),
    /// A 5xx status with Telegram's JSON body.
    ServerError(u16),
    /// 401 "Unauthorized": the token was revoked.
    Unauthorized,
    /// 404 "Not Found": a local Bot API server that does not know the method or the bot.
    NotFound,
    /// 502 with an HTML page, as a proxy in front of Telegram answers.
    ProxyPage,
    /// 200 with a body that is not Telegram's JSON.
    NotJson,
    /// A page that is not Telegram's JSON, with this status: what a web server or a proxy
    /// in front of the Bot API answers (Apache's 404 quotes the requested path).
    Page(u16, &'static str),
    /// 400 "Bad Request: message thread not found": the forum topic was deleted.
    ThreadNotFound,
    /// 400 "Bad Request: TOPIC_CLOSED".
    TopicClosed,
    /// 400 "Bad Request: not enough rights to send text messages to the chat".
    NoRights,
    /// Answer normally, but only after this long.
    Delay(Duration),
}

impl Fault {
    pub(super) fn reply(&self) -> Option<Reply> {
        Some(match self {
            Fault::RetryAfter(s) => Reply::retry_after(*s),
            Fault::Blocked => Reply::error(403, "Forbidden: bot was blocked by the user"),
            Fault::Deactivated => Reply::error(403, "Forbidden: user is deactivated"),
            Fault::Kicked => Reply::error(403, "Forbidden: bot was kicked from the group chat"),
            Fault::ChatNotFound => Reply::bad_request("chat not found"),
            Fault::Migrate(to) => Reply::migrated(*to),
            Fault::ServerError(code) => Reply::error(*code, server_error_text(*code)),
            Fault::Unauthorized => Reply::error(401, "Unauthorized"),
            Fault::NotFound => Reply::error(404, "Not Found"),
            Fault::ProxyPage => Reply::raw(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
            Fault::NotJson => Reply::raw(200, "<html>maintenance</html>"),
            Fault::Page(status, page) => Reply::raw(*status, page),
            Fault::ThreadNotFound => Reply::bad_request("message thread not found"),
            Fault::TopicClosed => Reply::bad_request("TOPIC_CLOSED"),
            Fault::NoRights => Reply::bad_request("not enough rights to send text messages to the chat"),
            Fault::Delay(_) => return None,
        })
    }
}

fn server_error_text(code: u16) -> &'static str {
    match code {
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    }
}

/// A fault for requests that match a method and/or chat, a number of times or forever.
#[derive(Clone, Debug)]
pub struct FaultRule {
    pub method: Option<String>,
    pub chat_id: Option<i64>,
    pub remaining: Option<u32>,
    pub fault: Fault,
}

impl FaultRule {
    /// Every request of `method` gets `fault`.
    pub fn on(method: &str, fault: Fault) -> FaultRule {
        FaultRule { method: Some(method.to_owned()), chat_id: None, remaining: None, fault }
    }

    /// Only requests for this chat.
    pub fn chat(mut self, chat_id: i64) -> FaultRule {
        self.chat_id = Some(chat_id);
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> FaultRule {
        self.remaining = Some(n);
        self
    }

    fn matches(&self, method: &str, chat_id: Option<i64>) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self.chat_id.is_none_or(|c| Some(c) == chat_id)
            && self.remaining != Some(0)
    }
}

#[derive(Debug)]
pub struct State {
    pub token: String,
    pub bot_id: i64,
    pub bot_username: String,
    /// Updates not yet confirmed by a getUpdates offset past them.
    pub pending: VecDeque<(i64, Value)>,
    pub next_update_id: i64,
    /// Every update id below this has been confirmed.
    pub confirmed_below: i64,
    /// Bumped by each getUpdates; an older poll still waiting sees it and gets 409.
    pub poll_generation: u64,
    pub calls: Vec<Call>,
    /// The method of every request as it arrived, before it is answered (a slow answer
    /// is in `calls` only once given).
    pub arrived: Vec<String>,
    pub sent: Vec<SentMessage>,
    next_message_id: HashMap<i64, i32>,
    /// (scope type, language code) -> commands as (command, description).
    pub commands: HashMap<(String, String), Vec<(String, String)>>,
    pub channels: HashSet<i64>,
    /// Group id -> its administrators' user ids.
    pub admins: HashMap<i64, HashSet<i64>>,
    /// Callback query id -> whether the bot has answered it.
    pub callback_queries: HashMap<String, bool>,
    pub faults: Vec<FaultRule>,
    /// Sends fail at random: (share answered 502, share answered 429, the generator).
    pub random_errors: Option<(f64, f64, fastrand::Rng)>,
    pub flood: Flood,
    /// Every string users put into an update (texts, captions, names, button data), kept
    /// after the update is confirmed: what a reply may quote back in any language.
    pub typed: Vec<String>,
    /// Webhook mode: what is registered, and every post.
    pub webhooks: super::webhook::Webhooks,
    /// Whether the bot has inline mode (@BotFather's `/setinline`); off as for a new bot.
    pub inline_mode: bool,
    /// Inline query id -> the bot's answer, once given.
    pub inline_queries: HashMap<String, Option<super::inline::InlineAnswer>>,
    /// Messages users sent by choosing one of the bot's inline results.
    pub via_bot: Vec<super::inline::ChosenMessage>,
    /// The `allowed_updates` of the last getUpdates that gave them, if any did.
    pub polled_updates: Option<Vec<String>>,
}

impl State {
    pub fn new(token: &str) -> State {
        State {
            token: token.to_owned(),
            bot_id: 7_000_000_001,
            bot_username: "pingan_test_bot".to_owned(),
            pending: VecDeque::new(),
            next_update_id: 1,
            confirmed_below: 1,
            poll_generation: 0,
            calls: Vec::new(),
            arrived: Vec::new(),
            sent: Vec::new(),
            next_message_id: HashMap::new(),
            commands: HashMap::new(),
            channels: HashSet::new(),
            admins: HashMap::new(),
            callback_queries: HashMap::new(),
            faults: Vec::new(),
            random_errors: None,
            flood: Flood::default(),
            typed: Vec::new(),
            webhooks: Default::default(),
            inline_mode: false,
            inline_queries: HashMap::new(),
            via_bot: Vec::new(),
            polled_updates: None,
        }
    }

    /// Message ids count up per chat, shared by users' and the bot's messages.
    pub fn next_message_id(&mut self, chat_id: i64) -> i32 {
        let id = self.next_message_id.entry(chat_id).or_insert(0);
        *id += 1;
        *id
    }

    pub fn push_update(&mut self, mut update: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        update["update_id"] = Value::from(id);
        collect_strings(&update, &mut self.typed);
        self.pending.push_back((id, update));
        id
    }

    /// The fault to apply to this request, if any; counts down limited rules.
    pub fn take_fault(&mut self, method: &str, chat_id: Option<i64>) -> Option<Fault> {
        if let Some(rule) = self.faults.iter_mut().find(|r| r.matches(method, chat_id)) {
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            return Some(rule.fault.clone());
        }
        let sends = matches!(method, "sendMessage" | "sendPhoto" | "editMessageText" | "copyMessage");
        let (server_errors, retry_afters, rng) = self.random_errors.as_mut().filter(|_| sends)?;
        let roll = rng.f64();
        if roll < *server_errors {
            Some(Fault::ServerError(502))
        } else if roll < *server_errors + *retry_afters {
            Some(Fault::RetryAfter(1))
        } else {
            None
        }
    }
}

/// Every string value inside `value`, in document order.
fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}
