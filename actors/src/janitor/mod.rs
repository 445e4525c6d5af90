//! The janitor: retention, health snapshots, crisis-rule reloads, answers for orphaned messages.

mod actor;
mod messages;

pub use actor::{JanitorActor, JanitorSettings};
pub use messages::{AnswerOrphans, ReloadRules, RunSweep, SweepReport, TakeSnapshot};

/// Message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 4] = ["RunSweep", "TakeSnapshot", "ReloadRules", "AnswerOrphans"];
