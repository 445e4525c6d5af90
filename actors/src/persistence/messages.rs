//! The persistence actor's interface: one struct per message, each with its reply type.
//! Reads run concurrently on the pool; writes of chat messages go through group commit.

use super::records::{
    Committed, HealthSnapshot, MessageStats, NewFeedback, NewSession, RuleRecord, SessionRecord,
    StoredContext, StoredMessage, WrappedKey, WriteOp,
};
use super::time::Timestamp;
use crate::crypto::TokenHash;
use crate::error::PipelineError;
use actix::Message;
use uuid::Uuid;

/// Commit one write; the reply comes only after its transaction committed.
#[derive(Debug, Message)]
#[rtype(result = "Result<Committed, PipelineError>")]
pub struct Commit {
    /// The write.
    pub op: WriteOp,
}

/// Stop and let the supervisor start a fresh instance (a new writer and pool handle). Sent when
/// a caller detects the writer is gone; acknowledged writes are already committed.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct Recycle;

/// Create a session with its wrapped data key.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct InsertSession {
    /// The session.
    pub session: NewSession,
}

/// Find a session by the keyed hash of its token.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<SessionRecord>, PipelineError>")]
pub struct FindSessionByToken {
    /// HMAC of the token.
    pub token_hash: TokenHash,
}

/// A session with its version, to check or reload a session actor's copy.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<(SessionRecord, i64)>, PipelineError>")]
pub struct LoadVersionedSession {
    /// Session.
    pub id: Uuid,
}

/// A session's user messages awaiting their reply, committed by a given instant.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<StoredMessage>, PipelineError>")]
pub struct LoadAwaitingMessages {
    /// Session.
    pub session_id: Uuid,
    /// Committed at or before.
    pub committed_by: Timestamp,
}

/// Record activity on a session.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct RecordActivity {
    /// Session.
    pub id: Uuid,
    /// Activity time.
    pub now: Timestamp,
}

/// Extend a session's life.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct ExtendSession {
    /// Session.
    pub id: Uuid,
    /// Activity time.
    pub now: Timestamp,
    /// New expiry.
    pub expires_at: Timestamp,
}

/// Hard-delete a session and everything of it.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct DeleteSession {
    /// Session.
    pub id: Uuid,
}

/// Load a session's wrapped data key.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<WrappedKey>, PipelineError>")]
pub struct LoadSessionKey {
    /// Session.
    pub id: Uuid,
}

/// Count, crisis flag and highest sequence of a session's messages.
#[derive(Debug, Message)]
#[rtype(result = "Result<MessageStats, PipelineError>")]
pub struct LoadMessageStats {
    /// Session.
    pub session_id: Uuid,
}

/// Load a session's sealed conversation context.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<StoredContext>, PipelineError>")]
pub struct LoadContext {
    /// Session.
    pub session_id: Uuid,
}

/// A page of a session's messages, oldest first.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<StoredMessage>, PipelineError>")]
pub struct ListMessages {
    /// Session.
    pub session_id: Uuid,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// The newest messages of a session, oldest first.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<StoredMessage>, PipelineError>")]
pub struct RecentMessages {
    /// Session.
    pub session_id: Uuid,
    /// How many.
    pub limit: i64,
}

/// One message of a session.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<StoredMessage>, PipelineError>")]
pub struct GetMessage {
    /// Session.
    pub session_id: Uuid,
    /// Message.
    pub id: Uuid,
}

/// Delete one message of a session.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct DeleteMessage {
    /// Session.
    pub session_id: Uuid,
    /// Message.
    pub id: Uuid,
}

/// Delete every message and the context of a session.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, PipelineError>")]
pub struct DeleteMessages {
    /// Session.
    pub session_id: Uuid,
}

/// Store a session's feedback (`Store(Conflict)` when it already gave some).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct InsertFeedback {
    /// The feedback.
    pub feedback: NewFeedback,
}

/// Delete a batch of expired sessions, returning their ids.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<Uuid>, PipelineError>")]
pub struct ExpireSessions {
    /// Expiry cut-off.
    pub now: Timestamp,
    /// Batch size.
    pub batch: i64,
}

/// Delete a batch of old health snapshots.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, PipelineError>")]
pub struct PurgeHealthSnapshots {
    /// Cut-off.
    pub before: Timestamp,
    /// Batch size.
    pub batch: i64,
}

/// Record a health snapshot.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct RecordHealthSnapshot {
    /// The snapshot.
    pub snapshot: HealthSnapshot,
    /// When.
    pub at: Timestamp,
}

/// Sessions not yet expired.
#[derive(Debug, Message)]
#[rtype(result = "Result<i64, PipelineError>")]
pub struct CountActiveSessions {
    /// Now.
    pub now: Timestamp,
}

/// Messages and crisis detections since an instant.
#[derive(Debug, Message)]
#[rtype(result = "Result<(i64, i64), PipelineError>")]
pub struct CountActivitySince {
    /// Start of the interval.
    pub since: Timestamp,
}

/// Size of the database in bytes.
#[derive(Debug, Message)]
#[rtype(result = "Result<i64, PipelineError>")]
pub struct MeasureDatabase;

/// Every crisis rule.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<RuleRecord>, PipelineError>")]
pub struct LoadRules;

/// Fingerprint of the rule set, to notice changes.
#[derive(Debug, Message)]
#[rtype(result = "Result<String, PipelineError>")]
pub struct LoadRulesFingerprint;

/// A round trip to the database, for health checks.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct Ping;

/// Quick exit: shred the key of the session with this token, revoke the token, mark it expired.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<Uuid>, PipelineError>")]
pub struct ShredSession {
    /// HMAC of the token.
    pub token_hash: TokenHash,
    /// Now.
    pub now: Timestamp,
}

/// Claim an idempotency key, or find the row already under it.
#[derive(Debug, Message)]
#[rtype(result = "Result<super::ClaimOutcome, PipelineError>")]
pub struct ClaimIdempotencyKey {
    /// The claim.
    pub claim: super::IdempotencyClaim,
}

/// Keep the sealed first answer under a claimed idempotency key.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct CompleteIdempotencyKey {
    /// Keyed hash of the key.
    pub key_hash: Vec<u8>,
    /// The session the answer created or belongs to.
    pub session_id: Option<Uuid>,
    /// HTTP status.
    pub status: i32,
    /// Sealed body.
    pub response: Vec<u8>,
    /// Now.
    pub now: Timestamp,
}

/// Give an unfinished idempotency claim up, so a retry runs afresh.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct ReleaseIdempotencyKey {
    /// Keyed hash of the key.
    pub key_hash: Vec<u8>,
}

/// Delete a batch of expired idempotency keys.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, PipelineError>")]
pub struct PurgeIdempotencyKeys {
    /// Cut-off.
    pub now: Timestamp,
    /// Batch size.
    pub batch: i64,
}
