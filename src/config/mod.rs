//! Typed settings: `config/default.toml` < `config/local.toml` < environment.

mod districts;
mod layers;
mod secret;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use toml::Value;
use url::Url;

use crate::domain::{Districts, Language};
pub use layers::Origin;
use layers::{Entry, Layers};
pub use secret::{ApiUrl, BotToken, WebhookSecret};

/// The local configuration file read when no other is named.
pub const LOCAL_FILE: &str = "config/local.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {reason}", .path.display())]
    File { path: PathBuf, reason: String },
    #[error("{key} (from {origin}) must be {expected}; got {got}")]
    Invalid { key: &'static str, origin: Origin, expected: String, got: String },
    #[error(
        "TELOXIDE_TOKEN is not set: `pingan run` needs the bot token from @BotFather \
         (set TELOXIDE_TOKEN, or telegram.token in {LOCAL_FILE})"
    )]
    MissingToken,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub telegram: TelegramSettings,
    pub database: DatabaseSettings,
    pub bot: BotSettings,
    pub delivery: DeliverySettings,
    pub retention: RetentionSettings,
    pub cap: CapSettings,
    pub http: HttpSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Default)]
pub struct CapSettings {
    /// Senders whose CAP Updates and Cancels may change notices from other senders,
    /// Pingan's own included; empty, each file changes its own sender's alerts only.
    pub trusted_senders: Vec<String>,
    /// CAP feeds `pingan run` polls (`cap.feeds`), in the order configured.
    pub feeds: Vec<FeedSettings>,
    /// The longest one request for a feed or a CAP file may take, body included
    /// (`cap.feed_timeout_secs`, 1 to 120 seconds).
    pub feed_timeout: Duration,
}

/// One polled CAP feed (`[[cap.feeds]]`): an Atom or RSS index of CAP alerts, or the URL
/// of a single CAP document. Its `Debug` and [`FeedSettings::shown`] leave out the URL's
/// user, password, query and fragment, which may carry a key.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedSettings {
    /// The feed's name in `pingan feeds status`, `/metrics` and the audit log: 1 to 64
    /// ASCII letters, digits, `-` and `_`, unique among the feeds.
    pub name: String,
    /// An `http` or `https` URL.
    pub url: Url,
    /// The CAP `<sender>`s this feed speaks for (at least one): an alert in it from
    /// another sender is refused and reported, never imported.
    pub senders: Vec<String>,
    /// The category of notices from alerts whose CAP `<category>` says nothing Pingan
    /// distinguishes (`Other`, or none); `None` keeps `general`.
    pub category: Option<crate::domain::Category>,
    /// Time between polls while the feed answers (after failures, longer: see
    /// `crate::feeds`); 10 seconds to a day, default 300 seconds.
    pub interval: Duration,
}

impl FeedSettings {
    /// The URL without user, password, query or fragment.
    pub fn shown_url(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_query(None);
        url.set_fragment(None);
        url.to_string()
    }

    /// The feed as an inline TOML table, as `pingan config` shows it.
    fn shown(&self) -> String {
        let text = |s: &str| Value::String(s.to_owned()).to_string();
        let senders: Vec<String> = self.senders.iter().map(|s| text(s)).collect();
        let category =
            self.category.map(|c| format!(", category = {}", text(c.as_str()))).unwrap_or_default();
        format!(
            "{{name = {}, url = {}, senders = [{}]{category}, interval_secs = {}}}",
            text(&self.name),
            text(&self.shown_url()),
            senders.join(", "),
            self.interval.as_secs()
        )
    }
}

impl fmt::Debug for FeedSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeedSettings")
            .field("name", &self.name)
            .field("url", &self.shown_url())
            .field("senders", &self.senders)
            .field("category", &self.category)
            .field("interval", &self.interval)
            .finish()
    }
}

/// The least and most time between a feed's polls, in seconds, and the default.
const FEED_INTERVAL_SECS: (i64, i64, i64) = (10, 86_400, 300);

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Where `pingan run` serves `/healthz`, `/metrics` and `/api`; `None` serves nothing.
    pub listen: Option<std::net::SocketAddr>,
    /// Where `/metrics` is served instead, alone; `None` serves it at `listen`.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct TelegramSettings {
    token: Option<BotToken>,
    pub api_url: ApiUrl,
    pub poll_timeout: Duration,
    pub request_timeout: Duration,
    /// Webhook mode (`telegram.webhook_url` set); `None` polls.
    pub webhook: Option<WebhookSettings>,
}

/// Telegram posts updates to `url` (`setWebhook`), which a reverse proxy or load balancer
/// forwards to `http.listen`; `pingan run` serves `POST <path of url>` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// An `https://` URL, or `http://` to 127.0.0.1, `[::1]` or localhost (tests, a local
    /// Bot API server); its path is served, and may not be `/` nor one of Pingan's own
    /// routes (`/healthz`, `/metrics`, `/api/…`).
    pub url: Url,
    pub secret: WebhookSecret,
    /// `setWebhook`'s `max_connections`: requests Telegram keeps open at once (1-100).
    pub max_connections: u32,
}

