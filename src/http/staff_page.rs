//! `GET /staff`: the counsellors' console, compiled into the binary and served under the chat
//! page's strict policy (nothing from another host, no inline script or style). Sign-in, the live
//! queue, one conversation at a time, answer and close all go through the staff API with the
//! bearer token; the page holds the token in the tab's sessionStorage only.

use super::chat_page::{Asset, asset_response, page_response};
use super::error::ApiError;
use actix_web::{HttpResponse, web};

const PAGE: &str = include_str!("staff_page/staff.html");

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
    (
        "staff-text.js",
        "text/javascript; charset=utf-8",
        include_str!("staff_page/staff-text.js"),
    ),
];

/// `GET /staff`.
pub async fn page() -> HttpResponse {
    page_response(PAGE)
}

/// `GET /staff/{file}`: the console's stylesheet and scripts.
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    asset_response(ASSETS, &file)
}
