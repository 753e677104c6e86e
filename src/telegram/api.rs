//! Pingan's own Bot API client for sending: the status code, `retry_after` and
//! `migrate_to_chat_id` come back to the caller, and nothing sleeps inside a request.
//! (teloxide-core sleeps 10 s in any request answered with a 5xx; Pingan keeps teloxide
//! for receiving updates.)

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::error::SendError;
use crate::config::BotToken;
use crate::domain::ChatId;

/// The longest hold a `retry_after` may order. Telegram's are seconds to hours; whoever
/// answers at the API URL (a local Bot API server, a proxy) could send any number, and one
/// past the clocks' range would panic the arithmetic of every hold.
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Telegram's answer when it is not `ok`, or why there was no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("Telegram answered {code}: {description}")]
    Telegram { code: u16, description: String, retry_after: Option<u64>, migrate_to: Option<i64> },
    #[error("no answer from Telegram: {0}")]
    Network(String),
    #[error("an answer Telegram would not give: {0}")]
    Unreadable(String),
}

impl ApiError {
    /// Sorts a failure by what a sender should do next.
    pub fn classify(&self) -> SendError {
        match self {
            ApiError::Telegram { retry_after: Some(secs), .. } => {
                SendError::RetryAfter(Duration::from_secs(*secs).min(LONGEST_RETRY_AFTER))
            }
            ApiError::Telegram { migrate_to: Some(to), .. } => SendError::Migrated(ChatId(*to)),
            ApiError::Telegram { code, description, .. } => super::error::classify(*code, description),
            ApiError::Network(reason) => SendError::Transient(reason.clone()),
            // An answer in something other than Telegram's JSON: not Telegram answering.
            ApiError::Unreadable(reason) => SendError::SystemFault(reason.clone()),
        }
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    ok: bool,
    result: Option<T>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

/// A client for one bot. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    /// `<api_url>/bot<token>/`, ready for a method name.
    base: Url,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotApi")
    }
}

impl BotApi {
    pub fn new(api_url: &Url, token: &BotToken, timeout: Duration) -> Result<BotApi, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        let mut base = api_url.clone();
        base.path_segments_mut()
            .map_err(|()| ApiError::Unreadable("the API URL cannot have a path".into()))?
            .pop_if_empty()
            .push(&format!("bot{}", token.expose()))
            .push("");
        Ok(BotApi { http, base })
    }

    /// Calls `method` with JSON parameters.
    pub async fn call<T: DeserializeOwned>(&self, method: &str, params: &Value) -> Result<T, ApiError> {
        let url = self.base.join(method).map_err(|e| ApiError::Unreadable(e.to_string()))?;
        let response = self.http.post(url).json(params).send().await.map_err(network)?;
        read_answer(response).await
    }

    /// Sends a PNG image with an HTML caption; returns its Telegram message id.
    pub async fn send_photo(
        &self,
        chat: ChatId,
        thread_id: Option<i32>,
        png: Vec<u8>,
        caption: &str,
    ) -> Result<i32, ApiError> {
        let upload = Upload { bytes: png, file_name: "chart.png", mime: "image/png" };
        self.send_upload(&PhotoMessage { chat, thread_id, caption, paid_broadcast: false }, upload).await
    }

    /// Sends a photo with an HTML caption (Bot API `sendPhoto`): by URL, which Telegram
    /// fetches itself (JSON), or uploaded (multipart/form-data). Returns its message id.
    pub async fn send_photo_of(&self, to: &PhotoMessage<'_>, photo: &PhotoSource) -> Result<i32, ApiError> {
        match photo {
            PhotoSource::Url(url) => {
                let mut params = serde_json::json!({
                    "chat_id": to.chat.0,
                    "photo": url,
                    "caption": to.caption,
                    "parse_mode": "HTML",
                });
                if let Some(thread) = to.thread_id {
                    params["message_thread_id"] = thread.into();
                }
                if to.paid_broadcast {
                    params["allow_paid_broadcast"] = true.into();
                }
                let sent: SentMessage = self.call("sendPhoto", &params).await?;
                Ok(sent.message_id)
            }
            PhotoSource::Upload { mime, base64 } => {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(base64)
                    .map_err(|e| ApiError::Unreadable(format!("a stored photo is not base64: {e}")))?;
                let file_name = match mime.as_str() {
                    "image/png" => "photo.png",
                    "image/gif" => "photo.gif",
                    "image/webp" => "photo.webp",
                    _ => "photo.jpg",
                };
                self.send_upload(to, Upload { bytes, file_name, mime }).await
            }
        }
    }

    async fn send_upload(&self, to: &PhotoMessage<'_>, upload: Upload<'_>) -> Result<i32, ApiError> {
        let url = self.base.join("sendPhoto").map_err(|e| ApiError::Unreadable(e.to_string()))?;
        let photo = reqwest::multipart::Part::bytes(upload.bytes)
            .file_name(upload.file_name.to_owned())
            .mime_str(upload.mime)
            .map_err(|e| ApiError::Unreadable(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new()
            .text("chat_id", to.chat.0.to_string())
            .text("caption", to.caption.to_owned())
            .text("parse_mode", "HTML")
            .part("photo", photo);
        if let Some(thread) = to.thread_id {
            form = form.text("message_thread_id", thread.to_string());
        }
        if to.paid_broadcast {
            form = form.text("allow_paid_broadcast", "true");
        }
        let response = self.http.post(url).multipart(form).send().await.map_err(network)?;
        let sent: SentMessage = read_answer(response).await?;
        Ok(sent.message_id)
    }
}

/// A photo to send: a URL Telegram fetches (Bot API: at most 5 MB that way), or bytes to
/// upload (at most 10 MB), kept as base64 so that it can wait in the outbox as JSON.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoSource {
    Url(String),
    Upload { mime: String, base64: String },
}

