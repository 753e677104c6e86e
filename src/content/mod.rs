//! Content shipped with Pingan: the anti-fraud tips library and the demo notices.

pub mod demo;
pub mod figures;
pub mod officials;
pub mod tips;

/// A shipped content file that does not parse: a bug in this build, caught by tests.
#[derive(Debug, thiserror::Error)]
#[error("built-in content {file}: {reason}")]
pub struct ContentError {
    pub file: &'static str,
    pub reason: String,
}

impl ContentError {
    fn new(file: &'static str, reason: impl std::fmt::Display) -> ContentError {
        ContentError { file, reason: reason.to_string() }
    }
}
