//! Errors and HTTP hygiene: JSON errors for every failure a client can cause, trailing slashes,
//! request ids, security headers and CORS on every response, errors included.

use crate::helpers::{Backend, TestApp, spawn_app, spawn_with_session};
use crate::on_both_backends;
use crate::support::{Fetch, header};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ALLOWED_ORIGIN: &str = "http://localhost:3000";

/// A client that never follows redirects, so a redirect shows as what it is.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn assert_hygiene_headers(response: &Response, what: &str) {
    let headers = response.headers();
    let request_id = headers
        .get("x-request-id")
        .unwrap_or_else(|| panic!("{what}: X-Request-ID missing"));
    assert!(!request_id.is_empty(), "{what}");
    assert_eq!(
        headers.get("x-content-type-options").map(|v| v.as_bytes()),
        Some(&b"nosniff"[..]),
        "{what}"
    );
    assert_eq!(
        headers.get("x-frame-options").map(|v| v.as_bytes()),
        Some(&b"DENY"[..]),
        "{what}"
    );
    assert_eq!(
        headers.get("referrer-policy").map(|v| v.as_bytes()),
        Some(&b"no-referrer"[..]),
        "{what}"
    );
}

/// Checks an error response completely and returns its body.
async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    let what = format!("{} {}", response.status(), response.url().path());
    assert_eq!(response.status().as_u16(), status, "{what}");
    assert_hygiene_headers(&response, &what);
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{what}: error bodies are JSON, got {content_type:?}"
    );
    let text = response.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: {text}"));
    assert_eq!(body["error"], code, "{what}: {body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: {body}"
    );
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let allowed: BTreeSet<&str> = if status == 422 {
        ["error", "detail", "field"].into()
    } else {
        ["error", "detail"].into()
    };
    assert!(
        keys.is_subset(&allowed),
        "{what}: unexpected keys in {body}"
    );
    let lower = text.to_lowercase();
    for leak in [
        "select ",
        "insert ",
        "sqlx",
        "sqlite",
        "postgres",
        "panicked",
        "backtrace",
        ".rs:",
        "src/",
        "stack",
    ] {
        assert!(!lower.contains(leak), "{what}: leaks {leak:?}: {text}");
    }
    body
}

async fn unknown_paths_are_json_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/v1/nope",
        "/nope",
        "/api/v2/sessions",
        "/api/v1/sessions/a/b",
        "/api/v1/messages/a/b",
        "/api/v1",
    ] {
        let response = app.get(path).fetch().await;
        assert_error(response, 404, "not_found").await;
    }
    let response = app.post("/api/v1/nope").json(&json!({})).fetch().await;
    assert_error(response, 404, "not_found").await;
    app.stop().await;
}

async fn wrong_methods_are_json_405(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let id = uuid::Uuid::new_v4();
    let cases = [
        (Method::PATCH, "/api/v1/sessions".to_string()),
        (Method::GET, "/api/v1/sessions".to_string()),
        (Method::PUT, "/api/v1/sessions".to_string()),
        (Method::POST, format!("/api/v1/sessions/{token}")),
        (Method::PATCH, format!("/api/v1/sessions/{token}")),
        (Method::GET, "/api/v1/sessions/refresh".to_string()),
        (Method::PUT, "/api/v1/messages".to_string()),
        (Method::POST, format!("/api/v1/messages/{id}")),
        (Method::GET, "/api/v1/feedback".to_string()),
        (Method::DELETE, "/health".to_string()),
        (Method::POST, "/".to_string()),
        (Method::POST, "/docs".to_string()),
        (Method::PUT, "/metrics".to_string()),
    ];
    for (method, path) in cases {
        let response = app.request(method.clone(), &path).fetch().await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert!(response.headers().contains_key("allow"), "{method} {path}");
        assert_error(response, 405, "method_not_allowed").await;
    }
    // The session was not touched by any of that.
    let response = app.get(&format!("/api/v1/sessions/{token}")).fetch().await;
    assert_eq!(response.status(), 200);
    app.stop().await;
}

