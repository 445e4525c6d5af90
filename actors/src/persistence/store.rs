//! The storage interface: one `Store` whose every method runs the same SQL on SQLite or
//! PostgreSQL. Each body is compiled once per backend by `with_connection!` (or `on_backend!` for
//! what acts on the pool itself), so the two cannot drift.

use super::error::StoreError;
use super::reachability::Reachability;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend the store uses.
macro_rules! on_backend {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::persistence::store::Backend::Sqlite($pool) => $body,
            $crate::persistence::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Runs `$body` with `$conn` bound to a connection taken from the pool of whichever backend the
/// store uses. Only the wait for it gives way to a known outage (see
/// [`Reachability::connection`]): once held, the body runs to its end, so a transaction is never
/// abandoned between its statements — except a group commit, which the writer gives up on past
/// the commit timeout (see [`ConnectionLimits::commit_timeout`]): its transaction is dropped and
/// rolls back, unless its commit had already reached the server, which is why its writes are
/// answered `CommitTimedOut` (whether they committed is unknown).
macro_rules! with_connection {
    ($store:expr, $conn:ident => $body:expr) => {
        match &$store.backend {
            $crate::persistence::store::Backend::Sqlite(pool) => {
                #[allow(unused_mut)]
                let mut $conn = $store.reachability().connection(pool.acquire()).await?;
                $body
            }
            $crate::persistence::store::Backend::Postgres(pool) => {
                #[allow(unused_mut)]
                let mut $conn = $store.reachability().connection(pool.acquire()).await?;
                $body
            }
        }
    };
}
pub(crate) use with_connection;

/// Runs one statement, binding `$bind`s in order, on a pooled connection as [`with_connection!`]
/// does, and answers how many rows it changed: the whole of most single writes.
macro_rules! execute {
    ($store:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::persistence::store::with_connection!($store, conn => {
            sqlx::query($sql)
                $(.bind($bind))*
                .execute(&mut *conn)
                .await?
                .rows_affected()
        })
    };
}
pub(crate) use execute;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The embedded default.
    Sqlite,
    /// Production.
    Postgres,
}

impl BackendKind {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }

    /// The backend a `DATABASE_URL` names, or `None` when it names neither.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(BackendKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(BackendKind::Postgres)
        } else {
            None
        }
    }
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Pool settings; the URL may hold a password, so `Debug` never prints it.
#[derive(Clone)]
pub struct StoreSettings {
    /// `sqlite://path` or `postgres://…`.
    pub url: String,
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a query waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

/// Bounds on every PostgreSQL connection, so neither a slow statement nor a peer that went away
/// holds a connection (and the commit waiting on it) for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The server cancels a statement running longer (`statement_timeout`); a group commit
    /// that gets no answer for this long plus a margin is given up on by the writer too, for
    /// when the server cannot even be told (a frozen network).
    pub statement_timeout: Duration,
    /// Idle seconds before the server's TCP keepalive probes a silent client, so a dead client's
    /// locks are released (`tcp_keepalives_idle`, with probes every third of it, three times).
    pub tcp_keepalive: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            statement_timeout: Duration::from_secs(30),
            tcp_keepalive: Duration::from_secs(30),
        }
    }
}

impl ConnectionLimits {
    /// How long the writer waits for a group commit before failing its writes: the server's
    /// statement timeout plus time for the cancellation to come back.
    pub fn commit_timeout(&self) -> Duration {
        self.statement_timeout + Duration::from_secs(2)
    }
}

/// The URL with any password replaced, safe for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The storage interface shared by every actor; cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    pub(crate) limits: ConnectionLimits,
    reachability: Reachability,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.kind().as_str())
    }
}

/// The pool's size and patience, the same on either backend.
fn pool_options<DB: sqlx::Database>(settings: &StoreSettings) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(settings.max_connections.max(1))
        .min_connections(settings.min_connections)
        .acquire_timeout(settings.acquire_timeout)
}

impl Store {
    /// Opens a pool for the URL's backend; a SQLite file and its directory are created if missing.
    pub async fn connect(settings: &StoreSettings) -> Result<Self, StoreError> {
        Self::connect_with_limits(settings, ConnectionLimits::default()).await
    }

    /// [`Store::connect`] with explicit bounds on PostgreSQL connections.
    pub async fn connect_with_limits(
        settings: &StoreSettings,
        limits: ConnectionLimits,
    ) -> Result<Self, StoreError> {
        let kind = BackendKind::from_url(&settings.url).ok_or(StoreError::UnsupportedUrl)?;
        let backend = match kind {
            BackendKind::Sqlite => {
                let options = SqliteConnectOptions::from_str(&settings.url)
                    .map_err(|_| StoreError::UnsupportedUrl)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                let file = options.get_filename();
                if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                    create_private_dir(parent)?;
                }
                let pool = pool_options(settings).connect_with(options).await?;
                Backend::Sqlite(pool)
            }
            BackendKind::Postgres => {
                let options = PgConnectOptions::from_str(&settings.url)
                    .map_err(|_| StoreError::UnsupportedUrl)?
                    .application_name("cbln")
                    .options(postgres_session_options(&limits));
                let pool = pool_options(settings).connect_with(options).await?;
                Backend::Postgres(pool)
            }
        };
        Ok(Store {
            backend,
            limits,
            reachability: Reachability::default(),
        })
    }

    /// Whether the database is known to be unreachable, shared by every clone of this store.
    pub fn reachability(&self) -> &Reachability {
        &self.reachability
    }

    /// The bounds its connections were opened with.
    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Which backend this store uses.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    pub(crate) fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite(_) => &SQLITE_MIGRATIONS,
            Backend::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Connections open and idle right now, for the pool gauges.
    pub fn pool_state(&self) -> (u32, u32) {
        on_backend!(self, pool => (pool.size(), pool.num_idle() as u32))
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        on_backend!(self, pool => pool.close().await)
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_connection!(self, conn => {
            sqlx::query("SELECT 1").execute(&mut *conn).await?;
        });
        Ok(())
    }
}

fn postgres_session_options(limits: &ConnectionLimits) -> [(&'static str, String); 4] {
    let keepalive_s = limits.tcp_keepalive.as_secs().max(1);
    [
        (
            "statement_timeout",
            format!("{}ms", limits.statement_timeout.as_millis().max(1)),
        ),
        ("tcp_keepalives_idle", keepalive_s.to_string()),
        (
            "tcp_keepalives_interval",
            (keepalive_s / 3).max(1).to_string(),
        ),
        ("tcp_keepalives_count", "3".to_string()),
    ]
}

/// The data directory holds the database and, in development, generated keys: owner-only.
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(StoreError::Io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/cbln"),
            "postgres://app:***@db:5432/cbln"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact_url("sqlite://./data/cbln.db"),
            "sqlite://./data/cbln.db"
        );
    }

    #[test]
    fn backend_from_url() {
        assert_eq!(
            BackendKind::from_url("sqlite://x.db"),
            Some(BackendKind::Sqlite)
        );
        assert_eq!(
            BackendKind::from_url("sqlite::memory:"),
            Some(BackendKind::Sqlite)
        );
        assert_eq!(
            BackendKind::from_url("postgresql://h/db"),
            Some(BackendKind::Postgres)
        );
        assert_eq!(BackendKind::from_url("mysql://h/db"), None);
    }
}
