//! Merging the configuration layers — built-in defaults, a local file, the environment —
//! while remembering where each value came from, so errors and `pingan config` can say.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::Value;

use super::ConfigError;

/// How a key's value may be shown in `pingan config` and in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    Plain,
    /// Never, only its length.
    Secret,
    /// Scheme, host, port and path only (see [`super::secret::shown_url`]).
    Url,
    /// `cap.feeds`: each feed's URL without user, password, query or fragment (a feed's
    /// URL may carry a key); a rejected value only by its length.
    Feeds,
}

/// A configuration key: its dotted path in the TOML files and its environment variable.
#[derive(Debug)]
pub(crate) struct Key {
    pub path: &'static str,
    pub env: &'static str,
    pub shown: Shown,
}

const fn key(path: &'static str, env: &'static str) -> Key {
    Key { path, env, shown: Shown::Plain }
}

/// Every key Pingan reads. A test checks this against `config/default.toml`.
pub(crate) const KEYS: &[Key] = &[
    Key { path: "telegram.token", env: "TELOXIDE_TOKEN", shown: Shown::Secret },
    Key { path: "telegram.api_url", env: "TELOXIDE_API_URL", shown: Shown::Url },
    key("telegram.poll_timeout_secs", "PINGAN_TELEGRAM_POLL_TIMEOUT_SECS"),
    key("telegram.request_timeout_secs", "PINGAN_TELEGRAM_REQUEST_TIMEOUT_SECS"),
    Key { path: "telegram.webhook_url", env: "PINGAN_TELEGRAM_WEBHOOK_URL", shown: Shown::Url },
    Key { path: "telegram.webhook_secret", env: "PINGAN_TELEGRAM_WEBHOOK_SECRET", shown: Shown::Secret },
    key("telegram.webhook_max_connections", "PINGAN_TELEGRAM_WEBHOOK_MAX_CONNECTIONS"),
    Key { path: "database.url", env: "DATABASE_URL", shown: Shown::Url },
    key("database.max_connections", "PINGAN_DATABASE_MAX_CONNECTIONS"),
    key("database.busy_timeout_ms", "PINGAN_DATABASE_BUSY_TIMEOUT_MS"),
    key("bot.default_language", "PINGAN_BOT_DEFAULT_LANGUAGE"),
    key("bot.time_zone", "PINGAN_BOT_TIME_ZONE"),
    key("bot.owners", "PINGAN_BOT_OWNERS"),
    key("bot.publisher_zh", "PINGAN_BOT_PUBLISHER_ZH"),
    key("bot.publisher_en", "PINGAN_BOT_PUBLISHER_EN"),
    key("bot.cap_sender", "PINGAN_BOT_CAP_SENDER"),
    key("bot.reports_per_hour", "PINGAN_BOT_REPORTS_PER_HOUR"),
    key("bot.draft_idle_hours", "PINGAN_BOT_DRAFT_IDLE_HOURS"),
    key("bot.commands_per_minute", "PINGAN_BOT_COMMANDS_PER_MINUTE"),
    key("bot.costly_commands_per_minute", "PINGAN_BOT_COSTLY_COMMANDS_PER_MINUTE"),
    key("bot.group_commands_per_minute", "PINGAN_BOT_GROUP_COMMANDS_PER_MINUTE"),
    key("bot.districts", "PINGAN_BOT_DISTRICTS"),
    key("delivery.rate_per_second", "PINGAN_DELIVERY_RATE_PER_SECOND"),
    key("delivery.allow_paid_broadcast", "PINGAN_DELIVERY_ALLOW_PAID_BROADCAST"),
    key("delivery.paid_rate_per_second", "PINGAN_DELIVERY_PAID_RATE_PER_SECOND"),
    key("delivery.broadcast_share_percent", "PINGAN_DELIVERY_BROADCAST_SHARE_PERCENT"),
    key("delivery.concurrency", "PINGAN_DELIVERY_CONCURRENCY"),
    key("delivery.max_attempts", "PINGAN_DELIVERY_MAX_ATTEMPTS"),
    key("delivery.retry_base_ms", "PINGAN_DELIVERY_RETRY_BASE_MS"),
    key("delivery.lease_secs", "PINGAN_DELIVERY_LEASE_SECS"),
    key("delivery.tick_ms", "PINGAN_DELIVERY_TICK_MS"),
    key("delivery.empty_digest", "PINGAN_DELIVERY_EMPTY_DIGEST"),
    key("delivery.channel", "PINGAN_DELIVERY_CHANNEL"),
    key("delivery.max_publication_age_minutes", "PINGAN_DELIVERY_MAX_PUBLICATION_AGE_MINUTES"),
    key("retention.deliveries_days", "PINGAN_RETENTION_DELIVERIES_DAYS"),
    key("retention.search_queries_days", "PINGAN_RETENTION_SEARCH_QUERIES_DAYS"),
    key("retention.dialogues_days", "PINGAN_RETENTION_DIALOGUES_DAYS"),
    key("retention.reporters_days", "PINGAN_RETENTION_REPORTERS_DAYS"),
    key("cap.trusted_senders", "PINGAN_CAP_TRUSTED_SENDERS"),
    Key { path: "cap.feeds", env: "PINGAN_CAP_FEEDS", shown: Shown::Feeds },
    key("cap.feed_timeout_secs", "PINGAN_CAP_FEED_TIMEOUT_SECS"),
    key("http.listen", "PINGAN_HTTP_LISTEN"),
    key("http.metrics_listen", "PINGAN_HTTP_METRICS_LISTEN"),
    key("log.level", "RUST_LOG"),
    key("log.format", "PINGAN_LOG_FORMAT"),
];

