//! The janitor: the 30-day retention promise (expired sessions and all their data, in batches
//! small enough not to block chat traffic), health snapshots, picking up crisis-rule changes, and
//! answering user messages left without a reply that nobody else will answer (their session is
//! not reopened).

use super::messages::{AnswerOrphans, ReloadRules, RunSweep, SweepReport, TakeSnapshot};
use crate::crisis_detector::{SharedDetector, compile_records};
use crate::error::PipelineError;
use crate::mailbox::Mailbox;
use crate::persistence::messages::{
    CountActiveSessions, CountActivitySince, ExpireSessions, FindOrphanedSessions, LoadRules,
    LoadRulesFingerprint, MeasureDatabase, PurgeHealthSnapshots, PurgeIdempotencyKeys,
    PurgeStaffTokens, RecordHealthSnapshot, ShredEndedHandoffs,
};
use crate::persistence::{HealthSnapshot, PersistenceActor, Store, Timestamp};
use crate::session::AnswerAwaiting;
use crate::session_registry::{CountLiveSessions, EvictSessions, SessionRegistry, WakeSessions};
use crate::supervision::{Supervision, SystemHealth, supervised_actor};
use crate::telemetry::{ActorKind, DeleteReason, JanitorKind, JanitorOutcome, Metrics};
use actix::{Actor, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, WrapFuture};
use std::time::Duration;

/// When and how much the janitor works.
#[derive(Debug, Clone)]
pub struct JanitorSettings {
    /// Time between sweeps (the first runs at start when `sweep_at_start`).
    pub sweep_interval: Duration,
    /// Run a sweep as soon as the janitor starts.
    pub sweep_at_start: bool,
    /// Rows deleted per statement.
    pub batch_size: i64,
    /// Pause between batches, leaving room for chat traffic.
    pub batch_pause: Duration,
    /// How long health snapshots are kept.
    pub health_retention: Duration,
    /// Time between health snapshots.
    pub snapshot_interval: Duration,
    /// Time between checks for changed crisis rules.
    pub rules_poll_interval: Duration,
    /// Time between sweeps for orphaned messages.
    pub orphan_sweep_interval: Duration,
    /// How long a user message awaits its reply before it counts as orphaned: longer than a
    /// streamed reply still running on some instance takes.
    pub orphan_grace: Duration,
}

/// Runs `batch` (one statement deleting up to `settings.batch_size` rows) until a batch comes
/// back short, pausing between batches so that chat traffic goes first. Every row a batch deleted
/// is added to `total` as it goes, so a later batch that fails does not hide what was removed.
async fn in_batches(
    settings: &JanitorSettings,
    total: &mut u64,
    mut batch: impl AsyncFnMut() -> Result<u64, PipelineError>,
) -> Result<(), PipelineError> {
    loop {
        let deleted = batch().await?;
        *total += deleted;
        if (deleted as i64) < settings.batch_size {
            return Ok(());
        }
        tokio::time::sleep(settings.batch_pause).await;
    }
}

/// What the janitor's jobs work through, cloned into each job so that it runs apart from the
/// actor.
#[derive(Clone)]
struct Crew {
    persistence: Mailbox<PersistenceActor>,
    registry: Mailbox<SessionRegistry>,
    settings: JanitorSettings,
    metrics: Metrics,
}

