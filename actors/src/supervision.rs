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

    /// The verdict on each restart, `seconds` after the first one, under the policy.
    fn verdicts(max_restarts: u32, within: Duration, seconds: &[u64]) -> Vec<RestartVerdict> {
        let mut tracker = RestartTracker::new(RestartPolicy {
            max_restarts,
            within,
        });
        let start = Instant::now();
        seconds
            .iter()
            .map(|&s| tracker.record_at(start + Duration::from_secs(s)))
            .collect()
    }

    #[test]
    fn escalates_after_k_restarts_within_t() {
        assert_eq!(
            verdicts(2, Duration::from_secs(10), &[0, 1, 2]),
            [
                RestartVerdict::Restart,
                RestartVerdict::Restart,
                RestartVerdict::Escalate
            ]
        );
    }

    #[test]
    fn old_restarts_leave_the_window() {
        assert_eq!(
            verdicts(1, Duration::from_secs(5), &[0, 6, 7]),
            [
                RestartVerdict::Restart,
                RestartVerdict::Restart,
                RestartVerdict::Escalate
            ]
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

/// What a supervised actor on an arbiter keeps for its supervisor and the operator: it is
/// counted live while it runs and its restarts are recorded against the policy.
pub struct Supervision {
    actor: ActorKind,
    metrics: Metrics,
    health: SystemHealth,
    restarts: RestartTracker,
}

impl Supervision {
    /// The record of one `actor`, reporting to `metrics` and `health`.
    pub fn new(actor: ActorKind, metrics: Metrics, health: SystemHealth) -> Self {
        let restarts = RestartTracker::new(health.policy());
        Supervision {
            actor,
            metrics,
            health,
            restarts,
        }
    }

    /// On each start: counted live, and given a deep mailbox. The `Mailbox` gate bounds requests
    /// in flight; actix's own small default would make callers park before the gate can answer
    /// `overloaded`.
    pub fn started<A>(&self, ctx: &mut actix::Context<A>)
    where
        A: actix::Actor<Context = actix::Context<A>>,
    {
        self.metrics.add_actors_live(self.actor, 1);
        ctx.set_mailbox_capacity(crate::mailbox::ACTIX_MAILBOX_CAPACITY);
    }

    /// On each stop: no longer counted live.
    pub fn stopped(&self) {
        self.metrics.add_actors_live(self.actor, -1);
    }

    /// On each restart: counted, and escalated past the policy's budget.
    pub fn restarting(&mut self) {
        self.health.restarted(self.actor, &mut self.restarts);
    }
}

/// Implements `Supervised` for an actor holding `supervision: Supervision`: a restart is
/// counted and escalated past the policy's budget; the actor's own state survives it.
macro_rules! supervised_actor {
    ($actor:ty) => {
        impl actix::Supervised for $actor {
            fn restarting(&mut self, _ctx: &mut Self::Context) {
                self.supervision.restarting();
            }
        }
    };
}
pub(crate) use supervised_actor;

/// Implements `Actor` for a worker of a `SyncArbiter` pool holding `metrics: Metrics` and
/// `restarts: PoolRestarts`: counted live while it runs, each start told to the pool's restart
/// accounting. Every pool worker does exactly this, so it is written once.
macro_rules! pool_worker_actor {
    ($worker:ty, $kind:expr) => {
        impl actix::Actor for $worker {
            type Context = actix::SyncContext<Self>;

            fn started(&mut self, _ctx: &mut Self::Context) {
                self.metrics.add_actors_live($kind, 1);
                self.restarts.worker_started();
            }

            fn stopped(&mut self, _ctx: &mut Self::Context) {
                self.metrics.add_actors_live($kind, -1);
            }
        }
    };
}
pub(crate) use pool_worker_actor;

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
