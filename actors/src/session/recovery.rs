//! Every stored user message gets an answer. A streamed reply commits the user's message before
//! the reply exists; when the reply then fails (the database went away, the instance died, a
//! counsellor claimed the conversation meanwhile), the message is left awaiting. Whoever next
//! loads the session answers it with the built-in listener (or the safety protocol while the
//! conversation is in crisis), at the sequence number kept for it; while a counsellor has the
//! conversation it goes to them instead, as if the claim had come first. The version check makes
//! that exactly once across instances.

use super::deps::SessionDeps;
use super::handoff::ForCounsellor;
use super::pipeline::{SAFETY_MODEL, SealedReply, seal_reply, view};
use super::state::SessionState;
use super::view::ChatMessage;
use crate::crisis::{Assessment, Severity, safety_reply};
use crate::crypto::{Aad, Purpose};
use crate::domain::Role;
use crate::encryptor::OpenRecords;
use crate::error::PipelineError;
use crate::handoff::HandoffStatus;
use crate::persistence::messages::{Commit, LoadAwaitingMessages};
use crate::persistence::{StoreError, StoredMessage, Timestamp, WriteOp};
use crate::responder::{BUILTIN_MODEL, BuiltInResponder, ReplyRequest};
use std::time::Duration;
use uuid::Uuid;

/// How long a message may await its reply before someone else answers it, unless configured
/// (`janitor.orphan_grace_s`): longer than any streamed reply still running on another instance
/// takes.
pub const RECOVERY_GRACE: Duration = Duration::from_secs(120);

/// Answers the session's awaiting messages that are this actor's own failures or older than
/// the grace period (`SessionDeps::recovery_grace`), and returns each one answered now with its
/// reply. Best effort: what is not answered now is answered at a later load.
pub async fn answer_awaiting(deps: &SessionDeps, state: &mut SessionState) -> Vec<Answered> {
    let mut answered = Vec::new();
    if let Err(error) = try_answer_awaiting(deps, state, &mut answered).await {
        if matches!(error, PipelineError::Store(StoreError::VersionConflict)) {
            state.mark_stale();
        } else {
            // Try again at the session's next use.
            state.recovery_due = Some(Timestamp::now());
        }
        tracing::warn!(session_id = %state.record.id, %error, "could not answer awaiting messages yet");
    }
    answered
}

/// A message answered by recovery: its id, and the reply as the API shows it.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The user message's id.
    pub message_id: Uuid,
    /// The committed reply; `None` when the message went to the counsellor who has the
    /// conversation, who answers it in their own time.
    pub reply: Option<ChatMessage>,
}

async fn try_answer_awaiting(
    deps: &SessionDeps,
    state: &mut SessionState,
    answered: &mut Vec<Answered>,
) -> Result<(), PipelineError> {
    let session_id = state.record.id;
    let awaiting = deps
        .persistence
        .ask(LoadAwaitingMessages {
            session_id,
            committed_by: Timestamp::now(),
        })
        .await?;
    let grace = deps.recovery_grace;
    let cutoff = Timestamp::now().minus(grace);
    // An orphan answered or deleted meanwhile needs nothing more.
    state
        .orphans
        .retain(|id| awaiting.iter().any(|m| m.id == *id));
    let (due, later): (Vec<StoredMessage>, Vec<StoredMessage>) = awaiting
        .into_iter()
        .partition(|m| m.created_at <= cutoff || state.orphans.contains(&m.id));
    state.recovery_due = later.iter().map(|m| m.created_at.plus(grace)).min();
    for message in due {
        let counsellor = state
            .handoff
            .as_ref()
            .filter(|h| h.status == HandoffStatus::Assigned)
            .map(|h| h.id);
        let text = open_text(deps, state, &message).await?;
        let reply = match counsellor {
            Some(handoff_id) => {
                let copy = ForCounsellor {
                    handoff_id,
                    message: &message,
                    content: &text,
                };
                super::handoff::hand_over(deps, state, copy).await?;
                None
            }
            None => Some(answer(deps, state, &message, text).await?),
        };
        state.orphans.retain(|id| *id != message.id);
        answered.push(Answered {
            message_id: message.id,
            reply,
        });
    }
    Ok(())
}

/// The message's text; an unreadable message still gets an answer, the listener just has
/// nothing to echo (and the counsellor an empty copy).
async fn open_text(
    deps: &SessionDeps,
    state: &SessionState,
    message: &StoredMessage,
) -> Result<String, PipelineError> {
    let opened = deps
        .encryptor
        .ask(OpenRecords {
            key: state.key()?.clone(),
            records: vec![(
                Aad::new(state.record.id, message.id, Purpose::MessageContent),
                message.content.clone(),
            )],
        })
        .await?;
    Ok(opened
        .into_iter()
        .next()
        .and_then(Result::ok)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default())
}

async fn answer(
    deps: &SessionDeps,
    state: &mut SessionState,
    message: &StoredMessage,
    text: String,
) -> Result<ChatMessage, PipelineError> {
    let session_id = state.record.id;
    let key = state.key()?.clone();
    let language = state.record.language;
    let (reply_text, model_used) = if state.risk.shows_crisis_support() {
        (
            safety_reply(&state.risk.as_assessment(), language, &deps.hotlines),
            SAFETY_MODEL,
        )
    } else if message.is_crisis_detected {
        let assessment = Assessment {
            is_crisis: true,
            severity: Some(Severity::High),
            ..Assessment::default()
        };
        (
            safety_reply(&assessment, language, &deps.hotlines),
            SAFETY_MODEL,
        )
    } else {
        let request = ReplyRequest {
            language,
            message: text.clone(),
            history: state.turns.iter().cloned().collect(),
            variation: message.seq as u64,
        };
        (BuiltInResponder::new().reply(&request).text, BUILTIN_MODEL)
    };
    let risk = state.risk;
    let SealedReply {
        id: reply_id,
        content: sealed_reply,
        context,
        turns,
    } = seal_reply(deps, state, key, text, &reply_text, risk).await?;
    let reply = StoredMessage {
        id: reply_id,
        session_id,
        seq: message.seq + 1,
        role: Role::Assistant,
        content: sealed_reply,
        model_used: Some(model_used.to_string()),
        processing_time_ms: None,
        is_crisis_detected: false,
        created_at: Timestamp::now(),
    };
    let shown = view(&reply, Some(reply_text));
    let committed = deps
        .persistence
        .ask(Commit {
            op: WriteOp::Reply {
                message: reply,
                context,
                answers: message.id,
                expected_version: Some(state.version),
            },
        })
        .await?;
    state.version = committed.version;
    state.turns = turns;
    deps.metrics.chat_message(Role::Assistant);
    tracing::info!(session_id = %session_id, "answered a message left awaiting its reply");
    Ok(shown)
}
