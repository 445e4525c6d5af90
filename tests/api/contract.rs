//! The OpenAPI document as a contract: what it declares (an error body on every error response,
//! security on every token-taking operation, the bounds the handlers enforce, the event streams),
//! and that the server behaves as declared (401 without a token, `Allow` on every 405, the bodies
//! it calls valid accepted). `schemathesis` checks the same at scale (see the README).

use crate::helpers::{Backend, TestApp, spawn_app, spawn_with_session};
use crate::on_both_backends;
use crate::support::{Fetch, assert_error, strings_in};
use cbln::http::feedback::MAX_FEEDBACK_CHARS;
use cbln::http::handoff::person::{MAX_NOTE_CHARS, MAX_SHARED_MESSAGES};
use cbln::http::idempotency::MAX_KEY_LEN;
use cbln::http::messages::{MAX_HISTORY_PAGE, MAX_MESSAGE_CHARS};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// The probes answer 503 with their own report (what a load balancer reads), not an error body.
const PROBE_ANSWERS: [(&str, &str, &str); 2] =
    [("/health", "get", "503"), ("/health/ready", "get", "503")];

async fn document(app: &TestApp) -> Value {
    let (status, document) = app.get("/openapi.json").fetch_json().await;
    assert_eq!(status, 200);
    document
}

/// The document as a running server serves it.
async fn served_document() -> Value {
    let app = spawn_app(Backend::Sqlite).await;
    let document = document(&app).await;
    app.stop().await;
    document
}

/// Every operation as (path, method, operation).
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let paths = document["paths"].as_object().expect("paths");
    let mut found = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((path.clone(), method.to_string(), operation.clone()));
            }
        }
    }
    assert!(found.len() >= 19, "{found:?}");
    found
}

/// Follows a `$ref` inside the document.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} resolves"))
        }
        None => value,
    }
}

fn operation<'a>(document: &'a Value, path: &str, method: &str) -> &'a Value {
    let operation = &document["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is documented");
    operation
}

fn parameter<'a>(document: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    operation(document, path, method)["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{method} {path} declares {name}"))
}

/// The schema of a property of a request body (through references).
fn body_property<'a>(document: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    let body = resolve(document, &operation(document, path, method)["requestBody"]);
    let schema = resolve(document, &body["content"]["application/json"]["schema"]);
    let property = &schema["properties"][name];
    assert!(property.is_object(), "{method} {path}: {name} in {schema}");
    property
}

/// The type names of a schema (`"type": "string"` or `"type": ["string", "null"]`).
fn types(schema: &Value) -> BTreeSet<String> {
    match &schema["type"] {
        Value::String(name) => [name.clone()].into(),
        Value::Array(names) => names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect(),
        _ => BTreeSet::new(),
    }
}

#[actix_web::test]
async fn every_error_response_has_the_error_body() {
    let document = served_document().await;
    let error_body = &document["components"]["schemas"]["ErrorBody"];
    let required: BTreeSet<&str> = strings_in(&error_body["required"]).into_iter().collect();
    assert_eq!(required, ["detail", "error"].into(), "{error_body}");
    let codes = resolve(&document, &error_body["properties"]["error"]);
    for code in ["session_required", "method_not_allowed", "rate_limited"] {
        assert!(
            codes["enum"]
                .as_array()
                .expect("codes")
                .contains(&json!(code)),
            "{codes}"
        );
    }
    let mut checked = 0;
    let operations = operations(&document);
    for (path, method, operation) in &operations {
        let (path, method) = (path.as_str(), method.as_str());
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses {
            let code: u16 = status.parse().expect("a numeric status");
            if code < 400 || PROBE_ANSWERS.contains(&(path, method, status.as_str())) {
                continue;
            }
            let what = format!("{method} {path} {status}");
            assert!(
                response["$ref"].is_string(),
                "{what}: a shared error response"
            );
            let response = resolve(&document, response);
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{what}"
            );
            if matches!(code, 429 | 503 | 409) {
                assert!(
                    response["headers"]["Retry-After"]["schema"]["type"] == "integer",
                    "{what}: Retry-After"
                );
            }
            checked += 1;
        }
        let has = |status: &str| responses.contains_key(status);
        for status in ["414", "429", "500"] {
            assert!(has(status), "{method} {path} documents {status}");
        }
        if path.starts_with("/api/") {
            assert!(has("503"), "{method} {path}: the database gate's 503");
        }
        if operation["requestBody"].is_object() {
            assert!(has("408"), "{method} {path}: the body deadline's 408");
        }
        assert_token_and_body_errors(path, method, operation);
    }
    // At least the three every operation has (414, 429, 500).
    assert!(
        checked > 3 * operations.len(),
        "{checked} error responses checked"
    );
}

