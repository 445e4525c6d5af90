//! Prometheus metrics for the whole service.
//!
//! One [`Metrics`] value is built at startup and cloned into every actor and into the HTTP
//! middleware; `/metrics` serves [`Metrics::encode`]. Labels are closed enums wherever the set of
//! values is known, so no request or session can add series: there are no per-session labels.

mod labels;
mod metrics;

pub use labels::{
    ActorKind, CryptoOperation, DeleteReason, JanitorKind, JanitorOutcome, Outcome, RateLimitScope,
    ResponderOutcome,
};
pub use metrics::{
    ACTOR_DURATION_BUCKETS, DB_ACQUIRE_BUCKETS, Encoded, HTTP_DURATION_BUCKETS, Metrics,
    OPENMETRICS_CONTENT_TYPE, PROMETHEUS_TEXT_CONTENT_TYPE, UNMATCHED_ROUTE,
};
