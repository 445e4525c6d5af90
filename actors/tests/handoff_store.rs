//! The store's handoff writes that move no session version: an entry added to a handoff, a
//! counsellor's message, and a message handed to a counsellor. They still take the session row
//! first, as every other write of a session's handoffs or messages does, so they neither deadlock
//! with a session's deletion nor miss a change in flight. Real PostgreSQL (required) and a real
//! SQLite file; the lock-order tests hold a row in a transaction of their own, so PostgreSQL only
//! (SQLite has one write lock for the whole file).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use cbln_actors::crisis::RiskLevel;
use cbln_actors::domain::{Language, Role};
use cbln_actors::handoff::{
    EntryRole, HandoffRecord, HandoffStatus, NewHandoff, SealedEntry, Share,
};
use cbln_actors::persistence::{Store, StoreError, StoredMessage, Timestamp, WrappedKey, WriteOp};
use sqlx::Connection;
use std::time::Duration;
use support::database::Database;
use support::{insert_session, on_both_databases, token_hash};
use uuid::Uuid;

on_both_databases!(
    tokio::test;
    an_entry_is_refused_once_the_key_is_gone,
    a_counsellor_message_is_not_the_persons_activity,
    a_message_is_handed_over_once_and_only_at_the_current_version,
);

/// How long a write is given to show that it waits for a row lock rather than finishing.
const BLOCKED_FOR: Duration = Duration::from_millis(400);

async fn store(database: &Database) -> Store {
    support::migrated_store(&database.url).await
}

/// A PostgreSQL database of its own and a store on it, for the tests that hold a row lock.
async fn postgres_store() -> (Database, Store) {
    let database = Database::postgres().await;
    let store = store(&database).await;
    (database, store)
}

/// A queued handoff of the session, with its key and no entries yet.
async fn handoff(store: &Store, session_id: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    store
        .insert_handoff(&NewHandoff {
            record: HandoffRecord {
                id,
                session_id,
                status: HandoffStatus::Queued,
                share: Share::Selected,
                risk: RiskLevel::None,
                language: Language::Vi,
                created_at: Timestamp::now(),
                claimed_by: None,
                claimed_at: None,
                closed_at: None,
                outcome: None,
            },
            key: WrappedKey {
                key_id: 1,
                wrapped_key: vec![2; 60],
            },
            entries: Vec::new(),
        })
        .await
        .expect("insert handoff");
    id
}

fn entry(content: u8) -> SealedEntry {
    SealedEntry {
        id: Uuid::new_v4(),
        role: EntryRole::Counsellor,
        message_id: None,
        content: vec![content; 32],
        created_at: Timestamp::now(),
    }
}

fn message(session_id: Uuid, role: Role, created_at: Timestamp) -> StoredMessage {
    StoredMessage {
        id: Uuid::new_v4(),
        session_id,
        seq: 0,
        role,
        content: vec![3; 40],
        model_used: None,
        processing_time_ms: None,
        is_crisis_detected: false,
        created_at,
    }
}

async fn version(store: &Store, session_id: Uuid) -> i64 {
    store
        .session_with_version(session_id)
        .await
        .expect("load session")
        .expect("session exists")
        .1
}

/// A user message committed awaiting its reply, as a streamed post leaves it.
async fn awaiting_message(store: &Store, session_id: Uuid) -> StoredMessage {
    let mut awaiting = message(session_id, Role::User, Timestamp::now());
    let (_, outcomes) = store
        .apply_writes(&[WriteOp::UserMessage {
            message: awaiting.clone(),
            risk_change: None,
            expected_version: None,
        }])
        .await
        .expect("commit");
    awaiting.seq = outcomes.into_iter().next().unwrap().expect("committed").seq;
    awaiting
}

