//! Idempotent retries: a `POST` sent with an `Idempotency-Key` claims the key in the database
//! before it runs, and its answer (status and body, byte for byte) is kept sealed for
//! `idempotency.ttl_s`. A retry with the same key and body gets that answer from any instance and
//! creates nothing; the same key with another body is refused (422 `idempotency_key_reused`);
//! a retry while the first is still running gets 409 `idempotency_key_in_flight`.
//!
//! Only answers a retry would get again are kept (2xx and 4xx but 408/429). A failure that a retry
//! may overcome (5xx, a rate limit, a timeout) releases the key, so the retry runs afresh.
//!
//! What is stored: keyed hashes of the key and of the body (`SECRET_KEY`), never either, and the
//! answer sealed under the session's data key — or, for session creation, whose answer holds the
//! new token, under a key derived from the idempotency key itself, which only the client holds.

use super::error::ApiError;
use super::keys::session_key;
use super::state::AppState;
use actix_web::body::to_bytes;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use cbln_actors::crypto::{Aad, DataKey, Purpose};
use cbln_actors::persistence::messages::{
    ClaimIdempotencyKey, CompleteIdempotencyKey, ReleaseIdempotencyKey,
};
use cbln_actors::persistence::{ClaimOutcome, IdempotencyClaim, Timestamp};
use std::time::Duration;
use uuid::Uuid;

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

/// How long [`crate::config::IdempotencySettings`] keep answers and in-flight claims.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyPolicy {
    /// How long an answer is replayed.
    pub ttl: Duration,
    /// How long an unfinished claim is presumed alive.
    pub in_flight_lease: Duration,
}

/// The endpoints that accept a key; part of the key's hash, so one key names one request.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    /// `POST /api/v1/sessions`.
    CreateSession,
    /// `POST /api/v1/messages`.
    PostMessage,
    /// `POST /api/v1/feedback`.
    SubmitFeedback,
}

impl Endpoint {
    fn as_str(self) -> &'static str {
        match self {
            Endpoint::CreateSession => "sessions",
            Endpoint::PostMessage => "messages",
            Endpoint::SubmitFeedback => "feedback",
        }
    }
}

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible ASCII characters.
pub fn key_of(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(HEADER) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::field(
            "Idempotency-Key",
            format!("the Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        )
    };
    let key = value.to_str().map_err(|_| invalid())?.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid());
    }
    Ok(Some(key.to_string()))
}

/// What a request with a key does next.
pub enum Begun {
    /// Run it, then hand its answer to [`Pending::finish`].
    Run(Pending),
    /// The first request's answer, to send as it is.
    Replay(HttpResponse),
}

/// A claimed key waiting for its request's answer.
pub struct Pending {
    key_hash: Vec<u8>,
    seal_key: SealKey,
    aad: Aad,
}

/// The key the answer is sealed under: the session's, or (for a new session) one derived from
/// the client's idempotency key.
enum SealKey {
    Session(DataKey),
    Derived(DataKey),
}

impl SealKey {
    fn key(&self) -> &DataKey {
        match self {
            SealKey::Session(key) | SealKey::Derived(key) => key,
        }
    }
}

