//! The live session a request names, as an extractor for the handlers whose first step is finding
//! it: the lookup and its refusals (401, 404, 422 for a query that does not parse) come before the
//! handler runs, as they would as its first line.

use super::error::ApiError;
use super::live_session::LiveSession;
use super::state::AppState;
use super::{session_from_path, session_from_query};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use std::ops::Deref;

/// The session named by the request's headers or, with `IN_PATH`, the `{token}` path segment,
/// else its `session_token` query parameter.
pub struct NamedSession<const IN_PATH: bool>(LiveSession);

/// The session named by the headers or the `session_token` query parameter.
pub type QuerySession = NamedSession<false>;

/// The session named by the headers or the `{token}` path segment.
pub type PathSession = NamedSession<true>;

impl<const IN_PATH: bool> FromRequest for NamedSession<IN_PATH> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        AppState::extract(request, |state, request| async move {
            let session = if IN_PATH {
                let token = request.match_info().get("token").unwrap_or_default();
                session_from_path(&state, &request, token).await?
            } else {
                session_from_query(&state, &request).await?
            };
            Ok(NamedSession(session))
        })
    }
}

impl<const IN_PATH: bool> Deref for NamedSession<IN_PATH> {
    type Target = LiveSession;

    fn deref(&self) -> &LiveSession {
        &self.0
    }
}
