//! The counsellors' console (`GET /staff`): its headers and assets over plain HTTP, and in a real
//! browser together with the chat page — a young person asks for a person on /chat, a counsellor
//! signs in on /staff, sees them arrive in the live queue, takes the conversation and answers,
//! and the young person reads the answer on /chat; then the counsellor closes it.
//!
//! Like the chat page's, the browser test runs on SQLite only: the pages speak HTTP, and the
//! backends' parity is what the handoff API tests check.

use crate::browser::{
    CONTRAST_BELOW_AA, ChromeDriver, WAIT, assert_strict_page, script, session_token,
    wait_for_script,
};
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::staff_support::STAFF_PASSWORD;
use crate::support::{Fetch, assert_error};
use cbln_actors::staff::StaffRole;
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

const ANSWER: &str = "Chào em, anh là tư vấn viên. Em muốn kể cho anh nghe chuyện gì?";

#[actix_web::test]
async fn the_console_and_its_assets_are_served_with_a_strict_policy() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_strict_page(&app, "/staff", &["staff.css", "staff.js", "staff-text.js"]).await;
    let (status, body) = app.get("/staff/other.js").fetch_json().await;
    assert_error(status, &body, 404, "not_found");
}

#[actix_web::test]
async fn a_counsellor_answers_from_the_console_and_the_young_person_reads_it_on_the_chat_page() {
    let app = spawn_app(Backend::Sqlite).await;
    app.add_staff("lan", StaffRole::Counsellor).await;
    let driver = ChromeDriver::start();

    // The counsellor signs in first: a handoff can only be asked for while someone is on shift.
    let console = driver.open_phone_browser().await;
    console
        .goto(&app.url("/staff"))
        .await
        .expect("open the console");
    fill(&console, "username", "lan").await;
    fill(&console, "password", STAFF_PASSWORD).await;
    click(&console, "sign-in").await;
    wait_for_script(
        &console,
        "return !document.getElementById('console').hidden \
                && document.getElementById('queue-empty').hidden === false;",
    )
    .await;
    assert!(
        script(
            &console,
            "return document.getElementById('password').value;"
        )
        .await
        .as_str()
        .is_some_and(str::is_empty),
        "the password is not kept in the form"
    );

    // The young person asks for a person from the chat page.
    let chat = driver.open_phone_browser().await;
    chat.goto(&app.url("/chat"))
        .await
        .expect("open the chat page");
    click(&chat, "ask-person").await;
    let waiting = wait_for_script(
        &chat,
        "return document.getElementById('status').textContent || null;",
    )
    .await;
    assert_eq!(
        waiting,
        "Đã báo cho tư vấn viên. Bạn chờ một chút nhé, người ấy sẽ trả lời ngay ở đây."
    );
    let person = session_token(&chat).await;
    let handoff = handoff_of(&app, &person).await;
    assert_eq!(handoff["status"], "queued");

    // The live queue shows them without a reload; the counsellor takes the conversation.
    let claim = wait_for_script(
        &console,
        "const button = document.querySelector('#queue .claim');
         return button && button.dataset.handoff;",
    )
    .await;
    assert_eq!(claim, handoff["id"]);
    console
        .find(Locator::Css("#queue .claim"))
        .await
        .expect("the take button")
        .click()
        .await
        .expect("take it");
    wait_for_script(
        &console,
        "return !document.getElementById('conversation').hidden;",
    )
    .await;

    // The counsellor answers; it shows in the console and, through the session's event stream,
    // on the young person's page.
    fill(&console, "reply", ANSWER).await;
    click(&console, "send").await;
    let shown = wait_for_script(
        &console,
        "const item = document.querySelector('#log .message.counsellor .text');
         return item && item.textContent;",
    )
    .await;
    assert_eq!(shown, ANSWER);
    let low_contrast = script(&console, CONTRAST_BELOW_AA).await;
    assert_eq!(low_contrast, json!([]), "console text below 4.5:1 contrast");
    let seen: Value = wait_for_script(
        &chat,
        "const item = document.querySelector('#log .message.counsellor');
         return item && { text: item.querySelector('.text').textContent,
                          who: item.querySelector('.visually-hidden').textContent };",
    )
    .await;
    assert_eq!(seen, json!({"text": ANSWER, "who": "Tư vấn viên: "}));

    // Closed with an outcome: the console goes back to the queue, the handoff is over.
    script(
        &console,
        "document.getElementById('outcome').value = 'referred'; return null;",
    )
    .await;
    click(&console, "close-button").await;
    wait_for_script(
        &console,
        "return document.getElementById('conversation').hidden;",
    )
    .await;
    assert_eq!(handoff_of(&app, &person).await["status"], "closed");

    // Signing out ends the token on the server, not only in the tab.
    let token = script(
        &console,
        "return sessionStorage.getItem('cbln.staff_token');",
    )
    .await
    .as_str()
    .expect("the console keeps its token for the tab")
    .to_string();
    click(&console, "sign-out").await;
    wait_for_script(&console, "return !document.getElementById('login').hidden;").await;
    let (status, body) = app
        .get("/api/v1/staff/queue")
        .bearer_auth(&token)
        .fetch_json()
        .await;
    assert_error(status, &body, 401, "staff_token_invalid");
    console.close().await.expect("close the console");
    chat.close().await.expect("close the chat page");
}

/// The young person's handoff, as `GET /api/v1/handoff` shows it to them.
async fn handoff_of(app: &TestApp, person: &str) -> Value {
    let (status, body) = app
        .get("/api/v1/handoff")
        .bearer_auth(person)
        .fetch_json()
        .await;
    assert_eq!(status, 200, "{body}");
    body["handoff"].clone()
}

/// The element `#id`, once it is there.
async fn element(browser: &Client, id: &str) -> Element {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|error| panic!("#{id}: {error}"))
}

async fn fill(browser: &Client, id: &str, text: &str) {
    let field = element(browser, id).await;
    field
        .send_keys(text)
        .await
        .unwrap_or_else(|error| panic!("type into #{id}: {error}"));
}

async fn click(browser: &Client, id: &str) {
    let button = element(browser, id).await;
    button
        .click()
        .await
        .unwrap_or_else(|error| panic!("press #{id}: {error}"));
}
