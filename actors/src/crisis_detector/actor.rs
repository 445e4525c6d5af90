//! One worker of the crisis-detector pool, on a `SyncArbiter`: judging is pure CPU work.

use super::messages::Assess;
use super::shared::SharedDetector;
use crate::crisis::{Judgement, Layers, RiskModel};
use crate::error::PipelineError;
use crate::supervision::{PoolRestarts, pool_worker_actor};
use crate::telemetry::{ActorKind, Metrics};
use actix::Handler;
use std::sync::Arc;

/// One worker of the detector pool.
pub struct CrisisDetectorActor {
    shared: SharedDetector,
    model: Arc<RiskModel>,
    metrics: Metrics,
    restarts: PoolRestarts,
}

impl CrisisDetectorActor {
    /// A worker reading the shared rules and the model.
    pub fn new(
        shared: SharedDetector,
        model: Arc<RiskModel>,
        metrics: Metrics,
        restarts: PoolRestarts,
    ) -> Self {
        CrisisDetectorActor {
            shared,
            model,
            metrics,
            restarts,
        }
    }
}

pool_worker_actor!(CrisisDetectorActor, ActorKind::CrisisDetector);

impl Handler<Assess> for CrisisDetectorActor {
    type Result = Result<Judgement, PipelineError>;

    fn handle(&mut self, msg: Assess, _ctx: &mut Self::Context) -> Self::Result {
        let detector =
            self.shared
                .detector()
                .ok_or(PipelineError::Ask(crate::mailbox::AskError::Stopped(
                    "crisis_detector",
                )))?;
        let layers = Layers {
            rules: &detector,
            model: &self.model,
        };
        Ok(layers.judge(&msg.text, &msg.earlier, msg.prior))
    }
}
