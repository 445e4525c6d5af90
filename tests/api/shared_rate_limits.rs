//! Rate limits shared through Redis: two instances on one Redis hold one limit per session and
//! per client address; with Redis unreachable each instance still limits on its own and nobody is
//! refused for Redis being down. Redis must be running at 127.0.0.1:6379 (the test fails, never
//! skips, when it is not).

use crate::helpers::{Backend, TestApp, spawn_app_with, spawn_two_instances};
use crate::rate_limits::small_limits;
use crate::support::{Fetch, header};
use bb8_redis::redis;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

pub(crate) async fn require_redis() {
    let client = redis::Client::open(REDIS_URL).expect("redis url");
    let reachable = tokio::time::timeout(
        Duration::from_secs(3),
        client.get_multiplexed_async_connection(),
    )
    .await;
    assert!(
        matches!(reachable, Ok(Ok(_))),
        "Redis is required for this test and is unreachable at {REDIS_URL}. \
         Start it with: redis-server --daemonize yes"
    );
}

async fn post_message(app: &TestApp, token: &str) -> (u16, Value, Option<String>) {
    let response = app
        .post_as("/api/v1/messages", token)
        .json(&json!({"content": "chào bạn"}))
        .fetch()
        .await;
    let status = response.status().as_u16();
    let retry_after = header(&response, "retry-after");
    (status, response.json().await.unwrap(), retry_after)
}

async fn create_session(app: &TestApp) -> (u16, Value) {
    app.post("/api/v1/sessions").fetch_json().await
}

#[actix_web::test]
async fn two_instances_on_one_redis_share_the_limits() {
    require_redis().await;
    let (a, b) = spawn_two_instances(|s| {
        small_limits(s, 3);
        s.redis.url = SecretString::from(REDIS_URL.to_string());
    })
    .await;

    // Per address: three creations in all, wherever they land.
    let mut tokens = Vec::new();
    for app in [&a, &b, &a] {
        let (status, body) = create_session(app).await;
        assert_eq!(status, 201, "{body}");
        tokens.push(
            body["session"]["session_token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for app in [&b, &a] {
        let (status, body) = create_session(app).await;
        assert_eq!(
            status, 429,
            "the fourth creation is refused on either instance: {body}"
        );
        assert_eq!(body["error"], "rate_limited", "{body}");
    }

    // Per session: a burst of two, wherever the messages land.
    let token = &tokens[0];
    let (status, body, _) = post_message(&a, token).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = post_message(&b, token).await;
    assert_eq!(status, 201, "{body}");
    for app in [&a, &b] {
        let (status, body, retry_after) = post_message(app, token).await;
        assert_eq!(
            status, 429,
            "the session's third message is refused everywhere: {body}"
        );
        let seconds: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
        assert!((1..=60).contains(&seconds), "{seconds}");
    }
    // Another session has its own budget.
    let (status, body, _) = post_message(&b, &tokens[1]).await;
    assert_eq!(status, 201, "{body}");

    b.stop().await;
    a.stop().await;
}

#[actix_web::test]
async fn with_redis_down_each_instance_still_limits_and_nobody_is_refused_for_it() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        small_limits(s, 3);
        s.redis.url = SecretString::from("redis://127.0.0.1:1".to_string());
        s.redis.connect_timeout_ms = 500;
    })
    .await;
    let started = Instant::now();
    let (status, body) = create_session(&app).await;
    assert_eq!(status, 201, "{body}");
    let token = body["session"]["session_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body, _) = post_message(&app, &token).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = post_message(&app, &token).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, retry_after) = post_message(&app, &token).await;
    assert_eq!(status, 429, "the in-process limiter holds: {body}");
    assert!(retry_after.is_some());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a dead Redis does not slow every request down: {:?}",
        started.elapsed()
    );
    app.stop().await;
}
