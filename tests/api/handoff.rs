//! Handoff to a counsellor over HTTP on both backends: the young person asks, sees where the
//! request stands and leaves it; what they share is exactly what they chose, sealed under the
//! handoff's own key, and gone at once when their session ends; their event stream carries the
//! claim, the counsellor's answers and the end, as the chat page follows them.

use crate::events::EventStream;
use crate::handoff_staff::next_named;
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::on_both_backends;
use crate::staff_support::{answer, claim, close};
use crate::support::{
    Fetch, assert_error, assert_field_error, assert_keys, assert_none_in, assert_unreadable,
    plain_and_hex, texts_of,
};
use cbln_actors::staff::StaffRole;
use serde_json::{Value, json};

pub async fn ask(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    app.post_as("/api/v1/handoff", token)
        .json(&body)
        .fetch_json_or_null()
        .await
}

/// `POST /api/v1/handoff` that must queue (201); answers the handoff's id.
pub async fn asked(app: &TestApp, token: &str, body: Value) -> String {
    let (status, answer) = ask(app, token, body).await;
    assert_eq!(status, 201, "{answer}");
    answer["handoff"]["id"].as_str().unwrap().to_string()
}

pub async fn current(app: &TestApp, token: &str) -> (u16, Value) {
    app.get_as("/api/v1/handoff", token)
        .fetch_json_or_null()
        .await
}

pub async fn leave(app: &TestApp, token: &str) -> (u16, Value) {
    app.delete_as("/api/v1/handoff", token)
        .fetch_json_or_null()
        .await
}

/// An app with a counsellor signed in (otherwise no handoff can be asked for).
pub async fn staffed(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    app.signed_in_staff("on-duty", StaffRole::Counsellor).await;
    app
}

/// The ids of the user message and the reply of one posted message.
pub async fn post(app: &TestApp, token: &str, content: &str) -> (String, String) {
    let (status, body) = app.send_message(token, content).await;
    assert_eq!(status, 201, "{body}");
    (
        body["user_message"]["id"].as_str().unwrap().to_string(),
        body["ai_message"]["id"].as_str().unwrap().to_string(),
    )
}

/// Rows of `table` belonging to the handoff `id`.
pub async fn rows_of(app: &TestApp, table: &str, id: &str) -> i64 {
    let column = if table == "handoffs" {
        "id"
    } else {
        "handoff_id"
    };
    app.count(&format!(
        "SELECT COUNT(*) FROM {table} WHERE {column} = {}",
        app.id_literal(id)
    ))
    .await
}

