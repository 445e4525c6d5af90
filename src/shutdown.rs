//! Shutdown that always finishes: the configured deadline is split between in-flight requests
//! and the teardown (actors drained, pool closed), and a teardown the database holds up is
//! abandoned at its share rather than waited on.

use cbln_actors::persistence::Store;
use cbln_actors::system::ActorSystem;
use std::time::Duration;

/// How `server.shutdown_timeout_s` is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownBudget {
    /// Whole seconds in-flight requests get (actix-web counts in seconds).
    pub requests_s: u64,
    /// What is left for draining the actors and closing the pool.
    pub teardown: Duration,
}

impl ShutdownBudget {
    /// Half the deadline, between 1 and 5 s, for the teardown, less half a second for stopping
    /// the workers and leaving the process; the rest for requests.
    pub fn split(deadline_s: u64) -> Self {
        let teardown_s = (deadline_s / 2).clamp(1, 5);
        ShutdownBudget {
            requests_s: deadline_s.saturating_sub(teardown_s),
            teardown: Duration::from_millis(teardown_s * 1000 - 500),
        }
    }
}

/// How the teardown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teardown {
    /// Every actor stopped and every connection closed.
    Clean,
    /// The database held a commit or a connection past the budget.
    Abandoned,
}

/// Drains the actors and closes the pool within `budget`.
pub async fn tear_down(system: &ActorSystem, store: &Store, budget: Duration) -> Teardown {
    let clean = async {
        system.shutdown().await;
        store.close().await;
    };
    match tokio::time::timeout(budget, clean).await {
        Ok(()) => Teardown::Clean,
        Err(_) => {
            tracing::warn!(
                budget_ms = budget.as_millis() as u64,
                "the database did not let go within the shutdown deadline: leaving its connections to the operating system"
            );
            Teardown::Abandoned
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_split_and_never_exceeded() {
        for deadline in [1, 2, 5, 9, 30, 120] {
            let budget = ShutdownBudget::split(deadline);
            assert!(
                Duration::from_secs(budget.requests_s) + budget.teardown
                    < Duration::from_secs(deadline.max(1))
            );
            assert!(budget.teardown >= Duration::from_millis(500));
        }
        assert_eq!(
            ShutdownBudget::split(30),
            ShutdownBudget {
                requests_s: 25,
                teardown: Duration::from_millis(4500)
            }
        );
        assert_eq!(ShutdownBudget::split(5).requests_s, 3);
        assert_eq!(
            ShutdownBudget::split(5).teardown,
            Duration::from_millis(1500)
        );
    }
}
