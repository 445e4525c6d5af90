//! The counsellors' console (`GET /staff`): its headers and assets over plain HTTP, and in real
//! browsers together with the chat page. A young person asks for a person on /chat sharing the
//! messages they tick; a counsellor signed in on /staff sees them arrive in the live queue, takes
//! the conversation, reads exactly those messages and answers; the young person reads the answer
//! and leaves. Another cancels while queued, then shares a summary they edited, which is all the
//! counsellor reads, and sees the counsellor close the conversation. A console whose live stream
//! drops resumes it where it broke off and shows what the person wrote meanwhile.
//!
//! Like the chat page's, the browser test runs on SQLite only: the pages speak HTTP, and the
//! backends' parity is what the handoff API tests check.

use crate::browser::{
    CONTRAST_BELOW_AA, ChromeDriver, assert_strict_page, click, element, fill, say, script,
    session_token, staff_token, wait_for_script,
};
use crate::handoff::{asked, current};
use crate::handoff_staff::{assert_reads, post_to_counsellor};
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::staff_support::{STAFF_PASSWORD, staff_get};
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
    app.get("/staff/other.js").refused(404, "not_found").await;
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
    let chat = driver.open(&app, "/chat").await;
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
    let token = staff_token(&console).await;
    click(&console, "sign-out").await;
    wait_for_script(&console, "return !document.getElementById('login').hidden;").await;
    let (status, body) = staff_get(&app, &token, "/api/v1/staff/queue").await;
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
    let chat = driver.open(&app, "/chat").await;
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
        .get_as("/api/v1/handoff/summary-draft", &person)
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
    let id = handoff["id"].as_str().expect("id");
    assert_reads(&app, &staff_token(&console).await, id, &[("note", EDITED)]).await;

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

/// Cuts the console's first live stream when the test calls `window.cut()`, as a lost connection
/// would, and holds the console's next opening until `window.reopen()`; `window.opened` records the
/// `Last-Event-ID` each opening sends (null for none).
const CUT_THE_STREAM_ONCE: &str = r#"
  window.opened = [];
  const realFetch = window.fetch;
  window.fetch = async (url, options = {}) => {
    if (url !== '/api/v1/staff/events') return realFetch(url, options);
    window.opened.push(options.headers['Last-Event-ID'] ?? null);
    const first = window.opened.length === 1;
    if (window.opened.length === 2) await new Promise((resolve) => { window.reopen = resolve; });
    const response = await realFetch(url, options);
    if (!first) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream({
      start(controller) {
        window.cut = () => {
          controller.error(new TypeError('connection lost'));
          reader.cancel();
        };
      },
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return null;"#;

#[actix_web::test]
async fn after_a_dropped_stream_the_console_resumes_and_shows_what_was_written_meanwhile() {
    let app = spawn_app(Backend::Sqlite).await;
    app.add_staff("lan", StaffRole::Counsellor).await;
    let driver = ChromeDriver::start();
    let console = console_page(&driver, &app).await;
    script(&console, CUT_THE_STREAM_ONCE).await;
    sign_in(&console, "lan").await;

    // A young person asks (over HTTP: this test is about the console), the counsellor takes the
    // conversation, and the person's first message arrives live.
    let person = app.create_session().await;
    asked(&app, &person, json!({"share": "none"})).await;
    claim_in_console(&console, &handoff_of(&app, &person).await).await;
    post_to_counsellor(&app, &person, FIRST).await;
    let shown = wait_for_script(&console, CONSOLE_LOG).await;
    assert_eq!(shown, json!([{"role": "user", "text": FIRST}]));

    // The stream drops: the console says so and tries again (held here for a while).
    script(&console, "window.cut(); return null;").await;
    let said = wait_for_script(
        &console,
        "return window.opened.length === 2 && document.getElementById('status').textContent;",
    )
    .await;
    assert_eq!(said, "Mất kết nối trực tiếp, đang kết nối lại…");
    // Meanwhile the counsellor switches to English (the line no longer reads as the console's
    // own words for "reconnecting"), and the person writes.
    click(&console, "language").await;
    wait_for_script(
        &console,
        "return document.querySelector('#log .message .who').textContent === 'Young person';",
    )
    .await;
    post_to_counsellor(&app, &person, CHOSEN).await;

    // Back: it resumes after the last event it had, is told what it missed, and says nothing
    // more of being offline.
    script(&console, "window.reopen(); return null;").await;
    let shown = wait_for_script(
        &console,
        "const shown = [...document.querySelectorAll('#log .message .text')]
           .map((m) => m.textContent);
         return shown.length === 2 && shown;",
    )
    .await;
    assert_eq!(shown, json!([FIRST, CHOSEN]));
    let after: Value = script(
        &console,
        "return { status: document.getElementById('status').textContent,
                  opened: window.opened };",
    )
    .await;
    assert_eq!(after["status"], "", "{after}");
    assert_eq!(after["opened"][0], Value::Null, "{after}");
    assert!(
        after["opened"][1]
            .as_str()
            .is_some_and(|id| id.parse::<u64>().is_ok()),
        "the reopening sends the last event's id: {after}"
    );
    console.close().await.expect("close the console");
}

/// A console in its own window, signed in as `username`, showing the (empty) live queue.
async fn signed_in_console(driver: &ChromeDriver, app: &TestApp, username: &str) -> Client {
    let console = console_page(driver, app).await;
    sign_in(&console, username).await;
    console
}

/// The console's page in its own window, before anyone signs in.
async fn console_page(driver: &ChromeDriver, app: &TestApp) -> Client {
    driver.open(app, "/staff").await
}

/// Signs in as `username` and waits for the (empty) live queue.
async fn sign_in(console: &Client, username: &str) {
    fill(console, "username", username).await;
    fill(console, "password", STAFF_PASSWORD).await;
    click(console, "sign-in").await;
    wait_for_script(
        console,
        "return !document.getElementById('console').hidden \
                && document.getElementById('queue-empty').hidden === false;",
    )
    .await;
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
    let (status, body) = current(app, person).await;
    assert_eq!(status, 200, "{body}");
    body["handoff"].clone()
}
