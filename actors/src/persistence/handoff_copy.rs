//! The two writes of a handed-over conversation that change nothing a session actor caches, so
//! they move no session version: a counsellor's message joining the person's history, and a
//! message left awaiting the listener's reply handed to the counsellor instead.

use super::StoreError;
use super::actor::PersistenceActor;
use super::records::StoredMessage;
use super::store::{Store, on_backend};
use crate::error::PipelineError;
use actix::{Handler, Message, ResponseFuture};
use uuid::Uuid;

/// Add a counsellor's message to the person's history at the session's next sequence number.
/// `None` when the session is gone.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<i64>, PipelineError>")]
pub struct InsertCounsellorMessage {
    /// The sealed message; its `seq` is replaced by the one the session row hands out.
    pub message: StoredMessage,
}

/// Stop a user message awaiting the listener's reply (its counsellor answers it), if it still
/// awaits one and the session is still at `expected_version`. Answers whether it did.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct HandOverAwaiting {
    /// Session.
    pub session_id: Uuid,
    /// The awaiting user message.
    pub message_id: Uuid,
    /// The session version the hand-over was decided against.
    pub expected_version: i64,
}

impl Store {
    /// Takes the session's next sequence number and inserts `message` there, counting it as
    /// activity. The session's version stays: the message is in none of what an actor caches
    /// (context, risk, crisis mode, expiry, the handoff), and its sequence number comes from the
    /// row's counter like every other writer's.
    pub async fn insert_counsellor_message(
        &self,
        message: &StoredMessage,
    ) -> Result<Option<i64>, StoreError> {
        let seq = on_backend!(self, pool => {
            let mut tx = pool.begin().await?;
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
        let affected = on_backend!(self, pool => {
            sqlx::query(
                "UPDATE messages SET awaiting_reply = FALSE \
                 WHERE session_id = $1 AND id = $2 AND awaiting_reply = TRUE \
                 AND EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND version = $3)",
            )
            .bind(session_id)
            .bind(message_id)
            .bind(expected_version)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}

impl Handler<InsertCounsellorMessage> for PersistenceActor {
    type Result = ResponseFuture<Result<Option<i64>, PipelineError>>;

    fn handle(&mut self, msg: InsertCounsellorMessage, _ctx: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        Box::pin(async move {
            let reachability = store.reachability().clone();
            let inserted = store.insert_counsellor_message(&msg.message);
            Ok(reachability.unless_unreachable(inserted).await?)
        })
    }
}

impl Handler<HandOverAwaiting> for PersistenceActor {
    type Result = ResponseFuture<Result<bool, PipelineError>>;

    fn handle(&mut self, msg: HandOverAwaiting, _ctx: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        Box::pin(async move {
            let reachability = store.reachability().clone();
            let handed =
                store.hand_over_awaiting(msg.session_id, msg.message_id, msg.expected_version);
            Ok(reachability.unless_unreachable(handed).await?)
        })
    }
}
