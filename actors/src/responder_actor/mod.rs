//! The responder actor: produces assistant replies through the configured provider, many at a
//! time (a model call is I/O, so requests run concurrently rather than one by one).

mod actor;
mod messages;

pub use actor::ResponderActor;
pub use messages::GenerateReply;

/// Message type names, declared to the metrics at startup.
pub const MESSAGE_TYPES: [&str; 1] = ["GenerateReply"];
