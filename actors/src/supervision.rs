//! Restart policy and escalation, in the manner of an OTP supervisor: an actor may restart at
//! most K times in T seconds; past that the fault is escalated to the process, which reports
//! itself degraded and asks to be stopped so that its own supervisor (systemd, Kubernetes)
//! starts a clean instance.

use crate::telemetry::{ActorKind, Metrics};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// At most `max_restarts` restarts within `within`, then escalate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// K: restarts tolerated inside the window.
    pub max_restarts: u32,
    /// T: the sliding window.
    pub within: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            max_restarts: 5,
            within: Duration::from_secs(60),
        }
    }
}

/// What the supervisor decided about one restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartVerdict {
    /// Within the budget: restart quietly.
    Restart,
    /// Over the budget: restart, and escalate.
    Escalate,
}

/// Remembers recent restarts of one actor to apply the policy.
#[derive(Debug, Clone)]
pub struct RestartTracker {
    policy: RestartPolicy,
    recent: VecDeque<Instant>,
}

impl RestartTracker {
    /// A tracker with no restarts yet.
    pub fn new(policy: RestartPolicy) -> Self {
        RestartTracker {
            policy,
            recent: VecDeque::new(),
        }
    }

    /// Records a restart happening now.
    pub fn record(&mut self) -> RestartVerdict {
        self.record_at(Instant::now())
    }

    /// Records a restart at `now` (separate for tests).
    pub fn record_at(&mut self, now: Instant) -> RestartVerdict {
        while let Some(oldest) = self.recent.front() {
            if now.duration_since(*oldest) > self.policy.within {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        self.recent.push_back(now);
        if self.recent.len() as u32 > self.policy.max_restarts {
            RestartVerdict::Escalate
        } else {
            RestartVerdict::Restart
        }
    }
}

/// Shared view of the actor system's health: which actors escalated, and a signal that asks the
/// front door to shut the process down.
#[derive(Debug, Clone)]
pub struct SystemHealth {
    inner: Arc<HealthInner>,
}

#[derive(Debug)]
struct HealthInner {
    escalated: Mutex<Vec<ActorKind>>,
    shutdown: watch::Sender<bool>,
    metrics: Metrics,
    policy: RestartPolicy,
}

impl SystemHealth {
    /// A healthy system using `policy` for every supervised actor.
    pub fn new(metrics: Metrics, policy: RestartPolicy) -> Self {
        let (shutdown, _) = watch::channel(false);
        SystemHealth {
            inner: Arc::new(HealthInner {
                escalated: Mutex::new(Vec::new()),
                shutdown,
                metrics,
                policy,
            }),
        }
    }

    /// The restart policy actors should apply.
    pub fn policy(&self) -> RestartPolicy {
        self.inner.policy
    }

    /// Counts a restart of `actor` and escalates when the tracker says so.
    pub fn restarted(&self, actor: ActorKind, tracker: &mut RestartTracker) {
        self.inner.metrics.actor_restarted(actor);
        match tracker.record() {
            RestartVerdict::Restart => {
                tracing::warn!(actor = actor.as_str(), "actor restarted by its supervisor");
            }
            RestartVerdict::Escalate => self.escalate(actor),
        }
    }

    /// Marks `actor` as failed beyond its restart budget and asks for a process shutdown.
    pub fn escalate(&self, actor: ActorKind) {
        tracing::error!(
            actor = actor.as_str(),
            "actor exceeded its restart budget; escalating: the instance reports degraded and shuts down"
        );
        if let Ok(mut escalated) = self.inner.escalated.lock()
            && !escalated.contains(&actor)
        {
            escalated.push(actor);
        }
        self.inner.shutdown.send_replace(true);
    }

    /// Actors that escalated; empty while healthy.
    pub fn escalated(&self) -> Vec<ActorKind> {
        self.inner
            .escalated
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }

    /// Resolves once an escalation asked for the process to stop.
    pub fn shutdown_requested(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalates_after_k_restarts_within_t() {
        let mut tracker = RestartTracker::new(RestartPolicy {
            max_restarts: 2,
            within: Duration::from_secs(10),
        });
        let start = Instant::now();
        assert_eq!(tracker.record_at(start), RestartVerdict::Restart);
        assert_eq!(
            tracker.record_at(start + Duration::from_secs(1)),
            RestartVerdict::Restart
        );
        assert_eq!(
            tracker.record_at(start + Duration::from_secs(2)),
            RestartVerdict::Escalate
        );
    }

    #[test]
    fn old_restarts_leave_the_window() {
        let mut tracker = RestartTracker::new(RestartPolicy {
            max_restarts: 1,
            within: Duration::from_secs(5),
        });
        let start = Instant::now();
        assert_eq!(tracker.record_at(start), RestartVerdict::Restart);
        assert_eq!(
            tracker.record_at(start + Duration::from_secs(6)),
            RestartVerdict::Restart
        );
        assert_eq!(
            tracker.record_at(start + Duration::from_secs(7)),
            RestartVerdict::Escalate
        );
    }

    #[test]
    fn escalation_is_visible_and_signals_shutdown() {
        let health = SystemHealth::new(Metrics::disabled(), RestartPolicy::default());
        let receiver = health.shutdown_requested();
        assert!(health.escalated().is_empty());
        health.escalate(ActorKind::Persistence);
        assert_eq!(health.escalated(), vec![ActorKind::Persistence]);
        assert!(*receiver.borrow());
    }
}

/// Restart accounting for a `SyncArbiter` pool, whose arbiter replaces a stopped worker by
/// calling the factory again: every start beyond the pool size is a restart.
#[derive(Debug, Clone)]
pub struct PoolRestarts {
    actor: ActorKind,
    pool_size: usize,
    starts: Arc<std::sync::atomic::AtomicUsize>,
    tracker: Arc<Mutex<RestartTracker>>,
    health: SystemHealth,
}

impl PoolRestarts {
    /// Accounting for a pool of `pool_size` workers of `actor`.
    pub fn new(actor: ActorKind, pool_size: usize, health: SystemHealth) -> Self {
        PoolRestarts {
            actor,
            pool_size,
            starts: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            tracker: Arc::new(Mutex::new(RestartTracker::new(health.policy()))),
            health,
        }
    }

    /// Call from the worker's `started`.
    pub fn worker_started(&self) {
        let previous = self
            .starts
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        if previous >= self.pool_size
            && let Ok(mut tracker) = self.tracker.lock()
        {
            self.health.restarted(self.actor, &mut tracker);
        }
    }
}
