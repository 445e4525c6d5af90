//! The settings tree. Each field is documented once here and once in `config/default.toml`;
//! unknown keys are refused so a typo can never fall back to a default silently.

use secrecy::SecretString;
use serde::Deserialize;

/// All settings, after layering.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Optional Redis.
    pub redis: RedisSettings,
    /// Keys.
    pub security: SecuritySettings,
    /// Sessions and their actors.
    pub session: SessionSettings,
    /// The message pipeline.
    pub pipeline: PipelineSettings,
    /// Restart intensity.
    pub supervision: SupervisionSettings,
    /// Rate limits.
    pub rate_limit: RateLimitSettings,
    /// Idempotent retries.
    pub idempotency: IdempotencySettings,
    /// Reply generation.
    pub responder: ResponderSettings,
    /// Crisis cards.
    pub crisis: CrisisSettings,
    /// `[content]`.
    pub content: ContentSettings,
    /// Retention and housekeeping.
    pub janitor: JanitorSettings,
    /// Logging.
    pub log: LogSettings,
    /// Metrics.
    pub metrics: MetricsSettings,
    /// Staff sign-in.
    pub staff: StaffSettings,
    /// The handoff to a counsellor.
    pub handoff: HandoffSettings,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub host: String,
    /// Listen port (also `PORT`).
    pub port: u16,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    /// Seconds in-flight requests get on shutdown.
    pub shutdown_timeout_s: u64,
    /// Milliseconds allowed for receiving a request body after its headers.
    pub body_read_timeout_ms: u64,
    /// Longest accepted URL (path and query) in bytes.
    pub max_url_bytes: usize,
    /// Open connections allowed per client address (trusted proxies exempt); 0 = no cap.
    pub max_connections_per_address: usize,
    /// Milliseconds between the heartbeat comments of an idle event stream.
    pub event_heartbeat_ms: u64,
    /// CORS origins (exact).
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed (IPs or CIDR ranges).
    pub trusted_proxies: Vec<String>,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…` (also `DATABASE_URL`); may hold a password.
    pub url: SecretString,
    /// Most pooled connections.
    pub max_connections: u32,
    /// Idle connections kept.
    pub min_connections: u32,
    /// Seconds to wait for a connection.
    pub acquire_timeout_s: u64,
    /// Apply pending migrations at start.
    pub migrate_on_start: bool,
    /// Milliseconds between reachability probes on the probe's own connection.
    pub probe_interval_ms: u64,
    /// Milliseconds a probe may take before the database counts as unreachable.
    pub probe_timeout_ms: u64,
    /// PostgreSQL `statement_timeout` in milliseconds; a commit unanswered this long (plus 2 s)
    /// is given up on by the writer too.
    pub statement_timeout_ms: u64,
    /// Seconds of silence before PostgreSQL's TCP keepalive probes a connection.
    pub tcp_keepalive_s: u64,
}

/// `[redis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://…` (also `REDIS_URL`); empty = disabled.
    pub url: SecretString,
    /// Pooled connections.
    pub pool_size: u32,
    /// Milliseconds to wait for a connection.
    pub connect_timeout_ms: u64,
}

/// `[security]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Token HMAC key (also `SECRET_KEY`).
    pub secret_key: SecretString,
    /// Master key, 32 bytes base64/hex (also `ENCRYPTION_KEY`).
    pub encryption_key: SecretString,
    /// Older master keys, comma-separated (also `ENCRYPTION_KEYS_PREVIOUS`).
    pub encryption_keys_previous: SecretString,
    /// Where development keys are generated.
    pub data_dir: String,
}

/// `[session]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Session lifetime in days.
    pub ttl_days: u64,
    /// Idle seconds before a session actor stops.
    pub idle_timeout_s: u64,
    /// Most live session actors.
    pub max_live_actors: usize,
    /// Queued requests per session before 503.
    pub mailbox_capacity: usize,
    /// Turns of context for the responder.
    pub context_turns: usize,
    /// Seconds of continuous use after which a reply carries a break reminder.
    pub break_after_s: u64,
    /// Seconds of pause that end a stretch of continuous use.
    pub stretch_gap_s: u64,
    /// Hour (0..=23, Vietnam time) from which replies may carry a late-night break reminder.
    pub night_start_hour: u8,
    /// Hour (0..=23, Vietnam time) at which late night ends; equal to the start turns it off.
    pub night_end_hour: u8,
}

/// `[pipeline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSettings {
    /// Milliseconds per stage.
    pub stage_timeout_ms: u64,
    /// Milliseconds per request in the actor system.
    pub request_timeout_ms: u64,
    /// In-flight requests per shared actor before 503.
    pub mailbox_capacity: usize,
    /// Encryption threads; 0 = per core.
    pub encryptor_threads: usize,
    /// Detector threads; 0 = per core.
    pub detector_threads: usize,
    /// Most writes per transaction.
    pub group_commit_max: usize,
    /// Group-commit transactions in flight; 0 = 1 on SQLite, 2 on PostgreSQL.
    pub commit_writers: usize,
}

