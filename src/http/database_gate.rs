//! Refuses API requests at once while the database is known to be unreachable, and has the
//! breaker check at once when a request failed as if it were. Operations endpoints (`/health*`, `/metrics`,
//! docs) always pass: they are how an operator sees the outage.

use super::error::ApiError;
use super::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

fn needs_database(path: &str) -> bool {
    path.starts_with("/api/") && path != "/api/v1/health"
}

/// The middleware function (wrap with `actix_web::middleware::from_fn`).
pub async fn database_gate(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let breaker = request
        .app_data::<web::Data<AppState>>()
        .filter(|_| needs_database(request.path()))
        .map(|state| state.breaker.clone());
    let Some(breaker) = breaker else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    if breaker.is_open() {
        let refusal = ApiError::DatabaseUnavailable {
            retry_after: super::database_breaker::RETRY_AFTER_S,
        }
        .error_response();
        return Ok(request.into_response(refusal).map_into_right_body());
    }
    let response = next.call(request).await?;
    let unreachable = response
        .response()
        .error()
        .and_then(|error| error.as_error::<ApiError>())
        .is_some_and(|error| matches!(error, ApiError::DatabaseUnavailable { .. }));
    if unreachable {
        breaker.suspect_unreachable();
    }
    Ok(response.map_into_left_body())
}
