//! The counsellor's side of a handoff over HTTP on both backends: the queue without content, the
//! claim and its race, exactly the shared subset plus the conversation after the claim, who may
//! read what, answers in the young person's history, the close, the figures, availability, and a
//! claim on one instance answered through the other.

use crate::config_errors::{cbln, stderr_of, stdout_of};
use crate::handoff::{ask, asked, current, leave, post, rows_of};
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_on, spawn_app_with};
use crate::on_both_backends;
use crate::staff_support::{STAFF_PASSWORD, answer, claim, staff_events, staff_get, staff_post};
use crate::support::{
    Fetch, assert_error, assert_field_error, assert_keys, assert_none_in, assert_unreadable,
    plain_and_hex, texts_of,
};
use cbln_actors::staff::StaffRole;
use serde_json::{Value, json};

/// A queued handoff of a new session that shared `share`; answers (token, handoff id).
async fn queued(app: &TestApp, body: Value) -> (String, String) {
    let token = app.create_session().await;
    let id = asked(app, &token, body).await;
    (token, id)
}

/// Posts `content`, then asks for a counsellor sharing that message alone (and `note`); answers
/// the handoff's id.
async fn share_one(app: &TestApp, token: &str, content: &str, note: Option<&str>) -> String {
    let (shared, _) = post(app, token, content).await;
    let mut body = json!({"share": "selected", "message_ids": [shared]});
    if let Some(note) = note {
        body["note"] = json!(note);
    }
    asked(app, token, body).await
}

/// The counsellor signed in with `staff` reads exactly `expected` (role, content) in handoff `id`.
pub(crate) async fn assert_reads(app: &TestApp, staff: &str, id: &str, expected: &[(&str, &str)]) {
    let path = format!("/api/v1/staff/handoffs/{id}/messages");
    let (status, body) = staff_get(app, staff, &path).await;
    assert_eq!(status, 200, "{body}");
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(role, content)| (role.to_string(), content.to_string()))
        .collect();
    assert_eq!(contents(&body), expected, "exactly what was shared");
}

