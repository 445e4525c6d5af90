//! The service's metric families and the typed methods that record into them.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};

use super::labels::{
    ActorKind, CryptoOperation, DeleteReason, JanitorKind, JanitorOutcome, Outcome, PoolState,
    RateLimitScope, ResponderOutcome,
};
use crate::domain::Role;

/// Upper bounds (seconds) of `http_request_duration_seconds`: sub-millisecond health checks up to
/// requests that waited on a slow responder.
pub const HTTP_DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds (seconds) of `actor_message_duration_seconds`: 50 µs (a crisis rule pass) to 10 s
/// (a responder call to a remote model).
pub const ACTOR_DURATION_BUCKETS: [f64; 17] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

/// Upper bounds (seconds) of `db_pool_acquire_duration_seconds`: an idle connection is taken in
/// microseconds; anything near the pool timeout means the pool is too small.
pub const DB_ACQUIRE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 5.0,
];

/// Upper bounds (seconds) of `handoff_wait_seconds`: from a counsellor at hand to a long night.
pub const HANDOFF_WAIT_BUCKETS: [f64; 10] = [
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
];

/// The `route` label for requests that matched no route, so probes of random paths cannot
/// create series.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `Content-Type` of [`Metrics::encode_prometheus_text`]'s output.
pub const PROMETHEUS_TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// An encoded exposition with the `Content-Type` to serve it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The exposition text.
    pub body: String,
    /// The matching `Content-Type` header value.
    pub content_type: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpDurationLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActorMessageLabels {
    actor: ActorKind,
    message: &'static str,
    outcome: Outcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActorDurationLabels {
    actor: ActorKind,
    message: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActorLabels {
    actor: ActorKind,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: DeleteReason,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleLabels {
    role: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CrisisLabels {
    category: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: CryptoOperation,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PurposeLabels {
    purpose: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResponderCallLabels {
    provider: String,
    outcome: ResponderOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResponderFallbackLabels {
    provider: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JanitorKindLabels {
    kind: JanitorKind,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JanitorOutcomeLabels {
    outcome: JanitorOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: PoolState,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLabels {
    scope: RateLimitScope,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandoffRiskLabels {
    risk: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandoffOutcomeLabels {
    outcome: &'static str,
    risk: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

/// `metric`, registered as `name` with `help`; the registry and the caller share it, the caller
/// recording into its handle.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// Creates a series at its zero value; the returned read guard is dropped at once.
fn ensure_series<S, M, C>(family: &Family<S, M, C>, labels: &S)
where
    S: Clone + std::hash::Hash + Eq,
    C: prometheus_client::metrics::family::MetricConstructor<M>,
{
    drop(family.get_or_create(labels));
}

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_DURATION_BUCKETS)
}

fn actor_histogram() -> Histogram {
    Histogram::new(ACTOR_DURATION_BUCKETS)
}

/// Maps a request method onto a closed set so that a client sending made-up methods cannot add
/// series.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

struct Inner {
    enabled: bool,
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<HttpDurationLabels>,
    actor_messages: Family<ActorMessageLabels, Counter>,
    actor_duration: HistogramFamily<ActorDurationLabels>,
    actor_mailbox_depth: Family<ActorLabels, Gauge>,
    actor_restarts: Family<ActorLabels, Counter>,
    actors_live: Family<ActorLabels, Gauge>,
    sessions_created: Counter,
    sessions_deleted: Family<ReasonLabels, Counter>,
    chat_messages: Family<RoleLabels, Counter>,
    crisis_detections: Family<CrisisLabels, Counter>,
    encryption_errors: Family<OperationLabels, Counter>,
    integrity_errors: Family<PurposeLabels, Counter>,
    responder_calls: Family<ResponderCallLabels, Counter>,
    responder_fallbacks: Family<ResponderFallbackLabels, Counter>,
    janitor_deleted: Family<JanitorKindLabels, Counter>,
    janitor_runs: Family<JanitorOutcomeLabels, Counter>,
    db_pool_connections: Family<PoolLabels, Gauge>,
    db_pool_acquire: Histogram,
    rate_limited: Family<ScopeLabels, Counter>,
    handoff_queue: Gauge,
    handoff_wait: Histogram,
    handoffs_requested: Family<HandoffRiskLabels, Counter>,
    handoffs_ended: Family<HandoffOutcomeLabels, Counter>,
}

/// Every metric the service exports, cheap to clone and shared by all actors and HTTP workers.
///
/// Built once at startup with [`Metrics::new`]; [`Metrics::disabled`] gives the same API with
/// recording turned off, to measure what metrics cost.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.inner.enabled)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Builds the registry with every family, `build_info{version}` set to 1 and
    /// `process_start_time_seconds` set to now.
    pub fn new(version: &str) -> Self {
        Self::build(version, true)
    }

    /// The same families, but every record method returns before touching them.
    pub fn disabled() -> Self {
        Self::build(env!("CARGO_PKG_VERSION"), false)
    }

    /// Whether record methods record anything.
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled
    }

    /// The families to record into, or `None` when recording is off.
    fn recording(&self) -> Option<&Inner> {
        self.inner.enabled.then_some(&*self.inner)
    }

    /// Adds `by` to the counter of `labels` in the family `family` picks, when recording.
    fn count<L>(&self, family: impl FnOnce(&Inner) -> &Family<L, Counter>, labels: &L, by: u64)
    where
        L: Clone + std::hash::Hash + Eq,
    {
        if let Some(metrics) = self.recording() {
            family(metrics).get_or_create(labels).inc_by(by);
        }
    }

    fn build(version: &str, enabled: bool) -> Self {
        let mut registry = Registry::default();

        let http_requests = registered(
            &mut registry,
            "http_requests",
            "HTTP requests by method, route template and status",
            Family::<HttpLabels, Counter>::default(),
        );
        let http_duration: HistogramFamily<HttpDurationLabels> = registered(
            &mut registry,
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            Family::new_with_constructor(http_histogram),
        );

        let actor_messages = registered(
            &mut registry,
            "actor_messages",
            "Actor messages handled by actor type, message type and outcome",
            Family::<ActorMessageLabels, Counter>::default(),
        );
        let actor_duration: HistogramFamily<ActorDurationLabels> = registered(
            &mut registry,
            "actor_message_duration_seconds",
            "Time from handing a message to an actor to its reply, by actor type and message type",
            Family::new_with_constructor(actor_histogram),
        );
        let actor_mailbox_depth = registered(
            &mut registry,
            "actor_mailbox_depth",
            "Messages waiting in the mailboxes of all actors of a type",
            Family::<ActorLabels, Gauge>::default(),
        );
        let actor_restarts = registered(
            &mut registry,
            "actor_restarts",
            "Supervisor restarts by actor type",
            Family::<ActorLabels, Counter>::default(),
        );
        let actors_live = registered(
            &mut registry,
            "actors_live",
            "Running actors by actor type",
            Family::<ActorLabels, Gauge>::default(),
        );

        let sessions_created = registered(
            &mut registry,
            "sessions_created",
            "Chat sessions created",
            Counter::default(),
        );
        let sessions_deleted = registered(
            &mut registry,
            "sessions_deleted",
            "Chat sessions deleted, by the user or on expiry",
            Family::<ReasonLabels, Counter>::default(),
        );
        let chat_messages = registered(
            &mut registry,
            "chat_messages",
            "Chat messages committed, by role",
            Family::<RoleLabels, Counter>::default(),
        );
        let crisis_detections = registered(
            &mut registry,
            "crisis_detections",
            "Crisis detections by category and severity",
            Family::<CrisisLabels, Counter>::default(),
        );
        let encryption_errors = registered(
            &mut registry,
            "encryption_errors",
            "Failed cryptographic operations",
            Family::<OperationLabels, Counter>::default(),
        );
        let integrity_errors = registered(
            &mut registry,
            "integrity_errors",
            "Ciphertexts or records that failed authentication, by purpose",
            Family::<PurposeLabels, Counter>::default(),
        );
        let responder_calls = registered(
            &mut registry,
            "responder_calls",
            "Responder calls by provider and whether the fallback answered",
            Family::<ResponderCallLabels, Counter>::default(),
        );
        let responder_fallbacks = registered(
            &mut registry,
            "responder_fallbacks",
            "Responder fallbacks by provider and reason",
            Family::<ResponderFallbackLabels, Counter>::default(),
        );
        let janitor_deleted = registered(
            &mut registry,
            "janitor_deleted",
            "Rows deleted by the janitor, by kind",
            Family::<JanitorKindLabels, Counter>::default(),
        );
        let janitor_runs = registered(
            &mut registry,
            "janitor_runs",
            "Janitor sweeps by outcome",
            Family::<JanitorOutcomeLabels, Counter>::default(),
        );
        let db_pool_connections = registered(
            &mut registry,
            "db_pool_connections",
            "Database pool connections: size (open) and idle",
            Family::<PoolLabels, Gauge>::default(),
        );
        let db_pool_acquire = registered(
            &mut registry,
            "db_pool_acquire_duration_seconds",
            "Time spent waiting for a database connection",
            Histogram::new(DB_ACQUIRE_BUCKETS),
        );
        let rate_limited = registered(
            &mut registry,
            "rate_limited",
            "Requests refused by a rate limit, by scope",
            Family::<ScopeLabels, Counter>::default(),
        );
        let handoff_queue = registered(
            &mut registry,
            "handoff_queue",
            "Handoffs waiting for a counsellor, as last counted by this instance",
            Gauge::default(),
        );
        let handoff_wait = registered(
            &mut registry,
            "handoff_wait_seconds",
            "Time from asking for a counsellor to a counsellor's claim",
            Histogram::new(HANDOFF_WAIT_BUCKETS),
        );
        let handoffs_requested = registered(
            &mut registry,
            "handoffs_requested",
            "Handoffs to a counsellor asked for, by the conversation's risk",
            Family::<HandoffRiskLabels, Counter>::default(),
        );
        let handoffs_ended = registered(
            &mut registry,
            "handoffs_ended",
            "Handoffs ended, by outcome and the conversation's risk",
            Family::<HandoffOutcomeLabels, Counter>::default(),
        );

        let process_start = Gauge::<f64, AtomicU64>::default();
        // The registry is built at startup, so "now" is the start time to within milliseconds
        // and needs no platform-specific /proc lookup.
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs_f64())
            .unwrap_or(0.0);
        process_start.set(started);
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds",
            process_start,
        );
        let build_info = Family::<VersionLabels, Gauge>::default();
        build_info
            .get_or_create(&VersionLabels {
                version: version.to_owned(),
            })
            .set(1);
        registry.register(
            "build_info",
            "Always 1; the version label names the running build",
            build_info,
        );

        // Series that exist from startup at 0, so rate() and dashboards see them before the
        // first event rather than showing "no data".
        for actor in ActorKind::ALL {
            let labels = ActorLabels { actor };
            ensure_series(&actor_mailbox_depth, &labels);
            ensure_series(&actor_restarts, &labels);
            ensure_series(&actors_live, &labels);
        }
        for reason in DeleteReason::ALL {
            ensure_series(&sessions_deleted, &ReasonLabels { reason });
        }
        for role in [Role::User, Role::Assistant] {
            ensure_series(
                &chat_messages,
                &RoleLabels {
                    role: role.as_str(),
                },
            );
        }
        for operation in CryptoOperation::ALL {
            ensure_series(&encryption_errors, &OperationLabels { operation });
        }
        for kind in JanitorKind::ALL {
            ensure_series(&janitor_deleted, &JanitorKindLabels { kind });
        }
        for outcome in JanitorOutcome::ALL {
            ensure_series(&janitor_runs, &JanitorOutcomeLabels { outcome });
        }
        for state in PoolState::ALL {
            ensure_series(&db_pool_connections, &PoolLabels { state });
        }
        for scope in RateLimitScope::ALL {
            ensure_series(&rate_limited, &ScopeLabels { scope });
        }
        // Every outcome at every risk from the start: few series, and a dashboard with no gaps.
        for risk in crate::crisis::RiskLevel::ALL {
            let risk = risk.as_str();
            ensure_series(&handoffs_requested, &HandoffRiskLabels { risk });
            for outcome in crate::handoff::Outcome::ALL {
                let outcome = outcome.as_str();
                ensure_series(&handoffs_ended, &HandoffOutcomeLabels { outcome, risk });
            }
        }

        Metrics {
            inner: Arc::new(Inner {
                enabled,
                registry,
                http_requests,
                http_duration,
                actor_messages,
                actor_duration,
                actor_mailbox_depth,
                actor_restarts,
                actors_live,
                sessions_created,
                sessions_deleted,
                chat_messages,
                crisis_detections,
                encryption_errors,
                integrity_errors,
                responder_calls,
                responder_fallbacks,
                janitor_deleted,
                janitor_runs,
                db_pool_connections,
                db_pool_acquire,
                rate_limited,
                handoff_queue,
                handoff_wait,
                handoffs_requested,
                handoffs_ended,
            }),
        }
    }

    /// Counts a handoff asked for at the conversation's `risk`.
    pub fn handoff_requested(&self, risk: crate::crisis::RiskLevel) {
        self.count(
            |m| &m.handoffs_requested,
            &HandoffRiskLabels {
                risk: risk.as_str(),
            },
            1,
        );
    }

    /// Records a claim after the handoff waited `waited`.
    pub fn handoff_claimed(&self, waited: Duration) {
        if let Some(metrics) = self.recording() {
            metrics.handoff_wait.observe(waited.as_secs_f64());
        }
    }

    /// Counts a handoff ended with `outcome` (a closed set: `handoff::Outcome::as_str`).
    pub fn handoff_ended(&self, outcome: &'static str, risk: crate::crisis::RiskLevel) {
        self.count(
            |m| &m.handoffs_ended,
            &HandoffOutcomeLabels {
                outcome,
                risk: risk.as_str(),
            },
            1,
        );
    }

    /// Sets the number of handoffs waiting.
    pub fn set_handoff_queue(&self, queued: i64) {
        if let Some(metrics) = self.recording() {
            metrics.handoff_queue.set(queued);
        }
    }

    /// Encodes every family as OpenMetrics text, ending with `# EOF`.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(32 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }

    /// Encodes every family as classic Prometheus text (what `promtool check metrics` reads).
    pub fn encode_prometheus_text(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(32 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }

    /// Encodes in the format an HTTP `Accept` header asks for, as client_golang does:
    /// OpenMetrics when it mentions `application/openmetrics-text` (Prometheus' own scrapes do),
    /// classic text otherwise (curl, browsers, `promtool`).
    pub fn encode_for_accept(&self, accept: Option<&str>) -> Result<Encoded, std::fmt::Error> {
        let wants_openmetrics = accept.is_some_and(|accept| {
            accept
                .to_ascii_lowercase()
                .contains("application/openmetrics-text")
        });
        Ok(if wants_openmetrics {
            Encoded {
                body: self.encode()?,
                content_type: OPENMETRICS_CONTENT_TYPE,
            }
        } else {
            Encoded {
                body: self.encode_prometheus_text()?,
                content_type: PROMETHEUS_TEXT_CONTENT_TYPE,
            }
        })
    }

    /// Records one HTTP request. `route` must be the route template (e.g.
    /// `/api/v1/sessions/{token}`) or [`UNMATCHED_ROUTE`], never the raw path.
    pub fn record_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Some(metrics) = self.recording() {
            let method = method_label(method);
            metrics
                .http_requests
                .get_or_create(&HttpLabels {
                    method,
                    route: route.to_owned(),
                    status,
                })
                .inc();
            metrics
                .http_duration
                .get_or_create(&HttpDurationLabels {
                    method,
                    route: route.to_owned(),
                })
                .observe(elapsed.as_secs_f64());
        }
    }

    /// Creates the series of `actor`'s message types at 0 for every outcome, so that they show on
    /// dashboards before the first message. Call once per actor type at startup.
    pub fn declare_actor_messages(&self, actor: ActorKind, messages: &[&'static str]) {
        for &message in messages {
            for outcome in Outcome::ALL {
                ensure_series(
                    &self.inner.actor_messages,
                    &ActorMessageLabels {
                        actor,
                        message,
                        outcome,
                    },
                );
            }
            ensure_series(
                &self.inner.actor_duration,
                &ActorDurationLabels { actor, message },
            );
        }
    }

    /// Records one message handled (or refused) by an actor of type `actor`; `message` is the
    /// message type's name, e.g. `"PostMessage"`.
    pub fn record_actor_message(
        &self,
        actor: ActorKind,
        message: &'static str,
        outcome: Outcome,
        elapsed: Duration,
    ) {
        if let Some(metrics) = self.recording() {
            metrics
                .actor_messages
                .get_or_create(&ActorMessageLabels {
                    actor,
                    message,
                    outcome,
                })
                .inc();
            // A refused message was never handled: its near-zero time would drag the latency down
            // exactly when the actor is slowest.
            if outcome != Outcome::Overloaded {
                metrics
                    .actor_duration
                    .get_or_create(&ActorDurationLabels { actor, message })
                    .observe(elapsed.as_secs_f64());
            }
        }
    }

    /// Sets the number of messages waiting for all actors of type `actor`.
    pub fn set_mailbox_depth(&self, actor: ActorKind, depth: i64) {
        if let Some(metrics) = self.recording() {
            metrics
                .actor_mailbox_depth
                .get_or_create(&ActorLabels { actor })
                .set(depth);
        }
    }

    /// Counts one supervisor restart of an actor of type `actor`.
    pub fn actor_restarted(&self, actor: ActorKind) {
        self.count(|m| &m.actor_restarts, &ActorLabels { actor }, 1);
    }

    /// Sets the number of running actors of type `actor`.
    pub fn set_actors_live(&self, actor: ActorKind, live: i64) {
        if let Some(metrics) = self.recording() {
            metrics
                .actors_live
                .get_or_create(&ActorLabels { actor })
                .set(live);
        }
    }

    /// Adds `delta` (negative to subtract) to the running actors of type `actor`, for actors that
    /// count themselves in `started` and `stopped`.
    pub fn add_actors_live(&self, actor: ActorKind, delta: i64) {
        if let Some(metrics) = self.recording() {
            metrics
                .actors_live
                .get_or_create(&ActorLabels { actor })
                .inc_by(delta);
        }
    }

    /// Counts one session created.
    pub fn session_created(&self) {
        if let Some(metrics) = self.recording() {
            metrics.sessions_created.inc();
        }
    }

    /// Counts one session deleted.
    pub fn session_deleted(&self, reason: DeleteReason) {
        self.sessions_deleted(reason, 1);
    }

    /// Counts `count` sessions deleted at once (a janitor batch).
    pub fn sessions_deleted(&self, reason: DeleteReason, count: u64) {
        self.count(|m| &m.sessions_deleted, &ReasonLabels { reason }, count);
    }

    /// Counts one chat message committed.
    pub fn chat_message(&self, role: Role) {
        self.count(
            |m| &m.chat_messages,
            &RoleLabels {
                role: role.as_str(),
            },
            1,
        );
    }

    /// Counts one crisis detection. `category` and `severity` must come from the detector's
    /// closed sets (never from user text), since each distinct value is a series.
    pub fn crisis_detected(&self, category: &str, severity: &str) {
        self.count(
            |m| &m.crisis_detections,
            &CrisisLabels {
                category: category.to_owned(),
                severity: severity.to_owned(),
            },
            1,
        );
    }

    /// Counts one failed cryptographic operation.
    pub fn encryption_error(&self, operation: CryptoOperation) {
        self.count(|m| &m.encryption_errors, &OperationLabels { operation }, 1);
    }

    /// Counts one integrity failure; `purpose` is the AAD purpose (e.g. `"message"`), a closed set.
    pub fn integrity_error(&self, purpose: &str) {
        self.count(
            |m| &m.integrity_errors,
            &PurposeLabels {
                purpose: purpose.to_owned(),
            },
            1,
        );
    }

    /// Creates `provider`'s responder series at 0; call once at startup with the configured
    /// provider's name.
    pub fn declare_responder_provider(&self, provider: &str) {
        self.declare_responder_fallbacks(provider, &[]);
        for outcome in ResponderOutcome::ALL {
            ensure_series(
                &self.inner.responder_calls,
                &ResponderCallLabels {
                    provider: provider.to_owned(),
                    outcome,
                },
            );
        }
    }

    /// Counts one responder call; `provider` is the configured provider's name (e.g. `"builtin"`).
    pub fn responder_call(&self, provider: &str, outcome: ResponderOutcome) {
        self.count(
            |m| &m.responder_calls,
            &ResponderCallLabels {
                provider: provider.to_owned(),
                outcome,
            },
            1,
        );
    }

    /// Creates the fallback series of `provider` at 0 for each reason, so the family is exported
    /// (and dashboards show 0) before the first fallback.
    pub fn declare_responder_fallbacks(&self, provider: &str, reasons: &[&str]) {
        for reason in reasons {
            ensure_series(
                &self.inner.responder_fallbacks,
                &ResponderFallbackLabels {
                    provider: provider.to_owned(),
                    reason: (*reason).to_owned(),
                },
            );
        }
    }

    /// Creates the integrity-error series at 0 for each purpose, so the family is exported
    /// before the first error.
    pub fn declare_integrity_purposes(&self, purposes: &[&str]) {
        for purpose in purposes {
            ensure_series(
                &self.inner.integrity_errors,
                &PurposeLabels {
                    purpose: (*purpose).to_owned(),
                },
            );
        }
    }

    /// Counts one fallback; `reason` is a short fixed code such as `"timeout"` or `"http_5xx"`,
    /// never an error message.
    pub fn responder_fallback(&self, provider: &str, reason: &str) {
        self.count(
            |m| &m.responder_fallbacks,
            &ResponderFallbackLabels {
                provider: provider.to_owned(),
                reason: reason.to_owned(),
            },
            1,
        );
    }

    /// Counts `count` rows of `kind` deleted by the janitor.
    pub fn janitor_deleted(&self, kind: JanitorKind, count: u64) {
        self.count(|m| &m.janitor_deleted, &JanitorKindLabels { kind }, count);
    }

    /// Counts one janitor sweep.
    pub fn janitor_run(&self, outcome: JanitorOutcome) {
        self.count(|m| &m.janitor_runs, &JanitorOutcomeLabels { outcome }, 1);
    }

    /// Sets the database pool's open (`size`) and idle connection counts.
    pub fn set_db_pool(&self, size: i64, idle: i64) {
        if let Some(metrics) = self.recording() {
            for (state, value) in [(PoolState::Size, size), (PoolState::Idle, idle)] {
                metrics
                    .db_pool_connections
                    .get_or_create(&PoolLabels { state })
                    .set(value);
            }
        }
    }

    /// Records how long acquiring a database connection took.
    pub fn observe_db_acquire(&self, elapsed: Duration) {
        if let Some(metrics) = self.recording() {
            metrics.db_pool_acquire.observe(elapsed.as_secs_f64());
        }
    }

    /// Counts one request refused by a rate limit.
    pub fn rate_limited(&self, scope: RateLimitScope) {
        self.count(|m| &m.rate_limited, &ScopeLabels { scope }, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample `name{labels}`, with the labels in the order the registry writes
    /// them. The HTTP tests parse the whole exposition strictly; these only read values.
    fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let series = if labels.is_empty() {
            name.to_owned()
        } else {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(key, value)| format!("{key}=\"{value}\""))
                .collect();
            format!("{name}{{{}}}", pairs.join(","))
        };
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(&series)?.strip_prefix(' ')?;
            rest.split(' ').next()?.parse().ok()
        })
    }

    #[test]
    fn statically_known_series_exist_at_zero() {
        let metrics = Metrics::new("1.2.3");
        let text = metrics.encode().unwrap();
        for actor in ActorKind::ALL {
            let labels = [("actor", actor.as_str())];
            assert_eq!(
                value(&text, "actor_mailbox_depth", &labels),
                Some(0.0),
                "{actor:?}"
            );
            assert_eq!(value(&text, "actor_restarts_total", &labels), Some(0.0));
            assert_eq!(value(&text, "actors_live", &labels), Some(0.0));
        }
        for reason in ["user", "expired"] {
            assert_eq!(
                value(&text, "sessions_deleted_total", &[("reason", reason)]),
                Some(0.0)
            );
        }
        for role in ["user", "assistant"] {
            assert_eq!(
                value(&text, "chat_messages_total", &[("role", role)]),
                Some(0.0)
            );
        }
        for op in ["seal", "open", "wrap", "unwrap"] {
            assert_eq!(
                value(&text, "encryption_errors_total", &[("operation", op)]),
                Some(0.0)
            );
        }
        for scope in ["session", "client"] {
            assert_eq!(
                value(&text, "rate_limited_total", &[("scope", scope)]),
                Some(0.0)
            );
        }
        assert_eq!(value(&text, "sessions_created_total", &[]), Some(0.0));
        assert_eq!(
            value(&text, "build_info", &[("version", "1.2.3")]),
            Some(1.0)
        );
        let started = value(&text, "process_start_time_seconds", &[]).unwrap();
        assert!(started > 1.6e9, "{started}");
    }

    #[test]
    fn records_land_in_the_right_series() {
        let metrics = Metrics::new("t");
        metrics.record_actor_message(
            ActorKind::CrisisDetector,
            "Detect",
            Outcome::Ok,
            Duration::from_micros(80),
        );
        metrics.record_actor_message(
            ActorKind::CrisisDetector,
            "Detect",
            Outcome::Overloaded,
            Duration::from_micros(1),
        );
        metrics.record_http(
            "GET",
            "/api/v1/sessions/{token}",
            200,
            Duration::from_millis(3),
        );
        metrics.record_http("BREW", UNMATCHED_ROUTE, 404, Duration::from_millis(1));
        metrics.chat_message(Role::Assistant);
        metrics.sessions_deleted(DeleteReason::Expired, 5);
        metrics.set_db_pool(8, 3);
        metrics.add_actors_live(ActorKind::Session, 2);
        metrics.add_actors_live(ActorKind::Session, -1);

        let text = metrics.encode().unwrap();
        let detect = [("actor", "crisis_detector"), ("message", "Detect")];
        assert_eq!(
            value(
                &text,
                "actor_messages_total",
                &[detect[0], detect[1], ("outcome", "ok")]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "actor_messages_total",
                &[detect[0], detect[1], ("outcome", "overloaded")]
            ),
            Some(1.0)
        );
        // The refused message is counted but not timed.
        assert_eq!(
            value(&text, "actor_message_duration_seconds_count", &detect),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "actor_message_duration_seconds_bucket",
                &[("le", "0.00005"), detect[0], detect[1]]
            ),
            Some(0.0)
        );
        assert_eq!(
            value(
                &text,
                "actor_message_duration_seconds_bucket",
                &[("le", "0.0001"), detect[0], detect[1]]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "http_requests_total",
                &[
                    ("method", "GET"),
                    ("route", "/api/v1/sessions/{token}"),
                    ("status", "200")
                ]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "http_requests_total",
                &[
                    ("method", "OTHER"),
                    ("route", UNMATCHED_ROUTE),
                    ("status", "404")
                ]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "chat_messages_total", &[("role", "assistant")]),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "sessions_deleted_total", &[("reason", "expired")]),
            Some(5.0)
        );
        assert_eq!(
            value(&text, "db_pool_connections", &[("state", "idle")]),
            Some(3.0)
        );
        assert_eq!(
            value(&text, "actors_live", &[("actor", "session")]),
            Some(1.0)
        );
        assert!(text.contains("# TYPE actor_messages counter\n"));
    }

    #[test]
    fn declared_messages_exist_for_every_outcome() {
        let metrics = Metrics::new("t");
        metrics.declare_actor_messages(ActorKind::Session, &["PostMessage", "CloseSession"]);
        metrics.declare_responder_provider("builtin");
        let text = metrics.encode().unwrap();
        for message in ["PostMessage", "CloseSession"] {
            for outcome in Outcome::ALL {
                assert_eq!(
                    value(
                        &text,
                        "actor_messages_total",
                        &[
                            ("actor", "session"),
                            ("message", message),
                            ("outcome", outcome.as_str())
                        ]
                    ),
                    Some(0.0)
                );
            }
        }
        assert_eq!(
            value(
                &text,
                "responder_calls_total",
                &[("provider", "builtin"), ("outcome", "fallback")]
            ),
            Some(0.0)
        );
    }

    #[test]
    fn disabled_records_nothing() {
        let metrics = Metrics::disabled();
        assert!(!metrics.is_enabled());
        metrics.session_created();
        metrics.record_http("GET", "/health", 200, Duration::from_millis(1));
        metrics.record_actor_message(
            ActorKind::Session,
            "PostMessage",
            Outcome::Ok,
            Duration::from_millis(1),
        );
        let text = metrics.encode().unwrap();
        assert_eq!(value(&text, "sessions_created_total", &[]), Some(0.0));
        assert!(!text.contains("http_requests_total"), "{text}");
    }

    #[test]
    fn negotiates_the_format_like_client_golang() {
        let metrics = Metrics::new("t");
        metrics.session_created();
        let prometheus_scrape = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        let open = metrics.encode_for_accept(Some(prometheus_scrape)).unwrap();
        assert_eq!(open.content_type, OPENMETRICS_CONTENT_TYPE);
        assert!(open.body.contains("# TYPE sessions_created counter\n"));
        assert!(open.body.ends_with("# EOF\n"));
        assert_eq!(value(&open.body, "sessions_created_total", &[]), Some(1.0));
        for accept in [None, Some("*/*"), Some("text/plain")] {
            let classic = metrics.encode_for_accept(accept).unwrap();
            assert_eq!(classic.content_type, PROMETHEUS_TEXT_CONTENT_TYPE);
            // The classic format names a counter family after its `_total` sample.
            assert!(
                classic
                    .body
                    .contains("# TYPE sessions_created_total counter\n"),
                "{}",
                classic.body
            );
            assert!(!classic.body.contains("# EOF"));
            assert_eq!(
                value(&classic.body, "sessions_created_total", &[]),
                Some(1.0)
            );
        }
    }

    #[test]
    fn clones_share_one_registry_across_threads() {
        let metrics = Metrics::new("t");
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let metrics = metrics.clone();
                std::thread::spawn(move || {
                    for _ in 0..250 {
                        metrics.session_created();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let text = metrics.encode().unwrap();
        assert_eq!(value(&text, "sessions_created_total", &[]), Some(1000.0));
    }
}
