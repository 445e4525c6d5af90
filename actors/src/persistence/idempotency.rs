//! Idempotency keys: the claim a request with an `Idempotency-Key` takes before it runs, and the
//! sealed answer kept for its retries. Rows hold only keyed hashes and ciphertext.

use super::StoreError;
use super::store::{Store, execute, with_connection};
use super::time::Timestamp;
use uuid::Uuid;

/// A claim to take: who asks, with what, and for how long the row lives.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// Keyed hash of the endpoint, the session (if any) and the client's key.
    pub key_hash: Vec<u8>,
    /// Keyed hash of the request body, to tell a retry from a reuse of the key.
    pub request_hash: Vec<u8>,
    /// The session the request acts on, when there is one.
    pub session_id: Option<Uuid>,
    /// Now.
    pub now: Timestamp,
    /// Until when an unfinished claim is presumed alive.
    pub lease_until: Timestamp,
    /// When the row may be purged.
    pub expires_at: Timestamp,
}

/// A row found under a key someone else claimed first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotencyRecord {
    /// Keyed hash of the first request's body.
    pub request_hash: Vec<u8>,
    /// The session the answer belongs to.
    pub session_id: Option<Uuid>,
    /// The first answer's status; `None` while it is in flight.
    pub status: Option<i32>,
    /// The first answer's body, sealed.
    pub response: Option<Vec<u8>>,
    /// Until when the in-flight claim is presumed alive.
    pub lease_until: Timestamp,
}

/// What a claim found.
#[derive(Debug, Clone)]
pub enum ClaimOutcome {
    /// The key was free (or its row expired or was abandoned): run the request.
    Claimed,
    /// Someone claimed it first.
    Existing(IdempotencyRecord),
}

impl Store {
    /// Claims a key, or answers the row already under it. An expired row, or an in-flight claim
    /// whose lease ran out, is replaced: the key then behaves as new.
    pub async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        with_connection!(self, conn => {
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE key_hash = $1 \
                 AND (expires_at <= $2 OR (status IS NULL AND lease_until <= $2))",
            )
            .bind(&claim.key_hash)
            .bind(claim.now)
            .execute(&mut *conn)
            .await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys \
                 (key_hash, session_id, request_hash, lease_until, expires_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (key_hash) DO NOTHING",
            )
            .bind(&claim.key_hash)
            .bind(claim.session_id)
            .bind(&claim.request_hash)
            .bind(claim.lease_until)
            .bind(claim.expires_at)
            .bind(claim.now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if inserted == 1 {
                return Ok(ClaimOutcome::Claimed);
            }
            let existing: Option<IdempotencyRecord> = sqlx::query_as(
                "SELECT request_hash, session_id, status, response, lease_until \
                 FROM idempotency_keys WHERE key_hash = $1",
            )
            .bind(&claim.key_hash)
            .fetch_optional(&mut *conn)
            .await?;
            // Gone between the insert and the read (purged or released): the caller may retry.
            Ok(existing.map_or(ClaimOutcome::Claimed, ClaimOutcome::Existing))
        })
    }

    /// Keeps the first answer under a claimed key (and the session it created, if any).
    pub async fn complete_idempotency_key(
        &self,
        key_hash: &[u8],
        session_id: Option<Uuid>,
        status: i32,
        response: &[u8],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE idempotency_keys SET status = $2, response = $3, \
             session_id = COALESCE($4, session_id), updated_at = $5 WHERE key_hash = $1",
            key_hash,
            status,
            response,
            session_id,
            now,
        );
        Ok(())
    }

    /// Gives an unfinished claim up, so a retry runs the request afresh.
    pub async fn release_idempotency_key(&self, key_hash: &[u8]) -> Result<(), StoreError> {
        execute!(
            self,
            "DELETE FROM idempotency_keys WHERE key_hash = $1 AND status IS NULL",
            key_hash
        );
        Ok(())
    }

    /// Deletes a batch of expired rows; answers how many.
    pub async fn delete_expired_idempotency_keys(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<u64, StoreError> {
        self.delete_expired_rows("idempotency_keys", "key_hash", now, batch)
            .await
    }
}
