//! Whether a young person can reach a counsellor now: someone who may work the queue is signed
//! in, and it is within the opening hours (an admin's stored ones, else the configured ones).

use super::super::error::ApiError;
use super::super::state::AppState;
use cbln_actors::persistence::Timestamp;
use cbln_actors::persistence::messages::{CountQueueStaffSignedIn, LoadOpeningHours};
use cbln_actors::staff::{HoursSpec, OpeningHours};

/// Where the hours in force come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursSource {
    /// `[handoff]` in the configuration.
    Configuration,
    /// An admin's `PUT /api/v1/staff/opening-hours`.
    Database,
}

impl HoursSource {
    /// `configuration` or `database`.
    pub fn as_str(self) -> &'static str {
        match self {
            HoursSource::Configuration => "configuration",
            HoursSource::Database => "database",
        }
    }
}

/// The opening hours in force and where they come from. Stored hours that no longer parse (they
/// were checked when stored, so only a hand edit of the database does this) are logged and the
/// configured ones apply.
pub async fn current_hours(state: &AppState) -> Result<(OpeningHours, HoursSource), ApiError> {
    let Some(stored) = state.system.persistence.ask(LoadOpeningHours {}).await? else {
        return Ok((
            state.staff.configured_hours.clone(),
            HoursSource::Configuration,
        ));
    };
    let spec = serde_json::from_str(&stored.weekly)
        .and_then(|opening_hours| {
            Ok(HoursSpec {
                opening_hours,
                holidays: serde_json::from_str(&stored.holidays)?,
            })
        })
        .ok()
        .and_then(|spec| OpeningHours::parse(&spec).ok());
    match spec {
        Some(hours) => Ok((hours, HoursSource::Database)),
        None => {
            tracing::error!("stored opening hours are invalid; the configured ones apply");
            Ok((
                state.staff.configured_hours.clone(),
                HoursSource::Configuration,
            ))
        }
    }
}

/// Whether a handoff can be asked for at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// Enabled staff who may work the queue and hold an unexpired sign-in.
    pub staff_signed_in: i64,
    /// Within the opening hours.
    pub within_hours: bool,
    /// When the hours next open, if they are restricted at all (`None` for "all hours", or when
    /// nothing opens within the look-ahead); `now` itself while open.
    pub next_opening: Option<Timestamp>,
}

impl Availability {
    /// Someone can take a handoff now.
    pub fn is_available(&self) -> bool {
        self.staff_signed_in > 0 && self.within_hours
    }
}

/// Availability at `now` (pass the request's clock; tests pass a fixed one).
pub async fn availability(state: &AppState, now: Timestamp) -> Result<Availability, ApiError> {
    let (hours, _) = current_hours(state).await?;
    let staff_signed_in = state
        .system
        .persistence
        .ask(CountQueueStaffSignedIn { now })
        .await?;
    let instant = now.datetime();
    Ok(Availability {
        staff_signed_in,
        within_hours: hours.is_open(instant),
        next_opening: hours
            .opening_to_announce(instant)
            .map(Timestamp::from_datetime),
    })
}
