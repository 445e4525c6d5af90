//! Closed label values: each enum's `as_str` is the exported label value.

use std::fmt::Write as _;

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

/// Implements `EncodeLabelValue` through `as_str`, because the derive would export the
/// CamelCase variant name and dashboards query snake_case.
macro_rules! label_value_via_as_str {
    ($($ty:ty),* $(,)?) => {
        $(
            impl EncodeLabelValue for $ty {
                fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
                    encoder.write_str(self.as_str())
                }
            }
        )*
    };
}

/// The kind of actor a per-actor series belongs to (never an individual actor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorKind {
    /// One per active chat session.
    Session,
    /// The supervisor that owns the session actors.
    Registry,
    /// The rule-based crisis detector pool.
    CrisisDetector,
    /// The AES-GCM encryption pool.
    Encryptor,
    /// The actor that owns the database pool.
    Persistence,
    /// The reply generator.
    Responder,
    /// The expiry sweeper and health snapshotter.
    Janitor,
}

impl ActorKind {
    /// Every actor kind, in the order dashboards list them.
    pub const ALL: [ActorKind; 7] = [
        ActorKind::Session,
        ActorKind::Registry,
        ActorKind::CrisisDetector,
        ActorKind::Encryptor,
        ActorKind::Persistence,
        ActorKind::Responder,
        ActorKind::Janitor,
    ];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Session => "session",
            ActorKind::Registry => "registry",
            ActorKind::CrisisDetector => "crisis_detector",
            ActorKind::Encryptor => "encryptor",
            ActorKind::Persistence => "persistence",
            ActorKind::Responder => "responder",
            ActorKind::Janitor => "janitor",
        }
    }
}

/// How an actor message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The handler returned `Ok`.
    Ok,
    /// The handler returned an error.
    Error,
    /// The mailbox was full and the message was refused.
    Overloaded,
    /// The sender gave up waiting for the reply.
    Timeout,
    /// The receiving actor had stopped.
    Stopped,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Overloaded,
        Outcome::Timeout,
        Outcome::Stopped,
    ];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Overloaded => "overloaded",
            Outcome::Timeout => "timeout",
            Outcome::Stopped => "stopped",
        }
    }
}

/// Why a session was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeleteReason {
    /// The user asked for it.
    User,
    /// The janitor removed it after expiry.
    Expired,
}

impl DeleteReason {
    /// Every reason.
    pub const ALL: [DeleteReason; 2] = [DeleteReason::User, DeleteReason::Expired];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteReason::User => "user",
            DeleteReason::Expired => "expired",
        }
    }
}

/// The cryptographic operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoOperation {
    /// Encrypting a record.
    Seal,
    /// Decrypting a record.
    Open,
    /// Wrapping a data key with the master key.
    Wrap,
    /// Unwrapping a data key.
    Unwrap,
}

impl CryptoOperation {
    /// Every operation.
    pub const ALL: [CryptoOperation; 4] = [
        CryptoOperation::Seal,
        CryptoOperation::Open,
        CryptoOperation::Wrap,
        CryptoOperation::Unwrap,
    ];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            CryptoOperation::Seal => "seal",
            CryptoOperation::Open => "open",
            CryptoOperation::Wrap => "wrap",
            CryptoOperation::Unwrap => "unwrap",
        }
    }
}

/// Whether a responder call produced its own reply or fell back to the built-in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponderOutcome {
    /// The provider answered.
    Ok,
    /// The built-in fallback answered instead.
    Fallback,
}

impl ResponderOutcome {
    /// Every outcome.
    pub const ALL: [ResponderOutcome; 2] = [ResponderOutcome::Ok, ResponderOutcome::Fallback];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponderOutcome::Ok => "ok",
            ResponderOutcome::Fallback => "fallback",
        }
    }
}

/// What the janitor deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JanitorKind {
    /// Expired sessions (with everything of theirs).
    Sessions,
    /// `system_health_metrics` rows past their retention.
    HealthMetrics,
}

impl JanitorKind {
    /// Every kind.
    pub const ALL: [JanitorKind; 2] = [JanitorKind::Sessions, JanitorKind::HealthMetrics];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            JanitorKind::Sessions => "sessions",
            JanitorKind::HealthMetrics => "health_metrics",
        }
    }
}

/// How a janitor sweep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JanitorOutcome {
    /// The sweep completed.
    Ok,
    /// The sweep failed part-way.
    Error,
}

impl JanitorOutcome {
    /// Every outcome.
    pub const ALL: [JanitorOutcome; 2] = [JanitorOutcome::Ok, JanitorOutcome::Error];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            JanitorOutcome::Ok => "ok",
            JanitorOutcome::Error => "error",
        }
    }
}

/// Which rate limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLimitScope {
    /// The per-session limit.
    Session,
    /// The per-client (address) limit.
    Client,
    /// The staff sign-in limits (per address and per user name).
    StaffLogin,
}

impl RateLimitScope {
    /// Every scope.
    pub const ALL: [RateLimitScope; 3] = [
        RateLimitScope::Session,
        RateLimitScope::Client,
        RateLimitScope::StaffLogin,
    ];

    /// The exported label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimitScope::Session => "session",
            RateLimitScope::Client => "client",
            RateLimitScope::StaffLogin => "staff_login",
        }
    }
}

/// The two states `db_pool_connections` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PoolState {
    Size,
    Idle,
}

impl PoolState {
    pub(crate) const ALL: [PoolState; 2] = [PoolState::Size, PoolState::Idle];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PoolState::Size => "size",
            PoolState::Idle => "idle",
        }
    }
}

label_value_via_as_str!(
    ActorKind,
    Outcome,
    DeleteReason,
    CryptoOperation,
    ResponderOutcome,
    JanitorKind,
    JanitorOutcome,
    RateLimitScope,
    PoolState,
);
