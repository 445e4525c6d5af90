//! Streamed replies (`Accept: text/event-stream` on `POST /api/v1/messages`) over real HTTP, with
//! the built-in listener and with an OpenAI-compatible mock that streams: the events and their
//! order, the guard on every sentence, a client that leaves, and the errors that come before a
//! stream.

use crate::helpers::{
    Backend, TestApp, captured_logs, spawn_app, spawn_app_with, spawn_with_session, use_provider,
};
use crate::mock_llm::provider_answering;
use crate::on_both_backends;
use crate::support::{assert_error, assert_field_error, header};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

const CRISIS_VI: &str = "mình muốn chết, không muốn sống nữa";
const BUILTIN_MODEL: &str = "builtin-listener-v1";
const SAFETY_MODEL: &str = "safety-protocol-v1";

/// One server-sent event.
#[derive(Debug)]
pub struct Event {
    pub id: u64,
    pub name: String,
    pub data: Value,
}

/// Parses a whole event-stream body; every event must have an id, a name and JSON data.
pub fn parse_events(body: &str) -> Vec<Event> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .filter(|block| !block.lines().all(|line| line.starts_with(':')))
        .map(|block| {
            let mut id = None;
            let mut name = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("id: ") {
                    id = Some(value.parse().expect("numeric id"));
                } else if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_string());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(value).expect("JSON data"));
                }
            }
            Event {
                id: id.unwrap_or_else(|| panic!("an id in {block:?}")),
                name: name.unwrap_or_else(|| panic!("a name in {block:?}")),
                data: data.unwrap_or_else(|| panic!("data in {block:?}")),
            }
        })
        .collect()
}

/// How long [`read_until`] waits for its marker in all.
const READ_DEADLINE: Duration = Duration::from_secs(20);

/// Reads `response`'s body until it contains `marker` (within 20 s in all, however the body is
/// cut into chunks); what was read, marker included, for the caller to go on from.
pub async fn read_until(response: &mut reqwest::Response, marker: &str) -> String {
    let deadline = tokio::time::Instant::now() + READ_DEADLINE;
    let mut body = Vec::new();
    while !String::from_utf8_lossy(&body).contains(marker) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{marker:?} within {READ_DEADLINE:?}; read {:?}",
                    String::from_utf8_lossy(&body)
                )
            })
            .expect("the body")
            .unwrap_or_else(|| {
                panic!(
                    "the body ended before {marker:?}; read {:?}",
                    String::from_utf8_lossy(&body)
                )
            });
        // Bytes, not text, until the end: a chunk may split a character.
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).expect("UTF-8 up to the marker")
}

/// Posts `content` asking for a stream; the status, the content type and the events.
pub async fn post_streaming(
    app: &TestApp,
    token: &str,
    content: &str,
) -> (u16, String, Vec<Event>) {
    let response = app
        .stream_message(token, &json!({"content": content}))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type").unwrap_or_default();
    if status == 200 {
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store")
        );
    }
    let body = response.text().await.expect("body");
    let events = if content_type.starts_with("text/event-stream") {
        parse_events(&body)
    } else {
        Vec::new()
    };
    (status, content_type, events)
}

/// Posts `content` asking for a stream, which must be answered 200; the events.
async fn streamed(app: &TestApp, token: &str, content: &str) -> Vec<Event> {
    let (status, content_type, events) = post_streaming(app, token, content).await;
    assert_eq!(status, 200, "{content_type}: {events:?}");
    events
}

/// Checks the shape every successful stream has and returns (accepted data, deltas, final event).
fn assert_stream_shape(events: &[Event]) -> (&Value, String, &Event) {
    assert!(
        events.len() >= 3,
        "accepted, a delta and an end: {events:?}"
    );
    for pair in events.windows(2) {
        assert!(pair[0].id < pair[1].id, "ids increase: {events:?}");
    }
    assert_eq!(events[0].name, "message.accepted", "{events:?}");
    let last = events.last().expect("an end");
    assert!(
        last.name == "reply.completed" || last.name == "reply.replaced",
        "{events:?}"
    );
    let middle = &events[1..events.len() - 1];
    assert!(middle.iter().all(|e| e.name == "reply.delta"), "{events:?}");
    let deltas: String = middle
        .iter()
        .map(|e| e.data["text"].as_str().expect("delta text"))
        .collect();
    (&events[0].data, deltas, last)
}