fn contents(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages: {body}"))
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn a_counsellor_reads_exactly_what_was_shared_then_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let lan = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let minh = app.signed_in_staff("minh", StaffRole::Counsellor).await;

    let token = app.create_session().await;
    post(&app, &token, "Marker-riêng: không chia sẻ điều này").await;
    let id = share_one(
        &app,
        &token,
        "Marker-chia: mình bị bắt nạt ở lớp",
        Some("Marker-note: cần người nghe"),
    )
    .await;

    // The queue: ids, risk, wait, language and share only.
    let (status, body) = staff_get(&app, &lan, "/api/v1/staff/queue").await;
    assert_eq!(status, 200, "{body}");
    let item = &body["handoffs"][0];
    assert_keys(item, &["id", "risk", "waiting_s", "language", "share"]);
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["share"], "selected");
    assert!(!body.to_string().contains("Marker"), "no content: {body}");

    // Before a claim nobody reads it.
    let path = format!("/api/v1/staff/handoffs/{id}/messages");
    let (status, body) = staff_get(&app, &lan, &path).await;
    assert_error(status, &body, 403, "forbidden");

    let (status, body) = claim(&app, &lan, &id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["status"], "assigned");
    let (status, body) = claim(&app, &lan, &id).await;
    assert_eq!(status, 200, "claiming one's own again: {body}");
    let (status, body) = claim(&app, &minh, &id).await;
    assert_error(status, &body, 409, "handoff_taken");
    let (_, body) = current(&app, &token).await;
    assert_eq!(body["handoff"]["status"], "assigned");

    assert_reads(
        &app,
        &lan,
        &id,
        &[
            ("user", "Marker-chia: mình bị bắt nạt ở lớp"),
            ("note", "Marker-note: cần người nghe"),
        ],
    )
    .await;
    // A second counsellor, a supervisor and an admin read nothing of it.
    for other in [
        minh.clone(),
        app.signed_in_staff("sup", StaffRole::Supervisor).await,
        app.signed_in_staff("boss", StaffRole::Admin).await,
    ] {
        let (status, body) = staff_get(&app, &other, &path).await;
        assert_error(status, &body, 403, "forbidden");
        let (status, body) = staff_post(&app, &other, &path, json!({"content": "xin chào"})).await;
        assert_error(status, &body, 403, "forbidden");
    }

    // The person writes; the counsellor answers; each sees the other.
    let (status, body) = app.send_message(&token, "Marker-sau: cảm ơn bạn").await;
    assert_eq!(status, 201, "{body}");
    assert!(body["ai_message"].is_null(), "{body}");
    let (status, body) = answer(&app, &lan, &id, "Marker-tư-vấn: mình ở đây với bạn").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"]["role"], "counsellor");
    let (_, body) = staff_get(&app, &lan, &path).await;
    let read = contents(&body);
    assert_eq!(read.len(), 4, "{read:?}");
    assert_eq!(read[2], ("user".into(), "Marker-sau: cảm ơn bạn".into()));
    assert_eq!(
        read[3],
        (
            "counsellor".into(),
            "Marker-tư-vấn: mình ở đây với bạn".into()
        )
    );
    let history = app.history(&token).await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "counsellor", "{history}");
    assert_eq!(last["content"], "Marker-tư-vấn: mình ở đây với bạn");

    // Errors of the counsellor's routes.
    for (body, field) in [
        (json!({}), "content"),
        (json!({"content": "   "}), "content"),
        (json!({"content": "x".repeat(5001)}), "content"),
    ] {
        let (status, answer) = staff_post(&app, &lan, &path, body).await;
        assert_field_error(status, &answer, field);
    }
    let close = format!("/api/v1/staff/handoffs/{id}/close");
    for body in [
        json!({}),
        json!({"outcome": "left"}),
        json!({"outcome": "done"}),
    ] {
        let (status, answer) = staff_post(&app, &lan, &close, body).await;
        assert_field_error(status, &answer, "outcome");
    }
    let (status, body) = staff_post(&app, &minh, &close, json!({"outcome": "resolved"})).await;
    assert_error(status, &body, 403, "forbidden");
    let missing = uuid::Uuid::new_v4();
    let (status, body) = claim(&app, &lan, &missing.to_string()).await;
    assert_error(status, &body, 404, "handoff_not_found");
    let (status, body) = claim(&app, &lan, "not-a-uuid").await;
    assert_error(status, &body, 404, "handoff_not_found");
    app.get("/api/v1/staff/queue")
        .refused(401, "staff_token_required")
        .await;

    let (status, body) = staff_post(&app, &lan, &close, json!({"outcome": "resolved"})).await;
    assert_eq!(status, 200, "{body}");
    let closed_risk = body["handoff"]["risk"].clone();
    assert!(closed_risk.is_string(), "{body}");
    assert_eq!(body["handoff"]["status"], "closed");
    assert_eq!(body["handoff"]["outcome"], "resolved");
    let (status, body) = staff_post(&app, &lan, &close, json!({"outcome": "resolved"})).await;
    assert_error(status, &body, 409, "handoff_ended");
    let (status, body) = staff_post(&app, &lan, &path, json!({"content": "còn đó không"})).await;
    assert_error(status, &body, 409, "handoff_ended");
    let (status, body) = claim(&app, &minh, &id).await;
    assert_error(status, &body, 409, "handoff_ended");
    // The chat is the AI's again.
    let (status, body) = app.send_message(&token, "lại là mình").await;
    assert_eq!(status, 201, "{body}");
    assert!(!body["ai_message"].is_null(), "{body}");

    // The figures: counts, never content; supervisors and admins only.
    let sup = app.signed_in_staff("sup2", StaffRole::Supervisor).await;
    let (status, body) = staff_get(&app, &sup, "/api/v1/staff/stats").await;
    assert_eq!(status, 200, "{body}");
    assert_keys(
        &body,
        &[
            "queue_length",
            "assigned",
            "longest_wait_s",
            "mean_wait_s",
            "outcomes",
        ],
    );
    let outcomes = body["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 1, "{body}");
    assert_eq!(outcomes[0]["outcome"], "resolved");
    assert_eq!(outcomes[0]["count"], 1);
    assert_eq!(
        outcomes[0]["risk"], closed_risk,
        "counted at the risk it closed with"
    );
    assert!(!body.to_string().contains("Marker"));
    let (status, body) = staff_get(&app, &lan, "/api/v1/staff/stats").await;
    assert_error(status, &body, 403, "forbidden");

    // Nothing anyone wrote is readable in the database or the logs; the access log has ids and
    // actions only.
    let markers = [
        "Marker-riêng",
        "Marker-chia",
        "Marker-note",
        "Marker-sau",
        "Marker-tư",
    ];
    assert_unreadable(&app, &markers, "what anyone wrote").await;
    let actions = app
        .count(&format!(
            "SELECT COUNT(*) FROM handoff_access_log WHERE handoff_id = {} AND action IN \
             ('requested', 'claimed', 'read', 'answered', 'closed', 'refused')",
            app.id_literal(&id)
        ))
        .await;
    assert!(actions >= 6, "{actions}");
    app.stop().await;
}

