//! Sessions: the registry that supervises one actor per active session, and that actor.

mod actor;
mod deps;
mod messages;
mod notice;
mod pipeline;
mod reads;
mod registry;
mod state;
mod streaming;
mod view;

pub use actor::SessionActor;
pub use deps::SessionDeps;
pub use messages::*;
pub use notice::{Notice, NoticeKind, NoticeSettings, vietnam_hour};
pub use pipeline::SAFETY_MODEL;
pub use registry::{RegistrySettings, SessionRegistry};
pub use streaming::{PostMessageStreaming, ReplySink, StreamEvent};
pub use view::{ChatMessage, FeedbackReceipt, History, PostedMessage, SessionStatus};

/// Session-actor message type names, declared to the metrics at startup.
pub const SESSION_MESSAGE_TYPES: [&str; 10] = [
    "PostMessage",
    "PostMessageStreaming",
    "ListHistory",
    "FetchMessage",
    "RemoveMessage",
    "ClearHistory",
    "GetStatus",
    "TouchSession",
    "RefreshSession",
    "SubmitFeedback",
];

/// Registry message type names, declared to the metrics at startup.
pub const REGISTRY_MESSAGE_TYPES: [&str; 6] = [
    "OpenSession",
    "CreateSession",
    "CloseSession",
    "EvictSessions",
    "CountLiveSessions",
    "DrainSessions",
];
