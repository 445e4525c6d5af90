//! A database outage under a running service, through the tests' own TCP proxy in front of a
//! real PostgreSQL: new requests are refused with a fast, honest 503 `database_unavailable`
//! (never a 500), readiness drains the instance, and chat comes back without a restart.
//!
//! The pool's acquire timeout is set far above the bound every refusal is held to, so a request
//! that waited it out (the breaker failing to stop the wait) fails the bound instead of passing
//! by luck.

use crate::fault_proxy::{FaultProxy, Mode};
use crate::helpers::{Backend, TestApp, TestDatabase, spawn_app_on};
use crate::support::header;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long the pool waits for a connection in these tests.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

/// How soon a refusal must come: well before [`ACQUIRE_TIMEOUT`], loose enough for a slow machine.
const REFUSED_WITHIN: Duration = Duration::from_secs(15);

/// One request fired during the outage: when it was answered (since the cut) and how.
struct Answer {
    answered_after: Duration,
    took: Duration,
    status: u16,
    error: Option<String>,
    retry_after: Option<String>,
}

async fn post_message(client: &reqwest::Client, url: &str, token: &str, since: Instant) -> Answer {
    let sent = Instant::now();
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({"content": "hôm nay mình thấy hơi mệt"}))
        .timeout(ACQUIRE_TIMEOUT + Duration::from_secs(10))
        .send()
        .await
        .expect("the service answers during the outage");
    let status = response.status().as_u16();
    let retry_after = header(&response, "retry-after");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Answer {
        answered_after: since.elapsed(),
        took: sent.elapsed(),
        status,
        error: body["error"].as_str().map(str::to_string),
        retry_after,
    }
}

async fn ready_status(client: &reqwest::Client, address: &str) -> u16 {
    client
        .get(format!("{address}/health/ready"))
        .send()
        .await
        .expect("readiness answers")
        .status()
        .as_u16()
}

/// A server on a fresh PostgreSQL database reached through a fault proxy.
async fn app_behind_proxy() -> (FaultProxy, TestApp) {
    let proxy = FaultProxy::to_postgres().await;
    let database = TestDatabase::create(Backend::Postgres).await;
    let through_proxy = proxy.url_for(&database.url);
    let app = spawn_app_on(database, move |s| {
        s.database.url = secrecy::SecretString::from(through_proxy);
        // Requests caught mid-commit by a freeze fail after this (plus 2 s), not after the
        // stage timeout: then they too are `database_unavailable`.
        s.database.statement_timeout_ms = 1000;
        s.database.acquire_timeout_s = ACQUIRE_TIMEOUT.as_secs();
    })
    .await;
    (proxy, app)
}

/// [`app_behind_proxy`] with a session that has sent `first` and had its answer.
async fn app_with_one_exchange(first: &str) -> (FaultProxy, TestApp, String) {
    let (proxy, app) = app_behind_proxy().await;
    let token = app.create_session().await;
    let (status, body) = app.send_message(&token, first).await;
    assert_eq!(status, 201, "{body}");
    (proxy, app, token)
}

