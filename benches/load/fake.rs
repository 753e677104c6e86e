//! A lean fake Bot API for the load benchmark: it speaks the real wire format for what a
//! bot calls while answering commands (`getMe`, `getUpdates` with offsets and long polling,
//! `sendMessage`, `editMessageText`, `answerCallbackQuery`, `setMyCommands`,
//! `deleteWebhook`; anything else is answered `true`), and keeps only what the benchmark
//! reads: when each update was handed out (the getUpdates answer that carried it) and
//! when each message to each chat arrived. Updates are serialised once, when queued, so
//! the fake spends little of the two cores the bots are measured on.
//!
//! The tests' fake (`tests/support/fake_telegram`) records every call with its parameters
//! and checks HTML; at 20 000 updates a second that costs more than the bots it serves,
//! and it does not record hand-outs.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::support::fake_telegram::wire::{TgUser, chat_json, command_entities, me_json};

pub const TOKEN: &str = "123456:BENCH-fake-token";
const BOT_ID: i64 = 7_000_000_001;

#[derive(Default)]
pub struct State {
    /// Queued, not yet confirmed updates: (update_id, the update serialised).
    pending: VecDeque<(i64, String)>,
    next_update_id: i64,
    /// By update id: when a getUpdates answer first carried it.
    pub handed_out: HashMap<i64, Instant>,
    /// By chat: when each sendMessage (or edit) to it arrived, in order. Only those
    /// Telegram would take: non-empty text of at most 4096 UTF-16 units.
    pub arrivals: HashMap<i64, Vec<Instant>>,
    /// Sends refused as Telegram would (no chat, empty or over-long text).
    pub refused: u64,
    /// Calls by method.
    pub calls: HashMap<String, u64>,
    next_message_id: i64,
}

struct Shared {
    state: Mutex<State>,
    news: Notify,
}

pub struct Fake {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Fake {
    pub async fn start() -> Fake {
        let shared = Arc::new(Shared {
            state: Mutex::new(State { next_update_id: 1, ..State::default() }),
            news: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake Bot API");
        let addr = listener.local_addr().expect("fake Bot API address");
        let app = Router::new().route("/{bot}/{method}", any(handle)).with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Bot API server");
        });
        Fake { shared, addr, server }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `user` typing `text` in their private chat; returns the update id.
    pub fn user_sends(&self, user: &TgUser, text: &str) -> i64 {
        let id = self.queue(&mut self.lock(), user, text);
        self.shared.news.notify_waiters();
        id
    }

    /// Queues many at once (one wake-up for the poll): the update ids, in order.
    pub fn users_send<'a>(&self, typed: impl IntoIterator<Item = (&'a TgUser, &'a str)>) -> Vec<i64> {
        let ids = {
            let mut state = self.lock();
            typed.into_iter().map(|(user, text)| self.queue(&mut state, user, text)).collect()
        };
        self.shared.news.notify_waiters();
        ids
    }

    fn queue(&self, state: &mut State, user: &TgUser, text: &str) -> i64 {
        let id = state.next_update_id;
        state.next_update_id += 1;
        state.next_message_id += 1;
        let mut message = json!({
            "message_id": state.next_message_id,
            "date": 1_790_000_000,
            "chat": chat_json(user.id, false),
            "from": user.json(),
            "text": text,
        });
        if let Some(entities) = command_entities(text) {
            message["entities"] = entities;
        }
        let update = json!({ "update_id": id, "message": message });
        state.pending.push_back((id, update.to_string()));
        id
    }

    /// Whether a getUpdates call has come in yet.
    pub fn polled(&self) -> bool {
        self.lock().calls.contains_key("getUpdates")
    }

    /// Messages (and edits) the bot sent to `chat` so far.
    pub fn arrived_in(&self, chat: i64) -> usize {
        self.lock().arrivals.get(&chat).map_or(0, Vec::len)
    }

    /// All messages (and edits) sent so far.
    pub fn arrived(&self) -> usize {
        self.lock().arrivals.values().map(Vec::len).sum()
    }
}

fn ok(result: impl std::fmt::Display) -> Response {
    let body = format!("{{\"ok\":true,\"result\":{result}}}");
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(status: StatusCode, description: &str) -> Response {
    let body = json!({ "ok": false, "error_code": status.as_u16(), "description": description });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(TOKEN) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let params: Value = if json && !body.is_empty() {
        match serde_json::from_slice(&body) {
            Ok(params) => params,
            Err(_) => return error(StatusCode::BAD_REQUEST, "Bad Request: can't parse JSON"),
        }
    } else {
        Value::Null
    };
    // Method names are case-insensitive in the Bot API.
    let method = ["getUpdates", "sendMessage", "editMessageText", "getMe", "getMyCommands"]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(&method))
        .map_or(method, str::to_owned);
    *shared.state.lock().unwrap_or_else(|p| p.into_inner()).calls.entry(method.clone()).or_default() += 1;
    match method.as_str() {
        "getUpdates" => get_updates(&shared, &params).await,
        "getMe" => ok(me_json(BOT_ID, "pingan_bench_bot", false)),
        "getMyCommands" => ok("[]"),
        "sendMessage" | "editMessageText" => {
            let arrived = Instant::now();
            let chat = params["chat_id"].as_i64();
            let text = params["text"].as_str().unwrap_or_default();
            let units = text.encode_utf16().count();
            let (Some(chat), 1..=4096) = (chat, units) else {
                shared.state.lock().unwrap_or_else(|p| p.into_inner()).refused += 1;
                return error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: no chat, or message text empty or too long",
                );
            };
            let message_id = {
                let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                state.arrivals.entry(chat).or_default().push(arrived);
                state.next_message_id += 1;
                state.next_message_id
            };
            let message = json!({
                "message_id": message_id,
                "date": 1_790_000_000,
                "chat": chat_json(chat, false),
                "from": { "id": BOT_ID, "is_bot": true, "first_name": "Bench", "username": "pingan_bench_bot" },
                "text": "ok",
            });
            ok(message)
        }
        _ => ok("true"),
    }
}

/// Long polling: answers at once when updates are pending, else waits up to `timeout`
/// seconds for one; `offset` confirms the updates below it.
async fn get_updates(shared: &Shared, params: &Value) -> Response {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let limit = params["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0));
    let deadline = Instant::now() + timeout;
    loop {
        let news = shared.news.notified();
        {
            let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            while state.pending.front().is_some_and(|(id, _)| *id < offset) {
                state.pending.pop_front();
            }
            if !state.pending.is_empty() || Instant::now() >= deadline {
                let now = Instant::now();
                let state = &mut *state;
                let mut body = String::from("[");
                for (n, (id, update)) in state.pending.iter().take(limit).enumerate() {
                    if n > 0 {
                        body.push(',');
                    }
                    body.push_str(update);
                    state.handed_out.entry(*id).or_insert(now);
                }
                body.push(']');
                return ok(body);
            }
        }
        if tokio::time::timeout_at(deadline, news).await.is_err() {
            continue;
        }
    }
}
