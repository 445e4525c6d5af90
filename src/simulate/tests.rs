use super::*;
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use wiremock::matchers::{header_exists, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn args(urls: &[String]) -> SimulateArgs {
    SimulateArgs {
        urls: urls.to_vec(),
        sessions: 3,
        messages_per_session: 4,
        concurrency: 4,
        think_time: Duration::ZERO,
        crisis_ratio: 0.5,
        duration_limit: Some(Duration::from_secs(30)),
    }
}

/// What the fake service stored, by token: the user messages in the order they arrived. Shared
/// by fakes standing for several instances of one service.
#[derive(Clone, Default)]
struct Stored(Arc<Mutex<HashMap<String, Vec<String>>>>);

fn token_of(request: &Request) -> String {
    request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("Bearer ")
        .to_owned()
}

/// A fresh token per created session, as the server gives.
struct NewSession(Arc<AtomicUsize>);

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

/// Stores the message and answers it with a crisis card exactly when it came from the crisis
/// pool, as the server's detector would.
struct Reply(Stored);

impl Respond for Reply {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let content = serde_json::from_slice::<serde_json::Value>(&request.body)
            .ok()
            .and_then(|v| v.get("content").and_then(|c| c.as_str()).map(str::to_owned))
            .unwrap_or_default();
        self.0
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(token_of(request))
            .or_default()
            .push(content.clone());
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

/// How the fake's history differs from what it stored.
#[derive(Clone, Copy)]
enum Fault {
    None,
    /// The last reply is missing.
    DropLastReply,
    /// The first two exchanges are swapped.
    SwapFirstTwo,
}

struct History(Stored, Fault);

impl Respond for History {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let sent = self
            .0
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&token_of(request))
            .cloned()
            .unwrap_or_default();
        let mut messages: Vec<serde_json::Value> = Vec::new();
        for content in &sent {
            messages.push(serde_json::json!({ "role": "user", "content": content }));
            messages.push(serde_json::json!({ "role": "assistant", "content": "Mình nghe đây." }));
        }
        match self.1 {
            Fault::None => {}
            Fault::DropLastReply => {
                messages.pop();
            }
            Fault::SwapFirstTwo => {
                if messages.len() >= 4 && messages[0] != messages[2] {
                    messages.swap(0, 2);
                } else {
                    // Identical first messages would hide the swap: change one instead.
                    messages[0]["content"] = serde_json::json!("một tin nhắn khác");
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "total_count": messages.len(),
            "messages": messages,
            "session_id": "00000000-0000-0000-0000-000000000000",
            "has_crisis_history": false
        }))
    }
}

/// A fake instance of the service; `stored` and `tokens` are shared with its siblings.
async fn fake_instance(stored: &Stored, tokens: &Arc<AtomicUsize>, fault: Fault) -> MockServer {
    let server = MockServer::start().await;
    let mocks = [
        Mock::given(method("POST"))
            .and(path("/api/v1/sessions"))
            .respond_with(NewSession(tokens.clone())),
        Mock::given(method("POST"))
            .and(path("/api/v1/messages"))
            .and(header_exists("authorization"))
            .respond_with(Reply(stored.clone())),
        Mock::given(method("GET"))
            .and(path("/api/v1/messages"))
            .and(query_param("limit", "200"))
            .and(query_param("offset", "0"))
            .and(header_exists("authorization"))
            .respond_with(History(stored.clone(), fault)),
        Mock::given(method("DELETE"))
            .and(path_regex(r"^/api/v1/sessions/anon_test\d{4}$"))
            .respond_with(ResponseTemplate::new(204)),
    ];
    for mock in mocks {
        mock.mount(&server).await;
    }
    server
}

async fn fake_service(instances: usize, fault: Fault) -> Vec<MockServer> {
    let (stored, tokens) = (Stored::default(), Arc::new(AtomicUsize::new(0)));
    let mut servers = Vec::new();
    for _ in 0..instances {
        servers.push(fake_instance(&stored, &tokens, fault).await);
    }
    servers
}

