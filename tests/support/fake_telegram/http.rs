//! The HTTP face of the fake: `/bot<token>/<method>` with JSON, multipart or form bodies.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value};

use super::Shared;
use super::methods::{self, Files, int_param};
use super::state::{Call, Fault};
use super::wire::Reply;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().route("/{bot}/{method}", any(handle)).with_state(shared)
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    let method = methods::canonical(&method);
    let expected = shared.lock().token.clone();
    let (params, files) = match read_params(request).await {
        Ok(read) => read,
        Err(reply) => return respond(reply),
    };
    shared.lock().arrived.push(method.clone());
    shared.notify();
    let reply = if bot.strip_prefix("bot") != Some(expected.as_str()) {
        Reply::error(401, "Unauthorized")
    } else {
        answer(&shared, &method, &params, &files).await
    };
    {
        let mut state = shared.lock();
        state.calls.push(Call {
            method: method.clone(),
            params,
            status: reply.status,
            at: tokio::time::Instant::now(),
        });
    }
    shared.notify();
    respond(reply)
}

async fn answer(shared: &Arc<Shared>, method: &str, params: &Value, files: &Files) -> Reply {
    let fault = shared.lock().take_fault(method, int_param(params, "chat_id"));
    match fault {
        Some(Fault::Delay(pause)) => tokio::time::sleep(pause).await,
        Some(other) => {
            if let Some(reply) = other.reply() {
                return reply;
            }
        }
        None => {}
    }
    if method == "getUpdates" {
        return get_updates(shared, params).await;
    }
    let chat = int_param(params, "chat_id");
    if matches!(method, "sendMessage" | "sendPhoto") {
        let mut state = shared.lock();
        if chat.is_some_and(|chat| state.flood.refuse(chat, tokio::time::Instant::now())) {
            return Reply::retry_after(1);
        }
    }
    methods::call(&mut shared.lock(), method, params, files)
}

/// Long polling: answers at once when updates are pending, else waits up to `timeout`
/// seconds for one. A newer getUpdates ends an older one with 409, as Telegram does.
async fn get_updates(shared: &Arc<Shared>, params: &Value) -> Reply {
    let offset = int_param(params, "offset").unwrap_or(0);
    let limit = int_param(params, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(int_param(params, "timeout").unwrap_or(0).max(0) as u64);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut changes = shared.changed.subscribe();
    let generation = {
        let mut state = shared.lock();
        if state.webhooks.registered.is_some() {
            return Reply::error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            );
        }
        state.poll_generation += 1;
        let allowed = match &params["allowed_updates"] {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        if let Some(list) = allowed.as_array() {
            state.polled_updates = Some(list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect());
        }
        if offset > 0 {
            state.pending.retain(|(id, _)| *id >= offset);
            state.confirmed_below = state.confirmed_below.max(offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            let drop = state.pending.len().saturating_sub(keep);
            state.pending.drain(..drop);
        }
        state.poll_generation
    };
    shared.notify();
    loop {
        {
            let state = shared.lock();
            if state.poll_generation != generation {
                return Reply::error(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                );
            }
            let ready: Vec<Value> = state.pending.iter().take(limit).map(|(_, u)| u.clone()).collect();
            if !ready.is_empty() || tokio::time::Instant::now() >= deadline {
                return Reply::ok(Value::Array(ready));
            }
        }
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            continue;
        }
    }
}

fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(raw) = reply.raw {
        return (status, [(header::CONTENT_TYPE, "text/html")], raw).into_response();
    }
    (status, [(header::CONTENT_TYPE, "application/json")], reply.body.to_string()).into_response()
}

/// Parameters from the query string and the body, as the Bot API accepts them.
async fn read_params(request: Request) -> Result<(Value, Files), Reply> {
    let mut params = Map::new();
    if let Some(query) = request.uri().query() {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut files = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| Reply::bad_request("bad multipart body"))?;
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field.file_name().is_some();
            let bytes = field.bytes().await.map_err(|_| Reply::bad_request("bad multipart field"))?;
            if is_file {
                files.push((name, bytes.to_vec()));
            } else {
                params.insert(name, Value::String(String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    } else {
        let body = axum::body::to_bytes(request.into_body(), 50 * 1024 * 1024)
            .await
            .map_err(|_| Reply::bad_request("body too large"))?;
        if content_type.starts_with("application/json") && !body.is_empty() {
            let json: Value =
                serde_json::from_slice(&body).map_err(|_| Reply::bad_request("can't parse JSON body"))?;
            if let Value::Object(map) = json {
                params.extend(map);
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            for (k, v) in url::form_urlencoded::parse(&body) {
                params.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    Ok((Value::Object(params), files))
}
