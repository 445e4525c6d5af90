//! The Grafana dashboard in `ops/` queries only metrics that `/metrics` exports, every exported
//! family appears on it, and the exposition is well-formed (strict parser, and `promtool check
//! metrics` where promtool is installed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use cbln_actors::domain::Role;
use cbln_actors::telemetry::dashboard::{self, Selector, SelectorError};
use cbln_actors::telemetry::exposition::{self, Exposition};
use cbln_actors::telemetry::{
    ActorKind, CryptoOperation, DeleteReason, JanitorKind, JanitorOutcome, Metrics, Outcome,
    RateLimitScope, ResponderOutcome,
};
use serde_json::Value;

const DASHBOARD: &str = include_str!("../../ops/grafana-dashboard.json");

/// A metrics registry with at least one sample in every family and label combination the
/// dashboard might filter on.
fn metrics_with_one_of_everything() -> Metrics {
    let metrics = Metrics::new("0.0.0-test");
    let ms = Duration::from_millis;
    metrics.record_http("POST", "/api/v1/messages", 201, ms(40));
    metrics.record_http("GET", "/api/v1/sessions/{token}", 503, ms(2));
    for actor in ActorKind::ALL {
        for outcome in Outcome::ALL {
            metrics.record_actor_message(actor, "Probe", outcome, ms(1));
        }
        metrics.set_mailbox_depth(actor, 1);
        metrics.actor_restarted(actor);
        metrics.set_actors_live(actor, 1);
    }
    metrics.add_actors_live(ActorKind::Session, 1);
    metrics.session_created();
    for reason in DeleteReason::ALL {
        metrics.session_deleted(reason);
    }
    metrics.sessions_deleted(DeleteReason::Expired, 3);
    metrics.chat_message(Role::User);
    metrics.chat_message(Role::Assistant);
    metrics.crisis_detected("suicide", "critical");
    for operation in CryptoOperation::ALL {
        metrics.encryption_error(operation);
    }
    metrics.integrity_error("message");
    metrics.declare_responder_provider("builtin");
    for outcome in ResponderOutcome::ALL {
        metrics.responder_call("openai", outcome);
    }
    metrics.responder_fallback("openai", "timeout");
    for kind in JanitorKind::ALL {
        metrics.janitor_deleted(kind, 2);
    }
    for outcome in JanitorOutcome::ALL {
        metrics.janitor_run(outcome);
    }
    metrics.set_db_pool(10, 4);
    metrics.observe_db_acquire(Duration::from_micros(300));
    for scope in RateLimitScope::ALL {
        metrics.rate_limited(scope);
    }
    metrics
}

fn parse_dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("ops/grafana-dashboard.json is JSON")
}

#[test]
fn the_selector_extractor_finds_metrics_and_only_metrics() {
    let found = dashboard::selectors(
        r#"histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{instance=~"$instance", status!~"5.."}[$__rate_interval]))) / on(instance) group_left(version) sum(x:recorded) without (job) - time() > bool 1e3 and y offset 5m + count by (v) (z)"#,
    )
    .expect("no __name__ matcher");
    assert_eq!(
        found,
        vec![
            Selector {
                metric: "http_request_duration_seconds_bucket".into(),
                labels: vec!["instance".into(), "status".into()],
            },
            Selector {
                metric: "x:recorded".into(),
                labels: vec![],
            },
            Selector {
                metric: "y".into(),
                labels: vec![],
            },
            Selector {
                metric: "z".into(),
                labels: vec![],
            },
        ]
    );
}

#[test]
fn a_selector_without_a_metric_name_is_refused() {
    let expr = r#"sum(rate({__name__=~"http_.*"}[5m]))"#;
    assert_eq!(
        dashboard::selectors(expr),
        Err(SelectorError::SelectsByName(expr.to_owned()))
    );
}

