//! The staff side of the front door: who is signed in ([`StaffPrincipal`]), signing in and out,
//! the opening hours an admin manages, and whether a counsellor can be reached right now
//! ([`availability`]).

mod availability;
pub mod hours;
pub mod login;
mod principal;

pub use availability::HoursSource;
pub use availability::{Availability, availability, current_hours};
pub use cbln_actors::staff::StaffRole;
pub use hours::{OpeningHoursRequest, OpeningHoursView, get_opening_hours, put_opening_hours};
pub use login::{LoginRequest, LoginResponse, login, logout};
pub use principal::StaffPrincipal;

use cbln_actors::crypto::TokenHasher;
use cbln_actors::staff::OpeningHours;
use std::time::Duration;

/// The label the staff-token key is derived under from `SECRET_KEY`; changing it ends every
/// staff sign-in.
pub const STAFF_TOKEN_KEY_PURPOSE: &str = "cbln staff sign-in token v1";

/// What the staff routes need besides the actor system.
pub struct StaffAuth {
    /// Hashes staff tokens under a key of their own, derived from `SECRET_KEY`.
    pub hasher: TokenHasher,
    /// How long a sign-in lasts (`[staff] shift_hours`).
    pub shift: Duration,
    /// The configured opening hours (`[handoff]`), used unless an admin stored others.
    pub configured_hours: OpeningHours,
}

impl StaffAuth {
    /// From the session-token hasher and the settings.
    pub fn new(
        session_hasher: &TokenHasher,
        shift: Duration,
        configured_hours: OpeningHours,
    ) -> Self {
        StaffAuth {
            hasher: session_hasher.derive(STAFF_TOKEN_KEY_PURPOSE),
            shift,
            configured_hours,
        }
    }
}
