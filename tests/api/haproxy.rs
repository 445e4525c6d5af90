//! A real load balancer: HAProxy with the shipped configuration (`ops/haproxy/haproxy.cfg`), on
//! free ports, in round-robin over two instances of the real binary on one PostgreSQL and one
//! Redis, driven by the load simulator. No session affinity: the histories must still be exact
//! and in order, and the rate limits shared. Then one instance is killed with SIGKILL mid-run: the
//! other serves every session and nothing acknowledged is lost; a message the killed instance
//! had stored but not yet answered (its streamed reply was still coming) is answered by the other
//! instance's janitor, though nobody reopens that session.
//!
//! HAProxy must be installed (`apt-get install -y haproxy`); the test fails, never skips, when it
//! is not. Redis must run at 127.0.0.1:6379.

use crate::helpers::{Backend, TestDatabase, count_at};
use crate::processes::{ServeProcess, free_port, installed, open_session};
use crate::streaming::read_until;
use cbln::simulate::{SimulateArgs, SimulationReport};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// Messages a session may send at once; the rate (one a minute) adds none during the test.
const MESSAGE_BURST: usize = 40;

fn shipped_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ops/haproxy/haproxy.cfg")
}

/// HAProxy running the shipped configuration, pointed at two instances.
struct Balancer {
    /// Kept so that HAProxy stops with the test (`kill_on_drop`).
    _process: tokio::process::Child,
    /// Where clients connect.
    url: String,
    /// The stats page's CSV.
    stats: String,
}

/// One server as HAProxy's stats show it.
#[derive(Debug)]
struct Server {
    name: String,
    status: String,
    /// Connections it was given.
    sessions: u64,
}

impl Balancer {
    async fn start(instances: [&str; 2]) -> Balancer {
        let (port, stats_port) = (free_port(), free_port());
        let haproxy = installed("haproxy", "apt-get install -y haproxy");
        let child = tokio::process::Command::new(haproxy)
            // In the foreground, so the child is HAProxy itself.
            .arg("-db")
            .arg("-f")
            .arg(shipped_config())
            .env("CBLN_HAPROXY_BIND", format!("127.0.0.1:{port}"))
            .env("CBLN_HAPROXY_STATS", format!("127.0.0.1:{stats_port}"))
            .env("CBLN_INSTANCE_1", instances[0])
            .env("CBLN_INSTANCE_2", instances[1])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy starts");
        let balancer = Balancer {
            _process: child,
            url: format!("http://127.0.0.1:{port}"),
            stats: format!("http://127.0.0.1:{stats_port}/stats;csv"),
        };
        balancer
            .wait_for("both instances up", |servers| {
                servers.len() == 2 && servers.iter().all(|s| s.status == "UP")
            })
            .await;
        balancer
    }

    async fn servers(&self) -> Vec<Server> {
        let Ok(response) = reqwest::get(&self.stats).await else {
            return Vec::new();
        };
        let csv = response.text().await.unwrap_or_default();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
        let (proxy, server, status, sessions) = (
            column("pxname"),
            column("svname"),
            column("status"),
            column("stot"),
        );
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|f| f[proxy] == "cbln_instances" && f[server].starts_with("cbln"))
            .map(|f| Server {
                name: f[server].to_string(),
                status: f[status].to_string(),
                sessions: f[sessions].parse().unwrap_or(0),
            })
            .collect()
    }

    async fn wait_for(&self, what: &str, done: impl Fn(&[Server]) -> bool) -> Vec<Server> {
        let started = Instant::now();
        loop {
            let servers = self.servers().await;
            if done(&servers) {
                return servers;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "HAProxy never showed {what}: {servers:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The environment of both instances: one database, one Redis, the same keys, HAProxy trusted
/// for `X-Forwarded-For`, and a per-session burst no simulated session exceeds.
fn instance_env(database_url: &str) -> Vec<(&'static str, String)> {
    let (key, secret) = (
        cbln_actors::crypto::MasterKey::generate().to_base64(),
        cbln_actors::crypto::generate_secret_key(),
    );
    vec![
        ("DATABASE_URL", database_url.to_string()),
        ("REDIS_URL", REDIS_URL.to_string()),
        ("ENCRYPTION_KEY", key),
        ("SECRET_KEY", secret),
        (
            "CBLN__SERVER__TRUSTED_PROXIES",
            r#"["127.0.0.1"]"#.to_string(),
        ),
        ("CBLN__RATE_LIMIT__ENABLED", "true".to_string()),
        ("CBLN__RATE_LIMIT__MESSAGES_PER_MINUTE", "1".to_string()),
        ("CBLN__RATE_LIMIT__MESSAGE_BURST", MESSAGE_BURST.to_string()),
        ("CBLN__RATE_LIMIT__SESSIONS_PER_MINUTE", "1000".to_string()),
        ("CBLN__RATE_LIMIT__SESSION_BURST", "1000".to_string()),
        // Orphans are looked for every second and answered after five, so the test need not
        // wait out the two minutes a streamed reply is given in production.
        ("CBLN__JANITOR__ORPHAN_SWEEP_INTERVAL_S", "1".to_string()),
        ("CBLN__JANITOR__ORPHAN_GRACE_S", "5".to_string()),
    ]
}

/// An OpenAI-compatible provider that answers at once, except a streamed reply, which it holds
/// far longer than the test runs: the instance asking for one is killed while it waits.
async fn provider_slow_to_stream() -> MockServer {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(300)))
        .with_priority(1)
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "served-model",
            "choices": [{"index": 0, "message": {"role": "assistant",
                "content": "Mình đang nghe bạn đây. Bạn kể tiếp nhé?"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
        })))
        .mount(&provider)
        .await;
    provider
}

