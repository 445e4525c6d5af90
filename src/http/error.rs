//! The one error type at the edge: a small set of kinds, each with its status and JSON code.
//! The cause goes to the log; the client gets the code and a sentence, never internals.

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use cbln_actors::error::PipelineError;
use cbln_actors::mailbox::AskError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422, optionally naming the field at fault.
    #[error("{detail}")]
    Validation {
        /// The field at fault, when one is.
        field: Option<String>,
        /// What is wrong.
        detail: String,
    },
    /// 401 `session_required`: no session token came with the request, or what came cannot be
    /// one (a token in the path that cannot be one is a resource that does not exist: 404).
    #[error("session required")]
    SessionRequired,
    /// 404 `session_not_found`.
    #[error("session not found")]
    SessionNotFound,
    /// 401 `session_expired`.
    #[error("session expired")]
    SessionExpired,
    /// 404 `message_not_found`.
    #[error("message not found")]
    MessageNotFound,
    /// 409 `feedback_exists`.
    #[error("feedback already submitted")]
    FeedbackExists,
    /// 413 `payload_too_large`.
    #[error("payload too large")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415 `unsupported_media_type`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 429 `rate_limited`.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 503 `overloaded`.
    #[error("overloaded")]
    Overloaded {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 503 `database_unavailable`: the database cannot be reached right now.
    #[error("database unavailable")]
    DatabaseUnavailable {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 408 `request_timeout`: the body did not arrive within the deadline.
    #[error("request timeout")]
    RequestTimeout,
    /// 414 `uri_too_long`.
    #[error("uri too long")]
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// 429 `too_many_connections`: this address has too many connections open.
    #[error("too many connections")]
    TooManyConnections {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 422 `idempotency_key_reused`: the key came with a different request before.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 409 `idempotency_key_in_flight`: the first request with this key is still running.
    #[error("idempotency key in flight")]
    IdempotencyKeyInFlight {
        /// Seconds until a retry may get the first request's answer.
        retry_after: u64,
    },
    /// 409 `handoff_exists`: the session already has a handoff queued or assigned.
    #[error("handoff exists")]
    HandoffExists,
    /// 404 `handoff_not_found`: no such handoff (for this session, or at all).
    #[error("handoff not found")]
    HandoffNotFound,
    /// 409 `handoff_taken`: another counsellor claimed it first.
    #[error("handoff taken")]
    HandoffTaken,
    /// 409 `handoff_ended`: the handoff was closed or left; nothing more can be done to it.
    #[error("handoff ended")]
    HandoffEnded,
    /// 401 `staff_token_required`: a staff route was called without `Authorization: Bearer`.
    #[error("staff token required")]
    StaffTokenRequired,
    /// 401 `staff_token_invalid`: the staff token is unknown, expired, ended or its account
    /// disabled.
    #[error("staff token invalid")]
    StaffTokenInvalid,
    /// 401 `invalid_credentials`: the same answer for an unknown name and a wrong password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403 `forbidden`: signed in, but this role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// 404 `not_found`.
    #[error("not found")]
    NotFound,
    /// 405 `method_not_allowed`, with the `Allow` header naming the methods the resource answers.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The `Allow` header's value, e.g. `GET, DELETE`.
        allow: String,
    },
    /// 500 `internal`: the cause was logged where it happened.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// A 422 naming `field`.
    pub fn field(field: &str, detail: impl Into<String>) -> Self {
        ApiError::Validation {
            field: Some(field.to_string()),
            detail: detail.into(),
        }
    }

    /// A 422 about the body as a whole.
    pub fn body(detail: impl Into<String>) -> Self {
        ApiError::Validation {
            field: None,
            detail: detail.into(),
        }
    }

    fn code(&self) -> ErrorCode {
        match self {
            ApiError::Validation { .. } => ErrorCode::ValidationFailed,
            ApiError::SessionRequired => ErrorCode::SessionRequired,
            ApiError::SessionNotFound => ErrorCode::SessionNotFound,
            ApiError::SessionExpired => ErrorCode::SessionExpired,
            ApiError::MessageNotFound => ErrorCode::MessageNotFound,
            ApiError::FeedbackExists => ErrorCode::FeedbackExists,
            ApiError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Overloaded { .. } => ErrorCode::Overloaded,
            ApiError::DatabaseUnavailable { .. } => ErrorCode::DatabaseUnavailable,
            ApiError::RequestTimeout => ErrorCode::RequestTimeout,
            ApiError::UriTooLong { .. } => ErrorCode::UriTooLong,
            ApiError::TooManyConnections { .. } => ErrorCode::TooManyConnections,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::IdempotencyKeyInFlight { .. } => ErrorCode::IdempotencyKeyInFlight,
            ApiError::HandoffExists => ErrorCode::HandoffExists,
            ApiError::HandoffNotFound => ErrorCode::HandoffNotFound,
            ApiError::HandoffTaken => ErrorCode::HandoffTaken,
            ApiError::HandoffEnded => ErrorCode::HandoffEnded,
            ApiError::StaffTokenRequired => ErrorCode::StaffTokenRequired,
            ApiError::StaffTokenInvalid => ErrorCode::StaffTokenInvalid,
            ApiError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ApiError::Forbidden => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::Internal => ErrorCode::Internal,
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation { detail, .. } => detail.clone(),
            ApiError::SessionRequired => {
                "A session token is required (Authorization: Bearer, or X-Session-ID).".into()
            }
            ApiError::SessionNotFound => "No session exists for this token.".into(),
            ApiError::SessionExpired => {
                "This session has expired. Please start a new session.".into()
            }
            ApiError::MessageNotFound => "No such message in this session.".into(),
            ApiError::FeedbackExists => "Feedback was already submitted for this session.".into(),
            ApiError::PayloadTooLarge { limit } => {
                format!("The request body is larger than {limit} bytes.")
            }
            ApiError::UnsupportedMediaType => {
                "The request body must be JSON (Content-Type: application/json).".into()
            }
            ApiError::RateLimited { .. } => "Too many requests; please slow down.".into(),
            ApiError::Overloaded { .. } => {
                "The service is busy right now; please retry shortly.".into()
            }
            ApiError::DatabaseUnavailable { .. } => {
                "The service cannot reach its database right now; please retry shortly.".into()
            }
            ApiError::RequestTimeout => {
                "The request body did not arrive in time; please send it again.".into()
            }
            ApiError::UriTooLong { limit } => {
                format!("The request URL is longer than {limit} bytes.")
            }
            ApiError::TooManyConnections { .. } => {
                "Too many connections are open from this address; please reuse or close some."
                    .into()
            }
            ApiError::IdempotencyKeyReused => {
                "This Idempotency-Key was used with a different request; use a new key.".into()
            }
            ApiError::IdempotencyKeyInFlight { .. } => {
                "The first request with this Idempotency-Key is still being processed; retry shortly."
                    .into()
            }
            ApiError::HandoffExists => {
                "A request for a counsellor is already open for this session.".into()
            }
            ApiError::HandoffNotFound => "No such handoff.".into(),
            ApiError::HandoffTaken => "Another counsellor has already taken this handoff.".into(),
            ApiError::HandoffEnded => "This handoff has ended.".into(),
            ApiError::StaffTokenRequired => {
                "Sign in first and send the token as Authorization: Bearer.".into()
            }
            ApiError::StaffTokenInvalid => {
                "This sign-in has ended or is not valid; please sign in again.".into()
            }
            ApiError::InvalidCredentials => "The user name or password is not right.".into(),
            ApiError::Forbidden => "Your role may not do this.".into(),
            ApiError::NotFound => "No such resource.".into(),
            ApiError::MethodNotAllowed { .. } => "This method is not allowed on this resource.".into(),
            ApiError::Internal => "Something went wrong on our side.".into(),
        }
    }
}

/// What every error answer says, whatever the status: the OpenAPI document refers to this one
/// schema from every 4xx and 5xx response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code.
    pub error: ErrorCode,
    /// A sentence for people; never repeats what the client sent.
    pub detail: String,
    /// The field at fault, on some `validation_failed` answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

/// The error codes, one per kind of error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 422: the request is not what the operation takes.
    ValidationFailed,
    /// 401: no session token, or something that cannot be one.
    SessionRequired,
    /// 404: no session has this token.
    SessionNotFound,
    /// 401: the session has expired; start a new one.
    SessionExpired,
    /// 404: no such message in this session.
    MessageNotFound,
    /// 409: feedback was already submitted for this session.
    FeedbackExists,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 429: too many requests; see `Retry-After`.
    RateLimited,
    /// 503: busy; see `Retry-After`.
    Overloaded,
    /// 503: the database cannot be reached; see `Retry-After`.
    DatabaseUnavailable,
    /// 408: the body did not arrive in time.
    RequestTimeout,
    /// 414: the URL is over the limit.
    UriTooLong,
    /// 429: too many connections from this address; see `Retry-After`.
    TooManyConnections,
    /// 422: this `Idempotency-Key` came with a different request.
    IdempotencyKeyReused,
    /// 409: the first request with this `Idempotency-Key` is still running; see `Retry-After`.
    IdempotencyKeyInFlight,
    /// 409: a request for a counsellor is already open for this session.
    HandoffExists,
    /// 404: no such handoff.
    HandoffNotFound,
    /// 409: another counsellor has already taken this handoff.
    HandoffTaken,
    /// 409: this handoff has ended.
    HandoffEnded,
    /// 401: a staff route was called without a staff token.
    StaffTokenRequired,
    /// 401: the staff token has ended or is not valid; sign in again.
    StaffTokenInvalid,
    /// 401: the user name or password is not right.
    InvalidCredentials,
    /// 403: the signed-in role may not do this.
    Forbidden,
    /// 404: no such resource.
    NotFound,
    /// 405: see `Allow`.
    MethodNotAllowed,
    /// 500: something went wrong on the server.
    Internal,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::IdempotencyKeyInFlight { .. } => StatusCode::CONFLICT,
            ApiError::SessionNotFound | ApiError::MessageNotFound | ApiError::NotFound => {
                StatusCode::NOT_FOUND
            }
            ApiError::SessionRequired
            | ApiError::SessionExpired
            | ApiError::StaffTokenRequired
            | ApiError::StaffTokenInvalid
            | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::FeedbackExists
            | ApiError::HandoffExists
            | ApiError::HandoffTaken
            | ApiError::HandoffEnded => StatusCode::CONFLICT,
            ApiError::HandoffNotFound => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Overloaded { .. } | ApiError::DatabaseUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::TooManyConnections { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let field = match self {
            ApiError::Validation { field, .. } => field.clone(),
            _ => None,
        };
        let mut response = HttpResponse::build(self.status_code()).json(ErrorBody {
            error: self.code(),
            detail: self.detail(),
            field,
        });
        if let ApiError::RateLimited { retry_after }
        | ApiError::Overloaded { retry_after }
        | ApiError::DatabaseUnavailable { retry_after }
        | ApiError::TooManyConnections { retry_after }
        | ApiError::IdempotencyKeyInFlight { retry_after } = self
        {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if let ApiError::MethodNotAllowed { allow } = self
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            response.headers_mut().insert(ALLOW, value);
        }
        response
    }
}

