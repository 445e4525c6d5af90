//! Sessions API: create, status, touch, refresh, delete; where the token is read from and in
//! which order; unknown, garbage and expired tokens; cascade on delete; the token never stored.

use crate::helpers::{
    Backend, TestApp, TestDatabase, build_application, spawn_app, spawn_with_session, test_settings,
};
use crate::on_both_backends;
use crate::support::{
    Fetch, assert_error, assert_keys, assert_none_in, contains_bytes, keys, parse_utc_time,
};
use actix_web::ResponseError;
use cbln::http::error::ApiError;
use cbln::http::live_session::LiveSession;
use cbln_actors::crypto::TokenHash;
use cbln_actors::error::PipelineError;
use cbln_actors::mailbox::AskError;
use cbln_actors::session::GetStatus;
use cbln_actors::session_registry::{CloseSession, EvictSessions, OpenSession};
use cbln_actors::system::ActorSystem;
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;

fn assert_token_shape(token: &str) {
    let body = token
        .strip_prefix("anon_")
        .unwrap_or_else(|| panic!("token must start with anon_: {token}"));
    assert!(body.len() >= 22, "at least 128 bits of token: {token}");
    assert!(
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "token must be URL-safe: {token}"
    );
}

/// A token that looks like ours but names no session.
fn unknown_token() -> String {
    format!("anon_{}", uuid::Uuid::new_v4().simple())
}

async fn create(app: &TestApp, body: Option<Value>) -> (u16, Value) {
    let mut request = app.post("/api/v1/sessions");
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.fetch_json().await
}

async fn get_status(app: &TestApp, token: &str) -> (u16, Value) {
    app.get(&format!("/api/v1/sessions/{token}"))
        .fetch_json()
        .await
}

async fn put_touch(app: &TestApp, token: &str) -> (u16, Value) {
    app.put(&format!("/api/v1/sessions/{token}"))
        .fetch_json()
        .await
}

/// A SQL literal for a session id on the app's backend (UUIDs are 16-byte blobs in SQLite).
fn id_literal(app: &TestApp, id: &str) -> String {
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    if app.database.pg_name.is_some() {
        format!("'{id}'")
    } else {
        format!("X'{}'", hex::encode(id.as_bytes()))
    }
}

/// Moves every session's expiry into the past, behind the API's back.
async fn create_answers_201_with_the_session_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = OffsetDateTime::now_utc();

    let (status, body) = create(&app, None).await;
    assert_eq!(status, 201, "{body}");
    assert_keys(&body, &["session"]);
    let session = &body["session"];
    assert_keys(
        session,
        &[
            "session_token",
            "expires_at",
            "language_preference",
            "is_crisis_mode",
        ],
    );
    let token = session["session_token"].as_str().expect("token");
    assert_token_shape(token);
    assert_eq!(session["language_preference"], "vi", "default language");
    assert_eq!(session["is_crisis_mode"], false);
    let expires_at = parse_utc_time(&session["expires_at"]);
    let thirty_days = time::Duration::days(30);
    let after = OffsetDateTime::now_utc();
    assert!(
        expires_at >= before + thirty_days - time::Duration::seconds(2)
            && expires_at <= after + thirty_days + time::Duration::seconds(2),
        "expires_at {expires_at} is about now + 30 days"
    );

    for (request, expected) in [
        (json!({"language_preference": "en"}), "en"),
        (json!({"language_preference": "vi"}), "vi"),
        (json!({}), "vi"),
        (json!({"language_preference": null}), "vi"),
    ] {
        let (status, body) = create(&app, Some(request.clone())).await;
        assert_eq!(status, 201, "{request} -> {body}");
        assert_eq!(
            body["session"]["language_preference"], expected,
            "{request}"
        );
        let other = body["session"]["session_token"].as_str().expect("token");
        assert_token_shape(other);
        assert_ne!(other, token, "every session gets its own token");
    }

    let (status, body) = create(&app, Some(json!({"language_preference": "fr"}))).await;
    assert_error(status, &body, 422, "validation_failed");
    assert_eq!(body["field"], "language_preference", "{body}");
    app.stop().await;
}

