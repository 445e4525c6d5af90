//! The HTTP front door: thin handlers that parse, send one message to one actor, and map the
//! typed reply to HTTP.

pub mod body;
pub mod chat_page;
pub mod compiled_page;
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
pub mod keys;
pub mod live_session;
pub mod messages;
pub mod messages_stream;
pub mod middleware;
pub mod mirror;
pub mod named_session;
pub mod no_store;
pub mod openapi;
pub mod operations;
pub mod page_text;
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

use actix_web::http::Method;
use actix_web::{HttpResponse, Route, web};
use compiled_page::{asset_route, page_route};
use error::ApiError;
use live_session::LiveSession;
use state::AppState;

/// The live session a token names.
pub async fn session_of(state: &AppState, token: &str) -> Result<LiveSession, ApiError> {
    let token_hash = state.system.token_hasher.hash(token);
    Ok(LiveSession::open(&state.system.registry, token_hash).await?)
}

/// The session token in the request's headers or its `session_token` query parameter.
pub fn token_from_query(request: &actix_web::HttpRequest) -> Result<String, ApiError> {
    let query = query::QueryParams::parse(request.query_string())?;
    token::resolve_token(request, None, query.text("session_token"))
}

/// The live session named by the request's headers or its `session_token` query parameter.
pub async fn session_from_query(
    state: &AppState,
    request: &actix_web::HttpRequest,
) -> Result<LiveSession, ApiError> {
    let token = token_from_query(request)?;
    session_of(state, &token).await
}

/// The live session named by the request's headers or the `{token}` path segment.
pub async fn session_from_path(
    state: &AppState,
    request: &actix_web::HttpRequest,
    path: &str,
) -> Result<LiveSession, ApiError> {
    let token = token::resolve_token(request, Some(path), None)?;
    session_of(state, &token).await
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// A resource answering `routes`, each under its method; any other method is answered 405 with
/// an `Allow` header naming these.
fn resource(path: &str, routes: Vec<(Method, Route)>) -> actix_web::Resource {
    let allow = routes
        .iter()
        .map(|(method, _)| method.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut resource = web::resource(path);
    for (method, route) in routes {
        resource = resource.route(route.method(method));
    }
    resource.default_service(web::to(move || {
        let allow = allow.clone();
        async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
    }))
}

/// `/metrics`: on the main listener, or alone on its own when `metrics.listen` is set.
pub fn configure_metrics(config: &mut web::ServiceConfig) {
    config.service(resource(
        "/metrics",
        vec![(Method::GET, web::to(operations::metrics))],
    ));
}

/// The separate metrics listener: `/metrics` and nothing else.
pub fn configure_metrics_only(config: &mut web::ServiceConfig) {
    configure_metrics(config);
    config.default_service(web::to(not_found));
}

/// Every route but `/metrics` ([`configure_metrics`]). Paths are matched after trailing slashes
/// are trimmed.
pub fn configure(config: &mut web::ServiceConfig) {
    let get = |handler| vec![(Method::GET, handler)];
    let post = |handler| vec![(Method::POST, handler)];
    config
        .service(resource("/", get(web::to(operations::root))))
        .service(resource("/health", get(web::to(operations::health))))
        .service(resource("/api/v1/health", get(web::to(operations::health))))
        .service(resource("/health/live", get(web::to(operations::live))))
        .service(resource("/health/ready", get(web::to(operations::ready))))
        .service(resource("/chat", get(page_route(&chat_page::PAGE))))
        .service(resource("/chat/{file}", get(asset_route(&chat_page::PAGE))))
        .service(resource("/staff", get(page_route(&staff_page::PAGE))))
        .service(resource(
            "/staff/{file}",
            get(asset_route(&staff_page::PAGE)),
        ))
        .service(resource("/docs", get(web::to(docs::page))))
        .service(resource("/openapi.json", get(web::to(docs::document))))
        .service(resource("/docs/{file:.*}", get(web::to(docs::asset))))
        .service(resource(
            "/api/v1/sessions",
            vec![
                (Method::POST, web::to(sessions::create)),
                (Method::DELETE, web::to(sessions::delete_by_query)),
            ],
        ))
        .service(resource(
            "/api/v1/sessions/refresh",
            post(web::to(sessions::refresh)),
        ))
        .service(resource("/api/v1/sessions/exit", post(web::to(exit::exit))))
        .service(resource(
            "/api/v1/sessions/{token}",
            vec![
                (Method::GET, web::to(sessions::status)),
                (Method::PUT, web::to(sessions::touch)),
                (Method::DELETE, web::to(sessions::delete)),
            ],
        ))
        .service(resource(
            "/api/v1/messages",
            vec![
                (Method::POST, web::to(messages::send)),
                (Method::GET, web::to(messages::history)),
                (Method::DELETE, web::to(messages::delete_all)),
            ],
        ))
        .service(resource(
            "/api/v1/messages/{id}",
            vec![
                (Method::GET, web::to(messages::get_one)),
                (Method::DELETE, web::to(messages::delete_one)),
            ],
        ))
        .service(resource("/api/v1/events", get(web::to(events::stream))))
        .service(resource(
            "/api/v1/feedback",
            post(web::to(feedback::submit)),
        ))
        .service(resource(
            "/api/v1/handoff",
            vec![
                (Method::POST, web::to(handoff::person::create)),
                (Method::GET, web::to(handoff::person::current)),
                (Method::DELETE, web::to(handoff::person::leave)),
            ],
        ))
        .service(resource(
            "/api/v1/handoff/summary-draft",
            get(web::to(handoff::person::summary_draft)),
        ))
        .service(resource("/api/v1/staff/login", post(web::to(staff::login))))
        .service(resource(
            "/api/v1/staff/logout",
            post(web::to(staff::logout)),
        ))
        .service(resource(
            "/api/v1/staff/opening-hours",
            vec![
                (Method::GET, web::to(staff::get_opening_hours)),
                (Method::PUT, web::to(staff::put_opening_hours)),
            ],
        ))
        .service(resource(
            "/api/v1/staff/queue",
            get(web::to(handoff::counsellor::queue)),
        ))
        .service(resource(
            "/api/v1/staff/stats",
            get(web::to(handoff::counsellor::stats)),
        ))
        .service(resource(
            "/api/v1/staff/events",
            get(web::to(handoff::staff_events::stream)),
        ))
        .service(resource(
            "/api/v1/staff/handoffs/{id}/claim",
            post(web::to(handoff::counsellor::claim)),
        ))
        .service(resource(
            "/api/v1/staff/handoffs/{id}/messages",
            vec![
                (Method::GET, web::to(handoff::counsellor::messages)),
                (Method::POST, web::to(handoff::counsellor::answer)),
            ],
        ))
        .service(resource(
            "/api/v1/staff/handoffs/{id}/close",
            post(web::to(handoff::counsellor::close)),
        ))
        .default_service(web::to(not_found));
}
