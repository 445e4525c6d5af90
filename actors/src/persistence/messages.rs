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

/// Unexpired sessions with a user message awaiting its reply since a given instant, and their
/// token hashes.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<(SessionRecord, [u8; 32])>, PipelineError>")]
pub struct FindOrphanedSessions {
    /// Awaiting since at least.
    pub committed_by: Timestamp,
    /// Expiry cut-off.
    pub now: Timestamp,
    /// At most.
    pub limit: i64,
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

/// Hard-delete a session and everything of it, while `token_hash` still names it.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct DeleteSession {
    /// Session.
    pub id: Uuid,
    /// The token the caller found it by.
    pub token_hash: TokenHash,
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

/// Store a new handoff with its wrapped key and shared material (`Store(Conflict)` when the
/// session already has one open).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct InsertHandoff {
    /// The handoff.
    pub handoff: crate::handoff::NewHandoff,
}

/// The session's open handoff, else its latest.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<crate::handoff::HandoffRecord>, PipelineError>")]
pub struct LoadSessionHandoff {
    /// Session.
    pub session_id: Uuid,
}

/// A counsellor's handoffs: those they have now, and those that ended since `ended_since`.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<crate::handoff::HandoffRecord>, PipelineError>")]
pub struct ListStaffHandoffs {
    /// The counsellor.
    pub staff_id: Uuid,
    /// Ended handoffs before this are left out.
    pub ended_since: Timestamp,
}

/// One handoff by id.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<crate::handoff::HandoffRecord>, PipelineError>")]
pub struct LoadHandoff {
    /// Handoff.
    pub id: Uuid,
}

/// The waiting handoffs, highest risk first, then longest wait.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<crate::handoff::HandoffRecord>, PipelineError>")]
pub struct ListQueuedHandoffs {
    /// Most rows.
    pub limit: i64,
}

/// Where a queued handoff stands (1 = next).
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<i64>, PipelineError>")]
pub struct LoadQueuePosition {
    /// Handoff.
    pub id: Uuid,
}

/// Queue length, handoffs assigned and the recent mean wait.
#[derive(Debug, Message)]
#[rtype(result = "Result<crate::handoff::QueueFigures, PipelineError>")]
pub struct LoadQueueFigures {}

/// End the session's open handoff on the person's word.
#[derive(Debug, Message)]
#[rtype(
    result = "Result<Option<(crate::handoff::HandoffRecord, super::Withdrawal)>, PipelineError>"
)]
pub struct WithdrawHandoff {
    /// Session.
    pub session_id: Uuid,
    /// Now.
    pub now: Timestamp,
    /// How long a counsellor who had it may still read it.
    pub retention: std::time::Duration,
}

/// A counsellor takes a queued handoff; false when it was not queued.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct ClaimHandoff {
    /// Handoff.
    pub id: Uuid,
    /// Counsellor.
    pub staff_id: Uuid,
    /// Now.
    pub now: Timestamp,
}

/// The counsellor who has it closes a handoff; false when it was not theirs and assigned.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct CloseHandoff {
    /// Handoff.
    pub id: Uuid,
    /// Counsellor.
    pub staff_id: Uuid,
    /// How it ended.
    pub outcome: crate::handoff::Outcome,
    /// Now.
    pub now: Timestamp,
    /// When its key is destroyed.
    pub shred_after: Timestamp,
}

/// Raise the risk of the session's open handoff (never lower it).
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct RaiseHandoffRisk {
    /// Session.
    pub session_id: Uuid,
    /// New level.
    pub risk: crate::crisis::RiskLevel,
}

/// A handoff's wrapped key, until it is destroyed.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<WrappedKey>, PipelineError>")]
pub struct LoadHandoffKey {
    /// Handoff.
    pub id: Uuid,
}

/// Everything a counsellor may read of a handoff, sealed, in order.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<crate::handoff::SealedEntry>, PipelineError>")]
pub struct LoadHandoffEntries {
    /// Handoff.
    pub id: Uuid,
}

/// Add one sealed entry at the end of a handoff: false when its key was destroyed meanwhile
/// (the handoff ended), and nothing was stored.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct AppendHandoffEntry {
    /// Handoff.
    pub handoff_id: Uuid,
    /// The entry.
    pub entry: crate::handoff::SealedEntry,
}

/// Destroy the keys and entries of ended handoffs past their retention, in a batch.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, PipelineError>")]
pub struct ShredEndedHandoffs {
    /// Now.
    pub now: Timestamp,
    /// Batch size.
    pub batch: i64,
}

/// Ended handoffs counted by risk and outcome.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<(String, String, i64)>, PipelineError>")]
pub struct CountHandoffOutcomes {}

/// Record who did what to which handoff: ids and an action only.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct LogHandoffAccess {
    /// Staff member, when one acted.
    pub staff_id: Option<Uuid>,
    /// Handoff.
    pub handoff_id: Uuid,
    /// What was done.
    pub action: &'static str,
    /// When.
    pub at: Timestamp,
}

/// Create a staff account (`Store(Conflict)` when the user name is taken).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct InsertStaff {
    /// The account.
    pub staff: super::StaffRecord,
}

/// The staff account with this lowercase user name.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<super::StaffRecord>, PipelineError>")]
pub struct FindStaffByUsername {
    /// User name.
    pub username: String,
}

/// Record a staff sign-in token by its keyed hash.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct InsertStaffToken {
    /// Keyed hash of the token.
    pub token_hash: TokenHash,
    /// Account.
    pub staff_id: Uuid,
    /// End of the shift.
    pub expires_at: Timestamp,
    /// Now.
    pub now: Timestamp,
}

/// Who an unexpired sign-in token of an enabled account names.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<crate::staff::StaffIdentity>, PipelineError>")]
pub struct FindStaffByToken {
    /// Keyed hash of the token.
    pub token_hash: TokenHash,
    /// Now.
    pub now: Timestamp,
}

/// End one staff sign-in.
#[derive(Debug, Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct DeleteStaffToken {
    /// Keyed hash of the token.
    pub token_hash: TokenHash,
}

/// How many enabled people who may work the queue are signed in.
#[derive(Debug, Message)]
#[rtype(result = "Result<i64, PipelineError>")]
pub struct CountQueueStaffSignedIn {
    /// Now.
    pub now: Timestamp,
}

/// Delete a batch of expired staff sign-in tokens.
#[derive(Debug, Message)]
#[rtype(result = "Result<u64, PipelineError>")]
pub struct PurgeStaffTokens {
    /// Cut-off.
    pub now: Timestamp,
    /// Batch size.
    pub batch: i64,
}

/// The opening hours an admin stored, if any.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<super::StoredOpeningHours>, PipelineError>")]
pub struct LoadOpeningHours {}

/// Store opening hours that override the configuration's.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct SaveOpeningHours {
    /// The hours.
    pub hours: super::StoredOpeningHours,
}

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
