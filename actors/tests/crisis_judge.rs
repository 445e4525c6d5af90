//! The crisis judge against a local mock server: what it sends, which answers count as a verdict,
//! that every failure is "no opinion" with the right reason, and that nothing the person wrote
//! reaches a log line.

mod support;

use std::sync::OnceLock;
use std::time::Duration;

use cbln_actors::crisis::{Category, Severity};
use cbln_actors::crisis_judge::{
    CrisisJudge, CrisisJudgeSettings, JUDGE_PROMPT, JudgeFailure, JudgeRisk, JudgeVerdict,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use support::log_buffer::LogBuffer;
use support::mock_llm::{answer, authorization, provider_answering, sent_messages};
use wiremock::{MockServer, ResponseTemplate};

const MESSAGE: &str = "tối nay mình sẽ làm thật, marker-msg-7d2e";
const KEY: &str = "sk-judge-key-93af";

/// Six earlier turns, each with a marker; only the last four may be sent.
fn turns() -> Vec<String> {
    (1..=6)
        .map(|i| format!("mình mệt lắm, marker-turn-{i}"))
        .collect()
}

fn settings(base_url: String, api_key: Option<&str>) -> CrisisJudgeSettings {
    captured_logs();
    CrisisJudgeSettings {
        enabled: true,
        base_url,
        model: "judge-model".to_owned(),
        api_key: api_key.map(SecretString::from),
        timeout: Duration::from_millis(1500),
    }
}

fn verdict_body(verdict: Value) -> ResponseTemplate {
    answer(verdict.to_string())
}

fn judge_for(server: &MockServer, api_key: Option<&str>) -> CrisisJudge {
    match CrisisJudge::from_settings(&settings(format!("{}/v1", server.uri()), api_key)) {
        Some(judge) => judge,
        None => panic!("valid, enabled settings gave no judge"),
    }
}

async fn outcome(template: ResponseTemplate) -> Result<JudgeVerdict, JudgeFailure> {
    let server = provider_answering(template).await;
    let judge = judge_for(&server, Some(KEY));
    let try_outcome = judge.try_judge(&turns(), MESSAGE).await;
    assert_eq!(
        judge.judge(&turns(), MESSAGE).await,
        try_outcome.ok(),
        "judge and try_judge agree"
    );
    try_outcome
}

#[tokio::test]
async fn valid_crisis_verdict_is_returned() {
    let got = outcome(verdict_body(
        json!({"risk": "crisis", "category": "suicide", "severity": "critical"}),
    ))
    .await;
    assert_eq!(
        got,
        Ok(JudgeVerdict {
            risk: JudgeRisk::Crisis,
            category: Some(Category::Suicide),
            severity: Some(Severity::Critical),
        })
    );
}

#[tokio::test]
async fn valid_none_verdict_is_returned() {
    let got = outcome(verdict_body(
        json!({"risk": "none", "category": null, "severity": null}),
    ))
    .await;
    assert_eq!(
        got,
        Ok(JudgeVerdict {
            risk: JudgeRisk::None,
            category: None,
            severity: None,
        })
    );
}

#[tokio::test]
async fn verdict_after_a_reasoning_block_is_returned() {
    let content =
        "<think>cân nhắc</think>\n{\"risk\": \"elevated\", \"category\": null, \"severity\": null}";
    let got = outcome(answer(content)).await;
    assert_eq!(got.map(|v| v.risk), Ok(JudgeRisk::Elevated));
}

#[tokio::test]
async fn answer_outside_the_schema_is_no_opinion() {
    for content in [
        json!("I think this person is at risk."),
        json!("{\"risk\": \"crisis\"}"),
        json!("{\"risk\": \"dangerous\", \"category\": null, \"severity\": null}"),
        json!("{\"risk\": \"crisis\", \"category\": \"suicide\", \"severity\": \"extreme\"}"),
        json!("<think>never finished"),
        Value::Null,
    ] {
        let got = outcome(answer(content.clone())).await;
        assert_eq!(got, Err(JudgeFailure::InvalidVerdict), "{content}");
    }
    let got = outcome(ResponseTemplate::new(200).set_body_json(json!({"choices": []}))).await;
    assert_eq!(got, Err(JudgeFailure::InvalidVerdict));
}

#[tokio::test]
async fn an_error_status_or_garbage_body_is_no_opinion() {
    for (answer, failure) in [
        (
            ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
            JudgeFailure::InvalidResponse,
        ),
        (
            ResponseTemplate::new(500).set_body_string("upstream broke"),
            JudgeFailure::HttpStatus,
        ),
        (ResponseTemplate::new(401), JudgeFailure::HttpStatus),
    ] {
        assert_eq!(outcome(answer).await, Err(failure));
    }
}

#[tokio::test]
async fn slow_server_past_the_timeout_is_no_opinion() {
    let server = provider_answering(
        verdict_body(json!({"risk": "crisis", "category": "suicide", "severity": "high"}))
            .set_delay(Duration::from_secs(10)),
    )
    .await;
    let mut settings = settings(format!("{}/v1", server.uri()), None);
    settings.timeout = Duration::from_millis(200);
    let judge = CrisisJudge::from_settings(&settings).expect("valid settings");
    assert_eq!(
        judge.try_judge(&turns(), MESSAGE).await,
        Err(JudgeFailure::Timeout)
    );
    assert_eq!(judge.judge(&turns(), MESSAGE).await, None);
}

#[tokio::test]
async fn refused_connection_is_no_opinion() {
    // Bind then drop a listener so the port is known to be closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let judge = CrisisJudge::from_settings(&settings(format!("http://127.0.0.1:{port}/v1"), None))
        .expect("valid settings");
    assert_eq!(
        judge.try_judge(&turns(), MESSAGE).await,
        Err(JudgeFailure::Transport)
    );
}

#[tokio::test]
async fn request_carries_model_key_temperature_json_mode_and_recent_turns() {
    let server = provider_answering(verdict_body(
        json!({"risk": "none", "category": null, "severity": null}),
    ))
    .await;
    let judge = judge_for(&server, Some(KEY));
    assert!(judge.judge(&turns(), MESSAGE).await.is_some());

    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    let auth = authorization(sent);
    assert_eq!(auth, Some(format!("Bearer {KEY}").as_str()));

    let body: Value = sent.body_json().expect("json body");
    assert_eq!(body["model"], "judge-model");
    assert_eq!(body["temperature"].as_f64(), Some(0.0));
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    assert_eq!(body["stream"], false);
    let max_tokens = body["max_tokens"].as_u64().expect("max_tokens");
    assert!((1..=128).contains(&max_tokens), "{max_tokens}");

    let pairs = sent_messages(&body);
    assert_eq!(pairs[0], ("system", JUDGE_PROMPT.trim_end()));
    let all_turns = turns();
    // The last four user turns, oldest first, then the message once and last.
    assert_eq!(
        &pairs[1..],
        &[
            ("user", all_turns[2].as_str()),
            ("user", all_turns[3].as_str()),
            ("user", all_turns[4].as_str()),
            ("user", all_turns[5].as_str()),
            ("user", MESSAGE),
        ]
    );
    let raw = String::from_utf8(sent.body.clone()).expect("utf-8 body");
    assert_eq!(
        raw.matches("marker-msg-7d2e").count(),
        1,
        "message sent once"
    );
    assert!(!raw.contains("marker-turn-1") && !raw.contains("marker-turn-2"));
}

#[tokio::test]
async fn no_authorization_header_without_a_key() {
    let server = provider_answering(verdict_body(
        json!({"risk": "none", "category": null, "severity": null}),
    ))
    .await;
    let judge = judge_for(&server, None);
    assert!(judge.judge(&[], MESSAGE).await.is_some());
    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1);
    assert!(authorization(&requests[0]).is_none());
}

