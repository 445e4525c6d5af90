//! `POST /api/v1/messages` with `Accept: text/event-stream`: the same pipeline, its progress as
//! events — `message.accepted`, `reply.delta`…, then `reply.completed`, `reply.replaced` or `error`.
//!
//! The post runs in its own task, so a client that disconnects stops nothing: the reply is still
//! completed, guarded and stored. A stream that ends before its final event (the pipeline stopped
//! without one) ends with an `error` event, never cut short. A post refused before its message was
//! committed answers with the ordinary JSON error instead of a stream.

use super::error::ApiError;
use super::event_stream::{error_body, frame, response};
use super::idempotency::Pending;
use super::live_session::LiveSession;
use super::state::AppState;
use super::views::{ChatMessage, CrisisInfo, Notice, PostedMessage};
use actix_web::HttpResponse;
use actix_web::web::{Bytes, Data};
use cbln_actors::error::PipelineError;
use cbln_actors::persistence::StoreError;
use cbln_actors::session::{AnswerAwaiting, PostMessageStreaming, StreamEvent};
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// Starts the post and answers once its message is committed (or with the error that stopped it).
/// With `keep`, the final answer is kept for `Idempotency-Key` retries as the JSON a plain post
/// gives — whether or not the client is still reading.
pub async fn send(
    session: LiveSession,
    content: String,
    keep: Option<(Data<AppState>, Pending)>,
) -> Result<HttpResponse, ApiError> {
    let (events, from_pipeline) = unbounded_channel();
    let (gave_up, from_ask) = unbounded_channel();
    let (to_client, mut received) = unbounded_channel();
    let recovery = session.clone();
    actix_web::rt::spawn(async move {
        if let Err(error) = session.ask(PostMessageStreaming { content, events }).await {
            let _ = gave_up.send(error);
        }
    });
    actix_web::rt::spawn(relay(from_pipeline, from_ask, to_client, recovery, keep));
    let first = received.recv().await.ok_or(ApiError::Internal)?;
    if let StreamEvent::Failed(error) = first {
        return Err(error.into());
    }
    let state = Relay {
        first: Some(first),
        received,
        next_id: 1,
        ended: false,
    };
    Ok(response(futures_util::stream::unfold(state, Relay::next)))
}

