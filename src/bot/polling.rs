//! `pingan run`'s bot: connects to the Bot API, then takes updates into the inbox — by
//! webhook (the HTTP server's route, registered here with `setWebhook`) or by long
//! polling from the one instance that holds the polling lease — and handles the inbox's
//! updates, whichever instance stored them, until told to stop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::{ApiError, RequestError};

use super::intake::{Arrived, QUEUED_PER_CHAT, Receiver, Workers};
use super::menu::register_menus;
use crate::app::App;
use crate::config::{BotToken, ConfigError, TelegramSettings, WebhookSettings};
use crate::store::{NewUpdate, PollLease};
use crate::telegram::api::BotApi;

/// After a stop signal, how long handlers in flight may take to finish. With the senders'
/// drain and closing the database this keeps a stop inside 10 s.
const GRACE: Duration = Duration::from_secs(5);
/// How long the polling lease lasts without renewal: when the polling instance dies,
/// another polls within this (and [`POLL_TRY`]) — under 10 s.
pub const POLL_LEASE: Duration = Duration::from_secs(6);
/// How often the polling instance renews its lease.
const POLL_RENEW: Duration = Duration::from_secs(2);
/// How often the other instances try to take the lease.
const POLL_TRY: Duration = Duration::from_secs(1);
/// The updates Pingan asks Telegram for (`allowed_updates`), by poll or by webhook.
pub const ALLOWED_UPDATES: [&str; 4] = ["message", "callback_query", "my_chat_member", "inline_query"];
/// How long the start waits for the command menus before it answers updates anyway.
const MENUS_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum PollingError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("Telegram refused the bot token ({0}); check TELOXIDE_TOKEN")]
    BadToken(String),
    #[error("cannot reach the Telegram Bot API at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("Telegram did not take the webhook {url} (setWebhook): {reason}")]
    Webhook { url: String, reason: String },
}

