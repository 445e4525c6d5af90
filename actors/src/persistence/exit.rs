//! Quick exit: a session ended in one step by the person using it, in a hurry.

use super::StoreError;
use super::store::{Store, on_backend};
use super::time::Timestamp;
use uuid::Uuid;

impl Store {
    /// Shreds the data key of the session with `token_hash` (its stored text becomes unreadable at
    /// once), the keys of its handoffs (ending any still open) and its kept idempotent answers (a
    /// new session's is sealed under a key derived from the client's idempotency key, not the
    /// session's), then revokes the token (the row's hash is replaced by random bytes) and marks
    /// the session expired, leaving the deletion of the rest to the janitor. Answers the session's
    /// id, or `None` when no session had that token.
    pub async fn shred_session(
        &self,
        token_hash: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<Uuid>, StoreError> {
        let revoked: Vec<u8> = Uuid::new_v4()
            .as_bytes()
            .iter()
            .chain(Uuid::new_v4().as_bytes())
            .copied()
            .collect();
        let id = on_backend!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM sessions WHERE token_hash = $1")
                .bind(&token_hash[..])
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(id) = id {
                sqlx::query("DELETE FROM session_keys WHERE session_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                // A handoff ends with its session, and what a counsellor could read goes at once.
                sqlx::query(
                    "UPDATE handoffs SET status = 'cancelled', outcome = 'left', closed_at = $2, \
                     shred_after = $2, updated_at = $2 \
                     WHERE session_id = $1 AND status IN ('queued', 'assigned')",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                for sql in [
                    "DELETE FROM handoff_keys WHERE handoff_id IN \
                     (SELECT id FROM handoffs WHERE session_id = $1)",
                    "DELETE FROM handoff_entries WHERE handoff_id IN \
                     (SELECT id FROM handoffs WHERE session_id = $1)",
                ] {
                    sqlx::query(sql).bind(id).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM idempotency_keys WHERE session_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE sessions SET token_hash = $2, expires_at = $3, updated_at = $3, \
                     version = version + 1 WHERE id = $1",
                )
                .bind(id)
                .bind(&revoked)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            id
        });
        Ok(id)
    }
}
