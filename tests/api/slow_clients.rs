//! Slow or greedy clients cost little, over real HTTP: a stalled body ends in 408, one address
//! cannot hold more than its share of connections, an oversized URL gets a JSON 414, token and
//! message responses are never cached, the open-file limit is raised at start, and one key used
//! as both SECRET_KEY and ENCRYPTION_KEY is refused.

use crate::helpers::{Backend, spawn_app_with};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection or `limit` passes; the raw response text.
async fn read_response(stream: &mut TcpStream, limit: Duration) -> String {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(count)) => {
                bytes.extend_from_slice(&buffer[..count]);
                // One response with a body is enough for these tests.
                let text = String::from_utf8_lossy(&bytes);
                if let Some((head, body)) = text.split_once("\r\n\r\n")
                    && let Some(length) = head
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                    && body.len() >= length
                {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn status_and_body(response: &str) -> (u16, Value, String) {
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (
        status,
        serde_json::from_str(body).unwrap_or(Value::Null),
        head.to_ascii_lowercase(),
    )
}

fn port_of(address: &str) -> u16 {
    address
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("port")
}

#[actix_web::test]
async fn a_body_that_stalls_after_its_headers_ends_in_408() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.server.body_read_timeout_ms = 500).await;
    let token = app.create_session().await;
    let mut stream = TcpStream::connect(("127.0.0.1", port_of(&app.address)))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"content\": \"mình"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let response = read_response(&mut stream, Duration::from_secs(10)).await;
    let took = started.elapsed();
    let (status, body, headers) = status_and_body(&response);
    assert_eq!(status, 408, "{response}");
    assert_eq!(body["error"], "request_timeout", "{response}");
    assert!(headers.contains("connection: close"), "{response}");
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "answered after {took:?} for a 500 ms deadline"
    );
    // The connection is closed after the 408, so it no longer costs a descriptor.
    let mut rest = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "still open: {closed:?}"
    );
    // Nothing of the half-sent message was stored.
    let history = app.history(&token).await;
    assert_eq!(history["total_count"], 0, "{history}");
    app.stop().await;
}

#[actix_web::test]
async fn one_address_cannot_hold_more_connections_than_its_cap() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.max_connections_per_address = 3
    })
    .await;
    let port = port_of(&app.address);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect"),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let request = b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut extra = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    extra.write_all(request).await.expect("write");
    let response = read_response(&mut extra, Duration::from_secs(5)).await;
    let (status, body, headers) = status_and_body(&response);
    assert_eq!(status, 429, "{response}");
    assert_eq!(body["error"], "too_many_connections", "{response}");
    assert!(headers.contains("retry-after"), "{response}");
    assert!(headers.contains("connection: close"), "{response}");

    // Closing one gives its place back.
    drop(held.pop());
    drop(extra);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    again.write_all(request).await.expect("write");
    let response = read_response(&mut again, Duration::from_secs(5)).await;
    assert_eq!(status_and_body(&response).0, 200, "{response}");
    drop(held);
    app.stop().await;
}

#[actix_web::test]
async fn an_oversized_url_gets_a_json_414() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let limit = app.settings.server.max_url_bytes;
    let path = format!("/api/v1/messages?session_token={}", "a".repeat(limit));
    let response = app.client.get(app.url(&path)).send().await.expect("send");
    assert_eq!(response.status(), 414);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "uri_too_long", "{body}");
    // Just under the limit is an ordinary request (here: an unknown token).
    let path = format!("/api/v1/messages?session_token={}", "a".repeat(limit - 64));
    let response = app.client.get(app.url(&path)).send().await.expect("send");
    assert_ne!(response.status(), 414);
    app.stop().await;
}

#[actix_web::test]
async fn responses_with_a_token_or_decrypted_text_are_not_stored() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let created = app
        .client
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let body: Value = created.json().await.expect("json");
    let token = body["session"]["session_token"].as_str().expect("token");
    let sent = app
        .client
        .post(app.url("/api/v1/messages"))
        .bearer_auth(token)
        .json(&serde_json::json!({"content": "xin chào"}))
        .send()
        .await
        .expect("send");
    assert_eq!(sent.status(), 201);
    assert_eq!(sent.headers()["cache-control"], "no-store");
    for path in ["/api/v1/messages", &format!("/api/v1/sessions/{token}")] {
        let response = app
            .client
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    app.stop().await;
}

#[test]
fn the_same_key_for_secret_and_encryption_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = cbln_actors::crypto::MasterKey::generate().to_base64();
    let output = crate::config_errors::cbln(
        dir.path(),
        &["serve"],
        &[
            ("CBLN_ENV", "production"),
            ("DATABASE_URL", "sqlite://./cbln.db"),
            ("ENCRYPTION_KEY", key.as_str()),
            ("SECRET_KEY", key.as_str()),
        ],
    );
    let stderr = crate::config_errors::stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("SECRET_KEY")
            && stderr.contains("ENCRYPTION_KEY")
            && stderr.contains("differ"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&key),
        "the key itself is never printed: {stderr}"
    );
    assert!(
        !dir.path().join("cbln.db").exists(),
        "refused before touching the database"
    );
}

#[tokio::test]
async fn the_open_file_limit_is_raised_at_start() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let hard: u64 = std::fs::read_to_string("/proc/self/limits")
        .expect("limits")
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(4).map(str::to_string))
        .and_then(|value| value.parse().ok())
        .expect("a hard open-file limit");
    assert!(
        hard > 256,
        "the hard limit here ({hard}) leaves nothing to raise"
    );
    let binary = crate::config_errors::cbln_binary();
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", "ulimit -Sn 256 && exec \"$0\" serve"])
        .arg(&binary)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CBLN_ENV", "test")
        .env("DATABASE_URL", "sqlite://./cbln.db")
        .env("PORT", port.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("cbln starts");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while !client
        .get(format!("http://127.0.0.1:{port}/health/live"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cbln never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = child.id().expect("pid");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("child limits");
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .expect("open files line")
        .to_string();
    let soft: u64 = line
        .split_whitespace()
        .nth(3)
        .and_then(|v| v.parse().ok())
        .expect("soft limit");
    assert_eq!(soft, hard, "started with a soft limit of 256: {line}");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("exits after SIGTERM")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
}
