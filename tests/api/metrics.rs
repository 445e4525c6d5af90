//! `/metrics` of a live server after real traffic: both exposition formats parse strictly, the
//! per-actor and domain series are there, no label carries a session token or id, every metric
//! the Grafana dashboard queries is exported, and `promtool check metrics` accepts it.

use crate::dashboard::{self, promtool_check};
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::support::Fetch;
use cbln::monitor::exposition::{self, Exposition};
use serde_json::json;
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0";

async fn scrape(app: &TestApp, accept: Option<&str>) -> (String, String) {
    let mut request = app.get("/metrics");
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let response = request.fetch().await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (content_type, response.text().await.expect("text"))
}

async fn traffic(app: &TestApp) -> (String, String) {
    let token = app.create_session().await;
    for text in ["dạo này mình áp lực thi cử quá", "bố mẹ mình hay cãi nhau"] {
        app.sent(&token, text).await;
    }
    let body = app.sent(&token, "mình muốn tự tử").await;
    assert!(
        !body["crisis_info"].is_null(),
        "the crisis is detected: {body}"
    );
    let history = app.history(&token).await;
    let session_id = history["session_id"].as_str().unwrap().to_string();
    // Some errors too, so status labels vary.
    assert_eq!(
        app.get_as("/api/v1/messages", "anon_doesnotexist0000000000000000")
            .fetch_status()
            .await,
        404
    );
    let status = app
        .get(&format!("/api/v1/sessions/{token}"))
        .fetch_status()
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.post_as("/api/v1/feedback", &token)
            .json(&json!({"rating": 5}))
            .fetch_status()
            .await,
        201
    );
    (token, session_id)
}

fn at_least(parsed: &Exposition, sample: &str, filter: &[(&str, &str)], minimum: f64) {
    let value = parsed.sum(sample, filter);
    assert!(
        value >= minimum,
        "{sample}{filter:?} = {value}, expected at least {minimum}"
    );
}

fn check_series(parsed: &Exposition) {
    at_least(
        parsed,
        "actor_messages_total",
        &[
            ("actor", "session"),
            ("message", "PostMessage"),
            ("outcome", "ok"),
        ],
        3.0,
    );
    at_least(
        parsed,
        "actor_message_duration_seconds_count",
        &[("actor", "persistence")],
        1.0,
    );
    for actor in ["crisis_detector", "encryptor", "responder", "registry"] {
        at_least(
            parsed,
            "actor_messages_total",
            &[("actor", actor), ("outcome", "ok")],
            1.0,
        );
    }
    assert_eq!(
        parsed.value("actors_live", &[("actor", "registry")]),
        Some(1.0),
        "one live registry"
    );
    at_least(parsed, "actors_live", &[("actor", "session")], 1.0);
    at_least(
        parsed,
        "http_requests_total",
        &[
            ("route", "/api/v1/messages"),
            ("method", "POST"),
            ("status", "201"),
        ],
        3.0,
    );
    at_least(
        parsed,
        "http_requests_total",
        &[
            ("route", "/api/v1/messages"),
            ("method", "GET"),
            ("status", "404"),
        ],
        1.0,
    );
    at_least(
        parsed,
        "http_request_duration_seconds_count",
        &[("route", "/api/v1/messages")],
        3.0,
    );
    at_least(
        parsed,
        "crisis_detections_total",
        &[("category", "suicide")],
        1.0,
    );
    at_least(parsed, "sessions_created_total", &[], 1.0);
    at_least(parsed, "chat_messages_total", &[("role", "user")], 3.0);
    at_least(parsed, "chat_messages_total", &[("role", "assistant")], 3.0);
    // Route labels are templates, never concrete paths (which could hold a token).
    for sample in parsed.samples("http_requests_total") {
        let route = sample.label("route").unwrap_or("");
        assert!(
            !route.contains("anon_"),
            "a concrete path is used as a route label: {route}"
        );
    }
}

