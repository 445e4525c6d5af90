//! Finding the session token: `Authorization: Bearer`, then `X-Session-ID`, then the path, then
//! the query or body field (the last two kept only for the old web client).

use super::error::ApiError;
use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use cbln_actors::crypto::looks_like_session_token;

/// The token of an `Authorization: Bearer` header, if the request has one.
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

/// The token from the first place that has one. A token that cannot be one of ours answers
/// `session_not_found` at once, without touching the database.
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
    let token = from_bearer
        .or_else(from_header)
        .or_else(|| path.map(str::to_string))
        .or_else(|| query_or_body.map(str::to_string))
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::field("session_token", "a session token is required"))?;
    if !looks_like_session_token(&token) {
        return Err(ApiError::SessionNotFound);
    }
    Ok(token)
}