async fn builtin_reply_streams_and_adds_up(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let (status, content_type, events) =
        post_streaming(&app, &token, "  mình lo cho kỳ thi quá  ").await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let (accepted, deltas, last) = assert_stream_shape(&events);
    assert_eq!(last.name, "reply.completed");
    assert_eq!(
        accepted["user_message"]["content"],
        "mình lo cho kỳ thi quá"
    );
    assert_eq!(accepted["user_message"]["role"], "user");
    assert!(accepted["crisis_info"].is_null());
    let ai = &last.data["ai_message"];
    assert_eq!(ai["role"], "assistant");
    assert_eq!(ai["model_used"], BUILTIN_MODEL);
    assert_eq!(
        ai["content"].as_str(),
        Some(deltas.as_str()),
        "deltas add up"
    );

    // Both messages are stored, and the stored reply is what was streamed.
    let history = app.history(&token).await;
    let messages = history["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["id"], accepted["user_message"]["id"]);
    assert_eq!(messages[1]["id"], ai["id"]);
    assert_eq!(messages[1]["content"].as_str(), Some(deltas.as_str()));

    // Without the header nothing changes.
    let body = app.sent(&token, "cảm ơn bạn").await;
    assert!(body["ai_message"]["content"].is_string());
}

async fn a_crisis_streams_the_safety_reply_with_the_card(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let events = streamed(&app, &token, CRISIS_VI).await;
    let (accepted, deltas, last) = assert_stream_shape(&events);
    assert_eq!(last.name, "reply.completed");
    assert!(accepted["crisis_info"]["hotlines"].is_array(), "{accepted}");
    assert_eq!(accepted["user_message"]["is_crisis_detected"], true);
    assert_eq!(last.data["ai_message"]["model_used"], SAFETY_MODEL);
    assert_eq!(
        last.data["ai_message"]["content"].as_str(),
        Some(deltas.as_str())
    );
    assert!(
        events.len() > 3,
        "the safety reply comes in several sentences"
    );
}

async fn errors_before_the_stream_are_ordinary_json(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let ask = |body: Value, token: Option<String>| {
        let mut request = app
            .post("/api/v1/messages")
            .header("Accept", "text/event-stream")
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let content_type = header(&response, "content-type").unwrap_or_default();
            assert!(
                content_type.starts_with("application/json"),
                "{content_type}"
            );
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = ask(json!({"content": "   "}), Some(token.clone())).await;
    assert_field_error(status, &body, "content");
    let (status, body) = ask(json!({"content": "x".repeat(5001)}), Some(token.clone())).await;
    assert_field_error(status, &body, "content");
    let (status, body) = ask(json!({"content": "chào"}), None).await;
    assert_error(status, &body, 401, "session_required");
    let (status, body) = ask(
        json!({"content": "chào"}),
        Some(format!("anon_{}", "A".repeat(43))),
    )
    .await;
    assert_error(status, &body, 404, "session_not_found");
    app.expire_all_sessions().await;
    let (status, body) = ask(json!({"content": "chào"}), Some(token)).await;
    assert_error(status, &body, 401, "session_expired");
}

fn chunk(content: &str) -> String {
    let data = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "served-model-2025",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]
    });
    format!("data: {data}\n\n")
}

fn event_stream_body(pieces: &[&str]) -> String {
    let mut body: String = pieces.iter().map(|p| chunk(p)).collect();
    body.push_str("data: [DONE]\n\n");
    body
}

/// A model that streams `pieces` at once.
async fn model_streaming(pieces: &[&str]) -> MockServer {
    provider_streaming(event_stream_body(pieces), Duration::ZERO).await
}

async fn provider_streaming(body: String, delay: Duration) -> MockServer {
    provider_answering(
        ResponseTemplate::new(200)
            .set_body_raw(body, "text/event-stream")
            .set_delay(delay),
    )
    .await
}

