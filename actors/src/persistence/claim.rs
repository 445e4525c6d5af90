//! The first step of every chat transaction: claim the session rows. Each claimed row's version
//! is compared with what the writer expected and bumped, and the sequence numbers its messages
//! need are taken from the row's counter, so two instances writing to one session serialise on
//! the row instead of colliding on `(session_id, seq)`.

use super::StoreError;
use super::time::Timestamp;
use sqlx::{PgConnection, SqliteConnection};
use std::collections::HashMap;
use uuid::Uuid;

/// What one write asks of its session row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionClaim {
    pub session_id: Uuid,
    /// The version the write was prepared against; negative when it does not care.
    pub expected_version: i64,
    /// Sequence numbers to take.
    pub slots: i64,
    /// Whether the write counts as activity on the session.
    pub touch: bool,
}

/// A claimed row: its new version and the last sequence number handed out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimedRow {
    pub version: i64,
    pub last_seq: i64,
}

/// Claims rows inside an open transaction; a session missing from the answer is either gone
/// or at another version than expected. Each session appears at most once in `claims`.
pub(crate) trait ClaimSessions {
    async fn claim_sessions(
        &mut self,
        claims: &[SessionClaim],
        activity: Timestamp,
    ) -> Result<HashMap<Uuid, ClaimedRow>, StoreError>;
}

impl ClaimSessions for PgConnection {
    /// One statement for the whole batch: a round trip per session would cost group commit its
    /// gain.
    async fn claim_sessions(
        &mut self,
        claims: &[SessionClaim],
        activity: Timestamp,
    ) -> Result<HashMap<Uuid, ClaimedRow>, StoreError> {
        // In id order, so two instances' batches sharing sessions lock their rows in the same
        // order (the plan walks the array through the primary key) rather than deadlocking.
        let mut claims = claims.to_vec();
        claims.sort_by_key(|c| c.session_id);
        let ids: Vec<Uuid> = claims.iter().map(|c| c.session_id).collect();
        let expected: Vec<i64> = claims.iter().map(|c| c.expected_version).collect();
        let slots: Vec<i64> = claims.iter().map(|c| c.slots).collect();
        let touch: Vec<bool> = claims.iter().map(|c| c.touch).collect();
        let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(
            "UPDATE sessions AS s SET version = s.version + 1, last_seq = s.last_seq + v.slots, \
             last_activity = CASE WHEN v.touch THEN $5 ELSE s.last_activity END, \
             updated_at = CASE WHEN v.touch THEN $5 ELSE s.updated_at END \
             FROM UNNEST($1::uuid[], $2::int8[], $3::int8[], $4::bool[]) AS v(id, expected, slots, touch) \
             WHERE s.id = v.id AND (v.expected < 0 OR s.version = v.expected) \
             RETURNING s.id, s.version, s.last_seq",
        )
        .bind(ids)
        .bind(expected)
        .bind(slots)
        .bind(touch)
        .bind(activity)
        .fetch_all(&mut *self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, version, last_seq)| (id, ClaimedRow { version, last_seq }))
            .collect())
    }
}

impl ClaimSessions for SqliteConnection {
    /// SQLite runs in-process: a statement per session costs no round trip.
    async fn claim_sessions(
        &mut self,
        claims: &[SessionClaim],
        activity: Timestamp,
    ) -> Result<HashMap<Uuid, ClaimedRow>, StoreError> {
        let mut claimed = HashMap::with_capacity(claims.len());
        for claim in claims {
            let row: Option<(i64, i64)> = sqlx::query_as(
                "UPDATE sessions SET version = version + 1, last_seq = last_seq + $2, \
                 last_activity = CASE WHEN $4 THEN $5 ELSE last_activity END, \
                 updated_at = CASE WHEN $4 THEN $5 ELSE updated_at END \
                 WHERE id = $1 AND ($3 < 0 OR version = $3) RETURNING version, last_seq",
            )
            .bind(claim.session_id)
            .bind(claim.slots)
            .bind(claim.expected_version)
            .bind(claim.touch)
            .bind(activity)
            .fetch_optional(&mut *self)
            .await?;
            if let Some((version, last_seq)) = row {
                claimed.insert(claim.session_id, ClaimedRow { version, last_seq });
            }
        }
        Ok(claimed)
    }
}
