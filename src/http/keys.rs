//! Keys unwrapped in the front door for the few seals made outside the session's actor: a
//! session's data key (a counsellor's message, a kept idempotent answer) and, through
//! [`unwrapped`], a handoff's key.

use super::error::ApiError;
use super::state::AppState;
use cbln_actors::crypto::DataKey;
use cbln_actors::persistence::messages::LoadSessionKey;
use std::fmt::Display;
use uuid::Uuid;

/// `loaded` (a wrapped key as the store gave it, if there was one) unwrapped by `unwrap`. A key
/// that does not unwrap is logged as `what` and answered 500: the master key is wrong or the
/// row damaged, nothing a client can change.
pub fn unwrapped<W, K, E: Display>(
    loaded: Option<W>,
    unwrap: impl FnOnce(W) -> Result<K, E>,
    what: &'static str,
) -> Result<Option<K>, ApiError> {
    loaded.map(unwrap).transpose().map_err(|error| {
        tracing::error!(error = %error, "{what} could not be unwrapped");
        ApiError::Internal
    })
}

/// The data key of `session_id`; `None` once a quick exit shredded it (what that means is the
/// caller's to say).
pub async fn session_key(state: &AppState, session_id: Uuid) -> Result<Option<DataKey>, ApiError> {
    let loaded = state
        .system
        .persistence
        .ask(LoadSessionKey { id: session_id })
        .await?;
    let keyring = &state.system.keyring;
    unwrapped(
        loaded,
        |wrapped| keyring.unwrap(&wrapped.wrapped_key, session_id),
        "a session's data key",
    )
}
