//! The counsellors' console (`GET /staff`): its headers and assets over plain HTTP, and in real
//! browsers together with the chat page. A young person asks for a person on /chat sharing the
//! messages they tick; a counsellor signed in on /staff sees them arrive in the live queue, takes
//! the conversation, reads exactly those messages and answers; the young person reads the answer
//! and leaves. Another cancels while queued, then shares a summary they edited, which is all the
//! counsellor reads, and sees the counsellor close the conversation.
//!
//! Like the chat page's, the browser test runs on SQLite only: the pages speak HTTP, and the
//! backends' parity is what the handoff API tests check.

use crate::browser::{
    CONTRAST_BELOW_AA, ChromeDriver, assert_strict_page, click, element, fill, handoff_answer, say,
    script, session_token, wait_for_script,
};
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::staff_support::STAFF_PASSWORD;
use crate::support::{Fetch, assert_error};
use cbln_actors::staff::StaffRole;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

const ANSWER: &str = "Chào em, anh là tư vấn viên. Em muốn kể cho anh nghe chuyện gì?";
const FIRST: &str = "hôm nay mình hơi buồn";
const CHOSEN: &str = "chuyện ở nhà làm mình mệt lắm";
const EDITED: &str = "Mình muốn kể về chuyện ở nhà, nhưng từ từ thôi.";

/// The chat page's line about the handoff, once it shows one.
const STATE: &str = "const state = document.getElementById('handoff-state');
     return !state.hidden && document.getElementById('handoff-state-text').textContent;";

/// The conversation the console shows: each message's role (its class) and text.
const CONSOLE_LOG: &str = "const shown = [...document.querySelectorAll('#log .message')]
       .map((m) => ({ role: m.className.replace('message ', ''),
                      text: m.querySelector('.text').textContent }));
     return shown.length > 0 && shown;";

#[actix_web::test]
async fn the_console_and_its_assets_are_served_with_a_strict_policy() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_strict_page(&app, "/staff", &["staff.css", "staff.js", "staff-text.js"]).await;
    let html = app.get("/staff").fetch().await.text().await.expect("page");
    assert!(
        html.contains("<label for=\"username\" data-text=\"username\">Tên đăng nhập</label>"),
        "the wording is written into the page before any script runs"
    );
    let (status, body) = app.get("/staff/other.js").fetch_json().await;
    assert_error(status, &body, 404, "not_found");
}

