//! What can go wrong in storage, sorted by what the caller can do about it.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database is locked or out of connections; the same request may succeed shortly.
    #[error("the database is busy: {0}")]
    Busy(#[source] sqlx::Error),
    /// A stored value does not parse: the database was changed behind Pingan's back.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database schema: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl StoreError {
    pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{what}: {detail}"))
    }

    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Busy(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut => StoreError::Busy(e),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(db) if is_retryable(db.code().as_deref()) => StoreError::Busy(e),
            _ => StoreError::Other(e),
        }
    }
}

/// SQLite's BUSY and LOCKED (with their extended codes), PostgreSQL's lock-not-available,
/// serialization failure and deadlock: conflicts that go away when tried again.
fn is_retryable(code: Option<&str>) -> bool {
    match code {
        Some("55P03" | "40001" | "40P01") => true,
        Some(code) => code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_conflicts_are_retryable_and_other_errors_are_not() {
        for code in ["5", "261", "517", "6", "55P03", "40001"] {
            assert!(is_retryable(Some(code)), "{code}");
        }
        for code in ["1", "2067", "23505", "42P01"] {
            assert!(!is_retryable(Some(code)), "{code}");
        }
        assert!(!is_retryable(None));
    }
}
