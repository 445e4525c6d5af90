//! The chat pipeline of one session, run inside its actor one message at a time:
//! detect → seal → reply → seal → commit the user's message, the reply and the context together
//! (a streamed reply commits the user's message first, so the client sees it at once).

use super::deps::SessionDeps;
use super::state::{SessionState, encode_context};
use super::streaming::ReplySink;
use super::view::{ChatMessage, PostedMessage};
use crate::crisis::model::CONTEXT_TURNS;
use crate::crisis::model::ModelScores;
use crate::crisis::{
    Assessment, Category, ConversationRisk, Judgement, RiskLevel, Severity, Transition,
    check_in_reply, crisis_card, safety_reply,
};
use crate::crisis_detector::Assess;
use crate::crisis_judge::{JudgeVerdict, merge};
use crate::crypto::{Aad, DataKey, Purpose};
use crate::domain::{Role, Turn};
use crate::encryptor::SealRecords;
use crate::error::PipelineError;
use crate::handoff::HandoffStatus;
use crate::mailbox::AskError;
use crate::persistence::messages::Commit;
use crate::persistence::{StoreError, StoredContext, StoredMessage, Timestamp, WriteOp};
use crate::responder::{ReplyOutcome, ReplyRequest};
use crate::responder_actor::{GenerateReply, GenerateReplyStreaming};
use std::collections::VecDeque;
use std::time::Instant;
use uuid::Uuid;

/// What answered when the message was a crisis: the fixed safety protocol, not a model.
pub const SAFETY_MODEL: &str = "safety-protocol-v1";

/// How often a message is prepared again after another writer changed its session meanwhile.
/// Only the same person writing through two instances at once contends, and each round lets
/// one writer through, so this is generous.
const CONFLICT_RETRIES: u32 = 12;

/// Runs one message through the pipeline. The user's message and its reply are committed
/// together, so a request that fails leaves nothing a retry would duplicate.
pub async fn post_message(
    deps: &SessionDeps,
    state: &mut SessionState,
    content: String,
) -> Result<PostedMessage, PipelineError> {
    run(deps, state, content, None).await
}

/// Runs one message like [`post_message`], reporting to `sink` as it goes: the user's message
/// once committed, then the reply's pieces as they pass the guard. The user's message is
/// committed first (the client is shown it); if its reply then fails, recovery answers it.
pub async fn post_message_streaming(
    deps: &SessionDeps,
    state: &mut SessionState,
    content: String,
    sink: &mut ReplySink,
) -> Result<PostedMessage, PipelineError> {
    run(deps, state, content, Some(sink)).await
}

async fn run(
    deps: &SessionDeps,
    state: &mut SessionState,
    content: String,
    mut sink: Option<&mut ReplySink>,
) -> Result<PostedMessage, PipelineError> {
    let mut attempt = 0;
    loop {
        let mut accepted = false;
        let result = run_once(deps, state, &content, sink.as_deref_mut(), &mut accepted).await;
        match result {
            Ok(posted) => return Ok(posted),
            // Another writer changed the session: reload and prepare the message again against
            // what it wrote, unless the client has already been shown this one.
            Err(PipelineError::Store(StoreError::VersionConflict))
                if !accepted && attempt < CONFLICT_RETRIES =>
            {
                attempt += 1;
                state.mark_stale();
                // A short, varying pause so two instances preparing again do not keep meeting.
                let pause_ms = u64::from(attempt) * 2 + u64::from(rand::random::<u8>() % 8);
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
            }
            // Still contended after every retry: the session is busy elsewhere, so the client
            // is told to come back shortly (503 with Retry-After), not that something broke.
            Err(PipelineError::Store(StoreError::VersionConflict)) if !accepted => {
                state.mark_stale();
                tracing::warn!(session_id = %state.record.id, "message refused: session contended by other writers");
                return Err(PipelineError::Ask(AskError::Overloaded("session")));
            }
            Err(error) => {
                // Whatever failed, the copy may no longer match the database.
                state.mark_stale();
                return Err(error);
            }
        }
    }
}

