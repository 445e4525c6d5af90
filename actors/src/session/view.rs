//! What the session actor answers with: decrypted, in memory only. The HTTP front door shapes
//! these for the wire.

use crate::crisis::CrisisInfo;
use crate::domain::{Language, Role};
use crate::persistence::Timestamp;
use uuid::Uuid;

/// A chat message as the API shows it.
#[derive(Debug, Clone)]
pub struct ChatMessage {
    /// Message id.
    pub id: Uuid,
    /// The session's id.
    pub session_id: Uuid,
    /// Its place in the session's order (not shown in the message body; event ids derive from it).
    pub seq: i64,
    /// `user`, `assistant`, or `counsellor` (a counsellor the person asked for).
    pub role: Role,
    /// The text; `null` when the stored record failed its integrity check.
    pub content: Option<String>,
    /// Commit time (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// What produced an assistant message.
    pub model_used: Option<String>,
    /// Milliseconds spent producing the reply.
    pub processing_time_ms: Option<i32>,
    /// Whether the crisis detector flagged this message.
    pub is_crisis_detected: bool,
    /// True only when the stored record could not be decrypted.
    pub integrity_error: bool,
}

/// The reply to a posted message.
#[derive(Debug, Clone)]
pub struct PostedMessage {
    /// The user's message as committed.
    pub user_message: ChatMessage,
    /// The reply as committed; `None` while a counsellor has the conversation (they answer).
    pub ai_message: Option<ChatMessage>,
    /// The crisis card when the message was a crisis.
    pub crisis_info: Option<CrisisInfo>,
    /// Shown with the reply: `ai_disclosure` on the session's first, `break_reminder` after a long
    /// stretch of use or late at night in Vietnam, otherwise null.
    pub notice: Option<super::notice::Notice>,
}

/// A page of history.
#[derive(Debug, Clone)]
pub struct History {
    /// Messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Messages in the whole session.
    pub total_count: i64,
    /// The session's id.
    pub session_id: Uuid,
    /// Whether any message of the session was a crisis.
    pub has_crisis_history: bool,
}

/// A session's status.
#[derive(Debug, Clone)]
pub struct SessionStatus {
    /// The conversation is in crisis: every reply carries crisis support until a concrete safety
    /// step is named or the conversation has been quiet for the configured period.
    pub is_crisis_mode: bool,
    /// The conversation's risk: `none`, `elevated` (worrying, not yet a crisis) or `crisis`.
    pub risk: crate::crisis::RiskLevel,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last use.
    pub last_activity: Timestamp,
    /// Expiry time.
    pub expires_at: Timestamp,
    /// Messages in the session.
    pub message_count: i64,
    /// The session's language.
    pub language: Language,
}

/// A stored feedback, as acknowledged.
#[derive(Debug, Clone)]
pub struct FeedbackReceipt {
    /// Feedback id.
    pub id: Uuid,
    /// The session's id.
    pub session_id: Uuid,
    /// 1..5.
    pub rating: i16,
    /// Optional category.
    pub category: Option<String>,
    /// Submission time.
    pub created_at: Timestamp,
}