/// Connects to the Bot API, registers the command menu (and in webhook mode the
/// webhook), then takes in and handles updates until `shutdown` completes. `worker` names
/// this instance's claims (unique per process start); `lease` is how long a claim on an
/// update lasts without renewal.
pub async fn run_bot(
    app: Arc<App>,
    telegram: &TelegramSettings,
    receiver: Receiver,
    worker: String,
    lease: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), PollingError> {
    let token = telegram.token()?;
    let client = teloxide::net::default_reqwest_settings()
        .timeout(telegram.request_timeout)
        .build()
        .map_err(|e| PollingError::Client(e.to_string()))?;
    let bot = Bot::with_client(token.expose(), client).set_api_url(telegram.api_url.expose().clone());

    let me = bot.get_me().await.map_err(|e| match e {
        RequestError::Api(ApiError::InvalidToken) => PollingError::BadToken("Unauthorized".into()),
        other => {
            PollingError::Unreachable { url: telegram.api_url.to_string(), reason: described(&other, token) }
        }
    })?;
    tracing::info!(bot = me.username(), api = %telegram.api_url, "connected to the Bot API");
    if !me.supports_inline_queries {
        tracing::info!(
            "inline mode is off: turn it on with @BotFather's /setinline to let people share tips"
        );
    }
    match register_menus(&app, receiver.outbound()).await {
        // Waited for before the first update is taken, but never long: a 429 is waited
        // out by the menus' own queue, while the bot answers.
        Ok(queued) => match tokio::time::timeout(MENUS_WAIT, queued.finished()).await {
            Ok(report) => {
                tracing::info!(menus = report.applied, failed = report.failed, "command menus registered");
            }
            Err(_) => {
                tracing::info!(wait = ?MENUS_WAIT, "command menus still being registered; answering meanwhile")
            }
        },
        Err(e) => tracing::warn!(error = %e, "could not register the command menus; continuing without them"),
    }
    // A long poll holds the request open for `poll_timeout`; allow for it.
    let api = BotApi::new(telegram.api_url.expose(), token, telegram.poll_timeout + Duration::from_secs(10))
        .map_err(|e| PollingError::Client(e.to_string()))?;
    if let Some(webhook) = &telegram.webhook {
        register_webhook(&api, webhook, token).await?;
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = Workers::new(&receiver, me, worker.clone(), lease);
    let handling = workers.run(stopped.clone(), GRACE);
    let polling = async {
        if telegram.webhook.is_none() {
            // SQLite is one process's database: a restart after a crash takes the lease
            // back at once instead of waiting for it to run out.
            let force = app.store.backend() == crate::store::Backend::Sqlite;
            let poller =
                Poller { api, app: app.clone(), receiver, holder: worker, timeout: telegram.poll_timeout };
            poller.run(stopped, force, token).await;
        }
    };
    let stopping = async {
        shutdown.await;
        tracing::info!("stopping: no new updates; finishing the ones in hand");
        stop.send_replace(true);
    };
    tokio::join!(handling, polling, stopping);
    Ok(())
}

/// `setWebhook` with the URL, the secret, the updates wanted and `max_connections`.
/// Nothing removes it on stop: the other instances serve the same URL.
async fn register_webhook(
    api: &BotApi,
    webhook: &WebhookSettings,
    token: &BotToken,
) -> Result<(), PollingError> {
    let params = json!({
        "url": webhook.url.as_str(),
        "secret_token": webhook.secret.expose(),
        "allowed_updates": ALLOWED_UPDATES,
        "max_connections": webhook.max_connections,
    });
    match api.call::<bool>("setWebhook", &params).await {
        Ok(_) => {
            tracing::info!(url = %webhook.shown_url(), "webhook registered; updates come to this and the other instances");
            Ok(())
        }
        Err(crate::telegram::api::ApiError::Telegram { code: 401, .. }) => {
            Err(PollingError::BadToken("Unauthorized".into()))
        }
        Err(e) => {
            Err(PollingError::Webhook { url: webhook.shown_url(), reason: token.mask_in(&e.to_string()) })
        }
    }
}

/// Long polling by whichever instance holds the polling lease; the others wait to take it.
struct Poller {
    api: BotApi,
    app: Arc<App>,
    receiver: Receiver,
    holder: String,
    timeout: Duration,
}

/// Sleeps `pause`; false if `stop` came first.
async fn pause(pause: Duration, stop: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

impl Poller {
    async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>, mut force: bool, token: &BotToken) {
        let mut waiting_logged = false;
        while !*stop.borrow() {
            match self.app.store.take_poll_lease(&self.holder, POLL_LEASE, force).await {
                Ok(Some(lease)) => {
                    force = false;
                    waiting_logged = false;
                    tracing::info!(offset = lease.next_offset, "this instance polls Telegram now");
                    self.lead(lease, &mut stop, token).await;
                }
                Ok(None) => {
                    if !waiting_logged {
                        tracing::info!("another instance polls Telegram; this one handles updates");
                        waiting_logged = true;
                    }
                    pause(POLL_TRY, &mut stop).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the polling lease; trying again shortly");
                    pause(POLL_TRY, &mut stop).await;
                }
            }
        }
    }

    /// Polls while the lease holds; gives it up on stop.
    async fn lead(
        &self,
        mut lease: PollLease,
        stop: &mut tokio::sync::watch::Receiver<bool>,
        token: &BotToken,
    ) {
        // Telegram refuses getUpdates while a webhook is set.
        if let Err(e) = self.api.call::<bool>("deleteWebhook", &json!({})).await {
            tracing::warn!(error = %token.mask_in(&e.to_string()), "deleteWebhook failed; polling anyway");
        }
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + POLL_RENEW, POLL_RENEW);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let params = json!({
                "offset": lease.next_offset,
                "timeout": self.timeout.as_secs(),
                "allowed_updates": ALLOWED_UPDATES,
            });
            let poll = self.api.call::<Vec<Value>>("getUpdates", &params);
            tokio::pin!(poll);
            let answer = loop {
                tokio::select! {
                    answer = &mut poll => break answer,
                    _ = renew.tick() => {
                        match self.app.store.renew_poll_lease(&lease, POLL_LEASE).await {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::warn!("another instance took the polling lease; this one stops polling");
                                return;
                            }
                            Err(e) => tracing::warn!(error = %e, "cannot renew the polling lease"),
                        }
                    }
                    _ = stop.changed() => {
                        if let Err(e) = self.app.store.release_poll_lease(&lease).await {
                            tracing::warn!(error = %e, "cannot give the polling lease up; another instance polls once it runs out");
                        }
                        return;
                    }
                }
            };
            match answer {
                Ok(updates) if updates.is_empty() => {}
                Ok(updates) => match self.store(&lease, updates).await {
                    Ok(Some(next_offset)) => lease.next_offset = next_offset,
                    Ok(None) => {
                        tracing::warn!("another instance took the polling lease; this one stops polling");
                        return;
                    }
                    Err(e) => {
                        // Not confirmed to Telegram: the next poll fetches them again.
                        tracing::warn!(error = %e, "cannot store polled updates; polling them again shortly");
                        if !pause(POLL_TRY, stop).await {
                            let _ = self.app.store.release_poll_lease(&lease).await;
                            return;
                        }
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %token.mask_in(&e.to_string()), "getUpdates failed; polling again");
                    if !pause(POLL_TRY, stop).await {
                        let _ = self.app.store.release_poll_lease(&lease).await;
                        return;
                    }
                }
            }
        }
    }

    /// Stores a batch and the offset past it, fenced by the lease; returns the new
    /// offset, or `None` if the lease was lost (nothing stored).
    async fn store(
        &self,
        lease: &PollLease,
        updates: Vec<Value>,
    ) -> Result<Option<i64>, crate::store::StoreError> {
        let mut next_offset = lease.next_offset;
        let mut arrived = Vec::with_capacity(updates.len());
        for update in updates {
            if let Some(id) = update["update_id"].as_i64() {
                next_offset = next_offset.max(id + 1);
            }
            match Arrived::read(&update.to_string()) {
                Ok(read) => arrived.push(read),
                Err(e) => tracing::error!(error = %e, "Telegram sent an update that cannot be read; skipped"),
            }
        }
        let news: Vec<NewUpdate> = arrived.iter().map(|a| a.update.clone()).collect();
        let now = self.app.clock.now();
        let stored =
            self.app.store.store_polled(lease, &news, next_offset, POLL_LEASE, QUEUED_PER_CHAT, now).await?;
        Ok(stored.map(|received| {
            for (read, received) in arrived.iter().zip(received) {
                self.receiver.stored(&read.who, received);
            }
            next_offset
        }))
    }
}

