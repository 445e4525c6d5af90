//! `/api/v1/staff/…`: counsellors work the queue and their own handoffs; a supervisor also sees
//! the figures. No route shows anyone a conversation that was not handed to them: a handoff's
//! messages are read and answered only by the counsellor who claimed it, and every such action is
//! recorded (ids and actions only).

use super::person::log_staff_access;
use super::sealing::{append_entry, read_entries};
use super::staff_views::{
    CloseRequest, CounsellorMessageCreated, CounsellorMessageRequest, EntryList, EntryView,
    HandoffStats, OutcomeCount, Queue, QueueItem, StaffHandoffEnvelope, StaffHandoffView, waited_s,
};
use super::views::HandoffOutcome;
use crate::http::body::RequestBody;
use crate::http::error::ApiError;
use crate::http::keys::session_key;
use crate::http::openapi;
use crate::http::staff::{StaffPrincipal, StaffRole};
use crate::http::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::crisis::RiskLevel;
use cbln_actors::crypto::{Aad, Purpose};
use cbln_actors::domain::{MessageText, Role};
use cbln_actors::handoff::{EntryRole, HandoffEntry, HandoffRecord, HandoffStatus, Outcome};
use cbln_actors::persistence::messages::InsertCounsellorMessage;
use cbln_actors::persistence::messages::{
    ClaimHandoff, CloseHandoff, CountHandoffOutcomes, ListQueuedHandoffs, LoadHandoff,
    LoadQueueFigures,
};
use cbln_actors::persistence::{StoredMessage, Timestamp};
use uuid::Uuid;

/// Most handoffs the queue lists.
const QUEUE_LIMIT: i64 = 200;

/// The waiting handoffs, highest risk first, then longest wait. No content. Counsellors and up.
#[utoipa::path(get, path = "/api/v1/staff/queue",
    responses((status = 200, body = Queue), (status = 403, response = openapi::Forbidden)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn queue(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
) -> Result<HttpResponse, ApiError> {
    principal.require(StaffRole::Counsellor)?;
    let now = Timestamp::now();
    let waiting = state
        .system
        .persistence
        .ask(ListQueuedHandoffs { limit: QUEUE_LIMIT })
        .await?;
    Ok(HttpResponse::Ok().json(Queue {
        handoffs: waiting.iter().map(|h| QueueItem::new(h, now)).collect(),
    }))
}

/// Take a waiting handoff. Claiming one already yours answers it again. 409 `handoff_taken`
/// when another counsellor has it, `handoff_ended` when it was closed or left.
#[utoipa::path(post, path = "/api/v1/staff/handoffs/{id}/claim",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StaffHandoffEnvelope), (status = 403, response = openapi::Forbidden),
              (status = 404, response = openapi::NotFound),
              (status = 409, response = openapi::Conflict)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn claim(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !principal.role.works_queue() {
        return Err(ApiError::Forbidden);
    }
    let id = handoff_id(&request)?;
    let now = Timestamp::now();
    let claimed = state
        .system
        .persistence
        .ask(ClaimHandoff {
            id,
            staff_id: principal.staff_id,
            now,
        })
        .await?;
    let record = load(&state, id).await?;
    if !claimed {
        match (record.status, record.claimed_by) {
            (HandoffStatus::Assigned, Some(by)) if by == principal.staff_id => {}
            (HandoffStatus::Assigned, _) => return Err(ApiError::HandoffTaken),
            _ => return Err(ApiError::HandoffEnded),
        }
    } else {
        super::announce_change(&state, record.session_id);
        log_staff_access(&state, Some(principal.staff_id), id, "claimed", now).await;
        state.system.metrics.handoff_claimed(waited(&record, now));
    }
    Ok(HttpResponse::Ok().json(StaffHandoffEnvelope {
        handoff: StaffHandoffView::from(&record),
    }))
}

/// Exactly what the person shared, then every message since the claim. Only the counsellor who
/// claimed the handoff reads it (403 `forbidden` for anyone else); after its retention nothing is
/// left to read.
#[utoipa::path(get, path = "/api/v1/staff/handoffs/{id}/messages",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EntryList), (status = 403, response = openapi::Forbidden),
              (status = 404, response = openapi::NotFound)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn messages(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&request)?;
    let record = own(&state, &principal, id).await?;
    log_staff_access(
        &state,
        Some(principal.staff_id),
        id,
        "read",
        Timestamp::now(),
    )
    .await;
    let entries = read_entries(&state, record.id).await?;
    Ok(HttpResponse::Ok().json(EntryList {
        messages: entries.into_iter().map(EntryView::from).collect(),
    }))
}

