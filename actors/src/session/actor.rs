//! One actor per active session. It owns that session's state and handles its requests one at a
//! time (`AtomicResponse`), which is what makes a session's message order exact.

use super::deps::SessionDeps;
use super::messages::{
    ClearHistory, FetchMessage, GetStatus, ListHistory, PostMessage, RefreshSession, RemoveMessage,
    StopSession, SubmitFeedback, TouchSession,
};
use super::state::SessionState;
use super::view::{ChatMessage, FeedbackReceipt, History, PostedMessage, SessionStatus};
use super::{pipeline, reads};
use crate::crypto::{Aad, Purpose};
use crate::encryptor::SealRecords;
use crate::error::PipelineError;
use crate::persistence::messages::{
    DeleteMessage, DeleteMessages, InsertFeedback, LoadMessageStats,
    RefreshSession as StoreRefresh, TouchSession as StoreTouch,
};
use crate::persistence::{NewFeedback, StoreError, Timestamp};
use crate::telemetry::ActorKind;
use actix::{Actor, ActorContext, AtomicResponse, Context, Handler, WrapFuture};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Mutex;
use uuid::Uuid;

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
                let guard = state.lock().await;
                if guard.record.is_expired_at(Timestamp::now()) {
                    return Err(PipelineError::SessionExpired);
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
            pipeline::post_message(&deps, &mut state, msg.content).await
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
            let mut state = state.lock().await;
            let session_id = state.record.id;
            let deleted = deps
                .persistence
                .ask(DeleteMessage {
                    session_id,
                    id: msg.id,
                })
                .await?;
            if !deleted {
                return Err(PipelineError::MessageNotFound);
            }
            // The stored context went with it (it may quote the message).
            state.clear_turns();
            Ok(Timestamp::now())
        })
    }
}

impl Handler<ClearHistory> for SessionActor {
    type Result = AtomicResponse<Self, Result<(), PipelineError>>;

    fn handle(&mut self, _msg: ClearHistory, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            deps.persistence
                .ask(DeleteMessages {
                    session_id: state.record.id,
                })
                .await?;
            state.clear_turns();
            Ok(())
        })
    }
}

async fn status(deps: &SessionDeps, state: &SessionState) -> Result<SessionStatus, PipelineError> {
    let stats = deps
        .persistence
        .ask(LoadMessageStats {
            session_id: state.record.id,
        })
        .await?;
    let record = &state.record;
    Ok(SessionStatus {
        is_valid: true,
        is_expired: false,
        is_active: true,
        is_crisis_mode: record.is_crisis_mode,
        risk: record.risk_level,
        created_at: record.created_at,
        last_activity: record.last_activity,
        expires_at: record.expires_at,
        message_count: stats.total,
        language: record.language,
    })
}

impl Handler<GetStatus> for SessionActor {
    type Result = AtomicResponse<Self, Result<SessionStatus, PipelineError>>;

    fn handle(&mut self, _msg: GetStatus, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let state = state.lock().await;
            status(&deps, &state).await
        })
    }
}

impl Handler<TouchSession> for SessionActor {
    type Result = AtomicResponse<Self, Result<SessionStatus, PipelineError>>;

    fn handle(&mut self, _msg: TouchSession, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            let now = Timestamp::now();
            if !deps
                .persistence
                .ask(StoreTouch {
                    id: state.record.id,
                    now,
                })
                .await?
            {
                return Err(PipelineError::SessionNotFound);
            }
            state.record.last_activity = now;
            status(&deps, &state).await
        })
    }
}

impl Handler<RefreshSession> for SessionActor {
    type Result = AtomicResponse<Self, Result<SessionStatus, PipelineError>>;

    fn handle(&mut self, _msg: RefreshSession, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            let now = Timestamp::now();
            let expires_at = now.plus(deps.session_ttl);
            let id = state.record.id;
            if !deps
                .persistence
                .ask(StoreRefresh {
                    id,
                    now,
                    expires_at,
                })
                .await?
            {
                return Err(PipelineError::SessionNotFound);
            }
            state.record.last_activity = now;
            state.record.expires_at = expires_at;
            status(&deps, &state).await
        })
    }
}

impl Handler<SubmitFeedback> for SessionActor {
    type Result = AtomicResponse<Self, Result<FeedbackReceipt, PipelineError>>;

    fn handle(&mut self, msg: SubmitFeedback, _ctx: &mut Self::Context) -> Self::Result {
        self.serialised(move |deps, state| async move {
            let mut state = state.lock().await;
            state.ensure_loaded(&deps).await?;
            let session_id = state.record.id;
            let id = Uuid::new_v4();
            let text = match msg.text {
                Some(text) => {
                    let sealed = deps
                        .encryptor
                        .ask(SealRecords {
                            key: state.key()?.clone(),
                            records: vec![(
                                Aad::new(session_id, id, Purpose::FeedbackText),
                                text.into_bytes(),
                            )],
                        })
                        .await?;
                    sealed.into_iter().next()
                }
                None => None,
            };
            let feedback = NewFeedback {
                id,
                session_id,
                rating: msg.rating,
                category: msg.category,
                text,
                created_at: Timestamp::now(),
            };
            let receipt = FeedbackReceipt {
                id,
                session_id,
                rating: feedback.rating,
                category: feedback.category.clone(),
                created_at: feedback.created_at,
            };
            match deps.persistence.ask(InsertFeedback { feedback }).await {
                Ok(()) => Ok(receipt),
                Err(PipelineError::Store(StoreError::Conflict)) => {
                    Err(PipelineError::FeedbackExists)
                }
                Err(error) => Err(error),
            }
        })
    }
}

impl Handler<StopSession> for SessionActor {
    type Result = ();

    fn handle(&mut self, _msg: StopSession, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
