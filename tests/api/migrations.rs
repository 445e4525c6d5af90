//! Migrations are reversible on both backends: up, down, up again, through the store and through
//! `cbln migrate`.

use crate::config_errors::{cbln, stderr_of, stdout_of};
use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;
use cbln_actors::persistence::{Store, StoreSettings, TABLES};
use sqlx::Connection;
use std::collections::BTreeSet;
use std::time::Duration;

async fn tables(database: &TestDatabase) -> BTreeSet<String> {
    let names: Vec<String> = if database.pg_name.is_some() {
        let mut c = sqlx::PgConnection::connect(&database.url)
            .await
            .expect("connect");
        sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&mut c)
        .await
        .expect("tables")
    } else {
        let mut c = sqlx::SqliteConnection::connect(&database.url)
            .await
            .expect("connect");
        sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut c)
        .await
        .expect("tables")
    };
    names.into_iter().collect()
}

fn schema_tables() -> BTreeSet<String> {
    TABLES.iter().map(|t| t.to_string()).collect()
}

async fn migrations_go_down_and_up_again(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let store = Store::connect(&StoreSettings {
        url: database.url.clone(),
        max_connections: 2,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .expect("store connects");

    let status = store.migration_status().await.expect("status");
    assert!(!status.is_empty(), "there are migrations");
    assert!(status.iter().all(|m| !m.applied), "fresh: {status:?}");
    assert!(!store.is_fully_migrated().await.unwrap());
    let before = tables(&database).await;
    assert!(
        before.is_disjoint(&schema_tables()),
        "a fresh database has no schema tables: {before:?}"
    );

    let applied = store.migrate_up().await.expect("up");
    assert_eq!(applied, status.len());
    let status = store.migration_status().await.unwrap();
    assert!(status.iter().all(|m| m.applied), "{status:?}");
    assert!(store.is_fully_migrated().await.unwrap());
    let after_up = tables(&database).await;
    for table in schema_tables() {
        assert!(
            after_up.contains(&table),
            "{table} missing after up: {after_up:?}"
        );
    }
    assert!(after_up.contains("_sqlx_migrations"));
    assert_eq!(store.schema_version().await.unwrap(), Some(6));
    assert_eq!(store.migrate_up().await.unwrap(), 0, "up is idempotent");

    // One step down takes back the handoff tables (and the counsellor's message role) only,
    // the next the staff tables only, the next the idempotency keys only.
    assert_eq!(store.migrate_down(1).await.expect("down handoff"), 1);
    assert_eq!(store.schema_version().await.unwrap(), Some(5));
    let mut without_handoff = after_up.clone();
    for table in [
        "handoffs",
        "handoff_keys",
        "handoff_entries",
        "handoff_access_log",
    ] {
        assert!(without_handoff.remove(table), "{table} was there");
    }
    assert_eq!(tables(&database).await, without_handoff);
    assert_eq!(store.migrate_down(1).await.expect("down one"), 1);
    assert_eq!(store.schema_version().await.unwrap(), Some(4));
    let mut without_staff = without_handoff.clone();
    for table in ["staff", "staff_tokens", "opening_hours"] {
        assert!(without_staff.remove(table), "{table} was there");
    }
    assert_eq!(tables(&database).await, without_staff);
    assert_eq!(store.migrate_down(1).await.expect("down one more"), 1);
    assert_eq!(store.schema_version().await.unwrap(), Some(3));
    let mut without_idempotency = without_staff.clone();
    without_idempotency.remove("idempotency_keys");
    assert_eq!(tables(&database).await, without_idempotency);

    // The next two take back the serialisation columns, then the conversation-risk column, and
    // no table.
    assert_eq!(store.migrate_down(2).await.expect("down two"), 2);
    assert_eq!(store.schema_version().await.unwrap(), Some(1));
    let status = store.migration_status().await.unwrap();
    assert_eq!(
        status.iter().map(|m| m.applied).collect::<Vec<_>>(),
        vec![true, false, false, false, false, false],
        "{status:?}"
    );
    assert_eq!(
        tables(&database).await,
        without_idempotency,
        "no other table is lost"
    );

    let reverted = store.migrate_down(1).await.expect("down");
    assert_eq!(reverted, 1);
    let status = store.migration_status().await.unwrap();
    assert!(
        status.iter().all(|m| !m.applied),
        "after down (six migrations exist): {status:?}"
    );
    assert!(!store.is_fully_migrated().await.unwrap());
    let after_down = tables(&database).await;
    assert_eq!(
        after_down,
        BTreeSet::from(["_sqlx_migrations".to_string()]),
        "only sqlx's bookkeeping stays after down"
    );
    assert_eq!(store.schema_version().await.unwrap(), None);
    assert_eq!(
        store.migrate_down(1).await.unwrap(),
        0,
        "nothing left to revert"
    );

    let applied = store.migrate_up().await.expect("up again");
    assert_eq!(applied, status.len());
    let again = tables(&database).await;
    assert_eq!(again, after_up, "the same tables come back");
    assert_eq!(store.schema_version().await.unwrap(), Some(6));
    assert!(
        store
            .migration_status()
            .await
            .unwrap()
            .iter()
            .all(|m| m.applied)
    );
    // The schema works after the round trip: the rule table takes a row.
    let inserted = store
        .insert_missing_rules(&cbln_actors::crisis_detector::records_from_specs(
            &cbln_actors::crisis::default_rules(),
        ))
        .await
        .expect("rules insert after the round trip");
    assert!(inserted > 0);
    store.close().await;
}

on_both_backends!(migrations_go_down_and_up_again);

#[test]
fn the_cli_migrates_down_and_up() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let env = [("DATABASE_URL", url.as_str())];
    let run = |args: &[&str]| {
        let output = cbln(dir.path(), args, &env);
        assert!(
            output.status.success(),
            "cbln {args:?} failed\nstdout: {}\nstderr: {}",
            stdout_of(&output),
            stderr_of(&output)
        );
        stdout_of(&output)
    };

    let status = run(&["migrate", "status"]);
    assert!(
        status.contains("pending") && !status.contains("applied"),
        "{status}"
    );
    assert!(!status.contains("schema_version"), "{status}");

    let up = run(&["migrate", "up"]);
    assert!(up.contains("applied 6 migration"), "{up}");
    let status = run(&["migrate", "status"]);
    assert!(
        status.contains("applied") && !status.contains("pending"),
        "{status}"
    );
    assert!(status.contains("schema_version: 6"), "{status}");

    let again = run(&["migrate", "up"]);
    assert!(again.contains("applied 0 migration"), "{again}");

    let down = run(&["migrate", "down", "--steps", "1"]);
    assert!(down.contains("reverted 1 migration"), "{down}");
    let status = run(&["migrate", "status"]);
    assert!(
        status.contains("pending") && status.contains("applied"),
        "{status}"
    );
    assert!(status.contains("schema_version: 5"), "{status}");

    let down = run(&["migrate", "down", "--steps", "9"]);
    assert!(down.contains("reverted 5 migration"), "{down}");
    let status = run(&["migrate", "status"]);
    assert!(
        status.contains("pending") && !status.contains("applied"),
        "{status}"
    );
    let down = run(&["migrate", "down"]);
    assert!(down.contains("reverted 0 migration"), "{down}");

    let up = run(&["migrate", "up"]);
    assert!(up.contains("applied 6 migration"), "{up}");
    let status = run(&["migrate", "status"]);
    assert!(status.contains("schema_version: 6"), "{status}");

    // A bad --steps is a usage error.
    let output = cbln(dir.path(), &["migrate", "down", "--steps", "many"], &env);
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
}
