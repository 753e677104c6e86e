//! Storing the audit log and API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Actor, ApiToken, AuditEntry, Role};

#[async_trait]
pub trait AuditStore {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// Newest first, optionally only one actor's.
    async fn audit_log(&self, actor: Option<&Actor>, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    /// Stores a new token's hash; `Conflict` if the name is taken.
    async fn create_token(
        &self,
        name: &str,
        token_hash: &str,
        role: Role,
        by: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError>;
    /// The live (unrevoked) token with this hash, noting (at most once a minute) that it
    /// was used.
    async fn use_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<ApiToken>, StoreError>;
    /// Revokes the live token of that name and records who did, in one transaction; false
    /// (and nothing recorded) if there is none.
    async fn revoke_token(&self, name: &str, by: &Actor, now: DateTime<Utc>) -> Result<bool, StoreError>;
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    at: DateTime<Utc>,
    actor: String,
    action: String,
    subject: String,
    detail: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(r: AuditRow) -> Result<Self, Self::Error> {
        Ok(AuditEntry {
            at: r.at,
            actor: r.actor.parse().map_err(|e| StoreError::corrupt("audit actor", e))?,
            action: r.action.parse().map_err(|e| StoreError::corrupt("audit action", e))?,
            subject: r.subject,
            detail: r.detail,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    name: String,
    role: String,
    created_by: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;

    fn try_from(r: TokenRow) -> Result<Self, Self::Error> {
        Ok(ApiToken {
            role: r.role.parse().map_err(|e| StoreError::corrupt("token role", e))?,
            created_by: r.created_by.parse().map_err(|e| StoreError::corrupt("token creator", e))?,
            name: r.name,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        })
    }
}

/// The insert of one audit entry, for a store method to run inside its own transaction
/// (the same statement on both backends).
pub(crate) fn insert_audit<DB>(
    e: &AuditEntry,
) -> sqlx::query::Query<'_, DB, <DB as sqlx::Database>::Arguments<'_>>
where
    DB: sqlx::Database,
    DateTime<Utc>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(e.at)
        .bind(e.actor.to_string())
        .bind(e.action.as_str())
        .bind(e.subject.as_str())
        .bind(e.detail.as_str())
}

macro_rules! impl_audit_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::AuditStore for $store {
            async fn record_audit(&self, e: &$crate::domain::AuditEntry) -> Result<(), $crate::store::StoreError> {
                $crate::store::audit::insert_audit(e).execute(&self.pool).await?;
                Ok(())
            }

            async fn audit_log(
                &self,
                actor: Option<&$crate::domain::Actor>,
                limit: u32,
            ) -> Result<Vec<$crate::domain::AuditEntry>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::audit::AuditRow> = ::sqlx::query_as(
                    "SELECT at, actor, action, subject, detail FROM audit_log \
                     WHERE ($1 IS NULL OR actor = $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(actor.map(|a| a.to_string()))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn create_token(
                &self,
                name: &str,
                token_hash: &str,
                role: $crate::domain::Role,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::ApiToken, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: $crate::store::audit::TokenRow = ::sqlx::query_as(
                    "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     RETURNING name, role, created_by, created_at, revoked_at, last_used_at",
                )
                .bind(name)
                .bind(token_hash)
                .bind(role.as_str())
                .bind(by.to_string())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let entry = $crate::domain::AuditEntry {
                    at: now,
                    actor: by.clone(),
                    action: $crate::domain::AuditAction::TokenCreated,
                    subject: format!("token {name}"),
                    detail: role.as_str().to_owned(),
                };
                $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                tx.commit().await?;
                row.try_into()
            }

            async fn use_token(
                &self,
                token_hash: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<Option<$crate::domain::ApiToken>, $crate::store::StoreError> {
                let row: Option<$crate::store::audit::TokenRow> = ::sqlx::query_as(
                    "SELECT name, role, created_by, created_at, revoked_at, last_used_at FROM api_tokens \
                     WHERE token_hash = $1 AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(token) = row.map($crate::domain::ApiToken::try_from).transpose()? else { return Ok(None) };
                // Noting every call would make each API read a write; once a minute is enough.
                if token.last_used_at.is_none_or(|t| now - t >= ::chrono::Duration::minutes(1)) {
                    ::sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1")
                        .bind(token_hash)
                        .bind(now)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(Some(token))
            }

            async fn revoke_token(
                &self,
                name: &str,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = ::sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL")
                    .bind(name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let revoked = done.rows_affected() > 0;
                if revoked {
                    let entry = $crate::domain::AuditEntry {
                        at: now,
                        actor: by.clone(),
                        action: $crate::domain::AuditAction::TokenRevoked,
                        subject: format!("token {name}"),
                        detail: String::new(),
                    };
                    $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(revoked)
            }

            async fn tokens(&self) -> Result<Vec<$crate::domain::ApiToken>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::audit::TokenRow> = ::sqlx::query_as(
                    "SELECT name, role, created_by, created_at, revoked_at, last_used_at FROM api_tokens ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

pub(crate) use impl_audit_store;