async fn status_reports_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, created) = create(&app, None).await;
    let token = created["session"]["session_token"].as_str().unwrap();

    let (status, body) = get_status(&app, token).await;
    assert_eq!(status, 200, "{body}");
    assert_keys(
        &body,
        &[
            "is_valid",
            "is_expired",
            "is_active",
            "is_crisis_mode",
            "risk",
            "created_at",
            "last_activity",
            "expires_at",
            "message_count",
        ],
    );
    assert_eq!(body["risk"], "none");
    assert_eq!(body["is_valid"], true);
    assert_eq!(body["is_expired"], false);
    assert_eq!(body["is_active"], true);
    assert_eq!(body["is_crisis_mode"], false);
    assert_eq!(body["message_count"], 0);
    assert_eq!(body["expires_at"], created["session"]["expires_at"]);
    let created_at = parse_utc_time(&body["created_at"]);
    let last_activity = parse_utc_time(&body["last_activity"]);
    let expires_at = parse_utc_time(&body["expires_at"]);
    assert!(last_activity >= created_at, "{body}");
    assert!(
        (expires_at - created_at - time::Duration::days(30)).abs() < time::Duration::seconds(2),
        "expiry is 30 days after creation: {body}"
    );
    let age = OffsetDateTime::now_utc() - created_at;
    assert!(
        age >= -time::Duration::seconds(2) && age < time::Duration::seconds(60),
        "created just now: {body}"
    );

    let (status, sent) = app.send_message(token, "hôm nay mình hơi buồn").await;
    assert_eq!(status, 201, "{sent}");
    let (status, body) = get_status(&app, token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message_count"], 2, "a message and its reply: {body}");
    app.stop().await;
}

async fn put_touches_last_activity(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let (_, before) = get_status(&app, &token).await;
    tokio::time::sleep(Duration::from_millis(30)).await;

    let (status, touched) = put_touch(&app, &token).await;
    assert_eq!(status, 200, "{touched}");
    assert_eq!(keys(&touched), keys(&before), "PUT answers the GET body");
    assert!(
        parse_utc_time(&touched["last_activity"]) > parse_utc_time(&before["last_activity"]),
        "last_activity moves: {before} -> {touched}"
    );
    assert_eq!(touched["created_at"], before["created_at"]);
    assert_eq!(touched["is_valid"], true);

    let (_, after) = get_status(&app, &token).await;
    assert_eq!(
        after["last_activity"], touched["last_activity"],
        "the touch is kept"
    );
    app.stop().await;
}

async fn delete_by_path_removes_the_session(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    // Make the session actor live (and cache the session) before deleting.
    let (status, _) = get_status(&app, &token).await;
    assert_eq!(status, 200);
    let (status, body) = app.send_message(&token, "xin chào").await;
    assert_eq!(status, 201, "{body}");

    let response = app.delete_session(&token).fetch().await;
    assert_eq!(response.status(), 204);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "204 has no body"
    );

    let (status, body) = get_status(&app, &token).await;
    assert_error(status, &body, 404, "session_not_found");
    let (status, body) = put_touch(&app, &token).await;
    assert_error(status, &body, 404, "session_not_found");
    let (status, body) = app.send_message(&token, "còn ai không?").await;
    assert_error(status, &body, 404, "session_not_found");
    let response = app.get_as("/api/v1/messages", &token).fetch().await;
    assert_eq!(response.status(), 404, "history of a deleted session");

    // Deleting twice: the second finds nothing.
    app.delete_session(&token)
        .refused(404, "session_not_found")
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    app.stop().await;
}

