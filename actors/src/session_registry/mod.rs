//! The session supervisor (`simple_one_for_one` in OTP terms): one actor per active session,
//! started on demand and stopped when idle, deleted or evicted.

mod actor;
mod messages;

pub use actor::{RegistrySettings, SessionRegistry};
pub use messages::{
    CloseSession, CountLiveSessions, CreateSession, CreatedSession, DrainSessions, EvictSessions,
    HandoffChangedFor, OpenSession, SessionHandle, WakeSessions,
};

/// Registry message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 7] = [
    "OpenSession",
    "CreateSession",
    "CloseSession",
    "EvictSessions",
    "CountLiveSessions",
    "DrainSessions",
    "WakeSessions",
];
