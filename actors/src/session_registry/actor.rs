//! The session supervisor (`simple_one_for_one` in OTP terms): maps sessions to their live
//! actors, starts one on demand, stops idle ones, and caps how many live at once (least recently
//! used first). It holds no durable state: a stopped session actor is simply started again.

use super::messages::{
    CloseSession, CountLiveSessions, CreateSession, CreatedSession, DrainSessions, EvictSessions,
    HandoffChangedFor, OpenSession, SessionHandle, WakeSessions,
};
use crate::crypto::{TokenHasher, generate_session_token};
use crate::encryptor::IssueDataKey;
use crate::error::PipelineError;
use crate::mailbox::{DepthGauge, Mailbox};
use crate::persistence::messages::{DeleteSession, FindSessionByToken, InsertSession};
use crate::persistence::{NewSession, SessionRecord, Timestamp};
use crate::session::{HandoffChanged, SessionActor, SessionDeps, SessionState, StopSession};
use crate::supervision::{Supervision, SystemHealth, supervised_actor};
use crate::telemetry::{ActorKind, DeleteReason};
use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, ResponseActFuture, ResponseFuture,
    WrapFuture,
};
use hashlink::LruCache;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How the registry manages session actors.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// Most session actors alive at once; past it the least recently used stops.
    pub max_live: usize,
    /// A session actor idle this long stops.
    pub idle_timeout: Duration,
    /// Requests a session may have in flight before it answers `overloaded`.
    pub session_mailbox_capacity: usize,
    /// How long the front door waits for a session actor's answer.
    pub request_timeout: Duration,
    /// Lifetime of a new session.
    pub session_ttl: Duration,
}

struct LiveSession {
    handle: SessionHandle,
    token_hash: [u8; 32],
    last_used: Instant,
}

/// Supervisor of the per-session actors.
pub struct SessionRegistry {
    deps: Arc<SessionDeps>,
    settings: RegistrySettings,
    hasher: Arc<TokenHasher>,
    by_token: HashMap<[u8; 32], Uuid>,
    /// Least recently used first. Unbounded: the registry evicts itself, because an evicted
    /// entry's actor must be told to stop.
    live: LruCache<Uuid, LiveSession>,
    session_depth: DepthGauge,
    draining: bool,
    supervision: Supervision,
}

impl SessionRegistry {
    /// A registry starting session actors with `deps`.
    pub fn new(
        deps: Arc<SessionDeps>,
        settings: RegistrySettings,
        hasher: Arc<TokenHasher>,
        health: SystemHealth,
    ) -> Self {
        let supervision = Supervision::new(ActorKind::Registry, deps.metrics.clone(), health);
        SessionRegistry {
            deps,
            settings,
            hasher,
            by_token: HashMap::new(),
            live: LruCache::new_unbounded(),
            session_depth: DepthGauge::default(),
            draining: false,
            supervision,
        }
    }

    fn lookup(&mut self, token_hash: &[u8; 32]) -> Option<SessionHandle> {
        let id = *self.by_token.get(token_hash)?;
        // `get_mut` also marks the session most recently used.
        match self.live.get_mut(&id) {
            Some(entry) if entry.handle.mailbox.connected() => {
                entry.last_used = Instant::now();
                Some(entry.handle.clone())
            }
            _ => {
                self.forget(id);
                None
            }
        }
    }

    fn forget(&mut self, id: Uuid) -> Option<LiveSession> {
        let entry = self.live.remove(&id)?;
        self.by_token.remove(&entry.token_hash);
        Some(entry)
    }

    fn stop(&mut self, id: Uuid) {
        if let Some(entry) = self.forget(id) {
            entry.handle.mailbox.addr().do_send(StopSession);
        }
    }

    /// Stops the least recently used session actor; false when none is live.
    fn evict_least_recently_used(&mut self) -> bool {
        let Some((_, entry)) = self.live.remove_lru() else {
            return false;
        };
        self.by_token.remove(&entry.token_hash);
        entry.handle.mailbox.addr().do_send(StopSession);
        true
    }