/// Sends `content` until it is created, each refusal a 503, for at most 10 s once the database
/// is back; returns the created answer.
async fn send_until_created(app: &TestApp, token: &str, content: &str, what: &str) -> Value {
    let restored = Instant::now();
    loop {
        let (status, body) = app.send_message(token, content).await;
        if status == 201 {
            return body;
        }
        assert_eq!(status, 503, "while recovering: {body}");
        assert!(restored.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_database_cut_gets_a_fast_503_and_recovers_without_a_restart() {
    outage(Mode::Cut).await;
}

#[actix_web::test]
async fn a_frozen_database_gets_a_fast_503_and_recovers_without_a_restart() {
    outage(Mode::Freeze).await;
}

/// The server refuses connections (it is down) while the pool's connections are broken: a
/// request must find a new connection, which the pool keeps retrying until its acquire timeout
/// unless the breaker stops the wait.
#[actix_web::test]
async fn a_refused_database_gets_a_fast_503_and_recovers_without_a_restart() {
    outage(Mode::Refuse).await;
}

/// Requests through an outage of kind `fault` and after it: every answer is 503
/// `database_unavailable` with `Retry-After` (never a 500), readiness is 503 meanwhile, and chat
/// comes back without a restart. Each refusal comes well before the acquire timeout; the exact
/// timings are printed for BENCHMARKS.md, not asserted.
async fn outage(fault: Mode) {
    let (proxy, app) = app_behind_proxy().await;
    // One session per request: a session's requests queue behind each other, which is not what
    // this test measures.
    let mut tokens = Vec::new();
    for _ in 0..60 {
        tokens.push(app.create_session().await);
    }
    let url = app.url("/api/v1/messages");
    let (status, body) = app.send_message(&tokens[0], "xin chào").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(ready_status(&app.client, &app.address).await, 200);

    proxy.set(fault);
    let cut = Instant::now();
    // A client retrying every 100 ms, each attempt on its own session, never waiting for the last.
    let mut attempts = Vec::new();
    let mut first_refusal = None;
    let mut next = 1;
    while cut.elapsed() < Duration::from_secs(4) {
        let (client, url, token) = (app.client.clone(), url.clone(), tokens[next].clone());
        next += 1;
        attempts.push(actix_web::rt::spawn(async move {
            post_message(&client, &url, &token, cut).await
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut answers = Vec::new();
    for attempt in attempts {
        answers.push(attempt.await.expect("attempt task"));
    }
    for answer in &answers {
        assert!(
            answer.status == 503,
            "during the outage every request is answered 503, got {} {:?} after {:?}",
            answer.status,
            answer.error,
            answer.answered_after
        );
        assert_eq!(answer.error.as_deref(), Some("database_unavailable"));
        assert!(answer.retry_after.is_some(), "a 503 carries Retry-After");
        assert!(
            answer.took < REFUSED_WITHIN,
            "refused after {:?}: it waited for a connection instead of giving up",
            answer.took
        );
        if first_refusal.is_none_or(|first| answer.answered_after < first) {
            first_refusal = Some(answer.answered_after);
        }
    }
    let first_refusal = first_refusal.expect("at least one answer");
    let fast = answers
        .iter()
        .filter(|a| a.took < Duration::from_millis(200))
        .count();
    println!(
        "outage ({fault:?}): first 503 {first_refusal:?} after the fault; {fast} of {} attempts refused in under 200 ms; slowest attempt {:?}",
        answers.len(),
        answers.iter().map(|a| a.took).max().unwrap_or_default()
    );
    assert_eq!(ready_status(&app.client, &app.address).await, 503);
    let health = app
        .client
        .get(app.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 503);
    let health: Value = health.json().await.expect("health json");
    assert_eq!(health["checks"]["database"], "down", "{health}");

    proxy.set(Mode::Forward);
    let restored = Instant::now();
    let back = loop {
        let answer = post_message(&app.client, &url, &tokens[next], restored).await;
        next += 1;
        assert!(
            answer.status == 201 || answer.status == 503,
            "while recovering: {} {:?}",
            answer.status,
            answer.error
        );
        if answer.status == 201 {
            break restored.elapsed();
        }
        assert!(
            restored.elapsed() < Duration::from_secs(10),
            "no 201 within 10 s of the database coming back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!("recovery ({fault:?}): first 201 {back:?} after the database came back");
    assert_eq!(ready_status(&app.client, &app.address).await, 200);
    let (status, body) = app.send_message(&tokens[0], "mình quay lại rồi").await;
    assert_eq!(
        status, 201,
        "the session used before the outage works again: {body}"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_commit_on_a_frozen_network_fails_after_the_statement_timeout_not_later() {
    let (proxy, app, token) = app_with_one_exchange("xin chào").await;
    assert!(
        app.settings.pipeline.stage_timeout_ms >= 8000,
        "the stage timeout must be well past the commit timeout for this test to tell them apart"
    );

    proxy.set(Mode::Freeze);
    let sent = Instant::now();
    let answer = post_message(&app.client, &app.url("/api/v1/messages"), &token, sent).await;
    println!(
        "frozen commit: {} {:?} after {:?}",
        answer.status, answer.error, answer.took
    );
    assert_eq!(answer.status, 503);
    assert_eq!(answer.error.as_deref(), Some("database_unavailable"));
    // The failed commit and then the retraction of its message each wait one commit timeout
    // (statement timeout + 2 s = 3 s); without it the request would wait out the 10 s stage
    // timeout and answer `overloaded`.
    assert!(
        answer.took < Duration::from_millis(7500),
        "the commit was given up on after {:?}, not at two commit timeouts",
        answer.took
    );

    proxy.set(Mode::Forward);
    send_until_created(
        &app,
        &token,
        "mình quay lại rồi",
        "the writer is still stuck 10 s after the network came back",
    )
    .await;
    app.stop().await;
}

/// A message refused during an outage left nothing behind: retried after the database is back,
/// it is stored once, answered once, right after the exchange before it.
#[actix_web::test]
async fn a_message_retried_after_an_outage_is_stored_and_answered_once() {
    let (proxy, app, token) = app_with_one_exchange("trước khi mất kết nối").await;

    proxy.set(Mode::Cut);
    let sent = Instant::now();
    let (status, body) = app.send_message(&token, "gửi lại lần nữa").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "database_unavailable", "{body}");
    assert!(
        sent.elapsed() < REFUSED_WITHIN,
        "refused after {:?}",
        sent.elapsed()
    );
    proxy.set(Mode::Forward);
    let body = send_until_created(
        &app,
        &token,
        "gửi lại lần nữa",
        "no 201 within 10 s of the database coming back",
    )
    .await;
    assert_eq!(body["user_message"]["content"], "gửi lại lần nữa", "{body}");

    let history = app.history(&token).await;
    let messages = history["messages"].as_array().expect("messages");
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        roles,
        ["user", "assistant", "user", "assistant"],
        "{history}"
    );
    assert_eq!(messages[2]["content"], "gửi lại lần nữa");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE awaiting_reply")
            .await,
        0,
        "no message is left awaiting an answer"
    );
    app.stop().await;
}