async fn the_queue_puts_a_crisis_first_then_the_longest_wait(backend: Backend) {
    let app = spawn_app(backend).await;
    let lan = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let (_, first) = queued(&app, json!({"share": "none"})).await;
    let (_, second) = queued(&app, json!({"share": "none"})).await;
    let (worried, third) = queued(&app, json!({"share": "none"})).await;
    let (status, _) = app
        .send_message(&worried, "mình muốn chết, không muốn sống nữa")
        .await;
    assert_eq!(status, 201);
    let (status, body) = staff_get(&app, &lan, "/api/v1/staff/queue").await;
    assert_eq!(status, 200, "{body}");
    let order = texts_of(&body["handoffs"], "id");
    assert_eq!(order, [third.as_str(), first.as_str(), second.as_str()]);
    assert_eq!(body["handoffs"][0]["risk"], "crisis");
    app.stop().await;
}

async fn without_a_counsellor_or_outside_hours_the_chat_stays_with_the_ai(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.create_session_in("en").await;
    let (status, body) = ask(&app, &token, json!({"share": "none"})).await;
    assert_eq!(status, 200, "nobody signed in: {body}");
    assert_eq!(body["handoff"]["status"], "unavailable");
    assert!(
        body["handoff"].get("next_opening").is_none(),
        "all hours: {body}"
    );
    let card = &body["crisis_card"];
    assert!(
        card["message"].as_str().unwrap().contains("counsellor"),
        "{card}"
    );
    assert!(!card["hotlines"].as_array().unwrap().is_empty(), "{card}");
    assert_eq!(app.count("SELECT COUNT(*) FROM handoffs").await, 0);
    let (status, body) = app.send_message(&token, "ok").await;
    assert_eq!(status, 201);
    assert!(!body["ai_message"].is_null());
    app.stop().await;

    // Signed in, but closed all week but one late slot: unavailable with the next opening.
    let app = spawn_app_with(backend, |s| {
        s.handoff.opening_hours = vec!["mon 03:00-03:01".to_string()];
    })
    .await;
    app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let token = app.create_session().await;
    let (status, body) = ask(&app, &token, json!({"share": "none"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["status"], "unavailable");
    assert!(body["handoff"]["next_opening"].is_string(), "{body}");
    app.stop().await;
}

async fn a_deleted_session_leaves_nothing_to_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let lan = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let (token, id) = queued(&app, json!({"share": "none", "note": "Marker-xoá"})).await;
    let (status, _) = claim(&app, &lan, &id).await;
    assert_eq!(status, 200);
    let response = app.delete_as("/api/v1/sessions", &token).fetch().await;
    assert_eq!(response.status(), 204);
    let path = format!("/api/v1/staff/handoffs/{id}/messages");
    let (status, body) = staff_get(&app, &lan, &path).await;
    assert_error(status, &body, 404, "handoff_not_found");
    let (status, body) = answer(&app, &lan, &id, "alo").await;
    assert_error(status, &body, 404, "handoff_not_found");

    // The person leaving an assigned handoff: the counsellor still reads it for the retention;
    // the janitor's next sweep after it destroys the key, and nothing is left to read.
    let app = {
        let database = app.stop().await;
        crate::helpers::spawn_app_on(database, |s| s.handoff.retention_minutes = 0).await
    };
    let lan = app.signed_in_staff("lan2", StaffRole::Counsellor).await;
    let (token, id) = queued(&app, json!({"share": "none", "note": "Marker-rời"})).await;
    claim(&app, &lan, &id).await;
    let (status, body) = leave(&app, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["outcome"], "left");
    let path = format!("/api/v1/staff/handoffs/{id}/messages");
    let (status, body) = staff_get(&app, &lan, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(contents(&body).len(), 1, "not swept yet: {body}");
    let app = {
        let database = app.stop().await;
        crate::helpers::spawn_app_on(database, |s| s.janitor.sweep_at_start = true).await
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while rows_of(&app, "handoff_keys", &id).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweep never shredded it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let lan = app.signed_in_staff("lan3", StaffRole::Counsellor).await;
    let (status, body) = staff_get(&app, &lan, &path).await;
    assert_error(status, &body, 403, "forbidden");
    assert_eq!(rows_of(&app, "handoff_entries", &id).await, 0);
    app.stop().await;
}

/// What `cbln keys rotate` is run with: the database, the new key, the old one, the secret.
const ROTATION_VARIABLES: [&str; 4] = [
    "DATABASE_URL",
    "ENCRYPTION_KEY",
    "ENCRYPTION_KEYS_PREVIOUS",
    "SECRET_KEY",
];

/// `cbln keys rotate` re-wraps the handoffs' keys with the sessions': once the old master key
/// is dropped, the counsellor still reads what was shared, and the database holds none of it.
async fn key_rotation_keeps_a_handoff_readable(backend: Backend) {
    use cbln_actors::crypto::{MasterKey, generate_secret_key};
    use secrecy::SecretString;
    let old_key = MasterKey::generate().to_base64();
    let new_key = MasterKey::generate().to_base64();
    let secret = generate_secret_key();
    let keys = |key: &str, previous: &str| {
        let (key, previous, secret) = (key.to_string(), previous.to_string(), secret.clone());
        move |settings: &mut cbln::config::Settings| {
            settings.security.encryption_key = SecretString::from(key);
            settings.security.encryption_keys_previous = SecretString::from(previous);
            settings.security.secret_key = SecretString::from(secret);
        }
    };
    let app = spawn_app_with(backend, keys(&old_key, "")).await;
    let lan = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let token = app.create_session().await;
    let id = share_one(
        &app,
        &token,
        "Marker-before-rotation: chuyện ở trường",
        Some("Marker-note-rotation"),
    )
    .await;
    let (status, body) = claim(&app, &lan, &id).await;
    assert_eq!(status, 200, "{body}");
    let url = app.database.url.clone();
    let database = app.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let values = [url.as_str(), &new_key, &old_key, &secret];
    let variables: Vec<(&str, &str)> = ROTATION_VARIABLES.into_iter().zip(values).collect();
    let output = cbln(dir.path(), &["keys", "rotate"], &variables);
    let report = stdout_of(&output);
    assert!(output.status.success(), "{report}{}", stderr_of(&output));
    assert!(
        report.contains("handoff keys: re-wrapped 1, already current 0, failed 0"),
        "{report}"
    );
    assert!(report.contains("session keys: re-wrapped 1"), "{report}");

    // A server with only the new key: the counsellor signs in again and reads the shared subset.
    let app = spawn_app_on(database, keys(&new_key, "")).await;
    let (status, body) = app.staff_login("lan", STAFF_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let lan = body["token"].as_str().unwrap().to_string();
    assert_reads(
        &app,
        &lan,
        &id,
        &[
            ("user", "Marker-before-rotation: chuyện ở trường"),
            ("note", "Marker-note-rotation"),
        ],
    )
    .await;
    let bytes = app.database_bytes().await;
    let markers = plain_and_hex(&["Marker-before-rotation", "Marker-note-rotation"]);
    assert_none_in(&bytes, &markers, "the rotated handoff stays sealed");
    app.stop().await;
}

/// Events up to the `handoff.message` whose content is `content` (the last one), checking on the
/// way that ids increase past `after`.
async fn until_message(
    stream: &mut crate::events::EventStream,
    after: u64,
    content: &str,
) -> Vec<crate::streaming::Event> {
    let mut seen: Vec<crate::streaming::Event> = Vec::new();
    loop {
        let event = stream.next_event().await;
        let last = seen.last().map_or(after, |e| e.id);
        assert!(event.id > last, "ids increase: {last} then {event:?}");
        let found = event.name == "handoff.message" && event.data["message"]["content"] == content;
        seen.push(event);
        if found {
            return seen;
        }
    }
}

/// A counsellor's stream that breaks resumes with `Last-Event-ID` and gets what it missed; an
/// id it cannot resume from starts with `stream.reset`; an id that is not one is a 422.
async fn the_staff_stream_resumes_after_a_break(backend: Backend) {
    let app = spawn_app(backend).await;
    let lan = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let (token, id) = queued(&app, json!({"share": "none"})).await;
    let (status, body) = claim(&app, &lan, &id).await;
    assert_eq!(status, 200, "{body}");

    let mut stream = staff_events(&app, &lan, None).await;
    let first = stream.next_event().await;
    assert_eq!(first.name, "queue.changed", "{first:?}");
    post_to_counsellor(&app, &token, "Marker-live").await;
    let live = until_message(&mut stream, first.id, "Marker-live").await;
    let live = live.last().unwrap();
    assert_eq!(live.data["index"], 0, "{live:?}");
    drop(stream);

    post_to_counsellor(&app, &token, "Marker-missed").await;
    let resume = live.id.to_string();
    let mut stream = staff_events(&app, &lan, Some(&resume)).await;
    let seen = until_message(&mut stream, live.id, "Marker-missed").await;
    let missed = seen.last().unwrap();
    assert_eq!(missed.data["handoff_id"], id.as_str());
    assert_eq!(missed.data["index"], 1, "its place in GET …/messages");
    assert_eq!(missed.data["message"]["role"], "user");
    let names: Vec<&str> = seen.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[..2], ["queue.changed", "handoff.updated"], "{seen:?}");
    assert_eq!(seen[1].data["handoff"]["status"], "assigned", "{seen:?}");
    // Only a message from just before the break may come again, and it says where it stands.
    for repeat in &seen[2..seen.len() - 1] {
        assert_eq!(repeat.data["index"], 0, "{seen:?}");
    }
    drop(stream);

    // An id from long ago (or never given) cannot be resumed: the stream says so, then starts.
    let mut stream = staff_events(&app, &lan, Some("1000")).await;
    let reset = stream.next_event().await;
    assert_eq!(reset.name, "stream.reset", "{reset:?}");
    assert_eq!(reset.data["reason"], "cannot_resume");
    let next = stream.next_event().await;
    assert_eq!(next.name, "queue.changed", "{next:?}");
    assert!(next.id > reset.id);
    drop(stream);

    let (status, body) = app
        .get_as("/api/v1/staff/events", &lan)
        .header("Last-Event-ID", "soon")
        .fetch_json_or_null()
        .await;
    assert_field_error(status, &body, "Last-Event-ID");
    app.stop().await;
}

/// Posts `content` in a session whose counsellor answers (no AI reply).
pub(crate) async fn post_to_counsellor(app: &TestApp, token: &str, content: &str) {
    let (status, body) = app.send_message(token, content).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["ai_message"].is_null(), "{body}");
}

on_both_backends!(
    the_staff_stream_resumes_after_a_break,
    key_rotation_keeps_a_handoff_readable,
    a_counsellor_reads_exactly_what_was_shared_then_answers,
    the_queue_puts_a_crisis_first_then_the_longest_wait,
    without_a_counsellor_or_outside_hours_the_chat_stays_with_the_ai,
    a_deleted_session_leaves_nothing_to_read,
);

/// The next event named `name` (others, like queue changes, are skipped).
pub(crate) async fn next_named(
    stream: &mut crate::events::EventStream,
    name: &str,
) -> crate::streaming::Event {
    loop {
        let event = stream.next_event().await;
        if event.name == name {
            return event;
        }
    }
}

#[actix_web::test]
async fn a_claim_on_one_instance_is_answered_through_the_other() {
    let _serial = crate::events::REDIS_TESTS.lock().await;
    let (a, b) = crate::helpers::spawn_two_instances(|s| {
        s.redis.url = secrecy::SecretString::from(crate::events::REDIS_URL.to_string())
    })
    .await;
    crate::events::await_relay(&a, &b).await;
    crate::events::await_relay(&b, &a).await;

    // The young person is on B; the counsellor works on A.
    let lan = a.signed_in_staff("lan", StaffRole::Counsellor).await;
    let token = b.create_session().await;
    let id = share_one(&b, &token, "Marker-shared: mình cần nói chuyện", None).await;
    let mut person = crate::events::EventStream::open(&b, &token, None).await;
    let mut counsellor = staff_events(&a, &lan, None).await;
    let first = counsellor.next_event().await;
    assert_eq!(first.name, "queue.changed");
    assert_eq!(first.data["queued"], 1, "{first:?}");

    let (status, body) = claim(&a, &lan, &id).await;
    assert_eq!(status, 200, "{body}");
    let update = next_named(&mut person, "handoff.updated").await;
    assert_eq!(update.data["status"], "assigned", "{update:?}");

    // The counsellor answers on A; the person sees it on B's stream and in B's history.
    let (status, body) = answer(&a, &lan, &id, "Marker-answer: mình đây").await;
    assert_eq!(status, 201, "{body}");
    let created = next_named(&mut person, "message.created").await;
    assert_eq!(created.data["role"], "counsellor", "{created:?}");
    assert_eq!(created.data["content"], "Marker-answer: mình đây");

    // The person writes on B; the counsellor's stream on A carries it, and no AI answers.
    let (status, body) = b.send_message(&token, "Marker-reply: cảm ơn").await;
    assert_eq!(status, 201, "{body}");
    assert!(body["ai_message"].is_null(), "{body}");
    loop {
        let event = next_named(&mut counsellor, "handoff.message").await;
        if event.data["message"]["role"] == "user" {
            assert_eq!(event.data["handoff_id"], id.as_str());
            assert_eq!(event.data["message"]["content"], "Marker-reply: cảm ơn");
            break;
        }
    }
    b.stop().await;
    a.stop().await;
}