async fn metrics_cover_every_actor_and_leak_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    assert!(
        app.metrics_address.is_none(),
        "without metrics.listen the main listener serves /metrics"
    );
    let (token, session_id) = traffic(&app).await;

    let (content_type, classic) = scrape(&app, None).await;
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let parsed_classic = exposition::parse_prometheus_text(&classic)
        .unwrap_or_else(|e| panic!("the classic text does not parse: {e}\n{classic}"));
    check_series(&parsed_classic);

    let (content_type, openmetrics) = scrape(&app, Some(OPENMETRICS)).await;
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(openmetrics.ends_with("# EOF\n"));
    let parsed = exposition::parse(&openmetrics)
        .unwrap_or_else(|e| panic!("the OpenMetrics text does not parse: {e}\n{openmetrics}"));
    check_series(&parsed);

    // No session token or id anywhere, in any form.
    let simple_id = session_id.replace('-', "");
    let random_part = token.strip_prefix("anon_").unwrap_or(&token).to_string();
    for text in [&classic, &openmetrics] {
        for secret in [&token, &random_part, &session_id, &simple_id] {
            assert!(
                !text.contains(secret.as_str()),
                "/metrics contains a session token or id"
            );
        }
    }
    for family in &parsed.families {
        for sample in &family.samples {
            for (name, _) in &sample.labels {
                assert!(
                    !["session", "session_id", "token", "session_token"].contains(&name.as_str()),
                    "per-session label {name} on {}",
                    sample.name
                );
            }
        }
    }

    promtool_check(&classic);
    check_dashboard(&parsed);
    app.stop().await;
}

/// With `metrics.listen`, `/metrics` is served on that listener only: the main listener answers
/// 404 for it, and the metrics listener serves nothing else.
async fn metrics_listen_serves_metrics_on_their_own_listener_only(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.metrics.listen = Some("127.0.0.1:0".to_owned());
    })
    .await;
    let metrics_address = app.metrics_address.clone().expect("a metrics listener");
    assert_ne!(metrics_address, app.address);
    let token = app.create_session().await;
    app.sent(&token, "hôm nay mình hơi buồn").await;

    for accept in [None, Some(OPENMETRICS)] {
        let mut request = app.get("/metrics");
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let response = request.fetch().await;
        assert_eq!(response.status(), 404, "the main listener serves /metrics");
        let body: serde_json::Value = response.json().await.expect("a JSON error");
        assert!(!body.to_string().contains("sessions_created"), "{body}");
    }

    let response = app
        .client
        .get(format!("{metrics_address}/metrics"))
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    let classic = response.text().await.expect("text");
    let parsed = exposition::parse_prometheus_text(&classic)
        .unwrap_or_else(|e| panic!("the classic text does not parse: {e}\n{classic}"));
    // The figures are the main listener's traffic, not a registry of its own.
    at_least(&parsed, "sessions_created_total", &[], 1.0);
    at_least(
        &parsed,
        "http_requests_total",
        &[("route", "/api/v1/messages"), ("status", "201")],
        1.0,
    );
    promtool_check(&classic);

    let response = app
        .client
        .get(format!("{metrics_address}/metrics"))
        .header("Accept", OPENMETRICS)
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    let openmetrics = response.text().await.expect("text");
    exposition::parse(&openmetrics)
        .unwrap_or_else(|e| panic!("the OpenMetrics text does not parse: {e}\n{openmetrics}"));

    for path in ["/", "/health", "/api/v1/messages", "/docs"] {
        assert_eq!(
            app.client
                .get(format!("{metrics_address}{path}"))
                .bearer_auth(&token)
                .fetch_status()
                .await,
            404,
            "the metrics listener serves {path}"
        );
    }
    app.stop().await;
}

on_both_backends!(
    metrics_cover_every_actor_and_leak_nothing,
    metrics_listen_serves_metrics_on_their_own_listener_only,
);

/// Every metric and label the dashboard queries is exported by the live server.
fn check_dashboard(parsed: &Exposition) {
    let queries = dashboard::queries(&dashboard::dashboard());
    assert!(queries.len() >= 20, "only {} queries", queries.len());
    let mut problems = Vec::new();
    for (title, expr) in &queries {
        let found = dashboard::selectors(expr).unwrap_or_else(|error| panic!("{title}: {error}"));
        assert!(!found.is_empty(), "{title}: no metric in {expr}");
        for selector in found {
            let check = dashboard::check_selector(parsed, &selector);
            if check.family.is_none() {
                problems.push(format!("{title}: {} is not exported", selector.metric));
                continue;
            }
            if !check.has_samples {
                // A labelled family nothing has happened to yet: declared, no series.
                continue;
            }
            for label in check.missing_labels {
                problems.push(format!("{title}: {} has no label {label}", selector.metric));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