impl WebhookSettings {
    /// The path served, such as `/telegram/webhook`.
    pub fn path(&self) -> &str {
        self.url.path()
    }

    /// The URL as logs and `pingan config` show it: scheme, host, port and path.
    pub fn shown_url(&self) -> String {
        secret::shown_url(&self.url, true)
    }
}

/// The webhook URL `text` names, or why not.
fn webhook_url(text: &str) -> Option<Url> {
    let url = Url::parse(text.trim()).ok()?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && local);
    let path = url.path();
    let own = path == "/"
        || ["/healthz", "/metrics", "/api"].iter().any(|p| path == *p || path.starts_with(&format!("{p}/")));
    let plain = path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
    (scheme_ok && url.has_host() && !own && plain && url.username().is_empty() && url.password().is_none())
        .then_some(url)
}

impl TelegramSettings {
    /// The bot token, which only talking to Telegram needs.
    pub fn token(&self) -> Result<&BotToken, ConfigError> {
        self.token.as_ref().ok_or(ConfigError::MissingToken)
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    /// The pool's size (1-100); a SQLite pool opens at most 4 of them
    /// (`MAX_CONNECTIONS` in `src/store/sqlite.rs` says why).
    pub max_connections: u32,
    pub busy_timeout: Duration,
}

/// A database location, checked for its scheme. `Display` and `Debug` show the scheme,
/// host, port and database only (see [`secret::shown_url`]): never a user, a password or
/// a parameter other than `sslmode`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(Url),
}

/// The parameters sqlx's PostgreSQL driver reads from a URL. It logs any other one, value
/// and all, so a misspelt `?pasword=…` would reach the log: such a URL is refused instead.
const POSTGRES_PARAMETERS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

impl DatabaseUrl {
    pub const DEFAULT_SQLITE: &'static str = "sqlite://pingan.db";
    const EXPECTED: &'static str = "empty (for pingan.db), sqlite://PATH or postgres://USER@HOST/DATABASE";

    pub fn parse(text: &str) -> Option<DatabaseUrl> {
        Self::check(text).ok()
    }

    /// The database URL `text` names, or what was expected of it (naming a parameter
    /// PostgreSQL does not know, never its value).
    pub fn check(text: &str) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(DatabaseUrl::Sqlite(Self::DEFAULT_SQLITE.to_owned()));
        }
        if let Some(rest) = text.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or_default();
            return if path.is_empty() {
                Err(Self::EXPECTED.into())
            } else {
                Ok(DatabaseUrl::Sqlite(text.to_owned()))
            };
        }
        let url = Url::parse(text).map_err(|_| Self::EXPECTED.to_owned())?;
        let postgres = matches!(url.scheme(), "postgres" | "postgresql");
        if !postgres || url.host_str().is_none_or(str::is_empty) {
            return Err(Self::EXPECTED.into());
        }
        let known = |key: &str| {
            POSTGRES_PARAMETERS.contains(&key) || key.starts_with("options[") && key.ends_with(']')
        };
        if let Some((key, _)) = url.query_pairs().find(|(key, _)| !known(key)) {
            return Err(format!(
                "a postgres:// URL with parameters PostgreSQL connections know ({}, options[NAME]); \
                 `{}` is not one",
                POSTGRES_PARAMETERS.join(", "),
                key.chars().take(40).collect::<String>()
            ));
        }
        Ok(DatabaseUrl::Postgres(url))
    }

    /// The URL with its password, for the database driver only.
    pub fn expose(&self) -> &str {
        match self {
            DatabaseUrl::Sqlite(s) => s,
            DatabaseUrl::Postgres(url) => url.as_str(),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A file's path; its parameters (`?mode=rwc`) are left out like any other.
            DatabaseUrl::Sqlite(s) => f.write_str(s.split('?').next().unwrap_or_default()),
            DatabaseUrl::Postgres(url) => f.write_str(&secret::shown_url(url, true)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[derive(Debug, Clone)]
pub struct BotSettings {
    pub default_language: Language,
    pub time_zone: Tz,
    pub owners: Vec<i64>,
    /// Who publishes Pingan, in Chinese and in English.
    pub publisher_zh: String,
    pub publisher_en: String,
    /// The `sender` of CAP alerts Pingan writes for its own notices.
    pub cap_sender: String,
    /// Reports one user may send in an hour; more get a polite refusal.
    pub reports_per_hour: u32,
    /// How long a dialogue (a draft notice, a report) may wait for its next message
    /// before a returning user is asked whether to carry on with it.
    pub draft_idle: chrono::Duration,
    /// What one person, and one group, may ask of the bot in a minute.
    pub budgets: crate::bot::budget::Limits,
    /// The bot's @username without the @: not a configuration key, but what Telegram's
    /// `getMe` answers when `pingan run` starts (`None` until then, and in the CLI).
    /// Broadcasts rendered with it link each notice into the bot
    /// (`https://t.me/<username>?start=n<id>`).
    pub username: Option<String>,
    /// The city's districts (`[[bot.districts]]`), in the configured order; empty: the
    /// whole city only (no district step in /post, no districts in /settings).
    pub districts: Districts,
}

/// What a digest with nothing new does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyDigest {
    TipOnly,
    Skip,
}

#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Messages a second to all chats together, replies and unpaid broadcasts alike, and
    /// over all instances on one database together (each paces itself at its share, see
    /// `delivery::instances`).
    pub rate_per_second: u32,
    pub allow_paid_broadcast: bool,
    pub paid_rate_per_second: u32,
    /// The share (0 to 1) of `rate_per_second` broadcasts are sure of while replies wait too.
    pub broadcast_share: f64,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub lease: Duration,
    pub tick: Duration,
    pub empty_digest: EmptyDigest,
    pub channel: Option<crate::domain::ChatId>,
    pub max_publication_age: Duration,
}

impl DeliverySettings {
    /// The broadcast rate in force: the paid one when paid broadcasts are on.
    pub fn effective_rate(&self) -> u32 {
        if self.allow_paid_broadcast { self.paid_rate_per_second } else { self.rate_per_second }
    }

    /// What the rate limiter keeps to.
    pub fn pacing(&self) -> crate::telegram::rate::Pacing {
        crate::telegram::rate::Pacing {
            per_second: self.rate_per_second,
            paid_per_second: self.allow_paid_broadcast.then_some(self.paid_rate_per_second),
            broadcast_share: self.broadcast_share,
        }
    }
}

/// How long Pingan keeps what it no longer needs (`[retention]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSettings {
    /// Finished deliveries: after this, a correction or withdrawal of a notice no longer
    /// reaches those who got it; fan-outs keep their totals.
    pub deliveries: chrono::Duration,
    pub search_queries: chrono::Duration,
    /// Dialogues left unfinished (a draft, a report never sent).
    pub dialogues: chrono::Duration,
    /// How long a decided report keeps who sent it.
    pub reporters: chrono::Duration,
}

