//! The HTTP server: `/healthz`, `/metrics`, the admin API under `/api` with its OpenAPI
//! document at `/api/openapi.json`, generated from the handlers below, and in webhook mode
//! Telegram's webhook at the path of `telegram.webhook_url`.

mod auth;
mod error;
mod notices;
mod ops;
pub mod webhook;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::App;
pub use error::ApiError;

#[derive(Clone)]
pub struct HttpState {
    pub app: Arc<App>,
    /// `/metrics`' counts from the database, read at most every few seconds.
    pub gauges: Arc<ops::GaugeCache>,
    /// Telegram's webhook, in webhook mode.
    pub webhook: Option<Arc<Webhook>>,
}

/// What the webhook route needs: its settings (path, secret) and the inbox.
pub struct Webhook {
    pub settings: crate::config::WebhookSettings,
    pub receiver: crate::bot::intake::Receiver,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Pingan admin API", description = "Notices, corrections, retractions and counts for the bureau's systems. \
        Every /api route but this document needs `Authorization: Bearer <token>` (pingan admin token create)."),
    paths(
        ops::healthz,
        ops::metrics,
        ops::stats,
        notices::list,
        notices::read,
        notices::create,
        notices::correct,
        notices::retract,
        notices::cap,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, as JSON.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

/// Where `/metrics` is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metrics {
    /// With the API and `/healthz`.
    Here,
    /// On an address of its own (`http.metrics_listen`), for a monitor that should not
    /// reach the API.
    Apart,
}

/// The routes served at `http.listen`; with `webhook`, its path too (the settings make
/// sure it is none of the others).
pub fn router(app: Arc<App>, metrics: Metrics, webhook: Option<Webhook>) -> Router {
    let openapi = openapi_json();
    let path = webhook.as_ref().map(|w| w.settings.path().to_owned());
    let state = HttpState { app, gauges: Arc::default(), webhook: webhook.map(Arc::new) };
    let router = Router::new().route("/healthz", get(ops::healthz));
    let router = match path {
        Some(path) => router.route(&path, post(webhook::receive)),
        None => router,
    };
    let router = match metrics {
        Metrics::Here => router.route("/metrics", get(ops::metrics)),
        Metrics::Apart => router,
    };
    router
        .route(
            "/api/openapi.json",
            get(move || async move { ([("content-type", "application/json")], openapi) }),
        )
        .route("/api/stats", get(ops::stats))
        .route("/api/notices", get(notices::list).post(notices::create))
        .route("/api/notices/{id}", get(notices::read).patch(notices::correct))
        .route("/api/notices/{id}/retract", post(notices::retract))
        .route("/api/notices/{id}/cap", get(notices::cap))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

/// `/metrics` alone, for `http.metrics_listen`.
pub fn metrics_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .fallback(|| async { ApiError::NotFound("only /metrics is served here".into()) })
        .with_state(HttpState { app, gauges: Arc::default(), webhook: None })
}

/// Serves `router` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