/// The routes of the OpenAPI document and the documentation assets are routes too.
async fn documentation_routes_answer_405_to_wrong_methods(backend: Backend) {
    let app = spawn_app(backend).await;
    for (method, path) in [
        (Method::POST, "/openapi.json"),
        (Method::DELETE, "/openapi.json"),
        (Method::POST, "/docs/swagger-ui.css"),
    ] {
        let response = app.request(method.clone(), path).fetch().await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(
            response.headers().get("allow").map(|v| v.as_bytes()),
            Some(&b"GET"[..]),
            "{method} {path}"
        );
        assert_error(response, 405, "method_not_allowed").await;
    }
    app.stop().await;
}

/// POSTs raw bytes as JSON with a bearer token.
async fn post_json_bytes(app: &TestApp, token: &str, path: &str, body: &[u8]) -> Response {
    app.post_as(path, token)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .fetch()
        .await
}

async fn malformed_json_is_422(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    for malformed in [
        &b"{\"content\": "[..],
        b"{bad json}",
        b"[1, 2",
        b"\"unterminated",
        b"{\"content\": \"a\",}",
    ] {
        for path in ["/api/v1/messages", "/api/v1/sessions", "/api/v1/feedback"] {
            let response = post_json_bytes(&app, &token, path, malformed).await;
            let body = assert_error(response, 422, "validation_failed").await;
            assert_field_is_a_name(&body, path, malformed);
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    app.stop().await;
}

async fn json_followed_by_garbage_is_422(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    for body in [
        &b"{\"content\": \"a\"} trailing"[..],
        b"{\"content\": \"a\"}}",
        b"{\"content\": \"a\"}{\"content\": \"b\"}",
    ] {
        let response = post_json_bytes(&app, &token, "/api/v1/messages", body).await;
        assert_eq!(
            response.status(),
            422,
            "{:?} is not one JSON document",
            String::from_utf8_lossy(body)
        );
        assert_error(response, 422, "validation_failed").await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    app.stop().await;
}

async fn wrong_types_are_422_naming_the_field(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    for (path, body, field) in [
        ("/api/v1/messages", &b"{\"content\": 5}"[..], "content"),
        ("/api/v1/messages", b"{\"content\": {\"a\": 1}}", "content"),
        (
            "/api/v1/messages",
            b"{\"content\": \"hi\", \"session_token\": 7}",
            "session_token",
        ),
        ("/api/v1/feedback", b"{\"rating\": \"five\"}", "rating"),
        ("/api/v1/feedback", b"{\"rating\": true}", "rating"),
        (
            "/api/v1/sessions",
            b"{\"language_preference\": 3}",
            "language_preference",
        ),
    ] {
        let response = post_json_bytes(&app, &token, path, body).await;
        let body = assert_error(response, 422, "validation_failed").await;
        assert_eq!(body["field"], field, "{path}: {body}");
    }
    // A JSON value of the wrong shape at the top level is a 422, not a 500.
    for top in [&b"[]"[..], b"42", b"null", b"\"text\"", b"true"] {
        let response = post_json_bytes(&app, &token, "/api/v1/messages", top).await;
        assert_error(response, 422, "validation_failed").await;
    }

    // Invalid UTF-8 inside a JSON string: 422, not 500.
    let invalid = [
        b'{', b'"', b'c', b'o', b'n', b't', b'e', b'n', b't', b'"', b':', b'"', 0xff, 0xfe, 0xc3,
        b'"', b'}',
    ];
    for path in ["/api/v1/messages", "/api/v1/feedback", "/api/v1/sessions"] {
        let response = post_json_bytes(&app, &token, path, &invalid).await;
        assert_error(response, 422, "validation_failed").await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    app.stop().await;
}

/// A 422's `field` names a request field (API.md), never a parser position like `?` or `[0]`.
fn assert_field_is_a_name(body: &Value, path: &str, sent: &[u8]) {
    if let Some(field) = body.get("field") {
        let field = field.as_str().unwrap_or_default();
        assert!(
            !field.is_empty() && field.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{path} {:?}: field must be a field name, got {body}",
            String::from_utf8_lossy(sent)
        );
    }
}

async fn oversized_and_non_json_bodies(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    assert_eq!(
        app.settings.server.body_limit_bytes, 65536,
        "default limit 64 KiB"
    );

    let big = json!({"content": "a".repeat(70 * 1024)});
    let response = app
        .post_as("/api/v1/messages", &token)
        .json(&big)
        .fetch()
        .await;
    assert_error(response, 413, "payload_too_large").await;
    let response = app.post("/api/v1/sessions").json(&big).fetch().await;
    assert_error(response, 413, "payload_too_large").await;
    let response = app
        .post_as("/api/v1/feedback", &token)
        .json(&json!({"rating": 3, "feedback_text": "ệ".repeat(30_000)}))
        .fetch()
        .await;
    assert_error(response, 413, "payload_too_large").await;

    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = app
            .post_as("/api/v1/messages", &token)
            .body(r#"{"content": "xin chào"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.fetch().await;
        assert_error(response, 415, "unsupported_media_type").await;
    }
    // JSON with a charset parameter is still JSON.
    let response = app
        .post_as("/api/v1/messages", &token)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"content": "xin chào"}"#)
        .fetch()
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);
    app.stop().await;
}

async fn trailing_slash_works_on_every_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = no_redirects();
    let response = client
        .post(app.url("/api/v1/sessions/"))
        .json(&json!({"language_preference": "en"}))
        .fetch()
        .await;
    assert_eq!(response.status(), 201, "POST /api/v1/sessions/");
    let token = response.json::<Value>().await.unwrap()["session"]["session_token"]
        .as_str()
        .unwrap()
        .to_string();

    let check = |method: Method, path: String, body: Option<Value>, expected: u16| {
        let mut request = client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.fetch().await;
            assert_eq!(
                response.status().as_u16(),
                expected,
                "{method} {path} (no redirect)"
            );
            response.json::<Value>().await.unwrap_or(Value::Null)
        }
    };

    for path in [
        "/health/",
        "/api/v1/health/",
        "/health/live/",
        "/health/ready/",
        "/metrics/",
        "/openapi.json/",
        "/docs/",
    ] {
        check(Method::GET, path.to_string(), None, 200).await;
    }
    let sent = check(
        Method::POST,
        "/api/v1/messages/".into(),
        Some(json!({"content": "một"})),
        201,
    )
    .await;
    let id = sent["user_message"]["id"].as_str().unwrap().to_string();
    check(Method::GET, "/api/v1/messages/".into(), None, 200).await;
    check(Method::GET, format!("/api/v1/messages/{id}/"), None, 200).await;
    check(Method::DELETE, format!("/api/v1/messages/{id}/"), None, 200).await;
    check(Method::DELETE, "/api/v1/messages/".into(), None, 204).await;
    check(Method::GET, format!("/api/v1/sessions/{token}/"), None, 200).await;
    check(Method::PUT, format!("/api/v1/sessions/{token}/"), None, 200).await;
    check(
        Method::POST,
        format!("/api/v1/sessions/refresh/?session_token={token}"),
        None,
        200,
    )
    .await;
    check(
        Method::POST,
        "/api/v1/feedback/".into(),
        Some(json!({"rating": 4})),
        201,
    )
    .await;
    check(
        Method::DELETE,
        format!("/api/v1/sessions/{token}/"),
        None,
        204,
    )
    .await;

    let response = client.post(app.url("/api/v1/sessions/")).fetch().await;
    assert_eq!(response.status(), 201);
    let other = response.json::<Value>().await.unwrap()["session"]["session_token"]
        .as_str()
        .unwrap()
        .to_string();
    let response = client
        .delete(app.url(&format!("/api/v1/sessions/?session_token={other}")))
        .fetch()
        .await;
    assert_eq!(
        response.status(),
        204,
        "DELETE /api/v1/sessions/?session_token="
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    app.stop().await;
}

async fn request_id_and_security_headers_on_every_response(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;

    // Generated when absent: a fresh UUID each time.
    let mut seen = BTreeSet::new();
    for path in ["/health", "/api/v1/nope"] {
        for _ in 0..2 {
            let response = app.get(path).fetch().await;
            assert_hygiene_headers(&response, path);
            let id = response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_string();
            uuid::Uuid::parse_str(&id).expect("a generated request id is a UUID");
            assert!(seen.insert(id), "request ids are fresh");
        }
    }

    // Echoed when sent, on successes and on errors alike.
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/health".into(), None),
        (Method::GET, "/".into(), None),
        (Method::POST, "/api/v1/sessions".into(), None),
        (Method::GET, format!("/api/v1/sessions/{token}"), None),
        (Method::GET, "/api/v1/nope".into(), None),
        (Method::PATCH, "/api/v1/sessions".into(), None),
        (
            Method::POST,
            "/api/v1/messages".into(),
            Some(json!({"content": ""})),
        ),
        (Method::GET, "/api/v1/sessions/abc".into(), None),
        (Method::GET, "/docs".into(), None),
        (Method::GET, "/openapi.json".into(), None),
    ];
    for (i, (method, path, body)) in cases.into_iter().enumerate() {
        let sent_id = format!("client-req-{i}.abc_DEF:1");
        let mut request = app
            .request(method.clone(), &path)
            .bearer_auth(&token)
            .header("x-request-id", &sent_id);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.fetch().await;
        let what = format!("{method} {path} -> {}", response.status());
        assert_hygiene_headers(&response, &what);
        assert_eq!(
            response.headers()["x-request-id"].to_str().unwrap(),
            sent_id,
            "{what}: the client's request id is echoed"
        );
    }

    // 413 and 415 carry them too.
    let response = app
        .post_as("/api/v1/messages", &token)
        .header("x-request-id", "big-one")
        .json(&json!({"content": "a".repeat(70 * 1024)}))
        .fetch()
        .await;
    assert_eq!(response.headers()["x-request-id"], "big-one");
    assert_error(response, 413, "payload_too_large").await;
    let response = app
        .post_as("/api/v1/messages", &token)
        .header("content-type", "text/plain")
        .body("xin chào")
        .fetch()
        .await;
    assert_error(response, 415, "unsupported_media_type").await;

    // A request id that cannot be logged safely is replaced, not echoed.
    let response = app
        .get("/health")
        .header("x-request-id", "bad id with spaces\t<script>")
        .fetch()
        .await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "replaced by a UUID: {id}"
    );
    app.stop().await;
}