    fn start_session(&mut self, record: SessionRecord, token_hash: [u8; 32]) -> SessionHandle {
        while self.live.len() >= self.settings.max_live.max(1) {
            if !self.evict_least_recently_used() {
                break;
            }
        }
        let session_id = record.id;
        let addr = SessionActor::new(self.deps.clone(), SessionState::new(record)).start();
        let handle = SessionHandle {
            session_id,
            mailbox: Mailbox::new(
                addr,
                ActorKind::Session,
                self.settings.session_mailbox_capacity,
                self.settings.request_timeout,
                self.session_depth.clone(),
                self.deps.metrics.clone(),
            ),
        };
        self.by_token.insert(token_hash, session_id);
        self.live.insert(
            session_id,
            LiveSession {
                handle: handle.clone(),
                token_hash,
                last_used: Instant::now(),
            },
        );
        handle
    }

    fn stop_idle(&mut self) {
        let idle_timeout = self.settings.idle_timeout;
        let idle: Vec<Uuid> = self
            .live
            .iter()
            .filter(|(_, entry)| {
                !entry.handle.mailbox.connected()
                    || (entry.last_used.elapsed() >= idle_timeout
                        && entry.handle.mailbox.in_flight() == 0)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            self.stop(id);
        }
    }
}

impl Actor for SessionRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.supervision.started(ctx);
        let every = (self.settings.idle_timeout / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(30));
        ctx.run_interval(every, |act, _| act.stop_idle());
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.supervision.stopped();
    }
}

// The maps survive a restart (same struct), so live sessions keep their actors.
supervised_actor!(SessionRegistry);

impl Handler<OpenSession> for SessionRegistry {
    type Result = ResponseActFuture<Self, Result<SessionHandle, PipelineError>>;

    fn handle(&mut self, msg: OpenSession, _ctx: &mut Self::Context) -> Self::Result {
        if self.draining {
            return Box::pin(actix::fut::ready(Err(PipelineError::ShuttingDown)));
        }
        if let Some(handle) = self.lookup(msg.token_hash.as_bytes()) {
            return Box::pin(actix::fut::ready(Ok(handle)));
        }
        let persistence = self.deps.persistence.clone();
        let token_hash = msg.token_hash;
        Box::pin(
            async move { persistence.ask(FindSessionByToken { token_hash }).await }
                .into_actor(self)
                .map(move |found, act, _ctx| {
                    let record = found?.ok_or(PipelineError::SessionNotFound)?;
                    if record.is_expired_at(Timestamp::now()) {
                        return Err(PipelineError::SessionExpired);
                    }
                    if act.draining {
                        return Err(PipelineError::ShuttingDown);
                    }
                    // Another request may have started it while we were loading.
                    if let Some(handle) = act.lookup(token_hash.as_bytes()) {
                        return Ok(handle);
                    }
                    Ok(act.start_session(record, *token_hash.as_bytes()))
                }),
        )
    }
}

impl Handler<CreateSession> for SessionRegistry {
    type Result = ResponseFuture<Result<CreatedSession, PipelineError>>;

    fn handle(&mut self, msg: CreateSession, _ctx: &mut Self::Context) -> Self::Result {
        let deps = self.deps.clone();
        let hasher = self.hasher.clone();
        let ttl = self.settings.session_ttl;
        let draining = self.draining;
        Box::pin(async move {
            if draining {
                return Err(PipelineError::ShuttingDown);
            }
            let token = generate_session_token();
            let token_hash = hasher.hash(&token);
            let id = Uuid::new_v4();
            let (_key, wrapped_key) = deps.encryptor.ask(IssueDataKey { session_id: id }).await?;
            let created_at = Timestamp::now();
            let session = NewSession {
                id,
                token_hash,
                language: msg.language,
                created_at,
                expires_at: created_at.plus(ttl),
                wrapped_key,
            };
            deps.persistence
                .ask(InsertSession {
                    session: session.clone(),
                })
                .await?;
            deps.metrics.session_created();
            tracing::info!(session_id = %id, language = msg.language.as_str(), "session created");
            let record = SessionRecord {
                id,
                language: session.language,
                is_crisis_mode: false,
                risk_level: crate::crisis::RiskLevel::None,
                last_activity: created_at,
                expires_at: session.expires_at,
                created_at,
            };
            Ok(CreatedSession { token, record })
        })
    }
}