/// An app whose responder is the model at `mock`, and a session in it.
async fn app_against(backend: Backend, mock: &MockServer) -> (TestApp, String) {
    let uri = mock.uri();
    let app = spawn_app_with(backend, move |s| use_provider(s, &uri, 2000)).await;
    let token = app.create_session().await;
    (app, token)
}

async fn the_model_streams_sentence_by_sentence(backend: Backend) {
    let mock = model_streaming(&[
        "Mình nghe",
        " bạn rồi. Kỳ thi",
        " làm bạn lo",
        " lắm phải không? Kể",
        " mình nghe nhé.",
    ])
    .await;
    let (app, token) = app_against(backend, &mock).await;
    let events = streamed(&app, &token, "mình lo thi quá").await;
    let (_, deltas, last) = assert_stream_shape(&events);
    assert_eq!(last.name, "reply.completed", "{events:?}");
    let pieces: Vec<&str> = events[1..events.len() - 1]
        .iter()
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        pieces,
        [
            "Mình nghe bạn rồi.",
            " Kỳ thi làm bạn lo lắm phải không?",
            " Kể mình nghe nhé."
        ],
        "whole sentences, never a half"
    );
    assert_eq!(
        last.data["ai_message"]["content"].as_str(),
        Some(deltas.as_str())
    );
    assert_eq!(last.data["ai_message"]["model_used"], "served-model-2025");

    let requests = mock.received_requests().await.expect("recording");
    let sent: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(sent["stream"], true, "the streaming API is asked for");

    let history = app.history(&token).await;
    assert_eq!(
        history["messages"][1]["content"].as_str(),
        Some(deltas.as_str())
    );
}

async fn a_failing_later_sentence_ends_with_the_stored_safe_reply(backend: Backend) {
    let secret_marker = "thuốc ngủ";
    let mock = model_streaming(&[
        "Mình hiểu bạn. ",
        "Bạn có thể uống 20 viên ",
        "thuốc ngủ. Rồi sẽ ổn.",
    ])
    .await;
    let (app, token) = app_against(backend, &mock).await;
    let events = streamed(&app, &token, "mình mất ngủ mấy hôm nay").await;
    let (_, deltas, last) = assert_stream_shape(&events);
    assert_eq!(last.name, "reply.replaced", "{events:?}");
    assert_eq!(
        deltas, "Mình hiểu bạn.",
        "only the sentence that passed was shown"
    );
    let replacement = last.data["ai_message"]["content"]
        .as_str()
        .expect("content");
    assert_eq!(last.data["ai_message"]["model_used"], BUILTIN_MODEL);
    assert!(!replacement.contains(secret_marker));
    for event in &events {
        assert!(!event.data.to_string().contains(secret_marker), "{event:?}");
    }
    let history = app.history(&token).await;
    assert_eq!(
        history["messages"][1]["content"].as_str(),
        Some(replacement)
    );
    assert_eq!(history["messages"][1]["id"], last.data["ai_message"]["id"]);
}

async fn a_server_ignoring_stream_still_answers(backend: Backend) {
    let answer = "Mình nghe bạn. Điều gì làm bạn lo nhất?";
    let mock = provider_answering(ResponseTemplate::new(200).set_body_json(json!({
        "model": "plain-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]
    })))
    .await;
    let (app, token) = app_against(backend, &mock).await;
    let events = streamed(&app, &token, "mình lo thi quá").await;
    let (_, deltas, last) = assert_stream_shape(&events);
    assert_eq!(last.name, "reply.completed");
    assert_eq!(deltas, answer);
    assert_eq!(last.data["ai_message"]["model_used"], "plain-model");
}

async fn a_broken_stream_after_a_sentence_is_replaced(backend: Backend) {
    let mut body = chunk("Mình nghe bạn rồi. ");
    body.push_str("data: {not json\n\n");
    let mock = provider_streaming(body, Duration::ZERO).await;
    let (app, token) = app_against(backend, &mock).await;
    let events = streamed(&app, &token, "mình lo thi quá").await;
    let (_, deltas, last) = assert_stream_shape(&events);
    assert_eq!(deltas, "Mình nghe bạn rồi.");
    assert_eq!(last.name, "reply.replaced");
    assert_eq!(last.data["ai_message"]["model_used"], BUILTIN_MODEL);
}

