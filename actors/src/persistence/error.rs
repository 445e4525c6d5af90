//! Storage failures, kept apart from their causes so nothing internal reaches a client.

/// Why a storage call failed. `Display` never includes SQL parameters or row contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `DATABASE_URL` names neither SQLite nor PostgreSQL, or cannot be parsed.
    #[error("the database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    /// A unique constraint refused the write (duplicate feedback, sequence clash, …).
    #[error("a row with the same unique key already exists")]
    Conflict,
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Applying or reverting migrations failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A file-system step (creating the data directory) failed.
    #[error("file system error: {0}")]
    Io(#[source] std::io::Error),
    /// A stored value could not be understood (e.g. an unknown language code).
    #[error("stored data is invalid: {0}")]
    Corrupt(&'static str),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(error),
        }
    }
}
