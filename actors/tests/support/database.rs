//! A fresh database for one test: a PostgreSQL database of its own or a SQLite file.

use cbln_actors::persistence::redact_url;
use sqlx::Connection;
use uuid::Uuid;

/// A fresh database: a PostgreSQL database of its own (the server must run) or a SQLite file.
pub struct Database {
    /// What a store connects to.
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

impl Database {
    /// A PostgreSQL database of its own; the server must run.
    pub async fn postgres() -> Self {
        let admin = admin_url();
        let name = format!("cbln_actors_{}", Uuid::new_v4().simple());
        let mut connection = sqlx::PgConnection::connect(&admin)
            .await
            // The URL may carry a password (TEST_DATABASE_URL): never in a test's output.
            .unwrap_or_else(|e| panic!("PostgreSQL is required at {}: {e}", redact_url(&admin)));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("URL ends with a database");
        Database {
            url: format!("{base}/{name}"),
            pg_name: Some(name),
            _dir: None,
        }
    }

    /// A SQLite file in a directory of its own.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Database {
            url: format!("sqlite://{}/cbln.db", dir.path().display()),
            pg_name: None,
            _dir: Some(dir),
        }
    }

    /// Whether this is a PostgreSQL database (else a SQLite file).
    pub fn is_postgres(&self) -> bool {
        self.pg_name.is_some()
    }

    /// Drops a PostgreSQL database; a SQLite directory goes with the value.
    pub async fn drop(self) {
        if let Some(name) = self.pg_name {
            let mut connection = sqlx::PgConnection::connect(&admin_url())
                .await
                .expect("connect to drop");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut connection)
            .await
            .expect("drop database");
        }
    }
}
