//! Whether the database is known to be unreachable, shared by every clone of a store: a failed
//! probe (the front door's breaker) or a pool that could not get a connection sets it, and the
//! store's calls still waiting for a connection stop waiting when it is set.
//!
//! Without this, a call that began just before an outage waits out the pool's whole acquire
//! timeout: when the server refuses new connections, the pool keeps retrying the connect until
//! that deadline, however soon the probe knows the database is gone. A call that already holds a
//! connection is never cut short: it may be mid-way through a transaction, and the flag may have
//! been set on evidence that has nothing to do with its connection.

use super::error::StoreError;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

/// The shared flag; cheap to clone.
#[derive(Debug, Clone)]
pub struct Reachability {
    unreachable: Arc<watch::Sender<bool>>,
}

impl Default for Reachability {
    fn default() -> Self {
        Reachability {
            unreachable: Arc::new(watch::channel(false).0),
        }
    }
}

impl Reachability {
    /// Whether the database is known to be unreachable.
    pub fn is_unreachable(&self) -> bool {
        *self.unreachable.borrow()
    }

    /// Marks it unreachable; true when it was not already.
    pub fn mark_unreachable(&self) -> bool {
        !self.unreachable.send_replace(true)
    }

    /// Marks it reachable again; true when it was not already.
    pub fn mark_reachable(&self) -> bool {
        self.unreachable.send_replace(false)
    }

    /// Waits for `acquire` (a pool's acquire) unless the database is already known to be
    /// unreachable, or becomes known to be while waiting: then the wait ends and the call fails
    /// as unavailable. A failed acquire that shows the database unreachable sets the flag, so
    /// the calls waiting behind it give up too.
    pub async fn connection<C>(
        &self,
        acquire: impl Future<Output = Result<C, sqlx::Error>>,
    ) -> Result<C, StoreError> {
        if self.is_unreachable() {
            return Err(StoreError::Unreachable);
        }
        let mut unreachable = self.unreachable.subscribe();
        let acquired = tokio::select! {
            biased;
            acquired = acquire => acquired,
            _ = unreachable.wait_for(|unreachable| *unreachable) => return Err(StoreError::Unreachable),
        };
        acquired.map_err(|error| {
            if shows_unreachable(&error) && self.mark_unreachable() {
                tracing::warn!(error = %error, "database unreachable: no connection could be had");
            }
            StoreError::from(error)
        })
    }
}