async fn an_entry_is_refused_once_the_key_is_gone(database: Database) {
    let store = store(&database).await;
    let session_id = insert_session(&store, "entry-token", Timestamp::now()).await;
    let handoff_id = handoff(&store, session_id).await;

    assert!(
        store
            .append_handoff_entry(handoff_id, &entry(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .append_handoff_entry(handoff_id, &entry(2))
            .await
            .unwrap()
    );
    // A quick exit destroys the handoff's key: an entry after it could never be read.
    let hash = token_hash("entry-token");
    store
        .shred_session(hash.as_bytes(), Timestamp::now())
        .await
        .expect("quick exit");
    assert!(
        !store
            .append_handoff_entry(handoff_id, &entry(3))
            .await
            .unwrap(),
        "an entry after the key went must be refused, so the counsellor hears the handoff ended"
    );
    assert!(store.handoff_entries(handoff_id).await.unwrap().is_empty());
    // And once the janitor removed the session the exit left expired.
    assert_eq!(
        store
            .delete_expired_sessions(Timestamp::now(), 10)
            .await
            .unwrap(),
        vec![session_id]
    );
    assert!(
        !store
            .append_handoff_entry(handoff_id, &entry(4))
            .await
            .unwrap()
    );
    database.drop().await;
}

async fn a_counsellor_message_is_not_the_persons_activity(database: Database) {
    let store = store(&database).await;
    let quiet_since = Timestamp::now().minus(Duration::from_secs(600));
    let session_id = insert_session(&store, "activity-token", quiet_since).await;
    let before = version(&store, session_id).await;

    let seq = store
        .insert_counsellor_message(&message(session_id, Role::Counsellor, Timestamp::now()))
        .await
        .unwrap();

    assert_eq!(
        seq,
        Some(1),
        "the message takes the row's next sequence number"
    );
    let record = store.session_by_id(session_id).await.unwrap().unwrap();
    assert_eq!(
        record.last_activity.unix_millis(),
        quiet_since.unix_millis(),
        "a counsellor's message must not restart the person's quiet period"
    );
    assert_eq!(version(&store, session_id).await, before);
    database.drop().await;
}

async fn a_message_is_handed_over_once_and_only_at_the_current_version(database: Database) {
    let store = store(&database).await;
    let session_id = insert_session(&store, "hand-over-token", Timestamp::now()).await;
    let awaiting = awaiting_message(&store, session_id).await;
    let current = version(&store, session_id).await;

    assert!(
        !store
            .hand_over_awaiting(session_id, awaiting.id, current - 1)
            .await
            .unwrap(),
        "a copy that missed a change must not hand the message over"
    );
    assert!(
        store
            .hand_over_awaiting(session_id, awaiting.id, current)
            .await
            .unwrap()
    );
    assert!(
        !store
            .hand_over_awaiting(session_id, awaiting.id, current)
            .await
            .unwrap(),
        "only one hand-over wins"
    );
    assert_eq!(version(&store, session_id).await, current);
    assert!(
        store
            .awaiting_messages(session_id, Timestamp::now())
            .await
            .unwrap()
            .is_empty()
    );
    database.drop().await;
}

/// A transaction of its own that ran `sql` (binding `id`) and holds the rows it wrote until it
/// commits.
async fn hold(url: &str, sql: &'static str, id: Uuid) -> sqlx::PgConnection {
    let mut holder = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query(sql)
        .bind(id)
        .execute(&mut holder)
        .await
        .unwrap();
    holder
}

/// A transaction of its own holding the session row, as a chat writer's claim or a handoff
/// change does while it runs.
async fn hold_session_row(url: &str, session_id: Uuid) -> sqlx::PgConnection {
    let sql = "UPDATE sessions SET version = version + 1 WHERE id = $1";
    hold(url, sql, session_id).await
}

/// Gives `write` [`BLOCKED_FOR`] and asserts that it is still waiting for a row lock (`why`).
async fn assert_waits<T>(write: &tokio::task::JoinHandle<T>, why: &str) {
    tokio::time::sleep(BLOCKED_FOR).await;
    assert!(!write.is_finished(), "{why}");
}

/// Asserts that `write` waits for the row `holder` locked (`why`), then commits the holder's
/// transaction and gives the write's answer.
async fn answer_once_committed<T>(
    write: tokio::task::JoinHandle<Result<T, StoreError>>,
    mut holder: sqlx::PgConnection,
    why: &str,
) -> T {
    assert_waits(&write, why).await;
    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    answer_of(write).await
}

/// The answer of `write`, once the lock it waited for was released.
async fn answer_of<T>(write: tokio::task::JoinHandle<Result<T, StoreError>>) -> T {
    tokio::time::timeout(Duration::from_secs(10), write)
        .await
        .expect("the waiting write ends")
        .unwrap()
        .expect("the write succeeds: no deadlock")
}

/// The append takes the session row before the key: the deletion of a session holds the session
/// row, then the handoff row, then waits for the key; an append holding the key while its entry's
/// foreign key waited for the handoff row deadlocked with it.
#[tokio::test]
async fn an_entry_waits_for_the_session_row_and_does_not_deadlock_with_its_deletion() {
    let (database, store) = postgres_store().await;
    let session_id = insert_session(&store, "deadlock-token", Timestamp::now()).await;
    let handoff_id = handoff(&store, session_id).await;

    let mut holder = hold_session_row(&database.url, session_id).await;
    let append = tokio::spawn({
        let store = store.clone();
        async move { store.append_handoff_entry(handoff_id, &entry(1)).await }
    });
    assert_waits(
        &append,
        "the append must wait for the session row, as every handoff write does",
    )
    .await;
    // The holder now deletes the session (cascading to the handoff and its key) and commits.
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(session_id)
        .execute(&mut holder)
        .await
        .expect("the deletion does not wait for the append");
    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();

    let appended = answer_of(append).await;
    assert!(!appended, "the handoff went with its session");
    database.drop().await;
}

/// The hand-over reads the version under the session row's lock: a change in flight (a close of
/// the handoff) is waited for, and the hand-over refused once it committed, where a check in the
/// same statement read the version from before it and handed the message over.
#[tokio::test]
async fn a_hand_over_waits_for_a_change_in_flight_and_sees_it() {
    let (database, store) = postgres_store().await;
    let session_id = insert_session(&store, "in-flight-token", Timestamp::now()).await;
    let awaiting = awaiting_message(&store, session_id).await;
    let seen = version(&store, session_id).await;

    let holder = hold_session_row(&database.url, session_id).await;
    let hand_over = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .hand_over_awaiting(session_id, awaiting.id, seen)
                .await
        }
    });
    let handed = answer_once_committed(
        hand_over,
        holder,
        "the hand-over must wait for the change holding the session row",
    )
    .await;
    assert!(!handed, "the session changed: the copy must reload first");
    assert_eq!(
        store
            .awaiting_messages(session_id, Timestamp::now())
            .await
            .unwrap()
            .len(),
        1,
        "the message still awaits its answer"
    );
    database.drop().await;
}

