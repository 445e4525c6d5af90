//! The responder actor: produces assistant replies through the configured provider, many at a
//! time (a model call is I/O, so requests run concurrently rather than one by one).

mod actor;
mod messages;

pub use actor::ResponderActor;
pub use messages::GenerateReply;

mod streaming;

pub use streaming::GenerateReplyStreaming;

/// Message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 2] = ["GenerateReply", "GenerateReplyStreaming"];
