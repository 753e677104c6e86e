//! Storing the bureau's admins and their roles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Actor, Admin, Role};

#[async_trait]
pub trait AdminStore {
    /// Gives `user_id` the role, replacing any role they had, and records it in the audit
    /// log, in one transaction.
    async fn grant(
        &self,
        user_id: i64,
        role: Role,
        by: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Admin, StoreError>;
    /// Takes away `user_id`'s role and records who did, in one transaction; false (and
    /// nothing recorded) if they had none.
    async fn revoke(&self, user_id: i64, by: &Actor, at: DateTime<Utc>) -> Result<bool, StoreError>;
    async fn admin(&self, user_id: i64) -> Result<Option<Admin>, StoreError>;
    async fn admins(&self) -> Result<Vec<Admin>, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct AdminRow {
    user_id: i64,
    role: String,
    granted_by: String,
    granted_at: DateTime<Utc>,
}

impl TryFrom<AdminRow> for Admin {
    type Error = StoreError;

    fn try_from(r: AdminRow) -> Result<Self, Self::Error> {
        let what = format!("admin {}", r.user_id);
        Ok(Admin {
            user_id: r.user_id,
            role: r.role.parse().map_err(|e| StoreError::corrupt(&what, e))?,
            granted_by: r.granted_by.parse().map_err(|e| StoreError::corrupt(&what, e))?,
            granted_at: r.granted_at,
        })
    }
}

macro_rules! impl_admin_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::AdminStore for $store {
            async fn grant(
                &self,
                user_id: i64,
                role: $crate::domain::Role,
                by: &$crate::domain::Actor,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Admin, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: $crate::store::admins::AdminRow = ::sqlx::query_as(
                    "INSERT INTO admins (user_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, \
                     granted_by = excluded.granted_by, granted_at = excluded.granted_at \
                     RETURNING user_id, role, granted_by, granted_at",
                )
                .bind(user_id)
                .bind(role.as_str())
                .bind(by.to_string())
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let entry = $crate::domain::AuditEntry {
                    at,
                    actor: by.clone(),
                    action: $crate::domain::AuditAction::Granted,
                    subject: format!("user {user_id}"),
                    detail: role.as_str().to_owned(),
                };
                $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                tx.commit().await?;
                row.try_into()
            }

            async fn revoke(
                &self,
                user_id: i64,
                by: &$crate::domain::Actor,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = ::sqlx::query("DELETE FROM admins WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                let revoked = done.rows_affected() > 0;
                if revoked {
                    let entry = $crate::domain::AuditEntry {
                        at,
                        actor: by.clone(),
                        action: $crate::domain::AuditAction::Revoked,
                        subject: format!("user {user_id}"),
                        detail: String::new(),
                    };
                    $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(revoked)
            }

            async fn admin(
                &self,
                user_id: i64,
            ) -> Result<Option<$crate::domain::Admin>, $crate::store::StoreError> {
                let row: Option<$crate::store::admins::AdminRow> = ::sqlx::query_as(
                    "SELECT user_id, role, granted_by, granted_at FROM admins WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn admins(&self) -> Result<Vec<$crate::domain::Admin>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::admins::AdminRow> = ::sqlx::query_as(
                    "SELECT user_id, role, granted_by, granted_at FROM admins ORDER BY role, user_id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

pub(crate) use impl_admin_store;