/// Whether a failed acquire is evidence that the database cannot be reached: no connection
/// within the acquire timeout, a connect refused or broken, a server shutting down or not
/// accepting connections. A closed pool (our own shutdown) or a refused login is not.
fn shows_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pending_connection() -> impl Future<Output = Result<(), sqlx::Error>> {
        std::future::pending()
    }

    #[tokio::test]
    async fn a_call_waiting_for_a_connection_gives_up_when_the_database_is_found_unreachable() {
        let reachability = Reachability::default();
        let marker = reachability.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            marker.mark_unreachable();
        });
        let outcome = reachability.connection(pending_connection()).await;
        assert!(
            matches!(outcome, Err(StoreError::Unreachable)),
            "{outcome:?}"
        );
        assert!(outcome.is_err_and(|error| error.is_unavailable()));
    }

    #[tokio::test]
    async fn a_call_starting_while_the_database_is_unreachable_fails_before_taking_a_connection() {
        let reachability = Reachability::default();
        assert!(reachability.mark_unreachable());
        assert!(!reachability.mark_unreachable());
        let mut taken = false;
        let refused = reachability
            .connection(async {
                taken = true;
                Ok::<_, sqlx::Error>(())
            })
            .await;
        assert!(matches!(refused, Err(StoreError::Unreachable)));
        assert!(
            !taken,
            "no connection is taken once it is known unreachable"
        );
        assert!(reachability.mark_reachable());
        assert!(!reachability.is_unreachable());
        let connection = reachability
            .connection(async { Ok::<_, sqlx::Error>(7) })
            .await;
        assert_eq!(connection.ok(), Some(7));
    }

    #[tokio::test]
    async fn only_a_failure_to_reach_the_database_marks_it_unreachable() {
        let reachability = Reachability::default();
        for not_evidence in [
            sqlx::Error::PoolClosed,
            sqlx::Error::RowNotFound,
            sqlx::Error::Protocol("unexpected message".into()),
        ] {
            let failed = reachability
                .connection(async { Err::<(), _>(not_evidence) })
                .await;
            assert!(failed.is_err());
            assert!(!reachability.is_unreachable(), "{failed:?}");
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for evidence in [sqlx::Error::PoolTimedOut, sqlx::Error::Io(refused)] {
            let failed = reachability
                .connection(async { Err::<(), _>(evidence) })
                .await;
            assert!(failed.is_err_and(|error| error.is_unavailable()));
            assert!(
                reachability.mark_reachable(),
                "marked by the failed acquire"
            );
        }
    }

    /// Through the persistence actor on a real database whose pool has one connection: a call
    /// holding it, stopped mid-way by a lock, finishes and commits although the database is
    /// meanwhile marked unreachable; a call waiting for that connection gives up at once.
    mod on_a_real_database {
        use crate::crypto::TokenHasher;
        use crate::domain::Language;
        use crate::error::PipelineError;
        use crate::persistence::messages::{ExtendSession, LoadVersionedSession};
        use crate::persistence::{
            NewSession, PersistenceActor, Store, StoreError, StoreSettings, Timestamp, WrappedKey,
        };
        use crate::supervision::{RestartPolicy, SystemHealth};
        use crate::telemetry::Metrics;
        use actix::Actor;
        use sqlx::Connection;
        use std::time::{Duration, Instant};
        use uuid::Uuid;

        /// Far beyond how long any step here may take, so a call that gave up did not time out.
        const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

        /// A lock, taken on a connection of the test's own, that stops the store's writes.
        enum Lock {
            Postgres(sqlx::PgConnection),
            Sqlite(sqlx::SqliteConnection),
        }

        impl Lock {
            async fn release(self) {
                let released = match self {
                    Lock::Postgres(mut c) => sqlx::query("COMMIT").execute(&mut c).await.map(drop),
                    Lock::Sqlite(mut c) => sqlx::query("COMMIT").execute(&mut c).await.map(drop),
                };
                released.expect("release the lock");
            }
        }

        fn admin_url() -> String {
            std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
        }

        async fn store_with_one_connection(url: &str) -> Store {
            let settings = StoreSettings {
                url: url.to_string(),
                max_connections: 1,
                min_connections: 0,
                acquire_timeout: ACQUIRE_TIMEOUT,
            };
            let store = Store::connect(&settings).await.expect("connect");
            store.migrate_up().await.expect("migrate");
            store
        }

        async fn new_session(store: &Store) -> Uuid {
            let hasher = TokenHasher::new(&[7; 32]).expect("hasher");
            let now = Timestamp::now();
            let session = NewSession {
                id: Uuid::new_v4(),
                token_hash: hasher.hash(&Uuid::new_v4().to_string()),
                language: Language::Vi,
                created_at: now,
                expires_at: now.plus(Duration::from_secs(3600)),
                wrapped_key: WrappedKey {
                    key_id: 1,
                    wrapped_key: vec![1; 48],
                },
            };
            store
                .insert_session(&session)
                .await
                .expect("insert session");
            session.id
        }

        #[actix::test]
        async fn postgres() {
            let admin = admin_url();
            let name = format!("cbln_reach_{}", Uuid::new_v4().simple());
            let mut connection = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL is required at {admin}: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut connection)
                .await
                .expect("create database");
            let (base, _) = admin.rsplit_once('/').expect("URL ends with a database");
            let url = format!("{base}/{name}");
            let store = store_with_one_connection(&url).await;
            let id = new_session(&store).await;
            let mut locker = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query("BEGIN")
                .execute(&mut locker)
                .await
                .expect("begin");
            sqlx::query("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
                .execute(&mut locker)
                .await
                .expect("lock");
            holding_finishes_waiting_gives_up(&store, id, Lock::Postgres(locker)).await;
            store.close().await;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut connection)
            .await
            .expect("drop database");
        }

        #[actix::test]
        async fn sqlite() {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/cbln.db", dir.path().display());
            let store = store_with_one_connection(&url).await;
            let id = new_session(&store).await;
            // The store's write waits on this lock for its busy timeout (5 s), holding its
            // connection: the steps below release it well before.
            let mut locker = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("connect");
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut locker)
                .await
                .expect("lock");
            holding_finishes_waiting_gives_up(&store, id, Lock::Sqlite(locker)).await;
            store.close().await;
        }

        async fn holding_finishes_waiting_gives_up(store: &Store, id: Uuid, lock: Lock) {
            let metrics = Metrics::disabled();
            let health = SystemHealth::new(metrics.clone(), RestartPolicy::default());
            let actor = PersistenceActor::new(store.clone(), 8, 1, metrics, health).start();
            let expires_at = Timestamp::now().plus(Duration::from_secs(7200));
            let extend = ExtendSession {
                id,
                now: Timestamp::now(),
                expires_at,
            };
            let holding = actix::spawn(actor.send(extend));
            let started = Instant::now();
            while store.pool_state() != (1, 0) {
                assert!(
                    started.elapsed() < Duration::from_secs(3),
                    "the call never took the connection"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let waiting = actix::spawn(actor.send(LoadVersionedSession { id }));
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(!waiting.is_finished(), "the only connection is held");

            let marked = Instant::now();
            assert!(store.reachability().mark_unreachable());
            let gave_up = waiting.await.expect("task").expect("mailbox");
            assert!(
                matches!(gave_up, Err(PipelineError::Store(StoreError::Unreachable))),
                "{gave_up:?}"
            );
            assert!(
                marked.elapsed() < ACQUIRE_TIMEOUT / 4,
                "the waiting call gave up at once, not at the acquire timeout"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(
                !holding.is_finished(),
                "the held call is still stopped by the lock"
            );

            lock.release().await;
            let finished = holding.await.expect("task").expect("mailbox");
            assert!(matches!(finished, Ok(true)), "{finished:?}");
            store.reachability().mark_reachable();
            let (session, _) = store
                .session_with_version(id)
                .await
                .expect("load")
                .expect("the session is there");
            assert_eq!(session.expires_at, expires_at, "the held call committed");
        }
    }
}