/// Passes the pipeline's events on to the client, keeping the final answer for `keep`. A
/// pipeline that failed after its message was stored has left that message awaiting its answer:
/// once the pipeline is done the session's actor is asked to answer it at once, as recovery
/// would, and `keep` gets that answer. When the failure was the version conflict of a counsellor's
/// claim and the actor handed the message to them, the client is told so (`reply.replaced`
/// without a reply) instead of the failure; any other failure is told at once.
async fn relay(
    mut from_pipeline: UnboundedReceiver<StreamEvent>,
    mut from_ask: UnboundedReceiver<PipelineError>,
    to_client: UnboundedSender<StreamEvent>,
    recovery: LiveSession,
    mut keep: Option<(Data<AppState>, Pending)>,
) {
    let mut accepted = None;
    // A failure held back from the client until recovery had its say.
    let mut unanswered = None;
    // Whether the pipeline failed after its message was stored, leaving it awaiting an answer.
    let mut recover = false;
    loop {
        let (event, from_actor) = tokio::select! {
            // The pipeline first: when its final event and the ask's failure are both ready, the
            // reply that was stored is what the client is told, not that the wait ran out.
            biased;
            Some(event) = from_pipeline.recv() => (event, true),
            // Waiting for the actor ran out (or it never started): said at once, whatever the
            // pipeline still does.
            Some(error) = from_ask.recv() => (StreamEvent::Failed(error), false),
            else => break,
        };
        let event = match event {
            // The pipeline's own failure after its message was stored, its last event. A version
            // conflict is a claim by a counsellor that landed while the reply was streamed: held
            // until recovery has handed the message over, so the client hears `reply.replaced`
            // rather than a failure. Any other is said at once; recovery still answers the
            // message below.
            StreamEvent::Failed(error) if from_actor && accepted.is_some() => {
                recover = true;
                if matches!(error, PipelineError::Store(StoreError::VersionConflict)) {
                    unanswered = Some(error);
                    continue;
                }
                StreamEvent::Failed(error)
            }
            event => event,
        };
        let answer = match &event {
            StreamEvent::Accepted {
                user_message,
                crisis_info,
            } => {
                accepted = Some((user_message.clone(), crisis_info.clone()));
                None
            }
            StreamEvent::Completed(posted) | StreamEvent::Replaced(posted) => Some(Ok(
                HttpResponse::Created().json(PostedMessage::from(posted.clone())),
            )),
            // Before its message was taken, released so that a retry runs afresh.
            StreamEvent::Failed(_) if accepted.is_none() => Some(Err(ApiError::Internal)),
            // After it, the message is stored: the claim is kept until the message has an
            // answer (below, or a late final event if only the wait for it ran out), so a
            // retry meanwhile gets 409 instead of posting the message twice.
            _ => None,
        };
        if let Some(answer) = answer
            && let Some((state, pending)) = keep.take()
        {
            let _ = pending.finish(&state, answer, None).await;
        }
        let _ = to_client.send(event);
    }
    let Some((user_message, crisis_info)) = accepted else {
        return;
    };
    if !recover && keep.is_none() {
        return;
    }
    // The pipeline is done and the stored message has no answer: the session's actor answers
    // its own failure at once when asked. If it cannot now, the lease frees the key later and
    // recovery answers the message at the session's next use.
    let answered = recovery.ask(AnswerAwaiting).await.unwrap_or_default();
    let recovered = answered
        .into_iter()
        .find(|answered| answered.message_id == user_message.id)
        .map(|answered| cbln_actors::session::PostedMessage {
            user_message,
            ai_message: answered.reply,
            crisis_info,
            notice: None,
        });
    if let Some(posted) = &recovered
        && let Some((state, pending)) = keep.take()
    {
        let answer = Ok(HttpResponse::Created().json(PostedMessage::from(posted.clone())));
        let _ = pending.finish(&state, answer, None).await;
    }
    let event = match (recovered, unanswered) {
        // A counsellor claimed the conversation while the reply was streamed: the pieces shown
        // are void and the message is theirs.
        (Some(posted), _) if posted.ai_message.is_none() => StreamEvent::Replaced(posted),
        // Answered by the listener: the stream still reports the failure it met, and a retry
        // with the key gets the answer.
        (_, Some(error)) => StreamEvent::Failed(error),
        (_, None) => return,
    };
    let _ = to_client.send(event);
}

/// Turns pipeline events into frames with increasing ids, ending after the first final event.
struct Relay {
    first: Option<StreamEvent>,
    received: UnboundedReceiver<StreamEvent>,
    next_id: u64,
    ended: bool,
}

impl Relay {
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        if self.ended {
            return None;
        }
        let event = match self.first.take() {
            Some(event) => Some(event),
            None => self.received.recv().await,
        };
        let id = self.next_id;
        self.next_id += 1;
        let Some(event) = event else {
            // The pipeline ended without a final event: say so rather than cut the stream.
            self.ended = true;
            let frame = frame(id, "error", &error_body(&ApiError::Internal).await);
            return Some((Ok(frame), self));
        };
        let completed = matches!(event, StreamEvent::Completed(_));
        let bytes = match event {
            StreamEvent::Accepted {
                user_message,
                crisis_info,
            } => frame(
                id,
                "message.accepted",
                &json!({
                    "user_message": ChatMessage::from(user_message),
                    "crisis_info": crisis_info.map(CrisisInfo::from),
                }),
            ),
            StreamEvent::Delta(text) => frame(id, "reply.delta", &json!({"text": text})),
            StreamEvent::Completed(posted) | StreamEvent::Replaced(posted) => {
                let name = if completed {
                    "reply.completed"
                } else {
                    "reply.replaced"
                };
                self.ended = true;
                frame(
                    id,
                    name,
                    &json!({
                        "ai_message": posted.ai_message.map(ChatMessage::from),
                        "notice": posted.notice.map(Notice::from),
                    }),
                )
            }
            StreamEvent::Failed(error) => {
                self.ended = true;
                frame(id, "error", &error_body(&error.into()).await)
            }
        };
        Some((Ok(bytes), self))
    }
}
