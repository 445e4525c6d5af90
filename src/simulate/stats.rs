//! Pure helpers of the simulator: latency percentiles and the loopback guard.

use std::net::IpAddr;

use anyhow::bail;
use serde::Serialize;

/// Latency summary of the message requests, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Arithmetic mean.
    pub mean_ms: f64,
}

/// Nearest-rank percentile (`p` in 0..=100) of an ascending slice; 0 when empty. Nearest rank
/// always answers an observed value, so a p99 is a latency some request really had.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let p = if p.is_finite() {
        p.clamp(0.0, 100.0)
    } else {
        100.0
    };
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises latencies given in milliseconds, in any order.
pub fn summarise(mut samples: Vec<f64>) -> Latency {
    samples.retain(|v| v.is_finite());
    if samples.is_empty() {
        return Latency::default();
    }
    samples.sort_by(f64::total_cmp);
    Latency {
        p50_ms: percentile(&samples, 50.0),
        p95_ms: percentile(&samples, 95.0),
        p99_ms: percentile(&samples, 99.0),
        max_ms: samples[samples.len() - 1],
        mean_ms: samples.iter().sum::<f64>() / samples.len() as f64,
    }
}

/// The base URL without its trailing slash, if it is an http(s) URL of this machine. The
/// simulator generates load; pointed elsewhere it would be an attack, so only loopback targets
/// (127.0.0.0/8, ::1, `localhost`) are accepted.
pub fn loopback_base_url(url: &str) -> anyhow::Result<String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("invalid --url {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("invalid --url {url:?}: the scheme must be http or https");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!("invalid --url {url:?}: credentials in the URL are not supported");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("invalid --url {url:?}: give the server's base URL, without query or fragment");
    }
    let host = parsed.host_str().unwrap_or_default();
    if !is_loopback_host(host) {
        bail!(
            "refusing to load-test {host:?}: the simulator only targets this machine \
             (127.0.0.1, ::1 or localhost)"
        );
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => v4.is_loopback(),
            // `::ffff:127.0.0.1` is loopback too, but `Ipv6Addr::is_loopback` only knows `::1`.
            IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        };
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 51.0), 3.0);
    }

    #[test]
    fn summary_sorts_and_ignores_non_finite() {
        let s = summarise(vec![5.0, 1.0, f64::NAN, 3.0, 2.0, 4.0]);
        assert_eq!(s.p50_ms, 3.0);
        assert_eq!(s.max_ms, 5.0);
        assert_eq!(s.mean_ms, 3.0);
        assert_eq!(summarise(Vec::new()), Latency::default());
    }

    #[test]
    fn loopback_urls_are_accepted_and_normalised() {
        for (url, base) in [
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
            ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
            ("http://localhost:8000", "http://localhost:8000"),
            ("http://LOCALHOST.:8000", "http://localhost.:8000"),
            ("http://[::1]:8000/", "http://[::1]:8000"),
            ("https://127.10.0.2", "https://127.10.0.2"),
            (
                "http://127.0.0.1:8000/prefix/",
                "http://127.0.0.1:8000/prefix",
            ),
        ] {
            assert_eq!(loopback_base_url(url).ok().as_deref(), Some(base), "{url}");
        }
    }

    #[test]
    fn other_hosts_and_schemes_are_refused() {
        for url in [
            "http://10.0.0.1:8000",
            "http://192.168.1.10",
            "http://example.com",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://[::2]:8000",
            "http://0.0.0.0:8000",
            "ftp://127.0.0.1",
            "http://user:pw@127.0.0.1:8000",
            "http://127.0.0.1:8000/?x=1",
            "127.0.0.1:8000",
            "not a url",
        ] {
            assert!(loopback_base_url(url).is_err(), "{url} must be refused");
        }
        let message = loopback_base_url("http://example.com")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("only targets this machine"), "{message}");
    }
}