fn responder_env(provider: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("CBLN__RESPONDER__PROVIDER", "openai".to_string()),
        (
            "CBLN__RESPONDER__BASE_URL",
            format!("{}/v1", provider.uri()),
        ),
        ("CBLN__RESPONDER__MODEL", "test-model".to_string()),
        ("CBLN__RESPONDER__TIMEOUT_MS", "60000".to_string()),
    ]
}

/// Opens a session on `address` and posts a streamed message there; returns once the message
/// is stored (`message.accepted`), with the session's token and the response still streaming.
async fn stream_until_accepted(address: &str, content: &str) -> (String, reqwest::Response) {
    let client = reqwest::Client::new();
    let token = open_session(&client, address).await;
    let mut response = client
        .post(format!("{address}/api/v1/messages"))
        .bearer_auth(&token)
        .header("Accept", "text/event-stream")
        .json(&json!({"content": content}))
        .send()
        .await
        .expect("streamed post");
    assert_eq!(response.status(), 200);
    read_until(&mut response, "message.accepted").await;
    (token, response)
}

async fn simulate(
    url: &[&str],
    sessions: usize,
    messages: usize,
    think_ms: u64,
) -> (SimulationReport, String) {
    let args = SimulateArgs {
        urls: url.iter().map(|u| u.to_string()).collect(),
        sessions,
        messages_per_session: messages,
        concurrency: sessions,
        think_time: Duration::from_millis(think_ms),
        crisis_ratio: 0.1,
        duration_limit: Some(Duration::from_secs(60)),
    };
    crate::simulate::simulate(args).await
}

fn server_errors(report: &SimulationReport) -> u64 {
    report
        .status_counts
        .iter()
        .filter(|(status, _)| status.starts_with('5'))
        .map(|(_, n)| n)
        .sum()
}

/// A clean run: every message answered 201, every history exact, the crisis path intact.
fn assert_clean(report: &SimulationReport, sessions: usize, messages: usize, out: &str) {
    assert_eq!(server_errors(report), 0, "no 5xx:\n{out}");
    assert_eq!(report.sessions_created, sessions, "{out}");
    assert_eq!(report.messages_ok as usize, sessions * messages, "{out}");
    assert_eq!(report.histories_checked, sessions, "{out}");
    assert!(
        report.history_mismatches.is_empty(),
        "every history exact and in order: {:?}\n{out}",
        report.history_mismatches
    );
    assert_eq!(report.crisis_messages_without_card, 0, "{out}");
    assert_eq!(report.sessions_deleted, sessions, "{out}");
}

async fn messages_stored(database_url: &str) -> i64 {
    count_at(database_url, "SELECT COUNT(*) FROM messages").await
}