async fn delete_by_query_removes_the_session(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let keep = app.create_session().await;
    let (status, _) = get_status(&app, &token).await;
    assert_eq!(status, 200);

    let response = app
        .delete("/api/v1/sessions")
        .query(&[("session_token", token.as_str())])
        .fetch()
        .await;
    assert_eq!(response.status(), 204);

    let (status, body) = get_status(&app, &token).await;
    assert_error(status, &body, 404, "session_not_found");
    let (status, _) = get_status(&app, &keep).await;
    assert_eq!(status, 200, "only the named session is deleted");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    app.stop().await;
}

async fn refresh_extends_expiry(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, created) = create(&app, Some(json!({"language_preference": "en"}))).await;
    let token = created["session"]["session_token"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;

    let response = app
        .post("/api/v1/sessions/refresh")
        .query(&[("session_token", token)])
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(keys(&body), keys(&created), "{body}");
    assert_eq!(keys(&body["session"]), keys(&created["session"]), "{body}");
    assert_eq!(body["session"]["session_token"], token);
    assert_eq!(body["session"]["language_preference"], "en");
    assert_eq!(body["session"]["is_crisis_mode"], false);
    let old = parse_utc_time(&created["session"]["expires_at"]);
    let new = parse_utc_time(&body["session"]["expires_at"]);
    assert!(new > old, "expires_at extended: {old} -> {new}");
    let expected = OffsetDateTime::now_utc() + time::Duration::days(30);
    assert!(
        (new - expected).abs() < time::Duration::seconds(5),
        "now + 30 days"
    );

    let (_, status) = get_status(&app, token).await;
    assert_eq!(
        status["expires_at"], body["session"]["expires_at"],
        "the refresh is kept"
    );

    // The bearer form works too; an unknown token is 404.
    let response = app.post_as("/api/v1/sessions/refresh", token).fetch().await;
    assert_eq!(response.status(), 200);
    let (status, body) = app
        .post("/api/v1/sessions/refresh")
        .query(&[("session_token", unknown_token())])
        .fetch_json()
        .await;
    assert_error(status, &body, 404, "session_not_found");
    app.stop().await;
}

async fn token_is_read_from_each_place(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let id = app.session_id_of(&token).await;

    // Authorization: Bearer.
    let response = app
        .get("/api/v1/messages")
        .header("Authorization", format!("Bearer {token}"))
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["session_id"], id);

    // X-Session-ID.
    let response = app
        .get("/api/v1/messages")
        .header("X-Session-ID", &token)
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["session_id"], id);

    // The path.
    let (status, _) = get_status(&app, &token).await;
    assert_eq!(status, 200);

    // The query.
    let response = app
        .get("/api/v1/messages")
        .query(&[("session_token", token.as_str())])
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["session_id"], id);

    // The body field.
    let response = app
        .post("/api/v1/messages")
        .json(&json!({"content": "chào bạn", "session_token": token}))
        .fetch()
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.json::<Value>().await.unwrap()["user_message"]["session_id"],
        id
    );

    // Nowhere: 401 `session_required`, not a 500.
    app.get("/api/v1/messages")
        .refused(401, "session_required")
        .await;
    app.stop().await;
}

