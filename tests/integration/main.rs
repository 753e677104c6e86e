//! Integration tests: the real application against real databases and a fake Bot API.
//! One binary, so the crate links once. Logs are silent unless TEST_LOG is set.

#[path = "../support/mod.rs"]
mod support;

mod bot;
mod citizen;
mod cli;
mod crash;
mod delivery;
mod fake_api;
mod locales;
mod storage;
