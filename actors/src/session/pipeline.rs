//! The chat pipeline of one session, run inside its actor one message at a time:
//! detect → seal → commit the user's message → reply → seal → commit reply and context.

use super::deps::SessionDeps;
use super::state::SessionState;
use super::view::{ChatMessage, PostedMessage};
use crate::crisis::{crisis_card, safety_reply};
use crate::crisis_detector::Assess;
use crate::crypto::{Aad, Purpose};
use crate::domain::{Role, Turn};
use crate::encryptor::SealRecords;
use crate::error::PipelineError;
use crate::persistence::messages::Commit;
use crate::persistence::{StoredContext, StoredMessage, Timestamp, WriteOp};
use crate::responder::ReplyRequest;
use crate::responder_actor::GenerateReply;
use std::time::Instant;
use uuid::Uuid;

/// What answered when the message was a crisis: the fixed safety protocol, not a model.
pub const SAFETY_MODEL: &str = "safety-protocol-v1";

/// Runs one message through the pipeline. The user's message is committed before the reply is
/// generated; if the reply cannot be committed, the user's message is removed again so that no
/// unanswered half of a pair is left behind for a request that was never acknowledged.
pub async fn post_message(
    deps: &SessionDeps,
    state: &mut SessionState,
    content: String,
) -> Result<PostedMessage, PipelineError> {
    let started = Instant::now();
    state.ensure_loaded(deps).await?;
    let key = state.key()?.clone();
    let session_id = state.record.id;

    let assessment = deps
        .detector
        .ask(Assess {
            text: content.clone(),
        })
        .await?;
    if assessment.is_crisis {
        let categories: Vec<&str> = assessment.categories.iter().map(|c| c.as_str()).collect();
        let severity = assessment.severity.map(|s| s.as_str()).unwrap_or("medium");
        for category in &categories {
            deps.metrics.crisis_detected(category, severity);
        }
        tracing::warn!(
            session_id = %session_id,
            categories = ?categories,
            severity,
            "crisis detected"
        );
    }

    let user_id = Uuid::new_v4();
    let sealed = deps
        .encryptor
        .ask(SealRecords {
            key: key.clone(),
            records: vec![(
                Aad::new(session_id, user_id, Purpose::MessageContent),
                content.clone().into_bytes(),
            )],
        })
        .await?;
    let user_message = StoredMessage {
        id: user_id,
        session_id,
        seq: state.next_seq,
        role: Role::User,
        content: sealed.into_iter().next().unwrap_or_default(),
        model_used: None,
        processing_time_ms: None,
        is_crisis_detected: assessment.is_crisis,
        created_at: Timestamp::now(),
    };
    let enter_crisis_mode = assessment.is_crisis && !state.record.is_crisis_mode;
    let user_seq = user_message.seq;
    // From here on a failure may leave writes in flight that land later: skip past the sequence
    // numbers they use (gaps are harmless, reuse would collide) and retract them.
    state.next_seq = user_seq + 2;
    let committed = deps
        .persistence
        .ask(Commit {
            op: WriteOp::UserMessage {
                message: user_message.clone(),
                enter_crisis_mode,
            },
        })
        .await;
    if let Err(error) = committed {
        retract(deps, session_id, vec![user_id]).await;
        return Err(error);
    }
    if enter_crisis_mode {
        state.record.is_crisis_mode = true;
    }
    deps.metrics.chat_message(Role::User);

    let language = state.record.language;
    // A crisis gets the safety response whatever the provider; so does someone worried about a
    // friend in danger (how to help, who to call), though that is no crisis of their own.
    let (reply_text, model_used) = if assessment.is_crisis || assessment.third_party {
        (
            safety_reply(&assessment, language, &deps.hotlines),
            SAFETY_MODEL.to_string(),
        )
    } else {
        let request = ReplyRequest {
            language,
            message: content.clone(),
            history: state.turns.iter().cloned().collect(),
            variation: user_seq as u64,
        };
        match deps.responder.ask(GenerateReply { request }).await {
            Ok(outcome) => (outcome.text, outcome.model_used),
            Err(error) => {
                retract(deps, session_id, vec![user_id]).await;
                return Err(error);
            }
        }
    };
    let processing_time_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);

    // The new context only replaces the actor's memory once it is committed.
    let turns = state.turns_with(
        [
            Turn {
                role: Role::User,
                content: content.clone(),
            },
            Turn {
                role: Role::Assistant,
                content: reply_text.clone(),
            },
        ],
        deps.context_turns,
    );
    let context_json = serde_json::to_vec(&turns).unwrap_or_default();
    let reply_id = Uuid::new_v4();
    let sealed = match deps
        .encryptor
        .ask(SealRecords {
            key,
            records: vec![
                (
                    Aad::new(session_id, reply_id, Purpose::MessageContent),
                    reply_text.clone().into_bytes(),
                ),
                (
                    Aad::new(session_id, session_id, Purpose::ConversationContext),
                    context_json,
                ),
            ],
        })
        .await
    {
        Ok(sealed) => sealed,
        Err(error) => {
            retract(deps, session_id, vec![user_id]).await;
            return Err(error);
        }
    };
    let mut sealed = sealed.into_iter();
    let reply_message = StoredMessage {
        id: reply_id,
        session_id,
        seq: user_seq + 1,
        role: Role::Assistant,
        content: sealed.next().unwrap_or_default(),
        model_used: Some(model_used),
        processing_time_ms: Some(processing_time_ms),
        is_crisis_detected: false,
        created_at: Timestamp::now(),
    };
    let context = StoredContext {
        sealed: sealed.next().unwrap_or_default(),
        turn_count: i32::try_from(turns.len()).unwrap_or(i32::MAX),
    };
    if let Err(error) = deps
        .persistence
        .ask(Commit {
            op: WriteOp::Reply {
                message: reply_message.clone(),
                context,
            },
        })
        .await
    {
        retract(deps, session_id, vec![user_id, reply_id]).await;
        return Err(error);
    }
    state.turns = turns;
    state.record.last_activity = reply_message.created_at;
    deps.metrics.chat_message(Role::Assistant);

    let crisis_info = crisis_card(&assessment, language, &deps.hotlines);
    Ok(PostedMessage {
        user_message: view(&user_message, Some(content)),
        ai_message: view(&reply_message, Some(reply_text)),
        crisis_info,
    })
}

/// Best effort: the request failed after the user's message was committed, so take it back.
/// Takes back the messages of a failed request through the writer queue, so the retraction
/// runs after any of their writes still in flight. Best effort: the request already failed.
async fn retract(deps: &SessionDeps, session_id: Uuid, ids: Vec<Uuid>) {
    let op = WriteOp::Retract { session_id, ids };
    if let Err(error) = deps.persistence.ask(Commit { op }).await {
        tracing::error!(session_id = %session_id, error = %error, "could not retract the messages of a failed request");
    }
}

/// The API view of a stored message whose plaintext is known (or `None` when unreadable).
pub fn view(message: &StoredMessage, content: Option<String>) -> ChatMessage {
    ChatMessage {
        id: message.id,
        session_id: message.session_id,
        role: message.role,
        integrity_error: content.is_none(),
        content,
        created_at: message.created_at,
        model_used: message.model_used.clone(),
        processing_time_ms: message.processing_time_ms,
        is_crisis_detected: message.is_crisis_detected,
    }
}
