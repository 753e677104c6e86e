//! The commands citizens and editors type, and how a message's text becomes one.

/// A command Pingan understands, with its arguments parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `/start`, also with the payload a `t.me/<bot>?start=…` link adds, which is ignored.
    Start,
    Help,
}

/// Who a command is for: citizens' commands go into Telegram's command menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Everyone,
}

/// A command's name as typed, and where its description lives (`commands.<name>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub audience: Audience,
}

/// Every command, in the order menus and /help list them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "start",
        audience: Audience::Everyone,
    },
    CommandSpec {
        name: "help",
        audience: Audience::Everyone,
    },
];

/// What a message's text turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Command(Command),
    /// A `/word` Pingan does not know. `addressed` is true when it named this bot
    /// (`/word@pingan_bot`), so that in groups Pingan stays quiet about other bots' commands.
    Unknown {
        typed: String,
        addressed: bool,
    },
    /// A command for another bot (`/start@other_bot`).
    OtherBot,
    NotACommand,
}

/// Reads `text` as Telegram clients send commands: `/name`, `/name@bot` or `/name args`.
/// Names are matched without regard to case.
pub fn parse(text: &str, bot_username: &str) -> Parsed {
    let Some(rest) = text.trim_start().strip_prefix('/') else {
        return Parsed::NotACommand;
    };
    let word = rest.split(char::is_whitespace).next().unwrap_or_default();
    let (name, addressed) = match word.split_once('@') {
        Some((name, bot)) if bot.eq_ignore_ascii_case(bot_username) => (name, true),
        Some(_) => return Parsed::OtherBot,
        None => (word, false),
    };
    if name.is_empty() {
        return Parsed::NotACommand;
    }
    let unknown = || Parsed::Unknown {
        typed: format!("/{name}"),
        addressed,
    };
    match name.to_ascii_lowercase().as_str() {
        "start" => Parsed::Command(Command::Start),
        "help" => Parsed::Command(Command::Help),
        _ => unknown(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "pingan_bot";

    #[test]
    fn reads_plain_and_addressed_commands() {
        assert_eq!(parse("/help", BOT), Parsed::Command(Command::Help));
        assert_eq!(
            parse("/HELP@Pingan_Bot", BOT),
            Parsed::Command(Command::Help)
        );
        assert_eq!(parse("  /help  ", BOT), Parsed::Command(Command::Help));
        assert_eq!(
            parse("/start notice-12", BOT),
            Parsed::Command(Command::Start)
        );
        assert_eq!(parse("/start", BOT), Parsed::Command(Command::Start));
    }

    #[test]
    fn tells_unknown_commands_from_other_bots_commands_and_text() {
        assert_eq!(
            parse("/frobnicate", BOT),
            Parsed::Unknown {
                typed: "/frobnicate".into(),
                addressed: false
            }
        );
        assert_eq!(
            parse("/frob@pingan_bot x", BOT),
            Parsed::Unknown {
                typed: "/frob".into(),
                addressed: true
            }
        );
        assert_eq!(parse("/start@other_bot", BOT), Parsed::OtherBot);
        assert_eq!(parse("诈骗电话怎么办", BOT), Parsed::NotACommand);
        assert_eq!(parse("/", BOT), Parsed::NotACommand);
        assert_eq!(parse("", BOT), Parsed::NotACommand);
    }

    #[test]
    fn every_listed_command_parses() {
        for spec in COMMANDS {
            assert!(
                matches!(parse(&format!("/{}", spec.name), BOT), Parsed::Command(_)),
                "{}",
                spec.name
            );
        }
    }
}
