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

impl Handler<PostMessage> for SessionActor {
    type Result = AtomicResponse<Self, Result<PostedMessage, PipelineError>>;

    fn handle(&mut self, msg: PostMessage, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            pipeline::post_message(&deps, &mut state, msg.content.into_string()).await
        })
    }
}

impl Handler<ListHistory> for SessionActor {
    type Result = AtomicResponse<Self, Result<History, PipelineError>>;

    fn handle(&mut self, msg: ListHistory, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            reads::history(&deps, &mut state, msg.limit, msg.offset).await
        })
    }
}

impl Handler<FetchMessage> for SessionActor {
    type Result = AtomicResponse<Self, Result<ChatMessage, PipelineError>>;

    fn handle(&mut self, msg: FetchMessage, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            reads::one(&deps, &mut state, msg.id).await
        })
    }
}

impl Handler<RemoveMessage> for SessionActor {
    type Result = AtomicResponse<Self, Result<Timestamp, PipelineError>>;

    fn handle(&mut self, msg: RemoveMessage, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            lifecycle::remove_message(&deps, &mut *state.lock().await, msg.id).await
        })
    }
}

impl Handler<ClearHistory> for SessionActor {
    type Result = AtomicResponse<Self, Result<(), PipelineError>>;

    fn handle(&mut self, _msg: ClearHistory, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            lifecycle::clear_history(&deps, &mut *state.lock().await).await
        })
    }
}

impl Handler<GetStatus> for SessionActor {
    type Result = AtomicResponse<Self, Result<SessionStatus, PipelineError>>;

    fn handle(&mut self, _msg: GetStatus, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            lifecycle::status(&deps, &mut *state.lock().await).await
        })
    }
}

impl Handler<TouchSession> for SessionActor {
    type Result = AtomicResponse<Self, Result<SessionStatus, PipelineError>>;

    fn handle(&mut self, _msg: TouchSession, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            lifecycle::touch(&deps, &mut *state.lock().await).await
        })
    }
}

impl Handler<RefreshSession> for SessionActor {
    type Result = AtomicResponse<Self, Result<SessionStatus, PipelineError>>;

    fn handle(&mut self, _msg: RefreshSession, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            lifecycle::refresh(&deps, &mut *state.lock().await).await
        })
    }
}

impl Handler<SubmitFeedback> for SessionActor {
    type Result = AtomicResponse<Self, Result<FeedbackReceipt, PipelineError>>;

    fn handle(&mut self, msg: SubmitFeedback, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            lifecycle::submit_feedback(&deps, &mut state, msg.rating, msg.category, msg.text).await
        })
    }
}

impl Handler<AnswerAwaiting> for SessionActor {
    type Result = AtomicResponse<Self, Result<Vec<super::recovery::Answered>, PipelineError>>;

    fn handle(&mut self, _msg: AnswerAwaiting, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(
            move |deps, state| async move { state.lock().await.answer_orphans(&deps).await },
        )
    }
}

impl Handler<HandoffChanged> for SessionActor {
    type Result = AtomicResponse<Self, Result<(), PipelineError>>;

    fn handle(&mut self, _msg: HandoffChanged, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |_deps, state| async move {
            state.lock().await.mark_stale();
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
