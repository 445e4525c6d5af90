//! Chat messages and the sealed conversation context.

use super::StoreError;
use super::claim::{ClaimSessions, SessionClaim};
use super::records::{Committed, MessageRow, MessageStats, StoredContext, StoredMessage, WriteOp};
use super::session_version::bump_session_version;
use super::store::{Store, with_connection};
use super::time::Timestamp;
use crate::crisis::RiskLevel;
use sqlx::Connection;
use sqlx::QueryBuilder;
use uuid::Uuid;

/// Inside the transaction `$tx` about to change a session's messages, before it touches any of
/// them (see [`bump_session_version!`]): its version moves on (every actor's copy is now stale)
/// and its conversation context goes (it may quote what changes).
macro_rules! messages_changing {
    ($tx:ident, $session_id:expr) => {
        bump_session_version!(rows &mut *$tx, where "id = $1", $session_id);
        sqlx::query("DELETE FROM conversation_context WHERE session_id = $1")
            .bind($session_id)
            .execute(&mut *$tx)
            .await?;
    };
}

/// Inserts `$messages` (each with whether it awaits its reply; at least one) at their `seq` in
/// one multi-row statement inside the transaction `$tx`: the only way messages are written.
macro_rules! insert_messages {
    ($tx:ident, $messages:expr) => {{
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO messages (id, session_id, seq, role, content, model_used, \
             processing_time_ms, is_crisis_detected, awaiting_reply, created_at, updated_at) ",
        );
        insert.push_values($messages, |mut row, (message, awaiting)| {
            row.push_bind(message.id)
                .push_bind(message.session_id)
                .push_bind(message.seq)
                .push_bind(message.role.as_str())
                .push_bind(message.content.clone())
                .push_bind(message.model_used.clone())
                .push_bind(message.processing_time_ms)
                .push_bind(message.is_crisis_detected)
                .push_bind(*awaiting)
                .push_bind(message.created_at)
                .push_bind(message.created_at);
        });
        insert.build().execute(&mut *$tx).await?;
    }};
}
pub(super) use insert_messages;

const MESSAGE_COLUMNS: &str = "SELECT id, session_id, seq, role, content, model_used, \
     processing_time_ms, is_crisis_detected, created_at FROM messages";

