//! Whether the database can be reached, known ahead of any request: while it cannot, API requests
//! are refused at once with 503 `database_unavailable` instead of each waiting out the pool's
//! acquire timeout, and the store's calls still waiting for a connection give up. Only a failed
//! probe opens it, on its own connection: a connect refused or not answered, a round trip that
//! did not come back in time. A request that failed as unavailable (no pooled connection in time,
//! a statement timeout, a commit given up on) has the probe check at once instead, since a pool
//! exhausted by a burst or a slow query says nothing of whether the database can be reached. It
//! closes only when a probe gets a round trip through again. Its state is the store's
//! [`Reachability`].

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

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;
    use cbln_actors::persistence::StoreSettings;
    use sqlx::Connection;
    use std::time::Instant;

    /// Longer than the test runs: any check the probe makes is one it was asked for.
    const INTERVAL: Duration = Duration::from_secs(60);

    fn admin_url() -> String {
        std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
    }

    /// A failed request alone never opens the breaker: it has the probe check at once, which
    /// opens it only when the database really is gone (here: dropped under the probe).
    #[actix_web::test]
    async fn a_failed_request_opens_the_breaker_only_through_a_failed_probe() {
        let admin = admin_url();
        let name = format!("cbln_breaker_{}", uuid::Uuid::new_v4().simple());
        let mut connection = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL is required");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("URL ends with a database");
        let store = Store::connect(&StoreSettings {
            url: format!("{base}/{name}"),
            max_connections: 1,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
        })
        .await
        .expect("connect");
        let breaker = DatabaseBreaker::new(store.reachability().clone());
        breaker.spawn_probe(store.clone(), INTERVAL, Duration::from_secs(2));

        breaker.suspect_unreachable();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            !breaker.is_open(),
            "the database answers: the breaker stays closed"
        );

        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut connection)
        .await
        .expect("drop database");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!breaker.is_open(), "no check before its turn unless asked");
        let suspected = Instant::now();
        breaker.suspect_unreachable();
        while !breaker.is_open() {
            assert!(
                suspected.elapsed() < INTERVAL / 6,
                "the probe checked at once, not at its next turn"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        breaker.stop();
        store.close().await;
    }
}