fn uris(servers: &[MockServer]) -> Vec<String> {
    servers.iter().map(MockServer::uri).collect()
}

/// Runs the simulation against `servers`: its report and what it printed.
async fn simulate(servers: &[MockServer]) -> (SimulationReport, String) {
    let mut out = Vec::new();
    let report = run(args(&uris(servers)), &mut out)
        .await
        .unwrap_or_else(|e| panic!("run failed: {e:#}"));
    (report, String::from_utf8_lossy(&out).into_owned())
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn full_run_against_a_fake_server() {
    let servers = fake_service(1, Fault::None).await;
    let (report, text) = simulate(&servers).await;

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
    assert_eq!(report.per_instance.len(), 1);
    assert_eq!(report.per_instance[0].requests, report.requests);

    assert!(text.contains("12 ok of 12 sent"), "{text}");
    assert!(text.contains("0 mismatched"), "{text}");
    assert!(
        !text.contains("anon_test"),
        "tokens must never be printed: {text}"
    );
    assert!(serde_json::to_string(&report).is_ok_and(|json| json.contains("\"messages_ok\":12")));
}

#[tokio::test]
async fn several_urls_take_turns_and_are_reported_each() {
    let servers = fake_service(2, Fault::None).await;
    let (report, text) = simulate(&servers).await;
    assert_eq!(report.messages_ok, 12);
    assert!(report.history_mismatches.is_empty());
    assert_eq!(report.per_instance.len(), 2);
    // 21 requests in strict turn: 11 to the first URL, 10 to the second.
    let counts: Vec<u64> = report.per_instance.iter().map(|i| i.requests).collect();
    assert_eq!(counts.iter().sum::<u64>(), 21);
    assert!(counts.iter().all(|&n| n == 10 || n == 11), "{counts:?}");
    for (instance, server) in report.per_instance.iter().zip(&servers) {
        assert_eq!(instance.url, server.uri());
        assert_eq!(instance.requests as usize, received(server).await);
        assert_eq!(instance.server_errors, 0);
        assert!(instance.messages_ok > 0, "both answered messages");
        assert!(instance.latency.p99_ms > 0.0);
    }
    assert_eq!(
        report
            .per_instance
            .iter()
            .map(|i| i.messages_ok)
            .sum::<u64>(),
        12
    );
    assert!(
        text.contains("instance 0") && text.contains("instance 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_short_history_is_reported() {
    // Each session sent 4 messages answered 201, so 8 must be stored; the fake holds 7.
    let servers = fake_service(1, Fault::DropLastReply).await;
    let (report, text) = simulate(&servers).await;
    assert_eq!(report.history_mismatches.len(), 3);
    assert!(
        report
            .history_mismatches
            .iter()
            .all(|m| m.expected == 8 && m.stored == Some(7))
    );
    assert!(
        text.contains("expected 8 stored messages, found 7"),
        "{text}"
    );
}

#[tokio::test]
async fn a_history_out_of_order_is_reported() {
    let servers = fake_service(1, Fault::SwapFirstTwo).await;
    let (report, _) = simulate(&servers).await;
    assert_eq!(report.history_mismatches.len(), 3, "{report:?}");
    assert!(report.history_mismatches.iter().all(|m| m.stored == Some(8)
        && m.problem == Some("a message differs from what was sent, or out of order")));
}

fn message(role: &str, content: &str) -> HistoryMessage {
    HistoryMessage {
        role: role.to_owned(),
        content: Some(content.to_owned()),
    }
}

fn exchanges(users: &[&str]) -> Vec<HistoryMessage> {
    users
        .iter()
        .flat_map(|u| [message("user", u), message("assistant", "ừ")])
        .collect()
}

fn acked(content: &'static str) -> Sent {
    Sent {
        content,
        acknowledged: true,
    }
}

fn unknown(content: &'static str) -> Sent {
    Sent {
        content,
        acknowledged: false,
    }
}

#[test]
fn a_user_message_without_its_reply_is_a_mismatch() {
    let sent = [acked("một"), acked("hai")];
    assert_eq!(
        compare_history(0, &sent, Some(&exchanges(&["một", "hai"]))),
        None
    );
    let two_users = [
        message("user", "một"),
        message("user", "hai"),
        message("assistant", "ừ"),
        message("assistant", "ừ"),
    ];
    let found = compare_history(0, &sent, Some(&two_users));
    assert_eq!(found.and_then(|m| m.problem), Some("messages out of turn"));
    let mut unanswered = exchanges(&["một"]);
    unanswered.push(message("user", "hai"));
    unanswered.push(message("user", "ba"));
    let found = compare_history(
        0,
        &[acked("một"), unknown("hai"), unknown("ba")],
        Some(&unanswered),
    );
    assert_eq!(found.and_then(|m| m.problem), Some("messages out of turn"));
    assert_eq!(
        compare_history(4, &sent, None),
        Some(HistoryMismatch {
            session: 4,
            expected: 4,
            stored: None,
            problem: None
        })
    );
}

#[test]
fn a_message_without_an_answer_may_be_stored_or_not_but_only_in_its_place() {
    let sent = [acked("một"), unknown("hai"), acked("hai"), acked("ba")];
    // Either the unanswered "hai" was stored or it was not; equal texts are fine both ways.
    assert_eq!(
        compare_history(0, &sent, Some(&exchanges(&["một", "hai", "ba"]))),
        None
    );
    assert_eq!(
        compare_history(0, &sent, Some(&exchanges(&["một", "hai", "hai", "ba"]))),
        None
    );
    // An acknowledged message is missing.
    let lost = compare_history(0, &sent, Some(&exchanges(&["một", "hai"])));
    assert_eq!(lost.map(|m| (m.expected, m.stored)), Some((6, Some(4))));
    // Out of order.
    let swapped = compare_history(0, &sent, Some(&exchanges(&["một", "ba", "hai"])));
    assert!(swapped.is_some_and(|m| m.problem.is_some()));
    // Something nobody sent.
    let extra = compare_history(0, &sent, Some(&exchanges(&["một", "bốn", "hai", "ba"])));
    assert!(extra.is_some_and(|m| m.problem.is_some()));
    let unknown_first = [unknown("một"), acked("một")];
    assert_eq!(
        compare_history(0, &unknown_first, Some(&exchanges(&["một"]))),
        None
    );
}

#[tokio::test]
async fn refuses_bad_arguments_before_sending_anything() {
    let mut out = Vec::new();
    let remote = run(args(&["http://192.0.2.10:8000".into()]), &mut out).await;
    assert!(remote.is_err_and(|e| e.to_string().contains("only targets this machine")));
    let one_remote = args(&["http://127.0.0.1:9".into(), "http://192.0.2.10:8000".into()]);
    assert!(
        run(one_remote, &mut out)
            .await
            .is_err_and(|e| e.to_string().contains("only targets this machine"))
    );
    let none = args(&[]);
    assert!(
        run(none, &mut out)
            .await
            .is_err_and(|e| e.to_string().contains("--url"))
    );
    let local = ["http://127.0.0.1:9".to_string()];
    let mut zero = args(&local);
    zero.sessions = 0;
    assert!(run(zero, &mut out).await.is_err());
    let mut huge = args(&local);
    huge.sessions = MAX_SESSIONS;
    huge.messages_per_session = MAX_MESSAGES_PER_SESSION;
    assert!(run(huge, &mut out).await.is_err());
    let mut ratio = args(&local);
    ratio.crisis_ratio = 1.5;
    assert!(run(ratio, &mut out).await.is_err());
    assert!(out.is_empty(), "nothing is printed for refused arguments");
}
