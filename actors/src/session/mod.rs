//! The actor of one active session: its state, its chat pipeline and its reads.

mod actor;
mod deps;
mod handoff;
mod lifecycle;
mod messages;
mod notice;
mod pipeline;
mod reads;
mod recovery;
mod state;
mod streaming;
mod view;

pub use actor::SessionActor;
pub use deps::SessionDeps;
pub use messages::*;
pub use notice::{Notice, NoticeKind, NoticeSettings, vietnam_hour};
pub use pipeline::SAFETY_MODEL;
pub use recovery::{Answered, RECOVERY_GRACE};
pub(crate) use state::SessionState;
pub use streaming::{PostMessageStreaming, ReplySink, StreamEvent};
pub use view::{ChatMessage, FeedbackReceipt, History, PostedMessage, SessionStatus};

/// Session-actor message type names asked through its mailbox, declared to the metrics at
/// startup (`HandoffChanged` is only ever sent, never asked, so it has no series).
pub const MESSAGE_TYPES: [&str; 11] = [
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
    "AnswerAwaiting",
];