pub(crate) const DEFAULTS: &str = include_str!("../../config/default.toml");

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// One key's effective value.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: &'static Key,
    pub value: Value,
    pub origin: Origin,
}

#[derive(Debug)]
pub(crate) struct Layers {
    entries: BTreeMap<&'static str, Entry>,
}

impl Layers {
    /// Merges the layers. `local` is a file's path and text; `env` looks up a variable.
    /// An environment variable that is set but empty counts as unset.
    pub fn merge(
        local: Option<(PathBuf, String)>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let defaults = parse_file(Path::new("config/default.toml"), DEFAULTS)?;
        let mut entries = BTreeMap::new();
        for key in KEYS {
            let value = lookup(&defaults, key.path).cloned().ok_or_else(|| ConfigError::File {
                path: "built-in config/default.toml".into(),
                reason: format!("has no key `{}`", key.path),
            })?;
            entries.insert(key.path, Entry { key, value, origin: Origin::Default });
        }

        if let Some((path, text)) = local {
            let table = parse_file(&path, &text)?;
            for (dotted, value) in leaves(&table) {
                let entry = entries.get_mut(dotted.as_str()).ok_or_else(|| ConfigError::File {
                    path: path.clone(),
                    reason: format!("unknown key `{dotted}` (see config/default.toml)"),
                })?;
                entry.value = value.clone();
                entry.origin = Origin::File(path.clone());
            }
        }

        for entry in entries.values_mut() {
            if let Some(text) = env(entry.key.env).filter(|v| !v.trim().is_empty()) {
                entry.value = Value::String(text);
                entry.origin = Origin::Env(entry.key.env);
            }
        }
        Ok(Layers { entries })
    }

