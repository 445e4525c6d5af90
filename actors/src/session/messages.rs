//! The session actor's and the registry's interfaces: one struct per message and its reply.

use super::actor::SessionActor;
use super::view::{ChatMessage, FeedbackReceipt, History, PostedMessage, SessionStatus};
use crate::domain::Language;
use crate::error::PipelineError;
use crate::mailbox::Mailbox;
use crate::persistence::{SessionRecord, Timestamp};
use actix::Message;
use uuid::Uuid;

/// Run one chat message through the pipeline and answer with both committed messages.
#[derive(Message)]
#[rtype(result = "Result<PostedMessage, PipelineError>")]
pub struct PostMessage {
    /// Trimmed, validated text.
    pub content: String,
}

/// A page of the session's history.
#[derive(Message)]
#[rtype(result = "Result<History, PipelineError>")]
pub struct ListHistory {
    /// Page size (1..=200).
    pub limit: i64,
    /// Messages to skip.
    pub offset: i64,
}

/// One message of the session.
#[derive(Message)]
#[rtype(result = "Result<ChatMessage, PipelineError>")]
pub struct FetchMessage {
    /// The message id.
    pub id: Uuid,
}

/// Delete one message of the session; answers the deletion time.
#[derive(Message)]
#[rtype(result = "Result<Timestamp, PipelineError>")]
pub struct RemoveMessage {
    /// The message id.
    pub id: Uuid,
}

/// Delete every message of the session and the context built from them.
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct ClearHistory;

/// The session's status.
#[derive(Message)]
#[rtype(result = "Result<SessionStatus, PipelineError>")]
pub struct GetStatus;

/// Record activity and answer the status.
#[derive(Message)]
#[rtype(result = "Result<SessionStatus, PipelineError>")]
pub struct TouchSession;

/// Extend the session's life by the configured lifetime and answer the status.
#[derive(Message)]
#[rtype(result = "Result<SessionStatus, PipelineError>")]
pub struct RefreshSession;

/// Store the session's one feedback.
#[derive(Message)]
#[rtype(result = "Result<FeedbackReceipt, PipelineError>")]
pub struct SubmitFeedback {
    /// 1..=5.
    pub rating: i16,
    /// Optional category code.
    pub category: Option<String>,
    /// Optional free text (sealed before storage).
    pub text: Option<String>,
}

/// Stop this session actor (deleted, expired, evicted or idle).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopSession;

/// A live session: its id and the bounded mailbox of its actor.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    /// The session's id.
    pub session_id: Uuid,
    /// Where to send its work.
    pub mailbox: Mailbox<SessionActor>,
}

/// Find the session of a token and its live actor, starting one if needed.
#[derive(Message)]
#[rtype(result = "Result<SessionHandle, PipelineError>")]
pub struct OpenSession {
    /// HMAC of the token.
    pub token_hash: [u8; 32],
}

/// A new session and the token that names it (the only time the token exists server-side).
#[derive(Debug)]
pub struct CreatedSession {
    /// `anon_…`; returned to the client once, never stored or logged.
    pub token: String,
    /// The stored session.
    pub record: SessionRecord,
}

/// Open a new anonymous session.
#[derive(Message)]
#[rtype(result = "Result<CreatedSession, PipelineError>")]
pub struct CreateSession {
    /// Language of replies and crisis cards.
    pub language: Language,
}

/// Delete a session and everything of it, and stop its actor.
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct CloseSession {
    /// HMAC of the token.
    pub token_hash: [u8; 32],
}

/// Stop the actors of sessions deleted elsewhere (janitor, another instance).
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct EvictSessions {
    /// Deleted session ids.
    pub ids: Vec<Uuid>,
    /// Announce the deletions to other instances (false when the news came from one).
    pub announce: bool,
}

/// How many session actors are alive.
#[derive(Message)]
#[rtype(result = "Result<usize, PipelineError>")]
pub struct CountLiveSessions;

/// Refuse new work and stop every session actor (graceful shutdown).
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct DrainSessions;