impl RetentionSettings {
    /// Idempotency keys of publications: a retry comes within minutes, not weeks.
    pub const IDEMPOTENCY_KEYS: chrono::Duration = chrono::Duration::days(7);
    /// Handled inbox updates (their ids only): Telegram sends an update again within
    /// minutes (a webhook answered late, a poll not confirmed), not days.
    pub const INBOX: chrono::Duration = chrono::Duration::days(1);

    /// The cutoffs at `now`.
    pub fn cutoffs(&self, now: chrono::DateTime<chrono::Utc>) -> crate::store::Cutoffs {
        crate::store::Cutoffs {
            deliveries: now - self.deliveries,
            search_queries: now - self.search_queries,
            dialogues: now - self.dialogues,
            reports: now - self.reporters,
            idempotency_keys: now - Self::IDEMPOTENCY_KEYS,
            inbox: now - Self::INBOX,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

/// The effective settings and where each value came from.
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    layers: Layers,
}

impl Loaded {
    /// Reads the layers from disk and the process environment. `file` is a configuration
    /// file named on the command line; without one, `config/local.toml` is read if present.
    pub fn from_environment(file: Option<&Path>) -> Result<Loaded, ConfigError> {
        let local = match file {
            Some(path) => Some(read_file(path)?),
            None => {
                let path = Path::new(LOCAL_FILE);
                if path.exists() { Some(read_file(path)?) } else { None }
            }
        };
        Self::from_sources(local, &|name| std::env::var(name).ok())
    }

    pub fn from_sources(
        local: Option<(PathBuf, String)>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, ConfigError> {
        let layers = Layers::merge(local, env)?;
        let settings = Settings::from_layers(&layers)?;
        Ok(Loaded { settings, layers })
    }

    /// `key = value  # origin` lines, secrets masked: what `pingan config` prints.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut section = "";
        for entry in self.layers.entries() {
            let (sect, name) = entry.key.path.split_once('.').unwrap_or(("", entry.key.path));
            if sect != section {
                if !section.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("[{sect}]\n"));
                section = sect;
            }
            let shown = self.shown_value(entry);
            out.push_str(&format!("{name} = {shown}  # {}\n", entry.origin));
        }
        out
    }

    fn shown_value(&self, entry: &Entry) -> String {
        let quoted = |s: String| Value::String(s).to_string();
        match entry.key.path {
            "telegram.token" => match &self.settings.telegram.token {
                Some(token) => quoted(token.to_string()),
                None => quoted("(not set)".into()),
            },
            "database.url" => quoted(self.settings.database.url.to_string()),
            "telegram.api_url" => quoted(self.settings.telegram.api_url.to_string()),
            "telegram.webhook_url" => match &self.settings.telegram.webhook {
                Some(webhook) => quoted(webhook.shown_url()),
                None => quoted(String::new()),
            },
            "telegram.webhook_secret" => match &self.settings.telegram.webhook {
                Some(webhook) => quoted(webhook.secret.to_string()),
                None => quoted("(not set)".into()),
            },
            "cap.feeds" => {
                let feeds: Vec<String> = self.settings.cap.feeds.iter().map(FeedSettings::shown).collect();
                format!("[{}]", feeds.join(", "))
            }
            _ => match &entry.value {
                Value::String(_) if entry.key.shown != layers::Shown::Plain => quoted("****".into()),
                other => other.to_string(),
            },
        }
    }
}

fn read_file(path: &Path) -> Result<(PathBuf, String), ConfigError> {
    std::fs::read_to_string(path)
        .map(|text| (path.to_owned(), text))
        .map_err(|e| ConfigError::File { path: path.to_owned(), reason: format!("cannot read: {e}") })
}

impl Settings {
    fn from_layers(l: &Layers) -> Result<Settings, ConfigError> {
        let token_text = l.get("telegram.token", "a string", string)?;
        let token = if token_text.trim().is_empty() {
            None
        } else {
            Some(l.get("telegram.token", "a bot token such as 123456789:AAE…", |v| {
                string(v).as_deref().and_then(BotToken::parse)
            })?)
        };
        let api_url =
            l.get("telegram.api_url", "an http:// or https:// URL", |v| ApiUrl::parse(&string(v)?))?;
        let poll_timeout = l.get("telegram.poll_timeout_secs", "a whole number from 1 to 50", |v| {
            integer_in(v, 1, 50).map(|s| Duration::from_secs(s as u64))
        })?;

        let request_timeout =
            l.get("telegram.request_timeout_secs", "a whole number from 1 to 120", |v| {
                integer_in(v, 1, 120).map(|s| Duration::from_secs(s as u64))
            })?;

        let webhook_text = l.get("telegram.webhook_url", "a string", string)?;
        let webhook = if webhook_text.trim().is_empty() {
            None
        } else {
            let url = l.get(
                "telegram.webhook_url",
                "empty (poll), or an https:// URL with a path of its own such as \
                 https://bot.example.gov.cn/telegram/webhook (http:// only to 127.0.0.1 or localhost)",
                |v| webhook_url(&string(v)?),
            )?;
            let secret = l.get(
                "telegram.webhook_secret",
                "1 to 256 characters A-Z, a-z, 0-9, _ and - (required with telegram.webhook_url)",
                |v| WebhookSecret::parse(&string(v)?),
            )?;
            let max_connections =
                l.get("telegram.webhook_max_connections", "a whole number from 1 to 100", |v| {
                    integer_in(v, 1, 100).map(|n| n as u32)
                })?;
            Some(WebhookSettings { url, secret, max_connections })
        };

        let url_text = l.get("database.url", DatabaseUrl::EXPECTED, string)?;
        let url = DatabaseUrl::check(&url_text).map_err(|expected| l.invalid("database.url", &expected))?;
        let max_connections = l.get("database.max_connections", "a whole number from 1 to 100", |v| {
            integer_in(v, 1, 100).map(|n| n as u32)
        })?;
        let busy_timeout = l.get("database.busy_timeout_ms", "a whole number from 100 to 60000", |v| {
            integer_in(v, 100, 60_000).map(|ms| Duration::from_millis(ms as u64))
        })?;

        let default_language = l.get("bot.default_language", "zh or en", |v| string(v)?.parse().ok())?;
        let time_zone = l.get("bot.time_zone", "an IANA time zone name such as Asia/Shanghai", |v| {
            string(v)?.trim().parse::<Tz>().ok()
        })?;
        let owners = l.get("bot.owners", "a list of Telegram user ids (whole numbers)", user_ids)?;
        let publisher = |key: &str| {
            l.get(key, "a name of 1 to 100 characters", |v| {
                let name = string(v)?.trim().to_owned();
                (1..=100).contains(&name.chars().count()).then_some(name)
            })
        };
        let publisher_zh = publisher("bot.publisher_zh")?;
        let publisher_en = publisher("bot.publisher_en")?;
        let cap_sender = l.get(
            "bot.cap_sender",
            "a CAP sender id without spaces or commas, such as pingan@police.example.gov.cn",
            |v| cap_sender(&string(v)?),
        )?;
        let trusted_senders = l.get(
            "cap.trusted_senders",
            "a list of CAP sender ids without spaces or commas, such as [\"alerts@police.example.gov.cn\"]",
            cap_senders,
        )?;
        let feeds = feeds(l)?;
        let feed_timeout = l.get("cap.feed_timeout_secs", "a whole number from 1 to 120", |v| {
            integer_in(v, 1, 120).map(|s| Duration::from_secs(s as u64))
        })?;

        let reports_per_hour = l.get("bot.reports_per_hour", "a whole number from 1 to 100", |v| {
            integer_in(v, 1, 100).map(|n| n as u32)
        })?;
        let draft_idle = l.get("bot.draft_idle_hours", "a whole number of hours from 1 to 720", |v| {
            integer_in(v, 1, 720).map(chrono::Duration::hours)
        })?;
        let per_minute = |key: &str| {
            l.get(key, "a whole number from 1 to 10000", |v| integer_in(v, 1, 10_000).map(|n| n as u32))
        };
        let budgets = crate::bot::budget::Limits {
            per_user: per_minute("bot.commands_per_minute")?,
            costly_per_user: per_minute("bot.costly_commands_per_minute")?,
            per_group: per_minute("bot.group_commands_per_minute")?,
        };

        let districts = districts::districts(l)?;

        let delivery = DeliverySettings::from_layers(l)?;
        let days = |key: &str| {
            l.get(key, "a whole number of days from 1 to 3650", |v| {
                integer_in(v, 1, 3650).map(chrono::Duration::days)
            })
        };
        let retention = RetentionSettings {
            deliveries: days("retention.deliveries_days")?,
            search_queries: days("retention.search_queries_days")?,
            dialogues: days("retention.dialogues_days")?,
            reporters: days("retention.reporters_days")?,
        };
        // A lease is renewed every quarter of it, and one renewal may wait up to the busy
        // timeout for the database: the lease must outlast two such waits.
        let busy_ms = busy_timeout.as_millis() as i64;
        l.get(
            "delivery.lease_secs",
            &format!(
                "longer than twice database.busy_timeout_ms ({busy_ms} ms): a lease is renewed every \
                 quarter of it, and one renewal may wait that long for the database"
            ),
            |v| integer_in(v, 5, 3600).filter(|secs| secs * 1000 > 2 * busy_ms),
        )?;
        let address = |key: &str| {
            l.get(key, "off, or an address such as 127.0.0.1:8080", |v| {
                let text = string(v)?;
                match text.trim() {
                    "" | "off" => Some(None),
                    address => address.parse().ok().map(Some),
                }
            })
        };
        let listen = address("http.listen")?;
        let metrics_listen = address("http.metrics_listen")?;
        if webhook.is_some() && listen.is_none() {
            return Err(l.invalid(
                "http.listen",
                "an address such as 127.0.0.1:8080 when telegram.webhook_url is set: the webhook is served there",
            ));
        }

        let filter = l.get("log.level", "a tracing filter such as info", |v| {
            let s = string(v)?;
            tracing_subscriber::EnvFilter::try_new(&s).ok().map(|_| s)
        })?;
        let format = l.get("log.format", "text or json", |v| match string(v)?.trim() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        })?;

