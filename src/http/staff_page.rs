//! `GET /staff`: the counsellors' console, compiled into the binary and served under the chat
//! page's strict policy (nothing from another host, no inline script or style). Sign-in, the live
//! queue, one conversation at a time, answer and close all go through the staff API with the
//! bearer token; the page holds the token in the tab's sessionStorage only.

use super::chat_page::{Asset, asset_response, page_response, text_script_response};
use super::error::ApiError;
use super::page_text::{self, Pick};
use actix_web::{HttpResponse, web};
use cbln_actors::content::{PageWording, Wording};

const PAGE: &str = include_str!("staff_page/staff.html");

/// The console's wording, from `[staff_page]` in the content.
const TEXT: Pick = text;

fn text(wording: &Wording) -> &PageWording {
    &wording.staff_page
}

/// The script that carries the wording, made at serve time.
const TEXT_SCRIPT: &str = "staff-text.js";

/// Each asset the console loads under `/staff/`.
const ASSETS: &[Asset] = &[
    (
        "staff.css",
        "text/css; charset=utf-8",
        include_str!("staff_page/staff.css"),
    ),
    (
        "staff.js",
        "text/javascript; charset=utf-8",
        include_str!("staff_page/staff.js"),
    ),
];

/// `GET /staff`.
pub async fn page() -> HttpResponse {
    page_response(page_text::render(PAGE, TEXT))
}

/// `GET /staff/{file}`: the console's stylesheet and scripts.
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if file.as_str() == TEXT_SCRIPT {
        return Ok(text_script_response(page_text::script("STAFF_TEXT", TEXT)));
    }
    asset_response(ASSETS, &file)
}
