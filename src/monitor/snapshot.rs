//! What `cbln monitor` reads out of one `/metrics` scrape, and the rates between two scrapes.

use std::collections::BTreeMap;
use std::time::Duration;

use super::exposition::{self, Exposition, Format};
use anyhow::Context as _;

/// The figures of one `/metrics` scrape that the monitor shows or derives rates from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// `actors_live{actor="session"}`: one session actor per active session.
    pub active_sessions: Option<f64>,
    /// Sum of `chat_messages_total` over roles.
    pub chat_messages: f64,
    /// Cumulative `http_request_duration_seconds` buckets as `(le, count)`, summed over every
    /// route except the monitor's own `/health*` and `/metrics`, sorted by `le`.
    pub http_buckets: Vec<(f64, f64)>,
    /// `actor_mailbox_depth` by actor type.
    pub mailbox_depths: BTreeMap<String, f64>,
    /// Sum of `actor_restarts_total` over actor types.
    pub restarts: f64,
}

/// Whether a route's requests are left out of the latency figure: the monitor polls these
/// itself, and counting them would report the monitor's own cheap requests as the service's.
fn is_monitoring_route(route: &str) -> bool {
    route.ends_with("/metrics") || route.contains("/health")
}

impl Snapshot {
    /// Parses a `/metrics` body; `content_type` picks OpenMetrics or classic text.
    pub fn parse(body: &str, content_type: Option<&str>) -> anyhow::Result<Self> {
        let format = match content_type {
            Some(kind) if kind.starts_with("application/openmetrics-text") => Format::OpenMetrics,
            Some(_) => Format::PrometheusText,
            // Without a header, the final `# EOF` is what tells the formats apart.
            None if body.trim_end().ends_with("# EOF") => Format::OpenMetrics,
            None => Format::PrometheusText,
        };
        let parsed = exposition::parse_as(body, format)
            .with_context(|| format!("/metrics is not valid {format:?} text"))?;
        Ok(Self::from_exposition(&parsed))
    }

    /// Extracts the monitor's figures from a parsed exposition.
    pub fn from_exposition(parsed: &Exposition) -> Self {
        let active_sessions = parsed
            .samples("actors_live")
            .find(|sample| sample.label("actor") == Some("session"))
            .map(|sample| sample.value);

        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for sample in parsed.samples("http_request_duration_seconds_bucket") {
            if sample.label("route").is_some_and(is_monitoring_route) {
                continue;
            }
            let Some(le) = sample.label("le").and_then(exposition::parse_number) else {
                continue;
            };
            match buckets.iter_mut().find(|(bound, _)| *bound == le) {
                Some((_, count)) => *count += sample.value,
                None => buckets.push((le, sample.value)),
            }
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));

        let mailbox_depths = parsed
            .samples("actor_mailbox_depth")
            .filter_map(|sample| Some((sample.label("actor")?.to_owned(), sample.value)))
            .collect();

        Snapshot {
            active_sessions,
            chat_messages: parsed.sum("chat_messages_total", &[]),
            http_buckets: buckets,
            mailbox_depths,
            restarts: parsed.sum("actor_restarts_total", &[]),
        }
    }
}

/// The increase of a counter between two readings; a decrease means the server restarted and
/// counted up from 0 since, so the new reading is the increase (as Prometheus' `rate` assumes).
fn counter_increase(previous: f64, current: f64) -> f64 {
    if current >= previous {
        current - previous
    } else {
        current
    }
}

/// Chat messages per second between two scrapes `elapsed` apart.
pub fn messages_per_second(
    previous: &Snapshot,
    current: &Snapshot,
    elapsed: Duration,
) -> Option<f64> {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return None;
    }
    Some(counter_increase(previous.chat_messages, current.chat_messages) / seconds)
}

/// The 95th-percentile HTTP latency (seconds) of the requests made between two scrapes, or
/// `None` when there were none.
pub fn p95_latency(previous: &Snapshot, current: &Snapshot) -> Option<f64> {
    let total = |buckets: &[(f64, f64)]| buckets.last().map_or(0.0, |(_, count)| *count);
    let restarted = total(&current.http_buckets) < total(&previous.http_buckets);
    let delta: Vec<(f64, f64)> = current
        .http_buckets
        .iter()
        .map(|&(le, count)| {
            let before = if restarted {
                0.0
            } else {
                previous
                    .http_buckets
                    .iter()
                    .find(|(bound, _)| *bound == le)
                    .map_or(0.0, |(_, count)| *count)
            };
            (le, (count - before).max(0.0))
        })
        .collect();
    histogram_quantile(0.95, &delta)
}

