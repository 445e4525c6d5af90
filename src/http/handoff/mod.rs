//! Handoff to a counsellor: the young person's routes (`/api/v1/handoff`), the counsellor's
//! (`/api/v1/staff/…`), the shapes each side reads, and the sealing of what a counsellor may read
//! under the handoff's own key.

pub mod counsellor;
pub mod person;
pub mod sealing;
pub mod staff_events;
pub mod staff_views;
pub mod views;

/// How handoffs are kept and estimated, from `[handoff]`.
#[derive(Debug, Clone, Copy)]
pub struct HandoffPolicy {
    /// How long a closed handoff's key and material are kept before the janitor destroys them.
    pub retention: std::time::Duration,
    /// Seconds of wait per handoff ahead, before any claim was measured.
    pub default_wait_s: i64,
}

/// A handoff's state changed (asked for, claimed, closed, left): the session's event streams and
/// the staff's are told, and so is the session's actor if it is live on this instance, which
/// reloads its copy at once instead of having the person's next message refused first.
pub fn announce_change(state: &crate::http::state::AppState, session_id: uuid::Uuid) {
    state.system.changes.handoff(session_id);
    state
        .system
        .registry
        .addr()
        .do_send(cbln_actors::session_registry::HandoffChangedFor { session_id });
}
