//! The database marked unreachable while calls are under way, through the persistence actor on a
//! real PostgreSQL and a real SQLite file whose pool has one connection: a call holding it,
//! stopped mid-way by a lock, finishes and commits; a call waiting for it gives up at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix::Actor;
use cbln_actors::error::PipelineError;
use cbln_actors::persistence::messages::{ExtendSession, LoadVersionedSession};
use cbln_actors::persistence::{PersistenceActor, Store, StoreError, StoreSettings, Timestamp};
use cbln_actors::supervision::{RestartPolicy, SystemHealth};
use cbln_actors::telemetry::Metrics;
use sqlx::Connection;
use std::time::{Duration, Instant};
use support::database::Database;
use support::{insert_session, on_both_databases};
use uuid::Uuid;

/// Far beyond how long any step here may take, so a call that gave up did not time out.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

/// A lock, taken on a connection of the test's own, that stops the store's writes.
enum Lock {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Lock {
    /// Takes the lock on `database`.
    async fn take(database: &Database) -> Self {
        if database.is_postgres() {
            let mut locker = sqlx::PgConnection::connect(&database.url)
                .await
                .expect("connect");
            for sql in ["BEGIN", "LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE"] {
                sqlx::query(sql).execute(&mut locker).await.expect(sql);
            }
            Lock::Postgres(locker)
        } else {
            // The store's write waits on this lock for its busy timeout (5 s), holding its
            // connection: the steps that follow release it well before.
            let mut locker = sqlx::SqliteConnection::connect(&database.url)
                .await
                .expect("connect");
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut locker)
                .await
                .expect("lock");
            Lock::Sqlite(locker)
        }
    }

    async fn release(self) {
        let released = match self {
            Lock::Postgres(mut c) => sqlx::query("COMMIT").execute(&mut c).await.map(drop),
            Lock::Sqlite(mut c) => sqlx::query("COMMIT").execute(&mut c).await.map(drop),
        };
        released.expect("release the lock");
    }
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

on_both_databases!(actix::test; holding_finishes_waiting_gives_up);

async fn holding_finishes_waiting_gives_up(database: Database) {
    let store = store_with_one_connection(&database.url).await;
    let token = Uuid::new_v4().to_string();
    let id = insert_session(&store, &token, Timestamp::now()).await;
    let lock = Lock::take(&database).await;
    held_and_waiting_calls(&store, id, lock).await;
    store.close().await;
    database.drop().await;
}

async fn held_and_waiting_calls(store: &Store, id: Uuid, lock: Lock) {
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