    pub fn entry(&self, path: &str) -> &Entry {
        // Every path asked for is in KEYS, and `merge` put every key of KEYS here.
        match self.entries.get(path) {
            Some(entry) => entry,
            None => unreachable!("configuration key `{path}` is not in KEYS"),
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        KEYS.iter().map(|k| self.entry(k.path))
    }

    /// Reads one key with `parse`, which sees the value (a string when it came from the
    /// environment) and returns `None` when it is not acceptable; `expected` says what is.
    pub fn get<T>(
        &self,
        path: &str,
        expected: &str,
        parse: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<T, ConfigError> {
        parse(&self.entry(path).value).ok_or_else(|| self.invalid(path, expected))
    }

    /// The error for a value of `path` that is not what was `expected`.
    pub fn invalid(&self, path: &str, expected: &str) -> ConfigError {
        let entry = self.entry(path);
        ConfigError::Invalid {
            key: entry.key.path,
            origin: entry.origin.clone(),
            expected: expected.to_owned(),
            got: describe(entry),
        }
    }
}

/// How a rejected value is shown in an error: secrets only by their length, URLs without
/// their user, password and parameters.
fn describe(entry: &Entry) -> String {
    match (&entry.value, entry.key.shown) {
        (Value::String(s), Shown::Secret | Shown::Feeds) => {
            format!("a value of {} characters", s.chars().count())
        }
        (other, Shown::Feeds) => format!("a value of {} characters", other.to_string().chars().count()),
        (Value::String(s), Shown::Url) => format!("{:?}", super::secret::shown_url_text(s)),
        (Value::String(s), Shown::Plain) => format!("{s:?}"),
        (other, _) => other.to_string(),
    }
}

fn parse_file(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|e| {
        let line = e.span().map(|span| text[..span.start].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', "; ");
        ConfigError::File {
            path: path.to_owned(),
            reason: match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            },
        }
    })
}

fn lookup<'a>(table: &'a toml::Table, path: &str) -> Option<&'a Value> {
    let (section, name) = path.split_once('.')?;
    table.get(section)?.as_table()?.get(name)
}

/// The `section.key` leaves of a two-level table; a stray top-level value is a leaf too,
/// so that it is reported as an unknown key.
fn leaves(table: &toml::Table) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (section, value) in table {
        match value.as_table() {
            Some(inner) => out.extend(inner.iter().map(|(k, v)| (format!("{section}.{k}"), v))),
            None => out.push((section.clone(), value)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_in_default_toml_is_known_and_every_known_key_is_in_it() {
        let defaults = parse_file(Path::new("default.toml"), DEFAULTS).unwrap();
        let in_file: Vec<String> = leaves(&defaults).into_iter().map(|(k, _)| k).collect();
        let known: Vec<String> = KEYS.iter().map(|k| k.path.to_owned()).collect();
        let mut a = in_file.clone();
        let mut b = known.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn every_environment_variable_is_named_in_default_toml() {
        for key in KEYS {
            assert!(DEFAULTS.contains(&format!("env: {}", key.env)), "{} not documented", key.env);
        }
    }

    #[test]
    fn later_layers_win_and_remember_their_origin() {
        let local = Some((PathBuf::from("local.toml"), "[database]\nmax_connections = 3\n".into()));
        let env = |name: &str| (name == "PINGAN_LOG_FORMAT").then(|| "json".to_owned());
        let layers = Layers::merge(local, &env).unwrap();
        let e = layers.entry("database.max_connections");
        assert_eq!(e.value, Value::Integer(3));
        assert_eq!(e.origin, Origin::File("local.toml".into()));
        assert_eq!(layers.entry("log.format").origin, Origin::Env("PINGAN_LOG_FORMAT"));
        assert_eq!(layers.entry("log.level").origin, Origin::Default);
    }

    #[test]
    fn unknown_keys_and_bad_toml_name_the_file() {
        let local = Some((PathBuf::from("local.toml"), "[database]\nmax_conections = 3\n".into()));
        let err = Layers::merge(local, &|_| None).unwrap_err().to_string();
        assert!(err.contains("local.toml") && err.contains("database.max_conections"), "{err}");

        let local = Some((PathBuf::from("local.toml"), "[database\n".into()));
        let err = Layers::merge(local, &|_| None).unwrap_err().to_string();
        assert!(err.starts_with("local.toml: line 1"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn empty_environment_variables_count_as_unset() {
        let env = |name: &str| (name == "DATABASE_URL").then(String::new);
        let layers = Layers::merge(None, &env).unwrap();
        assert_eq!(layers.entry("database.url").origin, Origin::Default);
    }
}