/// Answer the person: the message joins their history (`"role": "counsellor"`, sealed under
/// their session's key like every message) and the handoff (under its own key). 403 `forbidden`
/// when the handoff is not yours, 409 `handoff_ended` once it ended, 422 `validation_failed` for
/// `content` empty or over 5000 characters.
#[utoipa::path(post, path = "/api/v1/staff/handoffs/{id}/messages",
    params(("id" = Uuid, Path)), request_body = CounsellorMessageRequest,
    responses((status = 201, body = CounsellorMessageCreated), (status = 403, response = openapi::Forbidden),
              (status = 404, response = openapi::NotFound),
              (status = 409, response = openapi::Conflict)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn answer(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
    request: HttpRequest,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&request)?;
    let body: CounsellorMessageRequest = body.required("content", "a message is required").await?;
    let content = MessageText::parse(&body.content)
        .map_err(|error| ApiError::field("content", error.to_string()))?;
    let record = own(&state, &principal, id).await?;
    if record.status != HandoffStatus::Assigned {
        return Err(ApiError::HandoffEnded);
    }
    let now = Timestamp::now();
    let message = commit_to_history(&state, &record, content.as_str(), now).await?;
    let entry = HandoffEntry {
        role: EntryRole::Counsellor,
        message_id: Some(message.id),
        content: content.into_string(),
        created_at: now,
    };
    if !append_entry(&state, id, &entry).await? {
        return Err(ApiError::HandoffEnded);
    }
    log_staff_access(&state, Some(principal.staff_id), id, "answered", now).await;
    state.system.metrics.chat_message(Role::Counsellor);
    state.system.changes.committed(&message, false);
    state.system.changes.handoff(record.session_id);
    Ok(HttpResponse::Created().json(CounsellorMessageCreated {
        message: EntryView::from(entry),
    }))
}

