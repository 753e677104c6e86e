//! Values that must never reach a log or a terminal in full: the bot token, and URLs,
//! which may carry a password (`postgres://user:pw@host/db`, `?password=…`) or a proxy's
//! credentials. A URL is shown by allow-list: scheme, host, port, for a database its name,
//! and of its parameters only `sslmode` with one of its known values.

use std::fmt;

use url::Url;

/// A Telegram bot token. `Debug` and `Display` show only the bot's id, which is public.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

impl BotToken {
    /// Accepts `<bot id>:<secret>`, the shape @BotFather hands out.
    pub fn parse(text: &str) -> Option<BotToken> {
        let (id, secret) = text.trim().split_once(':')?;
        let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let secret_ok =
            !secret.is_empty() && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        (id_ok && secret_ok).then(|| BotToken(text.trim().to_owned()))
    }

    /// The token itself, for the one place that needs it: the Bot API client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn bot_id(&self) -> &str {
        self.0.split_once(':').map_or("", |(id, _)| id)
    }

    /// `text` with the token's secret part masked wherever it appears: a last guard for
    /// text that came back from the network (an error page may quote the request's path).
    pub fn mask_in(&self, text: &str) -> String {
        match self.0.split_once(':') {
            Some((_, secret)) if !secret.is_empty() => text.replace(secret, "****"),
            _ => text.to_owned(),
        }
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BotToken({}:****)", self.bot_id())
    }
}

impl fmt::Display for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:****", self.bot_id())
    }
}

/// The secret Telegram sends with every webhook request, in the
/// `X-Telegram-Bot-Api-Secret-Token` header (`secret_token` of `setWebhook`): 1 to 256
/// characters `A-Z`, `a-z`, `0-9`, `_` and `-`, as the Bot API allows. `Debug` and
/// `Display` show `****`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn parse(text: &str) -> Option<WebhookSecret> {
        let text = text.trim();
        let fits = (1..=256).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        fits.then(|| WebhookSecret(text.to_owned()))
    }

    /// The secret itself, for `setWebhook` only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a request's header value is this secret, compared in constant time (how
    /// long it takes tells nothing about how much of a guess was right).
    pub fn matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        // ct_eq is constant-time for slices of equal length; the length is not secret.
        self.0.as_bytes().ct_eq(given).into()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(****)")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// The parameters a URL is shown with, and the values each may show.
const SHOWN_PARAMETERS: &[(&str, &[&str])] =
    &[("sslmode", &["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])];

/// `url` as logs and errors show it: scheme, host and port, its path if `with_path` (a
/// database's name), and only the parameters of [`SHOWN_PARAMETERS`]; never user, password
/// or any other parameter.
pub(crate) fn shown_url(url: &Url, with_path: bool) -> String {
    let mut out = format!("{}://", url.scheme());
    if let Some(host) = url.host_str() {
        out.push_str(host);
    }
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    if with_path {
        out.push_str(url.path());
    }
    let shown: Vec<String> = url
        .query_pairs()
        .filter(|(key, value)| {
            SHOWN_PARAMETERS.iter().any(|(k, values)| k == key && values.contains(&&**value))
        })
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    if !shown.is_empty() {
        out.push('?');
        out.push_str(&shown.join("&"));
    }
    out
}

/// Text that may be a URL (a rejected setting), as an error may show it.
pub(crate) fn shown_url_text(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(url) if url.has_host() => shown_url(&url, true),
        _ => format!("a value of {} characters", text.chars().count()),
    }
}

/// The Bot API's base URL. `Display` and `Debug` show scheme, host and port only: a
/// local Bot API server or a proxy may be reached with credentials in the URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiUrl(Url);

impl ApiUrl {
    /// An `http://` or `https://` URL.
    pub fn parse(text: &str) -> Option<ApiUrl> {
        let url = Url::parse(text.trim().trim_end_matches('/')).ok()?;
        (matches!(url.scheme(), "http" | "https") && url.has_host()).then_some(ApiUrl(url))
    }

    /// The URL in full, for the Bot API clients only.
    pub fn expose(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shown_url(&self.0, false))
    }
}

impl fmt::Debug for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_by_allow_list() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            shown_url(
                &url("postgres://u:s3cret@db.example:5433/pingan?password=p2&sslmode=require&user=u"),
                true
            ),
            "postgres://db.example:5433/pingan?sslmode=require"
        );
        assert_eq!(
            shown_url(&url("postgres://db/x?sslmode=hunter2"), true),
            "postgres://db/x",
            "unknown values too"
        );
        assert_eq!(shown_url(&url("https://proxy:pw@[::1]:8443/tg/?key=abc"), false), "https://[::1]:8443");
        assert_eq!(shown_url_text("postgres://u:s3cret@h/db?password=x"), "postgres://h/db");
        assert_eq!(shown_url_text("not a url: s3cret"), "a value of 17 characters");
        let api = ApiUrl::parse("http://user:s3cret@127.0.0.1:8081/").unwrap();
        assert_eq!(api.to_string(), "http://127.0.0.1:8081");
        assert!(!format!("{api:?}").contains("s3cret"));
        assert_eq!(api.expose().password(), Some("s3cret"), "the client still gets it");
        assert!(ApiUrl::parse("ftp://x").is_none() && ApiUrl::parse("http://").is_none());
    }

    #[test]
    fn accepts_botfather_shapes_only() {
        assert!(BotToken::parse("123456:AAE-x_y").is_some());
        assert!(BotToken::parse("1:x").is_some());
        for bad in ["", "abc", "123456", ":abc", "12a:abc", "1:", "1:a b"] {
            assert!(BotToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_webhook_secret_is_never_shown_and_compared_whole() {
        let secret = WebhookSecret::parse("s3cret_Value-1").unwrap();
        assert_eq!(format!("{secret} {secret:?}"), "**** WebhookSecret(****)");
        assert!(secret.matches(b"s3cret_Value-1"));
        for wrong in [&b""[..], b"s3cret_Value-", b"s3cret_Value-12", b"S3cret_Value-1"] {
            assert!(!secret.matches(wrong), "{wrong:?}");
        }
        for bad in ["", "with space", "ünïcode", &"x".repeat(257)] {
            assert!(WebhookSecret::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn never_prints_the_secret_part() {
        let token = BotToken::parse("123456:SECRETSECRET").unwrap();
        assert_eq!(format!("{token}"), "123456:****");
        assert!(!format!("{token:?}").contains("SECRET"));
        assert_eq!(token.mask_in("GET /bot123456:SECRETSECRET/getMe"), "GET /bot123456:****/getMe");
    }
}
