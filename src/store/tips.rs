//! Storing anti-fraud tips.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Actor, Language, NewTip, ScamType, Tip, TipBody, TipId, TipTitle};

/// Which tips to list, by scam type and then id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TipQuery {
    pub scam_type: Option<ScamType>,
    pub language: Option<Language>,
    pub include_retired: bool,
}

/// What loading a shipped tip did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Inserted,
    /// The shipped text changed since it was loaded, and no editor had touched it.
    Updated,
    Unchanged,
    /// An editor changed it; their version stays.
    KeptEdited,
}

/// One change of an import of the library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TipChange {
    /// The tip's title, text and whether it is retired, as they should be.
    Update {
        id: TipId,
        title: TipTitle,
        body: TipBody,
        retired: bool,
    },
    Add {
        tip: NewTip,
        retired: bool,
    },
}

/// What an import changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TipsImported {
    pub added: usize,
    /// Updates that changed something.
    pub changed: usize,
}

#[async_trait]
pub trait TipStore {
    /// Stores the tip and indexes it for search.
    async fn insert_tip(&self, tip: &NewTip, now: DateTime<Utc>) -> Result<Tip, StoreError>;
    async fn tip(&self, id: TipId) -> Result<Option<Tip>, StoreError>;
    async fn tips(&self, query: &TipQuery) -> Result<Vec<Tip>, StoreError>;
    /// An editor's new tip, stored, indexed and recorded in the audit log in one transaction.
    async fn add_tip(&self, tip: &NewTip, now: DateTime<Utc>) -> Result<Tip, StoreError>;
    /// An editor's correction: new title and body, remembered as theirs so that upgrades
    /// leave it alone, and recorded in the audit log, in one transaction. `NotFound` if
    /// there is no such tip.
    async fn edit_tip(
        &self,
        id: TipId,
        title: &TipTitle,
        body: &TipBody,
        by: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Tip, StoreError>;
    /// Retires a tip (citizens no longer see it); remembered as the editor's change, so
    /// upgrades leave it alone, and recorded in the audit log, in one transaction.
    /// `NotFound` if there is no such tip. (An import brings retired tips back.)
    async fn retire_tip(&self, id: TipId, by: &Actor, now: DateTime<Utc>) -> Result<Tip, StoreError>;
    /// Brings a retired tip back (an editor's undo), recorded in the audit log in the same
    /// transaction. `NotFound` if there is no such tip or it is not retired.
    async fn restore_tip(&self, id: TipId, by: &Actor, now: DateTime<Utc>) -> Result<Tip, StoreError>;
    /// Applies every change, and records `audit` (its detail completed with the counts),
    /// in one transaction: all or, on an error (`NotFound` for an unknown id), nothing.
    /// Changed tips are remembered as `by`'s, so upgrades leave them alone.
    async fn import_tips(
        &self,
        changes: &[TipChange],
        by: &Actor,
        audit: &crate::domain::AuditEntry,
    ) -> Result<TipsImported, StoreError>;
    /// Loads a tip shipped with Pingan (it has a `builtin_key`): adds it if new, brings
    /// it up to date if no editor has changed it, and otherwise leaves it alone.
    async fn seed_tip(&self, tip: &NewTip, now: DateTime<Utc>) -> Result<SeedOutcome, StoreError>;
}

/// The audit entry of an editor's change to a tip.
pub(crate) fn tip_audit(
    tip: &crate::domain::Tip,
    action: crate::domain::AuditAction,
    by: &Actor,
    at: DateTime<Utc>,
) -> crate::domain::AuditEntry {
    crate::domain::AuditEntry {
        at,
        actor: by.clone(),
        action,
        subject: format!("tip {}", tip.id.0),
        detail: tip.title.as_str().to_owned(),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TipRow {
    id: i64,
    scam_type: String,
    language: String,
    title: String,
    body: String,
    builtin_key: Option<String>,
    retired: bool,
    edited_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<TipRow> for Tip {
    type Error = StoreError;

    fn try_from(r: TipRow) -> Result<Self, Self::Error> {
        let what = format!("tip {}", r.id);
        let bad = |e: &dyn std::fmt::Display| StoreError::corrupt(&what, e);
        Ok(Tip {
            id: TipId(r.id),
            scam_type: r.scam_type.parse().map_err(|e| bad(&e))?,
            language: r.language.parse().map_err(|e| bad(&e))?,
            title: TipTitle::parse(&r.title).map_err(|e| bad(&e))?,
            body: TipBody::parse(&r.body).map_err(|e| bad(&e))?,
            builtin_key: r.builtin_key,
            retired: r.retired,
            edited_by: r.edited_by.as_deref().map(str::parse).transpose().map_err(|e| bad(&e))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! tip_columns {
    () => {
        "id, scam_type, language, title, body, builtin_key, retired, edited_by, created_at, updated_at"
    };
}

/// The tip queries both backends share. `$store` has a `pool` field and an
/// `index_document` function for its own search index.
macro_rules! impl_tip_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Retires a tip (whatever it was) or restores a retired one, with its audit
            /// entry, in one transaction; `NotFound` if there is no such tip, or, when
            /// restoring, if it is not retired.
            async fn set_tip_retired(
                &self,
                id: $crate::domain::TipId,
                retire: bool,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::store::tips::TipRow> = ::sqlx::query_as(concat!(
                    "UPDATE tips SET retired = $4, edited_by = $2, updated_at = $3 WHERE id = $1 AND ($4 OR retired) RETURNING ",
                    $crate::store::tips::tip_columns!()
                ))
                .bind(id.0)
                .bind(by.to_string())
                .bind(now)
                .bind(retire)
                .fetch_optional(&mut *tx)
                .await?;
                let tip: $crate::domain::Tip = row.ok_or($crate::store::StoreError::NotFound)?.try_into()?;
                let action = if retire {
                    $crate::domain::AuditAction::TipRetired
                } else {
                    $crate::domain::AuditAction::TipRestored
                };
                let entry = $crate::store::tips::tip_audit(&tip, action, by, now);
                $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(tip)
            }

            /// Stores a tip and indexes it, inside the caller's transaction.
            async fn insert_tip_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                t: &$crate::domain::NewTip,
                retired: bool,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                let row: $crate::store::tips::TipRow = ::sqlx::query_as(concat!(
                    "INSERT INTO tips (scam_type, language, title, body, builtin_key, retired, \
                     created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
                    $crate::store::tips::tip_columns!()
                ))
                .bind(t.scam_type.as_str())
                .bind(t.language.code())
                .bind(t.title.as_str())
                .bind(t.body.as_str())
                .bind(t.builtin_key.as_deref())
                .bind(retired)
                .bind(t.author.to_string())
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                let tip: $crate::domain::Tip = row.try_into()?;
                let tokens = $crate::store::search::DocumentTokens::of_tip(t.scam_type, t.title.as_str(), t.body.as_str());
                Self::index_document(tx, $crate::store::search::DocumentKind::Tip, tip.id.0, &tokens).await?;
                Ok(tip)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::TipStore for $store {
            async fn insert_tip(
                &self,
                t: &$crate::domain::NewTip,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let tip = Self::insert_tip_in(&mut tx, t, false, now).await?;
                tx.commit().await?;
                Ok(tip)
            }

            async fn tip(
                &self,
                id: $crate::domain::TipId,
            ) -> Result<Option<$crate::domain::Tip>, $crate::store::StoreError> {
                let row: Option<$crate::store::tips::TipRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::tips::tip_columns!(),
                    " FROM tips WHERE id = $1"
                ))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn edit_tip(
                &self,
                id: $crate::domain::TipId,
                title: &$crate::domain::TipTitle,
                body: &$crate::domain::TipBody,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::store::tips::TipRow> = ::sqlx::query_as(concat!(
                    "UPDATE tips SET title = $2, body = $3, edited_by = $4, updated_at = $5 WHERE id = $1 RETURNING ",
                    $crate::store::tips::tip_columns!()
                ))
                .bind(id.0)
                .bind(title.as_str())
                .bind(body.as_str())
                .bind(by.to_string())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let tip: $crate::domain::Tip = row.ok_or($crate::store::StoreError::NotFound)?.try_into()?;
                let tokens = $crate::store::search::DocumentTokens::of_tip(tip.scam_type, title.as_str(), body.as_str());
                Self::index_document(&mut tx, $crate::store::search::DocumentKind::Tip, id.0, &tokens).await?;
                let entry = $crate::store::tips::tip_audit(&tip, $crate::domain::AuditAction::TipEdited, by, now);
                $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(tip)
            }

            async fn add_tip(
                &self,
                t: &$crate::domain::NewTip,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let tip = Self::insert_tip_in(&mut tx, t, false, now).await?;
                let entry = $crate::store::tips::tip_audit(&tip, $crate::domain::AuditAction::TipAdded, &t.author, now);
                $crate::store::audit::insert_audit(&entry).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(tip)
            }

            async fn retire_tip(
                &self,
                id: $crate::domain::TipId,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                self.set_tip_retired(id, true, by, now).await
            }

            async fn restore_tip(
                &self,
                id: $crate::domain::TipId,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                self.set_tip_retired(id, false, by, now).await
            }

            async fn import_tips(
                &self,
                changes: &[$crate::store::TipChange],
                by: &$crate::domain::Actor,
                audit: &$crate::domain::AuditEntry,
            ) -> Result<$crate::store::TipsImported, $crate::store::StoreError> {
                use $crate::store::{TipChange, TipsImported};
                let now = audit.at;
                let mut tx = self.begin_write().await?;
                let mut done = TipsImported::default();
                for change in changes {
                    match change {
                        TipChange::Update { id, title, body, retired } => {
                            let current: Option<$crate::store::tips::TipRow> = ::sqlx::query_as(concat!(
                                "SELECT ",
                                $crate::store::tips::tip_columns!(),
                                " FROM tips WHERE id = $1"
                            ))
                            .bind(id.0)
                            .fetch_optional(&mut *tx)
                            .await?;
                            let current: $crate::domain::Tip =
                                current.ok_or($crate::store::StoreError::NotFound)?.try_into()?;
                            let text_changed = current.title != *title || current.body != *body;
                            if !text_changed && current.retired == *retired {
                                continue;
                            }
                            ::sqlx::query(
                                "UPDATE tips SET title = $2, body = $3, retired = $4, edited_by = $5, \
                                 updated_at = $6 WHERE id = $1",
                            )
                            .bind(id.0)
                            .bind(title.as_str())
                            .bind(body.as_str())
                            .bind(*retired)
                            .bind(by.to_string())
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            if text_changed {
                                let tokens =
                                    $crate::store::search::DocumentTokens::of_tip(
                                    current.scam_type,
                                    title.as_str(),
                                    body.as_str(),
                                );
                                Self::index_document(&mut tx, $crate::store::search::DocumentKind::Tip, id.0, &tokens)
                                    .await?;
                            }
                            done.changed += 1;
                        }
                        TipChange::Add { tip, retired } => {
                            Self::insert_tip_in(&mut tx, tip, *retired, now).await?;
                            done.added += 1;
                        }
                    }
                }
                let detail = format!("{}: {} added, {} changed", audit.detail, done.added, done.changed);
                $crate::store::audit::insert_audit(&$crate::domain::AuditEntry { detail, ..audit.clone() })
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn seed_tip(
                &self,
                t: &$crate::domain::NewTip,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::store::SeedOutcome, $crate::store::StoreError> {
                use $crate::store::SeedOutcome;
                let Some(key) = t.builtin_key.as_deref() else {
                    return Err($crate::store::StoreError::Conflict("a shipped tip needs a builtin_key".into()));
                };
                let existing: Option<$crate::store::tips::TipRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::tips::tip_columns!(),
                    " FROM tips WHERE builtin_key = $1"
                ))
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
                let Some(existing) = existing else {
                    <Self as $crate::store::TipStore>::insert_tip(self, t, now).await?;
                    return Ok(SeedOutcome::Inserted);
                };
                let existing: $crate::domain::Tip = existing.try_into()?;
                if existing.edited_by.is_some() {
                    return Ok(SeedOutcome::KeptEdited);
                }
                let same = existing.title == t.title
                    && existing.body == t.body
                    && existing.scam_type == t.scam_type
                    && existing.language == t.language;
                if same {
                    return Ok(SeedOutcome::Unchanged);
                }
                let mut tx = self.begin_write().await?;
                // `edited_by IS NULL` again: an editor who saved in the meantime wins.
                let updated = ::sqlx::query(
                    "UPDATE tips SET scam_type = $2, language = $3, title = $4, body = $5, updated_at = $6                      WHERE id = $1 AND edited_by IS NULL",
                )
                .bind(existing.id.0)
                .bind(t.scam_type.as_str())
                .bind(t.language.code())
                .bind(t.title.as_str())
                .bind(t.body.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Ok(SeedOutcome::KeptEdited);
                }
                let tokens = $crate::store::search::DocumentTokens::of_tip(t.scam_type, t.title.as_str(), t.body.as_str());
                Self::index_document(&mut tx, $crate::store::search::DocumentKind::Tip, existing.id.0, &tokens)
                    .await?;
                tx.commit().await?;
                Ok(SeedOutcome::Updated)
            }

            async fn tips(
                &self,
                q: &$crate::store::TipQuery,
            ) -> Result<Vec<$crate::domain::Tip>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::tips::TipRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::tips::tip_columns!(),
                    " FROM tips WHERE ($1 IS NULL OR scam_type = $1) \
                     AND ($2 IS NULL OR language = $2) AND ($3 OR NOT retired) \
                     ORDER BY scam_type, id"
                ))
                .bind(q.scam_type.map(|s| s.as_str()))
                .bind(q.language.map(|l| l.code()))
                .bind(q.include_retired)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

pub(crate) use impl_tip_store;
pub(crate) use tip_columns;