async fn token_places_have_a_precedence_order(backend: Backend) {
    let (app, a) = spawn_with_session(backend).await;
    let b = app.create_session().await;
    let c = app.create_session().await;
    let (id_a, id_b, id_c) = (
        app.session_id_of(&a).await,
        app.session_id_of(&b).await,
        app.session_id_of(&c).await,
    );

    let history_of = |bearer: Option<&str>, header: Option<&str>, query: Option<&str>| {
        let mut request = app.get("/api/v1/messages");
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        if let Some(header) = header {
            request = request.header("X-Session-ID", header);
        }
        if let Some(query) = query {
            request = request.query(&[("session_token", query)]);
        }
        async move {
            let response = request.fetch().await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };

    // Bearer before X-Session-ID before the query.
    let (status, body) = history_of(Some(&a), Some(&b), Some(&c)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session_id"], id_a, "bearer wins");
    let (status, body) = history_of(None, Some(&b), Some(&c)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session_id"], id_b, "X-Session-ID before the query");
    let (status, body) = history_of(None, None, Some(&c)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session_id"], id_c);

    // A valid bearer wins over garbage elsewhere; a garbage bearer is not skipped.
    let (status, body) = history_of(Some(&a), Some("abc"), Some("abc")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session_id"], id_a);
    let (status, body) = history_of(Some("abc"), Some(&b), Some(&c)).await;
    assert_error(status, &body, 401, "session_required");
    let (status, body) = history_of(None, Some(&unknown_token()), Some(&c)).await;
    assert_error(status, &body, 404, "session_not_found");

    // Headers before the path: message counts tell the sessions apart.
    let (status, body) = app.send_message(&a, "một tin nhắn cho A").await;
    assert_eq!(status, 201, "{body}");
    let response = app.get_as("/api/v1/sessions/abc", &a).fetch().await;
    assert_eq!(
        response.status(),
        200,
        "a valid bearer wins over a garbage path"
    );
    assert_eq!(response.json::<Value>().await.unwrap()["message_count"], 2);
    let response = app
        .get(&format!("/api/v1/sessions/{b}"))
        .header("X-Session-ID", &a)
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["message_count"],
        2,
        "X-Session-ID before the path"
    );
    // A non-bearer Authorization is ignored: the path is used.
    let response = app
        .get(&format!("/api/v1/sessions/{b}"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["message_count"], 0);

    // Headers before the body field.
    let response = app
        .post("/api/v1/messages")
        .header("X-Session-ID", &b)
        .json(&json!({"content": "ai nhận tin này?", "session_token": c}))
        .fetch()
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.json::<Value>().await.unwrap()["user_message"]["session_id"],
        id_b
    );
    app.stop().await;
}

/// A well-formed token that names no session is 404 wherever it comes from; garbage in the path
/// names no resource (404), and garbage where a credential goes is no credential (401).
async fn unknown_and_garbage_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let long_garbage = "x".repeat(2000);
    let unknown = unknown_token();
    let garbage = [
        "abc".to_string(),
        "anon_".to_string(),
        "anon_short".to_string(),
        long_garbage.clone(),
        format!("anon_{}", "a".repeat(300)),
        "anon_%E1%BB%87%E1%BB%87%E1%BB%87%E1%BB%87%E1%BB%87%E1%BB%87%E1%BB%87%E1%BB%87".to_string(),
    ];
    for token in std::iter::once(&unknown).chain(&garbage) {
        let (status, body) = get_status(&app, token).await;
        assert_error(status, &body, 404, "session_not_found");
        let (status, body) = put_touch(&app, token).await;
        assert_error(status, &body, 404, "session_not_found");
        app.delete_session(token)
            .refused(404, "session_not_found")
            .await;
    }
    let (status, body) = app.send_message(&unknown, "xin chào").await;
    assert_error(status, &body, 404, "session_not_found");
    for token in &garbage {
        let (status, body) = app.send_message(token, "xin chào").await;
        assert_error(status, &body, 401, "session_required");
    }
    app.get("/api/v1/messages")
        .query(&[("session_token", "abc")])
        .refused(401, "session_required")
        .await;
    app.get("/api/v1/messages")
        .header("X-Session-ID", "abc")
        .refused(401, "session_required")
        .await;
    app.get("/api/v1/messages")
        .header("X-Session-ID", &unknown)
        .refused(404, "session_not_found")
        .await;
    let (status, _) = get_status(&app, &app.create_session().await).await;
    assert_eq!(status, 200, "the server is still well");
    app.stop().await;
}

async fn expired_session_answers_401(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    app.expire_all_sessions().await;

    let (status, body) = get_status(&app, &token).await;
    assert_error(status, &body, 401, "session_expired");
    let (status, body) = put_touch(&app, &token).await;
    assert_error(status, &body, 401, "session_expired");
    let (status, body) = app.send_message(&token, "mình còn ở đây không?").await;
    assert_error(status, &body, 401, "session_expired");
    app.get_as("/api/v1/messages", &token)
        .refused(401, "session_expired")
        .await;
    let (status, body) = app
        .post("/api/v1/sessions/refresh")
        .query(&[("session_token", token.as_str())])
        .fetch_json()
        .await;
    assert_error(status, &body, 401, "session_expired");
    app.post_as("/api/v1/feedback", &token)
        .json(&json!({"rating": 5}))
        .refused(401, "session_expired")
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages").await,
        0,
        "nothing stored for an expired session"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback").await, 0);
    app.stop().await;
}

async fn delete_cascades_to_everything_of_the_session(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let other = app.create_session().await;
    for who in [&token, &other] {
        let (status, body) = app.send_message(who, "mình thấy cô đơn quá").await;
        assert_eq!(status, 201, "{body}");
        let response = app
            .post_as("/api/v1/feedback", who)
            .json(&json!({"rating": 4, "feedback_text": "cảm ơn bạn", "category": "helpful"}))
            .fetch()
            .await;
        assert_eq!(response.status(), 201);
    }
    let (status, sent) = app.send_message(&token, "cảm ơn").await;
    assert_eq!(status, 201, "{sent}");
    let id = sent["user_message"]["session_id"].as_str().unwrap();
    let literal = id_literal(&app, id);
    let tables = [
        ("sessions", "id"),
        ("messages", "session_id"),
        ("conversation_context", "session_id"),
        ("feedback", "session_id"),
        ("session_keys", "session_id"),
    ];
    for (table, column) in tables {
        let n = app
            .count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE {column} = {literal}"
            ))
            .await;
        assert!(n > 0, "{table} holds rows of the session before the delete");
    }

    let response = app.delete_session(&token).fetch().await;
    assert_eq!(response.status(), 204);

    for (table, column) in tables.into_iter().chain([("training_data", "session_id")]) {
        let n = app
            .count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE {column} = {literal}"
            ))
            .await;
        assert_eq!(n, 0, "{table} still holds rows of the deleted session");
    }
    // The other session is untouched.
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback").await, 1);
    assert_eq!(app.history(&other).await["total_count"], 2);
    app.stop().await;
}

