//! Telegram: commands, routing, handlers and the transports they answer through.

pub mod api;
pub mod callback;
pub mod command;
pub mod handlers;
pub mod incoming;
pub mod keyboard;
pub mod outbound;
pub mod polling;
pub mod render;
pub mod schema;
pub mod telegram;
