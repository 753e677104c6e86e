//! CAP 1.2, the Common Alerting Protocol: reading alerts as real feeds write them (XML in
//! the encoding it names, CAP 1.2, 1.1 or 1.0; or the same structure as JSON) through
//! [`parse_document`], turning them into notices ([`prepare`], [`import_prepared`]: what a
//! feed gets wrong but leaves usable is a warning), and writing notices as CAP 1.2 alerts
//! with everything their alert said ([`alert_of`], [`to_xml`]).

mod decode;
mod html;
mod import;
pub mod xml;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::{CapOrigin, Category, Language, Notice};
pub use import::{Authority, ImportError, ImportReport, Prepared, import_alerts, import_prepared, prepare};
use xml::{Element, XmlError};

/// The namespace of CAP 1.2 documents.
pub const NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";
/// The parameter that carries Pingan's own category, so that a round trip keeps it.
const CATEGORY_PARAMETER: &str = "pingan:category";

/// A CAP alert (CAP 1.2 section 3.2.1; 1.1 and 1.0 have the same elements, fewer of
/// them). Every element is kept, so that an alert written back says what it said. Texts
/// are as the document has them (XML entities resolved, trimmed); repeated elements that
/// are empty are dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub identifier: String,
    pub sender: String,
    pub sent: String,
    pub status: String,
    pub msg_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Public, Restricted or Private; required by CAP, missing in some feeds (a warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// "sender,identifier,sent" triples, separated by spaces. `Some("")` when the document
    /// has an empty `<references/>` (a warning), `None` when it has none.
    #[serde(default)]
    pub references: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<String>,
    #[serde(default)]
    pub info: Vec<Info>,
}

/// One `<info>` block (CAP 1.2 section 3.2.2): the alert in one language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub category: Vec<String>,
    pub event: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_type: Vec<String>,
    pub urgency: String,
    pub severity: String,
    pub certainty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// System-specific event codes (SAME codes, say), as name and value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_code: Vec<Parameter>,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub effective: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onset: Option<String>,
    pub expires: Option<String>,
    pub sender_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default)]
    pub parameter: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Resource>,
    #[serde(default)]
    pub area: Vec<AreaDesc>,
}

/// One `<area>` (CAP 1.2 section 3.2.4): its description and its shapes. A polygon is
/// "lat,lon" pairs separated by spaces, the first and last the same; a circle is
/// "lat,lon radius" with the radius in kilometres (WGS 84).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AreaDesc {
    #[serde(default)]
    pub area_desc: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygon: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub circle: Vec<String>,
    /// Codes of the area (FIPS6, UGC, a national area code), as name and value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub geocode: Vec<Parameter>,
    /// In feet above mean sea level (CAP 1.2 section 3.2.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<String>,
}

/// A `<parameter>`, `<eventCode>` or `<geocode>`: a name and a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    pub value_name: String,
    pub value: String,
}

/// A `<resource>` (CAP 1.2 section 3.2.3): a file that goes with the alert, by `uri` or
/// carried inside as base64 (`derefUri`). `size` is in bytes, `digest` a SHA-1 in hex.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    #[serde(default)]
    pub resource_desc: String,
    /// Required by CAP 1.2; CAP 1.0 had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deref_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// CAP's default when an `<info>` names no language.
fn default_language() -> String {
    "en-US".to_owned()
}

/// What is wrong with an alert, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("{0}")]
    Json(String),
    /// The bytes are not text in the encoding the document names (see [`parse_document`]).
    #[error("{0}")]
    Encoding(XmlError),
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> CapError {
    CapError::Invalid { path: path.into(), reason: reason.into() }
}

/// Gives each `<info>` of `alert` Pingan's `category` when neither Pingan's own category
/// parameter nor its CAP `<category>` names one Pingan distinguishes (`Other`, or none):
/// a feed's default (`cap.feeds`' `category`).
pub fn set_default_category(alert: &mut Alert, category: Category) {
    for info in &mut alert.info {
        let own = info.parameter.iter().any(|p| p.value_name == CATEGORY_PARAMETER);
        let distinguished = info.category.iter().any(|c| category_from_cap(c) != Category::General);
        if !own && !distinguished {
            info.parameter.push(Parameter {
                value_name: CATEGORY_PARAMETER.to_owned(),
                value: category.as_str().to_owned(),
            });
        }
    }
}

/// Reads a CAP document from its bytes, as a file or a feed delivers it: an XML alert
/// (CAP 1.2, 1.1 or 1.0) gives one alert, JSON (one alert object or a list, CAP's element
/// names) gives its alerts.
///
/// The text's encoding is found as XML 1.0 (section 4.3.3, appendix F) says: a byte-order
/// mark (UTF-8, UTF-16LE, UTF-16BE), else the XML declaration's `encoding` (any label of the
/// WHATWG Encoding Standard, such as ISO-8859-1 or GB18030), else UTF-8. An unknown
/// label, a declaration the byte-order mark contradicts, or bytes not valid in the
/// encoding are refused as [`CapError::Encoding`] with line and column. A document whose
/// text starts with `{` or `[` is JSON (RFC 8259: UTF-8, a byte-order mark tolerated).
pub fn parse_document(bytes: &[u8]) -> Result<Vec<Alert>, CapError> {
    let text = decode::decode(bytes).map_err(CapError::Encoding)?;
    if is_json(&text) { parse_json(&text) } else { parse_xml(&text).map(|alert| vec![alert]) }
}

