//! A mock OpenAI-compatible provider: the one outside part the tests mock. The actor crate's
//! tests reach it as `support::mock_llm`; the server's tests (`tests/api`) include this file by
//! path, so both speak to the same fake.

#![allow(clippy::expect_used, dead_code)]

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Where the providers under test post chat completions.
pub const CHAT_PATH: &str = "/v1/chat/completions";

/// The model a mock answer says it came from, unless a test names another.
pub const SERVED_MODEL: &str = "served-model-2025";

/// A chat-completions body from `model` whose one message holds `content` (a string, or any
/// JSON a test uses to see that a non-string content is refused).
pub fn completion_by(model: &str, content: impl Into<Value>) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content.into()}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
    })
}

/// A chat-completions body from [`SERVED_MODEL`].
pub fn completion(content: impl Into<Value>) -> Value {
    completion_by(SERVED_MODEL, content)
}

/// A 200 answer whose message holds `content`.
pub fn answer(content: impl Into<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(completion(content))
}

/// Chat-completion posts answered with `response`; mount it, after limiting it if need be.
pub fn chat_completions(response: ResponseTemplate) -> Mock {
    Mock::given(method("POST"))
        .and(path(CHAT_PATH))
        .respond_with(response)
}

/// A mock provider whose chat-completions endpoint answers every post with `response`.
pub async fn provider_answering(response: ResponseTemplate) -> MockServer {
    let mock = MockServer::start().await;
    chat_completions(response).mount(&mock).await;
    mock
}

/// Every chat-completion request the provider received, in order.
pub async fn chat_requests(mock: &MockServer) -> Vec<Request> {
    mock.received_requests()
        .await
        .expect("request recording is on")
        .into_iter()
        .filter(|r| r.url.path() == CHAT_PATH)
        .collect()
}

/// The `Authorization` header a request carried.
pub fn authorization(request: &Request) -> Option<&str> {
    request
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
}

/// `(role, content)` of each message a request body sent.
pub fn sent_messages(body: &Value) -> Vec<(&str, &str)> {
    body["messages"]
        .as_array()
        .expect("messages array")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default(),
                m["content"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}
