//! A reachability check on a connection of its own, outside the pool: a pool busy with chat
//! traffic makes callers wait for a connection, which must not read as the database being down.

use super::store::{Backend, Store};
use sqlx::{ConnectOptions, Connection, PgConnection, SqliteConnection};
use std::time::Duration;

enum ProbeConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Round trips on one dedicated connection, reopened after any failure.
pub struct DatabaseProbe {
    store: Store,
    connection: Option<ProbeConnection>,
}

impl DatabaseProbe {
    /// A probe using the store's connection settings; it connects on its first check.
    pub fn new(store: Store) -> Self {
        DatabaseProbe {
            store,
            connection: None,
        }
    }

    /// Whether the database answered a round trip within `timeout` (connecting first if needed).
    /// A failed or late check drops the connection, so a frozen socket is never reused.
    pub async fn check(&mut self, timeout: Duration) -> bool {
        match tokio::time::timeout(timeout, self.round_trip()).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) | Err(_) => {
                self.connection = None;
                false
            }
        }
    }

    /// Drops the connection (inside the runtime, where closing a socket is safe).
    pub fn disconnect(&mut self) {
        self.connection = None;
    }

    async fn round_trip(&mut self) -> Result<(), sqlx::Error> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => match &self.store.backend {
                Backend::Sqlite(pool) => {
                    ProbeConnection::Sqlite(pool.connect_options().connect().await?)
                }
                Backend::Postgres(pool) => {
                    ProbeConnection::Postgres(pool.connect_options().connect().await?)
                }
            },
        };
        let connection = self.connection.insert(connection);
        match connection {
            ProbeConnection::Sqlite(connection) => connection.ping().await,
            ProbeConnection::Postgres(connection) => connection.ping().await,
        }
    }
}
