//! The store's deletion of a session racing a quick exit: whichever ends the session second finds
//! it gone. Real PostgreSQL (required) and a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use cbln_actors::persistence::Timestamp;
use support::database::Database;
use support::{insert_session, on_both_databases, token_hash};

on_both_databases!(
    tokio::test;
    a_deletion_after_a_quick_exit_finds_the_session_gone,
);

/// The deletion found the session by its token before the exit revoked it (the interleaving of a
/// `DELETE /sessions/{token}` racing `POST /sessions/exit`): the exit ended the session first, so
/// the deletion answers as for a session gone, and the shredded row is left to the janitor.
async fn a_deletion_after_a_quick_exit_finds_the_session_gone(database: Database) {
    let store = support::migrated_store(&database.url).await;
    let hash = token_hash("exit-then-delete");
    let kept_hash = token_hash("deleted-alone");
    let session_id = insert_session(&store, "exit-then-delete", Timestamp::now()).await;
    let kept_id = insert_session(&store, "deleted-alone", Timestamp::now()).await;
    let found = store
        .session_by_token_hash(hash.as_bytes())
        .await
        .unwrap()
        .expect("the deletion finds the session");
    assert_eq!(found.id, session_id);

    let exited = store
        .shred_session(hash.as_bytes(), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(exited, Some(session_id));

    assert!(
        !store
            .delete_session(session_id, hash.as_bytes())
            .await
            .unwrap(),
        "the exit ended the session first: the deletion must not succeed too"
    );
    assert!(
        store.session_by_id(session_id).await.unwrap().is_some(),
        "the shredded row stays for the janitor"
    );
    // A deletion alone still deletes.
    assert!(
        store
            .delete_session(kept_id, kept_hash.as_bytes())
            .await
            .unwrap()
    );
    assert!(store.session_by_id(kept_id).await.unwrap().is_none());
    database.drop().await;
}