/// One sweep: expired sessions (evicted here and announced to other instances), health
/// snapshots, idempotency keys and staff tokens past their time, and ended handoffs shredded.
/// `report` counts what was removed, also when a later step fails.
async fn sweep(crew: &Crew, report: &mut SweepReport) -> Result<(), PipelineError> {
    let Crew {
        persistence,
        registry,
        settings,
        metrics,
    } = crew;
    let batch = settings.batch_size;
    in_batches(settings, &mut report.sessions_deleted, async || {
        let now = Timestamp::now();
        let ids = persistence.ask(ExpireSessions { now, batch }).await?;
        let deleted = ids.len() as u64;
        metrics.janitor_deleted(JanitorKind::Sessions, deleted);
        metrics.sessions_deleted(DeleteReason::Expired, deleted);
        // The rows are gone whatever the registry says: an actor it was not told about finds
        // its session missing at its next use.
        if !ids.is_empty()
            && let Err(error) = registry
                .ask(EvictSessions {
                    ids,
                    announce: true,
                })
                .await
        {
            tracing::warn!(%error, "expired sessions deleted but their actors not stopped");
        }
        Ok(deleted)
    })
    .await?;
    let before = Timestamp::now().minus(settings.health_retention);
    in_batches(settings, &mut report.health_snapshots_deleted, async || {
        let deleted = persistence
            .ask(PurgeHealthSnapshots { before, batch })
            .await?;
        metrics.janitor_deleted(JanitorKind::HealthMetrics, deleted);
        Ok(deleted)
    })
    .await?;
    let now = Timestamp::now();
    in_batches(settings, &mut report.idempotency_keys_deleted, async || {
        persistence.ask(PurgeIdempotencyKeys { now, batch }).await
    })
    .await?;
    in_batches(settings, &mut report.staff_tokens_deleted, async || {
        persistence.ask(PurgeStaffTokens { now, batch }).await
    })
    .await?;
    // Ended handoffs past their retention: their keys go, and with them all a
    // counsellor could read.
    in_batches(settings, &mut report.handoffs_shredded, async || {
        persistence.ask(ShredEndedHandoffs { now, batch }).await
    })
    .await
}

/// Logs what a sweep removed (every kind, also when a later step failed), and its failure.
fn log_sweep(report: &SweepReport, failed: Option<&PipelineError>) {
    if *report != SweepReport::default() {
        tracing::info!(
            sessions = report.sessions_deleted,
            health_snapshots = report.health_snapshots_deleted,
            idempotency_keys = report.idempotency_keys_deleted,
            staff_tokens = report.staff_tokens_deleted,
            handoffs_shredded = report.handoffs_shredded,
            "janitor removed expired data"
        );
    }
    if let Some(error) = failed {
        tracing::error!(error = %error, "janitor sweep failed");
    }
}

/// A sweep, logged and counted as a janitor run.
async fn run_sweep(crew: Crew) -> Result<SweepReport, PipelineError> {
    let mut report = SweepReport::default();
    let swept = sweep(&crew, &mut report).await;
    log_sweep(&report, swept.as_ref().err());
    let outcome = match swept {
        Ok(()) => JanitorOutcome::Ok,
        Err(_) => JanitorOutcome::Error,
    };
    crew.metrics.janitor_run(outcome);
    swept.map(|()| report)
}

/// Hands the user messages left awaiting their reply past the grace to their sessions' actors
/// (started if not live) to be answered; answers how many were.
async fn answer_orphans(crew: Crew) -> Result<u64, PipelineError> {
    let now = Timestamp::now();
    let sessions = crew
        .persistence
        .ask(FindOrphanedSessions {
            committed_by: now.minus(crew.settings.orphan_grace),
            now,
            limit: crew.settings.batch_size,
        })
        .await?;
    if sessions.is_empty() {
        return Ok(0);
    }
    let handles = crew.registry.ask(WakeSessions { sessions }).await?;
    let mut answered = 0;
    // One at a time: each answer is a small commit, and chat traffic goes first.
    for handle in handles {
        match handle.mailbox.ask(AnswerAwaiting).await {
            // Recovery is best effort: only what it did answer counts.
            Ok(now_answered) => answered += now_answered.len() as u64,
            // Deleted or expired meanwhile, or busy: the next sweep looks again.
            Err(error) => tracing::warn!(
                session_id = %handle.session_id,
                %error,
                "could not answer an orphaned message yet"
            ),
        }
    }
    if answered > 0 {
        tracing::info!(messages = answered, "janitor answered orphaned messages");
    }
    Ok(answered)
}

/// Housekeeping actor.
pub struct JanitorActor {
    crew: Crew,
    detector: SharedDetector,
    store: Store,
    last_snapshot: Timestamp,
    supervision: Supervision,
}

impl JanitorActor {
    /// A janitor working through `persistence` and telling `registry` about deletions. `store` is
    /// read only for the pool gauges in snapshots.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        persistence: Mailbox<PersistenceActor>,
        registry: Mailbox<SessionRegistry>,
        detector: SharedDetector,
        store: Store,
        settings: JanitorSettings,
        metrics: Metrics,
        health: SystemHealth,
    ) -> Self {
        let supervision = Supervision::new(ActorKind::Janitor, metrics.clone(), health);
        JanitorActor {
            crew: Crew {
                persistence,
                registry,
                settings,
                metrics,
            },
            detector,
            store,
            last_snapshot: Timestamp::now(),
            supervision,
        }
    }
}

