//! Chat handlers: commands, routing, dialogues — above `telegram/` (the one transport
//! every message leaves through) and `render/` (what messages look like).

pub mod budget;
pub mod command;
pub mod handlers;
pub mod incoming;
pub mod intake;
pub mod menu;
pub mod polling;
pub mod schema;
pub mod usernames;
