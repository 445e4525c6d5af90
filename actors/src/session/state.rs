//! One session's state, loaded lazily by its actor and kept while the actor lives.

use super::deps::SessionDeps;
use crate::crisis::ConversationRisk;
use crate::crypto::{Aad, DataKey, Purpose};
use crate::domain::Turn;
use crate::encryptor::{OpenRecords, UnwrapDataKey};
use crate::error::PipelineError;
use crate::handoff::HandoffRecord;
use crate::persistence::SessionRecord;
use crate::persistence::messages::{
    LoadContext, LoadMessageStats, LoadSessionHandoff, LoadSessionKey, LoadVersionedSession,
};
use std::collections::VecDeque;

/// A session actor's memory of its session: a cache, never the authority. Every write names the
/// `version` it was prepared against and the database refuses it when another writer (another
/// instance, or a late write of this one) changed the session since; the copy is then reloaded.
pub struct SessionState {
    /// The session row as last seen.
    pub record: SessionRecord,
    key: Option<DataKey>,
    /// The session row's version this copy reflects.
    pub version: i64,
    /// Sequence number the next message probably gets (the database hands out the real one).
    pub next_seq: i64,
    /// User messages of this actor whose reply failed after they were committed: recovery
    /// answers them at the next load without waiting for the grace period.
    pub orphans: Vec<uuid::Uuid>,
    /// When a message seen awaiting its reply (perhaps still being answered elsewhere) is due
    /// for recovery, so that a copy that stays current still answers it then.
    pub recovery_due: Option<crate::persistence::Timestamp>,
    /// Recent turns for the responder, oldest first.
    pub turns: VecDeque<Turn>,
    /// The conversation's risk: the level as stored on the session row, the category and
    /// severity of a crisis from the sealed context.
    pub risk: ConversationRisk,
    /// The stretch of use, for notices on replies.
    pub notices: super::notice::NoticeState,
    /// The session's open (queued or assigned) handoff as of `version`: every change of a
    /// handoff's state moves the session's version on, so a copy that is current knows it
    /// without asking on every message.
    pub handoff: Option<HandoffRecord>,
    /// The assigned handoff's key, unwrapped once for the copies of the person's messages, with
    /// the id of the handoff it belongs to.
    pub handoff_key: Option<(uuid::Uuid, DataKey)>,
    loaded: bool,
}

/// What the sealed conversation context holds. Contexts written before risk was kept are a bare
/// list of turns; they still read.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealedContext {
    turns: VecDeque<Turn>,
    #[serde(default)]
    risk: ConversationRisk,
}

/// The sealed-context plaintext for `turns` and `risk`.
pub fn encode_context(turns: &VecDeque<Turn>, risk: ConversationRisk) -> Vec<u8> {
    serde_json::to_vec(&SealedContext {
        turns: turns.clone(),
        risk,
    })
    .unwrap_or_default()
}

fn decode_context(bytes: &[u8]) -> (VecDeque<Turn>, ConversationRisk) {
    if let Ok(context) = serde_json::from_slice::<SealedContext>(bytes) {
        return (context.turns, context.risk);
    }
    (
        serde_json::from_slice(bytes).unwrap_or_default(),
        ConversationRisk::default(),
    )
}

impl SessionState {
    /// State for a session whose details are not loaded yet.
    pub fn new(record: SessionRecord) -> Self {
        let level = record.risk_level;
        SessionState {
            record,
            key: None,
            version: 0,
            next_seq: 1,
            orphans: Vec::new(),
            recovery_due: None,
            turns: VecDeque::new(),
            risk: ConversationRisk {
                level,
                ..ConversationRisk::default()
            },
            notices: super::notice::NoticeState::default(),
            handoff: None,
            handoff_key: None,
            loaded: false,
        }
    }

    /// The data key; only valid after `ensure_loaded`.
    pub fn key(&self) -> Result<&DataKey, PipelineError> {
        self.key.as_ref().ok_or(PipelineError::SessionNotFound)
    }