/// Whether a document's text is JSON rather than XML: it opens with `{` or `[`.
pub fn is_json(text: &str) -> bool {
    text.trim_start().starts_with(['{', '['])
}

/// The trimmed, non-empty texts of every child called `name`.
fn texts(e: &Element, name: &str) -> Vec<String> {
    e.all(name).map(|c| c.text.trim().to_owned()).filter(|t| !t.is_empty()).collect()
}

/// Every child called `name` as a name and a value: CAP 1.1 and 1.2 write
/// `<valueName>` and `<value>`, CAP 1.0 (section 3.2.2) writes `valueName=value` as text.
/// One without a name or a value is dropped.
fn pairs(e: &Element, name: &str) -> Vec<Parameter> {
    e.all(name)
        .filter_map(|p| match (p.text_of("valueName"), p.text_of("value")) {
            (Some(value_name), Some(value)) => Some(Parameter { value_name, value }),
            _ if p.child("valueName").is_none() => {
                let (name, value) = p.text.split_once('=')?;
                let (name, value) = (name.trim(), value.trim());
                (!name.is_empty() && !value.is_empty())
                    .then(|| Parameter { value_name: name.to_owned(), value: value.to_owned() })
            }
            _ => None,
        })
        .collect()
}

fn resource_of(r: &Element) -> Resource {
    Resource {
        resource_desc: r.text_of("resourceDesc").unwrap_or_default(),
        mime_type: r.text_of("mimeType"),
        size: r.text_of("size"),
        uri: r.text_of("uri"),
        deref_uri: r.text_of("derefUri"),
        digest: r.text_of("digest"),
    }
}

fn area_of(a: &Element) -> AreaDesc {
    AreaDesc {
        area_desc: a.text_of("areaDesc").unwrap_or_default(),
        polygon: texts(a, "polygon"),
        circle: texts(a, "circle"),
        geocode: pairs(a, "geocode"),
        altitude: a.text_of("altitude"),
        ceiling: a.text_of("ceiling"),
    }
}

/// Reads a CAP alert from XML text: CAP 1.2, 1.1 or 1.0 (elements are read by local name,
/// whatever their namespace). For a file's or a feed's bytes, use [`parse_document`].
pub fn parse_xml(text: &str) -> Result<Alert, CapError> {
    let root = xml::parse(text)?;
    if root.name != "alert" {
        return Err(invalid("/", format!("the root element is <{}>, not <alert>", root.name)));
    }
    let required = |e: &Element, path: &str, name: &str| {
        e.text_of(name).ok_or_else(|| invalid(format!("{path}/{name}"), "is missing"))
    };
    let mut infos = Vec::new();
    for (i, info) in root.all("info").enumerate() {
        let path = format!("/alert/info[{}]", i + 1);
        infos.push(Info {
            language: info.text_of("language").unwrap_or_else(default_language),
            category: texts(info, "category"),
            event: required(info, &path, "event")?,
            response_type: texts(info, "responseType"),
            urgency: required(info, &path, "urgency")?,
            severity: required(info, &path, "severity")?,
            certainty: required(info, &path, "certainty")?,
            audience: info.text_of("audience"),
            event_code: pairs(info, "eventCode"),
            headline: info.text_of("headline"),
            description: info.text_of("description"),
            instruction: info.text_of("instruction"),
            effective: info.text_of("effective"),
            onset: info.text_of("onset"),
            expires: info.text_of("expires"),
            sender_name: info.text_of("senderName"),
            web: info.text_of("web"),
            contact: info.text_of("contact"),
            parameter: pairs(info, "parameter"),
            resource: info.all("resource").map(resource_of).filter(|r| *r != Resource::default()).collect(),
            area: info.all("area").map(area_of).filter(|a| *a != AreaDesc::default()).collect(),
        });
    }
    let alert = Alert {
        identifier: required(&root, "/alert", "identifier")?,
        sender: required(&root, "/alert", "sender")?,
        sent: required(&root, "/alert", "sent")?,
        status: required(&root, "/alert", "status")?,
        msg_type: required(&root, "/alert", "msgType")?,
        source: root.text_of("source"),
        scope: root.text_of("scope"),
        restriction: root.text_of("restriction"),
        addresses: root.text_of("addresses"),
        code: texts(&root, "code"),
        note: root.text_of("note"),
        references: root.child("references").map(|r| r.text.trim().to_owned()),
        incidents: root.text_of("incidents"),
        info: infos,
    };
    validate(&alert)?;
    Ok(alert)
}

