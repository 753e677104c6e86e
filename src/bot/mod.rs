//! Telegram: commands, routing, handlers and the transports they answer through.

pub mod command;
pub mod handlers;
pub mod incoming;
pub mod outbound;
pub mod polling;
pub mod schema;
pub mod telegram;