#[actix_web::test]
async fn a_person_shares_chosen_messages_the_counsellor_reads_exactly_those_and_the_person_leaves()
{
    let app = spawn_app(Backend::Sqlite).await;
    app.add_staff("lan", StaffRole::Counsellor).await;
    let driver = ChromeDriver::start();
    // The counsellor signs in first: a handoff can only be asked for while someone is on shift.
    let console = signed_in_console(&driver, &app, "lan").await;
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

    // The young person talks, then asks for a person and ticks only their second message.
    let chat = driver.open_phone_browser().await;
    chat.goto(&app.url("/chat"))
        .await
        .expect("open the chat page");
    say(&chat, FIRST, 1).await;
    say(&chat, CHOSEN, 2).await;
    let person = session_token(&chat).await;
    let history = app.history(&person).await;
    let chosen = history["messages"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["content"] == CHOSEN))
        .and_then(|m| m["id"].as_str())
        .expect("the chosen message is stored")
        .to_string();
    click(&chat, "ask-person").await;
    let focused = wait_for_script(
        &chat,
        "return !document.getElementById('handoff').hidden && document.activeElement.id;",
    )
    .await;
    assert_eq!(focused, "share-none", "the keyboard is taken to the choice");
    assert_eq!(
        script(
            &chat,
            "return document.getElementById('ask-person').getAttribute('aria-expanded');"
        )
        .await,
        "true"
    );
    click(&chat, "share-selected").await;
    click(&chat, &format!("pick-{chosen}")).await;
    let panel: Value = script(
        &chat,
        "const boxes = [...document.querySelectorAll('#handoff-message-list input')];
         return { boxes: boxes.length, ticked: boxes.filter((b) => b.checked).length,
                  unlabelled: boxes.filter((b) => !b.labels.length).length,
                  fits: document.documentElement.scrollWidth <= window.innerWidth,
                  exitShown: document.getElementById('quick-exit').getClientRects().length > 0 };",
    )
    .await;
    assert_eq!(
        panel,
        json!({"boxes": 4, "ticked": 1, "unlabelled": 0, "fits": true, "exitShown": true}),
        "every message can be ticked, on a small phone, with quick exit still there"
    );
    assert_eq!(
        script(&chat, CONTRAST_BELOW_AA).await,
        json!([]),
        "the panel's text reads at 4.5:1"
    );
    click(&chat, "handoff-send").await;
    let queued = wait_for_script(&chat, STATE).await;
    let queued = queued.as_str().expect("a state line");
    assert!(
        queued
            .starts_with("Bạn đang ở vị trí số 1 trong hàng chờ. Thời gian chờ ước tính: khoảng "),
        "{queued}"
    );
    let handoff = handoff_of(&app, &person).await;
    assert_eq!(handoff["status"], "queued");
    assert_eq!(handoff["share"], "selected");

    // The live queue shows them without a reload; the counsellor takes the conversation and
    // reads exactly the message that was ticked.
    claim_in_console(&console, &handoff).await;
    let shown = wait_for_script(&console, CONSOLE_LOG).await;
    assert_eq!(shown, json!([{"role": "user", "text": CHOSEN}]));
    let assigned = wait_for_script(
        &chat,
        "const text = document.getElementById('handoff-state-text').textContent;
         return !document.getElementById('handoff-leave').hidden && text;",
    )
    .await;
    assert_eq!(
        assigned,
        "Một tư vấn viên đã nhận cuộc trò chuyện và sẽ trả lời bạn ngay ở đây."
    );

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

    // The young person leaves: the page says so and offers the button again, the handoff is
    // over, and the console hears it.
    click(&chat, "handoff-leave").await;
    assert_ended(
        &chat,
        &app,
        &person,
        "Bạn đã rời cuộc trò chuyện với tư vấn viên. Người lắng nghe (AI) sẽ trả lời bạn như trước.",
        ("cancelled", "left"),
    )
    .await;
    let ended = wait_for_script(
        &console,
        "return document.getElementById('status').textContent || null;",
    )
    .await;
    assert_eq!(ended, "Người dùng đã rời cuộc trò chuyện.");

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

#[actix_web::test]
async fn a_person_cancels_then_shares_an_edited_summary_and_sees_the_counsellor_close() {
    let app = spawn_app(Backend::Sqlite).await;
    app.add_staff("minh", StaffRole::Counsellor).await;
    let driver = ChromeDriver::start();
    let console = signed_in_console(&driver, &app, "minh").await;
    let chat = driver.open_phone_browser().await;
    chat.goto(&app.url("/chat"))
        .await
        .expect("open the chat page");
    say(&chat, CHOSEN, 1).await;
    let person = session_token(&chat).await;

    // Asked for with nothing shared, then cancelled while queued.
    click(&chat, "ask-person").await;
    click(&chat, "handoff-send").await;
    let queued = wait_for_script(&chat, STATE).await;
    assert!(
        queued
            .as_str()
            .is_some_and(|text| text.starts_with("Bạn đang ở vị trí số 1")),
        "{queued}"
    );
    assert_eq!(handoff_of(&app, &person).await["share"], "none");
    wait_for_script(
        &console,
        "return document.querySelectorAll('#queue .claim').length === 1;",
    )
    .await;
    click(&chat, "handoff-cancel").await;
    assert_ended(
        &chat,
        &app,
        &person,
        "Đã huỷ yêu cầu. Những gì bạn định chia sẻ đã được xoá.",
        ("cancelled", "left"),
    )
    .await;
    wait_for_script(
        &console,
        "return !document.getElementById('queue-empty').hidden;",
    )
    .await;

    // The summary: the listener's draft is shown for the person to read; they rewrite it, and
    // what they wrote is what they send.
    let (status, draft) = app
        .get("/api/v1/handoff/summary-draft")
        .bearer_auth(&person)
        .fetch_json()
        .await;
    assert_eq!(status, 200, "{draft}");
    click(&chat, "ask-person").await;
    click(&chat, "share-summary").await;
    let shown = wait_for_script(
        &chat,
        "return document.getElementById('handoff-note').value || null;",
    )
    .await;
    assert_eq!(shown, draft["summary"]);
    let form: Value = script(
        &chat,
        "return { label: document.getElementById('handoff-note-label').textContent,
                  hint: !document.getElementById('handoff-note-hint').hidden };",
    )
    .await;
    assert_eq!(
        form,
        json!({"label": "Bản tóm tắt (bạn có thể sửa)", "hint": true})
    );
    element(&chat, "handoff-note")
        .await
        .clear()
        .await
        .expect("clear the draft");
    fill(&chat, "handoff-note", EDITED).await;
    click(&chat, "handoff-send").await;
    wait_for_script(&chat, STATE).await;
    let handoff = handoff_of(&app, &person).await;
    assert_eq!(
        (&handoff["status"], &handoff["share"]),
        (&json!("queued"), &json!("summary"))
    );

    // The counsellor reads only the note the person accepted, over HTTP as in the console.
    claim_in_console(&console, &handoff).await;
    let shown = wait_for_script(&console, CONSOLE_LOG).await;
    assert_eq!(shown, json!([{"role": "note", "text": EDITED}]));
    let staff_token = script(
        &console,
        "return sessionStorage.getItem('cbln.staff_token');",
    )
    .await
    .as_str()
    .expect("the console's token")
    .to_string();
    let id = handoff["id"].as_str().expect("id");
    let (status, read) = app
        .get(&format!("/api/v1/staff/handoffs/{id}/messages"))
        .bearer_auth(&staff_token)
        .fetch_json()
        .await;
    assert_eq!(status, 200, "{read}");
    let read: Vec<(&Value, &Value)> = read["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| (&m["role"], &m["content"]))
        .collect();
    assert_eq!(read, [(&json!("note"), &json!(EDITED))]);

    // Closed from the console with an outcome: the young person's page says so at once.
    script(
        &console,
        "document.getElementById('outcome').value = 'resolved'; return null;",
    )
    .await;
    click(&console, "close-button").await;
    wait_for_script(
        &console,
        "return document.getElementById('conversation').hidden;",
    )
    .await;
    assert_ended(
        &chat,
        &app,
        &person,
        "Tư vấn viên đã kết thúc cuộc trò chuyện. Người lắng nghe (AI) sẽ trả lời bạn như trước.",
        ("closed", "resolved"),
    )
    .await;
    console.close().await.expect("close the console");
    chat.close().await.expect("close the chat page");
}

