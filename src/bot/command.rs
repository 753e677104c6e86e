//! The commands citizens and editors type, and how a message's text becomes one.

/// A command Pingan understands. Arguments are kept as typed (trimmed); each handler
/// reads its own and answers a usage line when they make no sense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `/start`, with the payload a `t.me/<bot>?start=…` link adds (empty when typed
    /// alone); [`crate::render::link::StartPayload`] reads it.
    Start(String),
    Help,
    Latest,
    Notice(String),
    Search(String),
    Tip,
    Tips,
    Subscribe,
    Unsubscribe,
    Settings(String),
    Lang(String),
    About,
    Forget,
    /// The risk check of a phone number, link or account.
    Check(String),
    /// Editors: compose a notice (guided, or all in one message).
    Post(String),
    /// Editors: an urgent notice that goes out at once.
    Urgent(String),
    /// Editors: correct a notice.
    Edit(String),
    /// Editors: withdraw a notice.
    Retract(String),
    /// A citizen tells the bureau about a scam.
    Report,
    /// The bureau's anti-fraud figures.
    Stats,
    /// Moderators: the reports waiting for a decision.
    Reports,
    /// Ends the dialogue the user is in (a notice being written, a report).
    Cancel,
    /// Editors: the list of fraud numbers, sites and accounts.
    Indicator(String),
    /// Owners: list, grant and revoke roles.
    Admins(String),
}

/// Who a command is for: citizens' commands go into everyone's command menu; the
/// bureau's into the menus of those with a role (see [`crate::bot::menu`]) and their /help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    Editors,
    Moderators,
    Owners,
}

/// A command's name as typed; its description is the locale text `commands.<name>`.
/// `in_groups`: whether it is any use in a group (the groups' command menu lists only
/// those; `/report` and the dialogues are private, `/start` opens the private chat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub audience: Audience,
    pub in_groups: bool,
}

const fn everyone(name: &'static str) -> CommandSpec {
    CommandSpec { name, audience: Audience::Everyone, in_groups: true }
}

const fn private(name: &'static str) -> CommandSpec {
    CommandSpec { name, audience: Audience::Everyone, in_groups: false }
}

const fn staff(name: &'static str, audience: Audience) -> CommandSpec {
    CommandSpec { name, audience, in_groups: false }
}

/// Every command, in the order menus and /help list them.
pub const COMMANDS: &[CommandSpec] = &[
    everyone("latest"),
    everyone("notice"),
    everyone("search"),
    everyone("tip"),
    everyone("tips"),
    everyone("subscribe"),
    everyone("unsubscribe"),
    everyone("settings"),
    everyone("lang"),
    everyone("about"),
    everyone("check"),
    private("report"),
    everyone("stats"),
    everyone("forget"),
    private("cancel"),
    private("start"),
    everyone("help"),
    staff("post", Audience::Editors),
    staff("urgent", Audience::Editors),
    staff("edit", Audience::Editors),
    staff("retract", Audience::Editors),
    staff("indicator", Audience::Editors),
    staff("reports", Audience::Moderators),
    staff("admins", Audience::Owners),
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
    let (word, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let (name, addressed) = match word.split_once('@') {
        Some((name, bot)) if bot.eq_ignore_ascii_case(bot_username) => (name, true),
        Some(_) => return Parsed::OtherBot,
        None => (word, false),
    };
    if name.is_empty() {
        return Parsed::NotACommand;
    }
    let args = args.to_owned();
    let command = match name.to_ascii_lowercase().as_str() {
        "start" => Command::Start(args),
        "help" => Command::Help,
        "latest" => Command::Latest,
        "notice" => Command::Notice(args),
        "search" => Command::Search(args),
        "tip" => Command::Tip,
        "tips" => Command::Tips,
        "subscribe" => Command::Subscribe,
        "unsubscribe" => Command::Unsubscribe,
        "settings" => Command::Settings(args),
        "lang" => Command::Lang(args),
        "about" => Command::About,
        "forget" => Command::Forget,
        "check" => Command::Check(args),
        "report" => Command::Report,
        "stats" => Command::Stats,
        "reports" => Command::Reports,
        "indicator" => Command::Indicator(args),
        "post" => Command::Post(args),
        "urgent" => Command::Urgent(args),
        "edit" => Command::Edit(args),
        "retract" => Command::Retract(args),
        "cancel" => Command::Cancel,
        "admins" => Command::Admins(args),
        _ => {
            return Parsed::Unknown { typed: format!("/{name}"), addressed };
        }
    };
    Parsed::Command(command)
}

impl Command {
    /// The command's name, for logs (never its arguments: they may be personal).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start(_) => "start",
            Command::Help => "help",
            Command::Latest => "latest",
            Command::Notice(_) => "notice",
            Command::Search(_) => "search",
            Command::Tip => "tip",
            Command::Tips => "tips",
            Command::Subscribe => "subscribe",
            Command::Unsubscribe => "unsubscribe",
            Command::Settings(_) => "settings",
            Command::Lang(_) => "lang",
            Command::About => "about",
            Command::Forget => "forget",
            Command::Check(_) => "check",
            Command::Report => "report",
            Command::Stats => "stats",
            Command::Reports => "reports",
            Command::Indicator(_) => "indicator",
            Command::Post(_) => "post",
            Command::Urgent(_) => "urgent",
            Command::Edit(_) => "edit",
            Command::Retract(_) => "retract",
            Command::Cancel => "cancel",
            Command::Admins(_) => "admins",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "pingan_bot";

    #[test]
    fn reads_plain_and_addressed_commands() {
        assert_eq!(parse("/help", BOT), Parsed::Command(Command::Help));
        assert_eq!(parse("/start", BOT), Parsed::Command(Command::Start(String::new())));
        assert_eq!(parse("/HELP@Pingan_Bot", BOT), Parsed::Command(Command::Help));
        assert_eq!(parse("  /help  ", BOT), Parsed::Command(Command::Help));
        assert_eq!(parse("/start n12", BOT), Parsed::Command(Command::Start("n12".into())));
        assert_eq!(parse("/search  刷单 返利 ", BOT), Parsed::Command(Command::Search("刷单 返利".into())));
        assert_eq!(
            parse("/settings@pingan_bot tz Europe/Berlin", BOT),
            Parsed::Command(Command::Settings("tz Europe/Berlin".into()))
        );
        assert_eq!(parse("/notice", BOT), Parsed::Command(Command::Notice(String::new())));
    }

    #[test]
    fn tells_unknown_commands_from_other_bots_commands_and_text() {
        assert_eq!(
            parse("/frobnicate", BOT),
            Parsed::Unknown { typed: "/frobnicate".into(), addressed: false }
        );
        assert_eq!(
            parse("/frob@pingan_bot x", BOT),
            Parsed::Unknown { typed: "/frob".into(), addressed: true }
        );
        assert_eq!(parse("/start@other_bot", BOT), Parsed::OtherBot);
        assert_eq!(parse("诈骗电话怎么办", BOT), Parsed::NotACommand);
        assert_eq!(parse("/", BOT), Parsed::NotACommand);
        assert_eq!(parse("", BOT), Parsed::NotACommand);
    }

    #[test]
    fn every_listed_command_parses_under_its_own_name() {
        for spec in COMMANDS {
            match parse(&format!("/{}", spec.name), BOT) {
                Parsed::Command(command) => assert_eq!(command.name(), spec.name),
                other => panic!("{}: {other:?}", spec.name),
            }
        }
    }
}