/// The errors a token or a body brings, by what the operation takes: quick exit answers 200
/// whatever came, so it documents none of them; a session token that is missing or expired is a
/// 401 and one naming no session a 404, and where it may come in the query a query that does not
/// parse is a 422; a staff token has its own 401; an operation that takes no token has no 401 but
/// the sign-in's own; a JSON body may be too large (413), of another type (415) or invalid (422).
fn assert_token_and_body_errors(path: &str, method: &str, operation: &Value) {
    let what = format!("{method} {path}");
    let responses = &operation["responses"];
    let refers_to = |status: &str| responses[status]["$ref"].as_str().map(str::to_string);
    let response = |name: &str| Some(format!("#/components/responses/{name}"));
    if path == "/api/v1/sessions/exit" {
        for status in ["401", "404", "413", "415", "422"] {
            assert!(
                responses.get(status).is_none(),
                "{what} never refuses, yet documents {status}"
            );
        }
        return;
    }
    let requirements = operation["security"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let takes = |scheme: &str| requirements.iter().any(|r| r.get(scheme).is_some());
    let token_optional = requirements.iter().any(|r| r == &json!({}));
    if takes("bearer") {
        assert_eq!(refers_to("401"), response("Unauthorized"), "{what}");
        assert_eq!(refers_to("404"), response("NotFound"), "{what}");
        if takes("session_token") && !token_optional {
            assert_eq!(
                refers_to("422"),
                response("ValidationFailed"),
                "{what}: the query"
            );
        }
    } else if takes("staff_token") {
        assert_eq!(refers_to("401"), response("StaffUnauthorized"), "{what}");
    } else if path == "/api/v1/staff/login" {
        assert_eq!(refers_to("401"), response("InvalidCredentials"), "{what}");
    } else {
        assert!(
            responses.get("401").is_none(),
            "{what} takes no token, yet documents 401"
        );
    }
    if operation["requestBody"]["content"]["application/json"].is_object() {
        for (status, name) in [
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "ValidationFailed"),
        ] {
            assert_eq!(
                refers_to(status),
                response(name),
                "{what} documents {status}"
            );
        }
    }
}

