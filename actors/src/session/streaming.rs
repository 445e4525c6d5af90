//! A posted message whose reply is streamed: the pipeline reports the committed user message, the
//! reply's guarded pieces and the end through a channel, beside the ordinary request/reply path.
//!
//! The work runs to its end whoever is listening: a reader that goes away only closes the channel,
//! and the reply is still completed, guarded and stored.

use super::actor::SessionActor;
use super::pipeline;
use super::view::{ChatMessage, PostedMessage};
use crate::crisis::CrisisInfo;
use crate::error::PipelineError;
use crate::text::SentenceSplitter;
use actix::{AtomicResponse, Handler, Message};
use tokio::sync::mpsc::UnboundedSender;

/// What a streamed post reports, in order: `Accepted`, any number of `Delta`, then one of
/// `Completed`, `Replaced` or `Failed` (or only `Failed` when the message was not accepted).
#[derive(Debug)]
pub enum StreamEvent {
    /// The user's message is committed.
    Accepted {
        /// The user's message as committed.
        user_message: ChatMessage,
        /// The crisis card when the message was a crisis.
        crisis_info: Option<CrisisInfo>,
    },
    /// The next guarded piece of the reply.
    Delta(String),
    /// The reply is stored and the pieces add up to it.
    Completed(PostedMessage),
    /// The reply is stored, but it is not what the pieces began: a later sentence failed the
    /// guard or the model failed part way, and a safe reply was stored instead. Without a reply
    /// (`ai_message` is `None`) a counsellor took the conversation while it was streamed: the
    /// pieces are void and the message is the counsellor's to answer.
    Replaced(PostedMessage),
    /// The post failed. Before `Accepted` nothing of it is stored; after it, the user's message
    /// stays and is answered by the built-in listener when the session is next used.
    Failed(PipelineError),
}

/// The pipeline's side of a streamed post: sends events and remembers what was shown.
#[derive(Debug)]
pub struct ReplySink {
    events: UnboundedSender<StreamEvent>,
    shown: String,
}

impl ReplySink {
    /// A sink sending to `events`.
    pub fn new(events: UnboundedSender<StreamEvent>) -> Self {
        Self {
            events,
            shown: String::new(),
        }
    }

    /// Reports the committed user message.
    pub fn accepted(&self, user_message: ChatMessage, crisis_info: Option<CrisisInfo>) {
        // A closed channel is a reader that left; the work goes on.
        let _ = self.events.send(StreamEvent::Accepted {
            user_message,
            crisis_info,
        });
    }

    /// Reports the next guarded piece.
    pub fn delta(&mut self, piece: String) {
        self.shown.push_str(&piece);
        let _ = self.events.send(StreamEvent::Delta(piece));
    }

    /// Reports reviewed text (the safety protocol's) a sentence at a time.
    pub fn text(&mut self, text: &str) {
        let mut splitter = SentenceSplitter::new();
        for piece in splitter.push(text).into_iter().chain(splitter.finish()) {
            self.delta(piece);
        }
    }

    /// Reports how the post ended.
    fn end(self, result: Result<PostedMessage, PipelineError>) {
        let event = match result {
            // The counsellor answers. Only a message posted to an assigned handoff ends without
            // a reply, and it is committed alone before anything is generated, so nothing was
            // shown that this could void.
            Ok(posted) if posted.ai_message.is_none() => StreamEvent::Completed(posted),
            Ok(posted)
                if posted
                    .ai_message
                    .as_ref()
                    .and_then(|m| m.content.as_deref())
                    == Some(self.shown.as_str()) =>
            {
                StreamEvent::Completed(posted)
            }
            Ok(posted) => StreamEvent::Replaced(posted),
            Err(error) => StreamEvent::Failed(error),
        };
        let _ = self.events.send(event);
    }
}

/// Run one chat message through the pipeline, reporting to `events` as it goes. Once the work
/// started the reply is `Ok` and the events say how it ended; an `Err` means it never started
/// (expired session, full mailbox), and the caller reports that itself.
#[derive(Clone, Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct PostMessageStreaming {
    /// Trimmed, validated text.
    pub content: String,
    /// Where the events go.
    pub events: UnboundedSender<StreamEvent>,
}

impl Handler<PostMessageStreaming> for SessionActor {
    type Result = AtomicResponse<Self, Result<(), PipelineError>>;

    fn handle(&mut self, msg: PostMessageStreaming, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            let mut sink = ReplySink::new(msg.events);
            let result =
                pipeline::post_message_streaming(&deps, &mut state, msg.content, &mut sink).await;
            sink.end(result);
            Ok(())
        })
    }
}
