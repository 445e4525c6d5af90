//! The handoff's key at the front door: issued with the handoff, unwrapped to read or add what a
//! counsellor may read. Like idempotent answers, sealed here with the keyring: a few short texts.

use crate::http::error::ApiError;
use crate::http::keys::unwrapped;
use crate::http::state::AppState;
use cbln_actors::handoff::{HandoffEntry, HandoffKey};
use cbln_actors::persistence::messages::{AppendHandoffEntry, LoadHandoffEntries, LoadHandoffKey};
use uuid::Uuid;

/// The handoff's key, or `None` once it was destroyed.
pub async fn handoff_key(
    state: &AppState,
    handoff_id: Uuid,
) -> Result<Option<HandoffKey>, ApiError> {
    let loaded = state
        .system
        .persistence
        .ask(LoadHandoffKey { id: handoff_id })
        .await?;
    unwrapped(
        loaded,
        |wrapped| HandoffKey::unwrap(&state.system.keyring, handoff_id, &wrapped),
        "a handoff's key",
    )
}

/// Everything a counsellor may read of the handoff, opened; empty once its key is destroyed.
pub async fn read_entries(
    state: &AppState,
    handoff_id: Uuid,
) -> Result<Vec<HandoffEntry>, ApiError> {
    let Some(key) = handoff_key(state, handoff_id).await? else {
        return Ok(Vec::new());
    };
    let sealed = state
        .system
        .persistence
        .ask(LoadHandoffEntries { id: handoff_id })
        .await?;
    sealed
        .iter()
        .map(|entry| key.open(entry))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            tracing::error!(error = %error, "a handoff entry could not be opened");
            ApiError::Internal
        })
}

/// Seals `entry` under the handoff's key and adds it at the end. False when the key was
/// destroyed meanwhile (nothing is stored then).
pub async fn append_entry(
    state: &AppState,
    handoff_id: Uuid,
    entry: &HandoffEntry,
) -> Result<bool, ApiError> {
    let Some(key) = handoff_key(state, handoff_id).await? else {
        return Ok(false);
    };
    // The key may also go between this load and the append (a quick exit, the person leaving):
    // the append answers for that moment too.
    Ok(state
        .system
        .persistence
        .ask(AppendHandoffEntry {
            handoff_id,
            entry: key.seal(entry),
        })
        .await?)
}
