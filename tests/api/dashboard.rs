//! The Grafana dashboard in `ops/` against the exposition: it is importable, queries only metrics
//! and labels that `/metrics` exports, and shows every exported family; the exposition of a
//! registry with one of everything is well-formed (strict parser, and `promtool check metrics`
//! where promtool is installed). The live server's scrape is checked the same way in `metrics`.
//!
//! The dashboard's expressions are read with the `promql-parser` crate, so a query that Prometheus
//! would reject fails here too.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use cbln::monitor::exposition::{self, Exposition, MetricFamily};
use cbln_actors::domain::Role;
use cbln_actors::telemetry::{
    ActorKind, CryptoOperation, DeleteReason, JanitorKind, JanitorOutcome, Metrics, Outcome,
    RateLimitScope, ResponderOutcome,
};
use promql_parser::label::METRIC_NAME;
use promql_parser::parser::{Expr, VectorSelector};
use serde_json::Value;

const DASHBOARD: &str = include_str!("../../ops/grafana-dashboard.json");

/// Labels Prometheus attaches at scrape time, so they are never in the exposition itself.
const SCRAPE_LABELS: [&str; 2] = ["instance", "job"];

/// Grafana's built-in interval variables, which stand where PromQL wants a duration; any
/// duration parses the same.
const GRAFANA_DURATIONS: [&str; 4] = ["$__rate_interval", "$__interval", "$__range", "$__range_s"];

/// A metric selector in a dashboard expression: the metric (sample) name and the label names
/// its matchers use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub metric: String,
    pub labels: Vec<String>,
}

/// The dashboard, parsed.
pub fn dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("ops/grafana-dashboard.json is JSON")
}

/// Every metric selector in a dashboard expression, in the order written.
///
/// # Errors
/// When the expression is not valid PromQL (once Grafana's interval variables are replaced), or
/// when a selector has no metric name, which would escape the check that every queried metric
/// is exported.
pub fn selectors(expr: &str) -> Result<Vec<Selector>, String> {
    let promql = GRAFANA_DURATIONS
        .iter()
        .fold(expr.to_owned(), |text, variable| {
            text.replace(variable, "5m")
        });
    let parsed =
        promql_parser::parser::parse(&promql).map_err(|error| format!("{expr}: {error}"))?;
    let mut found = Vec::new();
    collect(&parsed, &mut found).map_err(|error| format!("{expr}: {error}"))?;
    Ok(found)
}

fn collect(expr: &Expr, found: &mut Vec<Selector>) -> Result<(), String> {
    match expr {
        Expr::Aggregate(aggregate) => {
            if let Some(param) = &aggregate.param {
                collect(param, found)?;
            }
            collect(&aggregate.expr, found)
        }
        Expr::Unary(unary) => collect(&unary.expr, found),
        Expr::Binary(binary) => {
            collect(&binary.lhs, found)?;
            collect(&binary.rhs, found)
        }
        Expr::Paren(paren) => collect(&paren.expr, found),
        Expr::Subquery(subquery) => collect(&subquery.expr, found),
        Expr::Call(call) => call
            .args
            .args
            .iter()
            .try_for_each(|arg| collect(arg, found)),
        Expr::VectorSelector(selector) => push_selector(selector, found),
        Expr::MatrixSelector(matrix) => push_selector(&matrix.vs, found),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => Ok(()),
    }
}

fn push_selector(selector: &VectorSelector, found: &mut Vec<Selector>) -> Result<(), String> {
    let matchers = selector
        .matchers
        .matchers
        .iter()
        .chain(selector.matchers.or_matchers.iter().flatten());
    let mut labels = Vec::new();
    for matcher in matchers {
        if matcher.name == METRIC_NAME {
            return Err("select metrics by name, not by __name__".to_owned());
        }
        labels.push(matcher.name.clone());
    }
    let metric = selector
        .name
        .clone()
        .ok_or_else(|| "a selector without a metric name".to_owned())?;
    found.push(Selector { metric, labels });
    Ok(())
}

