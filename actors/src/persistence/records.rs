//! What the store reads and writes. Content fields are sealed bytes, never plaintext.

use super::time::Timestamp;
use crate::crisis::RiskLevel;
use crate::crypto::TokenHash;
use crate::domain::{FeedbackCategory, Language, Rating, Role};
use uuid::Uuid;

/// A session as stored (the token is not here: only its keyed hash exists, in the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session's id (never shown to the client, who only knows the token).
    pub id: Uuid,
    /// Language of replies and crisis cards.
    pub language: Language,
    /// True while the conversation is in crisis (`risk_level == Crisis`).
    pub is_crisis_mode: bool,
    /// The conversation's risk; its category and severity are sealed in the context.
    pub risk_level: RiskLevel,
    /// The last time the client used the session.
    pub last_activity: Timestamp,
    /// After this instant the session answers `session_expired` until the janitor removes it.
    pub expires_at: Timestamp,
    /// When the session was opened.
    pub created_at: Timestamp,
}

impl SessionRecord {
    /// Whether the session is past its expiry at `now`.
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: Uuid,
    pub language: String,
    pub is_crisis_mode: bool,
    pub risk_level: String,
    pub last_activity: Timestamp,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrphanedSessionRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    pub token_hash: Vec<u8>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct VersionedSessionRow {
    #[sqlx(flatten)]
    pub session: SessionRow,
    pub version: i64,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = super::StoreError;

    fn try_from(row: SessionRow) -> Result<Self, Self::Error> {
        Ok(SessionRecord {
            id: row.id,
            language: Language::parse(&row.language)
                .ok_or(super::StoreError::Corrupt("unknown language code"))?,
            is_crisis_mode: row.is_crisis_mode,
            risk_level: RiskLevel::parse(&row.risk_level)
                .ok_or(super::StoreError::Corrupt("unknown risk level"))?,
            last_activity: row.last_activity,
            expires_at: row.expires_at,
            created_at: row.created_at,
        })
    }
}

/// Everything needed to open a session in one transaction.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Fresh random id.
    pub id: Uuid,
    /// HMAC-SHA-256 of the token.
    pub token_hash: TokenHash,
    /// Chosen language.
    pub language: Language,
    /// Creation instant.
    pub created_at: Timestamp,
    /// Creation plus the session lifetime.
    pub expires_at: Timestamp,
    /// The session's data key, wrapped by the master key.
    pub wrapped_key: WrappedKey,
}

/// A session's data key as stored: sealed by the master key whose id is given.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WrappedKey {
    /// Id of the master key that wrapped it (for rotation queries).
    pub key_id: i64,
    /// The sealed data key.
    pub wrapped_key: Vec<u8>,
}

/// A chat message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Message id.
    pub id: Uuid,
    /// Owning session.
    pub session_id: Uuid,
    /// Position in the session.
    pub seq: i64,
    /// Author.
    pub role: Role,
    /// Sealed content.
    pub content: Vec<u8>,
    /// What produced an assistant message.
    pub model_used: Option<String>,
    /// Time spent producing it.
    pub processing_time_ms: Option<i32>,
    /// Whether the crisis detector flagged this message.
    pub is_crisis_detected: bool,
    /// When it was committed.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub id: Uuid,
    pub session_id: Uuid,
    pub seq: i64,
    pub role: String,
    pub content: Vec<u8>,
    pub model_used: Option<String>,
    pub processing_time_ms: Option<i32>,
    pub is_crisis_detected: bool,
    pub created_at: Timestamp,
}

impl TryFrom<MessageRow> for StoredMessage {
    type Error = super::StoreError;

    fn try_from(row: MessageRow) -> Result<Self, Self::Error> {
        Ok(StoredMessage {
            id: row.id,
            session_id: row.session_id,
            seq: row.seq,
            role: Role::parse(&row.role).ok_or(super::StoreError::Corrupt("unknown role"))?,
            content: row.content,
            model_used: row.model_used,
            processing_time_ms: row.processing_time_ms,
            is_crisis_detected: row.is_crisis_detected,
            created_at: row.created_at,
        })
    }
}

