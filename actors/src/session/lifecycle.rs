//! What happens to a session besides chatting: status, activity, a longer life, deleting
//! messages and the one feedback. Each runs inside the session actor, one at a time.

use super::deps::SessionDeps;
use super::state::SessionState;
use super::view::{FeedbackReceipt, SessionStatus};
use crate::crypto::{Aad, Purpose};
use crate::domain::{FeedbackCategory, Rating};
use crate::encryptor::SealRecords;
use crate::error::PipelineError;
use crate::persistence::messages::{
    DeleteMessage, DeleteMessages, ExtendSession, InsertFeedback, LoadMessageStats, RecordActivity,
};
use crate::persistence::{NewFeedback, StoreError, Timestamp};
use uuid::Uuid;

/// The session's status as the API shows it.
pub async fn status(
    deps: &SessionDeps,
    state: &mut SessionState,
) -> Result<SessionStatus, PipelineError> {
    // Risk, crisis mode and expiry may have been changed by another instance.
    state.revalidate(deps).await?;
    let stats = deps
        .persistence
        .ask(LoadMessageStats {
            session_id: state.record.id,
        })
        .await?;
    let record = &state.record;
    Ok(SessionStatus {
        is_crisis_mode: record.is_crisis_mode,
        risk: record.risk_level,
        created_at: record.created_at,
        last_activity: record.last_activity,
        expires_at: record.expires_at,
        message_count: stats.total,
        language: record.language,
    })
}

/// Records activity now and answers the status.
pub async fn touch(
    deps: &SessionDeps,
    state: &mut SessionState,
) -> Result<SessionStatus, PipelineError> {
    let now = Timestamp::now();
    if !deps
        .persistence
        .ask(RecordActivity {
            id: state.record.id,
            now,
        })
        .await?
    {
        return Err(PipelineError::SessionNotFound);
    }
    state.record.last_activity = now;
    status(deps, state).await
}

/// Extends the session's life by the configured lifetime from now and answers the status.
pub async fn refresh(
    deps: &SessionDeps,
    state: &mut SessionState,
) -> Result<SessionStatus, PipelineError> {
    let now = Timestamp::now();
    let expires_at = now.plus(deps.session_ttl);
    let id = state.record.id;
    if !deps
        .persistence
        .ask(ExtendSession {
            id,
            now,
            expires_at,
        })
        .await?
    {
        return Err(PipelineError::SessionNotFound);
    }
    state.record.last_activity = now;
    state.record.expires_at = expires_at;
    // The refresh moved the session's version on; the status below reloads the row.
    status(deps, state).await
}

/// Deletes one message of the session and answers the deletion time.
pub async fn remove_message(
    deps: &SessionDeps,
    state: &mut SessionState,
    id: Uuid,
) -> Result<Timestamp, PipelineError> {
    let session_id = state.record.id;
    let deleted = deps
        .persistence
        .ask(DeleteMessage { session_id, id })
        .await?;
    if !deleted {
        return Err(PipelineError::MessageNotFound);
    }
    // The stored context went with it (it may quote the message), and the version moved on.
    state.clear_turns();
    state.mark_stale();
    Ok(Timestamp::now())
}

/// Deletes every message of the session and the context built from them.
pub async fn clear_history(
    deps: &SessionDeps,
    state: &mut SessionState,
) -> Result<(), PipelineError> {
    deps.persistence
        .ask(DeleteMessages {
            session_id: state.record.id,
        })
        .await?;
    state.clear_turns();
    state.mark_stale();
    Ok(())
}

/// Stores the session's one feedback, its free text sealed first.
pub async fn submit_feedback(
    deps: &SessionDeps,
    state: &mut SessionState,
    rating: Rating,
    category: Option<FeedbackCategory>,
    text: Option<String>,
) -> Result<FeedbackReceipt, PipelineError> {
    state.ensure_loaded(deps).await?;
    let session_id = state.record.id;
    let id = Uuid::new_v4();
    let text = match text {
        Some(text) => {
            let [sealed_text] = deps
                .encryptor
                .ask(SealRecords {
                    key: state.key()?.clone(),
                    records: [(
                        Aad::new(session_id, id, Purpose::FeedbackText),
                        text.into_bytes(),
                    )],
                })
                .await?;
            Some(sealed_text)
        }
        None => None,
    };
    let feedback = NewFeedback {
        id,
        session_id,
        rating,
        category,
        text,
        created_at: Timestamp::now(),
    };
    let receipt = FeedbackReceipt {
        id,
        session_id,
        rating,
        category,
        created_at: feedback.created_at,
    };
    match deps.persistence.ask(InsertFeedback { feedback }).await {
        Ok(()) => Ok(receipt),
        Err(PipelineError::Store(StoreError::Conflict)) => Err(PipelineError::FeedbackExists),
        Err(error) => Err(error),
    }
}
