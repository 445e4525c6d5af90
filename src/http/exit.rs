//! `POST /api/v1/sessions/exit`: quick exit, for when someone walks in.
//!
//! It always answers 200 `{"status": "exited"}` at once — for an unknown, malformed, missing or
//! already-exited token and for an unreadable body too — because an error on the screen of
//! someone leaving in a hurry helps no one. It shreds the session's key first (everything stored
//! becomes unreadable), revokes the token, stops the session's actors here and on other instances,
//! and leaves the deletion of the rest to the janitor. No log line names the session.

use super::body::RequestBody;
use super::query::QueryParams;
use super::state::AppState;
use super::token::resolve_token;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::persistence::Timestamp;
use cbln_actors::persistence::messages::ShredSession;
use cbln_actors::session_registry::EvictSessions;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// How long the answer waits for the shredding; past it the work goes on and the answer goes out.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// Optional body of `POST /sessions/exit` (JSON, whatever the declared content type, so that
/// `navigator.sendBeacon` can send it). The document declares any body: none is refused.
#[derive(Debug, Deserialize)]
pub struct ExitRequest {
    /// The token, when not sent in a header or the query.
    pub session_token: Option<String>,
}

/// The one answer of `POST /sessions/exit`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExitReceipt {
    /// Always `exited`.
    pub status: &'static str,
}

/// Quick exit: always 200, whatever the token.
#[utoipa::path(post, path = "/api/v1/sessions/exit",
    security((), ("bearer" = []), ("session_id" = []), ("session_token" = [])),
    request_body(content = Option<serde_json::Value>, description = "Optional: `{\"session_token\": \"anon_…\"}` when the token is not in a header or the query, read as JSON whatever the `Content-Type` (for `navigator.sendBeacon`). Any other body is ignored, never refused: quick exit does not fail."),
    responses((status = 200, description = "For any token or none: the session, if there was one, is unreadable and its token revoked", body = ExitReceipt)),
    tag = "sessions")]
pub async fn exit(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: RequestBody,
) -> HttpResponse {
    if let Some(token) = token_of(&request, body).await {
        let token_hash = state.system.token_hasher.hash(&token);
        let system = state.system.clone();
        let work = actix_web::rt::spawn(async move {
            let shredded = system
                .persistence
                .ask(ShredSession {
                    token_hash,
                    now: Timestamp::now(),
                })
                .await;
            match shredded {
                Ok(Some(id)) => {
                    let evicted = system
                        .registry
                        .ask(EvictSessions {
                            ids: vec![id],
                            announce: true,
                        })
                        .await;
                    if evicted.is_err() {
                        tracing::warn!("quick exit: a live session actor could not be stopped");
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(error = %error, "quick exit could not shred a session")
                }
            }
        });
        // The answer does not wait for a slow database; the work finishes on its own.
        let _ = tokio::time::timeout(ANSWER_WITHIN, work).await;
    }
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(ExitReceipt { status: "exited" })
}

/// The token from a header, the query or the body, if any of them holds one that could be ours.
async fn token_of(request: &HttpRequest, body: RequestBody) -> Option<String> {
    let query = QueryParams::parse(request.query_string()).ok();
    let from_query = query.as_ref().and_then(|q| q.text("session_token"));
    if let Ok(token) = resolve_token(request, None, from_query) {
        return Some(token);
    }
    let body = body.bytes().await.ok()?;
    let parsed: ExitRequest = serde_json::from_slice(&body).ok()?;
    resolve_token(request, None, parsed.session_token.as_deref()).ok()
}