#[actix_web::test]
async fn token_taking_operations_declare_their_security() {
    let document = served_document().await;
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session_id"]["type"], "apiKey");
    assert_eq!(schemes["session_id"]["in"], "header");
    assert_eq!(schemes["session_id"]["name"], "X-Session-ID");
    assert_eq!(schemes["session_token"]["type"], "apiKey");
    assert_eq!(schemes["session_token"]["in"], "query");
    assert_eq!(schemes["session_token"]["name"], "session_token");
    assert_eq!(schemes["staff_token"]["type"], "http");
    assert_eq!(schemes["staff_token"]["scheme"], "bearer");

    // Where a header is not needed `{}` says so: quick exit never fails, the path carries the
    // token, or the body's `session_token` field may carry it.
    let optional = [
        ("/api/v1/messages", "post"),
        ("/api/v1/feedback", "post"),
        ("/api/v1/handoff", "post"),
        ("/api/v1/sessions/exit", "post"),
        ("/api/v1/sessions/{token}", "get"),
        ("/api/v1/sessions/{token}", "put"),
        ("/api/v1/sessions/{token}", "delete"),
    ];
    let (mut checked, mut staff_checked) = (0, 0);
    for (path, method, operation) in operations(&document) {
        let what = format!("{method} {path}");
        let public = !path.starts_with("/api/")
            || (path == "/api/v1/sessions" && method == "post")
            || (path == "/api/v1/staff/login" && method == "post");
        if public {
            assert!(operation.get("security").is_none(), "{what} is public");
            continue;
        }
        let requirements = operation["security"].as_array().expect("security");
        // A staff route takes the staff token and nothing else; it is never a session token.
        if path.starts_with("/api/v1/staff/") {
            assert_eq!(requirements, &vec![json!({"staff_token": []})], "{what}");
            assert_eq!(
                operation["responses"]["401"]["$ref"], "#/components/responses/StaffUnauthorized",
                "{what}"
            );
            staff_checked += 1;
            continue;
        }
        let names: BTreeSet<&str> = requirements
            .iter()
            .flat_map(|r| r.as_object().expect("a requirement").keys())
            .map(String::as_str)
            .collect();
        assert!(names.contains("bearer"), "{what}: {names:?}");
        assert!(names.contains("session_id"), "{what}: {names:?}");
        for name in &names {
            assert!(schemes[name].is_object(), "{what}: {name} is defined");
        }
        let anonymous_allowed = requirements.iter().any(|r| r == &json!({}));
        assert_eq!(
            anonymous_allowed,
            optional.contains(&(path.as_str(), method.as_str())),
            "{what}"
        );
        if path != "/api/v1/sessions/exit" {
            assert_eq!(
                operation["responses"]["401"]["$ref"], "#/components/responses/Unauthorized",
                "{what} documents 401"
            );
        }
        checked += 1;
    }
    // 13 session routes and 4 handoff routes; 10 staff routes besides the sign-in.
    assert_eq!((checked, staff_checked), (17, 10));
    let login = operation(&document, "/api/v1/staff/login", "post");
    assert_eq!(
        login["responses"]["401"]["$ref"],
        "#/components/responses/InvalidCredentials"
    );
}

#[actix_web::test]
async fn the_bounds_the_handlers_enforce_are_declared() {
    let document = served_document().await;
    let limit = parameter(&document, "/api/v1/messages", "get", "limit");
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(1), &json!(MAX_HISTORY_PAGE))
    );
    let offset = parameter(&document, "/api/v1/messages", "get", "offset");
    assert_eq!(
        (&offset["minimum"], &offset["maximum"]),
        (&json!(0), &json!(i64::MAX))
    );
    let resume = parameter(&document, "/api/v1/events", "get", "Last-Event-ID");
    assert_eq!(
        (&resume["minimum"], &resume["maximum"]),
        (&json!(0), &json!(u64::MAX))
    );
    let rating = body_property(&document, "/api/v1/feedback", "post", "rating");
    assert!(types(rating).contains("integer"), "{rating}");
    assert_eq!(
        (&rating["minimum"], &rating["maximum"]),
        (&json!(1), &json!(5))
    );
    let text = body_property(&document, "/api/v1/feedback", "post", "feedback_text");
    assert_eq!(text["maxLength"], MAX_FEEDBACK_CHARS);
    let content = body_property(&document, "/api/v1/messages", "post", "content");
    assert_eq!(
        (&content["minLength"], &content["maxLength"]),
        (&json!(1), &json!(MAX_MESSAGE_CHARS))
    );
    // Not all whitespace: a character outside what `str::trim` removes.
    assert!(
        content["pattern"]
            .as_str()
            .is_some_and(|p| p.starts_with("[^") && p.contains("\\u3000")),
        "{content}"
    );
    for path in ["/api/v1/sessions", "/api/v1/messages", "/api/v1/feedback"] {
        let key = parameter(&document, path, "post", "Idempotency-Key");
        assert_eq!(
            (&key["minLength"], &key["maxLength"], &key["pattern"]),
            (&json!(1), &json!(MAX_KEY_LEN), &json!("^[!-~]+$")),
            "{path}"
        );
    }
    // A new session's body may be absent, `null` or `{}`.
    let create = operation(&document, "/api/v1/sessions", "post");
    assert_ne!(create["requestBody"]["required"], true, "{create}");
    let schema = &create["requestBody"]["content"]["application/json"]["schema"];
    assert!(
        schema.to_string().contains("null"),
        "null is declared: {schema}"
    );
}

