//! Whether the database can be reached, known ahead of any request: while it cannot, API requests
//! are refused at once with 503 `database_unavailable` instead of each waiting out the pool's
//! acquire timeout, and the store's calls already waiting give up. It opens on a failed probe or
//! on a request whose database call failed for want of a connection, and closes only when a probe
//! gets a round trip through again. Its state is the store's [`Reachability`].

use cbln_actors::persistence::{DatabaseProbe, Reachability, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Seconds a refused client is told to wait: about one probe away from knowing again.
pub const RETRY_AFTER_S: u64 = 1;

/// The shared open/closed state and the probe's stop signal; cheap to clone.
#[derive(Clone)]
pub struct DatabaseBreaker {
    reachability: Reachability,
    stop: Arc<watch::Sender<bool>>,
}

impl DatabaseBreaker {
    /// A breaker on `reachability` (the store's), with no probe yet.
    pub fn new(reachability: Reachability) -> Self {
        DatabaseBreaker {
            reachability,
            stop: Arc::new(watch::channel(false).0),
        }
    }

    /// Whether requests that need the database are being refused.
    pub fn is_open(&self) -> bool {
        self.reachability.is_unreachable()
    }

    /// A database call failed because the database could not be reached.
    pub fn record_failure(&self) {
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