    /// Loads the data key once, and the session row, the next sequence number, the context and
    /// the open handoff whenever the copy is not known to be current; then answers any of the session's user
    /// messages left without a reply.
    pub async fn ensure_loaded(&mut self, deps: &SessionDeps) -> Result<(), PipelineError> {
        if self.loaded {
            // This actor's own failures are answered at once, even by a copy reloaded since.
            if !self.orphans.is_empty()
                || self
                    .recovery_due
                    .is_some_and(|due| due <= crate::persistence::Timestamp::now())
            {
                super::recovery::answer_awaiting(deps, self).await;
            }
            return Ok(());
        }
        self.load(deps).await?;
        super::recovery::answer_awaiting(deps, self).await;
        Ok(())
    }

    /// Loads the data key once, and the session row, the next sequence number, the context and
    /// the open handoff.
    async fn load(&mut self, deps: &SessionDeps) -> Result<(), PipelineError> {
        let session_id = self.record.id;
        let key = match &self.key {
            Some(key) => key.clone(),
            None => {
                let wrapped = deps
                    .persistence
                    .ask(LoadSessionKey { id: session_id })
                    .await?
                    .ok_or(PipelineError::SessionNotFound)?;
                deps.encryptor
                    .ask(UnwrapDataKey {
                        session_id,
                        wrapped,
                    })
                    .await?
            }
        };
        // The version is read first: a write landing between these reads makes the copy look
        // older than it is, which the next write's version check corrects.
        let (record, version) = deps
            .persistence
            .ask(LoadVersionedSession { id: session_id })
            .await?
            .ok_or(PipelineError::SessionNotFound)?;
        let stats = deps
            .persistence
            .ask(LoadMessageStats { session_id })
            .await?;
        let handoff = deps
            .persistence
            .ask(LoadSessionHandoff { session_id })
            .await?
            .filter(|h| h.status.is_open());
        let mut turns = VecDeque::new();
        let mut sealed_risk = ConversationRisk::default();
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
                (turns, sealed_risk) = decode_context(&bytes);
            }
        }
        self.key = Some(key);
        self.record = record;
        self.version = version;
        self.next_seq = stats.max_seq + 1;
        self.turns = turns;
        if self.handoff_key.as_ref().map(|(id, _)| *id) != handoff.as_ref().map(|h| h.id) {
            self.handoff_key = None;
        }
        self.handoff = handoff;
        // The row's level is the authority; the context adds what kind of crisis it is.
        self.risk = ConversationRisk {
            level: self.record.risk_level,
            ..sealed_risk
        };
        if self.risk.level != crate::crisis::RiskLevel::Crisis {
            self.risk.category = None;
            self.risk.severity = None;
        }
        self.loaded = true;
        Ok(())
    }

    /// Answers the session's messages left awaiting their reply past the grace period, and
    /// this actor's own failures at once (the janitor's sweep, a streamed post that failed):
    /// a copy that is not current is reloaded first. Answers what was answered now.
    pub async fn answer_orphans(
        &mut self,
        deps: &SessionDeps,
    ) -> Result<Vec<super::recovery::Answered>, PipelineError> {
        if self.loaded {
            self.revalidate(deps).await?;
        }
        if !self.loaded {
            self.load(deps).await?;
        }
        Ok(super::recovery::answer_awaiting(deps, self).await)
    }

    /// Forgets everything but the key: the next use reloads from the database.
    pub fn mark_stale(&mut self) {
        self.loaded = false;
    }

    /// The session's handoff changed elsewhere (asked for, claimed, closed, left): a copy in use
    /// is reloaded now, taking the version that change moved on, so the next message is prepared
    /// against it instead of being refused at its commit. A copy not loaded yet loads at its use;
    /// one that cannot be reloaded now is left stale, to reload then.
    pub async fn handoff_changed(&mut self, deps: &SessionDeps) {
        if !self.loaded {
            return;
        }
        self.mark_stale();
        if let Err(error) = self.load(deps).await {
            tracing::warn!(session_id = %self.record.id, %error, "a changed handoff could not be reloaded yet");
        }
    }

    /// Checks the copy against the session row; a copy another writer made stale is reloaded at
    /// its next use, and the fresh row is kept now. `SessionNotFound` when the row is gone.
    pub async fn revalidate(&mut self, deps: &SessionDeps) -> Result<(), PipelineError> {
        let (record, version) = deps
            .persistence
            .ask(LoadVersionedSession { id: self.record.id })
            .await?
            .ok_or(PipelineError::SessionNotFound)?;
        if version != self.version {
            self.record = record;
            self.mark_stale();
        }
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
