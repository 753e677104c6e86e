//! Fetching a feed or a CAP file over HTTP: conditional requests (RFC 9110 §13.1:
//! `If-None-Match` with the last `ETag`, `If-Modified-Since` with the last
//! `Last-Modified`), a time limit, a size limit, and errors that never show the URL's
//! query (feed URLs can carry keys).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use url::Url;

/// The largest body read: a feed index or a CAP file is far smaller.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// What is asked for: a server that offers several forms of one resource (the US National
/// Weather Service answers GeoJSON unless CAP is asked for) sends CAP or a feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// A feed's URL: an Atom or RSS index, or one CAP document.
    Index,
    /// An entry's CAP file.
    Cap,
}

impl Wanted {
    fn accept(self) -> &'static str {
        match self {
            Wanted::Index => {
                "application/atom+xml, application/rss+xml, application/cap+xml, \
                 application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
            }
            Wanted::Cap => "application/cap+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        }
    }
}

/// The validators of a previous full answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a GET brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// `304 Not Modified`: the answer is what it was.
    NotModified,
    /// A `2xx` answer's body, with the validators to send next time.
    Body { bytes: Vec<u8>, validators: Validators },
}

/// Why a GET brought nothing usable; the text says so without the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("answered HTTP {0}")]
    Status(StatusCode),
    /// The whole request took longer than the limit, in seconds.
    #[error("did not answer within {}", crate::i18n::english_count(*.0 as usize, "second", "seconds"))]
    Timeout(u64),
    #[error("sent more than {} MiB", MAX_BODY_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("could not be reached: {0}")]
    Network(String),
}

/// An HTTP client for feeds, shared by all of them.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
}

impl Fetcher {
    /// A client whose requests each take at most `timeout`, body included (connecting at
    /// most 10 seconds of it).
    pub fn new(timeout: Duration) -> Result<Fetcher, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("pingan/", env!("CARGO_PKG_VERSION"), " (CAP feed reader)"))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        Ok(Fetcher { client, timeout })
    }

    /// GETs `url`, conditionally when `validators` hold anything.
    pub async fn get(
        &self,
        url: &Url,
        wanted: Wanted,
        validators: &Validators,
    ) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url.clone()).header(ACCEPT, wanted.accept());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(since) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, since);
        }
        let mut response = request.send().await.map_err(|e| self.failed(e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status(status));
        }
        let validators = Validators {
            etag: header(response.headers(), ETAG),
            last_modified: header(response.headers(), LAST_MODIFIED),
        };
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(FetchError::TooLarge);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(e))? {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FetchError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { bytes, validators })
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty() && value.len() <= 512).then(|| value.to_owned())
}

impl Fetcher {
    fn failed(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout(self.timeout.as_secs());
        }
        network(e)
    }
}

fn network(e: reqwest::Error) -> FetchError {
    // reqwest's text names the URL; the source chain says what went wrong.
    let e = e.without_url();
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        reason = format!("{reason}: {inner}");
        source = inner.source();
    }
    FetchError::Network(reason)
}
