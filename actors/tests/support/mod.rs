//! What the actor-level test binaries share: settings small and fast enough for tests.

#![allow(clippy::expect_used, dead_code)]

use cbln_actors::janitor::JanitorSettings;
use cbln_actors::session_registry::RegistrySettings;
use cbln_actors::supervision::RestartPolicy;
use cbln_actors::system::ActorSystemSettings;
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
