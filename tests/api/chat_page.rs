//! The chat page (`GET /chat`): its headers and assets over plain HTTP, and the page itself in a
//! real browser — Debian's `chromium` driven through `chromedriver` — against a real server:
//! a streamed reply, the crisis card with tap-to-call links, a retry that keeps its
//! Idempotency-Key, quick exit (button and Escape twice), "delete my conversation", and asking for
//! a counsellor when none can come (the next opening and the hotlines). Its wording comes from the
//! content in use, checked key by key against what the pages ask for. The handoff with a
//! counsellor on the other side is in `staff_console.rs`.
//!
//! The browser tests run on SQLite only: the page speaks HTTP, and the backends' parity is what
//! the API tests check.

use crate::browser::{
    CONTRAST_BELOW_AA, ChromeDriver, WAIT, assert_strict_page, click, element, record_posts, say,
    script, send, session_token, wait_for_script,
};
use crate::handoff::current;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};
use crate::processes::ServeProcess;
use crate::support::{Fetch, assert_error, strings_in};
use cbln_actors::staff::StaffRole;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const CRISIS_VI: &str = "mình muốn chết, không muốn sống nữa";
const EXIT_URL_PREFIX: &str = "https://www.google.com/";

#[actix_web::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_strict_page(
        &app,
        "/chat",
        &[
            "chat.css",
            "chat.js",
            "chat-text.js",
            "page.js",
            "handoff.js",
            "server-events.js",
        ],
    )
    .await;
    app.get("/chat/other.js").refused(404, "not_found").await;
    let html = app.get("/chat").fetch().await.text().await.expect("page");
    assert!(
        html.contains("<title data-text=\"title\">Cùng Bạn Lắng Nghe</title>")
            && html.contains("data-text=\"quick_exit\">Thoát nhanh</button>"),
        "the wording is written into the page before any script runs"
    );
}

/// A compiled-in page: where it is served, the script that carries its wording and the global
/// that script sets, its sources, and the keys it asks for by a computed name.
struct Page {
    path: &'static str,
    script: &'static str,
    global: &'static str,
    sources: &'static [&'static str],
    computed: &'static [&'static str],
}

const PAGES: [Page; 2] = [
    Page {
        path: "/chat",
        script: "chat-text.js",
        global: "CHAT_TEXT",
        sources: &[
            "chat_page/chat.html",
            "chat_page/chat.js",
            "chat_page/handoff.js",
            "chat_page/page.js",
        ],
        computed: &[
            "you",
            "listener",
            "counsellor",
            "summary_label",
            "note_label",
        ],
    },
    Page {
        path: "/staff",
        script: "staff-text.js",
        global: "STAFF_TEXT",
        sources: &[
            "staff_page/staff.html",
            "staff_page/staff.js",
            "chat_page/page.js",
        ],
        computed: &[
            "risk_none",
            "risk_elevated",
            "risk_crisis",
            "share_none",
            "share_summary",
            "share_selected",
            "role_user",
            "role_assistant",
            "role_counsellor",
            "role_note",
        ],
    },
];

/// The keys a page's source names literally: `t('key'` and `data-text="key"`.
fn keys_named_in(source: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for (mark, end) in [("t('", '\''), ("data-text=\"", '"')] {
        let mut rest = source;
        while let Some(at) = rest.find(mark) {
            let is_call = mark != "t('"
                || at == 0
                || !rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            let after = &rest[at + mark.len()..];
            if is_call && let Some(close) = after.find(end) {
                keys.insert(after[..close].to_owned());
            }
            rest = after;
        }
    }
    keys
}

/// The texts a page's served text script carries.
async fn served_texts(app: &TestApp, page: &str, script_name: &str, global: &str) -> Value {
    let response = app.get(&format!("{page}/{script_name}")).fetch().await;
    assert_eq!(response.status(), 200, "{page}/{script_name}");
    let script = response.text().await.expect("script");
    let json = script
        .strip_prefix(&format!("'use strict';\nwindow.{global} = "))
        .and_then(|rest| rest.strip_suffix(";\n"))
        .unwrap_or_else(|| panic!("{script_name} sets window.{global}: {script:.80}"));
    serde_json::from_str(json).expect("the texts are JSON")
}

