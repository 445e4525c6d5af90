//! Whether the database can be reached, known ahead of any request: while it cannot, API requests
//! are refused at once with 503 `database_unavailable` instead of each waiting out the pool's
//! acquire timeout, and the store's calls still waiting for a connection give up. Only evidence
//! that the database cannot be reached opens it: a failed probe, or the store failing to get a
//! connection (an acquire timeout, a refused connect). A request that failed otherwise as
//! unavailable (a statement timeout, a commit given up on) only has the probe check at once, since
//! a slow or failed query says nothing of whether the database can be reached. It closes only
//! when a probe gets a round trip through again. Its state is the store's [`Reachability`].

use cbln_actors::persistence::{DatabaseProbe, Reachability, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Seconds a refused client is told to wait: about one probe away from knowing again.
pub const RETRY_AFTER_S: u64 = 1;

/// The shared open/closed state, the probe's wake-up and its stop signal; cheap to clone.
#[derive(Clone)]
pub struct DatabaseBreaker {
    reachability: Reachability,
    check_now: Arc<Notify>,
    stop: Arc<watch::Sender<bool>>,
}

impl DatabaseBreaker {
    /// A breaker on `reachability` (the store's), with no probe yet.
    pub fn new(reachability: Reachability) -> Self {
        DatabaseBreaker {
            reachability,
            check_now: Arc::new(Notify::new()),
            stop: Arc::new(watch::channel(false).0),
        }
    }

    /// Whether requests that need the database are being refused.
    pub fn is_open(&self) -> bool {
        self.reachability.is_unreachable()
    }

    /// A request failed as if the database could not be reached: the probe checks at once
    /// rather than at its next turn (a probe already under way is followed by another).
    pub fn suspect_unreachable(&self) {
        self.check_now.notify_one();
    }

    fn record_failure(&self) {
        if self.reachability.mark_unreachable() {
            tracing::warn!("database unreachable: refusing API requests with 503 until it answers");
        }
    }

    fn record_success(&self) {
        if self.reachability.mark_reachable() {
            tracing::info!("database reachable again: serving API requests");
        }
    }

    /// Probes `store` every `interval` (each probe at most `timeout`) until [`Self::stop`]; must
    /// run inside the runtime that will outlive it, which closes the probe's connection.
    pub fn spawn_probe(&self, store: Store, interval: Duration, timeout: Duration) {
        let breaker = self.clone();
        let mut stop = self.stop.subscribe();
        actix_web::rt::spawn(async move {
            let mut probe = DatabaseProbe::new(store);
            loop {
                tokio::select! {
                    reachable = probe.check(timeout) => {
                        if reachable {
                            breaker.record_success();
                        } else {
                            breaker.record_failure();
                        }
                    }
                    _ = stop.wait_for(|stopped| *stopped) => break,
                }
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    () = breaker.check_now.notified() => {}
                    _ = stop.wait_for(|stopped| *stopped) => break,
                }
            }
            probe.disconnect();
        });
    }

    /// Ends the probe (its connection closes in its own task).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}