fn allow_origin(response: &Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

/// Sends `request` as the allowed web client's page would: with its `Origin`.
async fn from_allowed_origin(request: RequestBuilder) -> Response {
    request.header("origin", ALLOWED_ORIGIN).fetch().await
}

async fn cors_on_successes_errors_and_preflight(backend: Backend) {
    let app = spawn_app(backend).await;
    assert!(
        app.settings
            .server
            .cors_origins
            .contains(&ALLOWED_ORIGIN.to_string()),
        "the default origins include the local web client"
    );
    let token = app.create_session().await;

    let response = from_allowed_origin(app.get("/health")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(allow_origin(&response).as_deref(), Some(ALLOWED_ORIGIN));

    let response = from_allowed_origin(app.post("/api/v1/sessions")).await;
    assert_eq!(response.status(), 201);
    assert_eq!(allow_origin(&response).as_deref(), Some(ALLOWED_ORIGIN));

    // Errors carry CORS headers too, or the browser hides the error from the client.
    for (method, path) in [
        (Method::GET, "/api/v1/sessions/abc".to_string()),
        (Method::GET, "/api/v1/nope".to_string()),
        (Method::PATCH, "/api/v1/sessions".to_string()),
        (Method::GET, "/api/v1/messages?limit=0".to_string()),
    ] {
        let response = from_allowed_origin(app.request(method.clone(), &path)).await;
        assert!(
            response.status().is_client_error(),
            "{method} {path} -> {}",
            response.status()
        );
        assert_eq!(
            allow_origin(&response).as_deref(),
            Some(ALLOWED_ORIGIN),
            "{method} {path} -> {}",
            response.status()
        );
        assert_hygiene_headers(&response, &path);
    }

    let blank = app
        .post_as("/api/v1/messages", &token)
        .json(&json!({"content": "   "}));
    let response = from_allowed_origin(blank).await;
    assert_eq!(response.status(), 422);
    assert_eq!(allow_origin(&response).as_deref(), Some(ALLOWED_ORIGIN));

    // Preflight.
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/messages")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization, x-session-id",
        );
    let response = from_allowed_origin(preflight).await;
    assert!(
        response.status().is_success(),
        "preflight: {}",
        response.status()
    );
    assert_eq!(allow_origin(&response).as_deref(), Some(ALLOWED_ORIGIN));
    let methods = response
        .headers()
        .get("access-control-allow-methods")
        .map(|v| v.to_str().unwrap().to_uppercase())
        .unwrap_or_default();
    assert!(methods.contains("POST"), "allow-methods: {methods}");
    let headers = response
        .headers()
        .get("access-control-allow-headers")
        .map(|v| v.to_str().unwrap().to_lowercase())
        .unwrap_or_default();
    for header in ["content-type", "authorization", "x-session-id"] {
        assert!(headers.contains(header), "allow-headers: {headers}");
    }

    // An origin not in the list gets no allow-origin header (and no 500).
    let response = app
        .get("/health")
        .header("origin", "http://evil.example")
        .fetch()
        .await;
    assert!(response.status().as_u16() < 500, "{}", response.status());
    assert_eq!(allow_origin(&response), None);
    let response = app
        .request(Method::OPTIONS, "/api/v1/messages")
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .fetch()
        .await;
    assert!(response.status().as_u16() < 500, "{}", response.status());
    assert_eq!(allow_origin(&response), None);
    app.stop().await;
}

/// Shared by the tests above: a quick sanity check that the app is still healthy afterwards.
async fn still_healthy(app: &TestApp) {
    let response = app.get("/health").fetch().await;
    assert_eq!(response.status(), 200);
}

async fn nothing_a_client_sends_is_a_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let weird_queries = [
        "/api/v1/messages?limit=%zz",
        "/api/v1/messages?session_token=%ff%fe",
        "/api/v1/messages?limit=1&limit=x",
        "/api/v1/messages?&&&=",
        "/api/v1/sessions/refresh?session_token=",
    ];
    for path in weird_queries {
        let response = app
            .client
            .request(
                if path.contains("refresh") {
                    Method::POST
                } else {
                    Method::GET
                },
                app.url(path),
            )
            .fetch()
            .await;
        let status = response.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{path}: a client error, got {status}"
        );
        assert_error(response, status, response_code(status)).await;
    }
    let response = app
        .post("/api/v1/messages")
        .header("authorization", "Bearer")
        .json(&json!({"content": "x"}))
        .fetch()
        .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let response = app
        .get("/api/v1/messages")
        .header(
            "x-session-id",
            reqwest::header::HeaderValue::from_bytes(b"anon_\xff\xfe").unwrap(),
        )
        .fetch()
        .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    still_healthy(&app).await;
    app.stop().await;
}

