//! Logging: structured `tracing` events to standard error.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. `quiet` keeps only warnings and errors, for commands
/// whose standard output is the product (the console, listings).
pub fn init(settings: &LogSettings, quiet: bool) {
    let filter = if quiet { "warn".to_owned() } else { settings.filter.clone() };
    // The filter was validated with the settings; the fallback only guards the `quiet` case.
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::NONE);
    let result = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // Tests initialize more than once; the first subscriber stays.
    drop(result);
}
