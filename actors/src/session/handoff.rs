//! A message posted while a counsellor has the conversation (an assigned handoff): stored and
//! assessed like any other, but answered by the counsellor, in their own time, not by the
//! responder. It is copied for the counsellor under the handoff's own key; a rise in risk moves
//! the handoff up and shows the counsellor the change.

use super::deps::SessionDeps;
use super::pipeline::view;
use super::state::SessionState;
use super::streaming::ReplySink;
use super::view::PostedMessage;
use crate::crisis::{ConversationRisk, CrisisInfo};
use crate::encryptor::{SealRecords, UnwrapDataKey};
use crate::error::PipelineError;
use crate::handoff::{EntryRole, SealedEntry, entry_aad};
use crate::persistence::messages::{AppendHandoffEntry, Commit, LoadHandoffKey, RaiseHandoffRisk};
use crate::persistence::{StoredMessage, WriteOp};
use uuid::Uuid;

/// What the pipeline prepared for a message the counsellor answers.
pub struct Prepared<'a> {
    /// The sealed message, its `seq` a guess until committed.
    pub message: StoredMessage,
    /// The plaintext, for the answer and the counsellor's copy.
    pub content: &'a str,
    /// The conversation's risk after this message.
    pub risk: ConversationRisk,
    /// The new level, when it changed.
    pub risk_change: Option<crate::crisis::RiskLevel>,
    /// Whether the session's status (risk, crisis mode) changed.
    pub status_changed: bool,
    /// The card, when the message was (or the conversation is) a crisis.
    pub crisis_info: Option<CrisisInfo>,
}

/// Commits the message alone (no reply), reports it, and copies it for the counsellor of
/// `handoff_id`.
pub async fn post_to_counsellor(
    deps: &SessionDeps,
    state: &mut SessionState,
    handoff_id: Uuid,
    prepared: Prepared<'_>,
    sink: Option<&mut ReplySink>,
    accepted: &mut bool,
) -> Result<PostedMessage, PipelineError> {
    let Prepared {
        mut message,
        content,
        risk,
        risk_change,
        status_changed,
        crisis_info,
    } = prepared;
    let committed = deps
        .persistence
        .ask(Commit {
            op: WriteOp::Standalone {
                message: message.clone(),
                risk_change,
                expected_version: Some(state.version),
            },
        })
        .await?;
    *accepted = true;
    message.seq = committed.seq;
    state.version = committed.version;
    state.next_seq = committed.seq + 1;
    state.record.risk_level = risk.level;
    state.record.is_crisis_mode = risk.shows_crisis_support();
    state.record.last_activity = message.created_at;
    state.risk = risk;
    deps.changes.committed(&message, status_changed);
    deps.metrics.chat_message(crate::domain::Role::User);
    let shown = view(&message, Some(content.to_string()));
    if let Some(sink) = sink {
        sink.accepted(shown.clone(), crisis_info.clone());
    }
    // The message is stored and answered either way: a copy that fails is logged, not undone.
    if let Err(error) = copy_for_counsellor(deps, handoff_id, &message, content).await {
        tracing::error!(error = %error, "a message could not be copied for the counsellor");
    }
    deps.changes.handoff(message.session_id);
    raise_risk(deps, state, risk).await;
    Ok(PostedMessage {
        user_message: shown,
        ai_message: None,
        crisis_info,
        notice: None,
    })
}

/// The open handoff of a conversation that turned worse moves up the queue (and its counsellor
/// sees the change). The cached copy follows: a raise is not a change of state, so it does not
/// move the session's version, and a raise made elsewhere at most repeats here, changing nothing.
pub async fn raise_risk(deps: &SessionDeps, state: &mut SessionState, risk: ConversationRisk) {
    let Some(handoff) = state.handoff.as_mut().filter(|h| risk.level > h.risk) else {
        return;
    };
    handoff.risk = risk.level;
    let raised = deps
        .persistence
        .ask(RaiseHandoffRisk {
            session_id: handoff.session_id,
            risk: risk.level,
        })
        .await;
    match raised {
        Ok(true) => deps.changes.handoff(handoff.session_id),
        Ok(false) => {}
        Err(error) => tracing::error!(error = %error, "a handoff's risk could not be raised"),
    }
}

async fn copy_for_counsellor(
    deps: &SessionDeps,
    handoff_id: Uuid,
    message: &StoredMessage,
    content: &str,
) -> Result<(), PipelineError> {
    // The key is gone once the handoff ended and its retention passed: nothing to copy into.
    let Some(wrapped) = deps
        .persistence
        .ask(LoadHandoffKey { id: handoff_id })
        .await?
    else {
        return Ok(());
    };
    // A handoff's key is wrapped bound to the handoff's id, as a session's is to the session's.
    let key = deps
        .encryptor
        .ask(UnwrapDataKey {
            session_id: handoff_id,
            wrapped,
        })
        .await?;
    let entry_id = Uuid::new_v4();
    let [sealed] = deps
        .encryptor
        .ask(SealRecords {
            key,
            records: [(entry_aad(handoff_id, entry_id), content.as_bytes().to_vec())],
        })
        .await?;
    deps.persistence
        .ask(AppendHandoffEntry {
            handoff_id,
            entry: SealedEntry {
                id: entry_id,
                role: EntryRole::User,
                message_id: Some(message.id),
                content: sealed,
                created_at: message.created_at,
            },
        })
        .await
}