/// `POST /api/v1/handoff` takes one shape per choice, each closed, with the handler's bounds: a
/// client generator knows `selected` needs 1-50 message ids and `summary` its note.
#[actix_web::test]
async fn a_handoff_request_is_one_shape_per_choice() {
    let document = served_document().await;
    let create = operation(&document, "/api/v1/handoff", "post");
    let schema = resolve(
        &document,
        &create["requestBody"]["content"]["application/json"]["schema"],
    );
    let variants = schema["oneOf"].as_array().expect("oneOf");
    let by_share = |share: &str| {
        variants
            .iter()
            .map(|v| resolve(&document, v))
            .find(|v| v["properties"]["share"]["enum"] == json!([share]))
            .unwrap_or_else(|| panic!("a {share} shape in {schema}"))
    };
    for variant in variants {
        assert_eq!(
            resolve(&document, variant)["additionalProperties"],
            false,
            "{variant}"
        );
    }
    let selected = by_share("selected");
    assert!(selected["required"].to_string().contains("message_ids"));
    let ids = &selected["properties"]["message_ids"];
    assert_eq!(
        (&ids["minItems"], &ids["maxItems"], &ids["items"]["format"]),
        (&json!(1), &json!(MAX_SHARED_MESSAGES), &json!("uuid"))
    );
    let summary = by_share("summary");
    assert!(summary["required"].to_string().contains("note"));
    assert_eq!(summary["properties"]["note"]["maxLength"], MAX_NOTE_CHARS);
    assert!(by_share("none")["properties"]["message_ids"].is_null());
}

#[actix_web::test]
async fn event_streams_are_described() {
    let document = served_document().await;
    for (path, method, events) in [
        (
            "/api/v1/events",
            "get",
            ["message.created", "session.updated", "session.ended"],
        ),
        (
            "/api/v1/messages",
            "post",
            ["message.accepted", "reply.delta", "reply.completed"],
        ),
    ] {
        let ok = &operation(&document, path, method)["responses"]["200"];
        assert!(
            ok["content"]["text/event-stream"].is_object(),
            "{method} {path}: {ok}"
        );
        let description = ok["description"].as_str().unwrap_or_default();
        for event in events {
            assert!(description.contains(event), "{method} {path}: {event}");
        }
    }
}

/// Each token-taking route answers 401 `session_required` without a token, and with something
/// where a credential goes that cannot be one; not 422.
async fn no_token_is_401_session_required(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = uuid::Uuid::new_v4();
    let requests = || {
        [
            app.get("/api/v1/messages"),
            app.delete("/api/v1/messages"),
            app.get(&format!("/api/v1/messages/{id}")),
            app.delete(&format!("/api/v1/messages/{id}")),
            app.get("/api/v1/events"),
            app.delete("/api/v1/sessions"),
            app.post("/api/v1/sessions/refresh"),
            app.post("/api/v1/messages")
                .json(&json!({"content": "chào"})),
            app.post("/api/v1/feedback").json(&json!({"rating": 4})),
            app.post("/api/v1/handoff").json(&json!({"share": "none"})),
            app.get("/api/v1/handoff"),
            app.delete("/api/v1/handoff"),
            app.get("/api/v1/handoff/summary-draft"),
        ]
    };
    for request in requests() {
        let (status, body) = request.fetch_json().await;
        assert_error(status, &body, 401, "session_required");
    }
    for request in requests() {
        let (status, body) = request
            .bearer_auth("SCHEMATHESIS-INVALID-VALUE")
            .fetch_json()
            .await;
        assert_error(status, &body, 401, "session_required");
    }
    for request in requests() {
        let (status, body) = request.header("X-Session-ID", "").fetch_json().await;
        assert_error(status, &body, 401, "session_required");
    }
    app.stop().await;
}