/// Reads alerts from JSON: one alert object, or a list of them, with CAP's element names.
pub fn parse_json(text: &str) -> Result<Vec<Alert>, CapError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| CapError::Json(format!("line {}, column {}: {e}", e.line(), e.column())))?;
    // Deserialising through serde_path_to_error names the element that is wrong.
    let alert = |value: serde_json::Value, at: String| -> Result<Alert, CapError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = match e.path().to_string() {
                root if root == "." => at.clone(),
                inner => format!("{at}/{}", inner.replace('.', "/")),
            };
            invalid(path, e.into_inner().to_string())
        })
    };
    let alerts: Vec<Alert> = match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| alert(v, format!("[{i}]/alert")).map(normalized))
            .collect::<Result<_, _>>()?,
        other => vec![normalized(alert(other, "/alert".into())?)],
    };
    for alert in &alerts {
        validate(alert)?;
    }
    Ok(alerts)
}

/// A JSON alert read as the XML reader reads one, so that an alert is the same in either
/// form: text trimmed, optional elements that are empty absent, repeated ones that are
/// empty (a category, an area, a parameter) dropped.
fn normalized(mut alert: Alert) -> Alert {
    fn text(s: &mut String) {
        *s = s.trim().to_owned();
    }
    fn optional(s: &mut Option<String>) {
        *s = s.take().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    }
    fn list(items: &mut Vec<String>) {
        items.iter_mut().for_each(text);
        items.retain(|c| !c.is_empty());
    }
    fn pairs(items: &mut Vec<Parameter>) {
        for p in items.iter_mut() {
            text(&mut p.value_name);
            text(&mut p.value);
        }
        items.retain(|p| !p.value_name.is_empty() && !p.value.is_empty());
    }
    for s in
        [&mut alert.identifier, &mut alert.sender, &mut alert.sent, &mut alert.status, &mut alert.msg_type]
    {
        text(s);
    }
    for s in [
        &mut alert.source,
        &mut alert.scope,
        &mut alert.restriction,
        &mut alert.addresses,
        &mut alert.note,
        &mut alert.incidents,
    ] {
        optional(s);
    }
    list(&mut alert.code);
    // An empty `<references/>` is kept as empty, as the XML reader keeps it.
    alert.references = alert.references.take().map(|r| r.trim().to_owned());
    for info in &mut alert.info {
        text(&mut info.language);
        if info.language.is_empty() {
            info.language = default_language();
        }
        list(&mut info.category);
        list(&mut info.response_type);
        for s in [&mut info.event, &mut info.urgency, &mut info.severity, &mut info.certainty] {
            text(s);
        }
        for s in [
            &mut info.audience,
            &mut info.headline,
            &mut info.description,
            &mut info.instruction,
            &mut info.effective,
            &mut info.onset,
            &mut info.expires,
            &mut info.sender_name,
            &mut info.web,
            &mut info.contact,
        ] {
            optional(s);
        }
        pairs(&mut info.event_code);
        pairs(&mut info.parameter);
        for r in &mut info.resource {
            text(&mut r.resource_desc);
            for s in [&mut r.mime_type, &mut r.size, &mut r.uri, &mut r.deref_uri, &mut r.digest] {
                optional(s);
            }
        }
        info.resource.retain(|r| *r != Resource::default());
        for a in &mut info.area {
            text(&mut a.area_desc);
            list(&mut a.polygon);
            list(&mut a.circle);
            pairs(&mut a.geocode);
            optional(&mut a.altitude);
            optional(&mut a.ceiling);
        }
        info.area.retain(|a| *a != AreaDesc::default());
    }
    alert
}

/// CAP 1.2's rules an alert must keep (section 3.2), the same for XML and JSON.
fn validate(alert: &Alert) -> Result<(), CapError> {
    for (name, value) in [("identifier", &alert.identifier), ("sender", &alert.sender)] {
        if value.is_empty() {
            return Err(invalid(format!("/alert/{name}"), "is missing"));
        }
    }
    parse_time(&alert.sent)
        .ok_or_else(|| invalid("/alert/sent", format!("not a CAP time: {:?}", alert.sent)))?;
    if !matches!(alert.status.as_str(), "Actual" | "Exercise" | "System" | "Test" | "Draft") {
        return Err(invalid("/alert/status", format!("unknown status {:?}", alert.status)));
    }
    if !matches!(alert.msg_type.as_str(), "Alert" | "Update" | "Cancel" | "Ack" | "Error") {
        return Err(invalid("/alert/msgType", format!("unknown message type {:?}", alert.msg_type)));
    }
    for (i, info) in alert.info.iter().enumerate() {
        let path = |name: &str| format!("/alert/info[{}]/{name}", i + 1);
        if info.category.is_empty() {
            return Err(invalid(path("category"), "is missing"));
        }
        for (name, time) in
            [("effective", &info.effective), ("onset", &info.onset), ("expires", &info.expires)]
        {
            if let Some(t) = time.as_deref().filter(|t| parse_time(t).is_none()) {
                return Err(invalid(path(name), format!("not a CAP time: {t:?}")));
            }
        }
        for (name, value) in
            [("event", &info.event), ("urgency", &info.urgency), ("certainty", &info.certainty)]
        {
            if value.is_empty() {
                return Err(invalid(path(name), "is missing"));
            }
        }
        if info.severity.parse::<crate::domain::Severity>().is_err() {
            return Err(invalid(path("severity"), format!("unknown severity {:?}", info.severity)));
        }
    }
    Ok(())
}