async fn the_database_never_stores_the_token(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let (status, body) = app.send_message(&token, "một ngày mệt mỏi").await;
    assert_eq!(status, 201, "{body}");
    let response = app.put(&format!("/api/v1/sessions/{token}")).fetch().await;
    assert_eq!(response.status(), 200);
    let response = app
        .post("/api/v1/sessions/refresh")
        .query(&[("session_token", token.as_str())])
        .fetch()
        .await;
    assert_eq!(response.status(), 200);

    let bytes = app.database_bytes().await;
    assert!(!bytes.is_empty(), "the database has content");
    // Positive control: the search does find what is stored (the session id).
    let stored_id = app.stored_session_id(&token).await;
    assert!(
        contains_bytes(&bytes, &stored_id),
        "the search sees the stored session id"
    );
    let body = token.strip_prefix("anon_").unwrap();
    let needles = [
        token.as_bytes().to_vec(),
        body.as_bytes().to_vec(),
        hex::encode(token.as_bytes()).into_bytes(),
        hex::encode(body.as_bytes()).into_bytes(),
        hex::encode_upper(body.as_bytes()).into_bytes(),
    ];
    assert_none_in(&bytes, &needles, "the database holds the token");
    app.stop().await;
}

/// A new session (`POST /sessions` on the app at `address`), held by the front
/// door's handle, then stopped by `stop` (given its token's hash and id): the handle's actor is
/// checked to have stopped, which is the race the retry covers.
async fn held_then_stopped<F, Fut>(system: &ActorSystem, address: &str, stop: F) -> LiveSession
where
    F: FnOnce(TokenHash, uuid::Uuid) -> Fut,
    Fut: std::future::Future<Output = Result<(), PipelineError>>,
{
    let token = crate::processes::open_session(&reqwest::Client::new(), address).await;
    let token_hash = system.token_hasher.hash(&token);
    let raw = system
        .registry
        .ask(OpenSession { token_hash })
        .await
        .expect("actor started");
    let held = LiveSession::open(&system.registry, token_hash)
        .await
        .expect("session opened");
    stop(token_hash, held.session_id)
        .await
        .expect("the session's actor is stopped");
    let answer = raw.mailbox.ask(GetStatus).await;
    assert!(
        matches!(answer, Err(PipelineError::Ask(AskError::Stopped(_)))),
        "the held actor should have stopped ({:?})",
        answer.map(|_| ())
    );
    held
}

