//! The crisis-detector pool: judging a message with the rules and the learned model is pure CPU
//! work on a `SyncArbiter`. The compiled rules are shared by every worker and swapped atomically
//! when the rule set changes in the database, so a new rule applies without a restart; the model
//! is fixed for the life of the process.

use crate::crisis::{
    CrisisDetector, Judgement, Layers, RiskLevel, RiskModel, RuleKind, RuleSpec, Severity,
};
use crate::error::PipelineError;
use crate::persistence::RuleRecord;
use crate::supervision::PoolRestarts;
use crate::telemetry::{ActorKind, Metrics};
use actix::{Actor, Handler, Message, SyncContext};
use std::sync::{Arc, RwLock};

/// Message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 1] = ["Assess"];

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

/// The compiled rules every worker reads, and the fingerprint of the rule set they came from.
#[derive(Clone)]
pub struct SharedDetector {
    current: Arc<RwLock<(Arc<CrisisDetector>, String)>>,
}

impl SharedDetector {
    /// Starts with `detector`, compiled from the rule set with `fingerprint`.
    pub fn new(detector: CrisisDetector, fingerprint: String) -> Self {
        SharedDetector {
            current: Arc::new(RwLock::new((Arc::new(detector), fingerprint))),
        }
    }

    /// The detector in force.
    pub fn detector(&self) -> Option<Arc<CrisisDetector>> {
        self.current.read().ok().map(|guard| guard.0.clone())
    }

    /// The fingerprint of the rule set in force.
    pub fn fingerprint(&self) -> String {
        self.current
            .read()
            .map(|guard| guard.1.clone())
            .unwrap_or_default()
    }

    /// Replaces the detector for every worker at once.
    pub fn replace(&self, detector: CrisisDetector, fingerprint: String) {
        if let Ok(mut guard) = self.current.write() {
            *guard = (Arc::new(detector), fingerprint);
        }
    }
}

/// Converts stored rows into rule specs; a row that cannot be understood is an error naming it.
pub fn specs_from_records(records: &[RuleRecord]) -> Result<Vec<RuleSpec>, String> {
    records
        .iter()
        .map(|record| {
            let kind = RuleKind::parse(&record.kind).ok_or_else(|| {
                format!("rule {}: unknown kind {:?}", record.rule_id, record.kind)
            })?;
            let severity = match &record.severity {
                Some(text) => Some(Severity::parse(text).ok_or_else(|| {
                    format!("rule {}: unknown severity {:?}", record.rule_id, text)
                })?),
                None => None,
            };
            Ok(RuleSpec {
                rule_id: record.rule_id.clone(),
                pattern: record.pattern.clone(),
                category: record.category.clone(),
                severity,
                language: record.language.clone(),
                kind,
                enabled: record.enabled,
            })
        })
        .collect()
}

/// Compiles stored rows into a detector; the error names the rule or the problem.
pub fn compile_records(records: &[RuleRecord]) -> Result<CrisisDetector, String> {
    let specs = specs_from_records(records)?;
    CrisisDetector::compile(&specs).map_err(|error| error.to_string())
}

/// Converts rule specs into rows (seeding, `cbln keywords add`).
pub fn records_from_specs(specs: &[RuleSpec]) -> Vec<RuleRecord> {
    specs
        .iter()
        .map(|spec| RuleRecord {
            rule_id: spec.rule_id.clone(),
            pattern: spec.pattern.clone(),
            category: spec.category.clone(),
            severity: spec.severity.map(|s| s.as_str().to_string()),
            language: spec.language.clone(),
            kind: spec.kind.as_str().to_string(),
            enabled: spec.enabled,
        })
        .collect()
}

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

impl Actor for CrisisDetectorActor {
    type Context = SyncContext<Self>;

    fn started(&mut self, _ctx: &mut Self::Context) {
        self.metrics.add_actors_live(ActorKind::CrisisDetector, 1);
        self.restarts.worker_started();
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.metrics.add_actors_live(ActorKind::CrisisDetector, -1);
    }
}

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
