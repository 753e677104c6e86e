//! Errors of the HTTP API, as JSON with the right status code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::publishing::PublishError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("a bearer token is required (Authorization: Bearer …)")]
    Unauthorized,
    #[error("this token's role may not do this")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("this route does not take that method")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// Well-formed, but not a valid notice (a title too long, an expiry in the past).
    #[error("{0}")]
    Invalid(String),
    #[error("the database is busy; try again shortly")]
    Busy,
    #[error("internal error")]
    Internal,
}

/// `{"error": {"code": "not_found", "message": "…"}}`
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// bad_request, unauthorized, forbidden, not_found, method_not_allowed, conflict, invalid,
    /// busy or internal.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut response =
            (status, Json(ErrorBody { error: ErrorDetail { code, message: self.to_string() } }))
                .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Conflict(reason) => ApiError::Conflict(reason),
            e if e.is_busy() => ApiError::Busy,
            e => {
                tracing::error!(error = %e, "HTTP API: database error");
                ApiError::Internal
            }
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::NotFound(_) => ApiError::NotFound(e.to_string()),
            PublishError::NotChangeable(..) => ApiError::Conflict(e.to_string()),
            PublishError::Store(e) => e.into(),
        }
    }
}
