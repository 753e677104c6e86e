//! Storing anti-fraud tips.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Language, NewTip, ScamType, Tip, TipBody, TipId, TipTitle};

/// Which tips to list, by scam type and then id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TipQuery {
    pub scam_type: Option<ScamType>,
    pub language: Option<Language>,
    pub include_retired: bool,
}

#[async_trait]
pub trait TipStore {
    async fn insert_tip(&self, tip: &NewTip, now: DateTime<Utc>) -> Result<Tip, StoreError>;
    async fn tips(&self, query: &TipQuery) -> Result<Vec<Tip>, StoreError>;
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
            edited_by: r
                .edited_by
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| bad(&e))?,
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

macro_rules! impl_tip_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::TipStore for $store {
            async fn insert_tip(
                &self,
                t: &$crate::domain::NewTip,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Tip, $crate::store::StoreError> {
                let row: $crate::store::tips::TipRow = ::sqlx::query_as(concat!(
                    "INSERT INTO tips (scam_type, language, title, body, builtin_key, retired, \
                     created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7, $7) RETURNING ",
                    $crate::store::tips::tip_columns!()
                ))
                .bind(t.scam_type.as_str())
                .bind(t.language.code())
                .bind(t.title.as_str())
                .bind(t.body.as_str())
                .bind(t.builtin_key.as_deref())
                .bind(t.author.to_string())
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
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