async fn awaiting_replies(database_url: &str) -> i64 {
    count_at(
        database_url,
        "SELECT COUNT(*) FROM messages WHERE awaiting_reply",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_round_robin_over_two_instances_and_one_killed_mid_run() {
    let _serial = crate::events::REDIS_TESTS.lock().await;
    crate::shared_rate_limits::require_redis().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let database = TestDatabase::create(Backend::Postgres).await;
    let env = instance_env(&database.url);
    let provider = provider_slow_to_stream().await;
    let env_b: Vec<_> = env
        .iter()
        .cloned()
        .chain(responder_env(&provider))
        .collect();
    let (dir_a, dir_b) = (tempdir(), tempdir());
    let a = ServeProcess::start(dir_a.path(), &env).await;
    let b = ServeProcess::start(dir_b.path(), &env_b).await;
    let balancer = Balancer::start([a.host_port(), b.host_port()]).await;

    // Through the balancer, round-robin, no affinity.
    let (report, out) = simulate(&[&balancer.url], 12, 8, 0).await;
    assert_clean(&report, 12, 8, &out);
    let servers = balancer.servers().await;
    assert!(
        servers.iter().all(|s| s.sessions > 0),
        "both instances served: {servers:?}"
    );
    // The simulator's own round-robin over both instances, reported per instance.
    let (report, out) = simulate(&[&a.address, &b.address], 6, 6, 0).await;
    assert_clean(&report, 6, 6, &out);
    assert_eq!(report.per_instance.len(), 2);
    for instance in &report.per_instance {
        assert_eq!(instance.server_errors, 0, "{out}");
        assert!(instance.messages_ok > 0, "{out}");
    }

    // The per-session limit is one limit, wherever the messages land.
    let client = reqwest::Client::new();
    let token = open_session(&client, &balancer.url).await;
    let mut accepted = 0;
    let mut refused = 0;
    for _ in 0..MESSAGE_BURST + 4 {
        let status = client
            .post(format!("{}/api/v1/messages", balancer.url))
            .bearer_auth(&token)
            .json(&json!({"content": "mình chỉ muốn nói thêm một chút"}))
            .send()
            .await
            .expect("post")
            .status()
            .as_u16();
        match status {
            201 => accepted += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        (accepted, refused),
        (MESSAGE_BURST, 4),
        "one burst for the session across both instances"
    );

    // SIGKILL one instance mid-run: the other serves every session. Just before, B stores a
    // message whose streamed reply it is still waiting for when it dies.
    let before = messages_stored(&database.url).await;
    let finished = std::sync::atomic::AtomicBool::new(false);
    let run = async {
        let outcome = simulate(&[&balancer.url], 12, 30, 20).await;
        finished.store(true, std::sync::atomic::Ordering::SeqCst);
        outcome
    };
    const ORPHAN: &str = "mình gửi tin này rồi mất kết nối";
    let kill = async {
        while messages_stored(&database.url).await < before + 60 {
            assert!(
                !finished.load(std::sync::atomic::Ordering::SeqCst),
                "the run ended before the kill"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let orphan = stream_until_accepted(&b.address, ORPHAN).await;
        assert!(
            !finished.load(std::sync::atomic::Ordering::SeqCst),
            "the kill lands mid-run"
        );
        b.signal("KILL");
        assert_eq!(
            awaiting_replies(&database.url).await,
            1,
            "B died before answering (well within the grace period)"
        );
        orphan
    };
    let ((report, out), (orphan_token, _stream)) = tokio::join!(run, kill);
    println!("{out}");
    assert_eq!(report.sessions_created, 12, "{out}");
    assert_eq!(
        report.histories_checked, 12,
        "every session's history read: {out}"
    );
    assert!(
        report.history_mismatches.is_empty(),
        "nothing acknowledged lost, nothing out of order, nothing unanswered: {:?}\n{out}",
        report.history_mismatches
    );
    // Only a request in flight at the kill may fail: at most one per session.
    assert!(
        report.messages_sent - report.messages_ok <= 12,
        "messages failed after the kill:\n{out}"
    );
    assert_eq!(report.sessions_deleted, 12, "{out}");
    let servers = balancer
        .wait_for("the killed instance down", |servers| {
            servers
                .iter()
                .any(|s| s.name == "cbln2" && s.status != "UP")
        })
        .await;
    println!("{servers:?}");

    // The message B stored without an answer is answered by A, though nobody reopened it.
    let started = Instant::now();
    loop {
        if awaiting_replies(&database.url).await == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the killed instance's unanswered message is still unanswered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let history: serde_json::Value = client
        .get(format!("{}/api/v1/messages", balancer.url))
        .bearer_auth(&orphan_token)
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("json");
    let messages = history["messages"].as_array().expect("messages");
    let turns: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or(""),
                m["content"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(turns.len(), 2, "{history}");
    assert_eq!(turns[0], ("user", ORPHAN), "{history}");
    assert_eq!(turns[1].0, "assistant", "{history}");
    assert!(!turns[1].1.is_empty(), "{history}");
    assert_eq!(
        messages_stored(&database.url).await,
        2 * MESSAGE_BURST as i64 + 2,
        "the runs deleted every session they made; the limit check's and the orphan's remain"
    );
    drop(balancer);
    drop(a);
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}