/// The error codes the API answers with: the `ErrorBody`'s `error` enum in `/openapi.json`.
async fn error_codes(app: &TestApp) -> BTreeSet<String> {
    let (status, document) = app.get("/openapi.json").fetch_json().await;
    assert_eq!(status, 200);
    let schemas = &document["components"]["schemas"];
    let mut code = &schemas["ErrorBody"]["properties"]["error"];
    if let Some(name) = code["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        code = &schemas[name];
    }
    let codes: BTreeSet<String> = code["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("the error codes: {code}"))
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert!(codes.contains("rate_limited"), "{codes:?}");
    codes
}

/// The pages' own error texts, which name no API code: the fallback, and a stream that broke.
const PAGE_ERRORS: [&str; 2] = ["default", "interrupted"];

#[actix_web::test]
async fn every_text_the_pages_ask_for_is_served_in_every_language() {
    let app = spawn_app(Backend::Sqlite).await;
    let codes = error_codes(&app).await;
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    for Page {
        path: page,
        script: script_name,
        global,
        sources: files,
        computed,
    } in PAGES
    {
        let texts = served_texts(&app, page, script_name, global).await;
        let mut asked: BTreeSet<String> = computed.iter().map(|k| (*k).to_owned()).collect();
        for file in files {
            let source = std::fs::read_to_string(sources.join(file)).expect("page source");
            asked.extend(keys_named_in(&source));
        }
        assert!(asked.len() > 20, "{page}: {asked:?}");
        for language in ["vi", "en"] {
            for key in &asked {
                assert!(
                    texts[language][key].as_str().is_some_and(|t| !t.is_empty()),
                    "{page}: `{key}` has no {language} text"
                );
            }
            assert!(
                texts[language]["errors"]["default"].is_string(),
                "{page}: {language} has a default error text"
            );
            // Every other error text is for a code the API really answers with.
            let errors = texts[language]["errors"].as_object().expect("error texts");
            for (code, text) in errors {
                assert!(
                    text.as_str().is_some_and(|t| !t.is_empty()),
                    "{page}: {language}: error `{code}` has no text"
                );
                assert!(
                    PAGE_ERRORS.contains(&code.as_str()) || codes.contains(code),
                    "{page}: {language}: `{code}` is no error code of the API"
                );
            }
            // Every text the page has is one it asks for: the content holds no dead keys.
            let served: BTreeSet<String> = texts[language]
                .as_object()
                .expect("texts by key")
                .keys()
                .filter(|key| *key != "errors")
                .cloned()
                .collect();
            let unused: Vec<&String> = served.difference(&asked).collect();
            assert!(unused.is_empty(), "{page}: {language}: unused {unused:?}");
        }
        // The page as served has every marked element filled in.
        let html = app.get(page).fetch().await.text().await.expect("page");
        let unfilled: Vec<&str> = html
            .split("data-text=\"")
            .skip(1)
            .filter(|rest| {
                rest.split_once('>')
                    .is_some_and(|(_, after)| after.starts_with("</"))
            })
            .map(|rest| rest.split('"').next().unwrap_or(rest))
            .collect();
        assert!(unfilled.is_empty(), "{page}: empty {unfilled:?}");
    }
}

#[actix_web::test]
async fn an_operators_reviewed_wording_is_what_the_pages_say() {
    let dir = tempfile::tempdir().expect("temp dir");
    let reviewed = dir.path().join("reviewed");
    std::fs::create_dir_all(&reviewed).expect("folder");
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    for (file, from, to) in [
        (
            "vi.toml",
            "Nói chuyện với một người thật",
            "Gặp tư vấn viên",
        ),
        ("en.toml", "Talk to a person", "Meet a counsellor"),
    ] {
        let text = std::fs::read_to_string(content.join(file)).expect("shipped wording");
        let from = format!("ask_person = \"{from}\"");
        assert!(text.contains(&from), "{file}");
        let text = text.replacen(&from, &format!("ask_person = \"{to}\""), 1);
        std::fs::write(reviewed.join(file), text).expect("reviewed copy");
    }
    let server = ServeProcess::start(
        dir.path(),
        &[
            ("CBLN__CONTENT__DIR", reviewed.display().to_string()),
            (
                "ENCRYPTION_KEY",
                cbln_actors::crypto::MasterKey::generate().to_base64(),
            ),
            ("SECRET_KEY", cbln_actors::crypto::generate_secret_key()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let get = |path: &str| {
        let request = client.get(format!("{}{path}", server.address)).send();
        async move { request.await.expect("request").text().await.expect("body") }
    };
    assert!(get("/chat").await.contains(">Gặp tư vấn viên</button>"));
    let texts = get("/chat/chat-text.js").await;
    assert!(
        texts.contains("\"ask_person\":\"Meet a counsellor\""),
        "{texts:.200}"
    );
    assert!(!texts.contains("Talk to a person"));
}

#[actix_web::test]
async fn when_no_counsellor_can_come_the_page_shows_the_next_opening_and_the_hotlines() {
    // Closed from yesterday to tomorrow in Vietnam, so the day cannot turn during the test.
    let vietnam = time::UtcOffset::from_hms(7, 0, 0).expect("UTC+7");
    let today = time::OffsetDateTime::now_utc().to_offset(vietnam).date();
    let day = |d: time::Date| format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let closed: Vec<String> = [
        today.previous_day().expect("a yesterday"),
        today,
        today.next_day().expect("a tomorrow"),
    ]
    .into_iter()
    .map(day)
    .collect();
    let app = spawn_app_with(Backend::Sqlite, move |settings| {
        settings.handoff.holidays = closed;
    })
    .await;
    // Someone is signed in: only the hours keep the counsellors away.
    app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let driver = ChromeDriver::start();
    let browser = driver.open(&app, "/chat").await;
    say(&browser, "mình muốn nói chuyện với ai đó", 1).await;
    // Escape once closes the panel and gives the keyboard back to the button; the page stays.
    click(&browser, "ask-person").await;
    let choice = element(&browser, "share-none").await;
    choice
        .send_keys(&char::from(Key::Escape).to_string())
        .await
        .expect("Escape");
    let closed = wait_for_script(
        &browser,
        "return document.getElementById('handoff').hidden && document.activeElement.id;",
    )
    .await;
    assert_eq!(closed, "ask-person");
    assert_eq!(
        script(
            &browser,
            "return document.getElementById('message').offsetParent !== null;"
        )
        .await,
        true,
        "the composer is back"
    );
    click(&browser, "ask-person").await;
    click(&browser, "handoff-send").await;
    let card = wait_for_script(
        &browser,
        r#"const card = [...document.querySelectorAll('.crisis')].at(-1);
           return card && {
             role: card.getAttribute('role'),
             title: card.querySelector('h2').textContent,
             message: card.querySelector('.priority').textContent,
             calls: [...card.querySelectorAll('a.call')].map((a) => a.getAttribute('href')),
             panelHidden: document.getElementById('handoff').hidden,
             stateHidden: document.getElementById('handoff-state').hidden,
             askShown: !document.getElementById('ask-person').hidden,
           };"#,
    )
    .await;
    assert_eq!(card["role"], "alert");
    assert_eq!(card["title"], "Bạn có thể gọi ngay");
    let message = card["message"].as_str().expect("the card's message");
    assert!(
        message.starts_with("Hiện chưa có tư vấn viên nào trực.")
            && message.contains("Tư vấn viên sẽ trực lại vào "),
        "{message}"
    );
    assert!(
        card["calls"]
            .as_array()
            .is_some_and(|calls| calls.contains(&json!("tel:111"))),
        "{card}"
    );
    assert_eq!(
        (
            &card["panelHidden"],
            &card["stateHidden"],
            &card["askShown"]
        ),
        (&json!(true), &json!(true), &json!(true))
    );
    assert_eq!(script(&browser, CONTRAST_BELOW_AA).await, json!([]));
    // Nothing was queued: the chat stays with the listener.
    let token = session_token(&browser).await;
    let (status, body) = current(&app, &token).await;
    assert_error(status, &body, 404, "handoff_not_found");
    browser.close().await.expect("close the browser");
}

/// An app on SQLite and its chat page open in a browser of its own, which lives as long as the
/// driver.
async fn chat_in_a_browser() -> (TestApp, ChromeDriver, Client) {
    let app = spawn_app(Backend::Sqlite).await;
    let driver = ChromeDriver::start();
    let browser = driver.open(&app, "/chat").await;
    (app, driver, browser)
}

#[actix_web::test]
async fn a_person_chats_sees_the_crisis_card_and_leaves_with_quick_exit() {
    let (app, _driver, browser) = chat_in_a_browser().await;
    let chat_url = app.url("/chat");
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#message"))
        .await
        .expect("the composer");

    // Usable by keyboard and screen reader, and readable on a 360 px wide phone.
    let page: Value = script(
        &browser,
        r#"const label = document.querySelector('label[for="message"]');
           const log = document.getElementById('log');
           const focusable = [...document.querySelectorAll('button, textarea, a[href]')];
           return {
             lang: document.documentElement.lang,
             label: label && label.textContent.trim(),
             live: log.getAttribute('aria-live'),
             role: log.getAttribute('role'),
             first: focusable[0].id,
             unnamed: focusable.filter((e) => !e.textContent.trim() && !e.labels?.length).length,
             width: window.innerWidth,
             fits: document.documentElement.scrollWidth <= window.innerWidth,
           };"#,
    )
    .await;
    assert_eq!(page["lang"], "vi");
    assert_eq!(page["label"], "Tin nhắn của bạn");
    assert_eq!(page["live"], "polite");
    assert_eq!(page["role"], "log");
    assert_eq!(
        page["first"], "quick-exit",
        "quick exit comes first in focus order"
    );
    assert_eq!(page["unnamed"], 0, "every control has a name");
    assert!(page["width"].as_u64().is_some_and(|w| w <= 360), "{page}");
    assert_eq!(page["fits"], true, "no sideways scrolling on a small phone");

    // Record the reply bubble as it changes, and the headers of every post, to see the reply
    // arrive in pieces and the Idempotency-Key sent.
    script(
        &browser,
        r#"window.seen = [];
           new MutationObserver(() => {
             for (const item of document.querySelectorAll('.message.assistant')) {
               window.seen.push({ busy: item.getAttribute('aria-busy') === 'true',
                                  text: item.querySelector('.text').textContent });
             }
           }).observe(document.getElementById('log'),
                      { childList: true, subtree: true, characterData: true, attributes: true });
           return null;"#,
    )
    .await;
    record_posts(&browser, false).await;

    send(&browser, "hôm nay mình hơi buồn").await;
    let reply = wait_for_script(
        &browser,
        r#"const item = document.querySelector('.message.assistant:not([aria-busy])');
           return item && { text: item.querySelector('.text').textContent,
                            notice: item.querySelector('.notice')?.textContent ?? null };"#,
    )
    .await;
    let token = session_token(&browser).await;
    let history = app.history(&token).await;
    let stored_reply = history["messages"][1]["content"].as_str().expect("reply");
    assert_eq!(history["messages"][0]["content"], "hôm nay mình hơi buồn");
    assert_eq!(
        reply["text"], stored_reply,
        "the page shows the stored reply"
    );
    assert!(
        reply["notice"].as_str().is_some_and(|n| !n.is_empty()),
        "the first reply's disclosure is shown: {reply}"
    );
    // Once the reply is in, nothing is said to be on its way.
    wait_for_script(
        &browser,
        "return document.getElementById('status').textContent === '';",
    )
    .await;
    let seen = script(&browser, "return window.seen;").await;
    assert!(
        seen.as_array()
            .expect("records")
            .iter()
            .any(|r| r["busy"] == true && !r["text"].as_str().unwrap_or("").is_empty()),
        "text was shown while the reply was still streaming: {seen}"
    );
    let keys = script(&browser, "return window.posts;").await;
    let first_key = keys[0].as_str().expect("an Idempotency-Key");
    assert!(uuid::Uuid::parse_str(first_key).is_ok(), "{first_key}");

    // A crisis message: the card, with tap-to-call links for the configured hotlines.
    send(&browser, CRISIS_VI).await;
    let card = wait_for_script(
        &browser,
        r#"const card = document.querySelector('.crisis');
           const done = document.querySelectorAll('.message.assistant:not([aria-busy])').length >= 2;
           return card && done && {
             role: card.getAttribute('role'),
             calls: [...card.querySelectorAll('a.call')].map((a) => a.getAttribute('href')),
             text: card.textContent };"#,
    )
    .await;
    assert_eq!(card["role"], "alert");
    let calls = strings_in(&card["calls"]);
    assert!(calls.contains(&"tel:111"), "{calls:?}");
    assert!(
        calls.iter().all(|href| href.len() > 4
            && href.starts_with("tel:")
            && href[4..].chars().all(|c| c.is_ascii_digit() || c == '+')),
        "{calls:?}"
    );
    // Every visible text, the card's included, reads at WCAG AA contrast (4.5:1).
    let low_contrast = script(&browser, CONTRAST_BELOW_AA).await;
    assert_eq!(low_contrast, json!([]), "text below 4.5:1 contrast");
    let keys = script(&browser, "return window.posts;").await;
    assert_eq!(keys.as_array().map(Vec::len), Some(2));
    assert_ne!(keys[0], keys[1], "each message has its own key");

    // Quick exit: the page leaves for the neutral site and the session is gone.
    click(&browser, "quick-exit").await;
    wait_until_left(&browser, &chat_url).await;
    assert_session_gone(&app, &token).await;
    // Back on the page in the same tab: nothing of the conversation was kept.
    browser.goto(&chat_url).await.expect("open again");
    let kept = script(
        &browser,
        "return { stored: sessionStorage.length + localStorage.length, \
                  shown: document.querySelectorAll('.message').length };",
    )
    .await;
    assert_eq!(kept, json!({"stored": 0, "shown": 0}));
    browser.close().await.expect("close the browser");
}

#[actix_web::test]
async fn a_retry_keeps_its_key_delete_clears_and_escape_twice_leaves() {
    let (app, _driver, browser) = chat_in_a_browser().await;
    let chat_url = app.url("/chat");

    // English, then a post whose first attempt never reaches the server (the network drops).
    click(&browser, "language").await;
    let label = script(
        &browser,
        "return [document.documentElement.lang, document.querySelector('label[for=message]').textContent];",
    )
    .await;
    assert_eq!(label, json!(["en", "Your message"]));
    record_posts(&browser, true).await;
    send(&browser, "I feel a bit low today").await;
    let retry = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".message.user .retry"))
        .await
        .expect("a retry button after the failure");
    retry.click().await.expect("retry");
    wait_for_script(
        &browser,
        "return document.querySelector('.message.assistant:not([aria-busy])') !== null;",
    )
    .await;
    let keys = script(&browser, "return window.posts;").await;
    assert_eq!(keys.as_array().map(Vec::len), Some(2), "{keys}");
    assert_eq!(keys[0], keys[1], "the retry sends the same Idempotency-Key");
    let token = session_token(&browser).await;
    let history = app.history(&token).await;
    assert_eq!(history["total_count"], 2, "one message and its reply");
    let (_, session) = app
        .get(&format!("/api/v1/sessions/{token}"))
        .fetch_json()
        .await;
    assert_eq!(session["message_count"], 2);

    // A reload in the same tab shows the conversation again.
    browser.refresh().await.expect("reload");
    let shown = wait_for_script(
        &browser,
        "const shown = [...document.querySelectorAll('.message .text')].map((e) => e.textContent); \
         return shown.length === 2 && shown;",
    )
    .await;
    assert_eq!(shown[0], "I feel a bit low today");
    assert_eq!(shown[1], history["messages"][1]["content"]);
    let input = browser.find(Locator::Id("message")).await.expect("input");

    // "Delete my conversation", confirmed: the session is gone and the page is empty.
    click(&browser, "delete").await;
    click(&browser, "delete-yes").await;
    wait_for_script(
        &browser,
        "return document.querySelectorAll('.message').length === 0 \
                && sessionStorage.getItem('cbln.session_token') === null;",
    )
    .await;
    assert_session_gone(&app, &token).await;

    // A new conversation, then Escape twice leaves as the button does.
    send(&browser, "hello again").await;
    wait_for_script(
        &browser,
        "return document.querySelector('.message.assistant:not([aria-busy])') !== null;",
    )
    .await;
    let second = session_token(&browser).await;
    assert_ne!(second, token);
    let escape = char::from(Key::Escape).to_string();
    input.send_keys(&escape).await.expect("Escape");
    input.send_keys(&escape).await.expect("Escape again");
    wait_until_left(&browser, &chat_url).await;
    assert_session_gone(&app, &second).await;
    browser.close().await.expect("close the browser");
}

/// The page left for the neutral site (it may not load here: only the address matters).
async fn wait_until_left(browser: &Client, chat_url: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = browser.current_url().await.expect("url").to_string();
        if url.starts_with(EXIT_URL_PREFIX) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the page never left {chat_url}: still at {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The token opens nothing any more (the beacon may land a moment after the page left).
async fn assert_session_gone(app: &TestApp, token: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = app.get_as("/api/v1/messages", token).fetch_json().await;
        if status == 404 {
            assert_error(status, &body, 404, "session_not_found");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the session still answers {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
