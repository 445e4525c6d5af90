//! The metric selectors a Grafana dashboard queries, read from its JSON model.
//!
//! Tests use this to prove that every metric and label the dashboard in `ops/` asks for is one
//! that `/metrics` exports. It is a small PromQL scanner, not a parser: it finds identifiers that
//! are metric names and the label names their matchers use, and skips functions, aggregations,
//! keywords, grouping label lists, string literals, range durations, numbers and Grafana
//! `$variables`.

use serde_json::Value;

use super::exposition::{Exposition, MetricFamily};

/// Labels Prometheus attaches at scrape time, so they are never in the exposition itself.
pub const SCRAPE_LABELS: [&str; 2] = ["instance", "job"];

/// Operator keywords and aggregation names; an aggregation may be followed by `by (…)` rather
/// than `(`, so it cannot be told from a metric by what follows.
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

/// Modifiers followed by a parenthesised list of label names (not metric names).
const GROUPING_MODIFIERS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// A PromQL selector as written in a dashboard expression: the metric name and the label names
/// its matchers use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The metric (sample) name, e.g. `http_requests_total`.
    pub metric: String,
    /// The label names of its `{…}` matchers, in order.
    pub labels: Vec<String>,
}

/// Why an expression's selectors could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A selector without a metric name (`{__name__=…}`) would escape the check that every
    /// queried metric is exported.
    #[error("{0}: select metrics by name, not by __name__")]
    SelectsByName(String),
}

/// Finds every metric selector in a PromQL expression: identifiers that are not functions or
/// aggregations (followed by `(`), keywords, label lists of grouping modifiers, label names
/// inside `{}`, string literals, range durations or Grafana `$variables`.
///
/// # Errors
/// [`SelectorError::SelectsByName`] when a selector has no metric name but a `__name__` matcher.
pub fn selectors(expr: &str) -> Result<Vec<Selector>, SelectorError> {
    let chars: Vec<char> = expr.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if is_quote(c) {
            skip_string(&chars, &mut i);
        } else if c == '[' {
            skip_past(&chars, &mut i, ']');
        } else if c == '$' {
            i += 1;
            if chars.get(i) == Some(&'{') {
                skip_past(&chars, &mut i, '}');
            } else {
                skip_while(&chars, &mut i, |c| c.is_alphanumeric() || c == '_');
            }
        } else if c == '{' {
            let labels = matcher_labels(&chars, &mut i);
            if labels.iter().any(|label| label == "__name__") {
                return Err(SelectorError::SelectsByName(expr.to_owned()));
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            skip_while(&chars, &mut i, |c| c.is_ascii_alphanumeric() || c == '.');
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            skip_while(&chars, &mut i, |c| {
                c.is_ascii_alphanumeric() || c == '_' || c == ':'
            });
            let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
            let mut next = i;
            skip_while(&chars, &mut next, char::is_whitespace);
            let followed_by_paren = chars.get(next) == Some(&'(');
            if GROUPING_MODIFIERS.contains(&word.as_str()) {
                if followed_by_paren {
                    i = next;
                    skip_past(&chars, &mut i, ')');
                }
            } else if followed_by_paren || PROMQL_KEYWORDS.contains(&word.as_str()) {
                // A function or aggregation name, or an operator keyword.
            } else {
                let mut labels = Vec::new();
                if chars.get(next) == Some(&'{') {
                    i = next;
                    labels = matcher_labels(&chars, &mut i);
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
    Ok(found)
}

fn is_quote(c: char) -> bool {
    c == '"' || c == '\'' || c == '`'
}

/// Advances `*i` while the character there satisfies `keep`.
fn skip_while(chars: &[char], i: &mut usize, keep: impl Fn(char) -> bool) {
    while chars.get(*i).is_some_and(|&c| keep(c)) {
        *i += 1;
    }
}

/// Advances `*i` to just past the next `end` (or past the end of the text).
fn skip_past(chars: &[char], i: &mut usize, end: char) {
    skip_while(chars, i, |c| c != end);
    *i += 1;
}

/// Skips the string literal starting at `chars[*i]` (its quote), honouring `\` escapes.
fn skip_string(chars: &[char], i: &mut usize) {
    let Some(&quote) = chars.get(*i) else {
        return;
    };
    *i += 1;
    while let Some(&c) = chars.get(*i) {
        if c == quote {
            break;
        }
        if c == '\\' {
            *i += 1;
        }
        *i += 1;
    }
    *i += 1;
}

/// Reads `{name op "value", …}` starting at `chars[*i] == '{'`, returning the label names.
fn matcher_labels(chars: &[char], i: &mut usize) -> Vec<String> {
    let mut labels = Vec::new();
    *i += 1;
    let mut current = String::new();
    while let Some(&c) = chars.get(*i) {
        if c == '}' {
            break;
        }
        if is_quote(c) {
            skip_string(chars, i);
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
/// expressions ([`variable_metrics`] followed by [`panel_exprs`]).
pub fn queries(dashboard: &Value) -> Vec<(String, String)> {
    let mut queries = variable_metrics(dashboard);
    queries.extend(panel_exprs(dashboard));
    queries
}

/// How one selector fares against an exposition.
#[derive(Debug)]
pub struct SelectorCheck<'a> {
    /// The family the selector's metric is a sample of; `None` when it is not exported.
    pub family: Option<&'a MetricFamily>,
    /// Whether the exposition holds at least one sample of the metric.
    pub has_samples: bool,
    /// The selector's label names that no sample of the metric carries, scrape-time labels
    /// ([`SCRAPE_LABELS`]) excepted.
    pub missing_labels: Vec<String>,
}

/// Looks `selector` up in `exposition`: its family, whether it has samples, and which of its
/// labels no sample carries.
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
