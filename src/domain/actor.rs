//! Who did something: the author of a notice, the granter of a role, later the audit log.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A Telegram user, by user id.
    Telegram(i64),
    /// Someone at the command line, by operating-system user name.
    Cli(String),
    /// A client of the HTTP API, by token name.
    Api(String),
    /// A polled CAP feed (`cap.feeds`), by its configured name.
    Feed(String),
    /// Pingan itself: shipped content, the scheduler.
    System,
}

impl Actor {
    /// The person running this process, for commands typed at the CLI.
    pub fn current_cli_user() -> Actor {
        let name = ["USER", "LOGNAME", "USERNAME"]
            .into_iter()
            .filter_map(|key| std::env::var(key).ok())
            .find(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        Actor::Cli(name)
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Telegram(id) => write!(f, "telegram:{id}"),
            Actor::Cli(name) => write!(f, "cli:{name}"),
            Actor::Api(name) => write!(f, "api:{name}"),
            Actor::Feed(name) => write!(f, "feed:{name}"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an actor: {0:?} (expected telegram:ID, cli:NAME, api:NAME, feed:NAME or system)")]
pub struct BadActor(pub String);

impl FromStr for Actor {
    type Err = BadActor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadActor(s.to_owned());
        if s == "system" {
            return Ok(Actor::System);
        }
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        match kind {
            "telegram" => rest.parse().map(Actor::Telegram).map_err(|_| bad()),
            "cli" => Ok(Actor::Cli(rest.to_owned())),
            "api" => Ok(Actor::Api(rest.to_owned())),
            "feed" => Ok(Actor::Feed(rest.to_owned())),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_stored_form() {
        for actor in [
            Actor::Telegram(42),
            Actor::Cli("alice".into()),
            Actor::Api("cms".into()),
            Actor::Feed("nws".into()),
            Actor::System,
        ] {
            assert_eq!(actor.to_string().parse::<Actor>(), Ok(actor));
        }
        assert!("telegram:abc".parse::<Actor>().is_err());
        assert!("cli:".parse::<Actor>().is_err());
    }
}
