use super::*;
use std::sync::atomic::AtomicUsize;
use wiremock::matchers::{header_exists, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn args(url: &str) -> SimulateArgs {
    SimulateArgs {
        url: url.to_owned(),
        sessions: 3,
        messages_per_session: 4,
        concurrency: 4,
        think_time: Duration::ZERO,
        crisis_ratio: 0.5,
        duration_limit: Some(Duration::from_secs(30)),
    }
}

/// A fresh token per created session, as the server gives.
struct NewSession(AtomicUsize);

impl Respond for NewSession {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "session": {
                "session_token": format!("anon_test{n:04}"),
                "expires_at": "2026-12-23T21:32:13.209Z",
                "language_preference": "vi",
                "is_crisis_mode": false
            }
        }))
    }
}

/// Answers a message with a crisis card exactly when it came from the crisis pool, as the
/// server's detector would.
struct Reply;

impl Respond for Reply {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let content = serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|v| v.get("content").and_then(|c| c.as_str()).map(str::to_owned))
            .unwrap_or_default();
        let crisis_info = if CRISIS.contains(&content.as_str()) {
            serde_json::json!({ "categories": ["suicide"], "severity": "high" })
        } else {
            serde_json::Value::Null
        };
        ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "user_message": { "content": content },
            "ai_message": { "content": "Mình đang lắng nghe bạn." },
            "crisis_info": crisis_info
        }))
    }
}

fn history(count: usize) -> ResponseTemplate {
    let messages: Vec<serde_json::Value> = (0..count)
        .map(|i| serde_json::json!({ "seq": i }))
        .collect();
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "messages": messages,
        "total_count": count,
        "session_id": "00000000-0000-0000-0000-000000000000",
        "has_crisis_history": false
    }))
}

async fn fake_server(stored_per_session: usize) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/sessions"))
        .respond_with(NewSession(AtomicUsize::new(0)))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/messages"))
        .and(header_exists("authorization"))
        .respond_with(Reply)
        .expect(12)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/messages"))
        .and(query_param("limit", "200"))
        .and(header_exists("authorization"))
        .respond_with(history(stored_per_session))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/api/v1/sessions/anon_test\d{4}$"))
        .respond_with(ResponseTemplate::new(204))
        .expect(3)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn full_run_against_a_fake_server() {
    let server = fake_server(8).await;
    let mut out = Vec::new();
    let report = run(args(&server.uri()), &mut out).await;
    let report = report.unwrap_or_else(|e| panic!("run failed: {e:#}"));

    assert_eq!(report.sessions_created, 3);
    assert_eq!(report.messages_sent, 12);
    assert_eq!(report.messages_ok, 12);
    assert_eq!(report.requests, 3 + 12 + 3 + 3);
    assert_eq!(report.status_counts.get("201"), Some(&15));
    assert_eq!(report.status_counts.get("200"), Some(&3));
    assert_eq!(report.status_counts.get("204"), Some(&3));
    assert_eq!(
        report.crisis_cards, report.crisis_messages_sent,
        "every crisis message got its card"
    );
    assert_eq!(report.histories_checked, 3);
    assert!(
        report.history_mismatches.is_empty(),
        "{:?}",
        report.history_mismatches
    );
    assert_eq!(report.sessions_deleted, 3);
    assert!(report.latency.p50_ms > 0.0 && report.latency.p50_ms <= report.latency.p99_ms);
    assert!(report.throughput_per_s > 0.0);
    assert!(!report.hit_duration_limit);

    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("12 ok of 12 sent"), "{text}");
    assert!(text.contains("0 mismatched"), "{text}");
    assert!(
        !text.contains("anon_test"),
        "tokens must never be printed: {text}"
    );
    assert!(serde_json::to_string(&report).is_ok_and(|json| json.contains("\"messages_ok\":12")));
}

#[tokio::test]
async fn a_short_history_is_reported() {
    // Each session sent 4 messages answered 201, so 8 must be stored; the fake holds 7.
    let server = fake_server(7).await;
    let mut out = Vec::new();
    let report = run(args(&server.uri()), &mut out)
        .await
        .unwrap_or_else(|e| panic!("run failed: {e:#}"));
    assert_eq!(report.history_mismatches.len(), 3);
    assert!(
        report
            .history_mismatches
            .iter()
            .all(|m| m.expected == 8 && m.stored == Some(7))
    );
    assert!(String::from_utf8_lossy(&out).contains("expected 8 stored messages, found 7"));
}

#[tokio::test]
async fn refuses_bad_arguments_before_sending_anything() {
    let mut out = Vec::new();
    let remote = run(args("http://192.0.2.10:8000"), &mut out).await;
    assert!(remote.is_err_and(|e| e.to_string().contains("only targets this machine")));
    let mut zero = args("http://127.0.0.1:9");
    zero.sessions = 0;
    assert!(run(zero, &mut out).await.is_err());
    let mut huge = args("http://127.0.0.1:9");
    huge.sessions = MAX_SESSIONS;
    huge.messages_per_session = MAX_MESSAGES_PER_SESSION;
    assert!(run(huge, &mut out).await.is_err());
    let mut ratio = args("http://127.0.0.1:9");
    ratio.crisis_ratio = 1.5;
    assert!(run(ratio, &mut out).await.is_err());
    assert!(out.is_empty(), "nothing is printed for refused arguments");
}