async fn a_request_is_queued_seen_and_left(backend: Backend) {
    let app = staffed(backend).await;
    let first = app.create_session().await;
    let second = app.create_session().await;
    post(&app, &first, "Mình thấy mệt mỏi với việc học").await;

    let (status, body) = current(&app, &first).await;
    assert_error(status, &body, 404, "handoff_not_found");

    let (status, body) = ask(&app, &first, json!({"share": "none"})).await;
    assert_eq!(status, 201, "{body}");
    assert_keys(&body, &["handoff"]);
    let handoff = &body["handoff"];
    assert_keys(
        handoff,
        &[
            "id",
            "status",
            "share",
            "position",
            "estimated_wait_s",
            "created_at",
        ],
    );
    assert_eq!(handoff["status"], "queued");
    assert_eq!(handoff["share"], "none");
    assert_eq!(handoff["position"], 1);
    assert!(handoff["estimated_wait_s"].as_i64().unwrap() > 0, "{body}");
    let id = handoff["id"].as_str().unwrap().to_string();
    uuid::Uuid::parse_str(&id).expect("a UUID id");

    let (status, body) = ask(&app, &first, json!({"share": "none"})).await;
    assert_error(status, &body, 409, "handoff_exists");

    let (status, body) = ask(
        &app,
        &second,
        json!({"share": "none", "note": "cần nói chuyện"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["handoff"]["position"], 2, "behind the first: {body}");
    let second_id = body["handoff"]["id"].as_str().unwrap().to_string();

    let (status, body) = current(&app, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["id"], id.as_str());
    assert_eq!(body["handoff"]["status"], "queued");
    assert_eq!(body["handoff"]["position"], 1);

    let (status, body) = leave(&app, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["status"], "cancelled");
    assert_eq!(body["handoff"]["outcome"], "left");
    assert!(body["handoff"]["closed_at"].is_string(), "{body}");
    assert!(body["handoff"].get("position").is_none(), "{body}");
    // Nobody read it: its key is destroyed at once.
    assert_eq!(rows_of(&app, "handoff_keys", &id).await, 0);

    let (status, body) = current(&app, &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["status"], "cancelled");
    let (status, body) = leave(&app, &first).await;
    assert_error(status, &body, 404, "handoff_not_found");

    let (status, body) = current(&app, &second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["id"], second_id.as_str());
    assert_eq!(body["handoff"]["position"], 1, "moved up: {body}");
    assert_eq!(rows_of(&app, "handoff_keys", &second_id).await, 1);
    assert_eq!(
        rows_of(&app, "handoff_entries", &second_id).await,
        1,
        "the note"
    );

    // A new request after leaving is a new handoff.
    let (status, body) = ask(&app, &first, json!({"share": "none"})).await;
    assert_eq!(status, 201, "{body}");
    assert_ne!(body["handoff"]["id"], id.as_str());
    assert_eq!(body["handoff"]["position"], 2);

    // The access log holds ids and actions only.
    assert_eq!(rows_of(&app, "handoff_access_log", &id).await, 2);
    app.stop().await;
}

async fn every_bad_request_is_refused_precisely(backend: Backend) {
    let app = staffed(backend).await;
    let token = app.create_session().await;
    let other = app.create_session().await;
    let (own, _) = post(&app, &token, "Hôm nay ở lớp có chuyện buồn").await;
    let (foreign, _) = post(&app, &other, "Chuyện của người khác").await;

    let cases = [
        (json!({}), "share"),
        (json!({"share": "all"}), "share"),
        (json!({"share": "none", "note": "x".repeat(501)}), "note"),
        (json!({"share": "summary"}), "note"),
        (json!({"share": "summary", "note": "   "}), "note"),
        (json!({"share": "selected"}), "message_ids"),
        (
            json!({"share": "selected", "message_ids": []}),
            "message_ids",
        ),
        (
            json!({"share": "selected", "message_ids": ["not-a-uuid"]}),
            "message_ids",
        ),
        (
            json!({"share": "selected", "message_ids": [uuid::Uuid::new_v4().to_string()]}),
            "message_ids",
        ),
        (
            json!({"share": "selected", "message_ids": [own, foreign]}),
            "message_ids",
        ),
        (
            json!({"share": "none", "message_ids": [own]}),
            "message_ids",
        ),
        (
            json!({"share": "selected", "message_ids": (0..51).map(|_| own.clone()).collect::<Vec<_>>()}),
            "message_ids",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = ask(&app, &token, body.clone()).await;
        assert_field_error(status, &answer, field);
        assert!(
            !answer.to_string().contains("Chuyện"),
            "no content in errors: {answer}"
        );
    }
    let (status, body) = ask(&app, &token, json!({"share": "none", "surprise": 1})).await;
    assert_error(status, &body, 422, "validation_failed");
    assert_eq!(app.count("SELECT COUNT(*) FROM handoffs").await, 0);

    let (status, body) = app
        .post_as("/api/v1/handoff", &token)
        .fetch_json_or_null()
        .await;
    assert_field_error(status, &body, "share");
    app.post_as("/api/v1/handoff", &token)
        .header("content-type", "text/plain")
        .body(r#"{"share":"none"}"#)
        .refused(415, "unsupported_media_type")
        .await;

    let unknown = format!("anon_{}", uuid::Uuid::new_v4().simple());
    for request in [
        app.post("/api/v1/handoff").json(&json!({"share": "none"})),
        app.get("/api/v1/handoff"),
        app.delete("/api/v1/handoff"),
        app.get("/api/v1/handoff/summary-draft"),
    ] {
        let (status, body) = request.bearer_auth(&unknown).fetch_json_or_null().await;
        assert_error(status, &body, 404, "session_not_found");
    }
    app.get("/api/v1/handoff")
        .refused(401, "session_required")
        .await;

    app.put_as("/api/v1/handoff", &token)
        .refused(405, "method_not_allowed")
        .await;

    let late = app.create_session().await;
    app.expire_all_sessions().await;
    let (status, body) = ask(&app, &late, json!({"share": "none"})).await;
    assert_error(status, &body, 401, "session_expired");
    app.stop().await;
}

async fn only_the_chosen_messages_are_shared_and_sealed(backend: Backend) {
    let app = staffed(backend).await;
    let token = app.create_session().await;
    let kept_secret = "Marker-giữ-riêng: chuyện này mình không chia sẻ";
    let shared = "Marker-chia-sẻ: mình bị bắt nạt ở trường";
    let note = "Marker-ghi-chú: mong được nói chuyện sớm";
    let (_, first_reply) = post(&app, &token, kept_secret).await;
    let (shared_id, _) = post(&app, &token, shared).await;

    let (status, body) = ask(
        &app,
        &token,
        json!({"share": "selected", "message_ids": [shared_id, first_reply, shared_id], "note": note}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["handoff"]["share"], "selected");
    let id = body["handoff"]["id"].as_str().unwrap().to_string();
    // The two chosen (a repeated id once), in the conversation's order, then the note.
    assert_eq!(rows_of(&app, "handoff_entries", &id).await, 3);
    let roles = app
        .count(&format!(
            "SELECT COUNT(*) FROM handoff_entries WHERE handoff_id = {} AND \
             ((seq = 1 AND role = 'assistant') OR (seq = 2 AND role = 'user') OR \
              (seq = 3 AND role = 'note'))",
            app.id_literal(&id)
        ))
        .await;
    assert_eq!(
        roles, 3,
        "reply first (it came first), then the message, then the note"
    );

    assert_unreadable(&app, &["Marker-chia", "Marker-ghi"], "shared text").await;
    app.stop().await;
}

async fn a_summary_is_drafted_then_shared_only_as_accepted(backend: Backend) {
    let app = staffed(backend).await;
    let token = app.create_session_in("en").await;
    post(&app, &token, "I am so stressed about my exams next week").await;
    post(&app, &token, "and my parents keep arguing at home").await;

    let (status, body) = app
        .get_as("/api/v1/handoff/summary-draft", &token)
        .fetch_json()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_keys(&body, &["summary"]);
    let summary = body["summary"].as_str().unwrap().to_string();
    assert!(summary.contains("exams"), "{summary}");
    assert!(
        !summary.contains("next week"),
        "a summary, not a quote: {summary}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM handoffs").await,
        0,
        "drafting shares nothing"
    );

    let edited = format!("{summary} Marker-edited");
    let (status, body) = ask(&app, &token, json!({"share": "summary", "note": edited})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["handoff"]["share"], "summary");
    let id = body["handoff"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        rows_of(&app, "handoff_entries", &id).await,
        1,
        "the accepted summary only"
    );
    // Neither the draft nor what the person added to it is readable anywhere.
    assert_unreadable(&app, &[summary.as_str(), "Marker-edited"], "the summary").await;
    app.stop().await;
}

async fn ending_the_session_ends_the_handoff_and_shreds_it(backend: Backend) {
    let app = staffed(backend).await;
    // A quick exit leaves the handoff's row, cancelled; deleting the session takes it too.
    for (quick_exit, status, rows_left) in [(true, 200, 1), (false, 204, 0)] {
        let token = app.create_session().await;
        let (message, _) = post(&app, &token, "Mình cần một người nghe").await;
        let body = json!({"share": "selected", "message_ids": [message], "note": "xin chào"});
        let id = asked(&app, &token, body).await;
        let request = if quick_exit {
            app.post("/api/v1/sessions/exit")
        } else {
            app.delete("/api/v1/sessions")
        };
        let response = request.bearer_auth(&token).fetch().await;
        assert_eq!(response.status(), status);
        for table in ["handoff_keys", "handoff_entries"] {
            assert_eq!(rows_of(&app, table, &id).await, 0, "{table}");
        }
        assert_eq!(rows_of(&app, "handoffs", &id).await, rows_left);
        let cancelled = app
            .count(&format!(
                "SELECT COUNT(*) FROM handoffs WHERE id = {} AND status = 'cancelled'",
                app.id_literal(&id)
            ))
            .await;
        assert_eq!(cancelled, rows_left, "ended, out of the queue");
    }
    app.stop().await;
}

on_both_backends!(
    a_request_is_queued_seen_and_left,
    every_bad_request_is_refused_precisely,
    only_the_chosen_messages_are_shared_and_sealed,
    a_summary_is_drafted_then_shared_only_as_accepted,
    ending_the_session_ends_the_handoff_and_shreds_it,
);

/// A counsellor signs in and claims the handoff `id` through the staff route; answers their token.
async fn assign(app: &TestApp, id: &str) -> String {
    let staff = app.signed_in_staff("claims", StaffRole::Counsellor).await;
    let (status, body) = claim(app, &staff, id).await;
    assert_eq!(status, 200, "{body}");
    staff
}

async fn while_assigned_the_counsellor_answers_not_the_ai(backend: Backend) {
    let app = staffed(backend).await;
    let token = app.create_session().await;
    post(&app, &token, "Marker-before-claim: chuyện cũ").await;
    let id = asked(&app, &token, json!({"share": "none"})).await;
    assign(&app, &id).await;
    let (status, body) = current(&app, &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["handoff"]["status"], "assigned");

    let (status, body) = app
        .send_message(&token, "Marker-after-claim: hôm nay mệt quá")
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["ai_message"].is_null(), "no AI reply: {body}");
    assert_eq!(body["user_message"]["role"], "user");
    assert!(body["crisis_info"].is_null(), "{body}");

    // Crisis detection still runs; the card still comes; the handoff's risk rises.
    let (status, body) = app
        .send_message(&token, "mình muốn chết, không muốn sống nữa")
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["ai_message"].is_null(), "{body}");
    assert!(!body["crisis_info"].is_null(), "the card: {body}");
    assert_eq!(body["user_message"]["is_crisis_detected"], true);
    let raised = app
        .count(&format!(
            "SELECT COUNT(*) FROM handoffs WHERE id = {} AND risk = 'crisis'",
            app.id_literal(&id)
        ))
        .await;
    assert_eq!(raised, 1, "the counsellor sees the risk change");

    // A streamed post behaves the same: accepted, then done, with no reply.
    let (status, _, events) =
        crate::streaming::post_streaming(&app, &token, "Marker-streamed: vẫn ở đây").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["message.accepted", "reply.completed"], "{events:?}");
    assert!(events[1].data["ai_message"].is_null(), "{events:?}");

    let history = app.history(&token).await;
    let roles = texts_of(&history["messages"], "role");
    assert_eq!(roles, ["user", "assistant", "user", "user", "user"]);
    // The counsellor gets every message after the claim, none from before.
    assert_eq!(rows_of(&app, "handoff_entries", &id).await, 3);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM handoff_entries WHERE handoff_id = {} AND role = 'user'",
            app.id_literal(&id)
        ))
        .await,
        3
    );
    let copies = plain_and_hex(&["Marker-after", "Marker-streamed"]);
    let bytes = app.database_bytes().await;
    assert_none_in(&bytes, &copies, "copies for the counsellor are sealed");
    app.stop().await;
}

