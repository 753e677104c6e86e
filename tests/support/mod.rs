//! What the integration tests share: a fake Bot API, fresh databases, a running app.
#![allow(dead_code)]

pub mod binary;
pub mod chinese;
pub mod fake_telegram;
pub mod process;
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

/// Declares each named `async fn name(db: TestDb)` as two tests, `on_sqlite::name` and
/// `on_postgres::name`; the PostgreSQL one skips (saying so) when the server is
/// unreachable, unless PINGAN_REQUIRE_POSTGRES=1. (The benches share this module and use
/// it not.)
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::test_db::TestDb::sqlite()).await;
                }
            )+
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = crate::support::test_db::TestDb::postgres().await else { return };
                    super::$name(db).await;
                }
            )+
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;
