//! `/api/notices`: list, read, create, correct and retract notices, and read one as CAP.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::HttpState;
use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use crate::domain::{
    Area, Body, NewNotice, Notice, NoticeContent, NoticeCorrection, NoticeId, NoticeStatus, Publication,
    Source, Title,
};
use crate::store::{NewPublication, NoticeQuery};

/// A JSON body whose problems come back as this API's errors.
pub struct Input<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Input(value)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// A notice's number in the path; anything else is this API's 404.
pub struct NoticeNumber(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for NoticeNumber {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(NoticeNumber(id)),
            Err(_) => Err(ApiError::NotFound("a notice's number is a whole number".into())),
        }
    }
}

/// Query parameters whose problems come back as this API's errors.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// A notice as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// fraud, public_order, traffic, appeal, disaster, fire or general
    pub category: String,
    /// CAP severity: Extreme, Severe, Moderate, Minor or Unknown
    pub severity: String,
    pub area: Option<String>,
    /// The keys of the districts it concerns (`bot.districts`); empty: the whole city.
    pub districts: Vec<String>,
    /// zh or en
    pub language: String,
    /// draft, scheduled, published, retracted or expired
    pub status: String,
    pub publish_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub author: String,
    /// Its identifier elsewhere, such as a CAP alert's.
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Notice> for NoticeView {
    fn from(n: Notice) -> Self {
        let c = n.content;
        NoticeView {
            id: n.id.0,
            title: c.title.into_string(),
            body: c.body.into_string(),
            category: c.category.to_string(),
            severity: c.severity.to_string(),
            area: c.area.map(Area::into_string),
            districts: c.districts.iter().map(|k| k.to_string()).collect(),
            language: c.language.to_string(),
            status: n.status.to_string(),
            publish_at: n.publish_at,
            expires_at: n.expires_at,
            source: c.source.map(Source::into_string),
            author: n.author.to_string(),
            external_id: n.external_id,
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

/// A new notice.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNoticeInput {
    pub title: String,
    pub body: String,
    /// fraud, public_order, traffic, appeal, disaster, fire or general
    pub category: String,
    /// Extreme, Severe, Moderate, Minor or Unknown. Extreme and Severe alert subscribers at once.
    pub severity: String,
    pub area: Option<String>,
    /// The districts it concerns, by key, Chinese or English name or alias from
    /// `bot.districts` (["chengdong", "城西区"]); absent or empty: the whole city. An
    /// unknown name is refused with 422.
    #[serde(default)]
    pub districts: Vec<String>,
    /// zh or en
    pub language: String,
    pub source: Option<String>,
    /// When to publish; absent means now. A time to come schedules it.
    pub publish_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Keep it as a draft.
    #[serde(default)]
    pub draft: bool,
    /// Its identifier in the calling system; a second notice with the same one is refused.
    pub external_id: Option<String>,
}

/// A correction: what is given replaces what the notice had.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticePatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    /// An empty string makes it city-wide.
    pub area: Option<String>,
    pub source: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl NoticePatch {
    fn is_empty(&self) -> bool {
        let NoticePatch { title, body, category, severity, area, source, expires_at } = self;
        title.is_none()
            && body.is_none()
            && category.is_none()
            && severity.is_none()
            && area.is_none()
            && source.is_none()
            && expires_at.is_none()
    }
}

/// A corrected or retracted notice, and how many recipients are being told.
#[derive(Serialize, ToSchema)]
pub struct ChangeView {
    pub notice: NoticeView,
    pub recipients_told: u64,
}

#[derive(Serialize, ToSchema)]
pub struct NoticeListView {
    pub notices: Vec<NoticeView>,
    /// How many match, over all pages.
    pub total: u64,
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// draft, scheduled, published, retracted or expired
    pub status: Option<String>,
    /// zh or en
    pub language: Option<String>,
    /// 1 to 200 (default 20)
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::Invalid(e.to_string())
}

fn parse_field<T: std::str::FromStr>(value: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(invalid)
}

/// List notices, newest first.
#[utoipa::path(get, path = "/api/notices", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = NoticeListView), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<HttpState>,
    _caller: Caller,
    Params(params): Params<ListParams>,
) -> Result<Json<NoticeListView>, ApiError> {
    let limit = params.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be from 1 to 200".into()));
    }
    let query = NoticeQuery {
        status: params
            .status
            .as_deref()
            .map(parse_field::<NoticeStatus>)
            .transpose()
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        language: params
            .language
            .as_deref()
            .map(parse_field)
            .transpose()
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        limit,
        offset: params.offset.unwrap_or(0),
        ..NoticeQuery::default()
    };
    let total = state.app.store.count_notices(&query).await?;
    let notices = state.app.store.list_notices(&query).await?.into_iter().map(NoticeView::from).collect();
    Ok(Json(NoticeListView { notices, total }))
}

