//! `pingan run`: long-poll Telegram and answer until told to stop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::{AsUpdateStream, Polling, UpdateListener};
use teloxide::{ApiError, RequestError};

use super::intake::Intake;
use super::menu::register_menus;
use crate::app::App;
use crate::config::{BotToken, ConfigError, TelegramSettings};
use crate::telegram::outbound::Outbound;

/// After a stop signal, how long handlers in flight may take to finish. With the final
/// getUpdates call, the senders' drain and closing the database this keeps a stop inside 10 s.
const GRACE: Duration = Duration::from_secs(5);
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
}

/// Connects to the Bot API, registers the command menu, then answers updates until
/// `shutdown` completes.
pub async fn run_polling(
    app: Arc<App>,
    telegram: &TelegramSettings,
    outbound: Arc<dyn Outbound>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), PollingError> {
    let token = telegram.token()?;
    let client = teloxide::net::default_reqwest_settings()
        // A long poll holds the request open for `poll_timeout`; allow for it.
        .timeout(telegram.poll_timeout + Duration::from_secs(10))
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
    match register_menus(&app, outbound.as_ref()).await {
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

    let mut listener = Polling::builder(bot.clone())
        .timeout(telegram.poll_timeout)
        .allowed_updates(vec![
            AllowedUpdate::Message,
            AllowedUpdate::CallbackQuery,
            AllowedUpdate::MyChatMember,
        ])
        .delete_webhook()
        .await
        .build();
    let stop = listener.stop_token();
    let mut intake = Intake::new(app, outbound, me);
    let updates = listener.as_stream();
    tokio::pin!(updates);
    tokio::pin!(shutdown);
    let mut stopping = false;
    loop {
        let next = tokio::select! {
            next = updates.next() => next,
            () = &mut shutdown, if !stopping => {
                tracing::info!("stopping: no new updates; finishing the ones in hand");
                stop.stop();
                stopping = true;
                continue;
            }
        };
        match next {
            Some(Ok(update)) => intake.route(update),
            Some(Err(e)) => tracing::warn!(error = %described(&e, token), "getUpdates failed; polling again"),
            None => break,
        }
    }
    intake.finish(GRACE).await;
    Ok(())
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
