//! One session's state, loaded lazily by its actor and kept while the actor lives.

use super::deps::SessionDeps;
use crate::crypto::{Aad, DataKey, Purpose};
use crate::domain::Turn;
use crate::encryptor::{OpenRecords, UnwrapDataKey};
use crate::error::PipelineError;
use crate::persistence::SessionRecord;
use crate::persistence::messages::{LoadContext, LoadMessageStats, LoadSessionKey};
use std::collections::VecDeque;

/// A session actor's memory of its session.
pub struct SessionState {
    /// The session row as last seen.
    pub record: SessionRecord,
    key: Option<DataKey>,
    /// Sequence number the next message gets.
    pub next_seq: i64,
    /// Recent turns for the responder, oldest first.
    pub turns: VecDeque<Turn>,
    loaded: bool,
}

impl SessionState {
    /// State for a session whose details are not loaded yet.
    pub fn new(record: SessionRecord) -> Self {
        SessionState {
            record,
            key: None,
            next_seq: 1,
            turns: VecDeque::new(),
            loaded: false,
        }
    }

    /// The data key; only valid after `ensure_loaded`.
    pub fn key(&self) -> Result<&DataKey, PipelineError> {
        self.key.as_ref().ok_or(PipelineError::SessionNotFound)
    }

    /// Loads the data key, the next sequence number and the context once.
    pub async fn ensure_loaded(&mut self, deps: &SessionDeps) -> Result<(), PipelineError> {
        if self.loaded {
            return Ok(());
        }
        let session_id = self.record.id;
        let wrapped = deps
            .persistence
            .ask(LoadSessionKey { id: session_id })
            .await?
            .ok_or(PipelineError::SessionNotFound)?;
        let key = deps
            .encryptor
            .ask(UnwrapDataKey {
                session_id,
                wrapped,
            })
            .await?;
        let stats = deps
            .persistence
            .ask(LoadMessageStats { session_id })
            .await?;
        let mut turns = VecDeque::new();
        if let Some(context) = deps.persistence.ask(LoadContext { session_id }).await? {
            let opened = deps
                .encryptor
                .ask(OpenRecords {
                    key: key.clone(),
                    records: vec![(
                        Aad::new(session_id, session_id, Purpose::ConversationContext),
                        context.sealed,
                    )],
                })
                .await?;
            // An unreadable context only costs the responder its memory; the chat goes on.
            if let Some(Ok(bytes)) = opened.into_iter().next() {
                turns = serde_json::from_slice(&bytes).unwrap_or_default();
            }
        }
        self.key = Some(key);
        self.next_seq = stats.max_seq + 1;
        self.turns = turns;
        self.loaded = true;
        Ok(())
    }

    /// The turns with `new` appended, keeping at most `keep` (the state itself is unchanged).
    pub fn turns_with(&self, new: impl IntoIterator<Item = Turn>, keep: usize) -> VecDeque<Turn> {
        let mut turns = self.turns.clone();
        turns.extend(new);
        while turns.len() > keep.max(2) {
            turns.pop_front();
        }
        turns
    }

    /// Forgets the conversation (history cleared).
    pub fn clear_turns(&mut self) {
        self.turns.clear();
    }
}
