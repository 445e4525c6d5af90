//! The responder actor's streamed reply: the same provider and metrics as `GenerateReply`, with
//! the reply's guarded pieces sent on as they pass.

use super::ResponderActor;
use crate::error::PipelineError;
use crate::responder::{PieceSink, ReplyOutcome, ReplyRequest};
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
        self.counted(async move |responder| {
            responder.reply_streaming(&msg.request, &msg.pieces).await
        })
    }
}