/// Estimates quantile `q` from cumulative `(le, count)` buckets sorted by `le` and ending with
/// `+Inf`, interpolating linearly within a bucket as Prometheus' `histogram_quantile` does.
/// Observations in the `+Inf` bucket are reported as the largest finite bound.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let &(_, total) = buckets.last()?;
    if total <= 0.0 || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let rank = q * total;
    let mut lower = 0.0;
    let mut below = 0.0;
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower);
            }
            let in_bucket = count - below;
            if in_bucket <= 0.0 {
                return Some(le);
            }
            return Some(lower + (le - lower) * (rank - below) / in_bucket);
        }
        lower = le;
        below = count;
    }
    Some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbln_actors::domain::Role;
    use cbln_actors::telemetry::{ActorKind, Metrics};

    fn snapshot_of(metrics: &Metrics) -> Snapshot {
        let text = metrics.encode().unwrap();
        Snapshot::parse(
            &text,
            Some(cbln_actors::telemetry::OPENMETRICS_CONTENT_TYPE),
        )
        .unwrap()
    }

    #[test]
    fn reads_the_figures_from_a_real_exposition_in_both_formats() {
        let metrics = Metrics::new("t");
        metrics.set_actors_live(ActorKind::Session, 4);
        metrics.set_mailbox_depth(ActorKind::Persistence, 7);
        metrics.actor_restarted(ActorKind::Encryptor);
        metrics.actor_restarted(ActorKind::Responder);
        metrics.chat_message(Role::User);
        metrics.chat_message(Role::Assistant);
        metrics.chat_message(Role::User);
        metrics.record_http("POST", "/api/v1/messages", 201, Duration::from_millis(30));
        // The monitor's own polling must not count.
        metrics.record_http("GET", "/health", 200, Duration::from_secs(9));
        metrics.record_http("GET", "/api/v1/health", 200, Duration::from_secs(9));
        metrics.record_http("GET", "/metrics", 200, Duration::from_secs(9));

        let open = snapshot_of(&metrics);
        let classic = Snapshot::parse(&metrics.encode_prometheus_text().unwrap(), None).unwrap();
        assert_eq!(open, classic);
        assert_eq!(open.active_sessions, Some(4.0));
        assert_eq!(open.chat_messages, 3.0);
        assert_eq!(open.restarts, 2.0);
        assert_eq!(open.mailbox_depths.get("persistence"), Some(&7.0));
        assert_eq!(open.mailbox_depths.len(), ActorKind::ALL.len());
        assert_eq!(open.http_buckets.last(), Some(&(f64::INFINITY, 1.0)));
        // Cumulative counts of the one request that counts (30 ms).
        let at_most = |bound: f64| {
            open.http_buckets
                .iter()
                .find(|(le, _)| *le == bound)
                .map(|(_, count)| *count)
        };
        assert_eq!(at_most(0.025), Some(0.0));
        assert_eq!(at_most(0.05), Some(1.0));
    }

    #[test]
    fn rejects_a_malformed_body() {
        let err = Snapshot::parse("# TYPE x counter\nx 1\n# EOF\n", None).unwrap_err();
        assert!(format!("{err:#}").contains("OpenMetrics"), "{err:#}");
        assert!(Snapshot::parse("<html>", Some("text/html")).is_err());
    }

    #[test]
    fn rates_come_from_the_difference_of_two_scrapes() {
        let metrics = Metrics::new("t");
        for _ in 0..10 {
            metrics.chat_message(Role::User);
            metrics.record_http("POST", "/api/v1/messages", 201, Duration::from_millis(3));
        }
        let first = snapshot_of(&metrics);
        for _ in 0..30 {
            metrics.chat_message(Role::Assistant);
        }
        // In the interval: 100 requests, 90 fast and 10 slow, so p95 lies in the slow bucket.
        for _ in 0..90 {
            metrics.record_http("POST", "/api/v1/messages", 201, Duration::from_micros(700));
        }
        for _ in 0..10 {
            metrics.record_http(
                "GET",
                "/api/v1/sessions/{token}",
                200,
                Duration::from_millis(200),
            );
        }
        let second = snapshot_of(&metrics);

        let rate = messages_per_second(&first, &second, Duration::from_secs(10)).unwrap();
        assert!((rate - 3.0).abs() < 1e-9, "{rate}");
        // Rank 95 of 100: 90 at or below 1 ms, the other 10 in (0.1, 0.25]: 0.1 + 0.15 * 5/10.
        let p95 = p95_latency(&first, &second).unwrap();
        assert!((p95 - 0.175).abs() < 1e-9, "{p95}");
        // The 3 ms requests before the first scrape are not in the interval's figure.
        assert_eq!(p95_latency(&second, &second), None);
        assert_eq!(messages_per_second(&first, &second, Duration::ZERO), None);
    }

    #[test]
    fn a_server_restart_does_not_give_negative_rates() {
        let before = Snapshot {
            chat_messages: 500.0,
            http_buckets: vec![(0.1, 50.0), (f64::INFINITY, 60.0)],
            ..Snapshot::default()
        };
        let after = Snapshot {
            chat_messages: 20.0,
            http_buckets: vec![(0.1, 2.0), (f64::INFINITY, 2.0)],
            ..Snapshot::default()
        };
        assert_eq!(
            messages_per_second(&before, &after, Duration::from_secs(10)),
            Some(2.0)
        );
        let p95 = p95_latency(&before, &after).unwrap();
        assert!((0.0..=0.1).contains(&p95), "{p95}");
    }

    #[test]
    fn quantiles_interpolate_like_prometheus() {
        let buckets = [(0.1, 50.0), (0.2, 100.0), (f64::INFINITY, 100.0)];
        assert_eq!(histogram_quantile(0.5, &buckets), Some(0.1));
        let p75 = histogram_quantile(0.75, &buckets).unwrap();
        assert!((p75 - 0.15).abs() < 1e-12, "{p75}");
        // Everything beyond the last finite bound is reported as that bound.
        let overflow = [(0.1, 0.0), (1.0, 1.0), (f64::INFINITY, 10.0)];
        assert_eq!(histogram_quantile(0.95, &overflow), Some(1.0));
        assert_eq!(histogram_quantile(0.95, &[(f64::INFINITY, 0.0)]), None);
        assert_eq!(histogram_quantile(0.95, &[]), None);
    }
}
