//! One actor per active session. It caches that session's state and handles this instance's
//! requests for it one at a time (`AtomicResponse`); the database orders writes from all
//! instances (see `state`).

use super::deps::SessionDeps;
use super::messages::{
    AnswerAwaiting, ClearHistory, FetchMessage, GetStatus, HandoffChanged, ListHistory,
    PostMessage, RefreshSession, RemoveMessage, StopSession, SubmitFeedback, TouchSession,
};
use super::state::SessionState;
use super::view::{ChatMessage, FeedbackReceipt, History, PostedMessage, SessionStatus};
use super::{lifecycle, pipeline, reads};
use crate::error::PipelineError;
use crate::persistence::Timestamp;
use crate::telemetry::ActorKind;
use actix::{Actor, ActorContext, AtomicResponse, Context, Handler, WrapFuture};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The actor of one active session.
pub struct SessionActor {
    deps: Arc<SessionDeps>,
    state: Arc<Mutex<SessionState>>,
}

impl SessionActor {
    /// An actor for the session `state` describes.
    pub fn new(deps: Arc<SessionDeps>, state: SessionState) -> Self {
        SessionActor {
            deps,
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Runs `work` with exclusive access to the state, after checking the session is usable;
    /// the actor takes no other message until it finishes.
    pub(super) fn serialised<T, F, Fut>(
        &self,
        work: F,
    ) -> AtomicResponse<Self, Result<T, PipelineError>>
    where
        T: 'static,
        F: FnOnce(Arc<SessionDeps>, Arc<Mutex<SessionState>>) -> Fut + 'static,
        Fut: Future<Output = Result<T, PipelineError>> + 'static,
    {
        let deps = self.deps.clone();
        let state = self.state.clone();
        let checked = async move {
            {
                let mut guard = state.lock().await;
                if guard.record.is_expired_at(Timestamp::now()) {
                    // Another instance may have extended the session: ask the row, not the copy.
                    guard.revalidate(&deps).await?;
                    if guard.record.is_expired_at(Timestamp::now()) {
                        return Err(PipelineError::SessionExpired);
                    }
                }
            }
            work(deps, state).await
        };
        AtomicResponse::new(Box::pin(checked.into_actor(self)))
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.deps.metrics.add_actors_live(ActorKind::Session, 1);
        // The `Mailbox` gate bounds requests in flight; actix's own small default would make
        // callers park before the gate can answer `overloaded`.
        ctx.set_mailbox_capacity(crate::mailbox::ACTIX_MAILBOX_CAPACITY);
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.deps.metrics.add_actors_live(ActorKind::Session, -1);
    }
}

/// Implements `Handler<$message>` by running `$work` through [`SessionActor::serialised`], with
/// `$deps` and `$state` (the locked state) in scope; a trait impl per message, hence a macro.
macro_rules! serialised_handlers {
    ($($message:ident($msg:pat) -> $reply:ty = |$deps:ident, $state:ident| $work:expr;)*) => {$(
        impl Handler<$message> for SessionActor {
            type Result = AtomicResponse<Self, Result<$reply, PipelineError>>;

            fn handle(&mut self, $msg: $message, _ctx: &mut Self::Context) -> Self::Result {
                self.serialised(move |$deps, state| async move {
                    let mut guard = state.lock().await;
                    let $state = &mut *guard;
                    $work.await
                })
            }
        }
    )*};
}

serialised_handlers! {
    PostMessage(msg) -> PostedMessage =
        |deps, state| pipeline::post_message(&deps, state, msg.content.into_string());
    ListHistory(msg) -> History = |deps, state| reads::history(&deps, state, msg.limit, msg.offset);
    FetchMessage(msg) -> ChatMessage = |deps, state| reads::one(&deps, state, msg.id);
    RemoveMessage(msg) -> Timestamp = |deps, state| lifecycle::remove_message(&deps, state, msg.id);
    ClearHistory(_) -> () = |deps, state| lifecycle::clear_history(&deps, state);
    GetStatus(_) -> SessionStatus = |deps, state| lifecycle::status(&deps, state);
    TouchSession(_) -> SessionStatus = |deps, state| lifecycle::touch(&deps, state);
    RefreshSession(_) -> SessionStatus = |deps, state| lifecycle::refresh(&deps, state);
    SubmitFeedback(msg) -> FeedbackReceipt = |deps, state| {
        lifecycle::submit_feedback(&deps, state, msg.rating, msg.category, msg.text)
    };
    AnswerAwaiting(_) -> Vec<super::recovery::Answered> = |deps, state| state.answer_orphans(&deps);
}

impl Handler<HandoffChanged> for SessionActor {
    type Result = AtomicResponse<Self, Result<(), PipelineError>>;

    fn handle(&mut self, _msg: HandoffChanged, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            state.lock().await.handoff_changed(&deps).await;
            Ok(())
        })
    }
}

impl Handler<StopSession> for SessionActor {
    type Result = ();

    fn handle(&mut self, _msg: StopSession, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
