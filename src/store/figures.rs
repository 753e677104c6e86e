//! Storing the bureau's anti-fraud figures.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::StoreError;
use crate::domain::{Figure, Period};

#[async_trait]
pub trait FigureStore {
    /// Adds the figures, replacing any for the same period and figure, in one
    /// transaction. Returns how many were stored.
    async fn put_figures(&self, figures: &[Figure], now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Every figure, oldest period first.
    async fn figures(&self) -> Result<Vec<Figure>, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct FigureRow {
    period_from: NaiveDate,
    period_to: NaiveDate,
    metric: String,
    value: i64,
    published_change: Option<f64>,
    source: String,
}

impl TryFrom<FigureRow> for Figure {
    type Error = StoreError;

    fn try_from(r: FigureRow) -> Result<Self, Self::Error> {
        let what = format!("figure {} {}", r.metric, r.period_from);
        Ok(Figure {
            period: Period::new(r.period_from, r.period_to).map_err(|e| StoreError::corrupt(&what, e))?,
            metric: r.metric.parse().map_err(|e| StoreError::corrupt(&what, e))?,
            value: r.value,
            published_change: r.published_change,
            source: r.source,
        })
    }
}

macro_rules! impl_figure_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::FigureStore for $store {
            async fn put_figures(
                &self,
                figures: &[$crate::domain::Figure],
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<u64, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                for f in figures {
                    ::sqlx::query(
                        "INSERT INTO fraud_figures \
                         (period_from, period_to, metric, value, published_change, source, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (period_from, period_to, metric) DO UPDATE SET value = excluded.value, \
                         published_change = excluded.published_change, source = excluded.source, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(f.period.from())
                    .bind(f.period.to())
                    .bind(f.metric.as_str())
                    .bind(f.value)
                    .bind(f.published_change)
                    .bind(&f.source)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(figures.len() as u64)
            }

            async fn figures(&self) -> Result<Vec<$crate::domain::Figure>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::figures::FigureRow> = ::sqlx::query_as(
                    "SELECT period_from, period_to, metric, value, published_change, source FROM fraud_figures \
                     ORDER BY period_from, period_to, metric",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

pub(crate) use impl_figure_store;
