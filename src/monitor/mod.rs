//! The core of `cbln monitor`: poll a running server's `/health` and `/metrics` and print one
//! line per sample (a compact table, or JSON lines).
//!
//! A failed poll is printed as a row (status `unreachable`, or the figures that could be read)
//! and polling goes on, because an operator watching a restart wants to see the server come
//! back; the command fails at the end only if no sample reached the server at all.

pub mod exposition;
mod render;
mod snapshot;

use std::io::Write;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

pub use render::{Row, compact_mailboxes, json_line, table_header, table_line};
pub use snapshot::{Snapshot, histogram_quantile, messages_per_second, p95_latency};

/// What `cbln monitor` was asked to do.
#[derive(Debug, Clone)]
pub struct MonitorArgs {
    /// The server's base URL, e.g. `http://127.0.0.1:8000`.
    pub url: String,
    /// Time between samples.
    pub interval: Duration,
    /// How long to keep sampling; samples are taken at 0, interval, 2×interval, … ≤ duration.
    pub duration: Duration,
    /// One JSON object per line instead of the table.
    pub json: bool,
}

/// The part of `/health`'s answer the monitor shows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: String,
    /// The server's version.
    #[serde(default)]
    pub version: Option<String>,
    /// Seconds since the server started.
    #[serde(default)]
    pub uptime_s: Option<f64>,
}

/// Polls until `args.duration` has elapsed, writing one line per sample to `out` (flushed at
/// once, so a pipe sees it live). Fails on bad arguments, on a write error, or when every
/// sample failed to reach the server.
pub async fn run(args: MonitorArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if args.interval.is_zero() {
        bail!("--interval must be greater than zero");
    }
    let base = base_url(&args.url)?;
    let poller = Poller::new(&base, args.interval)?;

    if !args.json {
        writeln!(out, "{}", table_header()).context("writing the monitor output")?;
        out.flush().context("writing the monitor output")?;
    }

    let start = Instant::now();
    let mut previous: Option<(Instant, Snapshot)> = None;
    let mut samples = 0_u32;
    let mut reached = 0_u32;
    let mut last_error = None;
    while let Some(offset) = args.interval.checked_mul(samples) {
        if offset > args.duration {
            break;
        }
        let Some(due) = start.checked_add(offset) else {
            break;
        };
        tokio::time::sleep_until(due).await;
        samples += 1;

        let sample = poller.sample().await;
        if sample.reached_server {
            reached += 1;
        }
        if let Some(error) = &sample.row.error {
            last_error = Some(error.clone());
        }
        let mut row = sample.row;
        if let Some((taken, snapshot)) = sample.metrics {
            if let Some((previous_taken, previous_snapshot)) = &previous {
                let elapsed = taken.duration_since(*previous_taken);
                row.messages_per_s = messages_per_second(previous_snapshot, &snapshot, elapsed);
                row.p95_latency_ms =
                    p95_latency(previous_snapshot, &snapshot).map(|seconds| seconds * 1000.0);
            }
            previous = Some((taken, snapshot));
        }
        let line = if args.json {
            json_line(&row).context("encoding a sample as JSON")?
        } else {
            table_line(&row)
        };
        writeln!(out, "{line}").context("writing the monitor output")?;
        out.flush().context("writing the monitor output")?;
    }

    if reached == 0 {
        bail!(
            "{base} did not answer in any of {samples} samples; last error: {}",
            last_error.as_deref().unwrap_or("none")
        );
    }
    Ok(())
}

