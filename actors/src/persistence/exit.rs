//! Quick exit: a session ended in one step by the person using it, in a hurry.

use super::StoreError;
use super::session_version::bump_session_version;
use super::store::{Store, with_connection};
use super::time::Timestamp;
use sqlx::Connection;
use uuid::Uuid;

impl Store {
    /// In one transaction: revokes the token of the session with `token_hash` (the row's hash is
    /// replaced by random bytes) and marks it expired, then shreds its data key (its stored text
    /// becomes unreadable at once), the keys of its handoffs (ending any still open) and its kept
    /// idempotent answers (a new session's is sealed under a key derived from the client's
    /// idempotency key, not the session's), leaving the deletion of the rest to the janitor.
    /// Answers the session's id, or `None` when no session had that token.
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
        let id = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            // The session row first, as a claim or handoff change takes it, so a quick exit
            // racing a counsellor waits for them rather than deadlocking. Matching on the token
            // also makes a second exit racing this one find no session once this one revoked it.
            let id = bump_session_version!(
                id &mut *tx,
                set "token_hash = $2, expires_at = $3, updated_at = $3",
                where "token_hash = $1",
                &token_hash[..],
                &revoked,
                now
            );
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
            }
            tx.commit().await?;
            id
        });
        Ok(id)
    }
}
