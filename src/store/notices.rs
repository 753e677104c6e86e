//! Storing notices.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{
    Area, Body, CapOrigin, Language, NewNotice, Notice, NoticeContent, NoticeId, NoticeStatus, Source, Title,
};

/// Which notices to list or count, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoticeQuery {
    pub status: Option<NoticeStatus>,
    pub language: Option<Language>,
    /// Only notices citizens may see at this time: published and not expired.
    pub visible_at: Option<DateTime<Utc>>,
    /// Only notices published at or after this time…
    pub published_since: Option<DateTime<Utc>>,
    /// …and before this one.
    pub published_before: Option<DateTime<Utc>>,
    pub limit: u32,
    pub offset: u32,
}

impl NoticeQuery {
    /// A page of what citizens see at `now`.
    pub fn public(now: DateTime<Utc>, limit: u32, offset: u32) -> NoticeQuery {
        NoticeQuery { visible_at: Some(now), limit, offset, ..NoticeQuery::default() }
    }
}

#[async_trait]
pub trait NoticeStore {
    /// Stores the notice and indexes it for search.
    async fn insert_notice(&self, notice: &NewNotice) -> Result<Notice, StoreError>;
    /// Stores several notices in one transaction: the language versions of one alert,
    /// which the scheduler must find together or not at all.
    async fn insert_notices(&self, notices: &[NewNotice]) -> Result<Vec<Notice>, StoreError>;
    async fn notice(&self, id: NoticeId) -> Result<Option<Notice>, StoreError>;
    /// The notice with this external id, or that a later message under this id changed
    /// (see [`NoticeStore::add_external_alias`]).
    async fn notice_by_external_id(&self, external_id: &str) -> Result<Option<Notice>, StoreError>;
    /// Records that `external_id` (say, a CAP Update) changed the notice, so finding it
    /// again finds the notice and importing it twice changes nothing.
    async fn add_external_alias(
        &self,
        external_id: &str,
        notice: NoticeId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The notice the CAP alert `origin` made in `language`, or that a later alert of
    /// that sender and identifier changed (see [`NoticeStore::add_cap_alias`]). Matched on
    /// the stored sender and identifier exactly, never on a joined string.
    async fn notice_by_cap(
        &self,
        origin: &CapOrigin,
        language: Language,
    ) -> Result<Option<Notice>, StoreError>;
    /// Records that the CAP alert `origin` (an Update) changed the notice in `language`,
    /// so finding that alert again finds the notice and importing it twice changes nothing.
    /// `external_id` is how the alias is shown (and keeps `notice_by_external_id` finding it).
    async fn add_cap_alias(
        &self,
        origin: &CapOrigin,
        language: Language,
        external_id: &str,
        notice: NoticeId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn list_notices(&self, query: &NoticeQuery) -> Result<Vec<Notice>, StoreError>;
    /// What the CAP alert a notice came from said beyond what a notice holds: the JSON
    /// `cap::prepare` wrote (the alert with this notice's one `<info>`), read back by
    /// `cap::alert_from_store` for export. `None` for a notice written in Pingan.
    async fn cap_detail(&self, notice: NoticeId) -> Result<Option<String>, StoreError>;
    /// Replaces a notice's CAP detail (a CAP Update that corrected it brings its own).
    async fn set_cap_detail(&self, notice: NoticeId, detail: Option<&str>) -> Result<(), StoreError>;
    /// How many notices match `query`, ignoring its limit and offset.
    async fn count_notices(&self, query: &NoticeQuery) -> Result<u64, StoreError>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct NoticeRow {
    id: i64,
    title: String,
    body: String,
    category: String,
    severity: String,
    area: Option<String>,
    districts: String,
    language: String,
    status: String,
    publish_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    source: Option<String>,
    author: String,
    external_id: Option<String>,
    language_group: Option<String>,
    cap_sender: Option<String>,
    cap_identifier: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<NoticeRow> for Notice {
    type Error = StoreError;

    fn try_from(r: NoticeRow) -> Result<Self, Self::Error> {
        let what = |field: &str| format!("notice {} {field}", r.id);
        let bad = |field: &str, e: &dyn std::fmt::Display| StoreError::corrupt(&what(field), e);
        Ok(Notice {
            id: NoticeId(r.id),
            content: NoticeContent {
                districts: crate::domain::district::districts_from_column(&r.districts),
                title: Title::parse(&r.title).map_err(|e| bad("title", &e))?,
                body: Body::parse(&r.body).map_err(|e| bad("body", &e))?,
                category: r.category.parse().map_err(|e| bad("category", &e))?,
                severity: r.severity.parse().map_err(|e| bad("severity", &e))?,
                area: r.area.as_deref().map(Area::parse).transpose().map_err(|e| bad("area", &e))?,
                language: r.language.parse().map_err(|e| bad("language", &e))?,
                source: r.source.as_deref().map(Source::parse).transpose().map_err(|e| bad("source", &e))?,
            },
            external_id: r.external_id,
            language_group: r.language_group,
            cap: match (r.cap_sender, r.cap_identifier) {
                (Some(sender), Some(identifier)) => Some(CapOrigin { sender, identifier }),
                (None, None) => None,
                _ => return Err(StoreError::corrupt(&what("CAP origin"), "a sender without an identifier")),
            },
            status: r.status.parse().map_err(|e| bad("status", &e))?,
            publish_at: r.publish_at,
            expires_at: r.expires_at,
            author: r.author.parse().map_err(|e| bad("author", &e))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! notice_columns {
    () => {
        "id, title, body, category, severity, area, districts, language, status, publish_at, expires_at, \
         source, author, external_id, language_group, cap_sender, cap_identifier, created_at, updated_at"
    };
}

/// The filter of a [`NoticeQuery`]; its parameters are $1 to $5.
macro_rules! notice_filter {
    () => {
        " FROM notices WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR language = $2) \
          AND ($3 IS NULL OR (status = 'published' AND (expires_at IS NULL OR expires_at > $3))) \
          AND ($4 IS NULL OR publish_at >= $4) AND ($5 IS NULL OR publish_at < $5)"
    };
}

/// The notice queries both backends share. `$store` has a `pool` field and an
/// `index_document` function for its own search index.
macro_rules! impl_notice_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Replaces a notice's content and expiry and reindexes it, inside the caller's
            /// transaction. Only a published or scheduled notice changes (as
            /// `NoticeStatus::is_changeable` says): `NotFound` otherwise, so a correction
            /// read before a withdrawal cannot land after it.
            async fn correct_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                id: $crate::domain::NoticeId,
                correction: &$crate::domain::NoticeCorrection,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Notice, $crate::store::StoreError> {
                let c = correction.content();
                let row: Option<$crate::store::notices::NoticeRow> = ::sqlx::query_as(concat!(
                    "UPDATE notices SET title = $2, body = $3, category = $4, severity = $5, area = $6, \
                     language = $7, source = $8, expires_at = $9, updated_at = $10, districts = $11 \
                     WHERE id = $1 AND status IN ('published', 'scheduled') RETURNING ",
                    $crate::store::notices::notice_columns!()
                ))
                .bind(id.0)
                .bind(c.title.as_str())
                .bind(c.body.as_str())
                .bind(c.category.as_str())
                .bind(c.severity.as_str())
                .bind(c.area.as_ref().map(|a| a.as_str()))
                .bind(c.language.code())
                .bind(c.source.as_ref().map(|s| s.as_str()))
                .bind(correction.expires_at())
                .bind(now)
                .bind($crate::domain::district::districts_to_column(&c.districts))
                .fetch_optional(&mut **tx)
                .await?;
                let notice: $crate::domain::Notice =
                    row.ok_or($crate::store::StoreError::NotFound)?.try_into()?;
                let tokens = $crate::store::search::DocumentTokens::of(c.title.as_str(), c.body.as_str());
                Self::index_document(tx, $crate::store::search::DocumentKind::Notice, id.0, &tokens).await?;
                Ok(notice)
            }

            /// Withdraws a published or scheduled notice, inside the caller's transaction;
            /// `NotFound` otherwise (it is withdrawn once).
            async fn retract_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                id: $crate::domain::NoticeId,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<$crate::domain::Notice, $crate::store::StoreError> {
                let row: Option<$crate::store::notices::NoticeRow> = ::sqlx::query_as(concat!(
                    "UPDATE notices SET status = 'retracted', updated_at = $2 \
                     WHERE id = $1 AND status IN ('published', 'scheduled') RETURNING ",
                    $crate::store::notices::notice_columns!()
                ))
                .bind(id.0)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await?;
                row.ok_or($crate::store::StoreError::NotFound)?.try_into()
            }

            /// Inserts and indexes one notice, inside the caller's transaction.
            async fn insert_notice_in(
                tx: &mut ::sqlx::Transaction<'_, $db>,
                n: &$crate::domain::NewNotice,
            ) -> Result<$crate::domain::Notice, $crate::store::StoreError> {
                let c = n.content();
                let row: $crate::store::notices::NoticeRow = ::sqlx::query_as(concat!(
                    "INSERT INTO notices (title, body, category, severity, area, language, status, \
                     publish_at, expires_at, source, author, external_id, language_group, created_at, updated_at, \
                     cap_sender, cap_identifier, cap_detail, districts) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, $18) \
                     RETURNING ",
                    $crate::store::notices::notice_columns!()
                ))
                .bind(c.title.as_str())
                .bind(c.body.as_str())
                .bind(c.category.as_str())
                .bind(c.severity.as_str())
                .bind(c.area.as_ref().map(|a| a.as_str()))
                .bind(c.language.code())
                .bind(n.status().as_str())
                .bind(n.publish_at())
                .bind(n.expires_at())
                .bind(c.source.as_ref().map(|s| s.as_str()))
                .bind(n.author().to_string())
                .bind(n.external_id())
                .bind(n.language_group())
                .bind(n.created_at())
                .bind(n.cap_origin().map(|o| o.sender.as_str()))
                .bind(n.cap_origin().map(|o| o.identifier.as_str()))
                .bind(n.cap_detail())
                .bind($crate::domain::district::districts_to_column(&c.districts))
                .fetch_one(&mut **tx)
                .await?;
                let notice: $crate::domain::Notice = row.try_into()?;
                let tokens = $crate::store::search::DocumentTokens::of(c.title.as_str(), c.body.as_str());
                Self::index_document(tx, $crate::store::search::DocumentKind::Notice, notice.id.0, &tokens).await?;
                Ok(notice)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::store::NoticeStore for $store {
            async fn insert_notice(
                &self,
                n: &$crate::domain::NewNotice,
            ) -> Result<$crate::domain::Notice, $crate::store::StoreError> {
                let mut stored = self.insert_notices(::std::slice::from_ref(n)).await?;
                stored.pop().ok_or($crate::store::StoreError::NotFound)
            }

            async fn insert_notices(
                &self,
                notices: &[$crate::domain::NewNotice],
            ) -> Result<Vec<$crate::domain::Notice>, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut stored = Vec::with_capacity(notices.len());
                for n in notices {
                    stored.push(Self::insert_notice_in(&mut tx, n).await?);
                }
                tx.commit().await?;
                Ok(stored)
            }

            async fn notice(
                &self,
                id: $crate::domain::NoticeId,
            ) -> Result<Option<$crate::domain::Notice>, $crate::store::StoreError> {
                let row: Option<$crate::store::notices::NoticeRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::notices::notice_columns!(),
                    " FROM notices WHERE id = $1"
                ))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn notice_by_external_id(
                &self,
                external_id: &str,
            ) -> Result<Option<$crate::domain::Notice>, $crate::store::StoreError> {
                let row: Option<$crate::store::notices::NoticeRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::notices::notice_columns!(),
                    " FROM notices WHERE external_id = $1 \
                     OR id = (SELECT notice_id FROM notice_aliases WHERE external_id = $1)"
                ))
                .bind(external_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn add_external_alias(
                &self,
                external_id: &str,
                notice: $crate::domain::NoticeId,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query(
                    "INSERT INTO notice_aliases (external_id, notice_id, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (external_id) DO NOTHING",
                )
                .bind(external_id)
                .bind(notice.0)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn notice_by_cap(
                &self,
                origin: &$crate::domain::CapOrigin,
                language: $crate::domain::Language,
            ) -> Result<Option<$crate::domain::Notice>, $crate::store::StoreError> {
                let row: Option<$crate::store::notices::NoticeRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::notices::notice_columns!(),
                    " FROM notices WHERE (cap_sender = $1 AND cap_identifier = $2 AND language = $3) \
                     OR id = (SELECT notice_id FROM notice_aliases \
                              WHERE cap_sender = $1 AND cap_identifier = $2 AND cap_language = $3) \
                     ORDER BY id LIMIT 1"
                ))
                .bind(origin.sender.as_str())
                .bind(origin.identifier.as_str())
                .bind(language.code())
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn add_cap_alias(
                &self,
                origin: &$crate::domain::CapOrigin,
                language: $crate::domain::Language,
                external_id: &str,
                notice: $crate::domain::NoticeId,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query(
                    "INSERT INTO notice_aliases \
                     (external_id, notice_id, created_at, cap_sender, cap_identifier, cap_language) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(external_id)
                .bind(notice.0)
                .bind(now)
                .bind(origin.sender.as_str())
                .bind(origin.identifier.as_str())
                .bind(language.code())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_notices(
                &self,
                q: &$crate::store::NoticeQuery,
            ) -> Result<Vec<$crate::domain::Notice>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::notices::NoticeRow> = ::sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::store::notices::notice_columns!(),
                    $crate::store::notices::notice_filter!(),
                    " ORDER BY COALESCE(publish_at, created_at) DESC, id DESC LIMIT $6 OFFSET $7"
                ))
                .bind(q.status.map(|s| s.as_str()))
                .bind(q.language.map(|l| l.code()))
                .bind(q.visible_at)
                .bind(q.published_since)
                .bind(q.published_before)
                .bind(i64::from(q.limit))
                .bind(i64::from(q.offset))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn cap_detail(
                &self,
                notice: $crate::domain::NoticeId,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                let row: Option<(Option<String>,)> = ::sqlx::query_as("SELECT cap_detail FROM notices WHERE id = $1")
                    .bind(notice.0)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.and_then(|(detail,)| detail))
            }

            async fn set_cap_detail(
                &self,
                notice: $crate::domain::NoticeId,
                detail: Option<&str>,
            ) -> Result<(), $crate::store::StoreError> {
                ::sqlx::query("UPDATE notices SET cap_detail = $2 WHERE id = $1")
                    .bind(notice.0)
                    .bind(detail)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn count_notices(
                &self,
                q: &$crate::store::NoticeQuery,
            ) -> Result<u64, $crate::store::StoreError> {
                let (count,): (i64,) =
                    ::sqlx::query_as(concat!("SELECT COUNT(*)", $crate::store::notices::notice_filter!()))
                        .bind(q.status.map(|s| s.as_str()))
                        .bind(q.language.map(|l| l.code()))
                        .bind(q.visible_at)
                        .bind(q.published_since)
                        .bind(q.published_before)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(count.max(0) as u64)
            }
        }
    };
}

pub(crate) use impl_notice_store;
pub(crate) use notice_columns;
pub(crate) use notice_filter;
