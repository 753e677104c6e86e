//! `pingan console`.

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Args;

use crate::clock::Clock;
use crate::config::Settings;
use crate::console::{ConsoleUser, run_console};
use crate::domain::Language;
use crate::startup;

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The language your pretend Telegram client reports: zh or en (default: none, so the
    /// bot answers in bot.default_language)
    #[arg(long, value_name = "LANG")]
    lang: Option<Language>,

    /// Act as an editor: your user id counts as an owner's for this session
    #[arg(long)]
    admin: bool,

    /// The private chat's id, which is also your user id
    #[arg(long, value_name = "ID", default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1..))]
    chat_id: i64,
}

pub async fn run(args: ConsoleArgs, settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(&settings, clock.as_ref()).await?;
    let mut bot = settings.bot.clone();
    if args.admin {
        bot.owners.push(args.chat_id);
    }
    let app = startup::build_app(store.clone(), &settings, bot, clock)?;
    // One person at their own terminal: Telegram's limits, which budgets protect, do not apply.
    app.budgets.lift();
    let user = ConsoleUser { chat_id: args.chat_id, language: args.lang };
    let interactive = std::io::stdin().is_terminal();
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    let result = run_console(app, user, input, Box::new(std::io::stdout()), interactive).await;
    store.close().await;
    result
}