/// A console in its own window, signed in as `username`, showing the (empty) live queue.
async fn signed_in_console(driver: &ChromeDriver, app: &TestApp, username: &str) -> Client {
    let console = driver.open_phone_browser().await;
    console
        .goto(&app.url("/staff"))
        .await
        .expect("open the console");
    fill(&console, "username", username).await;
    fill(&console, "password", STAFF_PASSWORD).await;
    click(&console, "sign-in").await;
    wait_for_script(
        &console,
        "return !document.getElementById('console').hidden \
                && document.getElementById('queue-empty').hidden === false;",
    )
    .await;
    console
}

/// Waits for `handoff` in the console's live queue and takes it.
async fn claim_in_console(console: &Client, handoff: &Value) {
    let claim = wait_for_script(
        console,
        "const button = document.querySelector('#queue .claim');
         return button && button.dataset.handoff;",
    )
    .await;
    assert_eq!(&claim, &handoff["id"]);
    console
        .find(Locator::Css("#queue .claim"))
        .await
        .expect("the take button")
        .click()
        .await
        .expect("take it");
    wait_for_script(
        console,
        "return !document.getElementById('conversation').hidden;",
    )
    .await;
}

/// Waits until the chat page says `said` about the handoff's end and offers the button again,
/// with the keyboard on it; the handoff is then `status` with `outcome` on the server.
async fn assert_ended(
    chat: &Client,
    app: &TestApp,
    person: &str,
    said: &str,
    (status, outcome): (&str, &str),
) {
    let shown = wait_for_script(
        chat,
        "return !document.getElementById('ask-person').hidden
                && document.activeElement.id === 'ask-person'
                && document.getElementById('handoff-state-text').textContent;",
    )
    .await;
    assert_eq!(shown, said);
    let handoff = handoff_of(app, person).await;
    assert_eq!(
        (&handoff["status"], &handoff["outcome"]),
        (&json!(status), &json!(outcome))
    );
}

/// The young person's handoff, as `GET /api/v1/handoff` shows it to them.
async fn handoff_of(app: &TestApp, person: &str) -> Value {
    let (status, body) = handoff_answer(app, person).await;
    assert_eq!(status, 200, "{body}");
    body["handoff"].clone()
}
