//! The actor that owns the database pool.
//!
//! Chat writes go through group commit: requests queue on a channel and a writer task drains
//! everything queued into a single transaction, so under concurrency N messages cost one commit
//! instead of N. Nothing is acknowledged before its transaction committed.

use super::StoreError;
use super::messages::*;
use super::records::{Committed, WriteOp};
use super::store::Store;
use crate::error::PipelineError;
use crate::mailbox::AskError;
use crate::supervision::{Supervision, SystemHealth};
use crate::telemetry::{ActorKind, Metrics};
use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Message, ResponseFuture,
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
    supervision: Supervision,
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
        let supervision = Supervision::new(ActorKind::Persistence, metrics.clone(), health);
        PersistenceActor {
            store,
            writers: Vec::new(),
            writer_count: writers.max(1),
            max_batch: max_batch.max(1),
            metrics,
            supervision,
        }
    }
}

impl Actor for PersistenceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.started(ctx);
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
        self.supervision.stopped();
    }
}

impl Supervised for PersistenceActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.writers.clear();
        self.supervision.restarting();
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

/// Implements the handler of each request answered by one store call: the call runs on a clone
/// of the store (a pool handle), so reads run concurrently rather than one at a time. The store
/// gives up a call only while it waits for a connection (see `with_connection!`).
macro_rules! answer_from_store {
    ($($message:ident => |$store:ident, $msg:ident| $call:expr;)*) => {$(
        impl Handler<$message> for PersistenceActor {
            type Result = ResponseFuture<<$message as Message>::Result>;

            #[allow(unused_variables)]
            fn handle(&mut self, $msg: $message, _ctx: &mut Self::Context) -> Self::Result {
                let $store = self.store.clone();
                Box::pin(async move { Ok($call.await?) })
            }
        }
    )*};
}

answer_from_store! {
    InsertSession => |store, msg| store.insert_session(&msg.session);
    FindSessionByToken => |store, msg| store.session_by_token_hash(msg.token_hash.as_bytes());
    LoadVersionedSession => |store, msg| store.session_with_version(msg.id);
    LoadAwaitingMessages => |store, msg| store.awaiting_messages(msg.session_id, msg.committed_by);
    FindOrphanedSessions => |store, msg| store.sessions_with_orphans(msg.committed_by, msg.now, msg.limit);
    RecordActivity => |store, msg| store.touch_session(msg.id, msg.now);
    ExtendSession => |store, msg| store.refresh_session(msg.id, msg.now, msg.expires_at);
    DeleteSession => |store, msg| store.delete_session(msg.id, msg.token_hash.as_bytes());
    LoadSessionKey => |store, msg| store.session_key(msg.id);
    LoadMessageStats => |store, msg| store.message_stats(msg.session_id);
    LoadContext => |store, msg| store.load_context(msg.session_id);
    ListMessages => |store, msg| store.list_messages(msg.session_id, msg.limit, msg.offset);
    RecentMessages => |store, msg| store.recent_messages(msg.session_id, msg.limit);
    GetMessage => |store, msg| store.get_message(msg.session_id, msg.id);
    DeleteMessage => |store, msg| store.delete_message(msg.session_id, msg.id);
    DeleteMessages => |store, msg| store.delete_messages(msg.session_id);
    InsertFeedback => |store, msg| store.insert_feedback(&msg.feedback);
    ExpireSessions => |store, msg| store.delete_expired_sessions(msg.now, msg.batch);
    PurgeHealthSnapshots => |store, msg| store.delete_health_before(msg.before, msg.batch);
    RecordHealthSnapshot => |store, msg| store.insert_health_snapshot(&msg.snapshot, msg.at);
    CountActiveSessions => |store, msg| store.active_session_count(msg.now);
    CountActivitySince => |store, msg| store.messages_since(msg.since);
    MeasureDatabase => |store, msg| store.database_bytes();
    LoadRules => |store, msg| store.list_rules();
    LoadRulesFingerprint => |store, msg| store.rules_fingerprint();
    Ping => |store, msg| store.ping();
    ShredSession => |store, msg| store.shred_session(msg.token_hash.as_bytes(), msg.now);
    InsertCounsellorMessage => |store, msg| store.insert_counsellor_message(&msg.message);
    HandOverAwaiting => |store, msg| store.hand_over_awaiting(msg.session_id, msg.message_id, msg.expected_version);
    ClaimIdempotencyKey => |store, msg| store.claim_idempotency_key(&msg.claim);
    CompleteIdempotencyKey => |store, msg| store.complete_idempotency_key(
        &msg.key_hash,
        msg.session_id,
        msg.status,
        &msg.response,
        msg.now,
    );
    ReleaseIdempotencyKey => |store, msg| store.release_idempotency_key(&msg.key_hash);
    PurgeIdempotencyKeys => |store, msg| store.delete_expired_idempotency_keys(msg.now, msg.batch);
    InsertHandoff => |store, msg| store.insert_handoff(&msg.handoff);
    LoadSessionHandoff => |store, msg| store.session_handoff(msg.session_id);
    LoadHandoff => |store, msg| store.handoff_by_id(msg.id);
    ListStaffHandoffs => |store, msg| store.staff_handoffs(msg.staff_id, msg.ended_since);
    ListQueuedHandoffs => |store, msg| store.queued_handoffs(msg.limit);
    LoadQueuePosition => |store, msg| store.queue_position(msg.id);
    LoadQueueFigures => |store, msg| store.queue_figures();
    WithdrawHandoff => |store, msg| store.withdraw_handoff(msg.session_id, msg.now, msg.retention);
    ClaimHandoff => |store, msg| store.claim_handoff(msg.id, msg.staff_id, msg.now);
    CloseHandoff => |store, msg| store.close_handoff(msg.id, msg.staff_id, msg.outcome, msg.now, msg.shred_after);
    RaiseHandoffRisk => |store, msg| store.raise_handoff_risk(msg.session_id, msg.risk);
    LoadHandoffKey => |store, msg| store.handoff_key(msg.id);
    LoadHandoffEntries => |store, msg| store.handoff_entries(msg.id);
    AppendHandoffEntry => |store, msg| store.append_handoff_entry(msg.handoff_id, &msg.entry);
    ShredEndedHandoffs => |store, msg| store.shred_ended_handoffs(msg.now, msg.batch);
    CountHandoffOutcomes => |store, msg| store.handoff_outcomes();
    LogHandoffAccess => |store, msg| store.log_handoff_access(msg.staff_id, msg.handoff_id, msg.action, msg.at);
    InsertStaff => |store, msg| store.insert_staff(&msg.staff);
    FindStaffByUsername => |store, msg| store.staff_by_username(&msg.username);
    InsertStaffToken => |store, msg| store.insert_staff_token(&msg.token_hash, msg.staff_id, msg.expires_at, msg.now);
    FindStaffByToken => |store, msg| store.staff_by_token(&msg.token_hash, msg.now);
    DeleteStaffToken => |store, msg| store.delete_staff_token(&msg.token_hash);
    CountQueueStaffSignedIn => |store, msg| store.count_queue_staff_signed_in(msg.now);
    PurgeStaffTokens => |store, msg| store.delete_expired_staff_tokens(msg.now, msg.batch);
    LoadOpeningHours => |store, msg| store.opening_hours();
    SaveOpeningHours => |store, msg| store.set_opening_hours(&msg.hours);
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
