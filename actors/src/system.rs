//! Starts the actor system in dependency order and stops it in reverse: the one place where the
//! actors are wired together. Must run inside an actix `System` (the front door's runtime).

use crate::crisis::{CrisisDetector, Hotline, RiskModel, default_rules};
use crate::crisis_detector::{self, CrisisDetectorActor, SharedDetector, compile_records};
use crate::crisis_judge::CrisisJudge;
use crate::crypto::{KeyRing, TokenHasher};
use crate::encryptor::{self, EncryptorActor};
use crate::error::PipelineError;
use crate::janitor::{self, JanitorActor, JanitorSettings};
use crate::mailbox::{DepthGauge, Mailbox};
use crate::persistence::messages::{self as store_messages};
use crate::persistence::{PersistenceActor, Store, StoreError};
use crate::responder::Responder;
use crate::responder_actor::{self, ResponderActor};
use crate::session::{self, SessionDeps};
use crate::session_events::SessionChanges;
use crate::session_registry::{self, DrainSessions, RegistrySettings, SessionRegistry};
use crate::supervision::{PoolRestarts, RestartPolicy, SystemHealth};
use crate::telemetry::{ActorKind, Metrics};
use actix::{Actor, Arbiter, Supervisor, SyncArbiter};
use std::sync::Arc;
use std::time::Duration;

/// Everything the actor system is configured with.
pub struct ActorSystemSettings {
    /// Registry and session-actor settings.
    pub registry: RegistrySettings,
    /// Janitor schedule and batch sizes.
    pub janitor: JanitorSettings,
    /// Timeout of each pipeline stage.
    pub stage_timeout: Duration,
    /// Requests in flight per singleton actor before it answers `overloaded`.
    pub mailbox_capacity: usize,
    /// Threads of the encryptor pool.
    pub encryptor_threads: usize,
    /// Threads of the crisis-detector pool.
    pub detector_threads: usize,
    /// Most writes per group-commit transaction.
    pub group_commit_max: usize,
    /// Group-commit transactions in flight at once; 0 = one on SQLite (a single write lock),
    /// two on PostgreSQL (one batch commits while the next fills).
    pub commit_writers: usize,
    /// Turns of conversation kept for the responder.
    pub context_turns: usize,
    /// Restart intensity for every supervised actor.
    pub restart_policy: RestartPolicy,
    /// The crisis detector's learned layer.
    pub risk_model: Arc<RiskModel>,
    /// Silence after which a conversation's crisis mode lapses without a safety step.
    pub crisis_quiet_period: Duration,
    /// When replies carry break reminders.
    pub notices: crate::session::NoticeSettings,
    /// The optional model judge that may raise a verdict to a crisis.
    pub crisis_judge: Option<Arc<CrisisJudge>>,
}

/// Handles to the running actors.
pub struct ActorSystem {
    /// The session supervisor: the front door's entry point.
    pub registry: Mailbox<SessionRegistry>,
    /// The owner of the database pool.
    pub persistence: Mailbox<PersistenceActor>,
    /// Housekeeping.
    pub janitor: Mailbox<JanitorActor>,
    /// The crisis rules in force.
    pub detector: SharedDetector,
    /// Escalations and the shutdown request.
    pub health: SystemHealth,
    /// Hashes tokens for lookups.
    pub token_hasher: Arc<TokenHasher>,
    /// Unwraps session data keys for what the front door seals itself (idempotent answers).
    pub keyring: Arc<KeyRing>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Deleted session ids, for other instances.
    pub deletions: tokio::sync::broadcast::Sender<uuid::Uuid>,
    /// Committed messages and status changes, for the sessions' event streams.
    pub changes: SessionChanges,
    /// The configured lines, for a card shown outside the pipeline (no counsellor available).
    pub hotlines: Arc<Vec<Hotline>>,
    store: Store,
    persistence_arbiter: Arbiter,
}