        Ok(Settings {
            telegram: TelegramSettings { token, api_url, poll_timeout, request_timeout, webhook },
            database: DatabaseSettings { url, max_connections, busy_timeout },
            bot: BotSettings {
                default_language,
                time_zone,
                owners,
                publisher_zh,
                publisher_en,
                cap_sender,
                reports_per_hour,
                draft_idle,
                budgets,
                username: None,
                districts,
            },
            delivery,
            retention,
            cap: CapSettings { trusted_senders, feeds, feed_timeout },
            http: HttpSettings { listen, metrics_listen },
            log: LogSettings { filter, format },
        })
    }
}

impl DeliverySettings {
    fn from_layers(l: &Layers) -> Result<DeliverySettings, ConfigError> {
        let whole = |key: &str, min: i64, max: i64| {
            l.get(key, &format!("a whole number from {min} to {max}"), |v| integer_in(v, min, max))
        };
        let channel =
            l.get("delivery.channel", "empty, or a channel's numeric id such as -1001234567890", |v| {
                let text = string(v)?;
                match text.trim() {
                    "" => Some(None),
                    id => {
                        id.parse::<i64>().ok().filter(|id| *id < 0).map(|id| Some(crate::domain::ChatId(id)))
                    }
                }
            })?;
        Ok(DeliverySettings {
            rate_per_second: whole("delivery.rate_per_second", 1, 1000)? as u32,
            allow_paid_broadcast: l.get("delivery.allow_paid_broadcast", "true or false", boolean)?,
            paid_rate_per_second: whole("delivery.paid_rate_per_second", 1, 1000)? as u32,
            broadcast_share: whole("delivery.broadcast_share_percent", 1, 100)? as f64 / 100.0,
            concurrency: whole("delivery.concurrency", 1, 1000)? as usize,
            max_attempts: whole("delivery.max_attempts", 1, 100)? as u32,
            retry_base: Duration::from_millis(whole("delivery.retry_base_ms", 10, 600_000)? as u64),
            lease: Duration::from_secs(whole("delivery.lease_secs", 5, 3600)? as u64),
            tick: Duration::from_millis(whole("delivery.tick_ms", 10, 60_000)? as u64),
            empty_digest: l.get("delivery.empty_digest", "tip_only or skip", |v| {
                match string(v)?.trim() {
                    "tip_only" => Some(EmptyDigest::TipOnly),
                    "skip" => Some(EmptyDigest::Skip),
                    _ => None,
                }
            })?,
            channel,
            max_publication_age: Duration::from_secs(
                whole("delivery.max_publication_age_minutes", 1, 10_080)? as u64 * 60,
            ),
        })
    }
}

