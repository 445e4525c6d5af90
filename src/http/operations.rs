//! Operations endpoints (no `/api/v1` prefix): service info, health, readiness, metrics.

use super::error::ApiError;
use super::state::AppState;
use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// The running version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /`.
#[derive(Serialize, ToSchema)]
pub struct ServiceInfo {
    /// Service name.
    pub name: &'static str,
    /// Version.
    pub version: &'static str,
    /// Always "operational" when answering.
    pub status: &'static str,
    /// Where the API documentation is.
    pub docs: &'static str,
}

/// Service information.
#[utoipa::path(get, path = "/", responses((status = 200, body = ServiceInfo)), tag = "operations")]
pub async fn root() -> HttpResponse {
    HttpResponse::Ok().json(ServiceInfo {
        name: "Cùng Bạn Lắng Nghe",
        version: VERSION,
        status: "operational",
        docs: "/docs",
    })
}

/// Each dependency's state.
#[derive(Serialize, ToSchema)]
pub struct HealthChecks {
    /// `ok` or `down`.
    pub database: &'static str,
    /// `ok`, `down` or `disabled`.
    pub redis: &'static str,
    /// `ok` or `degraded` (an actor exceeded its restart budget or is not running).
    pub actors: &'static str,
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: &'static str,
    /// Version.
    pub version: &'static str,
    /// Seconds since start.
    pub uptime_s: u64,
    /// Per dependency.
    pub checks: HealthChecks,
}

/// Health of the service and its dependencies; 503 when the database or an actor is down
/// (`degraded` with 200 when only Redis is). A 503 here is the probe's answer (a [`Health`]), not
/// an error body.
#[utoipa::path(get, path = "/health",
    responses((status = 200, body = Health), (status = 503, description = "Degraded (the probe's answer, not an error)", body = Health)),
    tag = "operations")]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let probe = Duration::from_secs(3);
    // While the breaker is open the probe already knows; a fresh ping would only wait it out.
    let database = !state.breaker.is_open()
        && tokio::time::timeout(probe, state.system.database_healthy())
            .await
            .unwrap_or(false);
    let redis = match &state.redis {
        None => "disabled",
        Some(redis) => {
            if tokio::time::timeout(probe, redis.ping())
                .await
                .unwrap_or(false)
            {
                "ok"
            } else {
                "down"
            }
        }
    };
    let actors = state.system.actors_healthy();
    // Redis only makes instances share state faster; chat works without it, so its outage is
    // reported but does not make a balancer drain the instance.
    let serving = database && actors;
    let healthy = serving && redis != "down";
    let body = Health {
        status: if healthy { "healthy" } else { "degraded" },
        version: VERSION,
        uptime_s: state.started.elapsed().as_secs(),
        checks: HealthChecks {
            database: if database { "ok" } else { "down" },
            redis,
            actors: if actors { "ok" } else { "degraded" },
        },
    };
    if serving {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `GET /health/live`.
#[derive(Serialize, ToSchema)]
pub struct Liveness {
    /// Always `alive`.
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health/live", responses((status = 200, body = Liveness)), tag = "operations")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "alive" })
}

/// `GET /health/ready`.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// Why not, when not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<&'static str>,
}

fn not_ready(reason: &'static str) -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(Readiness {
        status: "not_ready",
        reason: Some(reason),
    })
}

/// Readiness: migrations ran, the supervisors started and the last probe reached the database.
/// A 503 here is the probe's answer (a [`Readiness`]), not an error body.
#[utoipa::path(get, path = "/health/ready",
    responses((status = 200, body = Readiness), (status = 503, description = "Not ready (the probe's answer, not an error)", body = Readiness)),
    tag = "operations")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if !state.is_ready() {
        return not_ready("starting up or shutting down");
    }
    if state.breaker.is_open() {
        return not_ready("the database is unreachable");
    }
    if !state.system.actors_healthy() {
        return not_ready("an actor exceeded its restart budget");
    }
    HttpResponse::Ok().json(Readiness {
        status: "ready",
        reason: None,
    })
}

/// Prometheus metrics: OpenMetrics when the scraper asks for it, classic text otherwise.
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "The Prometheus text format, or OpenMetrics when `Accept` asks for it",
        content((String = "text/plain"),
                (String = "application/openmetrics-text")))),
    tag = "operations")]
pub async fn metrics(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (size, idle) = state.system.pool_state();
    state
        .system
        .metrics
        .set_db_pool(i64::from(size), i64::from(idle));
    let accept = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    let encoded = state
        .system
        .metrics
        .encode_for_accept(accept)
        .map_err(|_| ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, encoded.content_type))
        .body(encoded.body))
}
