//! The OpenAPI document, generated from the handlers, and a page that renders it with assets
//! compiled into the binary (nothing is fetched from the internet).

use super::{feedback, messages, operations, sessions};
use actix_web::HttpResponse;
use utoipa::OpenApi;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Cùng Bạn Lắng Nghe", description = "Anonymous, encrypted support chat for young Vietnamese people."),
    paths(
        sessions::create, sessions::status, sessions::touch, sessions::delete,
        sessions::delete_by_query, sessions::refresh,
        messages::send, messages::history, messages::get_one, messages::delete_one, messages::delete_all,
        feedback::submit,
        operations::root, operations::health, operations::live, operations::ready, operations::metrics,
    ),
    tags((name = "sessions"), (name = "messages"), (name = "feedback"), (name = "operations"))
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