async fn run_once(
    deps: &SessionDeps,
    state: &mut SessionState,
    content: &str,
    mut sink: Option<&mut ReplySink>,
    accepted: &mut bool,
) -> Result<PostedMessage, PipelineError> {
    let started = Instant::now();
    state.ensure_loaded(deps).await?;
    let key = state.key()?.clone();
    let session_id = state.record.id;

    let quiet_period_passed =
        state.record.last_activity.plus(deps.crisis_quiet_period) <= Timestamp::now();
    let earlier = earlier_user_turns(state, CONTEXT_TURNS);
    let detection = deps.detector.ask(Assess {
        text: content.to_string(),
        earlier,
        prior: state.risk.level,
    });
    // The judge runs beside the detector, so it costs at most its own timeout, not the sum.
    let (judgement, verdict) = match &deps.crisis_judge {
        Some(judge) => {
            let judge_turns = earlier_user_turns(state, crate::crisis_judge::CONTEXT_TURNS);
            futures_util::join!(detection, judge.judge(&judge_turns, content))
        }
        None => (detection.await, None),
    };
    let detector_answered = judgement.is_ok();
    let judgement = raise_with_judge(or_fail_safe(judgement), verdict.as_ref());
    let assessment = &judgement.assessment;
    // Without the detector's reading nothing is learned about the conversation: its risk stays,
    // and only this turn is answered as a crisis.
    let (risk, transition) = if detector_answered {
        state.risk.advance(&judgement, quiet_period_passed)
    } else if state.risk.shows_crisis_support() {
        (state.risk, Transition::CrisisContinues)
    } else {
        (state.risk, Transition::NewCrisis)
    };

    let user_id = Uuid::new_v4();
    let [sealed_content] = deps
        .encryptor
        .ask(SealRecords {
            key: key.clone(),
            records: [(
                Aad::new(session_id, user_id, Purpose::MessageContent),
                content.to_string().into_bytes(),
            )],
        })
        .await?;
    let mut user_message = StoredMessage {
        id: user_id,
        session_id,
        seq: state.next_seq,
        role: Role::User,
        content: sealed_content,
        model_used: None,
        processing_time_ms: None,
        // A fail-safe turn is answered as a crisis but was not found to be one.
        is_crisis_detected: detector_answered && assessment.is_crisis,
        created_at: Timestamp::now(),
    };
    let risk_change = (risk.level != state.record.risk_level).then_some(risk.level);
    let status_changed =
        risk_change.is_some() || state.record.is_crisis_mode != risk.shows_crisis_support();
    let language = state.record.language;
    // While the conversation is in crisis every turn gets the safety protocol, whatever the
    // provider: the full safety reply for a new crisis statement, a check-in on later turns. Someone
    // worried about a friend gets guidance (how to help, who to call) too.
    // A fail-safe turn of a conversation already in crisis shows that crisis's card.
    let card_assessment =
        if assessment.is_crisis && (detector_answered || !risk.shows_crisis_support()) {
            assessment.clone()
        } else {
            risk.as_assessment()
        };
    let crisis_now = risk.shows_crisis_support() || assessment.is_crisis;
    let crisis_info = crisis_card(&card_assessment, language, &deps.hotlines);

    // The cached handoff is as current as the copy: a claim or close through any instance moved
    // the session's version on, so this message's commit is refused and prepared again after a
    // reload. A handoff claimed meanwhile costs at most one unused reply.
    let assigned = state
        .handoff
        .as_ref()
        .filter(|h| h.status == HandoffStatus::Assigned)
        .map(|h| h.id);
    if let Some(handoff_id) = assigned {
        let prepared = super::handoff::Prepared {
            message: user_message,
            content,
            risk,
            risk_change,
            status_changed,
            crisis_info,
        };
        let posted =
            super::handoff::post_to_counsellor(deps, state, handoff_id, prepared, sink, accepted)
                .await?;
        if detector_answered {
            report_crisis(deps, session_id, assessment);
        }
        return Ok(posted);
    }

    if let Some(sink) = sink.as_deref_mut() {
        let committed = deps
            .persistence
            .ask(Commit {
                op: WriteOp::UserMessage {
                    message: user_message.clone(),
                    risk_change,
                    expected_version: Some(state.version),
                },
            })
            .await?;
        user_message.seq = committed.seq;
        deps.changes.committed(&user_message, status_changed);
        state.version = committed.version;
        user_message_committed(deps, state, risk, detector_answered.then_some(assessment));
        *accepted = true;
        sink.accepted(
            view(&user_message, Some(content.to_string())),
            crisis_info.clone(),
        );
    }
    // The estimate until the commit tells; it only varies the wording.
    let variation = user_message.seq as u64;

    let (reply_text, model_used) = if crisis_now || assessment.third_party {
        let text = if transition == Transition::CrisisContinues {
            check_in_reply(
                risk.category.unwrap_or(Category::Suicide),
                language,
                &deps.hotlines,
                variation,
            )
        } else if crisis_now {
            safety_reply(&card_assessment, language, &deps.hotlines)
        } else {
            safety_reply(assessment, language, &deps.hotlines)
        };
        if let Some(sink) = sink.as_deref_mut() {
            sink.text(&text);
        }
        (text, SAFETY_MODEL.to_string())
    } else {
        let request = ReplyRequest {
            language,
            message: content.to_string(),
            history: state.turns.iter().cloned().collect(),
            variation,
        };
        let generated = match sink {
            Some(sink) => streamed_reply(deps, request, sink).await,
            None => deps.responder.ask(GenerateReply { request }).await,
        };
        match generated {
            Ok(outcome) => (outcome.text, outcome.model_used),
            Err(error) => return Err(orphaned(state, *accepted, user_id, error)),
        }
    };
    let processing_time_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);

    // The new context only replaces the actor's memory once it is committed.
    let sealed = seal_reply(deps, state, key, content.to_string(), &reply_text, risk).await;
    let SealedReply {
        id: reply_id,
        content: sealed_reply,
        context,
        turns,
    } = match sealed {
        Ok(sealed) => sealed,
        Err(error) => return Err(orphaned(state, *accepted, user_id, error)),
    };
    let mut reply_message = StoredMessage {
        id: reply_id,
        session_id,
        seq: user_message.seq + 1,
        role: Role::Assistant,
        content: sealed_reply,
        model_used: Some(model_used),
        processing_time_ms: Some(processing_time_ms),
        is_crisis_detected: false,
        created_at: Timestamp::now(),
    };
    let op = if *accepted {
        WriteOp::Reply {
            message: reply_message.clone(),
            context,
            answers: user_id,
            expected_version: Some(state.version),
        }
    } else {
        WriteOp::Exchange {
            user: user_message.clone(),
            reply: reply_message.clone(),
            context,
            risk_change,
            expected_version: Some(state.version),
        }
    };
    let committed = match deps.persistence.ask(Commit { op }).await {
        Ok(committed) => committed,
        Err(error) if *accepted => return Err(orphaned(state, true, user_id, error)),
        Err(PipelineError::Store(StoreError::VersionConflict)) => {
            return Err(PipelineError::Store(StoreError::VersionConflict));
        }
        Err(error) => {
            // An exchange whose commit timed out may still land: take it back behind it.
            retract(deps, session_id, vec![user_id, reply_id]).await;
            return Err(error);
        }
    };
    if !*accepted {
        user_message.seq = committed.seq;
        reply_message.seq = committed.seq + 1;
        user_message_committed(deps, state, risk, detector_answered.then_some(assessment));
    }
    state.version = committed.version;
    state.next_seq = user_message.seq + 2;
    if !*accepted {
        deps.changes.committed(&user_message, status_changed);
    }
    deps.changes.committed(&reply_message, false);
    state.turns = turns;
    state.record.last_activity = reply_message.created_at;
    deps.metrics.chat_message(Role::Assistant);

    let notice = state.notices.next(
        &deps.notices,
        language,
        user_message.seq == 1,
        model_used_safety(&reply_message),
    );
    super::handoff::raise_risk(deps, state, risk).await;
    Ok(PostedMessage {
        user_message: view(&user_message, Some(content.to_string())),
        ai_message: Some(view(&reply_message, Some(reply_text))),
        crisis_info,
        notice,
    })
}

