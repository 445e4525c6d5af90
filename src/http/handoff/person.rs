//! `/api/v1/handoff`: the young person asks for a counsellor, sees where the request stands, and
//! leaves it. They decide what the counsellor may read: nothing, a summary they accepted, or
//! exactly the messages they chose; what they share is sealed under the handoff's own key.

use super::views::{
    HandoffEnvelope, HandoffView, HotlineCard, ShareChoice, SummaryDraft, Unavailable,
    UnavailableAnswer, UnavailableView,
};
use crate::http::body::RequestBody;
use crate::http::error::ApiError;
use crate::http::live_session::LiveSession;
use crate::http::named_session::QuerySession;
use crate::http::openapi;
use crate::http::session_of;
use crate::http::staff::availability;
use crate::http::state::AppState;
use crate::http::token::resolve_token;
use crate::http::views::HotlineView;
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::content::wording;
use cbln_actors::crisis::hotline_views;
use cbln_actors::domain::Role;
use cbln_actors::error::PipelineError;
use cbln_actors::handoff::{
    EntryRole, HandoffEntry, HandoffKey, HandoffRecord, HandoffStatus, NewHandoff, Outcome, Share,
    draft_summary, estimated_wait_s,
};
use cbln_actors::persistence::messages::{
    InsertHandoff, LoadQueueFigures, LoadQueuePosition, LoadSessionHandoff, LogHandoffAccess,
    WithdrawHandoff,
};
use cbln_actors::persistence::{StoreError, Timestamp};
use cbln_actors::session::{FetchMessage, GetStatus, ListHistory};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest note, in characters after trimming.
pub const MAX_NOTE_CHARS: usize = 500;
/// Most messages one handoff may share.
pub const MAX_SHARED_MESSAGES: usize = 50;
/// How many of the person's messages the summary is drafted from.
const SUMMARY_SOURCE: i64 = 200;

/// The body of `POST /handoff` as the OpenAPI document states it: one shape per choice, so that a
/// client generator knows `selected` needs its message ids and `summary` its note. The handler
/// reads the body as one struct and checks the same rules itself, with a precise message for each.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "share", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = HandoffRequest)]
#[allow(dead_code)] // only describes the document
enum HandoffRequestShape {
    /// Share nothing: the counsellor reads only what is written from now on.
    None {
        /// The token, when not sent in a header.
        session_token: Option<String>,
        /// Up to 500 characters for the counsellor.
        #[schema(max_length = 500)]
        note: Option<String>,
    },
    /// Share a summary the person has read and accepted, sent as the note.
    Summary {
        /// The token, when not sent in a header.
        session_token: Option<String>,
        /// The accepted summary.
        #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
        note: String,
    },
    /// Share exactly the chosen messages.
    Selected {
        /// The token, when not sent in a header.
        session_token: Option<String>,
        /// The ids of the messages to share, this session's own.
        #[schema(min_items = 1, max_items = 50)]
        message_ids: Vec<Uuid>,
        /// Up to 500 characters for the counsellor.
        #[schema(max_length = 500)]
        note: Option<String>,
    },
}

/// Body of `POST /handoff`, as the handler reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffRequest {
    /// The token, when not sent in a header.
    pub session_token: Option<String>,
    /// What the counsellor may read of the conversation so far.
    pub share: ShareChoice,
    /// With `selected` (and only then): the ids of the messages to share, this session's own.
    pub message_ids: Option<Vec<String>>,
    /// Up to 500 characters for the counsellor; with `summary`, the summary the person accepted.
    pub note: Option<String>,
}

/// What a valid request asks for.
struct Ask {
    share: Share,
    message_ids: Vec<Uuid>,
    note: Option<String>,
}