/// A CAP time (RFC 3339 with an offset; CAP writes UTC as `-00:00`).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let normalized = match text.strip_suffix("-00:00") {
        Some(head) => format!("{head}+00:00"),
        None => text.to_owned(),
    };
    DateTime::<FixedOffset>::parse_from_rfc3339(&normalized).ok().map(|t| t.with_timezone(&Utc))
}

/// CAP 1.2's dateTime (section 3.3.2) in UTC: whole seconds, UTC written as `-00:00`
/// (CAP forbids `Z`, and gives `-00:00` for UTC).
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S-00:00").to_string()
}

/// CAP 1.2's dateTime (section 3.3.2) at `zone`'s offset at that moment, such as
/// `2026-12-01T16:00:00+08:00` for Asia/Shanghai; an offset of zero is written `-00:00`.
/// An offset CAP's `hh:mm` cannot say (local mean time before a zone's standard time,
/// such as +04:53:30) is written in UTC instead.
pub fn format_time_in(t: DateTime<Utc>, zone: Tz) -> String {
    let local = t.with_timezone(&zone);
    let offset = local.offset().fix().local_minus_utc();
    if offset == 0 || offset % 60 != 0 {
        return format_time(t);
    }
    local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Pingan's category for a CAP category.
fn category_from_cap(cap: &str) -> Category {
    match cap {
        "Security" => Category::PublicOrder,
        "Transport" => Category::Traffic,
        "Rescue" => Category::Appeal,
        "Geo" | "Met" | "Env" | "CBRNE" => Category::Disaster,
        "Fire" => Category::Fire,
        _ => Category::General,
    }
}

fn category_to_cap(category: Category) -> &'static str {
    match category {
        Category::Fraud | Category::PublicOrder => "Security",
        Category::Traffic => "Transport",
        Category::Appeal => "Rescue",
        Category::Disaster => "Met",
        Category::Fire => "Fire",
        Category::General => "Other",
    }
}

/// The language of an `<info>`, if Pingan speaks it.
fn language_of(tag: &str) -> Option<Language> {
    let lower = tag.to_ascii_lowercase();
    if lower.starts_with("zh") {
        Some(Language::Zh)
    } else if lower.starts_with("en") {
        Some(Language::En)
    } else {
        None
    }
}

fn language_tag(language: Language) -> &'static str {
    match language {
        Language::Zh => "zh-CN",
        Language::En => "en-US",
    }
}

/// The alert's (sender, identifier) a notice came from, or Pingan's own for its notices.
fn identity(notice: &Notice, sender: &str) -> (String, String) {
    match &notice.cap {
        Some(origin) => (origin.sender.clone(), origin.identifier.clone()),
        None => (sender.to_owned(), own_identifier(notice.id)),
    }
}

/// The identifier Pingan's exports give one of its own notices.
fn own_identifier(id: crate::domain::NoticeId) -> String {
    format!("pingan-{id}")
}

/// The external id a notice imported from an alert's `<info>` is shown with:
/// `cap:<sender>:<identifier>:<language>`, with `%` and `:` inside the sender and the
/// identifier percent-encoded so that no two alerts share one (URNs and OIDs hold colons).
/// Alerts are matched on the stored sender and identifier, not on this.
fn external_id(origin: &CapOrigin, language: Language) -> String {
    let encode = |s: &str| s.replace('%', "%25").replace(':', "%3A");
    format!("cap:{}:{}:{}", encode(&origin.sender), encode(&origin.identifier), language.code())
}

/// The language group of the notices one alert's `<info>` blocks become: its sender and
/// identifier, the sender's length first so that no two pairs give the same key.
fn language_group(sender: &str, identifier: &str) -> String {
    format!("cap:{}:{sender}:{identifier}", sender.len())
}

/// The areas of an `<info>` as one line of text: their descriptions joined by `; `
/// (what an imported notice shows as its area).
fn area_text(areas: &[AreaDesc]) -> String {
    let descs: Vec<&str> =
        areas.iter().map(|a| a.area_desc.as_str()).filter(|d| !d.trim().is_empty()).collect();
    import::one_line(&descs.join("; "))
}