fn response_code(status: u16) -> &'static str {
    match status {
        401 => "session_required",
        404 => "session_not_found",
        422 => "validation_failed",
        _ => "unexpected",
    }
}

on_both_backends!(
    unknown_paths_are_json_404,
    wrong_methods_are_json_405,
    documentation_routes_answer_405_to_wrong_methods,
    malformed_json_is_422,
    json_followed_by_garbage_is_422,
    wrong_types_are_422_naming_the_field,
    oversized_and_non_json_bodies,
    trailing_slash_works_on_every_route,
    request_id_and_security_headers_on_every_response,
    cors_on_successes_errors_and_preflight,
    nothing_a_client_sends_is_a_500,
);

/// A 422 names the field and what was expected, but never repeats the value sent: that value
/// can be something a person wrote.
async fn validation_errors_never_echo_what_was_sent(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let secret = "điều riêng tư của mình 7f3a";
    for (path, body) in [
        ("/api/v1/feedback", serde_json::json!({"rating": secret})),
        (
            "/api/v1/feedback",
            serde_json::json!({"rating": 3, "category": secret}),
        ),
        ("/api/v1/messages", serde_json::json!({"content": [secret]})),
        (
            "/api/v1/sessions",
            serde_json::json!({"language_preference": secret}),
        ),
    ] {
        let bytes = serde_json::to_vec(&body).unwrap();
        let response = post_json_bytes(&app, &token, path, &bytes).await;
        let text = response.text().await.unwrap();
        assert!(text.contains("validation_failed"), "{path}: {text}");
        assert!(
            !text.contains("riêng tư") && !text.contains("7f3a"),
            "{path} echoed the value: {text}"
        );
    }
    app.stop().await;
}

on_both_backends!(validation_errors_never_echo_what_was_sent);
