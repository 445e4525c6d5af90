//! Crisis rules in `blocked_keywords`: operator data, compiled by the crisis detector.

use super::StoreError;
use super::records::RuleRecord;
use super::store::{Store, execute, with_connection};
use super::time::Timestamp;
use sqlx::Connection;
use uuid::Uuid;

const INSERT_RULE: &str = "INSERT INTO blocked_keywords (id, rule_id, pattern, category, severity, \
     language, kind, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";

/// Binds a rule to `INSERT_RULE` (prefixed with an `ON CONFLICT` clause or not).
macro_rules! bind_rule {
    ($query:expr, $rule:expr, $now:expr) => {
        $query
            .bind(Uuid::new_v4())
            .bind(&$rule.rule_id)
            .bind(&$rule.pattern)
            .bind(&$rule.category)
            .bind(&$rule.severity)
            .bind(&$rule.language)
            .bind(&$rule.kind)
            .bind($rule.enabled)
            .bind($now)
    };
}

impl Store {
    /// Every rule, enabled or not, ordered by rule id.
    pub async fn list_rules(&self) -> Result<Vec<RuleRecord>, StoreError> {
        let rows = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT rule_id, pattern, category, severity, language, kind, enabled \
                 FROM blocked_keywords ORDER BY rule_id",
            )
            .fetch_all(&mut *conn)
            .await?
        });
        Ok(rows)
    }

    /// Inserts rules whose id is not stored yet; existing rows (maybe disabled by an operator)
    /// are left alone, which makes seeding idempotent. Returns how many were inserted.
    /// Reads the stored ids once, so a start with nothing missing costs one query, not one
    /// statement per rule.
    pub async fn insert_missing_rules(&self, rules: &[RuleRecord]) -> Result<u64, StoreError> {
        let stored: Vec<String> = with_connection!(self, conn => {
            sqlx::query_scalar("SELECT rule_id FROM blocked_keywords").fetch_all(&mut *conn).await?
        });
        let stored: std::collections::HashSet<String> = stored.into_iter().collect();
        let missing: Vec<&RuleRecord> = rules
            .iter()
            .filter(|rule| !stored.contains(&rule.rule_id))
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let now = Timestamp::now();
        let mut inserted = 0;
        with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            for rule in &missing {
                let sql = sqlx::AssertSqlSafe(format!("{INSERT_RULE} ON CONFLICT (rule_id) DO NOTHING"));
                inserted += bind_rule!(sqlx::query(sql), rule, now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
        });
        Ok(inserted)
    }

    /// Adds a new rule; `Conflict` when the rule id exists.
    pub async fn insert_rule(&self, rule: &RuleRecord) -> Result<(), StoreError> {
        let now = Timestamp::now();
        with_connection!(self, conn => {
            bind_rule!(sqlx::query(INSERT_RULE), rule, now)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Enables or disables a rule; false when no such rule id.
    pub async fn set_rule_enabled(&self, rule_id: &str, enabled: bool) -> Result<bool, StoreError> {
        let now = Timestamp::now();
        let affected = execute!(
            self,
            "UPDATE blocked_keywords SET enabled = $2, updated_at = $3 WHERE rule_id = $1",
            rule_id,
            enabled,
            now
        );
        Ok(affected == 1)
    }

    /// A cheap fingerprint of the rule set that changes whenever a rule is added or changed;
    /// the running server polls it to recompile without a restart.
    pub async fn rules_fingerprint(&self) -> Result<String, StoreError> {
        let (count, latest): (i64, Option<Timestamp>) = with_connection!(self, conn => {
            sqlx::query_as("SELECT COUNT(*), MAX(updated_at) FROM blocked_keywords")
                .fetch_one(&mut *conn)
                .await?
        });
        Ok(format!(
            "{count}@{}",
            latest.map(|t| t.to_rfc3339()).unwrap_or_default()
        ))
    }
}