/// Claims `key` for a request on `endpoint` (acting on `session`, when there is one) with `body`.
pub async fn begin(
    state: &AppState,
    endpoint: Endpoint,
    session: Option<Uuid>,
    key: &str,
    body: &[u8],
) -> Result<Begun, ApiError> {
    let hasher = &state.system.token_hasher;
    let scope = session.map(|id| id.to_string()).unwrap_or_default();
    let key_hash = hasher
        .hash(&format!("idempotency:{}:{scope}:{key}", endpoint.as_str()))
        .as_bytes()
        .to_vec();
    let request_hash = hasher
        .hash(&format!(
            "idempotency-request:{}:{}",
            endpoint.as_str(),
            String::from_utf8_lossy(body)
        ))
        .as_bytes()
        .to_vec();
    let seal_key = match session {
        // Shredded by a quick exit: the session is gone for every purpose.
        Some(id) => SealKey::Session(
            session_key(state, id)
                .await?
                .ok_or(ApiError::SessionNotFound)?,
        ),
        None => SealKey::Derived(DataKey::from_derived(
            *hasher.hash(&format!("idempotency-seal:{key}")).as_bytes(),
        )),
    };
    let record_id = record_id(&key_hash);
    let aad = Aad::new(
        session.unwrap_or(Uuid::nil()),
        record_id,
        Purpose::IdempotentResponse,
    );
    let now = Timestamp::now();
    let claim = IdempotencyClaim {
        key_hash: key_hash.clone(),
        request_hash: request_hash.clone(),
        session_id: session,
        now,
        lease_until: now.plus(state.idempotency.in_flight_lease),
        expires_at: now.plus(state.idempotency.ttl),
    };
    let outcome = state
        .system
        .persistence
        .ask(ClaimIdempotencyKey { claim })
        .await?;
    let existing = match outcome {
        ClaimOutcome::Claimed => {
            return Ok(Begun::Run(Pending {
                key_hash,
                seal_key,
                aad,
            }));
        }
        ClaimOutcome::Existing(existing) => existing,
    };
    if existing.request_hash != request_hash {
        return Err(ApiError::IdempotencyKeyReused);
    }
    let (Some(status), Some(sealed)) = (existing.status, existing.response) else {
        let left = existing.lease_until.unix_millis() - now.unix_millis();
        // The first request usually answers within a second or two; never ask for a long wait.
        let retry_after = u64::try_from(left.clamp(1_000, 5_000) / 1_000).unwrap_or(1);
        return Err(ApiError::IdempotencyKeyInFlight { retry_after });
    };
    // A new session's answer is bound to that session once it exists.
    let aad = match (session, existing.session_id) {
        (None, Some(created)) => Aad::new(created, record_id, Purpose::IdempotentResponse),
        _ => aad,
    };
    let body = seal_key.key().open(&sealed, &aad).map_err(|error| {
        tracing::error!(error = %error, "a kept idempotent answer could not be opened");
        ApiError::Internal
    })?;
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(ApiError::Internal)?;
    Ok(Begun::Replay(
        HttpResponse::build(status)
            .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
            .body(body),
    ))
}

impl Pending {
    /// Keeps `answer` for retries (or releases the key when a retry should run afresh) and
    /// returns it. `created` is the session the request created, if it did.
    pub async fn finish(
        self,
        state: &AppState,
        answer: Result<HttpResponse, ApiError>,
        created: Option<Uuid>,
    ) -> Result<HttpResponse, ApiError> {
        let response = answer.unwrap_or_else(|error| error.error_response());
        let status = response.status();
        let persistence = &state.system.persistence;
        if !is_kept(status) {
            let released = persistence
                .ask(ReleaseIdempotencyKey {
                    key_hash: self.key_hash,
                })
                .await;
            if let Err(error) = released {
                // The lease frees the key later; the answer itself stands.
                tracing::warn!(error = %error, "an idempotency key could not be released");
            }
            return Ok(response);
        }
        let (head, body) = response.into_parts();
        let bytes = to_bytes(body).await.map_err(|_| ApiError::Internal)?;
        let aad = match created {
            Some(id) => Aad::new(id, self.aad.record_id, Purpose::IdempotentResponse),
            None => self.aad,
        };
        let sealed = self.seal_key.key().seal(&bytes, &aad);
        let kept = persistence
            .ask(CompleteIdempotencyKey {
                key_hash: self.key_hash,
                session_id: created,
                status: i32::from(status.as_u16()),
                response: sealed,
                now: Timestamp::now(),
            })
            .await;
        if let Err(error) = kept {
            // The work is done and committed: answer it. Retries get 409 until the lease ends.
            tracing::warn!(error = %error, "an idempotent answer could not be kept");
        }
        Ok(head.set_body(bytes).map_into_boxed_body())
    }
}

/// Answers a retry would get again; anything else may go differently next time.
fn is_kept(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && status != StatusCode::REQUEST_TIMEOUT
            && status != StatusCode::TOO_MANY_REQUESTS)
}

fn record_id(key_hash: &[u8]) -> Uuid {
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(key_hash) {
        *slot = *byte;
    }
    Uuid::from_bytes(bytes)
}

/// Runs `work` under `key` when the request sent one; without a key, just runs it.
pub async fn guarded<F, Fut>(
    state: &AppState,
    key: Option<String>,
    endpoint: Endpoint,
    session: Option<Uuid>,
    body: &[u8],
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(HttpResponse, Option<Uuid>), ApiError>>,
{
    let Some(key) = key else {
        return work().await.map(|(response, _)| response);
    };
    match begin(state, endpoint, session, &key, body).await? {
        Begun::Replay(response) => Ok(response),
        Begun::Run(pending) => {
            let answer = work().await;
            let created = answer.as_ref().ok().and_then(|(_, created)| *created);
            pending
                .finish(state, answer.map(|(response, _)| response), created)
                .await
        }
    }
}