fn validate(body: HandoffRequest) -> Result<Ask, ApiError> {
    let note = body
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(ApiError::field(
            "note",
            format!("the note is longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let share = Share::from(body.share);
    if share == Share::Summary && note.is_none() {
        return Err(ApiError::field(
            "note",
            "sharing a summary needs the summary you accepted, sent as the note",
        ));
    }
    let message_ids = match (share, body.message_ids) {
        (Share::Selected, None) => {
            return Err(ApiError::field(
                "message_ids",
                "sharing selected messages needs their ids",
            ));
        }
        (Share::Selected, Some(ids)) => {
            if ids.is_empty() || ids.len() > MAX_SHARED_MESSAGES {
                return Err(ApiError::field(
                    "message_ids",
                    format!("choose between 1 and {MAX_SHARED_MESSAGES} messages"),
                ));
            }
            let mut parsed = Vec::with_capacity(ids.len());
            for id in ids {
                let id = Uuid::parse_str(&id)
                    .map_err(|_| ApiError::field("message_ids", "a message id is not a UUID"))?;
                if !parsed.contains(&id) {
                    parsed.push(id);
                }
            }
            parsed
        }
        (_, Some(_)) => {
            return Err(ApiError::field(
                "message_ids",
                "message ids are only sent when sharing selected messages",
            ));
        }
        (_, None) => Vec::new(),
    };
    Ok(Ask {
        share,
        message_ids,
        note,
    })
}

/// Ask for a counsellor.
///
/// 409 `handoff_exists` when a handoff is already queued or assigned; 422 `validation_failed` for
/// a bad `share`, a `note` over 500 characters, `summary` without `note`, or `message_ids`
/// missing, empty, over 50, not UUIDs, not this session's, or sent with another share.
#[utoipa::path(post, path = "/api/v1/handoff", request_body = HandoffRequestShape,
    security((), ("bearer" = []), ("session_id" = [])),
    responses((status = 201, body = HandoffEnvelope, description = "Queued; `position` 1 is next"),
              (status = 200, body = UnavailableAnswer, description = "No counsellor can take the chat now (none signed in, or outside opening hours): the chat stays with the AI"),
              (status = 409, response = openapi::Conflict)),
    tag = "handoff")]
pub async fn create(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    let body: HandoffRequest = body
        .required("share", "say what to share: none, summary or selected")
        .await?;
    let token = resolve_token(&request, None, body.session_token.as_deref())?;
    let ask = validate(body)?;
    let session = session_of(&state, &token).await?;
    let status = session.ask(GetStatus).await?;
    let now = Timestamp::now();
    let available = availability(&state, now).await?;
    if !available.is_available() {
        return Ok(HttpResponse::Ok().json(UnavailableAnswer {
            handoff: UnavailableView {
                status: Unavailable::Unavailable,
                next_opening: available.next_opening.filter(|_| !available.within_hours),
            },
            crisis_card: HotlineCard {
                message: wording(status.language).handoff.unavailable.clone(),
                hotlines: hotline_views(&state.system.hotlines, status.language)
                    .into_iter()
                    .map(HotlineView::from)
                    .collect(),
            },
        }));
    }
    if open_handoff(&state, session.session_id).await?.is_some() {
        return Err(ApiError::HandoffExists);
    }
    let mut entries = shared_messages(&session, &ask.message_ids).await?;
    if let Some(note) = ask.note {
        entries.push(HandoffEntry {
            role: EntryRole::Note,
            message_id: None,
            content: note,
            created_at: now,
        });
    }
    let record = HandoffRecord {
        id: Uuid::new_v4(),
        session_id: session.session_id,
        status: HandoffStatus::Queued,
        share: ask.share,
        risk: status.risk,
        language: status.language,
        created_at: now,
        claimed_by: None,
        claimed_at: None,
        closed_at: None,
        outcome: None,
    };
    let (key, wrapped) = HandoffKey::issue(&state.system.keyring, record.id);
    let sealed = entries.iter().map(|entry| key.seal(entry)).collect();
    let inserted = state
        .system
        .persistence
        .ask(InsertHandoff {
            handoff: NewHandoff {
                record: record.clone(),
                key: wrapped,
                entries: sealed,
            },
        })
        .await;
    match inserted {
        Ok(()) => {}
        // Another request of the same session won the race.
        Err(PipelineError::Store(StoreError::Conflict)) => return Err(ApiError::HandoffExists),
        Err(error) => return Err(error.into()),
    }
    super::announce_change(&state, record.session_id);
    log_access(&state, record.id, "requested", now).await;
    state.system.metrics.handoff_requested(record.risk);
    let view = HandoffView::new(&record, queue_place(&state, record.id).await?);
    Ok(HttpResponse::Created().json(HandoffEnvelope { handoff: view }))
}

/// The session's handoff: the open one, else the latest. 404 `handoff_not_found` when this
/// session never asked for a counsellor.
#[utoipa::path(get, path = "/api/v1/handoff",
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, body = HandoffEnvelope)),
    tag = "handoff")]
pub async fn current(
    state: web::Data<AppState>,
    session: QuerySession,
) -> Result<HttpResponse, ApiError> {
    let record = state
        .system
        .persistence
        .ask(LoadSessionHandoff {
            session_id: session.session_id,
        })
        .await?
        .ok_or(ApiError::HandoffNotFound)?;
    let queue = match record.status {
        HandoffStatus::Queued => queue_place(&state, record.id).await?,
        _ => None,
    };
    Ok(HttpResponse::Ok().json(HandoffEnvelope {
        handoff: HandoffView::new(&record, queue),
    }))
}

/// Leave the open handoff: a queued one is cancelled and what it shared destroyed at once; an
/// assigned one ends, and the counsellor sees that the person left. 404 `handoff_not_found` when
/// no handoff is queued or assigned.
#[utoipa::path(delete, path = "/api/v1/handoff",
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, body = HandoffEnvelope, description = "The handoff, now `cancelled`")),
    tag = "handoff")]
