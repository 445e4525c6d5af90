//! The responder actor: wraps the configured provider and counts how its calls end.

use super::messages::GenerateReply;
use crate::error::PipelineError;
use crate::responder::{FallbackReason, ReplyOutcome, Responder};
use crate::supervision::{Supervision, SystemHealth, supervised_actor};
use crate::telemetry::{ActorKind, Metrics, ResponderOutcome};
use actix::{Actor, Context, Handler, ResponseFuture};
use std::sync::Arc;

/// Wraps the configured `Responder`.
pub struct ResponderActor {
    responder: Arc<Responder>,
    metrics: Metrics,
    supervision: Supervision,
}

impl ResponderActor {
    /// An actor answering through `responder`.
    pub fn new(responder: Arc<Responder>, metrics: Metrics, health: SystemHealth) -> Self {
        let supervision = Supervision::new(ActorKind::Responder, metrics.clone(), health);
        metrics.declare_responder_provider(responder.provider());
        let reasons: Vec<&str> = FallbackReason::ALL.iter().map(|r| r.as_str()).collect();
        metrics.declare_responder_fallbacks(responder.provider(), &reasons);
        ResponderActor {
            responder,
            metrics,
            supervision,
        }
    }
}

impl ResponderActor {
    /// Runs `reply` on the configured provider and counts the call and, when the built-in
    /// listener answered in its place, the reason.
    pub(super) fn counted(
        &self,
        reply: impl AsyncFnOnce(&Responder) -> ReplyOutcome + 'static,
    ) -> ResponseFuture<Result<ReplyOutcome, PipelineError>> {
        let responder = self.responder.clone();
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let outcome = reply(&responder).await;
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

impl Actor for ResponderActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.started(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.supervision.stopped();
    }
}

supervised_actor!(ResponderActor);

impl Handler<GenerateReply> for ResponderActor {
    type Result = ResponseFuture<Result<ReplyOutcome, PipelineError>>;

    fn handle(&mut self, msg: GenerateReply, _ctx: &mut Self::Context) -> Self::Result {
        self.counted(async move |responder| {
            let outcome = responder.reply(&msg.request).await;
            if let Some(reason) = outcome.fallback {
                tracing::warn!(
                    provider = responder.provider(),
                    reason = reason.as_str(),
                    "responder fell back to the built-in listener"
                );
            }
            outcome
        })
    }
}