/// Validates `--url` and drops a trailing `/` so paths can be appended.
fn base_url(url: &str) -> anyhow::Result<String> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("invalid --url {url:?}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("invalid --url {url:?}: the scheme must be http or https");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// An error with its causes, since reqwest's own message ("error sending request") hides
/// the one that matters ("connection refused").
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

struct Sample {
    row: Row,
    metrics: Option<(Instant, Snapshot)>,
    /// Whether either endpoint answered at all (even with an error status).
    reached_server: bool,
}

struct Poller {
    client: reqwest::Client,
    health_url: String,
    metrics_url: String,
}

impl Poller {
    fn new(base: &str, interval: Duration) -> anyhow::Result<Self> {
        // reqwest is built without a default crypto provider; another caller may have
        // installed one already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // A request must not outlive its interval, or samples would pile up behind a hung
        // server; a floor keeps short intervals usable over slow links.
        let timeout = interval.clamp(Duration::from_secs(1), Duration::from_secs(10));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .context("building the HTTP client")?;
        Ok(Poller {
            client,
            health_url: format!("{base}/health"),
            metrics_url: format!("{base}/metrics"),
        })
    }

    async fn sample(&self) -> Sample {
        let time = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_else(|_| "-".to_owned());
        let mut row = Row::unreachable(time);
        let mut errors = Vec::new();
        let mut reached_server = false;

        match self.health().await {
            Ok((status_line, health)) => {
                reached_server = true;
                match health {
                    Ok(health) => {
                        row.status = health.status;
                        row.version = health.version;
                        row.uptime_s = health.uptime_s;
                    }
                    Err(error) => {
                        row.status = status_line;
                        errors.push(format!("{}: {error}", self.health_url));
                    }
                }
            }
            Err(error) => errors.push(format!("cannot reach {}: {error}", self.health_url)),
        }

        let metrics = match self.metrics().await {
            Ok(snapshot) => {
                reached_server = true;
                let taken = Instant::now();
                // Gauges and counters are whole numbers; the casts only drop a ".0".
                row.active_sessions = snapshot.active_sessions.map(|live| live.max(0.0) as u64);
                row.restarts_total = Some(snapshot.restarts.max(0.0) as u64);
                row.mailbox_depths = snapshot
                    .mailbox_depths
                    .iter()
                    .map(|(actor, depth)| (actor.clone(), *depth as i64))
                    .collect();
                Some((taken, snapshot))
            }
            Err(MetricsError::Unreachable(error)) => {
                errors.push(format!("cannot reach {}: {error}", self.metrics_url));
                None
            }
            Err(MetricsError::Bad(error)) => {
                reached_server = true;
                errors.push(format!("{}: {error}", self.metrics_url));
                None
            }
        };

        if !errors.is_empty() {
            row.error = Some(errors.join("; "));
        }
        Sample {
            row,
            metrics,
            reached_server,
        }
    }

    /// `Ok((status, Ok(health)))` when `/health` answered with its JSON (a 503 carries the
    /// `degraded` body too), `Ok((status, Err(why)))` when it answered something else, `Err`
    /// when it could not be reached.
    async fn health(&self) -> Result<(String, Result<Health, String>), String> {
        let response = self
            .client
            .get(&self.health_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| chain(&error))?;
        let status = response.status();
        let status_line = format!("http {}", status.as_u16());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return Ok((status_line, Err(chain(&error)))),
        };
        let health = serde_json::from_slice::<Health>(&body)
            .map_err(|error| format!("answered {status} without the expected JSON ({error})"));
        Ok((status_line, health))
    }

    async fn metrics(&self) -> Result<Snapshot, MetricsError> {
        let response = self
            .client
            .get(&self.metrics_url)
            .header(
                reqwest::header::ACCEPT,
                "application/openmetrics-text; version=1.0.0, text/plain; version=0.0.4; q=0.5",
            )
            .send()
            .await
            .map_err(|error| MetricsError::Unreachable(chain(&error)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(MetricsError::Bad(format!("answered {status}")));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response
            .text()
            .await
            .map_err(|error| MetricsError::Bad(chain(&error)))?;
        Snapshot::parse(&body, content_type.as_deref())
            .map_err(|error| MetricsError::Bad(format!("{error:#}")))
    }
}

enum MetricsError {
    /// No answer at all.
    Unreachable(String),
    /// An answer, but not a usable exposition.
    Bad(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbln_actors::domain::Role;
    use cbln_actors::telemetry::{ActorKind, Metrics};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

    /// Serves the current state of a live `Metrics`, so each scrape sees what was recorded
    /// since the previous one.
    struct LiveMetrics(Metrics);

    impl Respond for LiveMetrics {
        fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
            // Every scrape finds two more messages, so the rate is never zero.
            self.0.chat_message(Role::User);
            self.0.chat_message(Role::Assistant);
            self.0
                .record_http("POST", "/api/v1/messages", 201, Duration::from_millis(20));
            let body = self.0.encode().unwrap_or_default();
            ResponseTemplate::new(200).set_body_raw(
                body.into_bytes(),
                cbln_actors::telemetry::OPENMETRICS_CONTENT_TYPE,
            )
        }
    }

    async fn server(health_status: u16, health: serde_json::Value) -> MockServer {
        let server = MockServer::start().await;
        let metrics = Metrics::new("9.9.9");
        metrics.set_actors_live(ActorKind::Session, 5);
        metrics.set_mailbox_depth(ActorKind::Persistence, 2);
        Mock::given(method("GET"))
            .and(path("/health"))
            .respond_with(ResponseTemplate::new(health_status).set_body_json(health))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/metrics"))
            .respond_with(LiveMetrics(metrics))
            .mount(&server)
            .await;
        server
    }

    fn args(url: String, json: bool) -> MonitorArgs {
        MonitorArgs {
            url,
            interval: Duration::from_millis(100),
            duration: Duration::from_millis(250),
            json,
        }
    }

    #[tokio::test]
    async fn prints_one_json_line_per_sample_with_rates_from_the_second_on() {
        let server = server(
            200,
            serde_json::json!({"status": "healthy", "version": "9.9.9", "uptime_s": 12.5,
                "checks": {"database": "ok", "redis": "disabled", "actors": "ok"}}),
        )
        .await;
        let mut out = Vec::new();
        run(args(format!("{}/", server.uri()), true), &mut out)
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        // Samples at 0, 100 and 200 ms; 300 ms is past the 250 ms duration.
        assert_eq!(rows.len(), 3, "{text}");
        for row in &rows {
            assert_eq!(row["status"], "healthy");
            assert_eq!(row["version"], "9.9.9");
            assert_eq!(row["active_sessions"], 5);
            assert_eq!(row["mailbox_depths"]["persistence"], 2);
            assert_eq!(row["restarts_total"], 0);
            assert!(row["error"].is_null(), "{row}");
        }
        assert!(rows[0]["messages_per_s"].is_null());
        assert!(rows[0]["p95_latency_ms"].is_null());
        for row in &rows[1..] {
            let rate = row["messages_per_s"].as_f64().unwrap();
            assert!(rate > 0.0, "{row}");
            let p95 = row["p95_latency_ms"].as_f64().unwrap();
            assert!((10.0..=25.0).contains(&p95), "{row}");
        }
    }

    #[tokio::test]
    async fn a_degraded_server_is_shown_as_degraded_in_the_table() {
        let server = server(
            503,
            serde_json::json!({"status": "degraded", "version": "9.9.9", "uptime_s": 1,
                "checks": {"database": "down"}}),
        )
        .await;
        let mut out = Vec::new();
        let mut monitor_args = args(server.uri(), false);
        monitor_args.duration = Duration::ZERO;
        run(monitor_args, &mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], table_header());
        assert!(lines[1].contains("  degraded  "), "{text}");
        assert!(lines[1].contains("per:2"), "{text}");
        assert!(!lines[1].contains('!'), "{text}");
    }

    #[tokio::test]
    async fn a_health_answer_without_json_is_reported_with_its_status() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
            .mount(&server)
            .await;
        let mut out = Vec::new();
        let mut monitor_args = args(server.uri(), true);
        monitor_args.duration = Duration::ZERO;
        // The server answered, so this is not an "every sample failed" error.
        run(monitor_args, &mut out).await.unwrap();
        let row: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(row["status"], "http 502");
        let error = row["error"].as_str().unwrap();
        assert!(error.contains("/health: answered 502"), "{error}");
        assert!(error.contains("/metrics: answered 502"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_server_gives_rows_then_an_error_naming_the_url() {
        // A port that was just free: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let mut out = Vec::new();
        let error = run(args(url.clone(), false), &mut out).await.unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains(&url), "{message}");
        assert!(message.contains("3 samples"), "{message}");
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(rows.len(), 3, "{text}");
        for row in rows {
            assert!(row.contains("unreachable"), "{row}");
            assert!(row.contains(&format!("cannot reach {url}/health")), "{row}");
        }
    }

    #[tokio::test]
    async fn bad_arguments_are_refused_before_polling() {
        let mut out = Vec::new();
        for (url, needle) in [
            ("localhost:8000", "scheme"),
            ("not a url", "invalid --url"),
            ("ftp://127.0.0.1", "scheme"),
        ] {
            let error = run(args(url.to_owned(), false), &mut out)
                .await
                .unwrap_err();
            assert!(format!("{error:#}").contains(needle), "{url}: {error:#}");
        }
        let mut zero = args("http://127.0.0.1:1".to_owned(), false);
        zero.interval = Duration::ZERO;
        let error = run(zero, &mut out).await.unwrap_err();
        assert!(error.to_string().contains("--interval"));
        assert!(out.is_empty());
    }
}
