//! `/chat`: the chat page people open, compiled into the binary. Its HTML body, CSS and scripts
//! live in `chat_page/` as plain files and are served as a [`CompiledPage`]. The wording
//! is not in these files: `page_text` writes it in from the content in use (`[chat_page]`).

use super::compiled_page::{Asset, CSS, CompiledPage, Head, JAVASCRIPT};
use std::sync::LazyLock;

/// Each asset the page loads under `/chat/`, besides its wording (`chat-text.js`).
const ASSETS: &[Asset] = &[
    ("chat.css", CSS, include_str!("chat_page/chat.css")),
    ("chat.js", JAVASCRIPT, include_str!("chat_page/chat.js")),
    ("page.js", JAVASCRIPT, include_str!("chat_page/page.js")),
    (
        "handoff.js",
        JAVASCRIPT,
        include_str!("chat_page/handoff.js"),
    ),
    (
        "server-events.js",
        JAVASCRIPT,
        include_str!("chat_page/server-events.js"),
    ),
];

/// The scripts the page loads after its wording.
const HEAD: Head = Head {
    noindex: false,
    scripts: &[
        "/chat/page.js",
        "/chat/server-events.js",
        "/chat/handoff.js",
        "/chat/chat.js",
    ],
};

/// The page, rendered the first time it is asked for.
pub static PAGE: LazyLock<CompiledPage> = LazyLock::new(|| {
    let body = include_str!("chat_page/chat.html");
    CompiledPage::compile("chat", &HEAD, body, |wording| &wording.chat_page, ASSETS)
});
