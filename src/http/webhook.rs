//! `POST <path of telegram.webhook_url>`: Telegram's webhook. A request must carry the
//! secret in `X-Telegram-Bot-Api-Secret-Token` (else 401, nothing stored); its update is
//! answered 200 only once it is committed to the inbox, so that an instance that dies
//! after answering loses nothing, and one that dies before lets Telegram send it again
//! (to this or another instance). Any non-2xx answer makes Telegram retry.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::HttpState;
use crate::bot::intake::ReceiveError;

/// The header Telegram puts the webhook's `secret_token` in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// 200 once stored (or stored before), 401 without the right secret, 400 for a body that
/// is no update, 503 if the database did not take it (Telegram tries again).
pub async fn receive(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(webhook) = state.webhook.as_deref() else { return StatusCode::NOT_FOUND };
    let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    if !webhook.settings.secret.matches(given) {
        tracing::warn!("a webhook request without the right secret token; refused");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(text) = std::str::from_utf8(&body) else { return StatusCode::BAD_REQUEST };
    match webhook.receiver.receive(text).await {
        Ok(_) => StatusCode::OK,
        Err(ReceiveError::Unreadable(e)) => {
            tracing::warn!(error = %e, "a webhook request with the right secret but no update; refused");
            StatusCode::BAD_REQUEST
        }
        Err(ReceiveError::Store(e)) => {
            tracing::warn!(error = %e, "cannot store a webhook update; Telegram will send it again");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
