//! Quick exit (`POST /api/v1/sessions/exit`) over real HTTP: always 200 at once, the key shredded
//! and the token revoked whichever way the token came, the rest left to the janitor, no log line
//! naming the session.

use crate::helpers::{Backend, TestApp, captured_logs, spawn_app, spawn_with_session};
use crate::on_both_backends;
use crate::support::{Fetch, assert_error, header};
use serde_json::{Value, json};

async fn assert_exited(response: reqwest::Response) {
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({"status": "exited"}));
}

/// The session is unreadable and unreachable: no key, an expired row, the token unknown.
async fn assert_shredded(app: &TestApp, token: &str, session_id: &str) {
    let id_match = app.id_literal(session_id);
    let keys = app
        .count(&format!(
            "SELECT COUNT(*) FROM session_keys WHERE session_id = {id_match}"
        ))
        .await;
    assert_eq!(keys, 0, "the key is shredded");
    let now = if app.database.pg_name.is_some() {
        "now()"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    };
    let expired = app
        .count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE id = {id_match} AND expires_at <= {now}"
        ))
        .await;
    assert_eq!(expired, 1, "the row is left expired for the janitor");
    app.get_as("/api/v1/messages", token)
        .refused(404, "session_not_found")
        .await;
    let (status, body) = app.send_message(token, "còn đó không").await;
    assert_error(status, &body, 404, "session_not_found");
}

async fn exit_with_a_bearer_token_shreds_the_live_session(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let (status, _) = app.send_message(&token, "mình đang ở nhà, mệt quá").await;
    assert_eq!(status, 201);
    let session_id = app.session_id_of(&token).await;
    let logs_before = captured_logs().matches(&session_id).count();

    let response = app.post_as("/api/v1/sessions/exit", &token).fetch().await;
    assert_exited(response).await;
    let logs = captured_logs();
    let naming: Vec<&str> = logs.lines().filter(|l| l.contains(&session_id)).collect();
    assert_eq!(
        naming.len(),
        logs_before,
        "no log line names the session: {naming:#?}"
    );
    assert!(!captured_logs().contains(&token));
    // (After the log check: the test's own SQL below names the session in sqlx's log.)
    assert_shredded(&app, &token, &session_id).await;
    let messages = app.count("SELECT COUNT(*) FROM messages").await;
    assert_eq!(messages, 2, "the rest is the janitor's work");
    // The exit ended the session: deleting it afterwards finds it gone.
    app.delete_session(&token)
        .refused(404, "session_not_found")
        .await;

    // Again, and for tokens that never were: the same answer.
    for request in [
        app.post_as("/api/v1/sessions/exit", &token),
        app.post("/api/v1/sessions/exit")
            .bearer_auth(format!("anon_{}", "B".repeat(43))),
        app.post_as("/api/v1/sessions/exit", "not-a-token"),
        app.post("/api/v1/sessions/exit"),
        app.post("/api/v1/sessions/exit")
            .header("content-type", "application/json")
            .body("{not json"),
        app.post("/api/v1/sessions/exit?session_token=%%%"),
    ] {
        assert_exited(request.fetch().await).await;
    }
}

async fn exit_takes_the_token_from_the_query_the_body_or_a_beacon(backend: Backend) {
    let (app, by_query) = spawn_with_session(backend).await;
    let by_body = app.create_session().await;
    let by_beacon = app.create_session().await;
    let by_header = app.create_session().await;
    let ids = [
        app.session_id_of(&by_query).await,
        app.session_id_of(&by_body).await,
        app.session_id_of(&by_beacon).await,
        app.session_id_of(&by_header).await,
    ];
    let response = app
        .post(&format!("/api/v1/sessions/exit?session_token={by_query}"))
        .fetch()
        .await;
    assert_exited(response).await;
    let response = app
        .post("/api/v1/sessions/exit")
        .json(&json!({"session_token": by_body}))
        .fetch()
        .await;
    assert_exited(response).await;
    // `navigator.sendBeacon` sends a string body as text/plain.
    let response = app
        .post("/api/v1/sessions/exit")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(json!({"session_token": by_beacon}).to_string())
        .fetch()
        .await;
    assert_exited(response).await;
    let response = app
        .post("/api/v1/sessions/exit")
        .header("X-Session-ID", &by_header)
        .fetch()
        .await;
    assert_exited(response).await;
    for (token, id) in [by_query, by_body, by_beacon, by_header].iter().zip(&ids) {
        assert_shredded(&app, token, id).await;
    }
}

async fn only_post_exits(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/api/v1/sessions/exit")
        .refused(405, "method_not_allowed")
        .await;
}

on_both_backends!(
    exit_with_a_bearer_token_shreds_the_live_session,
    exit_takes_the_token_from_the_query_the_body_or_a_beacon,
    only_post_exits,
);
