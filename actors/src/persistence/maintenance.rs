//! Housekeeping queries: expiry, health snapshots, storage reports, migrations and reset.

use super::StoreError;
use super::records::HealthSnapshot;
use super::store::{BackendKind, Store, execute, on_backend, with_connection};
use super::time::Timestamp;
use sqlx::Connection;
use uuid::Uuid;

/// Every table of the schema, children first (the order `reset` deletes in).
pub const TABLES: [&str; 17] = [
    "handoff_access_log",
    "handoff_entries",
    "handoff_keys",
    "handoffs",
    "opening_hours",
    "staff_tokens",
    "staff",
    "idempotency_keys",
    "training_data",
    "feedback",
    "conversation_context",
    "messages",
    "session_keys",
    "sessions",
    "blocked_keywords",
    "system_health_metrics",
    "schema_version",
];

/// One migration as `cbln migrate status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// Migration version.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// Whether it is applied to this database.
    pub applied: bool,
}

/// What `cbln check-storage` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Row count per table.
    pub table_rows: Vec<(&'static str, i64)>,
    /// Database size in bytes.
    pub database_bytes: i64,
    /// Creation time of the oldest session.
    pub oldest_session: Option<Timestamp>,
    /// Sessions past expiry that the janitor has not removed yet.
    pub expired_pending: i64,
}

impl Store {
    /// Applies every pending migration; returns how many ran.
    pub async fn migrate_up(&self) -> Result<usize, StoreError> {
        let before = self.applied_versions().await.unwrap_or_default().len();
        on_backend!(self, pool => self.migrator().run(pool).await?);
        let after = self.applied_versions().await?.len();
        Ok(after.saturating_sub(before))
    }

    /// Reverts the newest `steps` applied migrations; returns how many were reverted.
    pub async fn migrate_down(&self, steps: usize) -> Result<usize, StoreError> {
        let mut applied = self.applied_versions().await?;
        applied.sort_unstable();
        let steps = steps.min(applied.len());
        if steps == 0 {
            return Ok(0);
        }
        // `undo` reverts everything newer than the target version.
        let target = if steps == applied.len() {
            0
        } else {
            applied[applied.len() - steps - 1]
        };
        on_backend!(self, pool => self.migrator().undo(pool, target).await?);
        Ok(steps)
    }