pub async fn leave(
    state: web::Data<AppState>,
    session: QuerySession,
) -> Result<HttpResponse, ApiError> {
    let now = Timestamp::now();
    let (before, _) = state
        .system
        .persistence
        .ask(WithdrawHandoff {
            session_id: session.session_id,
            now,
            retention: state.handoff.retention,
        })
        .await?
        .ok_or(ApiError::HandoffNotFound)?;
    super::announce_change(&state, before.session_id);
    log_access(&state, before.id, "left", now).await;
    state
        .system
        .metrics
        .handoff_ended(Outcome::Left.as_str(), before.risk);
    let record = HandoffRecord {
        status: HandoffStatus::Cancelled,
        closed_at: Some(now),
        outcome: Some(Outcome::Left),
        ..before
    };
    Ok(HttpResponse::Ok().json(HandoffEnvelope {
        handoff: HandoffView::new(&record, None),
    }))
}

/// A summary of the conversation drafted by the built-in listener, for the person to read, edit
/// and, if they accept it, send as the note of a `summary` handoff. Nothing is shared by drafting.
#[utoipa::path(get, path = "/api/v1/handoff/summary-draft",
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, body = SummaryDraft)),
    tag = "handoff")]
pub async fn summary_draft(session: QuerySession) -> Result<HttpResponse, ApiError> {
    let status = session.ask(GetStatus).await?;
    let history = session
        .ask(ListHistory {
            limit: SUMMARY_SOURCE,
            offset: (status.message_count - SUMMARY_SOURCE).max(0),
        })
        .await?;
    let own = history
        .messages
        .iter()
        .filter(|m| m.role == Role::User)
        .filter_map(|m| m.content.as_deref());
    Ok(HttpResponse::Ok().json(SummaryDraft {
        summary: draft_summary(own, status.language),
    }))
}

/// The session's handoff if it is queued or assigned.
pub async fn open_handoff(
    state: &AppState,
    session_id: Uuid,
) -> Result<Option<HandoffRecord>, ApiError> {
    Ok(state
        .system
        .persistence
        .ask(LoadSessionHandoff { session_id })
        .await?
        .filter(|h| h.status.is_open()))
}

/// The chosen messages in the conversation's order; an id that is not this session's is a 422.
async fn shared_messages(
    session: &LiveSession,
    ids: &[Uuid],
) -> Result<Vec<HandoffEntry>, ApiError> {
    let mut chosen = Vec::with_capacity(ids.len());
    for id in ids {
        let message = match session.ask(FetchMessage { id: *id }).await {
            Ok(message) => message,
            Err(PipelineError::MessageNotFound) => {
                return Err(ApiError::field(
                    "message_ids",
                    "a message id is not one of this session's messages",
                ));
            }
            Err(error) => return Err(error.into()),
        };
        let content = message.content.ok_or_else(|| {
            ApiError::field("message_ids", "a chosen message can no longer be read")
        })?;
        chosen.push((
            message.seq,
            message.role,
            message.id,
            content,
            message.created_at,
        ));
    }
    chosen.sort_by_key(|(seq, ..)| *seq);
    Ok(chosen
        .into_iter()
        .map(|(_, role, id, content, created_at)| HandoffEntry {
            role: match role {
                Role::User => EntryRole::User,
                Role::Assistant => EntryRole::Assistant,
                Role::Counsellor => EntryRole::Counsellor,
            },
            message_id: Some(id),
            content,
            created_at,
        })
        .collect())
}

/// `(position, estimated wait)` of a queued handoff, `None` when it no longer waits.
pub async fn queue_place(state: &AppState, id: Uuid) -> Result<Option<(i64, i64)>, ApiError> {
    let Some(position) = state
        .system
        .persistence
        .ask(LoadQueuePosition { id })
        .await?
    else {
        return Ok(None);
    };
    let figures = state.system.persistence.ask(LoadQueueFigures {}).await?;
    state.system.metrics.set_handoff_queue(figures.queued);
    Ok(Some((
        position,
        estimated_wait_s(position, &figures, state.handoff.default_wait_s),
    )))
}

/// Records an action on a handoff; a failure is logged, not the request's (the action happened).
pub async fn log_access(state: &AppState, handoff_id: Uuid, action: &'static str, at: Timestamp) {
    log_staff_access(state, None, handoff_id, action, at).await;
}

/// [`log_access`] naming the staff member who acted.
pub async fn log_staff_access(
    state: &AppState,
    staff_id: Option<Uuid>,
    handoff_id: Uuid,
    action: &'static str,
    at: Timestamp,
) {
    let logged = state
        .system
        .persistence
        .ask(LogHandoffAccess {
            staff_id,
            handoff_id,
            action,
            at,
        })
        .await;
    if let Err(error) = logged {
        tracing::error!(error = %error, action, "a handoff action could not be logged");
    }
}