impl Handler<CloseSession> for SessionRegistry {
    type Result = ResponseActFuture<Self, Result<(), PipelineError>>;

    fn handle(&mut self, msg: CloseSession, _ctx: &mut Self::Context) -> Self::Result {
        let persistence = self.deps.persistence.clone();
        let metrics = self.deps.metrics.clone();
        let token_hash = msg.token_hash;
        let known = self.by_token.get(token_hash.as_bytes()).copied();
        Box::pin(
            async move {
                // Erasure is honoured even for an expired session: privacy before tidiness.
                let id = match known {
                    Some(id) => id,
                    None => {
                        persistence
                            .ask(FindSessionByToken { token_hash })
                            .await?
                            .ok_or(PipelineError::SessionNotFound)?
                            .id
                    }
                };
                if !persistence.ask(DeleteSession { id, token_hash }).await? {
                    return Err(PipelineError::SessionNotFound);
                }
                metrics.session_deleted(DeleteReason::User);
                tracing::info!(session_id = %id, "session deleted by its user");
                Ok(id)
            }
            .into_actor(self)
            .map(|deleted, act, _ctx| {
                let id = deleted?;
                act.stop(id);
                let _ = act.deps.deletions.send(id);
                Ok(())
            }),
        )
    }
}

impl Handler<EvictSessions> for SessionRegistry {
    type Result = Result<(), PipelineError>;

    fn handle(&mut self, msg: EvictSessions, _ctx: &mut Self::Context) -> Self::Result {
        for id in msg.ids {
            self.stop(id);
            if msg.announce {
                let _ = self.deps.deletions.send(id);
            }
        }
        Ok(())
    }
}

impl Handler<WakeSessions> for SessionRegistry {
    type Result = Result<Vec<SessionHandle>, PipelineError>;

    fn handle(&mut self, msg: WakeSessions, _ctx: &mut Self::Context) -> Self::Result {
        if self.draining {
            return Ok(Vec::new());
        }
        let now = Timestamp::now();
        Ok(msg
            .sessions
            .into_iter()
            .filter(|(record, _)| !record.is_expired_at(now))
            .map(|(record, token_hash)| match self.lookup(&token_hash) {
                Some(handle) => handle,
                None => self.start_session(record, token_hash),
            })
            .collect())
    }
}

impl Handler<HandoffChangedFor> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: HandoffChangedFor, _ctx: &mut Self::Context) {
        // `peek`: a change made by staff is not the person using their session.
        if let Some(entry) = self.live.peek(&msg.session_id) {
            entry.handle.mailbox.addr().do_send(HandoffChanged);
        }
    }
}

impl Handler<CountLiveSessions> for SessionRegistry {
    type Result = Result<usize, PipelineError>;

    fn handle(&mut self, _msg: CountLiveSessions, _ctx: &mut Self::Context) -> Self::Result {
        self.live
            .retain(|_, entry| entry.handle.mailbox.connected());
        let live_tokens: std::collections::HashSet<Uuid> =
            self.live.iter().map(|(id, _)| *id).collect();
        self.by_token.retain(|_, id| live_tokens.contains(id));
        Ok(self.live.len())
    }
}

impl Handler<DrainSessions> for SessionRegistry {
    type Result = Result<(), PipelineError>;

    fn handle(&mut self, _msg: DrainSessions, _ctx: &mut Self::Context) -> Self::Result {
        self.draining = true;
        let ids: Vec<Uuid> = self.live.iter().map(|(id, _)| *id).collect();
        for id in ids {
            // Queued behind any pipeline in flight, so those finish first.
            self.stop(id);
        }
        Ok(())
    }
}