/// Where a photo goes, and its caption (HTML, at most 1024 characters once parsed).
#[derive(Clone, Copy, Debug)]
pub struct PhotoMessage<'a> {
    pub chat: ChatId,
    pub thread_id: Option<i32>,
    pub caption: &'a str,
    pub paid_broadcast: bool,
}

struct Upload<'a> {
    bytes: Vec<u8>,
    file_name: &'static str,
    mime: &'a str,
}

/// Reads Telegram's envelope: the result, or the error with its parameters.
async fn read_answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ApiError> {
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(network)?;
    match serde_json::from_slice::<Envelope<T>>(&body) {
        Ok(Envelope { ok: true, result: Some(result), .. }) => Ok(result),
        Ok(envelope) => Err(ApiError::Telegram {
            code: envelope.error_code.unwrap_or(status),
            description: envelope.description.unwrap_or_else(|| format!("HTTP {status}")),
            retry_after: envelope.parameters.as_ref().and_then(|p| p.retry_after),
            migrate_to: envelope.parameters.as_ref().and_then(|p| p.migrate_to_chat_id),
        }),
        // A proxy's error page in front of Telegram: the status says what happened.
        Err(_) if status >= 400 => Err(ApiError::Telegram {
            code: status,
            description: format!("HTTP {status}"),
            retry_after: None,
            migrate_to: None,
        }),
        Err(e) => Err(ApiError::Unreadable(e.to_string())),
    }
}

impl BotApi {
    /// Sends one HTML message; returns its Telegram message id.
    pub async fn send_html(&self, to: &HtmlMessage<'_>) -> Result<i32, ApiError> {
        let mut params = serde_json::json!({
            "chat_id": to.chat.0,
            "text": to.html,
            "parse_mode": "HTML",
            "link_preview_options": { "is_disabled": true },
        });
        if let Some(thread) = to.thread_id {
            params["message_thread_id"] = thread.into();
        }
        if let Some(markup) = to.reply_markup {
            params["reply_markup"] = markup.clone();
        }
        if to.paid_broadcast {
            params["allow_paid_broadcast"] = true.into();
        }
        if let Some(message_id) = to.reply_to {
            params["reply_parameters"] =
                serde_json::json!({ "message_id": message_id, "allow_sending_without_reply": true });
        }
        let sent: SentMessage = self.call("sendMessage", &params).await?;
        Ok(sent.message_id)
    }
}

/// A message for [`BotApi::send_html`].
#[derive(Clone, Copy, Debug)]
pub struct HtmlMessage<'a> {
    pub chat: ChatId,
    pub thread_id: Option<i32>,
    pub html: &'a str,
    pub reply_markup: Option<&'a Value>,
    pub paid_broadcast: bool,
    /// Sent as a reply to this message of the chat's (sent anyway if it was deleted).
    pub reply_to: Option<i32>,
}

#[derive(Deserialize)]
struct SentMessage {
    message_id: i32,
}

/// Network errors without the URL, which holds the token.
fn network(e: reqwest::Error) -> ApiError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    ApiError::Network(kind.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn telegram(code: u16, description: &str) -> ApiError {
        ApiError::Telegram { code, description: description.into(), retry_after: None, migrate_to: None }
    }

    #[test]
    fn parameters_come_before_the_description() {
        let wait = ApiError::Telegram {
            code: 429,
            description: "Too Many Requests: retry after 7".into(),
            retry_after: Some(7),
            migrate_to: None,
        };
        assert_eq!(wait.classify(), SendError::RetryAfter(Duration::from_secs(7)));
        let moved = ApiError::Telegram {
            code: 400,
            description: "x".into(),
            retry_after: None,
            migrate_to: Some(-100),
        };
        assert_eq!(moved.classify(), SendError::Migrated(ChatId(-100)));
        assert!(matches!(
            telegram(403, "Forbidden: bot was blocked by the user").classify(),
            SendError::Gone(_)
        ));
        assert!(matches!(ApiError::Network("timed out".into()).classify(), SendError::Transient(_)));
        assert!(matches!(
            ApiError::Unreadable("expected value".into()).classify(),
            SendError::SystemFault(_)
        ));
    }

    /// `retry_after` comes from whoever answers at the API URL (a local Bot API server, a
    /// proxy): a number too large for the clocks' arithmetic must not panic a sender.
    #[test]
    fn an_absurd_retry_after_is_bounded() {
        let absurd = ApiError::Telegram {
            code: 429,
            description: "Too Many Requests".into(),
            retry_after: Some(u64::MAX),
            migrate_to: None,
        };
        let SendError::RetryAfter(wait) = absurd.classify() else { panic!("{:?}", absurd.classify()) };
        assert!(wait <= Duration::from_secs(86_400), "{wait:?}");
        let now = chrono::Utc::now();
        let _ = now + chrono::Duration::from_std(wait).unwrap();
    }

    #[test]
    fn the_base_url_ends_in_the_bot_path_and_debug_hides_the_token() {
        let token = BotToken::parse("123:SECRET").unwrap();
        let api =
            BotApi::new(&"http://127.0.0.1:8081".parse().unwrap(), &token, Duration::from_secs(5)).unwrap();
        assert_eq!(api.base.join("getMe").unwrap().as_str(), "http://127.0.0.1:8081/bot123:SECRET/getMe");
        assert_eq!(format!("{api:?}"), "BotApi");
    }
}
