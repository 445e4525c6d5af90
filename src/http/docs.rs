//! The OpenAPI document, generated from the handlers, and a page that renders it with assets
//! compiled into the binary (nothing is fetched from the internet).

use super::error::ApiError;
use super::handoff::person as handoff;
use super::handoff::{counsellor, staff_events};
use super::openapi::Contract;
use super::{events, exit, feedback, messages, operations, sessions, staff};
use actix_web::{HttpResponse, web};
use std::sync::{Arc, OnceLock};
use utoipa::OpenApi;

/// The API description. A new route is listed in `paths(...)` and annotated as
/// [`openapi`](super::openapi) says; [`Contract`] adds the rest.
#[derive(OpenApi)]
#[openapi(
    info(title = "Cùng Bạn Lắng Nghe", description = "Anonymous, encrypted support chat for young Vietnamese people."),
    paths(
        sessions::create, sessions::status, sessions::touch, sessions::delete,
        sessions::delete_by_query, sessions::refresh, exit::exit,
        messages::send, messages::history, messages::get_one, messages::delete_one, messages::delete_all,
        events::stream,
        feedback::submit,
        handoff::create, handoff::current, handoff::leave, handoff::summary_draft,
        staff::login::login, staff::login::logout,
        staff::hours::get_opening_hours, staff::hours::put_opening_hours,
        counsellor::queue, counsellor::claim, counsellor::messages, counsellor::answer,
        counsellor::close, counsellor::stats, staff_events::stream,
        operations::root, operations::health, operations::live, operations::ready, operations::metrics,
    ),
    modifiers(&Contract),
    tags((name = "sessions"), (name = "messages"), (name = "feedback"), (name = "handoff"), (name = "staff"), (name = "operations"))
)]
pub struct ApiDoc;

/// `GET /docs`: Swagger UI with absolute asset paths, so it works with or without the slash.
pub async fn page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cùng Bạn Lắng Nghe — API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.onload = () => { window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" }); };</script>
</body></html>"##,
    )
}

/// `GET /openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// `GET /docs/{file}`: the Swagger UI assets embedded in the binary.
pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| Arc::new(utoipa_swagger_ui::Config::from("/openapi.json")));
    let file = utoipa_swagger_ui::serve(&path, config.clone())
        .map_err(|_| ApiError::NotFound)?
        .ok_or(ApiError::NotFound)?;
    let mut response = HttpResponse::Ok();
    response.content_type(file.content_type);
    if file.gzpipped {
        response.insert_header((actix_web::http::header::CONTENT_ENCODING, "gzip"));
    }
    Ok(response.body(file.bytes.into_owned()))
}
