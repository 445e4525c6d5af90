//! Whether the database is known to be unreachable, shared by every clone of a store: the front
//! door's breaker sets it (a failed probe, a request that found no connection) and the store's
//! calls stop waiting when it is set.
//!
//! Without this, a call that began just before an outage waits out the pool's whole acquire
//! timeout: when the server refuses new connections, the pool keeps retrying the connect until
//! that deadline, however soon the probe knows the database is gone.

use super::error::StoreError;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

/// The shared flag; cheap to clone.
#[derive(Debug, Clone)]
pub struct Reachability {
    unreachable: Arc<watch::Sender<bool>>,
}

impl Default for Reachability {
    fn default() -> Self {
        Reachability {
            unreachable: Arc::new(watch::channel(false).0),
        }
    }
}

impl Reachability {
    /// Whether the database is known to be unreachable.
    pub fn is_unreachable(&self) -> bool {
        *self.unreachable.borrow()
    }

    /// Marks it unreachable; true when it was not already.
    pub fn mark_unreachable(&self) -> bool {
        !self.unreachable.send_replace(true)
    }

    /// Marks it reachable again; true when it was not already.
    pub fn mark_reachable(&self) -> bool {
        self.unreachable.send_replace(false)
    }

    /// Runs `call` unless the database is or becomes known to be unreachable first; then the
    /// call is dropped (a wait for a connection ends; a statement under way is abandoned, as on
    /// a broken connection) and it fails as unavailable.
    pub async fn unless_unreachable<T, E>(
        &self,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, StoreError>
    where
        StoreError: From<E>,
    {
        let mut unreachable = self.unreachable.subscribe();
        tokio::select! {
            biased;
            result = call => Ok(result?),
            _ = unreachable.wait_for(|unreachable| *unreachable) => Err(StoreError::Unreachable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_call_waiting_when_the_database_is_found_unreachable_fails_at_once() {
        let reachability = Reachability::default();
        let marker = reachability.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            marker.mark_unreachable();
        });
        let never = std::future::pending::<Result<(), StoreError>>();
        let outcome = reachability.unless_unreachable(never).await;
        assert!(
            matches!(outcome, Err(StoreError::Unreachable)),
            "{outcome:?}"
        );
        assert!(outcome.is_err_and(|error| error.is_unavailable()));
    }

    #[tokio::test]
    async fn a_call_runs_while_the_database_is_reachable() {
        let reachability = Reachability::default();
        let answer = reachability
            .unless_unreachable(async { Ok::<_, StoreError>(7) })
            .await;
        assert_eq!(answer.ok(), Some(7));
        assert!(reachability.mark_unreachable());
        assert!(!reachability.mark_unreachable());
        let refused = reachability
            .unless_unreachable(std::future::pending::<Result<(), StoreError>>())
            .await;
        assert!(matches!(refused, Err(StoreError::Unreachable)));
        assert!(reachability.mark_reachable());
        assert!(!reachability.is_unreachable());
    }
}
