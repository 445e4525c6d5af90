//! The two writes of a handed-over conversation that change nothing a session actor caches, so
//! they move no session version: a counsellor's message joining the person's history, and a
//! message left awaiting the listener's reply handed to the counsellor instead.

use super::StoreError;
use super::chat::insert_messages;
use super::handoffs::finish_change;
use super::records::StoredMessage;
use super::session_version::hold_session_row;
use super::store::{Store, with_connection};
use sqlx::Connection;
use uuid::Uuid;

impl Store {
    /// Takes the session's next sequence number and inserts `message` there. The session's
    /// version stays: the message is in none of what an actor caches (context, risk, crisis
    /// mode, expiry, the handoff), and its sequence number comes from the row's counter like
    /// every other writer's. Nor is it the session's activity: `last_activity` is the person's
    /// (the crisis quiet period is their silence), and an actor's cached copy, which this write
    /// does not make stale, would disagree with the row if it moved.
    pub async fn insert_counsellor_message(
        &self,
        message: &StoredMessage,
    ) -> Result<Option<i64>, StoreError> {
        let seq = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            let seq: Option<i64> = sqlx::query_scalar(
                "UPDATE sessions SET last_seq = last_seq + 1, updated_at = $2 \
                 WHERE id = $1 RETURNING last_seq",
            )
            .bind(message.session_id)
            .bind(message.created_at)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(seq) = seq {
                let at_seq = StoredMessage { seq, ..message.clone() };
                insert_messages!(tx, [(at_seq, false)].iter());
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
        let handed = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            // The session row first, as every session write takes it: a change in flight (a
            // close) is waited for and its new version seen, where a check in the same statement
            // as the update would read the version from before it. The version stays: the mark
            // is in nothing an actor caches.
            let current = hold_session_row!(
                &mut *tx, where "id = $1 AND version = $2", session_id, expected_version
            );
            let handed = current
                && sqlx::query(
                    "UPDATE messages SET awaiting_reply = FALSE \
                     WHERE session_id = $1 AND id = $2 AND awaiting_reply = TRUE",
                )
                .bind(session_id)
                .bind(message_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
            finish_change!(tx, u64::from(handed))
        });
        Ok(handed)
    }
}