/// Read one notice.
#[utoipa::path(get, path = "/api/notices/{id}", params(("id" = i64, Path, description = "The notice's number")),
    security(("bearer" = [])),
    responses((status = 200, body = NoticeView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<HttpState>,
    _caller: Caller,
    NoticeNumber(id): NoticeNumber,
) -> Result<Json<NoticeView>, ApiError> {
    let notice = state.app.store.notice(NoticeId(id)).await?;
    notice.map(|n| Json(n.into())).ok_or_else(|| ApiError::NotFound(format!("there is no notice {id}")))
}

/// The `Idempotency-Key` header as the key Pingan keeps: scoped to the token, whose name
/// goes in with its length so that no token's keys can be another's
/// (`api:<length of name>:<name>:<key>`). `None` without the header.
///
/// Errors: 400 for a key that is not text or is longer than 200 characters.
fn idempotency_key(headers: &axum::http::HeaderMap, caller: &Caller) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().map_err(|_| ApiError::BadRequest("Idempotency-Key must be text".into()))?.trim();
    if key.chars().count() > 200 {
        return Err(ApiError::BadRequest("Idempotency-Key is longer than 200 characters".into()));
    }
    Ok((!key.is_empty()).then(|| format!("api:{}:{}:{key}", caller.name.len(), caller.name)))
}