/// End the handoff with its outcome; the chat goes back to the AI, and what the counsellor could
/// read is destroyed after `[handoff] retention_minutes`. 403 `forbidden` when the handoff is not
/// yours, 409 `handoff_ended` once it ended, 422 `validation_failed` for an `outcome` missing or not
/// one of resolved, referred, emergency, no_response, other.
#[utoipa::path(post, path = "/api/v1/staff/handoffs/{id}/close",
    params(("id" = Uuid, Path)), request_body = CloseRequest,
    responses((status = 200, body = StaffHandoffEnvelope), (status = 403, response = openapi::Forbidden),
              (status = 404, response = openapi::NotFound),
              (status = 409, response = openapi::Conflict)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn close(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
    request: HttpRequest,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    let id = handoff_id(&request)?;
    let body: CloseRequest = body.required("outcome", "an outcome is required").await?;
    if body.outcome == HandoffOutcome::Left {
        return Err(ApiError::field(
            "outcome",
            "`left` is recorded when the person leaves; choose resolved, referred, emergency, no_response or other",
        ));
    }
    let outcome = Outcome::from(body.outcome);
    let record = own(&state, &principal, id).await?;
    let now = Timestamp::now();
    let closed = state
        .system
        .persistence
        .ask(CloseHandoff {
            id,
            staff_id: principal.staff_id,
            outcome,
            now,
            shred_after: now.plus(state.handoff.retention),
        })
        .await?;
    if !closed {
        return Err(ApiError::HandoffEnded);
    }
    super::announce_change(&state, record.session_id);
    log_staff_access(&state, Some(principal.staff_id), id, "closed", now).await;
    state
        .system
        .metrics
        .handoff_ended(outcome.as_str(), record.risk);
    let record = HandoffRecord {
        status: HandoffStatus::Closed,
        closed_at: Some(now),
        outcome: Some(outcome),
        ..record
    };
    Ok(HttpResponse::Ok().json(StaffHandoffEnvelope {
        handoff: StaffHandoffView::from(&record),
    }))
}

/// The `{id}` of the path; one that is not a UUID names no handoff.
fn handoff_id(request: &HttpRequest) -> Result<Uuid, ApiError> {
    request
        .match_info()
        .get("id")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or(ApiError::HandoffNotFound)
}

async fn load(state: &AppState, id: Uuid) -> Result<HandoffRecord, ApiError> {
    state
        .system
        .persistence
        .ask(LoadHandoff { id })
        .await?
        .ok_or(ApiError::HandoffNotFound)
}

/// The handoff if `principal` claimed it; 403 for anyone else, whatever their role.
async fn own(
    state: &AppState,
    principal: &StaffPrincipal,
    id: Uuid,
) -> Result<HandoffRecord, ApiError> {
    let record = load(state, id).await?;
    if record.claimed_by != Some(principal.staff_id) {
        log_staff_access(
            state,
            Some(principal.staff_id),
            id,
            "refused",
            Timestamp::now(),
        )
        .await;
        return Err(ApiError::Forbidden);
    }
    Ok(record)
}

fn waited(record: &HandoffRecord, now: Timestamp) -> std::time::Duration {
    std::time::Duration::from_millis(
        u64::try_from(now.unix_millis() - record.created_at.unix_millis()).unwrap_or(0),
    )
}

/// Seals the counsellor's message under the session's key (never given to staff: it is
/// unwrapped here, for this one seal) and commits it to the person's history.
async fn commit_to_history(
    state: &AppState,
    record: &HandoffRecord,
    content: &str,
    now: Timestamp,
) -> Result<StoredMessage, ApiError> {
    let session_id = record.session_id;
    let key = session_key(state, session_id)
        .await?
        // Shredded by a quick exit: the person is gone.
        .ok_or(ApiError::HandoffEnded)?;
    let id = Uuid::new_v4();
    let mut message = StoredMessage {
        id,
        session_id,
        seq: 0,
        role: Role::Counsellor,
        content: key.seal(
            content.as_bytes(),
            &Aad::new(session_id, id, Purpose::MessageContent),
        ),
        model_used: None,
        processing_time_ms: None,
        is_crisis_detected: false,
        created_at: now,
    };
    // Not a chat write: nothing a session actor caches changes, so no copy is made stale.
    message.seq = state
        .system
        .persistence
        .ask(InsertCounsellorMessage {
            message: message.clone(),
        })
        .await?
        // Deleted meanwhile: the person is gone.
        .ok_or(ApiError::HandoffEnded)?;
    Ok(message)
}

/// Queue and outcome figures for supervisors and admins (403 `forbidden` for counsellors): counts
/// and times, never content.
#[utoipa::path(get, path = "/api/v1/staff/stats",
    responses((status = 200, body = HandoffStats), (status = 403, response = openapi::Forbidden)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn stats(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
) -> Result<HttpResponse, ApiError> {
    principal.require(StaffRole::Supervisor)?;
    let now = Timestamp::now();
    let figures = state.system.persistence.ask(LoadQueueFigures {}).await?;
    let oldest = state
        .system
        .persistence
        .ask(ListQueuedHandoffs { limit: QUEUE_LIMIT })
        .await?
        .iter()
        .map(|h| waited_s(h.created_at, now))
        .max()
        .unwrap_or(0);
    let outcomes = state
        .system
        .persistence
        .ask(CountHandoffOutcomes {})
        .await?
        .into_iter()
        .filter_map(|(risk, outcome, count)| {
            Some(OutcomeCount {
                risk: RiskLevel::parse(&risk)?.into(),
                outcome: Outcome::parse(&outcome)?.into(),
                count,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(HandoffStats {
        queue_length: figures.queued,
        assigned: figures.assigned,
        longest_wait_s: oldest,
        mean_wait_s: figures.mean_wait_s,
        outcomes,
    }))
}
