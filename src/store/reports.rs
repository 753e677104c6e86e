//! Storing citizens' reports and the moderators' decisions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{
    Actor, ChatId, Decided, ForwardedText, IndicatorKind, NewReport, Report, ReportDecision, ReportId,
    ReportStory, ReportedSubject,
};

#[async_trait]
pub trait ReportStore {
    async fn submit_report(&self, report: &NewReport) -> Result<Report, StoreError>;
    async fn report(&self, id: ReportId) -> Result<Option<Report>, StoreError>;
    /// Reports waiting for a moderator, oldest first.
    async fn pending_reports(&self, limit: u32, offset: u32) -> Result<Vec<Report>, StoreError>;
    async fn count_pending_reports(&self) -> Result<u64, StoreError>;
    /// Approves or rejects a pending report, adds what the decision lists, and writes
    /// it all to the audit log, in one transaction. `None` if the report is not pending
    /// (any more): two moderators pressing at once decide it once.
    async fn decide_report(
        &self,
        id: ReportId,
        decision: &ReportDecision,
        by: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<Decided>, StoreError>;
    /// How many reports the user sent since `since`, for the per-user limit.
    async fn reports_by_user_since(&self, user_id: i64, since: DateTime<Utc>) -> Result<u64, StoreError>;
    /// How many approved reports name the value.
    async fn approved_reports_naming(&self, kind: IndicatorKind, value: &str) -> Result<u64, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReportRow {
    pub(crate) id: i64,
    chat_id: Option<i64>,
    user_id: Option<i64>,
    language: String,
    story: String,
    forwarded: Option<String>,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SubjectRow {
    report_id: i64,
    kind: String,
    value: String,
    shown: String,
}

impl ReportRow {
    /// The report, with the subjects among `subjects` that are its own.
    pub(crate) fn into_report(self, subjects: &[SubjectRow]) -> Result<Report, StoreError> {
        let what = format!("report {}", self.id);
        let bad = |e: &dyn std::fmt::Display| StoreError::corrupt(&what, e);
        Ok(Report {
            id: ReportId(self.id),
            chat: self.chat_id.map(ChatId),
            user_id: self.user_id,
            language: self.language.parse().map_err(|e| bad(&e))?,
            story: ReportStory::parse(&self.story).map_err(|e| bad(&e))?,
            forwarded: self
                .forwarded
                .as_deref()
                .map(ForwardedText::parse)
                .transpose()
                .map_err(|e| bad(&e))?,
            subjects: subjects
                .iter()
                .filter(|s| s.report_id == self.id)
                .map(|s| {
                    Ok(ReportedSubject {
                        kind: s.kind.parse().map_err(|e| bad(&e))?,
                        value: s.value.clone(),
                        shown: s.shown.clone(),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            status: self.status.parse().map_err(|e| bad(&e))?,
            decided_by: self.decided_by.as_deref().map(str::parse).transpose().map_err(|e| bad(&e))?,
            decided_at: self.decided_at,
            created_at: self.created_at,
        })
    }
}

macro_rules! report_columns {
    () => {
        "id, chat_id, user_id, language, story, forwarded, status, decided_by, decided_at, created_at"
    };
}

macro_rules! impl_report_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// The reports' rows completed with their subjects.
            async fn with_subjects<'e, E>(
                executor: E,
                rows: Vec<$crate::store::reports::ReportRow>,
                ids: &[i64],
            ) -> Result<Vec<$crate::domain::Report>, $crate::store::StoreError>
            where
                E: ::sqlx::Executor<'e, Database = $db>,
            {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                // The ids are numbers from the database, not input: safe to inline.
                let subjects: Vec<$crate::store::reports::SubjectRow> = ::sqlx::query_as(&format!(
                    "SELECT report_id, kind, value, shown FROM report_subjects WHERE report_id IN ({list}) \
                     ORDER BY report_id, kind, value"
                ))
                .fetch_all(executor)
                .await?;
                rows.into_iter().map(|r| r.into_report(&subjects)).collect()
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::ReportStore for $store {
            async fn submit_report(
                &self,
                r: &$crate::domain::NewReport,
            ) -> Result<$crate::domain::Report, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: $crate::store::reports::ReportRow = ::sqlx::query_as(concat!(
                    "INSERT INTO reports (chat_id, user_id, language, story, forwarded, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING ",
                    $crate::store::reports::report_columns!()
                ))
                .bind(r.chat.0)
                .bind(r.user_id)
                .bind(r.language.code())
                .bind(r.story.as_str())
                .bind(r.forwarded.as_ref().map(|f| f.as_str()))
                .bind(r.created_at)
                .fetch_one(&mut *tx)
                .await?;
                let id = row.id;
                for s in &r.subjects {
                    ::sqlx::query(
                        "INSERT INTO report_subjects (report_id, kind, value, shown) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (report_id, kind, value) DO NOTHING",
                    )
                    .bind(id)
                    .bind(s.kind.as_str())
                    .bind(&s.value)
                    .bind(&s.shown)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut reports = Self::with_subjects(&mut *tx, vec![row], &[id]).await?;
                tx.commit().await?;
                Ok(reports.remove(0))
            }

            async fn report(
                &self,
                id: $crate::domain::ReportId,
            ) -> Result<Option<$crate::domain::Report>, $crate::store::StoreError> {
                let row: Option<$crate::store::reports::ReportRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::reports::report_columns!(),
                    " FROM reports WHERE id = $1"
                ))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Self::with_subjects(&self.pool, vec![row], &[id.0]).await?.pop())
            }

            async fn pending_reports(
                &self,
                limit: u32,
                offset: u32,
            ) -> Result<Vec<$crate::domain::Report>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::reports::ReportRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::reports::report_columns!(),
                    " FROM reports WHERE status = 'pending' ORDER BY id LIMIT $1 OFFSET $2"
                ))
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&self.pool)
                .await?;
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                Self::with_subjects(&self.pool, rows, &ids).await
            }

