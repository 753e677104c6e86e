//! Values that must never reach a log or a terminal in full.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_botfather_shapes_only() {
        assert!(BotToken::parse("123456:AAE-x_y").is_some());
        assert!(BotToken::parse("1:x").is_some());
        for bad in ["", "abc", "123456", ":abc", "12a:abc", "1:", "1:a b"] {
            assert!(BotToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn never_prints_the_secret_part() {
        let token = BotToken::parse("123456:SECRETSECRET").unwrap();
        assert_eq!(format!("{token}"), "123456:****");
        assert!(!format!("{token:?}").contains("SECRET"));
    }
}
