//! The session a request names, and the one way the front door asks its actor.
//!
//! Between the registry's answer and the request reaching the actor, the actor may stop: another
//! request deleted the session, or the registry evicted it (idle, least recently used, deleted on
//! another instance). "Not running" then says nothing about the session itself, so the session is
//! looked up once more and the request goes to whatever now stands for it: a new actor, or
//! `session_not_found` when it is gone.

use actix::dev::ToEnvelope;
use actix::{Actor, Handler, Message};
use cbln_actors::crypto::TokenHash;
use cbln_actors::error::PipelineError;
use cbln_actors::mailbox::{AskError, Mailbox};
use cbln_actors::session::SessionActor;
use cbln_actors::session_registry::{OpenSession, SessionHandle, SessionRegistry};
use uuid::Uuid;

/// A session's live actor, with what is needed to find it again.
#[derive(Clone)]
pub struct LiveSession {
    /// The session's id.
    pub session_id: Uuid,
    handle: SessionHandle,
    token_hash: TokenHash,
    registry: Mailbox<SessionRegistry>,
}

impl LiveSession {
    /// The session `token_hash` names, its actor started if needed.
    pub async fn open(
        registry: &Mailbox<SessionRegistry>,
        token_hash: TokenHash,
    ) -> Result<Self, PipelineError> {
        let handle = registry.ask(OpenSession { token_hash }).await?;
        Ok(LiveSession {
            session_id: handle.session_id,
            handle,
            token_hash,
            registry: registry.clone(),
        })
    }

    /// Asks the session's actor. An actor takes `StopSession` only between two requests (each
    /// holds it until answered), so a request that finds it stopped never ran and can be sent
    /// again without doing anything twice: once, to the actor the registry names now.
    pub async fn ask<M, T>(&self, message: M) -> Result<T, PipelineError>
    where
        M: Message<Result = Result<T, PipelineError>> + Clone + Send + 'static,
        T: Send + 'static,
        SessionActor: Handler<M>,
        <SessionActor as Actor>::Context: ToEnvelope<SessionActor, M>,
    {
        match self.handle.mailbox.ask(message.clone()).await {
            Err(PipelineError::Ask(AskError::Stopped(_))) => {
                let again = Self::open(&self.registry, self.token_hash).await?;
                again.handle.mailbox.ask(message).await
            }
            answer => answer,
        }
    }
}