impl Actor for JanitorActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.started(ctx);
        let me = ctx.address();
        if self.crew.settings.sweep_at_start {
            me.do_send(RunSweep);
        }
        ctx.run_interval(self.crew.settings.sweep_interval, |_, ctx| {
            ctx.address().do_send(RunSweep)
        });
        ctx.run_interval(self.crew.settings.snapshot_interval, |_, ctx| {
            ctx.address().do_send(TakeSnapshot)
        });
        ctx.run_interval(self.crew.settings.rules_poll_interval, |_, ctx| {
            ctx.address().do_send(ReloadRules)
        });
        ctx.run_interval(self.crew.settings.orphan_sweep_interval, |_, ctx| {
            ctx.address().do_send(AnswerOrphans)
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.supervision.stopped();
    }
}

supervised_actor!(JanitorActor);

/// The janitor's jobs that need only its crew. Each runs to its end before the janitor takes its
/// next message, so two runs of one job never overlap.
macro_rules! crew_jobs {
    ($($message:ty => $job:ident -> $answer:ty),* $(,)?) => {$(
        impl Handler<$message> for JanitorActor {
            type Result = AtomicResponse<Self, Result<$answer, PipelineError>>;

            fn handle(&mut self, _msg: $message, _ctx: &mut Self::Context) -> Self::Result {
                AtomicResponse::new(Box::pin($job(self.crew.clone()).into_actor(self)))
            }
        }
    )*};
}

crew_jobs! {
    RunSweep => run_sweep -> SweepReport,
    AnswerOrphans => answer_orphans -> u64,
}

impl Handler<TakeSnapshot> for JanitorActor {
    type Result = AtomicResponse<Self, Result<HealthSnapshot, PipelineError>>;

    fn handle(&mut self, _msg: TakeSnapshot, _ctx: &mut Self::Context) -> Self::Result {
        let persistence = self.crew.persistence.clone();
        let registry = self.crew.registry.clone();
        let since = self.last_snapshot;
        let (pool_size, pool_idle) = self.store.pool_state();
        let work = async move {
            let now = Timestamp::now();
            let active_sessions = persistence.ask(CountActiveSessions { now }).await?;
            let live = registry.ask(CountLiveSessions).await?;
            let (messages_interval, crisis_interval) =
                persistence.ask(CountActivitySince { since }).await?;
            let database_bytes = persistence.ask(MeasureDatabase {}).await?;
            let snapshot = HealthSnapshot {
                active_sessions,
                live_session_actors: live as i64,
                messages_interval,
                crisis_interval,
                database_bytes,
                pool_size: pool_size as i32,
                pool_idle: pool_idle as i32,
            };
            persistence
                .ask(RecordHealthSnapshot { snapshot, at: now })
                .await?;
            Ok((snapshot, now))
        };
        AtomicResponse::new(Box::pin(work.into_actor(self).map(
            |result: Result<(HealthSnapshot, Timestamp), PipelineError>, act, _| {
                let (snapshot, at) = result.inspect_err(|error| {
                    tracing::error!(error = %error, "health snapshot failed");
                })?;
                act.last_snapshot = at;
                Ok(snapshot)
            },
        )))
    }
}

impl Handler<ReloadRules> for JanitorActor {
    type Result = AtomicResponse<Self, Result<bool, PipelineError>>;

    fn handle(&mut self, _msg: ReloadRules, _ctx: &mut Self::Context) -> Self::Result {
        let persistence = self.crew.persistence.clone();
        let detector = self.detector.clone();
        let work = async move {
            let fingerprint = persistence.ask(LoadRulesFingerprint {}).await?;
            if fingerprint == detector.fingerprint() {
                return Ok(false);
            }
            let records = persistence.ask(LoadRules {}).await?;
            match compile_records(&records) {
                Ok(compiled) => {
                    detector.replace(compiled, fingerprint);
                    tracing::info!(rules = records.len(), "crisis rules recompiled");
                    Ok(true)
                }
                Err(reason) => {
                    // Keep the rules in force: a bad edit must not switch detection off.
                    tracing::error!(reason = %reason, "changed crisis rules do not compile; keeping the previous set");
                    Ok(false)
                }
            }
        };
        AtomicResponse::new(Box::pin(work.into_actor(self)))
    }
}