/// Every `expr` in the dashboard's panels (rows included), with its panel title.
pub fn panel_exprs(dashboard: &Value) -> Vec<(String, String)> {
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

/// The metric of every `label_values(metric, …)` template variable, titled `variable "name"`.
pub fn variable_metrics(dashboard: &Value) -> Vec<(String, String)> {
    dashboard["templating"]["list"]
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
        .collect()
}

/// Everything the dashboard queries, titled: the template variables' metrics, then the panels'
/// expressions.
pub fn queries(dashboard: &Value) -> Vec<(String, String)> {
    let mut queries = variable_metrics(dashboard);
    queries.extend(panel_exprs(dashboard));
    queries
}

/// How one selector fares against an exposition.
pub struct SelectorCheck<'a> {
    /// The family the selector's metric is a sample of; `None` when it is not exported.
    pub family: Option<&'a MetricFamily>,
    /// Whether the exposition holds at least one sample of the metric.
    pub has_samples: bool,
    /// The selector's label names that no sample of the metric carries, scrape-time labels
    /// excepted.
    pub missing_labels: Vec<String>,
}

/// Looks `selector` up in `exposition`.
pub fn check_selector<'a>(exposition: &'a Exposition, selector: &Selector) -> SelectorCheck<'a> {
    let samples: Vec<_> = exposition.samples(&selector.metric).collect();
    let missing_labels = selector
        .labels
        .iter()
        .filter(|label| {
            let exported = samples.iter().any(|sample| sample.label(label).is_some());
            !exported && !SCRAPE_LABELS.contains(&label.as_str())
        })
        .cloned()
        .collect();
    SelectorCheck {
        family: exposition.family_of_sample(&selector.metric),
        has_samples: !samples.is_empty(),
        missing_labels,
    }
}

/// Runs `promtool check metrics` on classic text; says so and passes where promtool is missing.
pub fn promtool_check(classic: &str) {
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
                "NOTE: promtool is not on PATH: `promtool check metrics` was NOT run \
                 (only the strict parser checked the exposition)"
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
    metrics.chat_message(Role::Counsellor);
    metrics.crisis_detected("suicide", "critical");
    metrics.set_handoff_queue(2);
    metrics.handoff_requested(cbln_actors::crisis::RiskLevel::Crisis);
    metrics.handoff_claimed(Duration::from_secs(90));
    metrics.handoff_ended("resolved", cbln_actors::crisis::RiskLevel::Crisis);
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

#[test]
fn selectors_are_the_metrics_of_an_expression_and_only_those() {
    let found = selectors(
        r#"histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{instance=~"$instance", status!~"5.."}[$__rate_interval]))) / on(instance) group_left(version) sum(x:recorded) without (job) - time() > bool 1e3 and y offset 5m + count by (v) (z)"#,
    )
    .expect("valid PromQL with metric names");
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
    let error = selectors(r#"sum(rate({__name__=~"http_.*"}[5m]))"#).unwrap_err();
    assert!(error.contains("__name__"), "{error}");
}

#[test]
fn an_expression_prometheus_would_reject_is_refused() {
    for broken in [
        "sum(rate(http_requests_total[5m])",
        "rate(http_requests_total{route=}[5m])",
        "http_requests_total[5x]",
    ] {
        assert!(selectors(broken).is_err(), "{broken} was accepted");
    }
}

#[test]
fn the_dashboard_is_an_importable_grafana_dashboard() {
    let dashboard = dashboard();
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
    let dashboard = dashboard();
    let text = metrics_with_one_of_everything().encode().expect("encodes");
    let parsed = exposition::parse(&text).expect("the exposition is well-formed");

    let mut used_families = BTreeSet::new();
    let mut problems = Vec::new();
    let all = queries(&dashboard);
    assert!(
        panel_exprs(&dashboard).len() >= 20,
        "only {} queries",
        all.len()
    );
    for (title, expr) in &all {
        let found = selectors(expr).unwrap_or_else(|error| panic!("{title}: {error}"));
        assert!(!found.is_empty(), "{title}: no metric in {expr}");
        for selector in found {
            let check = check_selector(&parsed, &selector);
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
fn both_expositions_are_well_formed_and_agree() {
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
    for family in &classic_parsed.families {
        assert!(family.help.is_some(), "{} has no # HELP", family.name);
    }
    // Every OpenMetrics sample is in the classic text with the same value, `_created` aside
    // (the classic format has no such sample).
    for family in &parsed.families {
        for sample in family
            .samples
            .iter()
            .filter(|sample| !sample.name.ends_with("_created"))
        {
            // Label order and the spelling of `le` (`1.0`, `1`) may differ between the two.
            let labels: Vec<(&str, &str)> = sample
                .labels
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            let again = classic_parsed
                .samples(&sample.name)
                .find(|other| other.labels.len() == labels.len() && other.matches(&labels))
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
    let classic = metrics_with_one_of_everything()
        .encode_prometheus_text()
        .expect("encodes");
    promtool_check(&classic);
}
