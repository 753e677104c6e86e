//! Storing the bureau's list of phone numbers, domains and accounts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Indicator, IndicatorKind, NewIndicator};

#[async_trait]
pub trait IndicatorStore {
    /// Adds the value to the list, or replaces what the list said of it. True if it is new.
    /// Lists the value (or changes its listing) and records it in the audit log, in one
    /// transaction. Returns the entry and whether it is new.
    async fn put_indicator(
        &self,
        indicator: &NewIndicator,
        now: DateTime<Utc>,
    ) -> Result<(Indicator, bool), StoreError>;
    /// Puts every entry on the list, as [`put_indicator`](Self::put_indicator) does, and
    /// records `audit` (its detail completed with the counts) in one transaction: all or
    /// nothing. Returns how many were new.
    async fn import_indicators(
        &self,
        entries: &[NewIndicator],
        audit: &crate::domain::AuditEntry,
    ) -> Result<usize, StoreError>;
    /// Takes the value off the list and records who did, in one transaction; false (and
    /// nothing recorded) if it was not on it.
    async fn remove_indicator(
        &self,
        kind: IndicatorKind,
        value: &str,
        by: &crate::domain::Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn indicator(&self, kind: IndicatorKind, value: &str) -> Result<Option<Indicator>, StoreError>;
    /// The list, most recently added or changed first, optionally of one kind.
    async fn indicators(
        &self,
        kind: Option<IndicatorKind>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Indicator>, StoreError>;
    /// The domains listed as official, which look-alikes are measured against.
    async fn official_domains(&self) -> Result<Vec<String>, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct IndicatorRow {
    kind: String,
    value: String,
    risk: String,
    reason: String,
    reason_key: Option<String>,
    added_by: String,
    added_at: DateTime<Utc>,
}

impl TryFrom<IndicatorRow> for Indicator {
    type Error = StoreError;

    fn try_from(r: IndicatorRow) -> Result<Self, Self::Error> {
        let what = format!("indicator {}", r.value);
        Ok(Indicator {
            kind: r.kind.parse().map_err(|e| StoreError::corrupt(&what, e))?,
            risk: r.risk.parse().map_err(|e| StoreError::corrupt(&what, e))?,
            reason: crate::domain::ListedReason::from_stored(r.reason_key.as_deref(), &r.reason)
                .map_err(|e| StoreError::corrupt(&what, e))?,
            added_by: r.added_by.parse().map_err(|e| StoreError::corrupt(&what, e))?,
            value: r.value,
            added_at: r.added_at,
        })
    }
}

macro_rules! indicator_columns {
    () => {
        "kind, value, risk, reason, reason_key, added_by, added_at"
    };
}

macro_rules! impl_indicator_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Adds or replaces one entry inside the caller's transaction; true if new.
            async fn put_indicator_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                i: &$crate::domain::NewIndicator,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<($crate::domain::Indicator, bool), $crate::store::StoreError> {
                let (kind, value) = (i.subject.kind(), i.subject.key());
                let existed: Option<(i64,)> = ::sqlx::query_as("SELECT id FROM indicators WHERE kind = $1 AND value = $2")
                    .bind(kind.as_str())
                    .bind(&value)
                    .fetch_optional(&mut **tx)
                    .await?;
                let row: $crate::store::indicators::IndicatorRow = ::sqlx::query_as(concat!(
                    "INSERT INTO indicators (kind, value, risk, reason, added_by, added_at, reason_key) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (kind, value) DO UPDATE SET risk = excluded.risk, reason = excluded.reason, \
                     reason_key = excluded.reason_key, \
                     added_by = excluded.added_by, added_at = excluded.added_at RETURNING ",
                    $crate::store::indicators::indicator_columns!()
                ))
                .bind(kind.as_str())
                .bind(&value)
                .bind(i.risk.as_str())
                .bind(i.reason.stored_text())
                .bind(i.added_by.to_string())
                .bind(now)
                .bind(i.reason.key())
                .fetch_one(&mut **tx)
                .await?;
                Ok((row.try_into()?, existed.is_none()))
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::IndicatorStore for $store {
            async fn put_indicator(
                &self,
                i: &$crate::domain::NewIndicator,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<($crate::domain::Indicator, bool), $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let (stored, created) = Self::put_indicator_in(&mut tx, i, now).await?;
                let entry = $crate::domain::AuditEntry {
                    at: now,
                    actor: i.added_by.clone(),
                    action: $crate::domain::AuditAction::Listed,
                    subject: format!("{} {}", stored.kind, stored.value),
                    detail: format!("{}: {}", stored.risk, stored.reason),
                };
                $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok((stored, created))
            }

            async fn import_indicators(
                &self,
                entries: &[$crate::domain::NewIndicator],
                audit: &$crate::domain::AuditEntry,
            ) -> Result<usize, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut created = 0;
                for entry in entries {
                    created += usize::from(Self::put_indicator_in(&mut tx, entry, audit.at).await?.1);
                }
                let detail = format!(
                    "{}: {} entries, {created} new, {} updated",
                    audit.detail,
                    entries.len(),
                    entries.len() - created
                );
                $crate::store::audit::insert_audit(&$crate::domain::AuditEntry { detail, ..audit.clone() })
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn remove_indicator(
                &self,
                kind: $crate::domain::IndicatorKind,
                value: &str,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = ::sqlx::query("DELETE FROM indicators WHERE kind = $1 AND value = $2")
                    .bind(kind.as_str())
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                let removed = done.rows_affected() > 0;
                if removed {
                    let entry = $crate::domain::AuditEntry {
                        at: now,
                        actor: by.clone(),
                        action: $crate::domain::AuditAction::Unlisted,
                        subject: format!("{kind} {value}"),
                        detail: String::new(),
                    };
                    $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(removed)
            }

            async fn indicator(
                &self,
                kind: $crate::domain::IndicatorKind,
                value: &str,
            ) -> Result<Option<$crate::domain::Indicator>, $crate::store::StoreError> {
                let row: Option<$crate::store::indicators::IndicatorRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::indicators::indicator_columns!(),
                    " FROM indicators WHERE kind = $1 AND value = $2"
                ))
                .bind(kind.as_str())
                .bind(value)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn indicators(
                &self,
                kind: Option<$crate::domain::IndicatorKind>,
                limit: u32,
                offset: u32,
            ) -> Result<Vec<$crate::domain::Indicator>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::indicators::IndicatorRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::indicators::indicator_columns!(),
                    " FROM indicators WHERE ($1 IS NULL OR kind = $1) ORDER BY added_at DESC, id DESC LIMIT $2 OFFSET $3"
                ))
                .bind(kind.map(|k| k.as_str()))
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn official_domains(&self) -> Result<Vec<String>, $crate::store::StoreError> {
                let rows: Vec<(String,)> =
                    ::sqlx::query_as("SELECT value FROM indicators WHERE kind = 'domain' AND risk = 'official' ORDER BY value")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(v,)| v).collect())
            }
        }
    };
}

pub(crate) use impl_indicator_store;
pub(crate) use indicator_columns;