/// The retention sweep counts only the handoffs it shredded itself: one whose key another
/// transaction (a quick exit, the session's deletion) destroys between the sweep's selection and
/// its own shredding is not counted, where the count of the selection said one.
#[tokio::test]
async fn the_retention_sweep_counts_only_what_it_shredded() {
    let (database, store) = postgres_store().await;
    let mut ended = Vec::new();
    for token in ["retention-raced", "retention-kept"] {
        let session_id = insert_session(&store, token, Timestamp::now()).await;
        ended.push(handoff(&store, session_id).await);
    }
    let (handoff_id, now) = (ended[0], Timestamp::now());
    let mut connection = sqlx::PgConnection::connect(&database.url)
        .await
        .expect("connect");
    // Ended a minute ago with no retention: due for the sweep.
    for id in &ended {
        sqlx::query(
            "UPDATE handoffs SET status = 'cancelled', outcome = 'left', closed_at = $2, \
             shred_after = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(now.minus(Duration::from_secs(60)))
        .execute(&mut connection)
        .await
        .unwrap();
    }

    // Another shredding in flight: the key is gone once it commits, not before.
    let sql = "DELETE FROM handoff_keys WHERE handoff_id = $1";
    let holder = hold(&database.url, sql, handoff_id).await;
    let sweep = tokio::spawn({
        let store = store.clone();
        async move { store.shred_ended_handoffs(now, 10).await }
    });
    let why = "the sweep selected the handoff and waits for the key row";
    let shredded = answer_once_committed(sweep, holder, why).await;
    assert_eq!(shredded, 1, "the other transaction shredded the first");
    assert_eq!(store.shred_ended_handoffs(now, 10).await.unwrap(), 0);
    database.drop().await;
}
