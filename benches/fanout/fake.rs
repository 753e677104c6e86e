//! A counting fake Bot API for the fan-out benchmark: it speaks the real wire format for
//! what `pingan run` calls while it fans an alert out (`getMe`, `getUpdates` — long
//! polls that never carry an update — and `sendMessage`; anything else is answered
//! `true`), enforces no flood limit, and keeps only what the benchmark reads: how many
//! messages each chat got and when each arrived, in arrays sized before the run, so that
//! the resident memory the benchmark samples (the bot and the fake share the process) is
//! the bot's. Each distinct text is checked once as Telegram checks it (HTML parsed, at
//! most 4096 UTF-16 units shown), with the tests' parser.
//!
//! The tests' fake (`tests/support/fake_telegram`) records every call with its parameters
//! and every message with its text: some 2 KB a message, which at 100 000 messages would
//! be most of what the benchmark measures (`BENCH_FAKE=tests` runs against it anyway).

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::support::fake_telegram::html;
use crate::support::fake_telegram::wire::{chat_json, me_json};

pub const TOKEN: &str = "123456:BENCH-fanout-token";
const BOT_ID: i64 = 7_000_000_002;
const USERNAME: &str = "pingan_fanout_bot";

pub struct State {
    /// Messages taken, by chat: index `c` counts chat `c`, for chats 1 to the capacity.
    pub per_chat: Vec<u32>,
    /// Messages to chats outside that range.
    pub stray: u64,
    /// When each message taken arrived, in order.
    pub arrivals: Vec<Instant>,
    /// Messages refused as Telegram would refuse them (no chat, bad HTML, empty or too long).
    pub refused: u64,
    /// Distinct texts by hash: whether Telegram would take them.
    checked: HashMap<u64, Result<(), String>>,
    /// getUpdates calls so far.
    pub polls: u64,
    next_message_id: i64,
}

struct Shared {
    state: Mutex<State>,
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
    /// A fake with room for chats 1 to `chats` and `chats` arrivals (more still fit; the
    /// arrays grow).
    pub async fn start(chats: usize) -> Fake {
        let state = State {
            per_chat: vec![0; chats + 1],
            stray: 0,
            arrivals: Vec::with_capacity(chats + 1024),
            refused: 0,
            checked: HashMap::new(),
            polls: 0,
            next_message_id: 0,
        };
        let shared = Arc::new(Shared { state: Mutex::new(state) });
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

    /// Texts Telegram would have refused, with why.
    pub fn bad_texts(&self) -> Vec<String> {
        self.lock().checked.values().filter_map(|r| r.clone().err()).collect()
    }
}

fn ok(result: Value) -> Response {
    let body = json!({ "ok": true, "result": result });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn bad_request(description: &str) -> Response {
    let body =
        json!({ "ok": false, "error_code": 400, "description": format!("Bad Request: {description}") });
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Whether Telegram takes `text` with `parse_mode`.
fn check(text: &str, parse_mode: Option<&str>) -> Result<(), String> {
    let shown = match parse_mode {
        Some(mode) if mode.eq_ignore_ascii_case("html") => html::parse(text)?,
        Some(other) => return Err(format!("parse_mode {other:?} is not checked by this fake")),
        None => text.to_owned(),
    };
    match html::telegram_length(&shown) {
        0 => Err("message text is empty".to_owned()),
        n if n > 4096 => Err(format!("message is too long ({n} UTF-16 units)")),
        _ => Ok(()),
    }
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(TOKEN) {
        let body = json!({ "ok": false, "error_code": 401, "description": "Unauthorized" });
        return (StatusCode::UNAUTHORIZED, body.to_string()).into_response();
    }
    let lock = || shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let method = method.to_ascii_lowercase();
    match method.as_str() {
        "getme" => ok(me_json(BOT_ID, USERNAME, false)),
        "getupdates" => {
            lock().polls += 1;
            let params: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            // Nobody types: a long poll ends empty when its time is up.
            let timeout = params["timeout"].as_u64().unwrap_or(0).min(60);
            tokio::time::sleep(Duration::from_secs(timeout)).await;
            ok(json!([]))
        }
        "sendmessage" => {
            let arrived = Instant::now();
            let Ok(params) = serde_json::from_slice::<Value>(&body) else {
                return bad_request("can't parse JSON body");
            };
            let (Some(chat), Some(text)) = (params["chat_id"].as_i64(), params["text"].as_str()) else {
                lock().refused += 1;
                return bad_request("chat_id or text is empty");
            };
            let mut hasher = DefaultHasher::new();
            text.hash(&mut hasher);
            let key = hasher.finish();
            let mut state = lock();
            let verdict = match state.checked.get(&key) {
                Some(verdict) => verdict.clone(),
                None => {
                    let verdict = check(text, params["parse_mode"].as_str());
                    state.checked.insert(key, verdict.clone());
                    verdict
                }
            };
            if let Err(why) = verdict {
                state.refused += 1;
                return bad_request(&why);
            }
            match usize::try_from(chat).ok().filter(|c| *c > 0 && *c < state.per_chat.len()) {
                Some(c) => state.per_chat[c] += 1,
                None => state.stray += 1,
            }
            state.arrivals.push(arrived);
            state.next_message_id += 1;
            let message_id = state.next_message_id;
            drop(state);
            ok(json!({
                "message_id": message_id,
                "date": 1_790_000_000,
                "chat": chat_json(chat, false),
                "from": { "id": BOT_ID, "is_bot": true, "first_name": "Pingan", "username": USERNAME },
                "text": "ok",
            }))
        }
        _ => ok(json!(true)),
    }
}
