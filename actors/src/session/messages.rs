//! The session actor's interface: one struct per message and its reply.

use super::view::{ChatMessage, FeedbackReceipt, History, PostedMessage, SessionStatus};
use crate::domain::{FeedbackCategory, MessageText, Rating};
use crate::error::PipelineError;
use crate::persistence::Timestamp;
use actix::Message;
use uuid::Uuid;

/// Run one chat message through the pipeline and answer with both committed messages.
#[derive(Clone, Message)]
#[rtype(result = "Result<PostedMessage, PipelineError>")]
pub struct PostMessage {
    /// What the person wrote.
    pub content: MessageText,
}

/// A page of the session's history.
#[derive(Clone, Message)]
#[rtype(result = "Result<History, PipelineError>")]
pub struct ListHistory {
    /// Page size (1..=200).
    pub limit: i64,
    /// Messages to skip.
    pub offset: i64,
}

/// One message of the session.
#[derive(Clone, Message)]
#[rtype(result = "Result<ChatMessage, PipelineError>")]
pub struct FetchMessage {
    /// The message id.
    pub id: Uuid,
}

/// Delete one message of the session; answers the deletion time.
#[derive(Clone, Message)]
#[rtype(result = "Result<Timestamp, PipelineError>")]
pub struct RemoveMessage {
    /// The message id.
    pub id: Uuid,
}

/// Delete every message of the session and the context built from them.
#[derive(Clone, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct ClearHistory;

/// The session's status.
#[derive(Clone, Message)]
#[rtype(result = "Result<SessionStatus, PipelineError>")]
pub struct GetStatus;

/// Record activity and answer the status.
#[derive(Clone, Message)]
#[rtype(result = "Result<SessionStatus, PipelineError>")]
pub struct TouchSession;

/// Extend the session's life by the configured lifetime and answer the status.
#[derive(Clone, Message)]
#[rtype(result = "Result<SessionStatus, PipelineError>")]
pub struct RefreshSession;

/// Store the session's one feedback.
#[derive(Clone, Message)]
#[rtype(result = "Result<FeedbackReceipt, PipelineError>")]
pub struct SubmitFeedback {
    /// The rating.
    pub rating: Rating,
    /// What it is about, when said.
    pub category: Option<FeedbackCategory>,
    /// Optional free text (sealed before storage).
    pub text: Option<String>,
}

/// Answer the session's messages left awaiting their reply past the grace period, and this
/// actor's own failed ones at once (the janitor's orphan sweep; a streamed post that failed after
/// its message was stored). Answers what was answered.
#[derive(Clone, Message)]
#[rtype(result = "Result<Vec<super::recovery::Answered>, PipelineError>")]
pub struct AnswerAwaiting;

/// The session's handoff changed through this instance (asked for, claimed, closed, left; sent
/// by the registry to a live actor): the copy is reloaded now, so the next message is prepared
/// against the change instead of having its commit refused first.
#[derive(Message, Clone)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct HandoffChanged;

/// Stop this session actor (deleted, expired, evicted or idle).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopSession;
