//! The crisis-detector pool: judging a message with the rules and the learned model is pure CPU
//! work on a `SyncArbiter`. The compiled rules are shared by every worker and swapped atomically
//! when the rule set changes in the database, so a new rule applies without a restart; the model
//! is fixed for the life of the process.

mod actor;
mod messages;
mod records;
mod shared;

pub use actor::CrisisDetectorActor;
pub use messages::Assess;
pub use records::{compile_records, records_from_specs, specs_from_records};
pub use shared::SharedDetector;

/// Message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 1] = ["Assess"];