/// `true`/`false` in TOML, or as text from the environment.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// An integer within bounds, from TOML or from an environment string.
fn integer_in(v: &Value, min: i64, max: i64) -> Option<i64> {
    let n = match v {
        Value::Integer(n) => *n,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (min..=max).contains(&n).then_some(n)
}

/// A CAP sender id: CAP 1.2 allows no spaces, commas, `<` or `&` in one.
fn cap_sender(text: &str) -> Option<String> {
    let sender = text.trim();
    (!sender.is_empty() && !sender.contains(char::is_whitespace) && !sender.contains([',', '<', '&']))
        .then(|| sender.to_owned())
}

/// A TOML list of CAP sender ids, or a comma-separated string of them.
fn cap_senders(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => items.iter().map(|i| cap_sender(i.as_str()?)).collect(),
        Value::String(s) => s.split(',').filter(|part| !part.trim().is_empty()).map(cap_sender).collect(),
        _ => None,
    }
}

/// `cap.feeds`: a list of tables (`[[cap.feeds]]` in a file, the same list written inline
/// in `PINGAN_CAP_FEEDS`), each read by [`feed`]; the error names the feed and the field.
fn feeds(l: &Layers) -> Result<Vec<FeedSettings>, ConfigError> {
    const EXPECTED: &str = "a list of feeds, each a table with name, url, senders and optionally \
                            category and interval_secs";
    let value = &l.entry("cap.feeds").value;
    let parsed;
    let items = match value {
        Value::Array(items) => items,
        Value::String(text) => {
            parsed = format!("feeds = {text}")
                .parse::<toml::Table>()
                .map_err(|e| l.invalid("cap.feeds", &format!("{EXPECTED} ({})", e.message().trim())))?;
            match parsed.get("feeds") {
                Some(Value::Array(items)) => items,
                _ => return Err(l.invalid("cap.feeds", EXPECTED)),
            }
        }
        _ => return Err(l.invalid("cap.feeds", EXPECTED)),
    };
    let mut feeds: Vec<FeedSettings> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let feed = feed(item)
            .map_err(|problem| l.invalid("cap.feeds", &format!("{EXPECTED}; feed {} {problem}", i + 1)))?;
        if feeds.iter().any(|f| f.name == feed.name) {
            return Err(
                l.invalid("cap.feeds", &format!("feeds with different names; {:?} is twice", feed.name))
            );
        }
        feeds.push(feed);
    }
    Ok(feeds)
}

