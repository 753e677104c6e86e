//! Routing updates to handlers: the one dptree schema that both the Telegram dispatcher
//! and the console run.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;

use super::handlers::{self, HandlerError};
use super::incoming::{ButtonPress, Incoming, InlineAsk};

pub fn schema() -> UpdateHandler<HandlerError> {
    dptree::entry()
        .branch(
            Update::filter_message()
                .filter(|message: Message| {
                    message.migrate_to_chat_id().is_some() || message.migrate_from_chat_id().is_some()
                })
                .endpoint(handlers::on_migration),
        )
        .branch(
            Update::filter_message()
                .filter_map(|message: Message| Incoming::from_message(&message))
                .endpoint(handlers::on_message),
        )
        .branch(Update::filter_my_chat_member().endpoint(handlers::on_membership))
        .branch(
            Update::filter_callback_query()
                .filter_map(|query: CallbackQuery| ButtonPress::from_query(&query))
                .endpoint(handlers::on_button),
        )
        .branch(
            Update::filter_inline_query()
                .map(|query: InlineQuery| InlineAsk::from_query(&query))
                .endpoint(handlers::on_inline),
        )
}
