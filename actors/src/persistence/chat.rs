//! Chat messages and the sealed conversation context.

use super::StoreError;
use super::records::{MessageRow, MessageStats, StoredContext, StoredMessage, WriteOp};
use super::store::{Store, on_backend};
use super::time::Timestamp;
use crate::crisis::RiskLevel;
use sqlx::QueryBuilder;
use uuid::Uuid;

const MESSAGE_COLUMNS: &str = "SELECT id, session_id, seq, role, content, model_used, \
     processing_time_ms, is_crisis_detected, created_at FROM messages";

impl Store {
    /// Commits a group of writes in ONE transaction: all of them or none. Messages go in as one
    /// multi-row insert, which is what makes group commit pay off under concurrency. Returns how
    /// long getting a pooled connection and starting the transaction took.
    pub async fn apply_writes(
        &self,
        writes: &[WriteOp],
    ) -> Result<std::time::Duration, StoreError> {
        if writes.is_empty() {
            return Ok(std::time::Duration::ZERO);
        }
        let started = std::time::Instant::now();
        let messages: Vec<&StoredMessage> = WriteOp::inserted_messages(writes);
        let acquired = on_backend!(self, pool => {
            let mut tx = pool.begin().await?;
            let acquired = started.elapsed();
            if !messages.is_empty() {
            let mut insert = QueryBuilder::new(
                "INSERT INTO messages (id, session_id, seq, role, content, model_used, \
                 processing_time_ms, is_crisis_detected, created_at, updated_at) ",
            );
            insert.push_values(&messages, |mut row, message| {
                row.push_bind(message.id)
                    .push_bind(message.session_id)
                    .push_bind(message.seq)
                    .push_bind(message.role.as_str())
                    .push_bind(message.content.clone())
                    .push_bind(message.model_used.clone())
                    .push_bind(message.processing_time_ms)
                    .push_bind(message.is_crisis_detected)
                    .push_bind(message.created_at)
                    .push_bind(message.created_at);
            });
            insert.build().execute(&mut *tx).await?;
            }
            // Rare per-op writes first, in queue order: a retraction follows the insert it
            // takes back, and precedes any newer context of its session below.
            for write in writes {
                match write {
                    WriteOp::UserMessage { message, risk_change: Some(level) } => {
                        sqlx::query(
                            "UPDATE sessions SET risk_level = $1, is_crisis_mode = $2 WHERE id = $3",
                        )
                        .bind(level.as_str())
                        .bind(*level == RiskLevel::Crisis)
                        .bind(message.session_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    WriteOp::Retract { session_id, ids } => {
                        for id in ids {
                            sqlx::query("DELETE FROM messages WHERE session_id = $1 AND id = $2")
                                .bind(session_id)
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                        }
                        sqlx::query("DELETE FROM conversation_context WHERE session_id = $1")
                            .bind(session_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    WriteOp::UserMessage { .. } | WriteOp::Reply { .. } => {}
                }
            }
            // The contexts as one multi-row upsert (one row per session, the newest wins).
            let contexts = latest_context_per_session(writes);
            if !contexts.is_empty() {
                let mut upsert = QueryBuilder::new(
                    "INSERT INTO conversation_context (id, session_id, context, turn_count, created_at, updated_at) ",
                );
                upsert.push_values(&contexts, |mut row, (message, context)| {
                    row.push_bind(message.session_id)
                        .push_bind(message.session_id)
                        .push_bind(context.sealed.clone())
                        .push_bind(context.turn_count)
                        .push_bind(message.created_at)
                        .push_bind(message.created_at);
                });
                upsert.push(
                    " ON CONFLICT (session_id) DO UPDATE SET context = excluded.context, \
                     turn_count = excluded.turn_count, updated_at = excluded.updated_at",
                );
                upsert.build().execute(&mut *tx).await?;
            }
            // Activity times as one statement: the batch spans milliseconds, so its newest
            // commit time stands for all of its sessions.
            let active: Vec<_> = writes.iter().map(WriteOp::session_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            if let Some(latest) = messages.iter().map(|m| m.created_at).max() {
                let mut touch = QueryBuilder::new("UPDATE sessions SET last_activity = ");
                touch.push_bind(latest).push(", updated_at = ").push_bind(latest).push(" WHERE id IN (");
                let mut ids = touch.separated(", ");
                for id in &active {
                    ids.push_bind(*id);
                }
                touch.push(")");
                touch.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            acquired
        });
        Ok(acquired)
    }

    /// A page of a session's messages, oldest first, in exact sequence order.
    pub async fn list_messages(
        &self,
        session_id: Uuid,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{MESSAGE_COLUMNS} WHERE session_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"
        ));
        let rows: Vec<MessageRow> = on_backend!(self, pool => {
            sqlx::query_as(sql).bind(session_id).bind(limit).bind(offset).fetch_all(pool).await?
        });
        rows.into_iter().map(StoredMessage::try_from).collect()
    }

    /// The newest `limit` messages, oldest first (context when the sealed context is unreadable).
    pub async fn recent_messages(
        &self,
        session_id: Uuid,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{MESSAGE_COLUMNS} WHERE session_id = $1 ORDER BY seq DESC LIMIT $2"
        ));
        let rows: Vec<MessageRow> = on_backend!(self, pool => {
            sqlx::query_as(sql).bind(session_id).bind(limit).fetch_all(pool).await?
        });
        let mut messages = rows
            .into_iter()
            .map(StoredMessage::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    /// Count, crisis flag and highest sequence over the whole session.
    pub async fn message_stats(&self, session_id: Uuid) -> Result<MessageStats, StoreError> {
        let (total, crisis, max_seq): (i64, i64, i64) = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), \
                 CAST(COALESCE(MAX(CASE WHEN is_crisis_detected THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM messages WHERE session_id = $1",
            )
            .bind(session_id)
            .fetch_one(pool)
            .await?
        });
        Ok(MessageStats {
            total,
            has_crisis: crisis > 0,
            max_seq,
        })
    }

    /// One message of a session; `None` when it is not there or belongs to another session.
    pub async fn get_message(
        &self,
        session_id: Uuid,
        id: Uuid,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{MESSAGE_COLUMNS} WHERE session_id = $1 AND id = $2"
        ));
        let row: Option<MessageRow> = on_backend!(self, pool => {
            sqlx::query_as(sql).bind(session_id).bind(id).fetch_optional(pool).await?
        });
        row.map(StoredMessage::try_from).transpose()
    }

    /// Deletes one message of a session, and the conversation context too, since the context may
    /// quote it. False when the message was not there.
    pub async fn delete_message(&self, session_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let affected = on_backend!(self, pool => {
            let mut tx = pool.begin().await?;
            let affected = sqlx::query("DELETE FROM messages WHERE session_id = $1 AND id = $2")
                .bind(session_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if affected == 1 {
                sqlx::query("DELETE FROM conversation_context WHERE session_id = $1")
                    .bind(session_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            affected
        });
        Ok(affected == 1)
    }

    /// Deletes every message of a session and the context built from them.
    pub async fn delete_messages(&self, session_id: Uuid) -> Result<u64, StoreError> {
        let deleted = on_backend!(self, pool => {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query("DELETE FROM messages WHERE session_id = $1")
                .bind(session_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM conversation_context WHERE session_id = $1")
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            deleted
        });
        Ok(deleted)
    }

    /// The sealed conversation context of a session.
    pub async fn load_context(
        &self,
        session_id: Uuid,
    ) -> Result<Option<StoredContext>, StoreError> {
        let row: Option<(Vec<u8>, i32)> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT context, turn_count FROM conversation_context WHERE session_id = $1",
            )
            .bind(session_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(sealed, turn_count)| StoredContext { sealed, turn_count }))
    }

    /// Messages committed at or after `since`, and how many of them were crisis detections.
    pub async fn messages_since(&self, since: Timestamp) -> Result<(i64, i64), StoreError> {
        let counts: (i64, i64) = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), \
                 CAST(COALESCE(SUM(CASE WHEN is_crisis_detected THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM messages WHERE created_at >= $1",
            )
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        Ok(counts)
    }
}

/// The newest context write of each session in a batch (a session rarely has two: only when a
/// timed-out reply is still queued behind the next one).
fn latest_context_per_session(writes: &[WriteOp]) -> Vec<(&StoredMessage, &StoredContext)> {
    let mut latest: std::collections::HashMap<Uuid, (&StoredMessage, &StoredContext)> =
        std::collections::HashMap::new();
    for write in writes {
        if let WriteOp::Reply { message, context } = write {
            latest.insert(message.session_id, (message, context));
        }
    }
    latest.into_values().collect()
}