/// A notice as a CAP 1.2 alert. `sender` names this system for Pingan's own notices;
/// times are written at `zone`'s offset (the bureau's `bot.time_zone`), UTC as `-00:00`.
///
/// `detail` is what the notice's alert said beyond what Pingan keeps (see
/// [`NoticeStore::cap_detail`](crate::store::NoticeStore::cap_detail)): the alert with
/// this notice's one `<info>`. Its other elements, areas with their polygons, circles and
/// geocodes, parameters, event codes and resources are written back; what Pingan keeps
/// (title, text, severity, times, sender name) is written from the notice, and the areas
/// and categories only while the notice's still agree with them. A notice written in
/// Pingan has no detail.
///
/// A withdrawn notice is written as the Cancel of its alert, so that systems that took
/// the alert withdraw it too.
pub fn alert_of(notice: &Notice, detail: Option<&Alert>, sender: &str, zone: Tz) -> Alert {
    use crate::domain::NoticeStatus;
    let c = &notice.content;
    let time = |t: DateTime<Utc>| format_time_in(t, zone);
    let (sender, identifier) = identity(notice, sender);
    let base = detail.cloned().unwrap_or_default();
    let status = match (notice.status, base.status.as_str()) {
        (NoticeStatus::Draft, kept @ ("Exercise" | "System" | "Test")) => kept.to_owned(),
        (NoticeStatus::Draft, _) => "Draft".to_owned(),
        _ => "Actual".to_owned(),
    };
    let (identifier, msg_type, references) = if notice.status == NoticeStatus::Retracted {
        // The alert's own `sent` is kept with an imported notice; for Pingan's own its
        // publication time stands for it (CAP systems, Pingan among them, match references
        // by sender and identifier).
        let sent = match (&notice.cap, parse_time(&base.sent)) {
            (Some(_), Some(sent)) => sent,
            _ => notice.publish_at.unwrap_or(notice.created_at),
        };
        let references = format!("{sender},{identifier},{}", time(sent));
        (format!("{identifier}-cancel"), "Cancel", Some(references))
    } else {
        (identifier, "Alert", None)
    };
    let info = base.info.into_iter().next().unwrap_or_default();
    let category = if info.category.first().is_some_and(|first| category_from_cap(first) == c.category) {
        info.category
    } else {
        vec![category_to_cap(c.category).to_owned()]
    };
    let area = match &c.area {
        Some(area)
            if import::fit(&area_text(&info.area), crate::domain::Area::MAX_CHARS) == area.as_str() =>
        {
            info.area
        }
        Some(area) => vec![AreaDesc { area_desc: area.as_str().to_owned(), ..AreaDesc::default() }],
        None => Vec::new(),
    };
    let mut parameter: Vec<Parameter> =
        info.parameter.into_iter().filter(|p| p.value_name != CATEGORY_PARAMETER).collect();
    parameter
        .push(Parameter { value_name: CATEGORY_PARAMETER.to_owned(), value: c.category.as_str().to_owned() });
    let or = |kept: String, otherwise: &str| if kept.is_empty() { otherwise.to_owned() } else { kept };
    Alert {
        identifier,
        sender,
        sent: time(notice.updated_at),
        status,
        msg_type: msg_type.to_owned(),
        scope: Some(base.scope.unwrap_or_else(|| "Public".to_owned())),
        references,
        info: vec![Info {
            language: if language_of(&info.language) == Some(c.language) {
                info.language
            } else {
                language_tag(c.language).to_owned()
            },
            category,
            event: or(info.event, c.title.as_str()),
            urgency: or(info.urgency, if c.severity.is_urgent() { "Immediate" } else { "Expected" }),
            severity: c.severity.as_str().to_owned(),
            certainty: or(info.certainty, "Observed"),
            headline: Some(c.title.as_str().to_owned()),
            // The notice's text holds the description (or the WEA text) and the instruction.
            description: Some(c.body.as_str().to_owned()),
            instruction: None,
            effective: Some(time(notice.publish_at.unwrap_or(notice.created_at))),
            expires: notice.expires_at.map(time),
            sender_name: c.source.as_ref().map(|s| s.as_str().to_owned()),
            area,
            parameter,
            ..info
        }],
        ..base
    }
}

/// A notice as a CAP 1.2 XML document: [`alert_of`] written by [`to_xml`].
pub fn export(notice: &Notice, detail: Option<&Alert>, sender: &str, zone: Tz) -> String {
    to_xml(&alert_of(notice, detail, sender, zone))
}

/// A notice as a CAP 1.2 alert with the detail stored with it ([`alert_of`]).
pub async fn alert_from_store(
    store: &dyn crate::store::Store,
    notice: &Notice,
    sender: &str,
    zone: Tz,
) -> Result<Alert, crate::store::StoreError> {
    let detail = match store.cap_detail(notice.id).await? {
        Some(json) => Some(serde_json::from_str::<Alert>(&json).map_err(|e| {
            crate::store::StoreError::corrupt(&format!("notice {} CAP detail", notice.id), e)
        })?),
        None => None,
    };
    Ok(alert_of(notice, detail.as_ref(), sender, zone))
}

/// The largest image sent with an alert, in bytes once decoded: Telegram's limit for a
/// photo uploaded with `sendPhoto` (Bot API, "Sending files").
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// The first image among an `<info>`'s resources that can be sent as a photo, with its
/// description: a `<resource>` whose `mimeType` is `image/*` and that carries the image
/// (`derefUri`, base64, at most [`MAX_PHOTO_BYTES`] once decoded) or names it (`uri`,
/// http or https only, which Telegram fetches itself). A derefUri is preferred: it needs
/// nothing from the network.
pub fn photo_of(info: &Info) -> Option<(crate::telegram::api::PhotoSource, String)> {
    use crate::telegram::api::PhotoSource;
    use base64::Engine as _;
    info.resource.iter().find_map(|r| {
        let mime = r.mime_type.as_deref()?.trim().to_ascii_lowercase();
        if !mime.starts_with("image/") {
            return None;
        }
        let carried = r.deref_uri.as_deref().and_then(|data| {
            let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            // Base64 is four characters for three bytes: too long a text is not decoded.
            if data.len() / 4 * 3 > MAX_PHOTO_BYTES + 3 {
                return None;
            }
            let bytes = base64::engine::general_purpose::STANDARD.decode(&data).ok()?;
            (!bytes.is_empty() && bytes.len() <= MAX_PHOTO_BYTES)
                .then(|| PhotoSource::Upload { mime: mime.clone(), base64: data })
        });
        let named = || {
            let url = url::Url::parse(r.uri.as_deref()?.trim()).ok()?;
            matches!(url.scheme(), "http" | "https").then(|| PhotoSource::Url(url.to_string()))
        };
        let source = carried.or_else(named)?;
        Some((source, r.resource_desc.clone()))
    })
}