/// Aggregates over a whole session's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageStats {
    /// Number of messages.
    pub total: i64,
    /// Whether any message was flagged as a crisis.
    pub has_crisis: bool,
    /// Highest sequence number used, 0 when empty.
    pub max_seq: i64,
}

/// The sealed conversation context (recent turns for the responder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContext {
    /// Sealed JSON of the recent turns.
    pub sealed: Vec<u8>,
    /// How many turns it holds.
    pub turn_count: i32,
}

/// A write the persistence actor commits, possibly batched with others in one transaction.
///
/// The database serialises a session's writes: sequence numbers of new exchanges are handed out
/// by the committing transaction from the session row's counter (whatever `seq` the caller put
/// in them is replaced), and a write that names the session version it was prepared against is
/// refused with [`StoreError::VersionConflict`](super::StoreError::VersionConflict) when another
/// writer changed the session since.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// A user's message and its reply with the refreshed context, all or nothing, so that a
    /// failed request leaves nothing behind that a retry would duplicate.
    Exchange {
        /// The user's message.
        user: StoredMessage,
        /// The reply.
        reply: StoredMessage,
        /// The new sealed context; its record id is the session id.
        context: StoredContext,
        /// The conversation's new risk level, when this message changed it.
        risk_change: Option<RiskLevel>,
        /// The session version the exchange was prepared against (`None`: do not check).
        expected_version: Option<i64>,
    },
    /// A user's message committed before its reply is generated (a streamed reply), marked as
    /// awaiting its answer; the sequence number after it is kept for that answer.
    UserMessage {
        /// The message.
        message: StoredMessage,
        /// The conversation's new risk level, when this message changed it.
        risk_change: Option<RiskLevel>,
        /// The session version the message was prepared against (`None`: do not check).
        expected_version: Option<i64>,
    },
    /// The answer to a user message committed earlier, at the sequence number after it, with
    /// the refreshed context.
    Reply {
        /// The reply; its `seq` is the answered message's plus one.
        message: StoredMessage,
        /// The new sealed context; its record id is the session id.
        context: StoredContext,
        /// The user message it answers.
        answers: Uuid,
        /// The session version the reply was prepared against (`None`: do not check).
        expected_version: Option<i64>,
    },
    /// A message that answers nothing and awaits no answer: the young person's while a
    /// counsellor is assigned (the counsellor answers, in their own time). The counsellor's own
    /// messages do not come through here (see `Store::insert_counsellor_message`).
    Standalone {
        /// The message.
        message: StoredMessage,
        /// The conversation's new risk level, when this message changed it.
        risk_change: Option<RiskLevel>,
        /// The session version the message was prepared against (`None`: do not check).
        expected_version: Option<i64>,
    },
    /// Take back messages of a request that failed, and the context that may quote them.
    /// Queued behind any write of theirs still in flight, so it also removes a write that
    /// lands after its caller gave up waiting.
    Retract {
        /// The session.
        session_id: Uuid,
        /// The messages to remove (missing ones are ignored).
        ids: Vec<Uuid>,
    },
}

/// What a committed write left on its session row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The session's version after the write.
    pub version: i64,
    /// The sequence number of the first message the write inserted (0 when it inserted none).
    pub seq: i64,
}

impl WriteOp {
    /// The session the write belongs to.
    pub fn session_id(&self) -> Uuid {
        match self {
            WriteOp::Exchange { user: message, .. }
            | WriteOp::UserMessage { message, .. }
            | WriteOp::Standalone { message, .. }
            | WriteOp::Reply { message, .. } => message.session_id,
            WriteOp::Retract { session_id, .. } => *session_id,
        }
    }

    /// The version the write expects the session to be at, if it checks one.
    pub fn expected_version(&self) -> Option<i64> {
        match self {
            WriteOp::Exchange {
                expected_version, ..
            }
            | WriteOp::UserMessage {
                expected_version, ..
            }
            | WriteOp::Standalone {
                expected_version, ..
            }
            | WriteOp::Reply {
                expected_version, ..
            } => *expected_version,
            WriteOp::Retract { .. } => None,
        }
    }

