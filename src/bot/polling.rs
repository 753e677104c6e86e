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
use super::menu::register_commands;
use crate::app::App;
use crate::config::{ConfigError, TelegramSettings};
use crate::telegram::outbound::Outbound;

/// After a stop signal, how long handlers in flight may take to finish. With the final
/// getUpdates call, the senders' drain and closing the database this keeps a stop inside 10 s.
const GRACE: Duration = Duration::from_secs(5);

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
    let bot = Bot::with_client(token.expose(), client).set_api_url(telegram.api_url.clone());

    let me = bot.get_me().await.map_err(|e| match e {
        RequestError::Api(ApiError::InvalidToken) => PollingError::BadToken("Unauthorized".into()),
        other => PollingError::Unreachable { url: telegram.api_url.to_string(), reason: other.to_string() },
    })?;
    tracing::info!(bot = me.username(), api = %telegram.api_url, "connected to the Bot API");
    if let Err(e) = register_commands(&bot, &app.texts, app.settings.default_language).await {
        tracing::warn!(error = %e, "could not register the command menu; continuing without it");
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
            Some(Err(e)) => tracing::warn!(error = %e, "getUpdates failed; polling again"),
            None => break,
        }
    }
    intake.finish(GRACE).await;
    Ok(())
}
