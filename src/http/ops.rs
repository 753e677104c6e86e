//! `/healthz`, `/metrics` and `/api/stats`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::HttpState;
use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use crate::metrics::Gauges;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// ok; degraded while Telegram refuses the bot itself (sending is paused, the outbox
    /// keeps its queue); unavailable when the database does not answer
    pub status: &'static str,
    pub database: &'static str,
    /// Why sending is paused, while it is (say, "401 Unauthorized": the token was revoked)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram: Option<String>,
}

/// Whether this instance can serve: it answers and its database does (200, ok or
/// degraded), or not (503).
#[utoipa::path(get, path = "/healthz",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<HttpState>) -> (StatusCode, Json<Health>) {
    let database = state.app.store.backend().name();
    let telegram = state.app.metrics.paused_reason();
    // A cheap query: the database answers.
    match state.app.store.next_delivery_due().await {
        Ok(_) => {
            let status = if telegram.is_some() { "degraded" } else { "ok" };
            (StatusCode::OK, Json(Health { status, database, telegram }))
        }
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable", database, telegram }))
        }
    }
}

/// Counters and gauges in Prometheus's text format.
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    let store = &state.app.store;
    let deliveries = store.delivery_counts().await.unwrap_or_default();
    let subscribers = store.subscriber_counts().await.unwrap_or_default();
    let gauges = Gauges {
        outbox_pending: deliveries.pending.max(0) as u64,
        outbox_sending: deliveries.sending.max(0) as u64,
        subscribers_active: subscribers.active.max(0) as u64,
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.app.metrics.render(gauges))
}

#[derive(Serialize, ToSchema)]
pub struct Stats {
    pub subscribers: SubscriberStats,
    pub deliveries: DeliveryStats,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriberStats {
    pub active: i64,
    pub unsubscribed: i64,
    pub gone: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryStats {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub gone: i64,
}

/// Subscriber and delivery counts.
#[utoipa::path(get, path = "/api/stats", security(("bearer" = [])),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody)))]
pub async fn stats(State(state): State<HttpState>, _caller: Caller) -> Result<Json<Stats>, ApiError> {
    let s = state.app.store.subscriber_counts().await?;
    let d = state.app.store.delivery_counts().await?;
    Ok(Json(Stats {
        subscribers: SubscriberStats { active: s.active, unsubscribed: s.unsubscribed, gone: s.gone },
        deliveries: DeliveryStats {
            pending: d.pending,
            sending: d.sending,
            sent: d.sent,
            failed: d.failed,
            gone: d.gone,
        },
    }))
}
