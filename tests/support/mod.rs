//! What the integration tests share: a fake Bot API, fresh databases, a running app.
#![allow(dead_code)]

pub mod binary;
pub mod fake_telegram;
pub mod test_app;
pub mod test_db;

use std::sync::Once;

/// Logs stay silent unless `TEST_LOG` is set (to a filter such as `debug`).
pub fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        }
    });
}