/// An assistant reply and the conversation context it leaves, sealed for storing.
pub(super) struct SealedReply {
    /// The reply's new id.
    pub(super) id: Uuid,
    /// The sealed reply text.
    pub(super) content: Vec<u8>,
    /// The sealed context.
    pub(super) context: StoredContext,
    /// The turns that context holds: the actor's memory once the reply is committed.
    pub(super) turns: VecDeque<Turn>,
}

/// Seals `reply_text`, the answer to `user_text`, under a new id, and the context that exchange
/// leaves (the last `deps.context_turns` turns, and `risk`), in one call to the encryptor.
pub(super) async fn seal_reply(
    deps: &SessionDeps,
    state: &SessionState,
    key: DataKey,
    user_text: String,
    reply_text: &str,
    risk: ConversationRisk,
) -> Result<SealedReply, PipelineError> {
    let session_id = state.record.id;
    let user = Turn {
        role: Role::User,
        content: user_text,
    };
    let reply = Turn {
        role: Role::Assistant,
        content: reply_text.to_owned(),
    };
    let turns = state.turns_with([user, reply], deps.context_turns);
    let id = Uuid::new_v4();
    let [content, sealed] = deps
        .encryptor
        .ask(SealRecords {
            key,
            records: [
                (
                    Aad::new(session_id, id, Purpose::MessageContent),
                    reply_text.as_bytes().to_vec(),
                ),
                (
                    Aad::new(session_id, session_id, Purpose::ConversationContext),
                    encode_context(&turns, risk),
                ),
            ],
        })
        .await?;
    let context = StoredContext {
        sealed,
        turn_count: i32::try_from(turns.len()).unwrap_or(i32::MAX),
    };
    Ok(SealedReply {
        id,
        content,
        context,
        turns,
    })
}

