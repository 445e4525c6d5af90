//! The encryptor pool: AES-256-GCM sealing and key wrapping off the I/O threads.

mod actor;
mod messages;

pub use actor::EncryptorActor;
pub use messages::{IssueDataKey, OpenRecords, SealRecords, UnwrapDataKey};

/// Message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 4] = [
    "SealRecords",
    "OpenRecords",
    "IssueDataKey",
    "UnwrapDataKey",
];
