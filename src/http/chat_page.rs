//! `GET /chat`: the chat page people open, compiled into the binary. Its HTML, CSS, script and
//! wording live in `chat_page/` as plain files; nothing is fetched from another host, and the
//! Content-Security-Policy forbids it, so an injected script or a hostile embed has nowhere to go.
//! The staff console (`staff_page`) is served the same way, through [`page_response`] and
//! [`asset_response`]. The wording is not in these files: `page_text` writes it in from the
//! content in use.

use super::error::ApiError;
use super::page_text::{self, Pick};
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use actix_web::{HttpResponse, web};
use cbln_actors::content::{PageWording, Wording};

/// Same-origin only, no inline script or style, no plugins, no framing, no `<base>` rewriting.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// A page's asset: its file name under the page's path, content type, and body.
pub type Asset = (&'static str, &'static str, &'static str);

const PAGE: &str = include_str!("chat_page/chat.html");

/// The page's wording, from `[chat_page]` in the content.
const TEXT: Pick = text;

fn text(wording: &Wording) -> &PageWording {
    &wording.chat_page
}

/// The script that carries the wording, made at serve time.
const TEXT_SCRIPT: &str = "chat-text.js";

/// Each asset the page loads under `/chat/`.
const ASSETS: &[Asset] = &[
    (
        "chat.css",
        "text/css; charset=utf-8",
        include_str!("chat_page/chat.css"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_str!("chat_page/chat.js"),
    ),
    (
        "page.js",
        "text/javascript; charset=utf-8",
        include_str!("chat_page/page.js"),
    ),
    (
        "handoff.js",
        "text/javascript; charset=utf-8",
        include_str!("chat_page/handoff.js"),
    ),
    (
        "server-events.js",
        "text/javascript; charset=utf-8",
        include_str!("chat_page/server-events.js"),
    ),
];

/// `GET /chat`.
pub async fn page() -> HttpResponse {
    page_response(page_text::render(PAGE, TEXT))
}

/// `GET /chat/{file}`: the page's stylesheet and scripts.
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if file.as_str() == TEXT_SCRIPT {
        return Ok(text_script_response(page_text::script("CHAT_TEXT", TEXT)));
    }
    asset_response(ASSETS, &file)
}

/// A compiled-in page under the strict policy. Not stored by any cache, so that after a quick
/// exit (or a counsellor's sign-out) neither the back button nor a shared computer's cache brings
/// the page back.
pub fn page_response(html: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(html)
}

/// The asset named `file` among `assets`, or 404.
pub fn asset_response(assets: &[Asset], file: &str) -> Result<HttpResponse, ApiError> {
    let (_, content_type, body) = assets
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or(ApiError::NotFound)?;
    Ok(asset_with(content_type, *body))
}

/// A page's wording as a script (`page_text::script`).
pub fn text_script_response(script: String) -> HttpResponse {
    asset_with("text/javascript; charset=utf-8", script)
}

fn asset_with(
    content_type: &str,
    body: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(body)
}
