//! The OpenAI-compatible responder against a local mock server: what it sends, and how each kind of
//! failure turns into a built-in reply with the right reason.

mod support;

use std::time::{Duration, Instant};

use cbln_actors::domain::{Language, Role, Turn};
use cbln_actors::responder::{
    BUILTIN_MODEL, FallbackReason, OpenAiResponder, OpenAiSettings, ReplyOutcome, ReplyRequest,
    Responder, system_prompt,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::mock_llm::{answer, authorization, provider_answering, sent_messages};
use wiremock::{MockServer, ResponseTemplate};

const MESSAGE: &str = "Mình lo cho kỳ thi tuần sau, marker-4f1c";

fn settings(base_url: String, api_key: Option<&str>) -> OpenAiSettings {
    OpenAiSettings {
        base_url,
        model: "test-model".to_owned(),
        api_key: api_key.map(SecretString::from),
        timeout: Duration::from_millis(1500),
        max_tokens: 180,
        temperature: 0.6,
        context_turns: 3,
        hotlines: hotlines(),
    }
}

/// The shipped list, from the file the binary compiles in.
fn hotlines() -> Vec<cbln_actors::crisis::Hotline> {
    cbln_actors::crisis::parse_hotlines(include_str!("../../config/hotlines.toml"))
        .unwrap_or_else(|e| panic!("config/hotlines.toml: {e}"))
}

fn turn(role: Role, content: &str) -> Turn {
    Turn {
        role,
        content: content.to_owned(),
    }
}

fn request() -> ReplyRequest {
    ReplyRequest {
        language: Language::Vi,
        message: MESSAGE.to_owned(),
        history: vec![
            turn(Role::User, "old-user-1"),
            turn(Role::Assistant, "old-assistant-1"),
            turn(Role::User, "old-user-2"),
            turn(Role::Assistant, "old-assistant-2"),
        ],
        variation: 5,
    }
}

async fn reply_from(server: &MockServer, api_key: Option<&str>) -> ReplyOutcome {
    match OpenAiResponder::new(settings(format!("{}/v1", server.uri()), api_key)) {
        Ok(responder) => responder.reply(&request()).await,
        Err(error) => panic!("valid settings rejected: {error}"),
    }
}

fn assert_fallback(outcome: &ReplyOutcome, reason: FallbackReason) {
    assert_eq!(outcome.fallback, Some(reason), "{outcome:?}");
    assert_eq!(outcome.provider, "builtin");
    assert_eq!(outcome.model_used, BUILTIN_MODEL);
    assert!(!outcome.text.trim().is_empty());
    assert_eq!(outcome.text.matches('?').count(), 1, "{}", outcome.text);
}

#[tokio::test]
async fn success_sends_prompt_history_and_message_once() {
    let text = "  Nghe như bạn đang lo cho kỳ thi. Điều gì làm bạn lo nhất?\n";
    let server = provider_answering(answer(text)).await;

    let outcome = reply_from(&server, Some("sk-test-key")).await;
    assert_eq!(outcome.fallback, None);
    assert_eq!(outcome.provider, "openai");
    assert_eq!(outcome.model_used, "served-model-2025");
    assert_eq!(outcome.text, text.trim());

    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    let auth = authorization(sent);
    assert_eq!(auth, Some("Bearer sk-test-key"));

    let body: Value = sent.body_json().expect("json body");
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 180);
    assert_eq!(body["stream"], false);
    let pairs = sent_messages(&body);
    assert_eq!(pairs[0].0, "system");
    assert!(pairs[0].1.starts_with(&system_prompt(&hotlines())));
    assert!(pairs[0].1.contains("115 (cấp cứu)"));
    // context_turns = 3: the oldest turn is dropped, the order is kept, the message comes last.
    assert_eq!(
        &pairs[1..],
        &[
            ("assistant", "old-assistant-1"),
            ("user", "old-user-2"),
            ("assistant", "old-assistant-2"),
            ("user", MESSAGE),
        ]
    );
    let raw = String::from_utf8(sent.body.clone()).expect("utf-8 body");
    assert_eq!(raw.matches("marker-4f1c").count(), 1, "message sent once");
}

#[tokio::test]
async fn no_authorization_header_without_a_key() {
    let server = provider_answering(answer("Chào bạn, hôm nay bạn thấy thế nào?")).await;
    let outcome = reply_from(&server, None).await;
    assert_eq!(outcome.fallback, None);
    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    assert!(authorization(&requests[0]).is_none());
}

