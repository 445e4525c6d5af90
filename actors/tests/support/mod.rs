//! What the actor-level test binaries share: settings small and fast enough for tests.

#![allow(clippy::expect_used, dead_code)]

pub mod database;
pub mod log_buffer;
pub mod mock_llm;

use cbln_actors::crisis::parse_hotlines;
use cbln_actors::crypto::{KeyRing, MasterKey, TokenHash, TokenHasher};
use cbln_actors::domain::Language;
use cbln_actors::janitor::JanitorSettings;
use cbln_actors::persistence::{NewSession, Store, StoreSettings, Timestamp, WrappedKey};
use cbln_actors::responder::Responder;
use cbln_actors::session_registry::{CreateSession, RegistrySettings};
use cbln_actors::supervision::RestartPolicy;
use cbln_actors::system::{ActorSystem, ActorSystemSettings};
use cbln_actors::telemetry::Metrics;
use std::sync::Arc;
use std::time::Duration;

/// Settings small and fast enough for tests; each test tweaks what it exercises.
pub fn test_settings() -> ActorSystemSettings {
    ActorSystemSettings {
        registry: RegistrySettings {
            max_live: 100,
            idle_timeout: Duration::from_secs(60),
            session_mailbox_capacity: 16,
            request_timeout: Duration::from_secs(10),
            session_ttl: Duration::from_secs(24 * 3600),
        },
        janitor: JanitorSettings {
            sweep_interval: Duration::from_secs(3600),
            sweep_at_start: false,
            batch_size: 100,
            batch_pause: Duration::from_millis(1),
            health_retention: Duration::from_secs(30 * 24 * 3600),
            snapshot_interval: Duration::from_secs(3600),
            rules_poll_interval: Duration::from_secs(3600),
            orphan_sweep_interval: Duration::from_secs(3600),
            orphan_grace: cbln_actors::session::RECOVERY_GRACE,
        },
        stage_timeout: Duration::from_secs(10),
        mailbox_capacity: 1024,
        encryptor_threads: 2,
        detector_threads: 1,
        group_commit_max: 64,
        commit_writers: 0,
        context_turns: 10,
        restart_policy: RestartPolicy::default(),
        risk_model: std::sync::Arc::new(
            cbln_actors::crisis::RiskModel::embedded().expect("the embedded crisis model loads"),
        ),
        crisis_quiet_period: Duration::from_secs(12 * 3600),
        notices: cbln_actors::session::NoticeSettings::default(),
        crisis_judge: None,
    }
}

/// A migrated store on `url` with a small pool.
pub async fn migrated_store(url: &str) -> Store {
    let store = Store::connect(&StoreSettings {
        url: url.to_string(),
        max_connections: 5,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .expect("connect");
    store.migrate_up().await.expect("migrate");
    store
}

/// A migrated store on `url` and an actor system over it, with the shipped hotlines and a fixed
/// token-hashing key: systems started with the same `master` read each other's sessions.
pub async fn start_system(
    url: &str,
    master: MasterKey,
    responder: Responder,
    settings: ActorSystemSettings,
) -> (ActorSystem, Store) {
    let store = migrated_store(url).await;
    let system = ActorSystem::start(
        store.clone(),
        settings,
        Arc::new(KeyRing::new(master, vec![])),
        Arc::new(TokenHasher::new(&[7u8; 32]).expect("hasher")),
        responder,
        parse_hotlines(include_str!("../../../config/hotlines.toml")).expect("hotlines parse"),
        Metrics::new("test"),
    )
    .await
    .expect("actor system starts");
    (system, store)
}

/// The hash of `token` under the tests' fixed token-hashing key.
pub fn token_hash(token: &str) -> TokenHash {
    TokenHasher::new(&[7u8; 32]).expect("hasher").hash(token)
}

/// A Vietnamese session written straight to the store, whose token is `token`, last active (and
/// created) `created_at`, expiring an hour later: its id.
pub async fn insert_session(store: &Store, token: &str, created_at: Timestamp) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    store
        .insert_session(&NewSession {
            id,
            token_hash: token_hash(token),
            language: Language::Vi,
            created_at,
            expires_at: created_at.plus(Duration::from_secs(3600)),
            wrapped_key: WrappedKey {
                key_id: 1,
                wrapped_key: vec![1; 60],
            },
        })
        .await
        .expect("insert session");
    id
}

/// Creates a Vietnamese session through the registry: its token's hash and its id.
pub async fn create_session(system: &ActorSystem) -> (TokenHash, uuid::Uuid) {
    let created = system
        .registry
        .ask(CreateSession {
            language: Language::Vi,
        })
        .await
        .expect("create session");
    (system.token_hasher.hash(&created.token), created.record.id)
}

/// Runs each named `async fn(Database)` as two tests, `NAME::postgres` and `NAME::sqlite`, under
/// the given test attribute (`tokio::test`, or `actix::test` where actors run).
#[allow(unused_macros)] // only the binaries that test both databases use it
macro_rules! on_both_databases {
    ($test:meta; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[$test]
                async fn postgres() {
                    super::$name(super::Database::postgres().await).await
                }

                #[$test]
                async fn sqlite() {
                    super::$name(super::Database::sqlite()).await
                }
            }
        )*
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_databases;