/// Compiles the stored rules, seeding the defaults first when a rule id is missing (idempotent:
/// an operator's disabled rule stays disabled). Returns the detector and the rule fingerprint.
pub async fn load_detector(store: &Store) -> Result<(CrisisDetector, String), StartError> {
    let defaults = crisis_detector::records_from_specs(&default_rules());
    store.insert_missing_rules(&defaults).await?;
    let records = store.list_rules().await?;
    let detector = compile_records(&records).map_err(StartError::Rules)?;
    Ok((detector, store.rules_fingerprint().await?))
}

/// Why the actor system could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored crisis rules do not compile.
    #[error("crisis rules: {0}")]
    Rules(String),
}

impl ActorSystem {
    /// Starts every actor under its supervisor.
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        store: Store,
        settings: ActorSystemSettings,
        keyring: Arc<KeyRing>,
        token_hasher: Arc<TokenHasher>,
        responder: Responder,
        hotlines: Vec<Hotline>,
        metrics: Metrics,
    ) -> Result<Self, StartError> {
        let health = SystemHealth::new(metrics.clone(), settings.restart_policy);
        let (deletions, _) = tokio::sync::broadcast::channel(1024);
        let changes = SessionChanges::new(4096);
        declare_message_types(&metrics);
        let (detector, fingerprint) = load_detector(&store).await?;
        let detector = SharedDetector::new(detector, fingerprint);
        let timeout = settings.stage_timeout;
        let capacity = settings.mailbox_capacity;
        let bounded = MailboxFactory {
            capacity,
            timeout,
            metrics: metrics.clone(),
        };

        let persistence_arbiter = Arbiter::new();
        let persistence_addr = {
            let (store, metrics, health) = (store.clone(), metrics.clone(), health.clone());
            let max_batch = settings.group_commit_max;
            let writers = match (settings.commit_writers, store.kind()) {
                (0, crate::persistence::BackendKind::Sqlite) => 1,
                (0, crate::persistence::BackendKind::Postgres) => 2,
                (configured, _) => configured,
            };
            Supervisor::start_in_arbiter(&persistence_arbiter.handle(), move |_| {
                PersistenceActor::new(store, max_batch, writers, metrics, health)
            })
        };
        let persistence = bounded.wrap(persistence_addr, ActorKind::Persistence);

        let encryptor_addr = {
            let restarts = PoolRestarts::new(
                ActorKind::Encryptor,
                settings.encryptor_threads.max(1),
                health.clone(),
            );
            let metrics = metrics.clone();
            let keyring = keyring.clone();
            SyncArbiter::start(settings.encryptor_threads.max(1), move || {
                EncryptorActor::new(keyring.clone(), metrics.clone(), restarts.clone())
            })
        };
        let detector_addr = {
            let restarts = PoolRestarts::new(
                ActorKind::CrisisDetector,
                settings.detector_threads.max(1),
                health.clone(),
            );
            let (shared, metrics) = (detector.clone(), metrics.clone());
            let model = settings.risk_model.clone();
            SyncArbiter::start(settings.detector_threads.max(1), move || {
                CrisisDetectorActor::new(
                    shared.clone(),
                    model.clone(),
                    metrics.clone(),
                    restarts.clone(),
                )
            })
        };
        let responder_addr = {
            let (responder, metrics, health) =
                (Arc::new(responder), metrics.clone(), health.clone());
            Supervisor::start(move |_| ResponderActor::new(responder, metrics, health))
        };
        let deps = Arc::new(SessionDeps {
            persistence: persistence.clone(),
            encryptor: bounded.wrap(encryptor_addr, ActorKind::Encryptor),
            detector: bounded.wrap(detector_addr, ActorKind::CrisisDetector),
            responder: bounded.wrap(responder_addr, ActorKind::Responder),
            metrics: metrics.clone(),
            hotlines: Arc::new(hotlines),
            context_turns: settings.context_turns,
            crisis_quiet_period: settings.crisis_quiet_period,
            notices: settings.notices,
            crisis_judge: settings.crisis_judge.clone(),
            session_ttl: settings.registry.session_ttl,
            recovery_grace: settings.janitor.orphan_grace,
            deletions: deletions.clone(),
            changes: changes.clone(),
        });
        let hotlines = deps.hotlines.clone();
        let registry_addr = {
            let (deps, registry_settings, hasher, health) = (
                deps.clone(),
                settings.registry.clone(),
                token_hasher.clone(),
                health.clone(),
            );
            Supervisor::start(move |_| {
                SessionRegistry::new(deps, registry_settings, hasher, health)
            })
        };
        let registry = bounded.wrap(registry_addr, ActorKind::Registry);
        let janitor_addr = {
            let (persistence, registry, detector, janitor_store, janitor_settings, metrics, health) = (
                persistence.clone(),
                registry.clone(),
                detector.clone(),
                store.clone(),
                settings.janitor.clone(),
                metrics.clone(),
                health.clone(),
            );
            Supervisor::start(move |_| {
                JanitorActor::new(
                    persistence,
                    registry,
                    detector,
                    janitor_store,
                    janitor_settings,
                    metrics,
                    health,
                )
            })
        };
        let janitor = bounded.wrap(janitor_addr, ActorKind::Janitor);
        tracing::info!(
            encryptor_threads = settings.encryptor_threads,
            detector_threads = settings.detector_threads,
            "actor system started"
        );
        Ok(ActorSystem {
            registry,
            persistence,
            janitor,
            detector,
            health,
            token_hasher,
            keyring,
            metrics,
            deletions,
            changes,
            hotlines,
            store,
            persistence_arbiter,
        })
    }

    /// Pool connections open and idle.
    pub fn pool_state(&self) -> (u32, u32) {
        self.store.pool_state()
    }

    /// The store, for the readiness check of migrations.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether every singleton actor is running and none escalated.
    pub fn actors_healthy(&self) -> bool {
        self.health.escalated().is_empty()
            && self.registry.connected()
            && self.persistence.connected()
            && self.janitor.connected()
    }

    /// Database round trip through the persistence actor.
    pub async fn database_healthy(&self) -> bool {
        self.persistence.ask(store_messages::Ping {}).await.is_ok()
    }

    /// Stops in reverse dependency order: sessions finish their pipelines and stop, then the
    /// persistence actor (whose writer has nothing left in flight) and its thread.
    pub async fn shutdown(&self) {
        if let Err(error) = self.registry.ask(DrainSessions).await {
            tracing::warn!(error = %error, "draining sessions failed");
        }
        let _: Result<(), PipelineError> = self.persistence.ask(store_messages::Recycle).await;
        self.persistence_arbiter.stop();
        tracing::info!("actor system stopped");
    }
}

