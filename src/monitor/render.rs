//! One monitor sample as a table line or a JSON line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cbln_actors::telemetry::ActorKind;
use serde::Serialize;

/// One sample as printed: every figure is optional because a poll can fail in part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// When the sample was taken (RFC 3339, UTC).
    pub time: String,
    /// `/health`'s `status` (`healthy`, `degraded`), or `unreachable` / `http NNN` when it did
    /// not answer with its JSON.
    pub status: String,
    /// The server's version, from `/health`.
    pub version: Option<String>,
    /// The server's uptime in seconds, from `/health`.
    pub uptime_s: Option<f64>,
    /// Live session actors.
    pub active_sessions: Option<u64>,
    /// Chat messages per second since the previous successful scrape.
    pub messages_per_s: Option<f64>,
    /// p95 HTTP latency (ms) of the requests since the previous successful scrape.
    pub p95_latency_ms: Option<f64>,
    /// Mailbox depth by actor type.
    pub mailbox_depths: BTreeMap<String, i64>,
    /// Actor restarts since the server started.
    pub restarts_total: Option<u64>,
    /// What went wrong in this sample, if anything.
    pub error: Option<String>,
}

impl Row {
    /// A sample taken at `time` that has no figures yet: a failed poll stays like this.
    pub fn unreachable(time: String) -> Row {
        Row {
            time,
            status: "unreachable".to_owned(),
            version: None,
            uptime_s: None,
            active_sessions: None,
            messages_per_s: None,
            p95_latency_ms: None,
            mailbox_depths: BTreeMap::new(),
            restarts_total: None,
            error: None,
        }
    }
}

/// The table's column titles; [`table_line`] pads to the same widths.
pub fn table_header() -> String {
    format!(
        "{:<8}  {:<11}  {:>8}  {:>7}  {:>8}  {:>8}  MAILBOX",
        "UTC", "STATUS", "SESSIONS", "MSG/S", "P95(ms)", "RESTARTS"
    )
}

/// Three-letter names keep seven mailboxes on one line.
fn short_actor(actor: &str) -> &str {
    match actor {
        "session" => "ses",
        "registry" => "reg",
        "crisis_detector" => "cri",
        "encryptor" => "enc",
        "persistence" => "per",
        "responder" => "res",
        "janitor" => "jan",
        other => other,
    }
}

/// Depths as `ses:0 reg:0 …`, known actor types in pipeline order, then any others by name.
pub fn compact_mailboxes(depths: &BTreeMap<String, i64>) -> String {
    let known = ActorKind::ALL.map(ActorKind::as_str);
    let ordered = known
        .iter()
        .filter_map(|name| depths.get_key_value(*name))
        .chain(
            depths
                .iter()
                .filter(|(name, _)| !known.contains(&name.as_str())),
        );
    let mut out = String::new();
    for (name, depth) in ordered {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{}:{depth}", short_actor(name));
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

fn or_dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| value.to_string())
}

/// One table line: the time of day, the figures, and the error (if any) at the end.
pub fn table_line(row: &Row) -> String {
    // RFC 3339 puts the time of day at 11..19; the date adds nothing on a live screen.
    let clock = row.time.get(11..19).unwrap_or(&row.time);
    let mut line = format!(
        "{:<8}  {:<11}  {:>8}  {:>7}  {:>8}  {:>8}  {}",
        clock,
        row.status,
        or_dash(row.active_sessions),
        or_dash(row.messages_per_s.map(|rate| format!("{rate:.2}"))),
        or_dash(row.p95_latency_ms.map(|ms| format!("{ms:.1}"))),
        or_dash(row.restarts_total),
        if row.mailbox_depths.is_empty() && row.error.is_some() {
            "-".to_owned()
        } else {
            compact_mailboxes(&row.mailbox_depths)
        },
    );
    if let Some(error) = &row.error {
        line.push_str("  ! ");
        line.push_str(error);
    }
    line
}

/// One JSON object on one line.
pub fn json_line(row: &Row) -> serde_json::Result<String> {
    serde_json::to_string(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        Row {
            time: "2025-11-01T21:04:05.123Z".to_owned(),
            status: "healthy".to_owned(),
            version: Some("0.1.0".to_owned()),
            uptime_s: Some(3600.0),
            active_sessions: Some(12),
            messages_per_s: Some(1.234),
            p95_latency_ms: Some(41.25),
            mailbox_depths: [
                ("janitor", 0),
                ("session", 2),
                ("persistence", 15),
                ("encryptor", 0),
                ("registry", 0),
                ("responder", 1),
                ("crisis_detector", 0),
            ]
            .into_iter()
            .map(|(name, depth)| (name.to_owned(), depth))
            .collect(),
            restarts_total: Some(3),
            error: None,
        }
    }

    #[test]
    fn a_table_line_lines_up_with_the_header() {
        let header = table_header();
        let line = table_line(&row());
        assert_eq!(
            line,
            "21:04:05  healthy            12     1.23      41.2         3  ses:2 reg:0 cri:0 enc:0 per:15 res:1 jan:0"
        );
        assert_eq!(header.find("MAILBOX"), line.find("ses:"));
        assert_eq!(
            header.find("RESTARTS").map(|at| at + "RESTARTS".len()),
            line.find("3  ses").map(|at| at + 1)
        );
    }

    #[test]
    fn missing_figures_show_as_dashes_and_errors_at_the_end() {
        let failed = Row {
            error: Some("cannot reach http://127.0.0.1:9/health: connection refused".to_owned()),
            ..Row::unreachable(row().time)
        };
        assert_eq!(
            table_line(&failed),
            "21:04:05  unreachable         -        -         -         -  -  ! cannot reach http://127.0.0.1:9/health: connection refused"
        );
    }

    #[test]
    fn unknown_actor_types_follow_the_known_ones() {
        let depths = [("zeta", 1), ("session", 0), ("alpha", 2)]
            .into_iter()
            .map(|(name, depth)| (name.to_owned(), depth))
            .collect();
        assert_eq!(compact_mailboxes(&depths), "ses:0 alpha:2 zeta:1");
        assert_eq!(compact_mailboxes(&BTreeMap::new()), "-");
    }

    #[test]
    fn a_json_line_is_one_object_with_every_field() {
        let line = json_line(&row()).unwrap();
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["status"], "healthy");
        assert_eq!(value["active_sessions"], 12);
        assert_eq!(value["messages_per_s"], 1.234);
        assert_eq!(value["p95_latency_ms"], 41.25);
        assert_eq!(value["mailbox_depths"]["persistence"], 15);
        assert_eq!(value["restarts_total"], 3);
        assert!(value["error"].is_null());
        assert_eq!(value["time"], "2025-11-01T21:04:05.123Z");
    }
}
