//! `/api/v1/sessions`: open, inspect, touch, refresh and delete anonymous sessions.

use super::body::RequestBody;
use super::error::ApiError;
use super::idempotency::Endpoint;
use super::named_session::PathSession;
use super::openapi;
use super::state::AppState;
use super::token::resolve_token;
use super::views::{Language, SessionStatus};
use super::{session_of, token_from_query};
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::persistence::Timestamp;
use cbln_actors::session::{GetStatus, RefreshSession, TouchSession};
use cbln_actors::session_registry::{CloseSession, CreateSession};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Optional body of `POST /sessions`: no body, `null` and `{}` all open a Vietnamese session.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSessionRequest {
    /// `vi` (default) or `en`.
    pub language_preference: Option<Language>,
}

/// A session as returned on creation and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// The anonymous token (`anon_…`): keep it; it is the only key to the session.
    pub session_token: String,
    /// Expiry (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// `vi` or `en`.
    pub language_preference: Language,
    /// Whether a crisis was detected in the session.
    pub is_crisis_mode: bool,
}

/// `{"session": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionEnvelope {
    /// The session.
    pub session: SessionInfo,
}

/// Open an anonymous session.
#[utoipa::path(post, path = "/api/v1/sessions",
    request_body(content = Option<CreateSessionRequest>, description = "Optional: no body, `null` and `{}` all open a session in Vietnamese."),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "Makes retries safe: the first answer is replayed for 24 hours to requests with the same key and body, and no second session is created. The kept answer holds the token sealed under a key derived from this one.")),
    responses((status = 201, body = SessionEnvelope),
              (status = 409, response = openapi::Conflict)),
    tag = "sessions")]
pub async fn create(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    // `null` is a valid body (the document declares it), as is no body at all.
    let (body, raw) = body
        .json_and_bytes::<Option<CreateSessionRequest>>()
        .await?;
    let idempotency_key = super::idempotency::key_of(&request)?;
    let language: cbln_actors::domain::Language = body
        .flatten()
        .and_then(|b| b.language_preference)
        .map(Into::into)
        .unwrap_or_default();
    super::idempotency::guarded(
        &state,
        idempotency_key,
        Endpoint::CreateSession,
        None,
        &raw,
        || async {
            state.limits.admit_session_creation(&request).await?;
            let created = state
                .system
                .registry
                .ask(CreateSession { language })
                .await?;
            let session_id = created.record.id;
            let response = HttpResponse::Created().json(SessionEnvelope {
                session: SessionInfo {
                    session_token: created.token,
                    expires_at: created.record.expires_at,
                    language_preference: created.record.language.into(),
                    is_crisis_mode: created.record.is_crisis_mode,
                },
            });
            Ok((response, Some(session_id)))
        },
    )
    .await
}

/// The token in the path; a token in `Authorization` or `X-Session-ID` takes precedence.
const TOKEN_IN_PATH: &str =
    "The session token; a token in `Authorization` or `X-Session-ID` takes precedence over it.";

/// A session's status.
#[utoipa::path(get, path = "/api/v1/sessions/{token}", params(("token" = String, Path, description = TOKEN_IN_PATH)),
    security((), ("bearer" = []), ("session_id" = [])),
    responses((status = 200, body = SessionStatus)), tag = "sessions")]
pub async fn status(session: PathSession) -> Result<HttpResponse, ApiError> {
    let status = session.ask(GetStatus).await?;
    Ok(HttpResponse::Ok().json(SessionStatus::from(status)))
}

/// Record activity on a session.
#[utoipa::path(put, path = "/api/v1/sessions/{token}", params(("token" = String, Path, description = TOKEN_IN_PATH)),
    security((), ("bearer" = []), ("session_id" = [])),
    responses((status = 200, body = SessionStatus)), tag = "sessions")]
pub async fn touch(session: PathSession) -> Result<HttpResponse, ApiError> {
    let status = session.ask(TouchSession).await?;
    Ok(HttpResponse::Ok().json(SessionStatus::from(status)))
}

/// Delete a session and everything of it, at once.
#[utoipa::path(delete, path = "/api/v1/sessions/{token}", params(("token" = String, Path, description = TOKEN_IN_PATH)),
    security((), ("bearer" = []), ("session_id" = [])),
    responses((status = 204, description = "Deleted")), tag = "sessions")]
pub async fn delete(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = resolve_token(&request, Some(&path), None)?;
    close(&state, &token).await
}

/// Delete a session (compatibility form: token in the query).
#[utoipa::path(delete, path = "/api/v1/sessions",
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 204, description = "Deleted")), tag = "sessions")]
pub async fn delete_by_query(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = token_from_query(&request)?;
    close(&state, &token).await
}

async fn close(state: &AppState, token: &str) -> Result<HttpResponse, ApiError> {
    let token_hash = state.system.token_hasher.hash(token);
    state
        .system
        .registry
        .ask(CloseSession { token_hash })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Extend a session by the session lifetime.
#[utoipa::path(post, path = "/api/v1/sessions/refresh",
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, body = SessionEnvelope)), tag = "sessions")]
pub async fn refresh(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = token_from_query(&request)?;
    let session = session_of(&state, &token).await?;
    let status = session.ask(RefreshSession).await?;
    Ok(HttpResponse::Ok().json(SessionEnvelope {
        session: SessionInfo {
            session_token: token,
            expires_at: status.expires_at,
            language_preference: status.language.into(),
            is_crisis_mode: status.is_crisis_mode,
        },
    }))
}
