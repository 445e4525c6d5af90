//! The persistence actor's interface: one struct per message, each with its reply type.
//! Reads run concurrently on the pool; writes of chat messages go through group commit.

use super::actor::PersistenceActor;
use super::records::{
    Committed, HealthSnapshot, MessageStats, NewFeedback, NewSession, RuleRecord, SessionRecord,
    StoredContext, StoredMessage, WrappedKey, WriteOp,
};
use super::time::Timestamp;
use crate::crypto::TokenHash;
use crate::error::PipelineError;
use actix::{Handler, Message, ResponseFuture};
use uuid::Uuid;

/// Declares a message answered by one store call, run concurrently on the pool.
macro_rules! store_request {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? } -> $out:ty,
     |$store:ident, $msg:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }

        impl Message for $name {
            type Result = Result<$out, PipelineError>;
        }

        impl Handler<$name> for PersistenceActor {
            type Result = ResponseFuture<Result<$out, PipelineError>>;

            #[allow(unused_variables)]
            fn handle(&mut self, $msg: $name, _ctx: &mut Self::Context) -> Self::Result {
                let $store = self.store.clone();
                Box::pin(async move { Ok($body.await?) })
            }
        }
    };
}

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

store_request!(
    /// Create a session with its wrapped data key.
    InsertSession { /** The session. */ session: NewSession } -> (),
    |store, msg| store.insert_session(&msg.session)
);
store_request!(
    /// Find a session by the keyed hash of its token.
    FindSessionByToken { /** HMAC of the token. */ token_hash: TokenHash } -> Option<SessionRecord>,
    |store, msg| store.session_by_token_hash(msg.token_hash.as_bytes())
);
store_request!(
    /// A session with its version, to check or reload a session actor's copy.
    LoadVersionedSession { /** Session. */ id: Uuid } -> Option<(SessionRecord, i64)>,
    |store, msg| store.session_with_version(msg.id)
);
store_request!(
    /// A session's user messages awaiting their reply, committed by a given instant.
    LoadAwaitingMessages { /** Session. */ session_id: Uuid, /** Committed at or before. */ committed_by: Timestamp } -> Vec<StoredMessage>,
    |store, msg| store.awaiting_messages(msg.session_id, msg.committed_by)
);
store_request!(
    /// Unexpired sessions with a user message awaiting its reply since a given instant, and
    /// their token hashes.
    FindOrphanedSessions { /** Awaiting since at least. */ committed_by: Timestamp, /** Expiry cut-off. */ now: Timestamp, /** At most. */ limit: i64 } -> Vec<(SessionRecord, [u8; 32])>,
    |store, msg| store.sessions_with_orphans(msg.committed_by, msg.now, msg.limit)
);
store_request!(
    /// Record activity on a session.
    RecordActivity { /** Session. */ id: Uuid, /** Activity time. */ now: Timestamp } -> bool,
    |store, msg| store.touch_session(msg.id, msg.now)
);
store_request!(
    /// Extend a session's life.
    ExtendSession { /** Session. */ id: Uuid, /** Activity time. */ now: Timestamp, /** New expiry. */ expires_at: Timestamp } -> bool,
    |store, msg| store.refresh_session(msg.id, msg.now, msg.expires_at)
);
store_request!(
    /// Hard-delete a session and everything of it.
    DeleteSession { /** Session. */ id: Uuid } -> bool,
    |store, msg| store.delete_session(msg.id)
);
store_request!(
    /// Load a session's wrapped data key.
    LoadSessionKey { /** Session. */ id: Uuid } -> Option<WrappedKey>,
    |store, msg| store.session_key(msg.id)
);
store_request!(
    /// Count, crisis flag and highest sequence of a session's messages.
    LoadMessageStats { /** Session. */ session_id: Uuid } -> MessageStats,
    |store, msg| store.message_stats(msg.session_id)
);
store_request!(
    /// Load a session's sealed conversation context.
    LoadContext { /** Session. */ session_id: Uuid } -> Option<StoredContext>,
    |store, msg| store.load_context(msg.session_id)
);
store_request!(
    /// A page of a session's messages, oldest first.
    ListMessages { /** Session. */ session_id: Uuid, /** Page size. */ limit: i64, /** Rows to skip. */ offset: i64 } -> Vec<StoredMessage>,
    |store, msg| store.list_messages(msg.session_id, msg.limit, msg.offset)
);
store_request!(
    /// The newest messages of a session, oldest first.
    RecentMessages { /** Session. */ session_id: Uuid, /** How many. */ limit: i64 } -> Vec<StoredMessage>,
    |store, msg| store.recent_messages(msg.session_id, msg.limit)
);
store_request!(
    /// One message of a session.
    GetMessage { /** Session. */ session_id: Uuid, /** Message. */ id: Uuid } -> Option<StoredMessage>,
    |store, msg| store.get_message(msg.session_id, msg.id)
);
store_request!(
    /// Delete one message of a session.
    DeleteMessage { /** Session. */ session_id: Uuid, /** Message. */ id: Uuid } -> bool,
    |store, msg| store.delete_message(msg.session_id, msg.id)
);
store_request!(
    /// Delete every message and the context of a session.
    DeleteMessages { /** Session. */ session_id: Uuid } -> u64,
    |store, msg| store.delete_messages(msg.session_id)
);
store_request!(
    /// Store a session's feedback (`Store(Conflict)` when it already gave some).
    InsertFeedback { /** The feedback. */ feedback: NewFeedback } -> (),
    |store, msg| store.insert_feedback(&msg.feedback)
);
store_request!(
    /// Delete a batch of expired sessions, returning their ids.
    ExpireSessions { /** Expiry cut-off. */ now: Timestamp, /** Batch size. */ batch: i64 } -> Vec<Uuid>,
    |store, msg| store.delete_expired_sessions(msg.now, msg.batch)
);
store_request!(
    /// Delete a batch of old health snapshots.
    PurgeHealthSnapshots { /** Cut-off. */ before: Timestamp, /** Batch size. */ batch: i64 } -> u64,
    |store, msg| store.delete_health_before(msg.before, msg.batch)
);
store_request!(
    /// Record a health snapshot.
    RecordHealthSnapshot { /** The snapshot. */ snapshot: HealthSnapshot, /** When. */ at: Timestamp } -> (),
    |store, msg| store.insert_health_snapshot(&msg.snapshot, msg.at)
);
store_request!(
    /// Sessions not yet expired.
    CountActiveSessions { /** Now. */ now: Timestamp } -> i64,
    |store, msg| store.active_session_count(msg.now)
);
store_request!(
    /// Messages and crisis detections since an instant.
    CountActivitySince { /** Start of the interval. */ since: Timestamp } -> (i64, i64),
    |store, msg| store.messages_since(msg.since)
);
store_request!(
    /// Size of the database in bytes.
    MeasureDatabase {} -> i64,
    |store, msg| store.database_bytes()
);
store_request!(
    /// Every crisis rule.
    LoadRules {} -> Vec<RuleRecord>,
    |store, msg| store.list_rules()
);
store_request!(
    /// Fingerprint of the rule set, to notice changes.
    LoadRulesFingerprint {} -> String,
    |store, msg| store.rules_fingerprint()
);
store_request!(
    /// A round trip to the database, for health checks.
    Ping {} -> (),
    |store, msg| store.ping()
);
store_request!(
    /// Quick exit: shred the key of the session with this token, revoke the token, mark it expired.
    ShredSession { /** HMAC of the token. */ token_hash: TokenHash, /** Now. */ now: Timestamp } -> Option<Uuid>,
    |store, msg| store.shred_session(msg.token_hash.as_bytes(), msg.now)
);
store_request!(
    /// Claim an idempotency key, or find the row already under it.
    ClaimIdempotencyKey { /** The claim. */ claim: super::IdempotencyClaim } -> super::ClaimOutcome,
    |store, msg| store.claim_idempotency_key(&msg.claim)
);
store_request!(
    /// Keep the sealed first answer under a claimed idempotency key.
    CompleteIdempotencyKey {
        /** Keyed hash of the key. */ key_hash: Vec<u8>,
        /** The session the answer created or belongs to. */ session_id: Option<Uuid>,
        /** HTTP status. */ status: i32,
        /** Sealed body. */ response: Vec<u8>,
        /** Now. */ now: Timestamp
    } -> (),
    |store, msg| store.complete_idempotency_key(&msg.key_hash, msg.session_id, msg.status, &msg.response, msg.now)
);
store_request!(
    /// Give an unfinished idempotency claim up, so a retry runs afresh.
    ReleaseIdempotencyKey { /** Keyed hash of the key. */ key_hash: Vec<u8> } -> (),
    |store, msg| store.release_idempotency_key(&msg.key_hash)
);
store_request!(
    /// Delete a batch of expired idempotency keys.
    PurgeIdempotencyKeys { /** Cut-off. */ now: Timestamp, /** Batch size. */ batch: i64 } -> u64,
    |store, msg| store.delete_expired_idempotency_keys(msg.now, msg.batch)
);
