//! Two instances on one PostgreSQL database share session deletions through Redis: a session
//! deleted on one instance stops being served from the other's memory. Redis must be running at
//! 127.0.0.1:6379; this test fails (never skips) when it is not.

use crate::helpers::{Backend, TestApp, spawn_app_with, spawn_two_instances};
use crate::support::Fetch;
use bb8_redis::redis;
use secrecy::SecretString;
use serde_json::Value;
use std::time::{Duration, Instant};

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const CHANNEL: &str = "cbln:sessions:deleted";

async fn redis_connection() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(REDIS_URL).expect("redis url");
    let problem = match tokio::time::timeout(
        Duration::from_secs(3),
        client.get_multiplexed_async_connection(),
    )
    .await
    {
        Ok(Ok(connection)) => return connection,
        Ok(Err(error)) => error.to_string(),
        Err(_) => "timed out".to_string(),
    };
    panic!(
        "Redis is required for this test and is unreachable at {REDIS_URL} ({problem}). \
         Start it with: redis-server --daemonize yes"
    )
}

async fn subscribers(connection: &mut redis::aio::MultiplexedConnection) -> i64 {
    let reply: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(CHANNEL)
        .query_async(connection)
        .await
        .expect("PUBSUB NUMSUB");
    reply.first().map(|(_, n)| *n).unwrap_or(0)
}

async fn health(app: &TestApp) -> (u16, Value) {
    let response = app.get("/health").fetch().await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn history_status(app: &TestApp, token: &str) -> u16 {
    app.get_as("/api/v1/messages", token).fetch_status().await
}

#[actix_web::test]
async fn a_deletion_on_one_instance_evicts_the_session_on_the_other() {
    let _serial = crate::events::REDIS_TESTS.lock().await;
    let mut redis = redis_connection().await;
    let baseline = subscribers(&mut redis).await;

    let (a, b) =
        spawn_two_instances(|s| s.redis.url = SecretString::from(REDIS_URL.to_string())).await;

    for app in [&a, &b] {
        let (status, body) = health(app).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["checks"]["redis"], "ok", "{body}");
    }
    // Both instances listen on the channel before anything is deleted.
    let deadline = Instant::now() + Duration::from_secs(5);
    while subscribers(&mut redis).await < baseline + 2 {
        assert!(
            Instant::now() < deadline,
            "the instances never subscribed to {CHANNEL}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let token = a.create_session().await;
    let (status, body) = b.send_message(&token, "mình gửi qua máy chủ B").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        history_status(&b, &token).await,
        200,
        "B serves the session"
    );
    // A second session that must survive (the eviction is targeted).
    let other = a.create_session().await;
    let (status, _) = b.send_message(&other, "phiên này vẫn còn").await;
    assert_eq!(status, 201);

    let response = a
        .client
        .delete(a.url(&format!("/api/v1/sessions/{token}")))
        .fetch()
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(history_status(&a, &token).await, 404, "gone on A at once");

    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = 0;
    while Instant::now() < deadline {
        last = history_status(&b, &token).await;
        if last == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        last, 404,
        "B still serves a session deleted on A 3 s later (its stale actor was not evicted)"
    );
    let (status, body) = b.send_message(&token, "còn ai ở đó không").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "session_not_found", "{body}");
    assert_eq!(
        history_status(&b, &other).await,
        200,
        "the other session is untouched"
    );

    b.stop().await;
    a.stop().await;
}

#[actix_web::test]
async fn an_unreachable_redis_degrades_health_but_not_the_service() {
    let app = spawn_app_with(Backend::Postgres, |s| {
        s.redis.url = SecretString::from("redis://127.0.0.1:1".to_string());
        s.redis.connect_timeout_ms = 500;
    })
    .await;
    let (status, body) = health(&app).await;
    // Reported, but no reason for a balancer to drain an instance whose chat works.
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["redis"], "down", "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    // The chat itself keeps working.
    let token = app.create_session().await;
    app.sent(&token, "Redis hỏng thì mình vẫn nói chuyện được chứ?")
        .await;
    app.stop().await;
}
