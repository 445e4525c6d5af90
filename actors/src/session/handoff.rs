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
use crate::crypto::DataKey;
use crate::encryptor::{SealRecords, UnwrapDataKey};
use crate::error::PipelineError;
use crate::handoff::{EntryRole, SealedEntry, entry_aad};
use crate::persistence::messages::HandOverAwaiting;
use crate::persistence::messages::{AppendHandoffEntry, Commit, LoadHandoffKey, RaiseHandoffRisk};
use crate::persistence::{StoreError, StoredMessage, WriteOp};
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

/// A message of the person's to copy for the counsellor of an assigned handoff.
#[derive(Clone, Copy)]
pub(super) struct ForCounsellor<'a> {
    /// The assigned handoff.
    pub handoff_id: Uuid,
    /// The message as stored in the person's history.
    pub message: &'a StoredMessage,
    /// Its text, sealed again under the handoff's key for the copy.
    pub content: &'a str,
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
    let copy = ForCounsellor {
        handoff_id,
        message: &message,
        content,
    };
    copy_or_log(deps, state, copy).await;
    raise_risk(deps, state, risk).await;
    Ok(PostedMessage {
        user_message: shown,
        ai_message: None,
        crisis_info,
        notice: None,
    })
}

/// The open handoff of a conversation that turned worse moves up the queue (and its counsellor
/// sees the change). The cached copy follows once the store took the raise: a raise is not a
/// change of state, so it does not move the session's version, and a raise made elsewhere at most
/// repeats here, changing nothing. A raise that failed is tried again by the next message.
pub async fn raise_risk(deps: &SessionDeps, state: &mut SessionState, risk: ConversationRisk) {
    let Some(handoff) = state.handoff.as_mut().filter(|h| risk.level > h.risk) else {
        return;
    };
    let raised = deps
        .persistence
        .ask(RaiseHandoffRisk {
            session_id: handoff.session_id,
            risk: risk.level,
        })
        .await;
    match raised {
        Ok(changed) => {
            handoff.risk = risk.level;
            if changed {
                deps.changes.handoff(handoff.session_id);
            }
        }
        Err(error) => tracing::error!(error = %error, "a handoff's risk could not be raised"),
    }
}

/// A message of the person's stays theirs and stored either way: a copy for the counsellor that
/// fails is logged, not undone. The counsellor's views are told of the new entry.
async fn copy_or_log(deps: &SessionDeps, state: &mut SessionState, copy: ForCounsellor<'_>) {
    if let Err(error) = copy_for_counsellor(deps, state, copy).await {
        tracing::error!(error = %error, "a message could not be copied for the counsellor");
    }
    deps.changes.handoff(copy.message.session_id);
}

/// The assigned handoff's key, unwrapped once per handoff; `None` once it was destroyed.
async fn handoff_key(
    deps: &SessionDeps,
    state: &mut SessionState,
    handoff_id: Uuid,
) -> Result<Option<DataKey>, PipelineError> {
    if let Some((id, key)) = &state.handoff_key
        && *id == handoff_id
    {
        return Ok(Some(key.clone()));
    }
    // The key is gone once the handoff ended and its retention passed: nothing to copy into.
    let Some(wrapped) = deps
        .persistence
        .ask(LoadHandoffKey { id: handoff_id })
        .await?
    else {
        return Ok(None);
    };
    // A handoff's key is wrapped bound to the handoff's id, as a session's is to the session's.
    let key = deps
        .encryptor
        .ask(UnwrapDataKey {
            session_id: handoff_id,
            wrapped,
        })
        .await?;
    state.handoff_key = Some((handoff_id, key.clone()));
    Ok(Some(key))
}

async fn copy_for_counsellor(
    deps: &SessionDeps,
    state: &mut SessionState,
    ForCounsellor {
        handoff_id,
        message,
        content,
    }: ForCounsellor<'_>,
) -> Result<(), PipelineError> {
    let Some(key) = handoff_key(deps, state, handoff_id).await? else {
        return Ok(());
    };
    let entry_id = Uuid::new_v4();
    let [sealed] = deps
        .encryptor
        .ask(SealRecords {
            key,
            records: [(entry_aad(handoff_id, entry_id), content.as_bytes().to_vec())],
        })
        .await?;
    // Not appended when the key went meanwhile (the handoff ended): there is nothing left to
    // copy into, and the person's message is in their history all the same.
    let _appended: bool = deps
        .persistence
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
        .await?;
    Ok(())
}

/// A message left awaiting the listener's reply when a counsellor took the conversation (a claim
/// that landed while its reply was streamed): the counsellor answers it, as they would have had
/// the claim come first. It stops awaiting only while this copy is current, so one actor hands it
/// over and none answers it with the listener after the claim; then it is copied for the
/// counsellor. `VersionConflict` when the copy was not current or another actor took it.
pub(super) async fn hand_over(
    deps: &SessionDeps,
    state: &mut SessionState,
    copy: ForCounsellor<'_>,
) -> Result<(), PipelineError> {
    let handed = deps
        .persistence
        .ask(HandOverAwaiting {
            session_id: copy.message.session_id,
            message_id: copy.message.id,
            expected_version: state.version,
        })
        .await?;
    if !handed {
        return Err(PipelineError::Store(StoreError::VersionConflict));
    }
    copy_or_log(deps, state, copy).await;
    raise_risk(deps, state, state.risk).await;
    Ok(())
}