/// Create a notice: published now, scheduled, or a draft. Extreme and Severe notices alert
/// subscribers as soon as they are published.
///
/// Safe to retry: the same `Idempotency-Key` header from the same token (or, without one,
/// the same `external_id`) returns the notice the first request created, with 200 and
/// `Idempotent-Replayed: true`, and stores nothing new.
#[utoipa::path(post, path = "/api/notices", request_body = NewNoticeInput, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Any string unique to this request (a UUID, say): a retry with the same key returns the first result")),
    responses((status = 201, body = NoticeView), (status = 200, description = "A retry: the notice the first request created", body = NoticeView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<HttpState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Input(input): Input<NewNoticeInput>,
) -> Result<axum::response::Response, ApiError> {
    caller.must_publish()?;
    let header_key = idempotency_key(&headers, &caller)?;
    let mut districts = crate::domain::DistrictSet::new();
    for name in &input.districts {
        let known = &state.app.settings.districts;
        let district = known.find(name).ok_or_else(|| {
            let keys: Vec<&str> = known.all().iter().map(|d| d.key.as_str()).collect();
            ApiError::Invalid(format!("districts: {name:?} is not a district (known: [{}])", keys.join(", ")))
        })?;
        districts.insert(district.key.clone());
    }
    let content = NoticeContent {
        districts,
        title: Title::parse(&input.title).map_err(invalid)?,
        body: Body::parse(&input.body).map_err(invalid)?,
        category: parse_field(&input.category)?,
        severity: parse_field(&input.severity)?,
        area: input
            .area
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .map(Area::parse)
            .transpose()
            .map_err(invalid)?,
        language: parse_field(&input.language)?,
        source: input.source.as_deref().map(Source::parse).transpose().map_err(invalid)?,
    };
    let publication = match (input.draft, input.publish_at) {
        (true, _) => Publication::Draft,
        (false, Some(at)) => Publication::At(at),
        (false, None) => Publication::Now,
    };
    let now = state.app.clock.now();
    let mut notice =
        NewNotice::new(content, publication, input.expires_at, caller.actor(), now).map_err(invalid)?;
    let external = input.external_id.filter(|e| !e.trim().is_empty());
    let key = match (header_key, &external) {
        (Some(key), _) => Some(key),
        (None, Some(external)) => Some(format!("external:{external}")),
        (None, None) => None,
    };
    if let Some(external) = external {
        notice = notice.with_external_id(external);
    }
    let actor = caller.actor();
    let publication = NewPublication {
        notices: std::slice::from_ref(&notice),
        actor: &actor,
        idempotency_key: key.as_deref(),
        ends_dialogue: None,
    };
    let mut published = state.app.desk().publish_once(&publication).await?;
    let view: NoticeView = published.notices.remove(0).into();
    Ok(if published.repeated {
        (StatusCode::OK, [("idempotent-replayed", "true")], Json(view)).into_response()
    } else {
        (StatusCode::CREATED, Json(view)).into_response()
    })
}

/// Correct a notice. Everyone its alert or channel post reached gets the correction as
/// a reply to the message they got.
///
/// Safe to retry with an `Idempotency-Key` header: the same correction with the same key
/// from the same token returns what the first request did, with `Idempotent-Replayed:
/// true`, and tells no one again; the key with another correction is a 409.
#[utoipa::path(patch, path = "/api/notices/{id}", request_body = NoticePatch,
    params(("id" = i64, Path, description = "The notice's number"),
        ("Idempotency-Key" = Option<String>, Header,
        description = "Any string unique to this request (a UUID, say): a retry with the same key returns the first result")),
    security(("bearer" = [])),
    responses((status = 200, body = ChangeView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn correct(
    State(state): State<HttpState>,
    caller: Caller,
    NoticeNumber(id): NoticeNumber,
    headers: axum::http::HeaderMap,
    Input(patch): Input<NoticePatch>,
) -> Result<axum::response::Response, ApiError> {
    caller.must_publish()?;
    let key = idempotency_key(&headers, &caller)?;
    if patch.is_empty() {
        return Err(ApiError::Invalid("nothing to change: give at least one field".into()));
    }
    let current = state
        .app
        .store
        .notice(NoticeId(id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no notice {id}")))?;
    let mut c = current.content.clone();
    if let Some(title) = &patch.title {
        c.title = Title::parse(title).map_err(invalid)?;
    }
    if let Some(body) = &patch.body {
        c.body = Body::parse(body).map_err(invalid)?;
    }
    if let Some(category) = &patch.category {
        c.category = parse_field(category)?;
    }
    if let Some(severity) = &patch.severity {
        c.severity = parse_field(severity)?;
    }
    if let Some(area) = &patch.area {
        c.area = (!area.trim().is_empty()).then(|| Area::parse(area)).transpose().map_err(invalid)?;
    }
    if let Some(source) = &patch.source {
        c.source = (!source.trim().is_empty()).then(|| Source::parse(source)).transpose().map_err(invalid)?;
    }
    let expires_at = patch.expires_at.or(current.expires_at);
    let correction = NoticeCorrection::new(c, expires_at, state.app.clock.now()).map_err(invalid)?;
    let desk = state.app.desk();
    let changed = desk.correct_once(NoticeId(id), &correction, &caller.actor(), key.as_deref(), None).await?;
    let view = Json(ChangeView { notice: changed.notice.into(), recipients_told: changed.told });
    Ok(if changed.repeated {
        (StatusCode::OK, [("idempotent-replayed", "true")], view).into_response()
    } else {
        view.into_response()
    })
}

/// Withdraw a notice. Everyone its alert or channel post reached is told, as a reply;
/// alerts not yet sent are not sent.
#[utoipa::path(post, path = "/api/notices/{id}/retract", params(("id" = i64, Path, description = "The notice's number")),
    security(("bearer" = [])),
    responses((status = 200, body = ChangeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retract(
    State(state): State<HttpState>,
    caller: Caller,
    NoticeNumber(id): NoticeNumber,
) -> Result<Json<ChangeView>, ApiError> {
    caller.must_publish()?;
    let changed = state.app.desk().retract(NoticeId(id), &caller.actor()).await?;
    Ok(Json(ChangeView { notice: changed.notice.into(), recipients_told: changed.told }))
}

/// One notice as a CAP 1.2 alert.
#[utoipa::path(get, path = "/api/notices/{id}/cap", params(("id" = i64, Path, description = "The notice's number")),
    security(("bearer" = [])),
    responses((status = 200, description = "A CAP 1.2 alert", content_type = "application/cap+xml", body = String),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cap(
    State(state): State<HttpState>,
    _caller: Caller,
    NoticeNumber(id): NoticeNumber,
) -> Result<impl IntoResponse, ApiError> {
    let notice = state
        .app
        .store
        .notice(NoticeId(id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no notice {id}")))?;
    let settings = &state.app.settings;
    let alert = crate::cap::alert_from_store(
        state.app.store.as_ref(),
        &notice,
        &settings.cap_sender,
        settings.time_zone,
    )
    .await?;
    let xml = crate::cap::to_xml(&alert);
    Ok(([(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")], xml))
}