#[tokio::test]
async fn missing_model_field_reports_the_configured_model() {
    let body =
        json!({"choices": [{"message": {"content": "Mình đang nghe đây. Bạn muốn kể gì?"}}]});
    let server = provider_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let outcome = reply_from(&server, None).await;
    assert_eq!(outcome.fallback, None);
    assert_eq!(outcome.model_used, "test-model");
}

#[tokio::test]
async fn slow_server_times_out_within_the_budget() {
    let server = provider_answering(answer("too late").set_delay(Duration::from_secs(10))).await;
    let mut settings = settings(format!("{}/v1", server.uri()), None);
    settings.timeout = Duration::from_millis(300);
    let responder = OpenAiResponder::new(settings).expect("valid settings");

    let started = Instant::now();
    let outcome = responder.reply(&request()).await;
    let elapsed = started.elapsed();
    assert_fallback(&outcome, FallbackReason::Timeout);
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}

#[tokio::test]
async fn server_error_falls_back_with_http_status() {
    let server =
        provider_answering(ResponseTemplate::new(500).set_body_string("upstream broke")).await;
    assert_fallback(&reply_from(&server, None).await, FallbackReason::HttpStatus);
}

#[tokio::test]
async fn rate_limit_falls_back_with_http_status() {
    let server = provider_answering(ResponseTemplate::new(429)).await;
    assert_fallback(&reply_from(&server, None).await, FallbackReason::HttpStatus);
}

#[tokio::test]
async fn garbage_body_falls_back_with_invalid_response() {
    let server =
        provider_answering(ResponseTemplate::new(200).set_body_string("<html>oops</html>")).await;
    assert_fallback(
        &reply_from(&server, None).await,
        FallbackReason::InvalidResponse,
    );
}

#[tokio::test]
async fn json_without_choices_falls_back_with_invalid_response() {
    let server = provider_answering(
        ResponseTemplate::new(200).set_body_json(json!({"error": {"message": "no"}})),
    )
    .await;
    assert_fallback(
        &reply_from(&server, None).await,
        FallbackReason::InvalidResponse,
    );
}

#[tokio::test]
async fn empty_content_falls_back_with_empty_answer() {
    for content in [json!("   \n"), Value::Null, json!("<think>still thinking")] {
        let server = provider_answering(answer(content)).await;
        assert_fallback(
            &reply_from(&server, None).await,
            FallbackReason::EmptyAnswer,
        );
    }
    let server =
        provider_answering(ResponseTemplate::new(200).set_body_json(json!({"choices": []}))).await;
    assert_fallback(
        &reply_from(&server, None).await,
        FallbackReason::EmptyAnswer,
    );
}

#[tokio::test]
async fn refused_connection_falls_back_with_transport() {
    // Bind then drop a listener so the port is known to be closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let responder = OpenAiResponder::new(settings(format!("http://127.0.0.1:{port}/v1"), None))
        .expect("valid settings");
    assert_fallback(
        &responder.reply(&request()).await,
        FallbackReason::Transport,
    );
}

#[tokio::test]
async fn unsafe_answer_is_discarded() {
    for text in [
        "Bạn có thể uống 20 viên thuốc ngủ để ngủ ngon hơn.",
        "A lethal dose would be about 10 grams.",
        "Try taking 500mg of paracetamol.",
    ] {
        let server = provider_answering(answer(text)).await;
        let outcome = reply_from(&server, None).await;
        assert_fallback(&outcome, FallbackReason::UnsafeAnswer);
        assert!(!outcome.text.contains("viên") && !outcome.text.contains("dose"));
    }
}

#[tokio::test]
async fn responder_enum_dispatches_to_openai() {
    let server = provider_answering(answer("Mình nghe bạn. Bạn thấy thế nào?")).await;
    let responder = Responder::OpenAi(
        OpenAiResponder::new(settings(format!("{}/v1", server.uri()), None))
            .expect("valid settings"),
    );
    assert_eq!(responder.provider(), "openai");
    let outcome = responder.reply(&request()).await;
    assert_eq!(outcome.provider, "openai");
    assert_eq!(outcome.text, "Mình nghe bạn. Bạn thấy thế nào?");
}

#[tokio::test]
async fn reply_can_run_on_a_spawned_task() {
    let server = provider_answering(ResponseTemplate::new(500)).await;
    let responder = OpenAiResponder::new(settings(format!("{}/v1", server.uri()), None))
        .expect("valid settings");
    let outcome = tokio::spawn(async move { responder.reply(&request()).await })
        .await
        .expect("task ran");
    assert_fallback(&outcome, FallbackReason::HttpStatus);
}
