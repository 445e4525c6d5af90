//! Rate limits: messages per session, session creation per client address, the off switch, and
//! X-Forwarded-For believed only from trusted proxies.

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;
use crate::support::{Fetch, header};
use cbln::config::Settings;
use reqwest::Response;
use serde_json::Value;

/// Limits on: two messages a minute per session, and `sessions` new sessions a minute per
/// client, each with a burst of the same size.
pub(crate) fn small_limits(settings: &mut Settings, sessions: u32) {
    settings.rate_limit.enabled = true;
    settings.rate_limit.messages_per_minute = 2;
    settings.rate_limit.message_burst = 2;
    settings.rate_limit.sessions_per_minute = sessions;
    settings.rate_limit.session_burst = sessions;
}

/// Checks a 429 completely.
async fn assert_rate_limited(response: Response) {
    assert_eq!(response.status(), 429);
    let retry_after = header(&response, "retry-after").expect("Retry-After on a 429");
    let seconds: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is a number of seconds: {retry_after:?}"));
    assert!(
        (1..=60).contains(&seconds),
        "Retry-After within the minute: {seconds}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");
    assert!(body["detail"].is_string(), "{body}");
}

async fn post_message(app: &TestApp, token: &str, content: &str) -> Response {
    app.post_as("/api/v1/messages", token)
        .json(&serde_json::json!({"content": content}))
        .fetch()
        .await
}

async fn create_session(app: &TestApp, forwarded_for: Option<&str>) -> Response {
    let mut request = app.post("/api/v1/sessions");
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    request.fetch().await
}

async fn messages_are_limited_per_session(backend: Backend) {
    let app = spawn_app_with(backend, |settings| small_limits(settings, 100)).await;
    let first = app.create_session().await;
    let second = app.create_session().await;

    for i in 0..2 {
        let response = post_message(&app, &first, &format!("tin {i}")).await;
        assert_eq!(response.status(), 201, "within the burst");
    }
    assert_rate_limited(post_message(&app, &first, "tin thứ ba").await).await;
    assert_rate_limited(post_message(&app, &first, "tin thứ tư").await).await;
    assert_eq!(
        app.history(&first).await["total_count"],
        4,
        "a limited message is not stored"
    );

    // Another session has its own budget.
    for i in 0..2 {
        let response = post_message(&app, &second, &format!("khác {i}")).await;
        assert_eq!(response.status(), 201, "another session is not limited");
    }
    assert_rate_limited(post_message(&app, &second, "khác 3").await).await;

    // Reading is not limited.
    for _ in 0..5 {
        assert_eq!(app.history(&first).await["total_count"], 4);
    }
    app.stop().await;
}

async fn session_creation_is_limited_per_address(backend: Backend) {
    let app = spawn_app_with(backend, |settings| small_limits(settings, 2)).await;
    for _ in 0..2 {
        assert_eq!(create_session(&app, None).await.status(), 201);
    }
    assert_rate_limited(create_session(&app, None).await).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);
    app.stop().await;
}

async fn limits_off_lets_everything_through(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        small_limits(settings, 2);
        settings.rate_limit.enabled = false;
    })
    .await;
    let token = app.create_session().await;
    for i in 0..30 {
        let response = post_message(&app, &token, &format!("tin nhanh {i}")).await;
        assert_eq!(response.status(), 201, "message {i} with limits off");
    }
    for _ in 0..10 {
        assert_eq!(create_session(&app, None).await.status(), 201);
    }
    assert_eq!(app.history(&token).await["total_count"], 60);
    app.stop().await;
}

async fn forwarded_for_is_believed_only_from_trusted_proxies(backend: Backend) {
    // Without trusted proxies every X-Forwarded-For value is the same client: the socket's.
    let app = spawn_app_with(backend, |settings| small_limits(settings, 1)).await;
    assert_eq!(create_session(&app, Some("10.0.0.1")).await.status(), 201);
    assert_rate_limited(create_session(&app, Some("10.0.0.2")).await).await;
    assert_rate_limited(create_session(&app, Some("10.0.0.3")).await).await;
    app.stop().await;

    // Behind a trusted proxy each forwarded client has its own budget.
    let app = spawn_app_with(backend, |settings| {
        small_limits(settings, 1);
        settings.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    assert_eq!(create_session(&app, Some("10.0.0.1")).await.status(), 201);
    assert_rate_limited(create_session(&app, Some("10.0.0.1")).await).await;
    assert_eq!(
        create_session(&app, Some("10.0.0.2")).await.status(),
        201,
        "another forwarded client is not limited by the first"
    );
    // The right-most untrusted address is the client: a spoofed left part changes nothing.
    assert_rate_limited(create_session(&app, Some("203.0.113.9, 10.0.0.2")).await).await;
    assert_eq!(create_session(&app, Some("10.0.0.3")).await.status(), 201);
    app.stop().await;
}

on_both_backends!(
    messages_are_limited_per_session,
    session_creation_is_limited_per_address,
    limits_off_lets_everything_through,
    forwarded_for_is_believed_only_from_trusted_proxies,
);
