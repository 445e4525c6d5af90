//! The optional model judge through the whole server, against a local mock: its crisis verdict
//! raises an ordinary-looking message to crisis support; its silence, garbage or slowness changes
//! nothing; it never lowers the embedded verdict.

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::mock_llm::{chat_completions, completion_by, provider_answering};
use crate::on_both_backends;
use serde_json::json;
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

const SAFETY_MODEL: &str = "safety-protocol-v1";

/// A judge's answer: `risk`, and with a category, that category at high severity.
fn verdict(risk: &str, category: Option<&str>) -> ResponseTemplate {
    let content = json!({"risk": risk, "category": category, "severity": category.map(|_| "high")});
    ResponseTemplate::new(200).set_body_json(completion_by("judge-model", content.to_string()))
}

async fn app_with_judge(backend: Backend, mock: &MockServer) -> TestApp {
    let base_url = format!("{}/v1", mock.uri());
    spawn_app_with(backend, move |s| {
        s.crisis.judge.enabled = true;
        s.crisis.judge.base_url = base_url;
        s.crisis.judge.model = "judge-model".into();
        s.crisis.judge.timeout_ms = 300;
    })
    .await
}

/// The judge sees a crisis the embedded layers do not: the reply is the safety protocol with a card.
async fn a_judge_crisis_raises_the_verdict(backend: Backend) {
    let mock = provider_answering(verdict("crisis", Some("suicide"))).await;
    let app = app_with_judge(backend, &mock).await;
    let token = app.create_session().await;
    let body = app.sent(&token, "hôm nay trời đẹp ghê").await;
    assert_eq!(
        body["crisis_info"]["categories"],
        json!(["suicide"]),
        "{body}"
    );
    assert_eq!(body["ai_message"]["model_used"], SAFETY_MODEL, "{body}");
    assert_eq!(body["user_message"]["is_crisis_detected"], true, "{body}");
    let requests = mock.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1, "one judge call per message");
    app.stop().await;
}

/// A judge that says "none" cannot lower an embedded crisis; one that times out or answers
/// garbage leaves the embedded verdict as it is.
async fn a_judge_never_lowers_and_its_failures_change_nothing(backend: Backend) {
    let mock = MockServer::start().await;
    chat_completions(verdict("none", None))
        .up_to_n_times(1)
        .mount(&mock)
        .await;
    chat_completions(verdict("crisis", Some("abuse")).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&mock)
        .await;
    chat_completions(ResponseTemplate::new(200).set_body_string("not json at all"))
        .mount(&mock)
        .await;
    let app = app_with_judge(backend, &mock).await;
    let token = app.create_session().await;
    let body = app.sent(&token, "tao muốn tự tử").await;
    assert_eq!(
        body["user_message"]["is_crisis_detected"], true,
        "never lowered: {body}"
    );

    let calm = app.create_session().await;
    for message in ["mai đi học sớm", "tối nay ăn gì nhỉ"] {
        let body = app.sent(&calm, message).await;
        assert!(
            body["crisis_info"].is_null(),
            "slow or garbage judge: {body}"
        );
    }
    app.stop().await;
}

on_both_backends!(
    a_judge_crisis_raises_the_verdict,
    a_judge_never_lowers_and_its_failures_change_nothing,
);