impl Store {
    /// Commits a group of writes. Each session's writes are committed in queue order; writes
    /// of different sessions share one transaction (a session appearing again goes into the
    /// next), whose messages go in as one multi-row insert, which is what makes group commit pay
    /// off under concurrency. A write whose session changed since it was prepared is refused
    /// alone with `VersionConflict`; any other failure fails the whole call. Returns how long
    /// getting a pooled connection and starting the first transaction took, and each write's
    /// outcome in order.
    pub async fn apply_writes(
        &self,
        writes: &[WriteOp],
    ) -> Result<(std::time::Duration, Vec<Result<Committed, StoreError>>), StoreError> {
        let mut outcomes: Vec<Option<Result<Committed, StoreError>>> =
            (0..writes.len()).map(|_| None).collect();
        let mut acquired = None;
        for round in rounds(writes) {
            let ops: Vec<&WriteOp> = round.iter().map(|&i| &writes[i]).collect();
            let (took, results) = self.apply_round(&ops).await?;
            acquired.get_or_insert(took);
            for (index, result) in round.into_iter().zip(results) {
                outcomes[index] = Some(result);
            }
        }
        let outcomes = outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Err(StoreError::VersionConflict)))
            .collect();
        Ok((acquired.unwrap_or_default(), outcomes))
    }

    /// One transaction over writes of distinct sessions.
    async fn apply_round(
        &self,
        writes: &[&WriteOp],
    ) -> Result<(std::time::Duration, Vec<Result<Committed, StoreError>>), StoreError> {
        let started = std::time::Instant::now();
        let claims: Vec<SessionClaim> = writes
            .iter()
            .map(|write| SessionClaim {
                session_id: write.session_id(),
                expected_version: write.expected_version().unwrap_or(-1),
                slots: write.sequence_slots(),
                touch: !matches!(write, WriteOp::Retract { .. }),
            })
            .collect();
        // The batch spans milliseconds, so its newest write time stands for all its sessions.
        let activity = writes
            .iter()
            .filter_map(|write| write.context().map(|(m, _)| m.created_at))
            .chain(writes.iter().filter_map(|write| match write {
                WriteOp::UserMessage { message, .. } | WriteOp::Standalone { message, .. } => {
                    Some(message.created_at)
                }
                _ => None,
            }))
            .max()
            .unwrap_or_else(Timestamp::now);
        with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            let acquired = started.elapsed();
            let claimed = tx.claim_sessions(&claims, activity).await?;
            let mut outcomes = Vec::with_capacity(writes.len());
            let mut accepted: Vec<&WriteOp> = Vec::with_capacity(writes.len());
            let mut messages: Vec<(StoredMessage, bool)> = Vec::new();
            for write in writes {
                match claimed.get(&write.session_id()) {
                    Some(row) => {
                        let inserted = write.messages_at(row.last_seq);
                        let seq = inserted.first().map(|(m, _)| m.seq).unwrap_or(0);
                        messages.extend(inserted);
                        outcomes.push(Ok(Committed { version: row.version, seq }));
                        accepted.push(write);
                    }
                    None => outcomes.push(Err(StoreError::VersionConflict)),
                }
            }
            if !messages.is_empty() {
                insert_messages!(tx, &messages);
            }
            // Rare per-op writes.
            for write in &accepted {
                if let Some(level) = write.risk_change() {
                    sqlx::query(
                        "UPDATE sessions SET risk_level = $1, is_crisis_mode = $2 WHERE id = $3",
                    )
                    .bind(level.as_str())
                    .bind(level == RiskLevel::Crisis)
                    .bind(write.session_id())
                    .execute(&mut *tx)
                    .await?;
                }
                match write {
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
                    WriteOp::Reply { message, answers, .. } => {
                        sqlx::query(
                            "UPDATE messages SET awaiting_reply = FALSE WHERE session_id = $1 AND id = $2",
                        )
                        .bind(message.session_id)
                        .bind(answers)
                        .execute(&mut *tx)
                        .await?;
                    }
                    WriteOp::Exchange { .. }
                    | WriteOp::UserMessage { .. }
                    | WriteOp::Standalone { .. } => {}
                }
            }
            // The contexts as one multi-row upsert (one row per session).
            let contexts: Vec<(&StoredMessage, &StoredContext)> =
                accepted.iter().filter_map(|write| write.context()).collect();
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
            tx.commit().await?;
            Ok((acquired, outcomes))
        })
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
        let rows: Vec<MessageRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(session_id).bind(limit).bind(offset).fetch_all(&mut *conn).await?
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
        let rows: Vec<MessageRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(session_id).bind(limit).fetch_all(&mut *conn).await?
        });
        let mut messages = rows
            .into_iter()
            .map(StoredMessage::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok(messages)
    }

    /// The session's user messages still awaiting their reply that were committed at or before
    /// `committed_by`, oldest first.
    pub async fn awaiting_messages(
        &self,
        session_id: Uuid,
        committed_by: Timestamp,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{MESSAGE_COLUMNS} WHERE session_id = $1 AND awaiting_reply = TRUE \
             AND created_at <= $2 ORDER BY seq"
        ));
        let rows: Vec<MessageRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(session_id).bind(committed_by).fetch_all(&mut *conn).await?
        });
        rows.into_iter().map(StoredMessage::try_from).collect()
    }

    /// Count, crisis flag and highest sequence over the whole session.
    pub async fn message_stats(&self, session_id: Uuid) -> Result<MessageStats, StoreError> {
        let (total, crisis, max_seq): (i64, i64, i64) = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT COUNT(*), \
                 CAST(COALESCE(MAX(CASE WHEN is_crisis_detected THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM messages WHERE session_id = $1",
            )
            .bind(session_id)
            .fetch_one(&mut *conn)
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
        let row: Option<MessageRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(session_id).bind(id).fetch_optional(&mut *conn).await?
        });
        row.map(StoredMessage::try_from).transpose()
    }

    /// Deletes one message of a session, and the conversation context too, since the context may
    /// quote it. False when the message was not there.
    pub async fn delete_message(&self, session_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let affected = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            messages_changing!(tx, session_id);
            let affected = sqlx::query("DELETE FROM messages WHERE session_id = $1 AND id = $2")
                .bind(session_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Nothing deleted: no copy need reload, and the context stays.
            if affected == 1 {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            affected
        });
        Ok(affected == 1)
    }

    /// Deletes every message of a session and the context built from them.
    pub async fn delete_messages(&self, session_id: Uuid) -> Result<u64, StoreError> {
        let deleted = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            messages_changing!(tx, session_id);
            let deleted = sqlx::query("DELETE FROM messages WHERE session_id = $1")
                .bind(session_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
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
        let row: Option<(Vec<u8>, i32)> = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT context, turn_count FROM conversation_context WHERE session_id = $1",
            )
            .bind(session_id)
            .fetch_optional(&mut *conn)
            .await?
        });
        Ok(row.map(|(sealed, turn_count)| StoredContext { sealed, turn_count }))
    }

    /// Messages committed at or after `since`, and how many of them were crisis detections.
    pub async fn messages_since(&self, since: Timestamp) -> Result<(i64, i64), StoreError> {
        let counts: (i64, i64) = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT COUNT(*), \
                 CAST(COALESCE(SUM(CASE WHEN is_crisis_detected THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM messages WHERE created_at >= $1",
            )
            .bind(since)
            .fetch_one(&mut *conn)
            .await?
        });
        Ok(counts)
    }
}

/// Splits writes into rounds in which each session appears at most once, keeping each
/// session's writes in order: a session's second write must see its first committed.
fn rounds(writes: &[WriteOp]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen: std::collections::HashMap<Uuid, usize> = std::collections::HashMap::new();
    for (index, write) in writes.iter().enumerate() {
        let round = seen.entry(write.session_id()).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(index);
        *round += 1;
    }
    rounds
}
