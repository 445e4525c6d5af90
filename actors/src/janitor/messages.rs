//! The janitor's interface: one struct per message and its reply.

use crate::error::PipelineError;
use crate::persistence::HealthSnapshot;
use actix::Message;

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Expired sessions removed with everything of theirs.
    pub sessions_deleted: u64,
    /// Health snapshots past their retention removed.
    pub health_snapshots_deleted: u64,
    /// Idempotency keys past their time removed (their answers are no longer replayed).
    pub idempotency_keys_deleted: u64,
    /// Ended handoffs whose key and sealed material were destroyed after their retention.
    pub handoffs_shredded: u64,
    /// Staff sign-in tokens past their shift removed (they already no longer worked).
    pub staff_tokens_deleted: u64,
}

/// Delete what is past its time (sessions, health snapshots, idempotency keys, staff tokens) and
/// shred ended handoffs, in batches; answers what was removed.
#[derive(Message)]
#[rtype(result = "Result<SweepReport, PipelineError>")]
pub struct RunSweep;

/// Answer the messages left awaiting their reply past the grace period (their instance died,
/// or the reply failed and nobody used the session since), with the built-in listener or the
/// safety protocol (or by handing them to the counsellor who has the conversation), through each
/// session's actor. Answers how many messages were answered now.
#[derive(Message)]
#[rtype(result = "Result<u64, PipelineError>")]
pub struct AnswerOrphans;

/// Record a health snapshot now.
#[derive(Message)]
#[rtype(result = "Result<HealthSnapshot, PipelineError>")]
pub struct TakeSnapshot;

/// Recompile the crisis rules if they changed in the database; answers whether they did.
#[derive(Message)]
#[rtype(result = "Result<bool, PipelineError>")]
pub struct ReloadRules;
