//! A handoff changing while the person is in the middle of the chat, over HTTP on both backends:
//! a claim that lands while the listener's reply is streamed, a counsellor's answer beside the
//! person's messages, and a claim and a close made through the staff routes while the person's
//! session actor is live.

use crate::handoff::{asked, staffed};
use crate::helpers::{Backend, TestApp, spawn_app_with, use_provider};
use crate::mock_llm::provider_answering;
use crate::on_both_backends;
use crate::staff_support::{answer, claim, close, staff_get};
use crate::streaming::{parse_events, read_until};
use cbln_actors::staff::StaffRole;
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::ResponseTemplate;

/// How long the model takes before it starts its answer: long enough for a claim to land first.
const MODEL_DELAY: Duration = Duration::from_millis(2_500);

/// The roles of the session's history, in order.
async fn roles(app: &TestApp, token: &str) -> Vec<String> {
    app.history(token).await["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["role"].as_str().expect("role").to_string())
        .collect()
}

/// Chat writes the database refused since the start (a copy that was not current).
async fn refused_commits(app: &TestApp) -> f64 {
    app.metrics().await.sum(
        "actor_messages_total",
        &[
            ("actor", "persistence"),
            ("message", "Commit"),
            ("outcome", "error"),
        ],
    )
}

/// The session row's version, read behind the API.
async fn version_of(app: &TestApp, token: &str) -> i64 {
    let id = app.session_id_of(token).await;
    app.count(&format!(
        "SELECT version FROM sessions WHERE id = {}",
        app.id_literal(&id)
    ))
    .await
}

/// An app with a counsellor signed in, a session and its queued handoff: the app, the
/// counsellor's token, the session's token and the handoff's id.
async fn queued(backend: Backend) -> (TestApp, String, String, String) {
    let app = staffed(backend).await;
    let staff = app
        .signed_in_staff("counsellor", StaffRole::Counsellor)
        .await;
    let token = app.create_session().await;
    let id = asked(&app, &token, json!({"share": "none"})).await;
    (app, staff, token, id)
}

/// A streamed post whose model answers only after `MODEL_DELAY`: once the person's message is
/// accepted, a counsellor claims the conversation. The listener's answer is not stored; the
/// message is the counsellor's, in the handoff, and it no longer awaits an answer.
async fn a_claim_during_a_streamed_reply_gives_the_message_to_the_counsellor(backend: Backend) {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Mình nghe bạn đây. \"}}]}\n\n\
                data: [DONE]\n\n";
    let mock = provider_answering(
        ResponseTemplate::new(200)
            .set_body_raw(body, "text/event-stream")
            .set_delay(MODEL_DELAY),
    )
    .await;
    let uri = mock.uri();
    let app = spawn_app_with(backend, move |s| use_provider(s, &uri, 10_000)).await;
    let staff = app.signed_in_staff("on-duty", StaffRole::Counsellor).await;
    let token = app.create_session().await;
    let id = asked(&app, &token, json!({"share": "none"})).await;

    let mut response = app
        .stream_message(
            &token,
            &json!({"content": "Marker-awaiting: mình chưa ngủ được"}),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let mut body = read_until(&mut response, "event: message.accepted").await;
    let (status, claimed) = claim(&app, &staff, &id).await;
    assert_eq!(status, 200, "{claimed}");
    body.push_str(&response.text().await.expect("rest of the stream"));

    let events = parse_events(&body);
    assert_eq!(events[0].name, "message.accepted", "{events:?}");
    let last = events.last().expect("a final event");
    assert_eq!(last.name, "reply.replaced", "{events:?}");
    assert!(
        last.data["ai_message"].is_null(),
        "no listener reply: {events:?}"
    );

    assert_eq!(roles(&app, &token).await, ["user"], "no reply stored");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE awaiting_reply")
            .await,
        0,
        "the message no longer awaits the listener"
    );
    let (status, entries) = staff_get(
        &app,
        &staff,
        &format!("/api/v1/staff/handoffs/{id}/messages"),
    )
    .await;
    assert_eq!(status, 200, "{entries}");
    let entries = entries["messages"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["role"], "user");
    assert_eq!(entries[0]["content"], "Marker-awaiting: mình chưa ngủ được");

    // Nothing answers it later either: the next message goes to the counsellor too.
    let (status, posted) = app.send_message(&token, "vẫn ở đây").await;
    assert_eq!(status, 201, "{posted}");
    assert!(posted["ai_message"].is_null(), "{posted}");
    assert_eq!(roles(&app, &token).await, ["user", "user"]);
    app.stop().await;
}

/// A counsellor's answer joins the history after the person's message without moving the
/// session's version: the person's next message is not refused and prepared again.
async fn a_counsellor_message_does_not_make_the_session_stale(backend: Backend) {
    let (app, staff, token, id) = queued(backend).await;
    let (status, claimed) = claim(&app, &staff, &id).await;
    assert_eq!(status, 200, "{claimed}");
    let (status, posted) = app.send_message(&token, "chào anh chị").await;
    assert_eq!(status, 201, "{posted}");

    let version = version_of(&app, &token).await;
    let refused = refused_commits(&app).await;
    let (status, answered) = answer(&app, &staff, &id, "Chào em, mình ở đây.").await;
    assert_eq!(status, 201, "{answered}");
    assert_eq!(version_of(&app, &token).await, version, "no version moved");

    let (status, posted) = app.send_message(&token, "em cảm ơn").await;
    assert_eq!(status, 201, "{posted}");
    assert!(posted["ai_message"].is_null(), "{posted}");
    assert_eq!(refused_commits(&app).await, refused, "nothing was refused");
    let history = app.history(&token).await;
    let messages = history["messages"].as_array().expect("messages");
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    // In sequence order: the counsellor's message took the number after the person's.
    assert_eq!(roles, ["user", "counsellor", "user"]);
    assert_eq!(messages[1]["content"], "Chào em, mình ở đây.");
    app.stop().await;
}

/// The person's session actor is live and its copy warm; a claim and then a close are made
/// through the staff routes. Each reaches the actor at once: the next message is prepared
/// against it and committed without being refused first.
async fn a_handoff_changed_elsewhere_reaches_the_live_session_at_once(backend: Backend) {
    let (app, staff, token, id) = queued(backend).await;
    let answered_by_ai = |posted: &Value| !posted["ai_message"].is_null();
    let (status, posted) = app.send_message(&token, "vẫn đang đợi").await;
    assert_eq!(status, 201, "{posted}");
    assert!(answered_by_ai(&posted), "queued: the AI answers");
    let refused = refused_commits(&app).await;

    let (status, claimed) = claim(&app, &staff, &id).await;
    assert_eq!(status, 200, "{claimed}");
    let (status, posted) = app.send_message(&token, "Marker-after-claim").await;
    assert_eq!(status, 201, "{posted}");
    assert!(!answered_by_ai(&posted), "the counsellor has it: {posted}");
    assert_eq!(refused_commits(&app).await, refused, "the claim was known");

    let (status, closed) = close(&app, &staff, &id, "resolved").await;
    assert_eq!(status, 200, "{closed}");
    let (status, posted) = app.send_message(&token, "cảm ơn nhé").await;
    assert_eq!(status, 201, "{posted}");
    assert!(answered_by_ai(&posted), "the AI again: {posted}");
    assert_eq!(refused_commits(&app).await, refused, "the close was known");
    app.stop().await;
}

on_both_backends!(
    a_claim_during_a_streamed_reply_gives_the_message_to_the_counsellor,
    a_counsellor_message_does_not_make_the_session_stale,
    a_handoff_changed_elsewhere_reaches_the_live_session_at_once,
);
