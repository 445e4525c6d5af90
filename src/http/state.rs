//! What every handler can reach: the actor system and the front door's own services.

use super::database_breaker::DatabaseBreaker;
use super::rate_limit::RateLimits;
use crate::redis::RedisHandle;
use crate::session_events::SessionEventHub;
use cbln_actors::system::ActorSystem;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Shared state of the front door.
pub struct AppState {
    /// The actor system.
    pub system: Arc<ActorSystem>,
    /// Rate limiters.
    pub limits: RateLimits,
    /// Optional Redis.
    pub redis: Option<RedisHandle>,
    /// Largest accepted body.
    pub body_limit: usize,
    /// When the process started.
    pub started: Instant,
    /// Set once migrations ran and the supervisors started.
    pub ready: Arc<AtomicBool>,
    /// Whether the database is known to be unreachable.
    pub breaker: DatabaseBreaker,
    /// How long idempotent answers and in-flight claims are kept.
    pub idempotency: super::idempotency::IdempotencyPolicy,
    /// Session changes, for the event streams.
    pub events: SessionEventHub,
    /// How often an idle event stream sends a heartbeat comment.
    pub event_heartbeat: Duration,
    /// How handoffs to counsellors are kept and estimated.
    pub handoff: super::handoff::HandoffPolicy,
    /// Staff sign-in and opening hours.
    pub staff: super::staff::StaffAuth,
}

impl AppState {
    /// Whether the service is ready for traffic.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
