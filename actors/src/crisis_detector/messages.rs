//! The crisis detector's interface: one struct per message and its reply.

use crate::crisis::{Judgement, RiskLevel};
use crate::error::PipelineError;
use actix::Message;

/// Judge one message in the light of the conversation so far.
#[derive(Message)]
#[rtype(result = "Result<Judgement, PipelineError>")]
pub struct Assess {
    /// The message text (memory only).
    pub text: String,
    /// The most recent earlier user turns, oldest first (memory only).
    pub earlier: Vec<String>,
    /// The conversation's risk before this message.
    pub prior: RiskLevel,
}