async fn a_crisis_moves_a_queued_handoff_to_the_head(backend: Backend) {
    let app = staffed(backend).await;
    let calm = app.create_session().await;
    let worried = app.create_session().await;
    let (status, body) = ask(&app, &calm, json!({"share": "none"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = ask(&app, &worried, json!({"share": "none"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["handoff"]["position"], 2);

    // Queued, not assigned: the AI still answers (with the safety protocol), and the queue moves.
    let (status, body) = app
        .send_message(&worried, "mình muốn chết, không muốn sống nữa")
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        !body["ai_message"].is_null(),
        "the AI answers until a claim: {body}"
    );
    let (_, body) = current(&app, &worried).await;
    assert_eq!(body["handoff"]["position"], 1, "{body}");
    let (_, body) = current(&app, &calm).await;
    assert_eq!(body["handoff"]["position"], 2, "{body}");
    app.stop().await;
}

/// Whether the reply to `content` came from the AI.
async fn ai_answers(app: &TestApp, token: &str, content: &str) -> bool {
    let (status, body) = app.send_message(token, content).await;
    assert_eq!(status, 201, "{body}");
    !body["ai_message"].is_null()
}

/// The session's actor keeps its handoff in its copy; a claim and a close made through the
/// staff routes (not through the session) move the session's version on, so the next message
/// after each sees them.
async fn a_claim_and_a_close_elsewhere_reach_the_next_message(backend: Backend) {
    let app = staffed(backend).await;
    let token = app.create_session().await;
    let id = asked(&app, &token, json!({"share": "none"})).await;
    assert!(
        ai_answers(&app, &token, "vẫn đang đợi").await,
        "queued: the AI answers"
    );
    assert!(
        ai_answers(&app, &token, "đợi thêm chút").await,
        "the copy is warm"
    );

    let staff = assign(&app, &id).await;
    assert!(
        !ai_answers(&app, &token, "Marker-first-after-claim").await,
        "the first message after the claim goes to the counsellor"
    );
    assert_eq!(rows_of(&app, "handoff_entries", &id).await, 1);
    assert!(!ai_answers(&app, &token, "vẫn ở đây").await);
    assert_eq!(rows_of(&app, "handoff_entries", &id).await, 2);

    let (status, body) = close(&app, &staff, &id, "resolved").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        ai_answers(&app, &token, "cảm ơn nhé").await,
        "the first message after the close is the AI's again"
    );
    app.stop().await;
}

/// The next `handoff.updated` of the handoff `id` that says it is `status` (an earlier state may
/// still be on its way); its data.
async fn updated_to(stream: &mut EventStream, id: &str, status: &str) -> Value {
    loop {
        let event = next_named(stream, "handoff.updated").await;
        if event.data["id"] == id && event.data["status"] == status {
            return event.data;
        }
    }
}

/// What the chat page follows on the session's event stream: the claim, the counsellor's answer
/// and the close; and whether a counsellor had taken the handoff (`claimed_at`), from which the
/// page tells "you left the counsellor" from "your request was cancelled".
async fn the_session_stream_carries_the_handoff_as_the_page_follows_it(backend: Backend) {
    let app = staffed(backend).await;
    let token = app.create_session().await;
    let id = asked(&app, &token, json!({"share": "none"})).await;
    let mut stream = EventStream::open(&app, &token, None).await;
    let staff = assign(&app, &id).await;
    let assigned = updated_to(&mut stream, &id, "assigned").await;
    assert!(assigned["claimed_at"].is_string(), "{assigned}");
    assert!(assigned.get("outcome").is_none(), "{assigned}");

    let words = "Mình đang nghe đây, bạn kể tiếp nhé.";
    let (status, body) = answer(&app, &staff, &id, words).await;
    assert_eq!(status, 201, "{body}");
    let created = next_named(&mut stream, "message.created").await;
    assert_eq!(
        (&created.data["role"], &created.data["content"]),
        (&json!("counsellor"), &json!(words)),
        "{created:?}"
    );

    let (status, body) = close(&app, &staff, &id, "referred").await;
    assert_eq!(status, 200, "{body}");
    let closed = updated_to(&mut stream, &id, "closed").await;
    assert_eq!(closed["outcome"], "referred", "{closed}");
    assert!(
        closed["claimed_at"].is_string() && closed["closed_at"].is_string(),
        "{closed}"
    );
    drop(stream);

    // Another person leaves after a claim, then asks again and leaves while still queued.
    let token = app.create_session().await;
    let taken = asked(&app, &token, json!({"share": "none"})).await;
    let mut stream = EventStream::open(&app, &token, None).await;
    let (status, body) = claim(&app, &staff, &taken).await;
    assert_eq!(status, 200, "{body}");
    updated_to(&mut stream, &taken, "assigned").await;
    let (status, body) = leave(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    let left = updated_to(&mut stream, &taken, "cancelled").await;
    assert_eq!(left["outcome"], "left", "{left}");
    assert!(left["claimed_at"].is_string(), "taken, then left: {left}");

    let waiting = asked(&app, &token, json!({"share": "none"})).await;
    let (status, body) = leave(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    let cancelled = updated_to(&mut stream, &waiting, "cancelled").await;
    assert_eq!(cancelled["outcome"], "left", "{cancelled}");
    assert!(
        cancelled.get("claimed_at").is_none(),
        "never taken: {cancelled}"
    );
    app.stop().await;
}

on_both_backends!(
    while_assigned_the_counsellor_answers_not_the_ai,
    a_crisis_moves_a_queued_handoff_to_the_head,
    a_claim_and_a_close_elsewhere_reach_the_next_message,
    the_session_stream_carries_the_handoff_as_the_page_follows_it,
);
