//! Finding the session token: `Authorization: Bearer`, then `X-Session-ID`, then the path, then
//! the query or body field (the last two kept only for the old web client).
//!
//! A request that brings no token, or brings something in a header, the query or the body that
//! cannot be a token, is not authenticated: 401 `session_required`. A token in the path names a
//! resource, so one that cannot be a token names none: 404 `session_not_found`. A well-formed
//! token that names no session is 404 `session_not_found` wherever it came from.

use super::error::ApiError;
use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use cbln_actors::crypto::looks_like_session_token;

/// The token of an `Authorization: Bearer` header, if the request has one (staff sign-ins use it
/// too).
pub fn bearer_token(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
}

/// The token from the first place that has one. A token that cannot be one of ours is refused at
/// once, without touching the database.
pub fn resolve_token(
    request: &HttpRequest,
    path: Option<&str>,
    query_or_body: Option<&str>,
) -> Result<String, ApiError> {
    let from_bearer = bearer_token(request);
    let from_header = || {
        request
            .headers()
            .get("x-session-id")
            .and_then(|value| value.to_str().ok())
            .map(|value| value.trim().to_string())
    };
    let (token, in_path) = from_bearer
        .or_else(from_header)
        .map(|token| (token, false))
        .or_else(|| path.map(|token| (token.to_string(), true)))
        .or_else(|| query_or_body.map(|token| (token.to_string(), false)))
        .filter(|(token, _)| !token.is_empty())
        .ok_or(ApiError::SessionRequired)?;
    match (looks_like_session_token(&token), in_path) {
        (true, _) => Ok(token),
        (false, true) => Err(ApiError::SessionNotFound),
        (false, false) => Err(ApiError::SessionRequired),
    }
}