struct MailboxFactory {
    capacity: usize,
    timeout: Duration,
    metrics: Metrics,
}

impl MailboxFactory {
    fn wrap<A: Actor>(&self, addr: actix::Addr<A>, kind: ActorKind) -> Mailbox<A> {
        Mailbox::new(
            addr,
            kind,
            self.capacity,
            self.timeout,
            DepthGauge::default(),
            self.metrics.clone(),
        )
    }
}

fn declare_message_types(metrics: &Metrics) {
    let purposes: Vec<&str> = crate::crypto::Purpose::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    metrics.declare_integrity_purposes(&purposes);
    metrics.declare_actor_messages(ActorKind::Session, &session::MESSAGE_TYPES);
    metrics.declare_actor_messages(ActorKind::Registry, &session_registry::MESSAGE_TYPES);
    metrics.declare_actor_messages(ActorKind::Encryptor, &encryptor::MESSAGE_TYPES);
    metrics.declare_actor_messages(ActorKind::CrisisDetector, &crisis_detector::MESSAGE_TYPES);
    metrics.declare_actor_messages(ActorKind::Responder, &responder_actor::MESSAGE_TYPES);
    metrics.declare_actor_messages(ActorKind::Janitor, &janitor::MESSAGE_TYPES);
    metrics.declare_actor_messages(
        ActorKind::Persistence,
        &[
            "Commit",
            "FindSessionByToken",
            "ListMessages",
            "LoadSessionKey",
            "Ping",
        ],
    );
}
