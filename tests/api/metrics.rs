//! `/metrics` of a live server after real traffic: both exposition formats parse strictly, the
//! per-actor and domain series are there, no label carries a session token or id, every metric
//! the Grafana dashboard queries is exported, and `promtool check metrics` accepts it.

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::on_both_backends;
use cbln_actors::telemetry::exposition::{self, Exposition};
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::{Command, Stdio};

const DASHBOARD: &str = include_str!("../../ops/grafana-dashboard.json");
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0";

/// Labels Prometheus attaches at scrape time, so they are never in the exposition itself.
const SCRAPE_LABELS: [&str; 2] = ["instance", "job"];

async fn scrape(app: &TestApp, accept: Option<&str>) -> (String, String) {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let response = request.send().await.expect("request");
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
        let (status, body) = app.send_message(&token, text).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = app.send_message(&token, "mình muốn tự tử").await;
    assert_eq!(status, 201, "{body}");
    assert!(
        !body["crisis_info"].is_null(),
        "the crisis is detected: {body}"
    );
    let history = app.history(&token).await;
    let session_id = history["session_id"].as_str().unwrap().to_string();
    // Some errors too, so status labels vary.
    let response = app
        .client
        .get(app.url("/api/v1/messages"))
        .bearer_auth("anon_doesnotexist0000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .client
        .get(app.url(&format!("/api/v1/sessions/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .bearer_auth(&token)
        .json(&json!({"rating": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
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

on_both_backends!(metrics_cover_every_actor_and_leak_nothing);

/// Every metric and label the dashboard queries is exported by the live server.
fn check_dashboard(parsed: &Exposition) {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let mut queries: Vec<(String, String)> = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|variable| {
            let query = variable["definition"].as_str()?;
            let metric = query
                .strip_prefix("label_values(")?
                .split([',', ')'])
                .next()?
                .trim();
            Some((format!("variable {}", variable["name"]), metric.to_owned()))
        })
        .collect();
    queries.extend(dashboard_exprs(&dashboard));
    assert!(queries.len() >= 20, "only {} queries", queries.len());
    let mut problems = Vec::new();
    for (title, expr) in &queries {
        let found = selectors(expr);
        assert!(!found.is_empty(), "{title}: no metric in {expr}");
        for selector in found {
            if parsed.family_of_sample(&selector.metric).is_none() {
                problems.push(format!("{title}: {} is not exported", selector.metric));
                continue;
            }
            let samples: Vec<_> = parsed.samples(&selector.metric).collect();
            if samples.is_empty() {
                // A labelled family nothing has happened to yet: declared, no series.
                continue;
            }
            for label in &selector.labels {
                let exported = samples.iter().any(|sample| sample.label(label).is_some());
                if !exported && !SCRAPE_LABELS.contains(&label.as_str()) {
                    problems.push(format!("{title}: {} has no label {label}", selector.metric));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn promtool_check(classic: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "NOTE: promtool is not on PATH: `promtool check metrics` was NOT run on the live \
                 exposition (only the strict parser checked it)"
            );
            return;
        }
        Err(error) => panic!("running promtool: {error}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(classic.as_bytes())
        .expect("writes to promtool");
    let output = child.wait_with_output().expect("promtool finishes");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool check metrics failed ({}):\n{report}",
        output.status
    );
}

// The PromQL selector extraction below is copied from actors/tests/dashboard_metrics.rs.

/// A PromQL selector: the metric name and the label names its matchers use.
#[derive(Debug, PartialEq)]
struct Selector {
    metric: String,
    labels: Vec<String>,
}

const PROMQL_KEYWORDS: [&str; 20] = [
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "atan2",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];
const GROUPING_MODIFIERS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn selectors(expr: &str) -> Vec<Selector> {
    let chars: Vec<char> = expr.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    let skip_string = |i: &mut usize| {
        let quote = chars[*i];
        *i += 1;
        while *i < chars.len() && chars[*i] != quote {
            if chars[*i] == '\\' {
                *i += 1;
            }
            *i += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            skip_string(&mut i);
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            i += 1;
        } else if c == '$' {
            i += 1;
            if chars.get(i) == Some(&'{') {
                while i < chars.len() && chars[i] != '}' {
                    i += 1;
                }
                i += 1;
            } else {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c == '{' {
            let labels = matcher_labels(&chars, &mut i, &skip_string);
            assert!(
                labels.iter().all(|label| label != "__name__"),
                "{expr}: select metrics by name, not by __name__"
            );
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let followed_by_paren = chars.get(next) == Some(&'(');
            if GROUPING_MODIFIERS.contains(&word.as_str()) {
                if followed_by_paren {
                    i = next;
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                }
            } else if followed_by_paren || PROMQL_KEYWORDS.contains(&word.as_str()) {
                // A function or aggregation name, or an operator keyword.
            } else {
                let mut labels = Vec::new();
                if chars.get(next) == Some(&'{') {
                    i = next;
                    labels = matcher_labels(&chars, &mut i, &skip_string);
                }
                found.push(Selector {
                    metric: word,
                    labels,
                });
            }
        } else {
            i += 1;
        }
    }
    found
}

fn matcher_labels(chars: &[char], i: &mut usize, skip_string: &dyn Fn(&mut usize)) -> Vec<String> {
    let mut labels = Vec::new();
    *i += 1;
    let mut current = String::new();
    while *i < chars.len() && chars[*i] != '}' {
        let c = chars[*i];
        if c == '"' || c == '\'' || c == '`' {
            skip_string(i);
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            current.push(c);
        } else if !current.is_empty() {
            labels.push(std::mem::take(&mut current));
        }
        *i += 1;
    }
    if !current.is_empty() {
        labels.push(current);
    }
    *i += 1;
    labels
}

fn dashboard_exprs(dashboard: &Value) -> Vec<(String, String)> {
    let mut exprs = Vec::new();
    let mut stack: Vec<&Value> = dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    while let Some(panel) = stack.pop() {
        stack.extend(panel["panels"].as_array().into_iter().flatten());
        let title = panel["title"].as_str().unwrap_or("").to_owned();
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                exprs.push((title.clone(), expr.to_owned()));
            }
        }
    }
    exprs
}
