//! The command menu Telegram shows beside the text field, in each language.

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::BotCommand;

use super::command::{Audience, COMMANDS};
use crate::domain::Language;
use crate::html::to_plain;
use crate::i18n::Texts;

/// The citizens' command menu in `lang`.
pub fn command_menu(texts: &Texts, lang: Language) -> Vec<BotCommand> {
    COMMANDS
        .iter()
        .filter(|spec| spec.audience == Audience::Everyone)
        .map(|spec| {
            let description = to_plain(texts.template(lang, &format!("commands.{}", spec.name)));
            BotCommand::new(spec.name, description)
        })
        .collect()
}

/// Registers the command menu in Chinese and English, and in `default` for every other
/// client language.
pub async fn register_commands(bot: &Bot, texts: &Texts, default: Language) -> Result<(), RequestError> {
    for lang in Language::ALL {
        bot.set_my_commands(command_menu(texts, lang)).language_code(lang.code()).await?;
    }
    bot.set_my_commands(command_menu(texts, default)).await?;
    Ok(())
}