/// Each staff route answers 401 `staff_token_required` without a bearer token, and 401
/// `staff_token_invalid` with one that is not a staff token: a session token included.
async fn staff_routes_without_a_staff_token_are_401(backend: Backend) {
    let (app, session_token) = spawn_with_session(backend).await;
    let id = uuid::Uuid::new_v4();
    let requests = || {
        [
            app.post("/api/v1/staff/logout"),
            app.get("/api/v1/staff/opening-hours"),
            app.put("/api/v1/staff/opening-hours")
                .json(&json!({"opening_hours": []})),
            app.get("/api/v1/staff/queue"),
            app.get("/api/v1/staff/stats"),
            app.get("/api/v1/staff/events"),
            app.post(&format!("/api/v1/staff/handoffs/{id}/claim")),
            app.get(&format!("/api/v1/staff/handoffs/{id}/messages")),
            app.post(&format!("/api/v1/staff/handoffs/{id}/messages"))
                .json(&json!({"content": "chào"})),
            app.post(&format!("/api/v1/staff/handoffs/{id}/close"))
                .json(&json!({"outcome": "resolved"})),
        ]
    };
    for request in requests() {
        let (status, body) = request.fetch_json().await;
        assert_error(status, &body, 401, "staff_token_required");
    }
    for token in ["SCHEMATHESIS-INVALID-VALUE", session_token.as_str()] {
        for request in requests() {
            let (status, body) = request.bearer_auth(token).fetch_json().await;
            assert_error(status, &body, 401, "staff_token_invalid");
        }
    }
    app.stop().await;
}

/// Every documented path answers each method it does not take with 405 and an `Allow` header
/// naming exactly the methods the document lists for it.
async fn every_405_carries_allow(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let document = document(&app).await;
    let paths = document["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (template, item) in paths {
        let path = template
            .replace("{token}", &token)
            .replace("{id}", &uuid::Uuid::new_v4().to_string());
        let documented: BTreeSet<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        for method in ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "TRACE"] {
            if documented.contains(method) {
                continue;
            }
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let response = app.request(method.clone(), &path).fetch().await;
            assert_eq!(response.status(), 405, "{method} {path}");
            let allow: BTreeSet<String> = response
                .headers()
                .get("allow")
                .unwrap_or_else(|| panic!("{method} {path}: Allow"))
                .to_str()
                .expect("ascii")
                .split(',')
                .map(|m| m.trim().to_string())
                .collect();
            assert_eq!(allow, documented, "{method} {path}");
            if method != Method::HEAD {
                let (status, body) = (405, response.json::<Value>().await.expect("json"));
                assert_error(status, &body, 405, "method_not_allowed");
            }
            checked += 1;
        }
    }
    assert!(checked >= 70, "{checked}");
    app.stop().await;
}

/// `POST path` with `body` sent as JSON, as it is.
async fn post_json(app: &TestApp, path: &str, body: &'static str) -> (u16, Value) {
    app.post(path)
        .header("content-type", "application/json")
        .body(body)
        .fetch_json()
        .await
}

/// The bodies the document calls valid for a new session are all taken.
async fn bodies_declared_valid_are_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    for (body, language) in [
        ("null", "vi"),
        ("{}", "vi"),
        ("", "vi"),
        ("  ", "vi"),
        (r#"{"language_preference": null}"#, "vi"),
        (r#"{"language_preference": "en", "extra": 1}"#, "en"),
    ] {
        let (status, answer) = post_json(&app, "/api/v1/sessions", body).await;
        assert_eq!(status, 201, "{body:?}: {answer}");
        assert_eq!(
            answer["session"]["language_preference"], language,
            "{body:?}"
        );
    }
    // What the document does not allow is refused, arrays of the fields included.
    for body in [
        "[]",
        r#"["en"]"#,
        "3",
        r#""vi""#,
        r#"{"language_preference": "fr"}"#,
    ] {
        let (status, answer) = post_json(&app, "/api/v1/sessions", body).await;
        assert_error(status, &answer, 422, "validation_failed");
    }
    let (status, answer) = post_json(&app, "/api/v1/sessions/exit", "null").await;
    assert_eq!((status, &answer["status"]), (200, &json!("exited")));
    app.stop().await;
}

on_both_backends!(
    no_token_is_401_session_required,
    staff_routes_without_a_staff_token_are_401,
    every_405_carries_allow,
    bodies_declared_valid_are_accepted,
);