async fn a_client_that_leaves_does_not_stop_the_reply(backend: Backend) {
    let answer = "Mình vẫn ở đây. Bạn muốn kể thêm không?";
    let mock = provider_streaming(event_stream_body(&[answer]), Duration::from_millis(400)).await;
    let (app, token) = app_against(backend, &mock).await;
    let user_text = format!("mình buồn quá {}", uuid::Uuid::new_v4());
    let mut response = app
        .stream_message(&token, &json!({"content": user_text}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let first = response
        .chunk()
        .await
        .expect("read")
        .expect("a first event");
    assert!(String::from_utf8_lossy(&first).contains("message.accepted"));
    drop(response);

    let mut stored = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let history = app.history(&token).await;
        if history["messages"].as_array().map(Vec::len) == Some(2) {
            stored = history;
            break;
        }
    }
    assert_eq!(stored["messages"][1]["content"], answer, "{stored}");
    assert!(
        !captured_logs().contains(&user_text),
        "no message text in logs"
    );
}

/// The front door stops waiting for the session actor (`pipeline.request_timeout_ms`) while the
/// reply is still coming: the stream ends with an `error` event after `message.accepted`, never cut
/// short, and the message is still answered.
async fn a_request_timeout_mid_stream_ends_with_an_error_event(backend: Backend) {
    let provider =
        provider_answering(ResponseTemplate::new(500).set_delay(Duration::from_millis(1_500)))
            .await;
    let uri = provider.uri();
    let app = spawn_app_with(backend, move |s| {
        use_provider(s, &uri, 5_000);
        s.pipeline.request_timeout_ms = 500;
    })
    .await;
    let token = app.create_session().await;
    let events = streamed(&app, &token, "mình lo thi quá").await;
    assert_eq!(
        events.first().map(|e| e.name.as_str()),
        Some("message.accepted"),
        "{events:?}"
    );
    let last = events.last().expect("an end");
    assert_eq!(last.name, "error", "{events:?}");
    assert!(last.data["error"].is_string(), "{events:?}");
    // The pipeline went on: the message gets its answer (a read may wait behind it meanwhile).
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let response = app
            .get_as("/api/v1/messages", &token)
            .send()
            .await
            .expect("history");
        let status = response.status().as_u16();
        let history: Value = response.json().await.unwrap_or(Value::Null);
        if status == 200 && history["messages"].as_array().map_or(0, Vec::len) == 2 {
            assert_eq!(history["messages"][1]["role"], "assistant", "{history}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never answered: {status} {history}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}

on_both_backends!(
    a_request_timeout_mid_stream_ends_with_an_error_event,
    builtin_reply_streams_and_adds_up,
    a_crisis_streams_the_safety_reply_with_the_card,
    errors_before_the_stream_are_ordinary_json,
    the_model_streams_sentence_by_sentence,
    a_failing_later_sentence_ends_with_the_stored_safe_reply,
    a_server_ignoring_stream_still_answers,
    a_broken_stream_after_a_sentence_is_replaced,
    a_client_that_leaves_does_not_stop_the_reply,
);

#[actix_web::test]
async fn the_openapi_document_describes_streams_exit_and_notices() {
    let app = spawn_app(Backend::Sqlite).await;
    let (status, document) = crate::support::Fetch::fetch_json(app.get("/openapi.json")).await;
    assert_eq!(status, 200);
    let send = &document["paths"]["/api/v1/messages"]["post"];
    assert!(
        send["responses"]["200"]["content"]["text/event-stream"].is_object(),
        "{send}"
    );
    assert!(document["paths"]["/api/v1/sessions/exit"]["post"].is_object());
    let schemas = &document["components"]["schemas"];
    assert!(schemas["Notice"].is_object(), "{schemas}");
    assert!(schemas["PostedMessage"]["properties"]["notice"].is_object());
}