/// One `[[cap.feeds]]` table, or what is wrong with it.
fn feed(item: &Value) -> Result<FeedSettings, String> {
    let table = item.as_table().ok_or("is not a table")?;
    for key in table.keys() {
        if !["name", "url", "senders", "category", "interval_secs"].contains(&key.as_str()) {
            return Err(format!("has an unknown key `{key}`"));
        }
    }
    let name = table.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    let name_ok = (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err("needs a name of 1 to 64 letters, digits, - and _".to_owned());
    }
    let url = table
        .get("url")
        .and_then(Value::as_str)
        .and_then(|u| Url::parse(u.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| format!("({name}) needs a url, http or https"))?;
    let senders = table.get("senders").and_then(cap_senders).filter(|s| !s.is_empty()).ok_or_else(|| {
        format!(
            "({name}) needs senders: the CAP senders it speaks for, such as [\"w-nws.webmaster@noaa.gov\"]"
        )
    })?;
    let category = match table.get("category") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|c| c.trim().parse().ok())
                .ok_or_else(|| format!("({name}) has a category that is not one of Pingan's (fraud, public_order, traffic, appeal, disaster, fire, general)"))?,
        ),
    };
    let (least, most, default) = FEED_INTERVAL_SECS;
    let interval = match table.get("interval_secs") {
        None => default,
        Some(v) => v.as_integer().filter(|n| (least..=most).contains(n)).ok_or_else(|| {
            format!("({name}) has an interval_secs that is not a whole number from {least} to {most}")
        })?,
    };
    Ok(FeedSettings { name, url, senders, category, interval: Duration::from_secs(interval as u64) })
}