    /// Every known migration and whether it is applied.
    pub async fn migration_status(&self) -> Result<Vec<MigrationState>, StoreError> {
        let applied = self.applied_versions().await?;
        Ok(self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| MigrationState {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect())
    }

    /// Whether every known migration is applied (readiness).
    pub async fn is_fully_migrated(&self) -> Result<bool, StoreError> {
        Ok(self.migration_status().await?.iter().all(|m| m.applied))
    }

    async fn applied_versions(&self) -> Result<Vec<i64>, StoreError> {
        let exists: i64 = with_connection!(self, conn => {
            match self.kind() {
                BackendKind::Sqlite => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                ),
                BackendKind::Postgres => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'",
                ),
            }
            .fetch_one(&mut *conn)
            .await?
        });
        if exists == 0 {
            return Ok(Vec::new());
        }
        let versions = with_connection!(self, conn => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version")
                .fetch_all(&mut *conn)
                .await?
        });
        Ok(versions)
    }

    /// The application's schema version recorded by the migrations, if any.
    pub async fn schema_version(&self) -> Result<Option<i32>, StoreError> {
        let version = with_connection!(self, conn => {
            sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
                .fetch_one(&mut *conn)
                .await
                .ok()
                .flatten()
        });
        Ok(version)
    }

    /// Deletes up to `batch` sessions whose expiry is at or before `now` (cascading to all their
    /// data and keys) and returns their ids so live actors can be stopped.
    pub async fn delete_expired_sessions(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids = with_connection!(self, conn => {
            sqlx::query_scalar(
                "DELETE FROM sessions WHERE id IN \
                 (SELECT id FROM sessions WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2) \
                 RETURNING id",
            )
            .bind(now)
            .bind(batch)
            .fetch_all(&mut *conn)
            .await?
        });
        Ok(ids)
    }

    /// Deletes up to `batch` rows of `table` (named by its `key` column) whose `expires_at` is at
    /// or before `now`; answers how many.
    pub(crate) async fn delete_expired_rows(
        &self,
        table: &'static str,
        key: &'static str,
        now: Timestamp,
        batch: i64,
    ) -> Result<u64, StoreError> {
        // Both names are constants of this crate, never input.
        let sql = sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE {key} IN \
             (SELECT {key} FROM {table} WHERE expires_at <= $1 LIMIT $2)"
        ));
        Ok(execute!(self, sql, now, batch))
    }

    /// Deletes up to `batch` health snapshots recorded before `before`.
    pub async fn delete_health_before(
        &self,
        before: Timestamp,
        batch: i64,
    ) -> Result<u64, StoreError> {
        Ok(execute!(
            self,
            "DELETE FROM system_health_metrics WHERE id IN \
             (SELECT id FROM system_health_metrics WHERE created_at < $1 ORDER BY id LIMIT $2)",
            before,
            batch,
        ))
    }

    /// Records one health snapshot.
    pub async fn insert_health_snapshot(
        &self,
        snapshot: &HealthSnapshot,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO system_health_metrics (active_sessions, live_session_actors, \
             messages_interval, crisis_interval, database_bytes, pool_size, pool_idle, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            snapshot.active_sessions,
            snapshot.live_session_actors,
            snapshot.messages_interval,
            snapshot.crisis_interval,
            snapshot.database_bytes,
            snapshot.pool_size,
            snapshot.pool_idle,
            at,
        );
        Ok(())
    }

    /// The newest health snapshots, newest first.
    pub async fn latest_health_snapshots(
        &self,
        limit: i64,
    ) -> Result<Vec<(Timestamp, HealthSnapshot)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            created_at: Timestamp,
            #[sqlx(flatten)]
            snapshot: HealthSnapshot,
        }
        let rows: Vec<Row> = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT created_at, active_sessions, live_session_actors, messages_interval, \
                 crisis_interval, database_bytes, pool_size, pool_idle FROM system_health_metrics \
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|row| (row.created_at, row.snapshot))
            .collect())
    }

    /// Sessions not yet past expiry.
    pub async fn active_session_count(&self, now: Timestamp) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM sessions WHERE expires_at > $1";
        Ok(with_connection!(self, conn => {
            sqlx::query_scalar(sql).bind(now).fetch_one(&mut *conn).await?
        }))
    }

    /// Size of the database in bytes.
    pub async fn database_bytes(&self) -> Result<i64, StoreError> {
        let bytes = with_connection!(self, conn => {
            match self.kind() {
                BackendKind::Sqlite => sqlx::query_scalar(
                    "SELECT CAST(page_count * page_size AS BIGINT) FROM pragma_page_count(), pragma_page_size()",
                ),
                BackendKind::Postgres => {
                    sqlx::query_scalar("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
                }
            }
            .fetch_one(&mut *conn)
            .await?
        });
        Ok(bytes)
    }

    /// Everything `cbln check-storage` prints.
    pub async fn storage_report(&self, now: Timestamp) -> Result<StorageReport, StoreError> {
        let mut table_rows = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
            let count: i64 = with_connection!(self, conn => sqlx::query_scalar(sql).fetch_one(&mut *conn).await?);
            table_rows.push((table, count));
        }
        let oldest_session: Option<Timestamp> = with_connection!(self, conn => {
            sqlx::query_scalar("SELECT MIN(created_at) FROM sessions").fetch_one(&mut *conn).await?
        });
        let expired_pending: i64 = with_connection!(self, conn => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .fetch_one(&mut *conn)
                .await?
        });
        Ok(StorageReport {
            backend: self.kind().as_str(),
            table_rows,
            database_bytes: self.database_bytes().await?,
            oldest_session,
            expired_pending,
        })
    }

    /// Deletes every row of every data table (the schema stays). Returns rows deleted per table.
    pub async fn reset_all_data(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut deleted = Vec::new();
        with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            for table in TABLES.iter().filter(|t| **t != "schema_version") {
                let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {table}"));
                let rows = sqlx::query(sql).execute(&mut *tx).await?.rows_affected();
                deleted.push((*table, rows));
            }
            tx.commit().await?;
        });
        Ok(deleted)
    }
}
