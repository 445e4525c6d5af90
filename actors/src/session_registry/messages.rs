//! The session registry's interface: one struct per message and its reply.

use crate::crypto::TokenHash;
use crate::domain::Language;
use crate::error::PipelineError;
use crate::mailbox::Mailbox;
use crate::persistence::SessionRecord;
use crate::session::SessionActor;
use actix::Message;
use uuid::Uuid;

/// A live session: its id and the bounded mailbox of its actor.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    /// The session's id.
    pub session_id: Uuid,
    /// Where to send its work.
    pub mailbox: Mailbox<SessionActor>,
}

/// Find the session of a token and its live actor, starting one if needed.
#[derive(Message)]
#[rtype(result = "Result<SessionHandle, PipelineError>")]
pub struct OpenSession {
    /// HMAC of the token.
    pub token_hash: TokenHash,
}

/// A new session and the token that names it (the only time the token exists server-side).
#[derive(Debug)]
pub struct CreatedSession {
    /// `anon_…`; returned to the client once, never stored or logged.
    pub token: String,
    /// The stored session.
    pub record: SessionRecord,
}

/// Open a new anonymous session.
#[derive(Message)]
#[rtype(result = "Result<CreatedSession, PipelineError>")]
pub struct CreateSession {
    /// Language of replies and crisis cards.
    pub language: Language,
}

/// Delete a session and everything of it, and stop its actor.
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct CloseSession {
    /// HMAC of the token.
    pub token_hash: TokenHash,
}

/// Stop the actors of sessions deleted elsewhere (janitor, another instance).
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct EvictSessions {
    /// Deleted session ids.
    pub ids: Vec<Uuid>,
    /// Announce the deletions to other instances (false when the news came from one).
    pub announce: bool,
}

/// The live actors of these sessions, starting those not live (the janitor's orphan sweep);
/// none while draining.
#[derive(Message)]
#[rtype(result = "Result<Vec<SessionHandle>, PipelineError>")]
pub struct WakeSessions {
    /// The sessions with their token hashes.
    pub sessions: Vec<(SessionRecord, [u8; 32])>,
}

/// A session's handoff changed (asked for, claimed, closed, left): its actor, if live here, is
/// told so that it reloads its copy at once. Fire and forget: nobody waits for the reload, and a
/// copy that misses it is still caught by the version check.
#[derive(Message)]
#[rtype(result = "()")]
pub struct HandoffChangedFor {
    /// The session.
    pub session_id: Uuid,
}

/// How many session actors are alive.
#[derive(Message)]
#[rtype(result = "Result<usize, PipelineError>")]
pub struct CountLiveSessions;

/// Refuse new work and stop every session actor (graceful shutdown).
#[derive(Message)]
#[rtype(result = "Result<(), PipelineError>")]
pub struct DrainSessions;