/// A request holds its session's actor from before the session was deleted (a `GET` racing a
/// `DELETE`): it is told the session is gone. One holding an actor the registry evicted (idle,
/// least recently used, deleted on another instance) is answered by a new actor.
async fn a_request_that_finds_its_actor_stopped_looks_the_session_up_again(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().expect("data dir");
    let application = build_application(test_settings(&database.url, data_dir.path())).await;
    let system = application.system();
    let server = application.handle();
    let address = format!("http://127.0.0.1:{}", application.port());
    let run = actix_web::rt::spawn(application.run_until_stopped());
    let stale = held_then_stopped(&system, &address, |token_hash, _| {
        system.registry.ask(CloseSession { token_hash })
    })
    .await;
    let error = stale
        .ask(GetStatus)
        .await
        .expect_err("a deleted session has no status");
    assert!(matches!(error, PipelineError::SessionNotFound), "{error:?}");
    let answer = ApiError::from(error);
    assert!(matches!(answer, ApiError::SessionNotFound), "{answer:?}");
    assert_eq!(answer.status_code().as_u16(), 404);

    let held = held_then_stopped(&system, &address, |_, id| {
        system.registry.ask(EvictSessions {
            ids: vec![id],
            announce: false,
        })
    })
    .await;
    let status = held
        .ask(GetStatus)
        .await
        .expect("a new actor answers for the evicted session");
    assert_eq!(status.message_count, 0);

    server.stop(true).await;
    let _ = run.await;
}

/// Many `GET`s of a session's status racing its `DELETE`: each is answered 200 (before) or 404
/// `session_not_found` (after), never 503.
async fn status_racing_delete_answers_200_or_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for _ in 0..25 {
        let token = app.create_session().await;
        let (status, body) = get_status(&app, &token).await;
        assert_eq!(status, 200, "the actor is live before the race: {body}");
        let path = format!("/api/v1/sessions/{token}");
        let gets = futures_util::future::join_all((0..6).map(|_| get_status(&app, &token)));
        let delete = app.delete(&path).fetch();
        let (answers, deleted) = futures_util::join!(gets, delete);
        assert_eq!(deleted.status(), 204);
        for (status, body) in answers {
            if status != 200 {
                assert_error(status, &body, 404, "session_not_found");
            }
        }
        let (status, body) = get_status(&app, &token).await;
        assert_error(status, &body, 404, "session_not_found");
    }
}

on_both_backends!(
    a_request_that_finds_its_actor_stopped_looks_the_session_up_again,
    status_racing_delete_answers_200_or_404,
    create_answers_201_with_the_session_shape,
    status_reports_every_field,
    put_touches_last_activity,
    delete_by_path_removes_the_session,
    delete_by_query_removes_the_session,
    refresh_extends_expiry,
    token_is_read_from_each_place,
    token_places_have_a_precedence_order,
    unknown_and_garbage_tokens_are_refused,
    expired_session_answers_401,
    delete_cascades_to_everything_of_the_session,
    the_database_never_stores_the_token,
);
