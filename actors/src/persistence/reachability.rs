//! Whether the database is known to be unreachable, shared by every clone of a store: the front
//! door's breaker sets it when its probe fails, and the store's calls still waiting for a
//! connection stop waiting when it is set.
//!
//! Without this, a call that began just before an outage waits out the pool's whole acquire
//! timeout: when the server refuses new connections, the pool keeps retrying the connect until
//! that deadline, however soon the probe knows the database is gone. A call that already holds a
//! connection is never cut short: it may be mid-way through a transaction, and the flag may have
//! been set on evidence that has nothing to do with its connection.

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

    /// Waits for `acquire` (a pool's acquire) unless the database is already known to be
    /// unreachable, or becomes known to be while waiting: then the wait ends and the call fails
    /// as unavailable. A failed acquire marks nothing itself: it fails its request as unavailable,
    /// and the breaker's probe, asked to check at once, decides (a pool exhausted by a burst of
    /// traffic times out too, with the database well).
    pub async fn connection<C>(
        &self,
        acquire: impl Future<Output = Result<C, sqlx::Error>>,
    ) -> Result<C, StoreError> {
        if self.is_unreachable() {
            return Err(StoreError::Unreachable);
        }
        let mut unreachable = self.unreachable.subscribe();
        tokio::select! {
            biased;
            acquired = acquire => Ok(acquired?),
            _ = unreachable.wait_for(|unreachable| *unreachable) => Err(StoreError::Unreachable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pending_connection() -> impl Future<Output = Result<(), sqlx::Error>> {
        std::future::pending()
    }

    #[tokio::test]
    async fn a_call_waiting_for_a_connection_gives_up_when_the_database_is_found_unreachable() {
        let reachability = Reachability::default();
        let marker = reachability.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            marker.mark_unreachable();
        });
        let outcome = reachability.connection(pending_connection()).await;
        assert!(
            matches!(outcome, Err(StoreError::Unreachable)),
            "{outcome:?}"
        );
        assert!(outcome.is_err_and(|error| error.is_unavailable()));
    }

    #[tokio::test]
    async fn a_call_starting_while_the_database_is_unreachable_fails_before_taking_a_connection() {
        let reachability = Reachability::default();
        assert!(reachability.mark_unreachable());
        assert!(!reachability.mark_unreachable());
        let mut taken = false;
        let refused = reachability
            .connection(async {
                taken = true;
                Ok::<_, sqlx::Error>(())
            })
            .await;
        assert!(matches!(refused, Err(StoreError::Unreachable)));
        assert!(
            !taken,
            "no connection is taken once it is known unreachable"
        );
        assert!(reachability.mark_reachable());
        assert!(!reachability.is_unreachable());
        let connection = reachability
            .connection(async { Ok::<_, sqlx::Error>(7) })
            .await;
        assert_eq!(connection.ok(), Some(7));
    }
}
