//! Integration tests: the real application against real databases and a fake Bot API.
//! One binary, so the crate links once. Logs are silent unless TEST_LOG is set.

#[path = "../support/mod.rs"]
mod support;

mod anti_fraud;
mod api;
mod bot;
mod cap;
mod cap_authority;
mod cap_real;
mod citizen;
mod cli;
mod crash;
mod deep_links;
mod delivery;
mod dialogs;
mod districts;
mod editor;
mod english;
mod fake_api;
mod feeds;
mod inline;
mod instances;
mod links;
mod locales;
mod migrate_data;
mod privacy;
mod processes;
mod publishing;
mod robustness;
mod roles;
mod scripts;
mod search;
mod secrets;
mod stats;
mod storage;
mod stress;
mod typed;
mod webhook;
mod words;
