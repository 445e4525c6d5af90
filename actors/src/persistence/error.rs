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
    /// A group commit got no answer within its timeout; whether it committed is unknown.
    #[error("the database did not answer the commit in time")]
    CommitTimedOut,
    /// The database became known to be unreachable while the call waited (see `Reachability`).
    #[error("the database is unreachable")]
    Unreachable,
    /// The session changed (on this instance or another) since the write was prepared, or is
    /// gone: reload it and prepare the write again.
    #[error("the session changed since the write was prepared")]
    VersionConflict,
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

impl StoreError {
    /// Whether the failure says the database cannot be reached or is not serving right now
    /// (no connection in time, a broken socket, a server shutting down or refusing connections,
    /// a statement cancelled by its timeout), rather than that this request was wrong.
    pub fn is_unavailable(&self) -> bool {
        let error = match self {
            StoreError::CommitTimedOut | StoreError::Unreachable => return true,
            StoreError::Database(error) => error,
            _ => return false,
        };
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(database) => database.code().is_some_and(|code| {
                // Class 08 connection exceptions; admin/crash shutdown, cannot connect now;
                // query_canceled (the statement timeout).
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "57014")
            }),
            _ => false,
        }
    }
}
