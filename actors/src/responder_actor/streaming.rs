//! The responder actor's streamed reply: the same provider and metrics as `GenerateReply`, with
//! the reply's guarded pieces sent on as they pass.

use super::ResponderActor;
use crate::error::PipelineError;
use crate::responder::{PieceSink, ReplyOutcome, ReplyRequest};
use crate::telemetry::ResponderOutcome;
use actix::{Handler, Message, ResponseFuture};

/// Produce a reply, sending its guarded pieces to `pieces` as they pass; never fails for provider
/// reasons (those fall back to the built-in listener).
#[derive(Message)]
#[rtype(result = "Result<ReplyOutcome, PipelineError>")]
pub struct GenerateReplyStreaming {
    /// The message, the recent turns and the language.
    pub request: ReplyRequest,
    /// Where the guarded pieces go.
    pub pieces: PieceSink,
}

impl Handler<GenerateReplyStreaming> for ResponderActor {
    type Result = ResponseFuture<Result<ReplyOutcome, PipelineError>>;

    fn handle(&mut self, msg: GenerateReplyStreaming, _ctx: &mut Self::Context) -> Self::Result {
        let responder = self.responder.clone();
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let outcome = responder.reply_streaming(&msg.request, &msg.pieces).await;
            let configured = responder.provider();
            match outcome.fallback {
                Some(reason) => {
                    metrics.responder_call(configured, ResponderOutcome::Fallback);
                    metrics.responder_fallback(configured, reason.as_str());
                }
                None => metrics.responder_call(configured, ResponderOutcome::Ok),
            }
            Ok(outcome)
        })
    }
}
