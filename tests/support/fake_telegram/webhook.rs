//! The fake's webhook mode, as Telegram behaves: once `setWebhook` registered a URL,
//! queued updates are POSTed to it (or, as a load balancer would spread them, round-robin
//! over targets a test names) with the secret in `X-Telegram-Bot-Api-Secret-Token`, up to
//! `max_connections` at once but one chat's updates one after another, in order. An
//! update is done once answered 200; any other answer (or none) is recorded and the
//! update posted again shortly, to the next target. `getUpdates` is refused (409) while a
//! webhook is set.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Shared;
use super::state::State;

/// What `setWebhook` registered.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookInfo {
    pub url: String,
    pub secret_token: Option<String>,
    pub max_connections: usize,
    pub allowed_updates: Value,
}

/// One POST of an update to a webhook target, and how it was answered (0: no answer).
#[derive(Clone, Debug)]
pub struct WebhookPost {
    pub target: String,
    pub update_id: i64,
    pub chat_id: i64,
    pub status: u16,
    pub at: Instant,
}

/// How long a refused update waits before it is posted again.
const RETRY: Duration = Duration::from_millis(100);
/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The chat an update belongs to, as Telegram orders them.
pub fn chat_of(update: &Value) -> i64 {
    let candidates = [
        &update["message"]["chat"]["id"],
        &update["callback_query"]["message"]["chat"]["id"],
        &update["my_chat_member"]["chat"]["id"],
        &update["callback_query"]["from"]["id"],
    ];
    candidates.iter().find_map(|v| v.as_i64()).unwrap_or(0)
}

/// The webhook side of the fake's state.
#[derive(Debug, Default)]
pub struct Webhooks {
    /// What `setWebhook` registered last; `deleteWebhook` clears it.
    pub registered: Option<WebhookInfo>,
    /// The targets posts are spread over; empty: the registered URL.
    pub targets: Vec<String>,
    pub posts: Vec<WebhookPost>,
    posting: HashSet<i64>,
    retry_at: std::collections::HashMap<i64, Instant>,
    next_target: usize,
}

/// One POST to make.
struct Job {
    target: String,
    secret: Option<String>,
    update_id: i64,
    chat_id: i64,
    body: Value,
}

impl State {
    /// `setWebhook`, `deleteWebhook` and `getWebhookInfo`.
    pub(super) fn webhook_method(&mut self, method: &str, params: &Value) -> Value {
        match method {
            "setwebhook" => {
                let max_connections = super::methods::int_param(params, "max_connections").unwrap_or(40);
                let allowed = match &params["allowed_updates"] {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                    other => other.clone(),
                };
                self.webhooks.registered = Some(WebhookInfo {
                    url: params["url"].as_str().unwrap_or_default().to_owned(),
                    secret_token: params["secret_token"].as_str().map(str::to_owned),
                    max_connections: max_connections.clamp(1, 100) as usize,
                    allowed_updates: allowed,
                });
                json!(true)
            }
            "deletewebhook" => {
                self.webhooks.registered = None;
                if params["drop_pending_updates"].as_bool() == Some(true) {
                    self.pending.clear();
                }
                json!(true)
            }
            _ => {
                let info = self.webhooks.registered.clone();
                json!({
                    "url": info.as_ref().map_or("", |i| i.url.as_str()),
                    "has_custom_certificate": false,
                    "pending_update_count": self.pending.len(),
                    "max_connections": info.as_ref().map(|i| i.max_connections),
                    "allowed_updates": info.as_ref().map(|i| i.allowed_updates.clone()),
                })
            }
        }
    }

    /// The next update to post, if a webhook is set, a connection is free, and an update
    /// is ready whose chat has nothing in flight or waiting before it.
    fn next_job(&mut self, in_flight: usize, now: Instant) -> Option<Job> {
        let info = self.webhooks.registered.clone()?;
        if in_flight >= info.max_connections {
            return None;
        }
        let mut blocked = HashSet::new();
        let mut found = None;
        for (id, update) in &self.pending {
            let chat = chat_of(update);
            let waiting = self.webhooks.retry_at.get(id).is_some_and(|at| *at > now);
            if self.webhooks.posting.contains(id) || waiting {
                blocked.insert(chat);
                continue;
            }
            if !blocked.contains(&chat) {
                found = Some((*id, chat, update.clone()));
                break;
            }
        }
        let (update_id, chat_id, body) = found?;
        let targets =
            if self.webhooks.targets.is_empty() { vec![info.url] } else { self.webhooks.targets.clone() };
        let target = targets[self.webhooks.next_target % targets.len()].clone();
        self.webhooks.next_target += 1;
        self.webhooks.posting.insert(update_id);
        Some(Job { target, secret: info.secret_token, update_id, chat_id, body })
    }

    fn posted(&mut self, job: &Job, status: u16) {
        let now = Instant::now();
        self.webhooks.posting.remove(&job.update_id);
        self.webhooks.posts.push(WebhookPost {
            target: job.target.clone(),
            update_id: job.update_id,
            chat_id: job.chat_id,
            status,
            at: now,
        });
        if status == 200 {
            self.pending.retain(|(id, _)| *id != job.update_id);
            self.webhooks.retry_at.remove(&job.update_id);
            self.confirmed_below = self.pending.front().map_or(self.next_update_id, |(id, _)| *id);
        } else {
            self.webhooks.retry_at.insert(job.update_id, now + RETRY);
        }
    }
}

/// Posts updates while the fake runs.
pub(super) async fn post_updates(shared: Arc<Shared>) {
    let client = reqwest::Client::builder().timeout(POST_TIMEOUT).build().expect("an HTTP client");
    let mut changes = shared.changed.subscribe();
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.try_join_next().is_some() {}
        while let Some(job) = shared.lock().next_job(in_flight.len(), Instant::now()) {
            in_flight.spawn(post(client.clone(), shared.clone(), job));
        }
        tokio::select! {
            _ = changes.changed() => {}
            Some(_) = in_flight.join_next() => {}
            () = tokio::time::sleep(RETRY / 2) => {}
        }
    }
}

async fn post(client: reqwest::Client, shared: Arc<Shared>, job: Job) {
    let status = send(&client, &job.target, job.secret.as_deref(), &job.body).await;
    shared.lock().posted(&job, status);
    shared.notify();
}

/// POSTs `body` to `url` as Telegram does, with `secret` in the header (none: no
/// header); returns the status code, 0 if nothing answered.
pub async fn send(client: &reqwest::Client, url: &str, secret: Option<&str>, body: &Value) -> u16 {
    let mut request = client.post(url).json(body);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    match request.send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}