            async fn count_pending_reports(&self) -> Result<u64, $crate::store::StoreError> {
                let (n,): (i64,) = ::sqlx::query_as("SELECT COUNT(*) FROM reports WHERE status = 'pending'")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }

            async fn decide_report(
                &self,
                id: $crate::domain::ReportId,
                decision: &$crate::domain::ReportDecision,
                by: &$crate::domain::Actor,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<Option<$crate::domain::Decided>, $crate::store::StoreError> {
                use $crate::domain::{AuditAction, AuditEntry, ReportDecision};
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::store::reports::ReportRow> = ::sqlx::query_as(concat!(
                    "UPDATE reports SET status = $2, decided_by = $3, decided_at = $4 \
                     WHERE id = $1 AND status = 'pending' RETURNING ",
                    $crate::store::reports::report_columns!()
                ))
                .bind(id.0)
                .bind(decision.status().as_str())
                .bind(by.to_string())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let entries = match decision {
                    ReportDecision::Approve { list } => list.as_slice(),
                    ReportDecision::Reject => &[],
                };
                let mut listed = Vec::new();
                for entry in entries {
                    let added: Option<$crate::store::indicators::IndicatorRow> = ::sqlx::query_as(concat!(
                        "INSERT INTO indicators (kind, value, risk, reason, added_by, added_at, reason_key) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, value) DO NOTHING RETURNING ",
                        $crate::store::indicators::indicator_columns!()
                    ))
                    .bind(entry.subject.kind().as_str())
                    .bind(entry.subject.key())
                    .bind(entry.risk.as_str())
                    .bind(entry.reason.stored_text())
                    .bind(by.to_string())
                    .bind(now)
                    .bind(entry.reason.key())
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(added) = added else { continue };
                    let indicator: $crate::domain::Indicator = added.try_into()?;
                    $crate::store::audit::insert_audit(&AuditEntry {
                        at: now,
                        actor: by.clone(),
                        action: AuditAction::Listed,
                        subject: format!("{} {}", indicator.kind, indicator.value),
                        detail: format!("{}: from report {id}", indicator.risk),
                    })
                    .execute(&mut *tx)
                    .await?;
                    listed.push(indicator);
                }
                let action = match decision {
                    ReportDecision::Approve { .. } => AuditAction::ReportApproved,
                    ReportDecision::Reject => AuditAction::ReportRejected,
                };
                $crate::store::audit::insert_audit(&AuditEntry {
                    at: now,
                    actor: by.clone(),
                    action,
                    subject: format!("report {id}"),
                    detail: format!("{} value(s) listed", listed.len()),
                })
                .execute(&mut *tx)
                .await?;
                let report = Self::with_subjects(&mut *tx, vec![row], &[id.0]).await?.pop();
                tx.commit().await?;
                Ok(report.map(|report| $crate::domain::Decided { report, listed }))
            }

            async fn reports_by_user_since(
                &self,
                user_id: i64,
                since: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<u64, $crate::store::StoreError> {
                let (n,): (i64,) =
                    ::sqlx::query_as("SELECT COUNT(*) FROM reports WHERE user_id = $1 AND created_at >= $2")
                        .bind(user_id)
                        .bind(since)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n as u64)
            }

            async fn approved_reports_naming(
                &self,
                kind: $crate::domain::IndicatorKind,
                value: &str,
            ) -> Result<u64, $crate::store::StoreError> {
                let (n,): (i64,) = ::sqlx::query_as(
                    "SELECT COUNT(*) FROM report_subjects s JOIN reports r ON r.id = s.report_id \
                     WHERE s.kind = $1 AND s.value = $2 AND r.status = 'approved'",
                )
                .bind(kind.as_str())
                .bind(value)
                .fetch_one(&self.pool)
                .await?;
                Ok(n as u64)
            }
        }
    };
}

pub(crate) use impl_report_store;
pub(crate) use report_columns;
