//! The actor that owns the database pool.
//!
//! Chat writes go through group commit: requests queue on a channel and a writer task drains
//! everything queued into a single transaction, so under concurrency N messages cost one commit
//! instead of N. Nothing is acknowledged before its transaction committed.

use super::StoreError;
use super::messages::{Commit, Recycle};
use super::records::{Committed, WriteOp};
use super::store::Store;
use crate::error::PipelineError;
use crate::mailbox::AskError;
use crate::supervision::{RestartTracker, SystemHealth};
use crate::telemetry::{ActorKind, Metrics};
use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, ResponseFuture,
    Supervised, WrapFuture,
};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

struct PendingWrite {
    op: WriteOp,
    done: oneshot::Sender<Result<Committed, StoreError>>,
}

/// Owns the pool; reads run concurrently, chat writes are group-committed.
pub struct PersistenceActor {
    pub(super) store: Store,
    /// One channel per writer; a session always uses the same writer, which keeps its order.
    writers: Vec<mpsc::Sender<PendingWrite>>,
    writer_count: usize,
    max_batch: usize,
    metrics: Metrics,
    health: SystemHealth,
    restarts: RestartTracker,
}

impl PersistenceActor {
    /// An actor over `store` committing at most `max_batch` writes per transaction, with
    /// `writers` transactions in flight at once (each session always on the same writer).
    pub fn new(
        store: Store,
        max_batch: usize,
        writers: usize,
        metrics: Metrics,
        health: SystemHealth,
    ) -> Self {
        let restarts = RestartTracker::new(health.policy());
        PersistenceActor {
            store,
            writers: Vec::new(),
            writer_count: writers.max(1),
            max_batch: max_batch.max(1),
            metrics,
            health,
            restarts,
        }
    }
}

impl Actor for PersistenceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.metrics.add_actors_live(ActorKind::Persistence, 1);
        // The `Mailbox` gate bounds requests in flight; actix's own small default would make
        // callers park before the gate can answer `overloaded`.
        ctx.set_mailbox_capacity(crate::mailbox::ACTIX_MAILBOX_CAPACITY);
        self.writers.clear();
        for _ in 0..self.writer_count {
            let (sender, receiver) = mpsc::channel(self.max_batch * 64);
            self.writers.push(sender);
            let writer = run_writer(
                receiver,
                self.store.clone(),
                self.max_batch,
                self.metrics.clone(),
            );
            // A writer only ends when its channel closes; if it ever ends otherwise, restart.
            ctx.spawn(writer.into_actor(self).map(|_, _, ctx| ctx.stop()));
        }
        ctx.run_interval(Duration::from_secs(5), |act, _| {
            let (size, idle) = act.store.pool_state();
            act.metrics.set_db_pool(i64::from(size), i64::from(idle));
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.metrics.add_actors_live(ActorKind::Persistence, -1);
    }
}

impl Supervised for PersistenceActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.writers.clear();
        self.health
            .restarted(ActorKind::Persistence, &mut self.restarts);
    }
}

impl Handler<Commit> for PersistenceActor {
    type Result = ResponseFuture<Result<Committed, PipelineError>>;

    fn handle(&mut self, msg: Commit, _ctx: &mut Self::Context) -> Self::Result {
        let shard = msg.op.session_id().as_u128() as usize % self.writers.len().max(1);
        let writer = self.writers.get(shard).cloned();
        Box::pin(async move {
            let stopped = || PipelineError::Ask(AskError::Stopped(ActorKind::Persistence.as_str()));
            let writer = writer.ok_or_else(stopped)?;
            let (done, wait) = oneshot::channel();
            writer
                .send(PendingWrite { op: msg.op, done })
                .await
                .map_err(|_| stopped())?;
            Ok(wait.await.map_err(|_| stopped())??)
        })
    }
}

impl Handler<Recycle> for PersistenceActor {
    type Result = Result<(), PipelineError>;

    fn handle(&mut self, _msg: Recycle, ctx: &mut Self::Context) -> Self::Result {
        tracing::warn!("persistence actor recycling on request");
        ctx.stop();
        Ok(())
    }
}

async fn run_writer(
    mut receiver: mpsc::Receiver<PendingWrite>,
    store: Store,
    max_batch: usize,
    metrics: Metrics,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        let (ops, waiters): (Vec<WriteOp>, Vec<_>) = batch
            .drain(..)
            .map(|pending| (pending.op, pending.done))
            .unzip();
        match commit_within_timeout(&store, &ops).await {
            Ok((acquired, outcomes)) => {
                metrics.observe_db_acquire(acquired);
                for (waiter, outcome) in waiters.into_iter().zip(outcomes) {
                    let _ = waiter.send(outcome);
                }
            }
            Err(error) if ops.len() > 1 => {
                // One bad write must not fail its neighbours: retry each on its own.
                tracing::warn!(error = %error, batch = ops.len(), "group commit failed; retrying writes one by one");
                for (op, waiter) in ops.into_iter().zip(waiters) {
                    let single = commit_within_timeout(&store, std::slice::from_ref(&op))
                        .await
                        .and_then(|(_, outcomes)| {
                            outcomes
                                .into_iter()
                                .next()
                                .unwrap_or(Err(StoreError::VersionConflict))
                        });
                    let _ = waiter.send(single);
                }
            }
            Err(error) => {
                tracing::error!(error = %error, "commit failed");
                if let Some(waiter) = waiters.into_iter().next() {
                    let _ = waiter.send(Err(error));
                }
            }
        }
    }
}

/// A frozen network leaves a commit waiting for an answer that never comes, with every later
/// write of this writer queued behind it: give up after the store's commit timeout.
async fn commit_within_timeout(
    store: &Store,
    ops: &[WriteOp],
) -> Result<(Duration, Vec<Result<Committed, StoreError>>), StoreError> {
    tokio::time::timeout(store.limits().commit_timeout(), store.apply_writes(ops))
        .await
        .unwrap_or(Err(StoreError::CommitTimedOut))
}
