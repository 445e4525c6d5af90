//! What every handler can reach: the actor system and the front door's own services.

use super::database_breaker::DatabaseBreaker;
use super::error::ApiError;
use super::rate_limit::RateLimits;
use crate::redis::RedisHandle;
use crate::session_events::SessionEventHub;
use actix_web::{HttpRequest, web};
use cbln_actors::system::ActorSystem;
use futures_util::future::LocalBoxFuture;
use std::future::Future;
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
    /// The state for an extractor of `request`; a route registered without it is a bug, answered
    /// 500.
    pub fn of(request: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
        request
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!("a route without application state");
                ApiError::Internal
            })
    }

    /// The future of an extractor that needs the state: `find`, given the state and the request.
    pub fn extract<T, F, Found>(
        request: &HttpRequest,
        find: F,
    ) -> LocalBoxFuture<'static, Result<T, ApiError>>
    where
        F: FnOnce(web::Data<AppState>, HttpRequest) -> Found + 'static,
        Found: Future<Output = Result<T, ApiError>> + 'static,
    {
        let request = request.clone();
        Box::pin(async move { find(AppState::of(&request)?, request).await })
    }

    /// Whether the service is ready for traffic.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
