//! The OpenAI-compatible responder through the whole server, against a local mock: what it sends,
//! and that every failure (timeout, 500, garbage) still answers 201 from the built-in listener.

use crate::helpers::{Backend, TestApp, captured_logs, spawn_app_with, use_provider};
use crate::mock_llm::{self, answer, authorization, provider_answering};
use secrecy::SecretString;
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;
use wiremock::{MockServer, ResponseTemplate};

const ANSWER: &str = "Mình nghe thấy bạn đang lo lắng về kỳ thi. Điều gì làm bạn bận lòng nhất?";
const BUILTIN_MODEL: &str = "builtin-listener-v1";
const SAFETY_MODEL: &str = "safety-protocol-v1";

async fn app_against(mock: &MockServer, api_key: &str) -> TestApp {
    let uri = mock.uri();
    let api_key = api_key.to_string();
    spawn_app_with(Backend::Sqlite, move |s| {
        use_provider(s, &uri, 500);
        s.responder.api_key = SecretString::from(api_key);
    })
    .await
}

/// Each chat-completion request's JSON body and `Authorization` header.
async fn chat_requests(mock: &MockServer) -> Vec<(Value, Option<String>)> {
    mock_llm::chat_requests(mock)
        .await
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).expect("the request body is JSON");
            (body, authorization(r).map(str::to_string))
        })
        .collect()
}

#[actix_web::test]
async fn a_successful_answer_is_the_models_and_the_request_is_well_formed() {
    let mock = provider_answering(answer(ANSWER)).await;
    let api_key = format!("sk-test-{}", Uuid::new_v4().simple());
    let app = app_against(&mock, &api_key).await;
    let token = app.create_session().await;

    let first = format!("mình lo cho kỳ thi tuần sau lắm {}", Uuid::new_v4());
    let body = app.sent(&token, &first).await;
    assert_eq!(body["ai_message"]["content"], ANSWER, "{body}");
    assert_eq!(
        body["ai_message"]["model_used"], "served-model-2025",
        "{body}"
    );
    assert!(body["crisis_info"].is_null());

    let second = format!("bố mẹ mình cũng kỳ vọng nhiều {}", Uuid::new_v4());
    let body = app.sent(&token, &second).await;
    assert_eq!(body["ai_message"]["content"], ANSWER);

    let requests = chat_requests(&mock).await;
    assert_eq!(requests.len(), 2, "one provider call per message");
    for (index, (body, auth)) in requests.iter().enumerate() {
        assert_eq!(
            auth.as_deref(),
            Some(format!("Bearer {api_key}").as_str()),
            "the API key is sent as a bearer token"
        );
        assert_eq!(body["model"], "test-model");
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(
            messages[0]["role"], "system",
            "the system prompt comes first"
        );
        assert!(
            messages[0]["content"]
                .as_str()
                .is_some_and(|c| c.len() > 50),
            "a real system prompt: {body}"
        );
        let current = if index == 0 { &first } else { &second };
        let occurrences = messages
            .iter()
            .filter(|m| {
                m["content"]
                    .as_str()
                    .is_some_and(|c| c.contains(current.as_str()))
            })
            .count();
        assert_eq!(occurrences, 1, "the message is sent exactly once: {body}");
        let last = messages.last().unwrap();
        assert_eq!(last["role"], "user");
        assert!(last["content"].as_str().unwrap().contains(current.as_str()));
    }
    // The second call carries the first turn as context (once).
    let (body, _) = &requests[1];
    let context = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.contains(first.as_str()))
        })
        .count();
    assert_eq!(
        context, 1,
        "the earlier turn is sent once as context: {body}"
    );

    let parsed = app.metrics().await;
    assert_eq!(
        parsed.sum("responder_fallbacks_total", &[]),
        0.0,
        "no fallback on success"
    );

    let logs = captured_logs();
    assert!(!logs.contains(&api_key), "the API key appears in the logs");
    assert!(
        !logs.contains(api_key.strip_prefix("sk-test-").unwrap()),
        "the API key appears in the logs"
    );
    app.stop().await;
}

async fn falls_back(response: ResponseTemplate, reason: &str) {
    let mock = provider_answering(response).await;
    let app = app_against(&mock, "sk-test-fallback").await;
    let token = app.create_session().await;
    let started = std::time::Instant::now();
    let body = app.sent(&token, "dạo này mình thấy cô đơn quá").await;
    assert_eq!(body["ai_message"]["model_used"], BUILTIN_MODEL, "{body}");
    let reply = body["ai_message"]["content"].as_str().expect("a reply");
    assert!(!reply.trim().is_empty());
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "the fallback answers within the configured budget, not after the provider"
    );
    assert_eq!(
        chat_requests(&mock).await.len(),
        1,
        "the provider was tried"
    );
    let parsed = app.metrics().await;
    assert!(
        parsed.sum("responder_fallbacks_total", &[("reason", reason)]) >= 1.0,
        "responder_fallbacks_total{{reason=\"{reason}\"}} not counted"
    );
    // The stored reply is the one served.
    let history = app.history(&token).await;
    assert_eq!(history["messages"][1]["model_used"], BUILTIN_MODEL);
    assert_eq!(history["messages"][1]["content"], reply);
    app.stop().await;
}

#[actix_web::test]
async fn a_timeout_falls_back_to_the_builtin_listener() {
    falls_back(answer(ANSWER).set_delay(Duration::from_secs(2)), "timeout").await;
}

#[actix_web::test]
async fn a_server_error_falls_back_to_the_builtin_listener() {
    falls_back(
        ResponseTemplate::new(500).set_body_string("internal error"),
        "http_status",
    )
    .await;
}

#[actix_web::test]
async fn garbage_json_falls_back_to_the_builtin_listener() {
    falls_back(
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string("{\"choices\": [ this is not json"),
        "invalid_response",
    )
    .await;
}

#[actix_web::test]
async fn a_crisis_message_never_reaches_the_provider() {
    let mock = provider_answering(answer(ANSWER)).await;
    let app = app_against(&mock, "sk-test-crisis").await;
    let token = app.create_session().await;
    let body = app
        .sent(&token, "mình không chịu nổi nữa, mình muốn tự tử")
        .await;
    assert!(!body["crisis_info"].is_null(), "{body}");
    assert_eq!(body["ai_message"]["model_used"], SAFETY_MODEL, "{body}");
    assert_ne!(body["ai_message"]["content"], ANSWER);
    assert!(
        body["ai_message"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("111") || c.contains("115")),
        "the safety reply names who to call: {body}"
    );
    assert_eq!(
        chat_requests(&mock).await.len(),
        0,
        "a crisis message must not be sent to the provider"
    );
    app.stop().await;
}
