//! `/healthz`, `/metrics` and `/api/stats`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use tokio::time::Instant;
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
    // One trivial query: the database answers.
    match state.app.store.ping().await {
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

/// How long `/metrics` reuses the counts it read from the database.
const GAUGES_FOR: Duration = Duration::from_secs(5);

/// The database's counts for `/metrics`, read at most every [`GAUGES_FOR`], however often
/// it is scraped.
#[derive(Debug, Default)]
pub struct GaugeCache {
    read: tokio::sync::Mutex<Option<(Instant, Gauges)>>,
}

impl GaugeCache {
    async fn get(&self, store: &dyn crate::store::Store) -> Gauges {
        let mut read = self.read.lock().await;
        if let Some((at, gauges)) = &*read {
            if at.elapsed() < GAUGES_FOR {
                return gauges.clone();
            }
        }
        let (pending, sending) = store.outbox_depth().await.unwrap_or_default();
        let subscribers = store.subscriber_counts().await.unwrap_or_default();
        let gauges = Gauges {
            outbox_pending: pending,
            outbox_sending: sending,
            subscribers_active: subscribers.active.max(0) as u64,
            feeds: store.feed_states().await.unwrap_or_default(),
        };
        *read = Some((Instant::now(), gauges.clone()));
        gauges
    }
}

/// Counters and gauges in Prometheus's text format. The database's counts are at most a
/// few seconds old.
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    let gauges = state.gauges.get(state.app.store.as_ref()).await;
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