    /// How many sequence numbers the write takes from the session's counter.
    pub fn sequence_slots(&self) -> i64 {
        match self {
            WriteOp::Exchange { .. } | WriteOp::UserMessage { .. } => 2,
            WriteOp::Standalone { .. } => 1,
            WriteOp::Reply { .. } | WriteOp::Retract { .. } => 0,
        }
    }

    /// The new risk level the write records, if any.
    pub fn risk_change(&self) -> Option<RiskLevel> {
        match self {
            WriteOp::Exchange { risk_change, .. }
            | WriteOp::UserMessage { risk_change, .. }
            | WriteOp::Standalone { risk_change, .. } => *risk_change,
            WriteOp::Reply { .. } | WriteOp::Retract { .. } => None,
        }
    }

    /// The context the write stores, if any.
    pub fn context(&self) -> Option<(&StoredMessage, &StoredContext)> {
        match self {
            WriteOp::Exchange { reply, context, .. } => Some((reply, context)),
            WriteOp::Reply {
                message, context, ..
            } => Some((message, context)),
            WriteOp::UserMessage { .. } | WriteOp::Standalone { .. } | WriteOp::Retract { .. } => {
                None
            }
        }
    }

    /// The messages the write inserts, each with whether it awaits a reply, given the last
    /// sequence number the write's slots end at.
    pub fn messages_at(&self, last_seq: i64) -> Vec<(StoredMessage, bool)> {
        match self {
            WriteOp::Exchange { user, reply, .. } => vec![
                (
                    StoredMessage {
                        seq: last_seq - 1,
                        ..user.clone()
                    },
                    false,
                ),
                (
                    StoredMessage {
                        seq: last_seq,
                        ..reply.clone()
                    },
                    false,
                ),
            ],
            WriteOp::UserMessage { message, .. } => vec![(
                StoredMessage {
                    seq: last_seq - 1,
                    ..message.clone()
                },
                true,
            )],
            WriteOp::Standalone { message, .. } => vec![(
                StoredMessage {
                    seq: last_seq,
                    ..message.clone()
                },
                false,
            )],
            WriteOp::Reply { message, .. } => vec![(message.clone(), false)],
            WriteOp::Retract { .. } => Vec::new(),
        }
    }
}

/// A feedback submission.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    /// Fresh id (also the AAD record id of the sealed text).
    pub id: Uuid,
    /// The session giving feedback.
    pub session_id: Uuid,
    /// The rating.
    pub rating: Rating,
    /// What it is about, when the person said.
    pub category: Option<FeedbackCategory>,
    /// Sealed free text.
    pub text: Option<Vec<u8>>,
    /// Submission instant.
    pub created_at: Timestamp,
}

/// One crisis rule row of `blocked_keywords`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RuleRecord {
    /// Stable rule id shown in logs and `--explain`.
    pub rule_id: String,
    /// The phrase (operator data, stored readable).
    pub pattern: String,
    /// Crisis category, or signal type for signals.
    pub category: String,
    /// Severity of a phrase match.
    pub severity: Option<String>,
    /// `vi`, `en` or `any`.
    pub language: String,
    /// `phrase`, `exception` or `signal`.
    pub kind: String,
    /// Disabled rules stay stored but are not compiled.
    pub enabled: bool,
}

/// One row of `system_health_metrics` as recorded by the janitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct HealthSnapshot {
    /// Sessions not yet expired.
    pub active_sessions: i64,
    /// Session actors alive on this instance.
    pub live_session_actors: i64,
    /// Messages committed since the previous snapshot.
    pub messages_interval: i64,
    /// Crisis detections since the previous snapshot.
    pub crisis_interval: i64,
    /// Size of the database.
    pub database_bytes: i64,
    /// Pool connections open.
    pub pool_size: i32,
    /// Pool connections idle.
    pub pool_idle: i32,
}