/// `[supervision]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionSettings {
    /// K restarts ...
    pub max_restarts: u32,
    /// ... within T seconds.
    pub within_s: u64,
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Master switch.
    pub enabled: bool,
    /// Messages per session per minute.
    pub messages_per_minute: u32,
    /// Extra burst of messages.
    pub message_burst: u32,
    /// Sessions per client address per minute.
    pub sessions_per_minute: u32,
    /// Extra burst of sessions.
    pub session_burst: u32,
    /// Staff sign-in attempts per client address, and per user name, per minute.
    pub staff_logins_per_minute: u32,
    /// Extra burst of staff sign-in attempts.
    pub staff_login_burst: u32,
}

/// `[idempotency]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencySettings {
    /// Seconds an answer is kept for retries with the same `Idempotency-Key`.
    pub ttl_s: u64,
    /// Seconds an unfinished first request holds its key before a retry may take it over (its
    /// instance is presumed dead); longer than any request may take.
    pub in_flight_lease_s: u64,
}

/// Which responder answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponderProvider {
    /// The built-in listener, no network.
    Builtin,
    /// An OpenAI-compatible chat-completions server.
    Openai,
}

/// `[responder]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponderSettings {
    /// `builtin` or `openai`.
    pub provider: ResponderProvider,
    /// API base URL.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// API key (also `OPENAI_API_KEY`).
    pub api_key: SecretString,
    /// Milliseconds before falling back.
    pub timeout_ms: u64,
    /// Longest reply.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
}

/// `[content]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentSettings {
    /// A reviewed copy of `content/`, relative to the config directory; empty = compiled in.
    pub dir: String,
}

/// `[crisis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisSettings {
    /// Hotline file, relative to the config directory.
    pub hotlines_file: String,
    /// A retrained risk model (`cbln crisis train --out`); empty means the compiled-in one.
    pub model_file: String,
    /// Minutes of silence after which a conversation's crisis mode lapses without a safety step.
    pub quiet_period_minutes: u32,
    /// The optional model judge.
    pub judge: CrisisJudgeConfig,
}

/// `[crisis.judge]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisJudgeConfig {
    /// Ask the model for a second opinion.
    pub enabled: bool,
    /// API base URL.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// API key; empty = the responder's (`responder.api_key`, `OPENAI_API_KEY`).
    pub api_key: SecretString,
    /// Milliseconds before the detector decides alone.
    pub timeout_ms: u64,
}

/// `[janitor]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JanitorSettings {
    /// Minutes between sweeps.
    pub sweep_interval_minutes: u64,
    /// Sweep at start.
    pub sweep_at_start: bool,
    /// Rows per delete.
    pub batch_size: i64,
    /// Milliseconds between batches.
    pub batch_pause_ms: u64,
    /// Days to keep health snapshots.
    pub health_retention_days: u64,
    /// Minutes between snapshots.
    pub snapshot_interval_minutes: u64,
    /// Seconds between rule-change checks.
    pub rules_poll_interval_s: u64,
    /// Seconds between sweeps for user messages left without a reply.
    pub orphan_sweep_interval_s: u64,
    /// Seconds a user message awaits its reply before anyone but its own actor answers it.
    pub orphan_grace_s: u64,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: LogFormat,
    /// tracing filter.
    pub level: String,
}

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Record metrics.
    pub enabled: bool,
    /// `IP:port` of a separate listener that alone serves `/metrics`, so that the metrics need
    /// not be reachable where the API is; unset or empty serves them on the main listener.
    #[serde(default)]
    pub listen: Option<String>,
}

impl MetricsSettings {
    /// The separate metrics listener's address, when one is configured.
    pub fn listen_address(&self) -> Option<&str> {
        self.listen
            .as_deref()
            .map(str::trim)
            .filter(|address| !address.is_empty())
    }
}

/// `[staff]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSettings {
    /// Hours a staff sign-in token stays valid (one shift).
    pub shift_hours: u64,
}

/// `[handoff]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffSettings {
    /// Weekly spans in Vietnam time (`mon-fri 08:00-22:00`); empty = all hours. An admin's
    /// `PUT /api/v1/staff/opening-hours` overrides them.
    pub opening_hours: Vec<String>,
    /// Closed dates (`YYYY-MM-DD`, Vietnam time).
    pub holidays: Vec<String>,
    /// Minutes a closed handoff's key and sealed material are kept before the janitor destroys
    /// them (a handoff the person cancels while still queued is destroyed at once).
    pub retention_minutes: u64,
    /// Seconds of wait per handoff ahead in the queue, estimated before any claim was measured.
    pub default_wait_s: u64,
}

impl HandoffSettings {
    /// The configured hours as the staff domain reads them.
    pub fn hours_spec(&self) -> cbln_actors::staff::HoursSpec {
        cbln_actors::staff::HoursSpec {
            opening_hours: self.opening_hours.clone(),
            holidays: self.holidays.clone(),
        }
    }
}