#[test]
fn the_dashboard_is_an_importable_grafana_dashboard() {
    let dashboard = parse_dashboard();
    assert!(dashboard["schemaVersion"].as_u64().is_some_and(|v| v >= 36));
    assert!(dashboard["uid"].as_str().is_some_and(|uid| !uid.is_empty()));
    assert!(
        dashboard["id"].is_null(),
        "an exported dashboard has id null"
    );
    let inputs = dashboard["__inputs"].as_array().expect("__inputs");
    assert!(
        inputs
            .iter()
            .any(|input| input["name"] == "DS_PROMETHEUS" && input["pluginId"] == "prometheus")
    );

    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut rows = Vec::new();
    for panel in panels {
        let id = panel["id"].as_u64().expect("panel id");
        assert!(ids.insert(id), "duplicate panel id {id}");
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(x + w <= 24, "panel {id} is wider than the grid");
        if panel["type"] == "row" {
            rows.push(panel["title"].as_str().unwrap().to_owned());
            continue;
        }
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "panel {id} must use the import-time datasource"
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {id} has no query");
        let mut ref_ids = BTreeSet::new();
        for target in targets {
            assert!(ref_ids.insert(target["refId"].as_str().unwrap().to_owned()));
        }
    }
    for wanted in ["HTTP", "Actors", "Domain", "Database pool"] {
        assert!(rows.iter().any(|row| row == wanted), "no {wanted} row");
    }
}

#[test]
fn every_queried_metric_is_exported_and_every_family_is_shown() {
    let dashboard = parse_dashboard();
    let text = metrics_with_one_of_everything().encode().expect("encodes");
    let parsed: Exposition = exposition::parse(&text).expect("the exposition is well-formed");

    let mut used_families = BTreeSet::new();
    let mut problems = Vec::new();
    let exprs = dashboard::panel_exprs(&dashboard);
    assert!(exprs.len() >= 20, "only {} queries", exprs.len());
    let mut variable_queries = dashboard::variable_metrics(&dashboard);
    variable_queries.extend(exprs);

    for (title, expr) in &variable_queries {
        let found = dashboard::selectors(expr).unwrap_or_else(|error| panic!("{error}"));
        assert!(!found.is_empty(), "{title}: no metric in {expr}");
        for selector in found {
            let check = dashboard::check_selector(&parsed, &selector);
            let Some(family) = check.family else {
                problems.push(format!("{title}: {} is not exported", selector.metric));
                continue;
            };
            used_families.insert(family.name.clone());
            if !check.has_samples {
                problems.push(format!("{title}: {} has no samples", selector.metric));
            }
            for label in check.missing_labels {
                problems.push(format!("{title}: {} has no label {label}", selector.metric));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let unshown: Vec<_> = parsed
        .families
        .iter()
        .map(|family| family.name.as_str())
        .filter(|name| !used_families.contains(*name))
        .collect();
    assert!(
        unshown.is_empty(),
        "families not on the dashboard: {unshown:?}"
    );
}

#[test]
fn the_exposition_is_well_formed() {
    let metrics = metrics_with_one_of_everything();
    let text = metrics.encode().expect("encodes");
    assert!(text.ends_with("# EOF\n"), "no final # EOF");
    let parsed = exposition::parse(&text).expect("strict OpenMetrics parse");
    let sample_lines = text.lines().filter(|line| !line.starts_with('#')).count();
    let samples: usize = parsed.families.iter().map(|f| f.samples.len()).sum();
    assert_eq!(samples, sample_lines, "every sample line parsed");
    for family in &parsed.families {
        assert!(family.help.is_some(), "{} has no # HELP", family.name);
    }

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for family in &parsed.families {
        *counts.entry(family.name.as_str()).or_default() += 1;
    }
    assert!(counts.values().all(|&n| n == 1));

    let classic = metrics.encode_prometheus_text().expect("encodes");
    let classic_parsed =
        exposition::parse_prometheus_text(&classic).expect("strict classic-text parse");
    assert_eq!(classic_parsed.families.len(), parsed.families.len());
    for family in &parsed.families {
        for sample in &family.samples {
            let again = classic_parsed
                .samples(&sample.name)
                .find(|other| other.labels == sample.labels)
                .unwrap_or_else(|| panic!("{} lost in the classic text", sample.name));
            assert_eq!(again.value.to_bits(), sample.value.to_bits());
        }
    }
}

/// `promtool check metrics` reads the classic text format only (an OpenMetrics counter `x` with
/// samples `x_total` looks like two families to it), so it checks what `/metrics` serves to
/// clients that do not ask for OpenMetrics.
#[test]
fn promtool_accepts_the_exposition_where_installed() {
    let metrics = metrics_with_one_of_everything();
    let classic = metrics.encode_prometheus_text().expect("encodes");
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "promtool is not on PATH: `promtool check metrics` NOT run \
                 (only the strict parser checked the exposition)"
            );
            return;
        }
        Err(err) => panic!("running promtool: {err}"),
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
    println!("promtool check metrics passed: {}", report.trim());
}
