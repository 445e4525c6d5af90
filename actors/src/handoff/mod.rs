//! Handoff to a counsellor, on the young person's terms: what a handoff is, what it shares, and how
//! that is sealed. Pure domain: no actix, no storage.
//!
//! Everything a counsellor may read (the shared material, then the conversation after the claim)
//! is sealed under a key of the handoff's own, wrapped by the master key like a session's data
//! key. Staff never need the session's key, and destroying the handoff's key (when it closes,
//! after a short retention) leaves nothing of it readable.

mod seal;
mod summary;
mod types;

pub use seal::{HandoffKey, entry_aad};
pub use summary::draft_summary;
pub use types::{
    EntryRole, HandoffEntry, HandoffRecord, HandoffStatus, NewHandoff, Outcome, QueueFigures,
    SealedEntry, Share, estimated_wait_s,
};
