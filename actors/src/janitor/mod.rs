//! The janitor: retention, health snapshots, crisis-rule reloads.

mod actor;
mod messages;

pub use actor::{JanitorActor, JanitorSettings};
pub use messages::{ReloadRules, RunSweep, SweepReport, TakeSnapshot};

/// Message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 3] = ["RunSweep", "TakeSnapshot", "ReloadRules"];
