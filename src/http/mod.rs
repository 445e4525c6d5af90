//! The HTTP front door: thin handlers that parse, send one message to one actor, and map the
//! typed reply to HTTP.

pub mod body;
pub mod chat_page;
pub mod connection_cap;
pub mod database_breaker;
pub mod database_gate;
pub mod docs;
pub mod error;
pub mod event_stream;
pub mod events;
pub mod exit;
pub mod feedback;
pub mod handoff;
pub mod idempotency;
pub mod messages;
pub mod messages_stream;
pub mod middleware;
pub mod no_store;
pub mod operations;
pub mod query;
pub mod rate_limit;
pub mod request_limits;
pub mod sessions;
pub mod shared_rate_limit;
pub mod staff;
pub mod staff_page;
pub mod state;
pub mod token;
pub mod views;

use actix_web::{HttpResponse, web};
use cbln_actors::session_registry::{OpenSession, SessionHandle};
use error::ApiError;
use state::AppState;

/// The live session a token names.
pub async fn session_of(state: &AppState, token: &str) -> Result<SessionHandle, ApiError> {
    let token_hash = state.system.token_hasher.hash(token);
    Ok(state
        .system
        .registry
        .ask(OpenSession { token_hash })
        .await?)
}

/// The live session named by the request's headers or its `session_token` query parameter,
/// with the parsed query for the handler's other parameters.
pub async fn session_from_query(
    state: &AppState,
    request: &actix_web::HttpRequest,
) -> Result<(SessionHandle, query::QueryParams), ApiError> {
    let query = query::QueryParams::parse(request.query_string())?;
    let token = token::resolve_token(request, None, query.text("session_token"))?;
    Ok((session_of(state, &token).await?, query))
}

/// The live session named by the request's headers or the `{token}` path segment.
pub async fn session_from_path(
    state: &AppState,
    request: &actix_web::HttpRequest,
    path: &str,
) -> Result<SessionHandle, ApiError> {
    let token = token::resolve_token(request, Some(path), None)?;
    session_of(state, &token).await
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// `/metrics`: on the main listener, or alone on its own when `metrics.listen` is set.
pub fn configure_metrics(config: &mut web::ServiceConfig) {
    config.service(resource("/metrics").route(web::get().to(operations::metrics)));
}

/// The separate metrics listener: `/metrics` and nothing else.
pub fn configure_metrics_only(config: &mut web::ServiceConfig) {
    configure_metrics(config);
    config.default_service(web::to(not_found));
}

/// Every route but `/metrics` ([`configure_metrics`]). Paths are matched after trailing slashes
/// are trimmed.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/").route(web::get().to(operations::root)))
        .service(resource("/health").route(web::get().to(operations::health)))
        .service(resource("/api/v1/health").route(web::get().to(operations::health)))
        .service(resource("/health/live").route(web::get().to(operations::live)))
        .service(resource("/health/ready").route(web::get().to(operations::ready)))
        .service(resource("/chat").route(web::get().to(chat_page::page)))
        .service(resource("/chat/{file}").route(web::get().to(chat_page::asset)))
        .service(resource("/staff").route(web::get().to(staff_page::page)))
        .service(resource("/staff/{file}").route(web::get().to(staff_page::asset)))
        .service(resource("/docs").route(web::get().to(docs::page)))
        .service(resource("/openapi.json").route(web::get().to(docs::document)))
        .service(resource("/docs/{file:.*}").route(web::get().to(docs::asset)))
        .service(
            resource("/api/v1/sessions")
                .route(web::post().to(sessions::create))
                .route(web::delete().to(sessions::delete_by_query)),
        )
        .service(resource("/api/v1/sessions/refresh").route(web::post().to(sessions::refresh)))
        .service(resource("/api/v1/sessions/exit").route(web::post().to(exit::exit)))
        .service(
            resource("/api/v1/sessions/{token}")
                .route(web::get().to(sessions::status))
                .route(web::put().to(sessions::touch))
                .route(web::delete().to(sessions::delete)),
        )
        .service(
            resource("/api/v1/messages")
                .route(web::post().to(messages::send))
                .route(web::get().to(messages::history))
                .route(web::delete().to(messages::delete_all)),
        )
        .service(
            resource("/api/v1/messages/{id}")
                .route(web::get().to(messages::get_one))
                .route(web::delete().to(messages::delete_one)),
        )
        .service(resource("/api/v1/events").route(web::get().to(events::stream)))
        .service(resource("/api/v1/feedback").route(web::post().to(feedback::submit)))
        .service(
            resource("/api/v1/handoff")
                .route(web::post().to(handoff::person::create))
                .route(web::get().to(handoff::person::current))
                .route(web::delete().to(handoff::person::leave)),
        )
        .service(
            resource("/api/v1/handoff/summary-draft")
                .route(web::get().to(handoff::person::summary_draft)),
        )
        .service(resource("/api/v1/staff/login").route(web::post().to(staff::login)))
        .service(resource("/api/v1/staff/logout").route(web::post().to(staff::logout)))
        .service(
            resource("/api/v1/staff/opening-hours")
                .route(web::get().to(staff::get_opening_hours))
                .route(web::put().to(staff::put_opening_hours)),
        )
        .service(resource("/api/v1/staff/queue").route(web::get().to(handoff::counsellor::queue)))
        .service(resource("/api/v1/staff/stats").route(web::get().to(handoff::counsellor::stats)))
        .service(
            resource("/api/v1/staff/events").route(web::get().to(handoff::staff_events::stream)),
        )
        .service(
            resource("/api/v1/staff/handoffs/{id}/claim")
                .route(web::post().to(handoff::counsellor::claim)),
        )
        .service(
            resource("/api/v1/staff/handoffs/{id}/messages")
                .route(web::get().to(handoff::counsellor::messages))
                .route(web::post().to(handoff::counsellor::answer)),
        )
        .service(
            resource("/api/v1/staff/handoffs/{id}/close")
                .route(web::post().to(handoff::counsellor::close)),
        )
        .default_service(web::to(not_found));
}