/// A TOML list of integers, or a comma-separated string of them.
fn user_ids(v: &Value) -> Option<Vec<i64>> {
    match v {
        Value::Array(items) => items.iter().map(|i| i.as_integer().filter(|n| *n > 0)).collect(),
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().ok().filter(|n: &i64| *n > 0))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Loaded::from_sources(None, &move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_need_no_token_until_one_is_asked_for() {
        let loaded = load(&[]).unwrap();
        let s = &loaded.settings;
        assert_eq!(s.database.url, DatabaseUrl::Sqlite("sqlite://pingan.db".into()));
        assert_eq!(s.bot.default_language, Language::Zh);
        assert_eq!(s.bot.time_zone, chrono_tz::Asia::Shanghai);
        assert_eq!(s.telegram.api_url.expose().as_str(), "https://api.telegram.org/");
        let err = s.telegram.token().unwrap_err().to_string();
        assert!(err.starts_with("TELOXIDE_TOKEN is not set"), "{err}");
    }

    #[test]
    fn a_bad_value_names_the_key_the_source_and_what_was_expected() {
        let err = load(&[("PINGAN_DATABASE_MAX_CONNECTIONS", "many")]).unwrap_err().to_string();
        assert_eq!(
            err,
            "database.max_connections (from environment variable PINGAN_DATABASE_MAX_CONNECTIONS) \
             must be a whole number from 1 to 100; got \"many\""
        );
        let err = load(&[("PINGAN_BOT_TIME_ZONE", "Asia/Shangai")]).unwrap_err().to_string();
        assert!(err.contains("IANA time zone"), "{err}");
        let err = load(&[("DATABASE_URL", "mysql://x@y/z")]).unwrap_err().to_string();
        assert!(err.starts_with("database.url (from environment variable DATABASE_URL)"), "{err}");
    }

    #[test]
    fn a_malformed_token_is_refused_without_being_echoed() {
        let err = load(&[("TELOXIDE_TOKEN", "not-a-token-SECRET")]).unwrap_err().to_string();
        assert!(err.contains("telegram.token") && !err.contains("SECRET"), "{err}");
    }

    #[test]
    fn a_draft_waits_a_day_by_default_and_a_whole_number_of_hours_if_set() {
        assert_eq!(load(&[]).unwrap().settings.bot.draft_idle, chrono::Duration::hours(24));
        let s = load(&[("PINGAN_BOT_DRAFT_IDLE_HOURS", "2")]).unwrap().settings;
        assert_eq!(s.bot.draft_idle, chrono::Duration::hours(2));
        for bad in ["0", "721", "1.5", "a day"] {
            let err = load(&[("PINGAN_BOT_DRAFT_IDLE_HOURS", bad)]).unwrap_err().to_string();
            assert!(err.starts_with("bot.draft_idle_hours (from environment variable"), "{err}");
        }
    }

    #[test]
    fn a_feed_request_takes_30_seconds_at_most_unless_told_from_1_to_120() {
        assert_eq!(load(&[]).unwrap().settings.cap.feed_timeout, Duration::from_secs(30));
        let s = load(&[("PINGAN_CAP_FEED_TIMEOUT_SECS", "5")]).unwrap().settings;
        assert_eq!(s.cap.feed_timeout, Duration::from_secs(5));
        for bad in ["0", "121", "2.5"] {
            let err = load(&[("PINGAN_CAP_FEED_TIMEOUT_SECS", bad)]).unwrap_err().to_string();
            assert!(err.starts_with("cap.feed_timeout_secs (from environment variable"), "{err}");
        }
    }

    #[test]
    fn owners_come_as_a_list_or_comma_separated() {
        let s = load(&[("PINGAN_BOT_OWNERS", "12, 34")]).unwrap().settings;
        assert_eq!(s.bot.owners, vec![12, 34]);
        assert!(load(&[("PINGAN_BOT_OWNERS", "12,abc")]).is_err());
    }

    #[test]
    fn trusted_senders_come_as_a_list_or_comma_separated_and_default_to_none() {
        assert!(load(&[]).unwrap().settings.cap.trusted_senders.is_empty());
        let s = load(&[("PINGAN_CAP_TRUSTED_SENDERS", "a@example.gov, urn:oid:2.49.0.1")]).unwrap().settings;
        assert_eq!(s.cap.trusted_senders, vec!["a@example.gov".to_owned(), "urn:oid:2.49.0.1".to_owned()]);
        let local = Some((PathBuf::from("local.toml"), "[cap]\ntrusted_senders = [\"cms@x\"]\n".into()));
        let s = Loaded::from_sources(local, &|_| None).unwrap().settings;
        assert_eq!(s.cap.trusted_senders, vec!["cms@x".to_owned()]);
        let err = load(&[("PINGAN_CAP_TRUSTED_SENDERS", "a b")]).unwrap_err().to_string();
        assert!(err.starts_with("cap.trusted_senders (from environment variable"), "{err}");
    }

    #[test]
    fn describe_masks_secrets_and_names_origins() {
        let loaded = load(&[
            ("TELOXIDE_TOKEN", "123:SECRET"),
            ("DATABASE_URL", "postgres://dbuser:hunter2@db.example:5433/pingan?password=qpw&sslmode=require"),
            ("TELOXIDE_API_URL", "http://prxuser:pr0xy-pw@127.0.0.1:8081/"),
            (
                "PINGAN_CAP_FEEDS",
                "[{name = \"w\", url = \"https://feeduser:pw@alerts.example/atom.xml?key=feedkey#x\", senders = [\"a@b\"]}]",
            ),
        ])
        .unwrap();
        let text = loaded.describe();
        assert!(
            text.contains("feeds = [{name = \"w\", url = \"https://alerts.example/atom.xml\", senders = [\"a@b\"], interval_secs = 300}]"),
            "{text}"
        );
        for secret in ["SECRET", "hunter2", "qpw", "dbuser", "prxuser", "pr0xy-pw", "feedkey", "feeduser"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("token = \"123:****\"  # environment variable TELOXIDE_TOKEN"), "{text}");
        assert!(text.contains("url = \"postgres://db.example:5433/pingan?sslmode=require\""), "{text}");
        assert!(text.contains("api_url = \"http://127.0.0.1:8081\""), "{text}");
        assert!(text.contains("poll_timeout_secs = 10  # default"), "{text}");
        let debug = format!("{:?}", loaded.settings);
        for secret in ["SECRET", "hunter2", "qpw", "pr0xy-pw", "feedkey"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn webhook_mode_needs_an_https_url_a_secret_and_the_listener() {
        assert!(load(&[]).unwrap().settings.telegram.webhook.is_none(), "polling by default");
        let url = ("PINGAN_TELEGRAM_WEBHOOK_URL", "https://bot.example.gov.cn/telegram/hook");
        let secret = ("PINGAN_TELEGRAM_WEBHOOK_SECRET", "Wh-S3cret_42");
        let loaded = load(&[url, secret, ("PINGAN_TELEGRAM_WEBHOOK_MAX_CONNECTIONS", "10")]).unwrap();
        let webhook = loaded.settings.telegram.webhook.clone().unwrap();
        assert_eq!((webhook.path(), webhook.max_connections), ("/telegram/hook", 10));
        assert!(webhook.secret.matches(b"Wh-S3cret_42"));
        let text = loaded.describe();
        assert!(text.contains("webhook_url = \"https://bot.example.gov.cn/telegram/hook\""), "{text}");
        assert!(text.contains("webhook_secret = \"****\"  # environment variable"), "{text}");
        let debug = format!("{:?}", loaded.settings);
        assert!(!text.contains("Wh-S3cret") && !debug.contains("Wh-S3cret"), "{debug}");

        let err = load(&[url]).unwrap_err().to_string();
        assert!(err.starts_with("telegram.webhook_secret (from default)"), "{err}");
        for bad in [
            "http://bot.example.gov.cn/hook",
            "https://bot.example.gov.cn/",
            "https://bot.example.gov.cn/api/hook",
            "https://bot.example.gov.cn/healthz",
            "https://user:pw@bot.example.gov.cn/hook",
            "not a url",
        ] {
            let err = load(&[("PINGAN_TELEGRAM_WEBHOOK_URL", bad), secret]).unwrap_err().to_string();
            assert!(err.starts_with("telegram.webhook_url (from environment variable"), "{bad}: {err}");
            assert!(!err.contains("pw@"), "{err}");
        }
        assert!(load(&[("PINGAN_TELEGRAM_WEBHOOK_URL", "http://127.0.0.1:9/hook"), secret]).is_ok());
        let err = load(&[url, secret, ("PINGAN_HTTP_LISTEN", "off")]).unwrap_err().to_string();
        assert!(err.starts_with("http.listen (from environment variable"), "{err}");
    }

    #[test]
    fn a_rejected_url_is_shown_without_its_secrets() {
        let err = load(&[("DATABASE_URL", "postgres://app:hunter2@db.example/pingan?pasword=hunter3")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`pasword` is not one") && err.contains("got \"postgres://db.example/pingan\""),
            "{err}"
        );
        assert!(!err.contains("hunter"), "{err}");
        let err = load(&[("TELOXIDE_API_URL", "ftp://proxy:pr0xy-pw@host/")]).unwrap_err().to_string();
        assert!(err.contains("got \"ftp://host/\"") && !err.contains("pr0xy"), "{err}");
        let err = load(&[("DATABASE_URL", "mysql://u:hunter2@h/db")]).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn database_urls_are_checked_for_their_scheme() {
        assert!(DatabaseUrl::parse("sqlite:///var/lib/pingan/pingan.db").is_some());
        assert!(DatabaseUrl::parse("sqlite:data.db?mode=rwc").is_some());
        assert!(DatabaseUrl::parse("postgresql://postgres@127.0.0.1:5432/test").is_some());
        assert!(DatabaseUrl::parse("sqlite://").is_none());
        assert!(DatabaseUrl::parse("postgres:///nohost").is_none());
        assert!(DatabaseUrl::parse("redis://127.0.0.1").is_none());
        let with_search_path =
            "postgres://postgres@127.0.0.1:5432/test?options[search_path]=x&sslmode=disable";
        assert!(DatabaseUrl::parse(with_search_path).is_some());
        assert!(DatabaseUrl::parse("postgres://h/db?connect_timeout=3").is_none(), "unknown to sqlx");
        let url = DatabaseUrl::parse("postgres://u:s3cret@h:5432/db?password=p2&sslmode=disable").unwrap();
        assert_eq!(url.to_string(), "postgres://h:5432/db?sslmode=disable");
        assert_eq!(format!("{url:?}"), "DatabaseUrl(postgres://h:5432/db?sslmode=disable)");
        assert_eq!(DatabaseUrl::parse("sqlite:data.db?mode=rwc").unwrap().to_string(), "sqlite:data.db");
    }
}
