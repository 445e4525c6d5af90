//! `/api/v1/messages`: send a message through the pipeline, read and delete history.

use super::body::RequestBody;
use super::error::ApiError;
use super::idempotency::{Begun, Endpoint};
use super::named_session::QuerySession;
use super::openapi;
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

/// Longest message, in characters as sent.
pub const MAX_MESSAGE_CHARS: usize = MessageText::MAX_CHARS;

/// The most messages one page of history holds.
pub const MAX_HISTORY_PAGE: i64 = 200;

/// Body of `POST /messages`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    /// At most 5000 characters, not all of them whitespace (the message is stored trimmed).
    // The pattern asks for one character outside Unicode's White_Space, which is what `str::trim`
    // removes: exactly the texts that are not empty once trimmed.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    pub content: String,
    /// The token, when not sent in a header (compatibility; a header wins).
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
/// stored instead; `null` when a counsellor took the conversation meanwhile) or `error` (the usual error body). A post refused before its message was
/// committed answers with the ordinary JSON error.
#[utoipa::path(post, path = "/api/v1/messages", request_body = SendMessageRequest,
    security((), ("bearer" = []), ("session_id" = [])),
    responses((status = 201, body = PostedMessage),
              (status = 200, description = "With `Accept: text/event-stream`: server-sent events, each with an increasing `id:` — `message.accepted` (data: `{\"user_message\": Message, \"crisis_info\": CrisisInfo|null}`), `reply.delta` (data: `{\"text\"}`), then one of `reply.completed` (data: `{\"ai_message\": Message, \"notice\": Notice|null}`), `reply.replaced` (the same, with `ai_message` null when a counsellor took the conversation while the reply was streamed) or `error` (data: ErrorBody).",
                  content_type = "text/event-stream", body = String),
              (status = 409, response = openapi::Conflict)),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "Makes retries safe: the first answer (status and body) is replayed for 24 hours to requests with the same key and body, and nothing is created twice. With `Accept: text/event-stream` the final answer is kept as the JSON a plain post gives, and a retry gets that JSON.")),
    tag = "messages")]
pub async fn send(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    let (body, raw) = body.json_and_bytes::<SendMessageRequest>().await?;
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
            let posted = session.ask(PostMessage { content }).await?;
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
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Messages per page (default 100)"),
           ("offset" = Option<i64>, Query, minimum = 0, maximum = 9_223_372_036_854_775_807_i64, description = "Messages to skip from the oldest (default 0)")),
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, body = History)), tag = "messages")]
pub async fn history(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = QueryParams::parse(request.query_string())?;
    let limit = query.integer("limit", 100, 1..=MAX_HISTORY_PAGE)?;
    let offset = query.integer("offset", 0, 0..=i64::MAX)?;
    let session = session_from_query(&state, &request).await?;
    let history = session.ask(ListHistory { limit, offset }).await?;
    Ok(HttpResponse::Ok().json(History::from(history)))
}

fn message_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::field("message_id", "the message id must be a UUID"))
}

/// One message.
#[utoipa::path(get, path = "/api/v1/messages/{id}", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, body = ChatMessage)), tag = "messages")]
pub async fn get_one(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = message_id(&path)?;
    let session = session_from_query(&state, &request).await?;
    let message = session.ask(FetchMessage { id }).await?;
    Ok(HttpResponse::Ok().json(ChatMessage::from(message)))
}

/// Delete one message.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", params(("id" = Uuid, Path)),
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, body = MessageDeleted)), tag = "messages")]
pub async fn delete_one(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = message_id(&path)?;
    let session = session_from_query(&state, &request).await?;
    let deleted_at = session.ask(RemoveMessage { id }).await?;
    Ok(HttpResponse::Ok().json(MessageDeleted {
        message: "Message deleted successfully",
        deleted_at,
        message_id: id,
    }))
}

/// Delete the whole history.
#[utoipa::path(delete, path = "/api/v1/messages",
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 204, description = "Deleted")), tag = "messages")]
pub async fn delete_all(session: QuerySession) -> Result<HttpResponse, ApiError> {
    session.ask(ClearHistory).await?;
    Ok(HttpResponse::NoContent().finish())
}
