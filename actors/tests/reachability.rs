//! The database marked unreachable while calls are under way, through the persistence actor on a
//! real PostgreSQL and a real SQLite file whose pool has one connection: a call holding it,
//! stopped mid-way by a lock, finishes and commits; a call waiting for it gives up at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix::Actor;
use cbln_actors::crypto::TokenHasher;
use cbln_actors::domain::Language;
use cbln_actors::error::PipelineError;
use cbln_actors::persistence::messages::{ExtendSession, LoadVersionedSession};
use cbln_actors::persistence::{
    NewSession, PersistenceActor, Store, StoreError, StoreSettings, Timestamp, WrappedKey,
};
use cbln_actors::supervision::{RestartPolicy, SystemHealth};
use cbln_actors::telemetry::Metrics;
use sqlx::Connection;
use std::time::{Duration, Instant};
use support::database::Database;
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
    let database = Database::postgres().await;
    let store = store_with_one_connection(&database.url).await;
    let id = new_session(&store).await;
    let mut locker = sqlx::PgConnection::connect(&database.url)
        .await
        .expect("connect");
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
    database.drop().await;
}

#[actix::test]
async fn sqlite() {
    let database = Database::sqlite();
    let store = store_with_one_connection(&database.url).await;
    let id = new_session(&store).await;
    // The store's write waits on this lock for its busy timeout (5 s), holding its connection:
    // the steps below release it well before.
    let mut locker = sqlx::SqliteConnection::connect(&database.url)
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