/// A streamed reply failed after its user message was committed: recovery answers that message
/// at this actor's next load (a retry from the client is a new message, not a duplicate of an
/// unanswered one).
fn orphaned(
    state: &mut SessionState,
    accepted: bool,
    user_id: Uuid,
    error: PipelineError,
) -> PipelineError {
    if accepted {
        state.orphans.push(user_id);
        state.mark_stale();
    }
    error
}

/// Counts and logs a crisis once its message is committed (a message prepared again after a
/// conflict is counted once).
/// Once the user's message is committed: the session takes the conversation's new risk, a
/// crisis the detector found in the message is reported, and the message is counted.
fn user_message_committed(
    deps: &SessionDeps,
    state: &mut SessionState,
    risk: ConversationRisk,
    detected: Option<&Assessment>,
) {
    state.record.risk_level = risk.level;
    state.record.is_crisis_mode = risk.shows_crisis_support();
    state.risk = risk;
    if let Some(assessment) = detected {
        report_crisis(deps, state.record.id, assessment);
    }
    deps.metrics.chat_message(Role::User);
}

fn report_crisis(deps: &SessionDeps, session_id: Uuid, assessment: &Assessment) {
    if !assessment.is_crisis {
        return;
    }
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

/// When the detector cannot answer (overloaded, restarting), the turn is answered as a crisis:
/// a needless crisis card costs little, a missed crisis could cost a life.
fn or_fail_safe(judgement: Result<Judgement, PipelineError>) -> Judgement {
    match judgement {
        Ok(judgement) => judgement,
        Err(error) => {
            tracing::error!(%error, "crisis detector did not answer: this turn gets the safety protocol");
            Judgement {
                assessment: Assessment {
                    is_crisis: true,
                    severity: Some(Severity::High),
                    ..Assessment::default()
                },
                level: RiskLevel::Crisis,
                safety_step: None,
                scores: ModelScores {
                    probabilities: Vec::new(),
                    ratios: Vec::new(),
                },
                by_model: false,
            }
        }
    }
}

fn model_used_safety(reply: &StoredMessage) -> bool {
    reply.model_used.as_deref() == Some(SAFETY_MODEL)
}

/// Asks the responder for a streamed reply and passes its guarded pieces on as they come.
async fn streamed_reply(
    deps: &SessionDeps,
    request: ReplyRequest,
    sink: &mut ReplySink,
) -> Result<ReplyOutcome, PipelineError> {
    let (pieces, mut received) = tokio::sync::mpsc::unbounded_channel();
    let generated = deps
        .responder
        .ask(GenerateReplyStreaming { request, pieces });
    // The channel closes when the responder is done with the request, so this ends with it.
    let forward = async {
        while let Some(piece) = received.recv().await {
            sink.delta(piece);
        }
    };
    let (generated, ()) = futures_util::join!(generated, forward);
    generated
}

/// The judge's verdict may raise the embedded one to a crisis, never lower it.
fn raise_with_judge(mut judgement: Judgement, verdict: Option<&JudgeVerdict>) -> Judgement {
    if let Some(verdict) = verdict {
        let merged = merge(&judgement.assessment, verdict);
        if merged.raised {
            judgement.assessment = merged.assessment;
            judgement.level = RiskLevel::Crisis;
        }
        // A crisis the judge confirms is no longer the model's word alone: a safety step in the
        // same message cannot end it.
        if judgement.assessment.is_crisis && verdict.risk == crate::crisis_judge::JudgeRisk::Crisis
        {
            judgement.by_model = false;
        }
    }
    judgement
}

/// The user's most recent earlier turns, oldest first, for the detector's view of the conversation.
fn earlier_user_turns(state: &SessionState, count: usize) -> Vec<String> {
    let mut earlier: Vec<String> = state
        .turns
        .iter()
        .rev()
        .filter(|t| t.role == Role::User)
        .take(count)
        .map(|t| t.content.clone())
        .collect();
    earlier.reverse();
    earlier
}

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
        seq: message.seq,
        role: message.role,
        integrity_error: content.is_none(),
        content,
        created_at: message.created_at,
        model_used: message.model_used.clone(),
        processing_time_ms: message.processing_time_ms,
        is_crisis_detected: message.is_crisis_detected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detector_that_does_not_answer_yields_a_crisis_reading() {
        let judgement = or_fail_safe(Err(PipelineError::Ask(AskError::Timeout(
            "crisis_detector",
        ))));
        assert!(judgement.assessment.is_crisis);
        assert_eq!(judgement.level, RiskLevel::Crisis);
        assert!(judgement.safety_step.is_none());
        let card = crisis_card(&judgement.assessment, crate::domain::Language::Vi, &[]);
        assert!(card.is_some(), "the turn carries a crisis card");
    }
}
