//! The two writes of a handed-over conversation that change nothing a session actor caches, so
//! they move no session version: a counsellor's message joining the person's history, and a
//! message left awaiting the listener's reply handed to the counsellor instead.

use super::StoreError;
use super::records::StoredMessage;
use super::store::{Store, with_connection};
use sqlx::Connection;
use uuid::Uuid;

impl Store {
    /// Takes the session's next sequence number and inserts `message` there, counting it as
    /// activity. The session's version stays: the message is in none of what an actor caches
    /// (context, risk, crisis mode, expiry, the handoff), and its sequence number comes from the
    /// row's counter like every other writer's.
    pub async fn insert_counsellor_message(
        &self,
        message: &StoredMessage,
    ) -> Result<Option<i64>, StoreError> {
        let seq = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            let seq: Option<i64> = sqlx::query_scalar(
                "UPDATE sessions SET last_seq = last_seq + 1, last_activity = $2, updated_at = $2 \
                 WHERE id = $1 RETURNING last_seq",
            )
            .bind(message.session_id)
            .bind(message.created_at)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(seq) = seq {
                sqlx::query(
                    "INSERT INTO messages (id, session_id, seq, role, content, model_used, \
                     processing_time_ms, is_crisis_detected, awaiting_reply, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9, $9)",
                )
                .bind(message.id)
                .bind(message.session_id)
                .bind(seq)
                .bind(message.role.as_str())
                .bind(message.content.clone())
                .bind(message.model_used.clone())
                .bind(message.processing_time_ms)
                .bind(message.is_crisis_detected)
                .bind(message.created_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            seq
        });
        Ok(seq)
    }

    /// Clears the awaiting mark of one user message while its session is at `expected_version`:
    /// exactly one of several instances that saw it awaiting wins, and an instance whose copy
    /// missed a change (the handoff closed meanwhile) does not hand it over.
    pub async fn hand_over_awaiting(
        &self,
        session_id: Uuid,
        message_id: Uuid,
        expected_version: i64,
    ) -> Result<bool, StoreError> {
        let affected = with_connection!(self, conn => {
            sqlx::query(
                "UPDATE messages SET awaiting_reply = FALSE \
                 WHERE session_id = $1 AND id = $2 AND awaiting_reply = TRUE \
                 AND EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND version = $3)",
            )
            .bind(session_id)
            .bind(message_id)
            .bind(expected_version)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}
