//! Bearer tokens: `Authorization: Bearer pingan_…`, looked up by hash.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::HttpState;
use super::error::ApiError;
use crate::domain::{Actor, Role};

/// Who is calling: a live token's name and role.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::Api(self.name.clone())
    }

    /// Publishing, correcting and retracting need an editor's (or owner's) token.
    pub fn must_publish(&self) -> Result<(), ApiError> {
        if self.role.may_publish() { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

impl FromRequestParts<HttpState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let now = state.app.clock.now();
        let found = state.app.store.use_token(&crate::tokens::hash(token), now).await?;
        let token = found.ok_or(ApiError::Unauthorized)?;
        Ok(Caller { name: token.name, role: token.role })
    }
}