/// A teloxide error as the log may show it. teloxide keeps the request's URL in network
/// errors (reqwest takes the user and password out, teloxide a token of the usual
/// length, but not a proxy's path) and the whole body of an answer that is not JSON (a
/// proxy's error page may quote the path, token and all): neither is shown, and the
/// token's secret is masked in whatever is left.
fn described(e: &RequestError, token: &BotToken) -> String {
    let text = match e {
        RequestError::Network(e) => {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            // The causes below reqwest's own error (hyper's, the socket's) name no URL.
            let mut text = format!("network error: {kind}");
            let mut cause = std::error::Error::source(e.as_ref());
            while let Some(inner) = cause {
                text.push_str(&format!(": {inner}"));
                cause = inner.source();
            }
            text
        }
        RequestError::InvalidJson { source, raw } => {
            format!("an answer that is not Telegram's JSON ({source}; {} bytes)", raw.len())
        }
        other => other.to_string(),
    };
    token.mask_in(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "7012345678:AAHf3k-Qs9Vb2xYzL0pQrStUvWxYz1234Ab";

    #[tokio::test]
    async fn a_network_error_is_described_without_the_url_or_its_password() {
        let token = BotToken::parse(TOKEN).unwrap();
        // Nothing listens on port 1: the request fails to connect, as teloxide's would.
        let url = format!("http://relay:pr0xy-pw@127.0.0.1:1/bot{TOKEN}/GetMe");
        let failed = reqwest::Client::new().post(url).send().await.unwrap_err();
        let error = RequestError::from(failed);
        // reqwest has taken the user and password out, and teloxide the token, but the URL
        // (a proxy's path may be private too) is still there.
        assert!(error.to_string().contains("127.0.0.1:1/token:redacted/GetMe"), "{error}");
        let said = described(&error, &token);
        assert!(said.starts_with("network error: cannot connect"), "{said}");
        for secret in ["pr0xy-pw", "relay", "AAHf3k", "127.0.0.1:1"] {
            assert!(!said.contains(secret), "{secret} in {said}");
        }
    }

    #[test]
    fn a_page_that_is_not_json_is_not_quoted() {
        let token = BotToken::parse(TOKEN).unwrap();
        let source = Arc::new(serde_json::from_str::<serde_json::Value>("<html>").unwrap_err());
        let raw = format!("<p>The requested URL /bot{TOKEN}/GetUpdates was not found on this server.</p>");
        let error = RequestError::InvalidJson { source, raw: raw.into() };
        let said = described(&error, &token);
        assert!(said.starts_with("an answer that is not Telegram's JSON"), "{said}");
        assert!(!said.contains("AAHf3k") && !said.contains("requested URL"), "{said}");
        let api = RequestError::Api(ApiError::Unknown(format!("Bad Request: bot{TOKEN} is odd")));
        assert!(!described(&api, &token).contains("AAHf3k"), "masked wherever it appears");
    }
}
