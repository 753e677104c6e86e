//! Pingan (平安): a Telegram bot for a city public-security bureau's notices, anti-fraud
//! tips and alerts. The binary in `main.rs` is a thin shell over this library.

pub mod app;
pub mod bot;
pub mod cap;
pub mod chart;
pub mod checking;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod content;
pub mod delivery;
pub mod domain;
pub mod feeds;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod html;
pub mod http;
pub mod i18n;
pub mod metrics;
pub mod publishing;
pub mod render;
pub mod startup;
pub mod store;
pub mod telegram;
pub mod telemetry;
pub mod tokens;
