//! `/staff`: the counsellors' console, compiled into the binary and served as a [`CompiledPage`]
//! under the chat page's strict policy (nothing from another host, no inline script or style).
//! Sign-in, the live queue, one conversation at a time, answer and close all go through the staff
//! API with the bearer token; the page holds the token in the tab's sessionStorage only. Its
//! wording is `[staff_page]` in the content; it also loads the chat page's `page.js` and
//! `server-events.js`.

use super::compiled_page::{Asset, CSS, CompiledPage, Head, JAVASCRIPT};
use std::sync::LazyLock;

/// Each asset the console loads under `/staff/`, besides its wording (`staff-text.js`).
const ASSETS: &[Asset] = &[
    ("staff.css", CSS, include_str!("staff_page/staff.css")),
    ("staff.js", JAVASCRIPT, include_str!("staff_page/staff.js")),
];

/// Kept out of search engines; the scripts the console loads after its wording.
const HEAD: Head = Head {
    noindex: true,
    scripts: &["/chat/page.js", "/chat/server-events.js", "/staff/staff.js"],
};

/// The console, rendered the first time it is asked for.
pub static PAGE: LazyLock<CompiledPage> = LazyLock::new(|| {
    let body = include_str!("staff_page/staff.html");
    CompiledPage::compile("staff", &HEAD, body, |wording| &wording.staff_page, ASSETS)
});
