//! Reading a session's history back: load sealed rows, open them in one encryptor call, and
//! report each unreadable row as an integrity error instead of failing the list.

use super::deps::SessionDeps;
use super::pipeline::view;
use super::state::SessionState;
use super::view::{ChatMessage, History};
use crate::crypto::{Aad, Purpose};
use crate::encryptor::OpenRecords;
use crate::error::PipelineError;
use crate::persistence::StoredMessage;
use crate::persistence::messages::{GetMessage, ListMessages, LoadMessageStats};
use uuid::Uuid;

/// A page of history, oldest first.
pub async fn history(
    deps: &SessionDeps,
    state: &mut SessionState,
    limit: i64,
    offset: i64,
) -> Result<History, PipelineError> {
    state.ensure_loaded(deps).await?;
    let session_id = state.record.id;
    let stored = deps
        .persistence
        .ask(ListMessages {
            session_id,
            limit,
            offset,
        })
        .await?;
    let stats = deps
        .persistence
        .ask(LoadMessageStats { session_id })
        .await?;
    let messages = open_all(deps, state, stored).await?;
    Ok(History {
        messages,
        total_count: stats.total,
        session_id,
        has_crisis_history: stats.has_crisis,
    })
}

/// One message of the session.
pub async fn one(
    deps: &SessionDeps,
    state: &mut SessionState,
    id: Uuid,
) -> Result<ChatMessage, PipelineError> {
    state.ensure_loaded(deps).await?;
    let stored = deps
        .persistence
        .ask(GetMessage {
            session_id: state.record.id,
            id,
        })
        .await?
        .ok_or(PipelineError::MessageNotFound)?;
    open_all(deps, state, vec![stored])
        .await?
        .pop()
        .ok_or(PipelineError::MessageNotFound)
}

async fn open_all(
    deps: &SessionDeps,
    state: &SessionState,
    stored: Vec<StoredMessage>,
) -> Result<Vec<ChatMessage>, PipelineError> {
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let records = stored
        .iter()
        .map(|m| {
            (
                Aad::new(m.session_id, m.id, Purpose::MessageContent),
                m.content.clone(),
            )
        })
        .collect();
    let opened = deps
        .encryptor
        .ask(OpenRecords {
            key: state.key()?.clone(),
            records,
        })
        .await?;
    Ok(stored
        .iter()
        .zip(opened)
        .map(|(message, plaintext)| {
            let content = plaintext
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            view(message, content)
        })
        .collect())
}
