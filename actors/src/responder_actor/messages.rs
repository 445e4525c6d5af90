//! The responder's interface: one struct per message and its reply.

use crate::error::PipelineError;
use crate::responder::{ReplyOutcome, ReplyRequest};
use actix::Message;

/// Produce a reply; never fails for provider reasons (those fall back to the built-in listener).
#[derive(Message)]
#[rtype(result = "Result<ReplyOutcome, PipelineError>")]
pub struct GenerateReply {
    /// The message, the recent turns and the language.
    pub request: ReplyRequest,
}