/// The process-wide capturing subscriber, installed before the first judge is built. A scoped
/// (`set_default`) subscriber would miss events: tracing caches per call site whether anyone is
/// interested, and a test running on another thread can register a call site while only the
/// no-op global subscriber exists. So every test's log lines land here, which only widens the
/// privacy check.
fn captured_logs() -> &'static LogBuffer {
    static CAPTURED: OnceLock<LogBuffer> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = LogBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            panic!("another global subscriber is installed in this test binary");
        }
        captured
    })
}

#[tokio::test]
async fn no_message_turn_or_key_in_any_log_line() {
    let captured = captured_logs();
    let verdict_text = json!({"risk": "crisis", "category": "abuse", "severity": "high"});
    let answers = [
        verdict_body(verdict_text.clone()),
        answer(format!("echo: {MESSAGE}")),
        ResponseTemplate::new(200).set_body_string(format!("<html>{MESSAGE}</html>")),
        ResponseTemplate::new(500).set_body_string(format!("failed on {MESSAGE}")),
    ];
    for response in answers {
        let server = provider_answering(response).await;
        let judge = judge_for(&server, Some(KEY));
        let _ = judge.try_judge(&turns(), MESSAGE).await;
    }
    let slow =
        provider_answering(verdict_body(verdict_text).set_delay(Duration::from_secs(10))).await;
    let mut settings = settings(format!("{}/v1", slow.uri()), Some(KEY));
    settings.timeout = Duration::from_millis(200);
    let judge = CrisisJudge::from_settings(&settings).expect("valid settings");
    assert_eq!(judge.judge(&turns(), MESSAGE).await, None);

    let logs = captured.text();
    assert!(
        logs.contains("crisis judge answered") && logs.contains("crisis judge gave no opinion"),
        "the judge's own log lines were not captured, so searching them proves nothing:\n{logs}"
    );
    for reason in [
        "invalid_verdict",
        "invalid_response",
        "http_status",
        "timeout",
    ] {
        assert!(
            logs.contains(&format!("reason=\"{reason}\"")),
            "no log line for the {reason} call:\n{logs}"
        );
    }
    for secret in ["marker-msg-7d2e", "marker-turn", "tối nay", "mệt lắm", KEY] {
        assert!(
            !logs.contains(secret),
            "{secret:?} appears in the logs:\n{logs}"
        );
    }
}
