//! `GET` and `PUT /api/v1/staff/opening-hours` (admins only): the weekly hours and holidays, in
//! Vietnam's time zone, during which a young person can ask for a counsellor. Stored hours
//! override `[handoff]` in the configuration.

use super::super::body::RequestBody;
use super::super::error::ApiError;
use super::super::openapi;
use super::super::state::AppState;
use super::availability::{HoursSource, current_hours};
use super::{StaffPrincipal, StaffRole};
use actix_web::{HttpResponse, web};
use cbln_actors::persistence::messages::SaveOpeningHours;
use cbln_actors::persistence::{StoredOpeningHours, Timestamp};
use cbln_actors::staff::{HoursSpec, OpeningHours};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `PUT /api/v1/staff/opening-hours`: both lists are required, so a missing one can never
/// silently mean "all hours" or "no holidays".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHoursRequest {
    /// Weekly spans `DAYS HH:MM-HH:MM` (`mon-fri 08:00-22:00`, `sat,sun 09:00-17:00`, `daily 00:00-24:00`); empty = all hours.
    pub opening_hours: Vec<String>,
    /// Dates closed all day, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
}

/// The opening hours in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpeningHoursView {
    /// Weekly spans; empty = all hours.
    pub opening_hours: Vec<String>,
    /// Dates closed all day.
    pub holidays: Vec<String>,
    /// Always `Asia/Ho_Chi_Minh` (UTC+7, no daylight saving).
    pub time_zone: &'static str,
    /// `configuration` or `database` (set by an admin).
    pub source: &'static str,
    /// Open at the time of the answer.
    pub open_now: bool,
    /// When the hours next open (now while open); null for all hours.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_opening: Option<Timestamp>,
}

fn view(hours: &OpeningHours, source: HoursSource, now: Timestamp) -> OpeningHoursView {
    let spec = hours.spec();
    OpeningHoursView {
        opening_hours: spec.opening_hours.clone(),
        holidays: spec.holidays.clone(),
        time_zone: "Asia/Ho_Chi_Minh",
        source: source.as_str(),
        open_now: hours.is_open(now.datetime()),
        next_opening: hours
            .opening_to_announce(now.datetime())
            .map(Timestamp::from_datetime),
    }
}

/// The opening hours in force. Admins only (403 `forbidden` for other roles).
#[utoipa::path(get, path = "/api/v1/staff/opening-hours",
    security(("staff_token" = [])),
    responses((status = 200, body = OpeningHoursView),
              (status = 403, response = openapi::Forbidden)),
    tag = "staff")]
pub async fn get_opening_hours(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
) -> Result<HttpResponse, ApiError> {
    principal.require(StaffRole::Admin)?;
    let (hours, source) = current_hours(&state).await?;
    Ok(HttpResponse::Ok().json(view(&hours, source, Timestamp::now())))
}

/// Replace the opening hours (they then override the configuration's). Admins only. 422
/// `validation_failed` names the first entry at fault (`opening_hours[1]`, `holidays[0]`); the
/// detail lists every problem.
#[utoipa::path(put, path = "/api/v1/staff/opening-hours", request_body = OpeningHoursRequest,
    security(("staff_token" = [])),
    responses((status = 200, body = OpeningHoursView),
              (status = 403, response = openapi::Forbidden)),
    tag = "staff")]
pub async fn put_opening_hours(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    principal.require(StaffRole::Admin)?;
    let body: OpeningHoursRequest = body
        .required("opening_hours", "`opening_hours` is required")
        .await?;
    let spec = HoursSpec {
        opening_hours: body.opening_hours,
        holidays: body.holidays,
    };
    let hours = OpeningHours::parse(&spec).map_err(|errors| {
        let detail = errors
            .iter()
            .map(|error| format!("{}: {}", error.field, error.problem))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::Validation {
            field: errors.first().map(|error| error.field.clone()),
            detail,
        }
    })?;
    let now = Timestamp::now();
    let tidy = hours.spec();
    let encode = |list: &Vec<String>| {
        serde_json::to_string(list).map_err(|_| {
            tracing::error!("opening hours could not be encoded");
            ApiError::Internal
        })
    };
    state
        .system
        .persistence
        .ask(SaveOpeningHours {
            hours: StoredOpeningHours {
                weekly: encode(&tidy.opening_hours)?,
                holidays: encode(&tidy.holidays)?,
                updated_by: Some(principal.staff_id),
                updated_at: now,
            },
        })
        .await?;
    tracing::info!(staff_id = %principal.staff_id, "opening hours changed");
    Ok(HttpResponse::Ok().json(view(&hours, HoursSource::Database, now)))
}
