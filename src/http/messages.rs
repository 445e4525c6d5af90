//! `/api/v1/messages`: send a message through the pipeline, read and delete history.

use super::error::ApiError;
use super::idempotency::{Begun, Endpoint};
use super::query::QueryParams;
use super::state::AppState;
use super::token::resolve_token;
use super::views::{ChatMessage, History, PostedMessage};
use super::{session_from_query, session_of};
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::domain::MessageText;
use cbln_actors::persistence::Timestamp;
use cbln_actors::session::{ClearHistory, FetchMessage, ListHistory, PostMessage, RemoveMessage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest message, in characters after trimming.
pub const MAX_MESSAGE_CHARS: usize = MessageText::MAX_CHARS;

/// Body of `POST /messages`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    /// 1..5000 characters after trimming.
    pub content: String,
    /// The token, when not sent in a header (compatibility).
    pub session_token: Option<String>,
}

/// Answer of `DELETE /messages/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDeleted {
    /// "Message deleted successfully".
    pub message: &'static str,
    /// When it was deleted.
    #[schema(value_type = String, format = DateTime)]
    pub deleted_at: Timestamp,
    /// The deleted message's id.
    pub message_id: Uuid,
}

/// Send a message; answers with the committed message, the reply and, in a crisis, the card.
///
/// With `Accept: text/event-stream` the answer is 200 and a stream of events, each with an
/// increasing `id:`: `message.accepted` (`{"user_message", "crisis_info"}`, once the message is
/// committed), `reply.delta` (`{"text"}`, each piece only after the reply guard passed it), then
/// `reply.completed` (`{"ai_message"}`: the stored reply, which the deltas add up to),
/// `reply.replaced` (`{"ai_message"}`: a later sentence failed the guard and this safe reply was
/// stored instead) or `error` (the usual error body). A post refused before its message was
/// committed answers with the ordinary JSON error.
#[utoipa::path(post, path = "/api/v1/messages", request_body = SendMessageRequest,
    responses((status = 201, body = PostedMessage),
              (status = 200, description = "Server-sent events (with `Accept: text/event-stream`)", content_type = "text/event-stream", body = String),
              (status = 401), (status = 404), (status = 413),
              (status = 409, description = "`idempotency_key_in_flight`: the first request with this `Idempotency-Key` is still running (see `Retry-After`)"),
              (status = 415), (status = 422, description = "`validation_failed`, or `idempotency_key_reused`: this `Idempotency-Key` came with a different body"),
              (status = 429), (status = 503)),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the first answer (status and body) is replayed for 24 hours to requests with the same key and body, and nothing is created twice. With `Accept: text/event-stream` the final answer is kept as the JSON a plain post gives, and a retry gets that JSON.")),
    tag = "messages")]
pub async fn send(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (body, raw) =
        super::body::json_body_and_bytes::<SendMessageRequest>(&request, payload, state.body_limit)
            .await?;
    let body = body.ok_or_else(|| ApiError::field("content", "a message is required"))?;
    let content = MessageText::parse(&body.content)
        .map_err(|error| ApiError::field("content", error.to_string()))?;
    let idempotency_key = super::idempotency::key_of(&request)?;
    let token = resolve_token(&request, None, body.session_token.as_deref())?;
    let session = session_of(&state, &token).await?;
    if super::event_stream::wants_event_stream(&request) {
        // A stream cannot be replayed as it went: its final answer is kept as the JSON a plain
        // post would have given, and a retry gets that JSON.
        let keep = match idempotency_key {
            None => None,
            Some(key) => match super::idempotency::begin(
                &state,
                Endpoint::PostMessage,
                Some(session.session_id),
                &key,
                &raw,
            )
            .await?
            {
                Begun::Replay(response) => return Ok(response),
                Begun::Run(pending) => Some(pending),
            },
        };
        if let Err(error) = state.limits.admit_message(session.session_id).await {
            return match keep {
                Some(pending) => pending.finish(&state, Err(error), None).await,
                None => Err(error),
            };
        }
        let keep = keep.map(|pending| (state.clone(), pending));
        return super::messages_stream::send(session, content.into_string(), keep).await;
    }
    let session_id = session.session_id;
    super::idempotency::guarded(
        &state,
        idempotency_key,
        Endpoint::PostMessage,
        Some(session_id),
        &raw,
        || async {
            state.limits.admit_message(session_id).await?;
            let posted = session.mailbox.ask(PostMessage { content }).await?;
            Ok((
                HttpResponse::Created().json(PostedMessage::from(posted)),
                None,
            ))
        },
    )
    .await
}

/// A page of history, oldest first.
#[utoipa::path(get, path = "/api/v1/messages",
    params(("session_token" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = History), (status = 401), (status = 404), (status = 422)), tag = "messages")]
pub async fn history(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = QueryParams::parse(request.query_string())?;
    let limit = query.integer("limit", 100, 1..=200)?;
    let offset = query.integer("offset", 0, 0..=i64::MAX)?;
    let (session, _) = session_from_query(&state, &request).await?;
    let history = session.mailbox.ask(ListHistory { limit, offset }).await?;
    Ok(HttpResponse::Ok().json(History::from(history)))
}

fn message_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::field("message_id", "the message id must be a UUID"))
}

/// One message.
#[utoipa::path(get, path = "/api/v1/messages/{id}", params(("id" = Uuid, Path), ("session_token" = Option<String>, Query)),
    responses((status = 200, body = ChatMessage), (status = 404), (status = 422)), tag = "messages")]
pub async fn get_one(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = message_id(&path)?;
    let (session, _) = session_from_query(&state, &request).await?;
    let message = session.mailbox.ask(FetchMessage { id }).await?;
    Ok(HttpResponse::Ok().json(ChatMessage::from(message)))
}

/// Delete one message.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", params(("id" = Uuid, Path), ("session_token" = Option<String>, Query)),
    responses((status = 200, body = MessageDeleted), (status = 404), (status = 422)), tag = "messages")]
pub async fn delete_one(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = message_id(&path)?;
    let (session, _) = session_from_query(&state, &request).await?;
    let deleted_at = session.mailbox.ask(RemoveMessage { id }).await?;
    Ok(HttpResponse::Ok().json(MessageDeleted {
        message: "Message deleted successfully",
        deleted_at,
        message_id: id,
    }))
}

/// Delete the whole history.
#[utoipa::path(delete, path = "/api/v1/messages", params(("session_token" = Option<String>, Query)),
    responses((status = 204), (status = 404)), tag = "messages")]
pub async fn delete_all(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (session, _) = session_from_query(&state, &request).await?;
    session.mailbox.ask(ClearHistory).await?;
    Ok(HttpResponse::NoContent().finish())
}