/// Lines of CAP XML, indented by depth, their text escaped.
struct Writer {
    lines: Vec<String>,
}

impl Writer {
    fn line(&mut self, depth: usize, text: String) {
        self.lines.push(format!("{}{text}", "  ".repeat(depth)));
    }

    fn field(&mut self, depth: usize, name: &str, value: &str) {
        self.line(depth, format!("<{name}>{}</{name}>", quick_xml::escape::escape(value)));
    }

    fn optional(&mut self, depth: usize, name: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.field(depth, name, value);
        }
    }

    fn all(&mut self, depth: usize, name: &str, values: &[String]) {
        for value in values {
            self.field(depth, name, value);
        }
    }

    fn pairs(&mut self, depth: usize, name: &str, pairs: &[Parameter]) {
        for p in pairs {
            self.line(depth, format!("<{name}>"));
            self.field(depth + 1, "valueName", &p.value_name);
            self.field(depth + 1, "value", &p.value);
            self.line(depth, format!("</{name}>"));
        }
    }
}

/// An alert as a CAP 1.2 XML document (UTF-8), its elements in the order the schema
/// requires (CAP 1.2 section 3.4).
pub fn to_xml(alert: &Alert) -> String {
    let mut w = Writer { lines: Vec::new() };
    w.line(0, format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"{NAMESPACE}\">"));
    w.field(1, "identifier", &alert.identifier);
    w.field(1, "sender", &alert.sender);
    w.field(1, "sent", &alert.sent);
    w.field(1, "status", &alert.status);
    w.field(1, "msgType", &alert.msg_type);
    w.optional(1, "source", &alert.source);
    w.optional(1, "scope", &alert.scope);
    w.optional(1, "restriction", &alert.restriction);
    w.optional(1, "addresses", &alert.addresses);
    w.all(1, "code", &alert.code);
    w.optional(1, "note", &alert.note);
    w.optional(1, "references", &alert.references);
    w.optional(1, "incidents", &alert.incidents);
    for info in &alert.info {
        w.line(1, "<info>".into());
        w.field(2, "language", &info.language);
        w.all(2, "category", &info.category);
        w.field(2, "event", &info.event);
        w.all(2, "responseType", &info.response_type);
        w.field(2, "urgency", &info.urgency);
        w.field(2, "severity", &info.severity);
        w.field(2, "certainty", &info.certainty);
        w.optional(2, "audience", &info.audience);
        w.pairs(2, "eventCode", &info.event_code);
        for (name, value) in [
            ("effective", &info.effective),
            ("onset", &info.onset),
            ("expires", &info.expires),
            ("senderName", &info.sender_name),
            ("headline", &info.headline),
            ("description", &info.description),
            ("instruction", &info.instruction),
            ("web", &info.web),
            ("contact", &info.contact),
        ] {
            w.optional(2, name, value);
        }
        w.pairs(2, "parameter", &info.parameter);
        for r in &info.resource {
            w.line(2, "<resource>".into());
            w.field(3, "resourceDesc", &r.resource_desc);
            w.optional(3, "mimeType", &r.mime_type);
            w.optional(3, "size", &r.size);
            w.optional(3, "uri", &r.uri);
            w.optional(3, "derefUri", &r.deref_uri);
            w.optional(3, "digest", &r.digest);
            w.line(2, "</resource>".into());
        }
        for a in &info.area {
            w.line(2, "<area>".into());
            w.field(3, "areaDesc", &a.area_desc);
            w.all(3, "polygon", &a.polygon);
            w.all(3, "circle", &a.circle);
            w.pairs(3, "geocode", &a.geocode);
            w.optional(3, "altitude", &a.altitude);
            w.optional(3, "ceiling", &a.ceiling);
            w.line(2, "</area>".into());
        }
        w.line(1, "</info>".into());
    }
    w.line(0, "</alert>\n".into());
    w.lines.join("\n")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Found by the `cap` fuzz target: a JSON alert with an empty `sender` was accepted,
    /// while the same alert in XML is refused; JSON text was not trimmed as XML's is.
    #[test]
    fn a_json_alert_reads_as_its_xml_does() {
        let json = |sender: &str, headline: &str| {
            format!(
                r#"{{"identifier":" A1 ","sender":"{sender}","sent":"2026-12-01T08:00:00-00:00","status":"Actual",
                "msgType":"Alert","info":[{{"category":["Fire", " "],"event":"Wildfire","urgency":"Immediate",
                "severity":"Severe","certainty":"Observed","headline":"{headline}","area":[{{"areaDesc":""}}]}}]}}"#
            )
        };
        let refused = parse_json(&json("", "Evacuate")).unwrap_err();
        assert_eq!(refused.to_string(), "/alert/sender: is missing");
        let alert = parse_json(&json("fire@example.gov", " ")).unwrap().remove(0);
        assert_eq!(alert.identifier, "A1");
        assert_eq!(alert.info[0].headline, None);
        assert_eq!(alert.info[0].category, ["Fire"]);
        assert!(alert.info[0].area.is_empty());
        assert_eq!(parse_xml(&to_xml(&alert)).unwrap(), alert);
    }

    #[test]
    fn times_are_written_at_the_bureaus_offset_and_utc_as_minus_zero() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 7, 30, 0).unwrap();
        let cases = [
            (chrono_tz::Asia::Shanghai, "2026-12-01T15:30:00+08:00"),
            (chrono_tz::UTC, "2026-12-01T07:30:00-00:00"),
            // Zero offset in a zone that is not UTC is still written as CAP writes UTC.
            (chrono_tz::Europe::London, "2026-12-01T07:30:00-00:00"),
            (chrono_tz::America::New_York, "2026-12-01T02:30:00-05:00"),
            (chrono_tz::Asia::Kolkata, "2026-12-01T13:00:00+05:30"),
        ];
        for (zone, written) in cases {
            assert_eq!(format_time_in(t, zone), written, "{zone}");
            assert_eq!(parse_time(written), Some(t), "{written}");
        }
        assert_eq!(format_time(t), "2026-12-01T07:30:00-00:00");
        // Shanghai's local mean time (+08:05:43) has seconds CAP cannot write: UTC then.
        let old = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(format_time_in(old, chrono_tz::Asia::Shanghai), "1900-01-01T00:00:00-00:00");
    }

    /// An alert with one `<info>`, in `namespace`, whose `<info>` ends with `extra`.
    fn minimal(namespace: &str, head: &str, extra: &str) -> String {
        format!(
            "<alert xmlns=\"{namespace}\"><identifier>A</identifier><sender>s@example.org</sender>\
             <sent>2026-12-01T08:00:00-00:00</sent><status>Actual</status>{head}<info><category>Fire</category>\
             <event>Fire</event><urgency>Immediate</urgency><severity>Severe</severity>\
             <certainty>Observed</certainty>{extra}</info></alert>"
        )
    }

    #[test]
    fn cap_1_1_and_1_0_read_as_1_2_with_1_0_pairs_as_text() {
        let pairs = "<parameter>EAS-ORG=WXR</parameter><eventCode>SAME=TOR</eventCode>\
                     <area><areaDesc>X</areaDesc><geocode>FIPS6=006109</geocode></area>";
        for namespace in
            [NAMESPACE, "urn:oasis:names:tc:emergency:cap:1.1", "http://www.incident.com/cap/1.0"]
        {
            let xml = minimal(namespace, "<msgType>Alert</msgType><scope>Public</scope>", pairs);
            let alert = parse_document(xml.as_bytes()).unwrap().remove(0);
            let info = &alert.info[0];
            let pair = |p: &Parameter| (p.value_name.clone(), p.value.clone());
            assert_eq!(
                info.parameter.iter().map(pair).collect::<Vec<_>>(),
                [("EAS-ORG".into(), "WXR".into())]
            );
            assert_eq!(info.event_code.iter().map(pair).collect::<Vec<_>>(), [("SAME".into(), "TOR".into())]);
            assert_eq!(info.area[0].geocode[0].value, "006109", "{namespace}");
            assert_eq!(parse_xml(&to_xml(&alert)).unwrap(), alert, "{namespace}");
        }
    }

    #[test]
    fn what_feeds_get_wrong_but_leaves_an_alert_usable_is_a_warning() {
        let cases = [
            ("<msgType>Alert</msgType><scope>Public</scope>", "", vec![]),
            ("<msgType>Alert</msgType>", "", vec!["alert A from s@example.org: /alert/scope is missing"]),
            (
                "<msgType>Cancel</msgType><scope>Public</scope><references/>",
                "<expires>2026-12-01T08:00:00-00:00</expires>",
                vec![
                    "alert A from s@example.org: /alert/references is empty",
                    "alert A from s@example.org: /alert/info[1]/expires (2026-12-01T08:00:00-00:00) is not after",
                ],
            ),
            (
                "<msgType>Alert</msgType><scope>Public</scope>",
                "<effective>2026-12-01T10:00:00+02:00</effective><expires>2026-12-01T07:00:00-00:00</expires>",
                vec![
                    "/alert/info[1]/expires (2026-12-01T07:00:00-00:00) is not after the alert takes effect",
                ],
            ),
        ];
        for (head, extra, warnings) in cases {
            let alert = parse_xml(&minimal(NAMESPACE, head, extra)).unwrap();
            let prepared = prepare(&alert).unwrap_or_else(|e| panic!("{head}{extra}: {e}"));
            assert_eq!(prepared.warnings.len(), warnings.len(), "{:?}", prepared.warnings);
            for (warning, expected) in prepared.warnings.iter().zip(warnings) {
                assert!(warning.contains(expected), "{warning:?} does not say {expected:?}");
            }
        }
    }

    #[test]
    fn what_makes_an_alert_unusable_is_still_refused_with_its_place() {
        let cases = [
            (
                minimal(NAMESPACE, "<msgType>Alert</msgType>", "").replace("<event>Fire</event>", ""),
                "/alert/info[1]/event: is missing",
            ),
            (
                minimal(NAMESPACE, "<msgType>Shout</msgType>", ""),
                "/alert/msgType: unknown message type \"Shout\"",
            ),
            (
                minimal(NAMESPACE, "<msgType>Alert</msgType>", "<expires>soon</expires>"),
                "/alert/info[1]/expires: not a CAP time",
            ),
            (
                minimal(NAMESPACE, "<msgType>Alert</msgType>", "").replace("Severe", "Huge"),
                "/alert/info[1]/severity: unknown severity",
            ),
            (
                minimal(NAMESPACE, "<msgType>Alert</msgType>", "").replace("</info>", "</inf>"),
                "line 1, column",
            ),
        ];
        for (xml, reason) in cases {
            let err = parse_document(xml.as_bytes()).unwrap_err();
            assert!(err.to_string().starts_with(reason), "{err} does not start with {reason:?}");
        }
    }

    #[test]
    fn an_image_resource_is_a_photo_by_its_data_or_its_web_address() {
        use crate::telegram::api::PhotoSource;
        let resource = |mime: &str, uri: Option<&str>, data: Option<&str>| Resource {
            resource_desc: "Map".into(),
            mime_type: Some(mime.into()),
            uri: uri.map(str::to_owned),
            deref_uri: data.map(str::to_owned),
            ..Resource::default()
        };
        let too_big = "A".repeat((MAX_PHOTO_BYTES + 3) / 3 * 4 + 4);
        let cases = [
            (
                resource("image/png", Some("https://x.example/map.png"), None),
                Some(PhotoSource::Url("https://x.example/map.png".into())),
            ),
            (
                resource("image/jpeg", Some("https://x.example/a.jpg"), Some("iVBO Rw0K\nGgo=")),
                Some(PhotoSource::Upload { mime: "image/jpeg".into(), base64: "iVBORw0KGgo=".into() }),
            ),
            (
                resource("Image/PNG", Some("http://x.example/b.png"), None),
                Some(PhotoSource::Url("http://x.example/b.png".into())),
            ),
            (resource("image/png", Some("ftp://x.example/map.png"), None), None),
            (resource("image/png", Some("map.png"), None), None),
            (resource("application/pdf", Some("https://x.example/a.pdf"), None), None),
            (resource("image/png", None, Some("not base64!")), None),
            (resource("image/png", None, Some(&too_big)), None),
            (
                resource("image/png", Some("https://x.example/big.png"), Some(&too_big)),
                Some(PhotoSource::Url("https://x.example/big.png".into())),
            ),
        ];
        for (r, expected) in cases {
            let info = Info { resource: vec![r.clone()], ..Info::default() };
            assert_eq!(photo_of(&info).map(|(p, _)| p), expected, "{:?}", (r.mime_type, r.uri));
        }
    }

    #[test]
    fn cap_times_are_read_with_their_offset() {
        assert_eq!(
            parse_time("2003-06-17T14:57:00-07:00").unwrap().to_rfc3339(),
            "2003-06-17T21:57:00+00:00"
        );
        assert_eq!(
            parse_time("2012-05-02T23:21:04-00:00").unwrap().to_rfc3339(),
            "2012-05-02T23:21:04+00:00"
        );
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn external_ids_of_senders_and_identifiers_with_colons_do_not_collide() {
        let origin = |sender: &str, identifier: &str| CapOrigin {
            sender: sender.into(),
            identifier: identifier.into(),
        };
        let a = external_id(&origin("urn:oid:1.2", "3"), Language::Zh);
        let b = external_id(&origin("urn:oid:1", "2:3"), Language::Zh);
        let c = external_id(&origin("urn", "oid:1.2:3"), Language::Zh);
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_ne!(a, c);
        assert_eq!(a, "cap:urn%3Aoid%3A1.2:3:zh");
        assert_ne!(
            external_id(&origin("a%3Ab", "c"), Language::En),
            external_id(&origin("a:b", "c"), Language::En)
        );
        // Plain senders and identifiers keep the form earlier versions wrote.
        assert_eq!(
            external_id(&origin("alerts@police.example.gov.cn", "X-1"), Language::En),
            "cap:alerts@police.example.gov.cn:X-1:en"
        );
        assert_ne!(language_group("urn:oid:1.2", "3"), language_group("urn:oid:1", "2:3"));
    }

    #[test]
    fn a_malformed_alert_says_what_and_where() {
        let err = parse_xml(
            "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n<identifier>x</identifier>\n</alert>",
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "/alert/sender: is missing");
        let err = parse_xml("<alert>\n<identifier>x</identifier>\n<sender>").unwrap_err();
        assert!(matches!(err, CapError::Xml(XmlError { .. })), "{err}");
        let err = parse_json("{\"identifier\": 1}").unwrap_err();
        assert!(err.to_string().starts_with("/alert/identifier: invalid type"), "{err}");
        let err = parse_json("[{\"identifier\": \"x\"}]").unwrap_err();
        assert!(err.to_string().starts_with("[0]/alert: missing field"), "{err}");
    }
}
