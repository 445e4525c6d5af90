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