impl From<PipelineError> for ApiError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::SessionNotFound => ApiError::SessionNotFound,
            PipelineError::SessionExpired => ApiError::SessionExpired,
            PipelineError::MessageNotFound => ApiError::MessageNotFound,
            PipelineError::FeedbackExists => ApiError::FeedbackExists,
            PipelineError::ShuttingDown => ApiError::Overloaded { retry_after: 5 },
            PipelineError::Ask(AskError::Overloaded(actor)) => {
                tracing::warn!(actor, "request refused: mailbox full");
                ApiError::Overloaded { retry_after: 1 }
            }
            PipelineError::Ask(AskError::Timeout(actor)) => {
                tracing::error!(actor, "request timed out in the actor system");
                ApiError::Overloaded { retry_after: 2 }
            }
            PipelineError::Ask(AskError::Stopped(actor)) => {
                tracing::error!(actor, "actor not running (restarting)");
                ApiError::Overloaded { retry_after: 1 }
            }
            PipelineError::Store(error) if error.is_unavailable() => {
                tracing::warn!(error = %error, "request failed: database unreachable");
                ApiError::DatabaseUnavailable {
                    retry_after: super::database_breaker::RETRY_AFTER_S,
                }
            }
            error @ (PipelineError::Store(_) | PipelineError::Crypto(_)) => {
                tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "request failed");
                ApiError::Internal
            }
        }
    }
}
