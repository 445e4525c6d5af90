//! `GET /api/v1/events`: a session's event stream — `message.created` for every message added to
//! the session by anyone (a counsellor's with `"role": "counsellor"`), `session.updated` when its
//! risk or crisis mode changes, `handoff.updated` when its handoff to a counsellor changes,
//! `session.ended` when it is gone — with a comment heartbeat, resumable with `Last-Event-ID`.
//!
//! An event's id is `seq × 1000 + n`: the sequence number of the session's latest message shown,
//! and the count of status events since it (0 for the message itself). The sequence number is
//! durable, so a client that reconnects to another instance resumes where it left off: every
//! message after that sequence number is sent again; status events are not replayed (the session
//! status endpoint answers the current state).
//!
//! A change only tells a stream *that* something happened; the stream reads the messages itself,
//! through the session's actor, with a tail read of the history after the last sequence number it
//! showed. So out-of-order news, news dropped by a slow stream and a read that failed all end in
//! the same catch-up, and nothing is shown twice.

use super::error::ApiError;
use super::event_stream::{Outbox, Relay, frame, last_event_id, next_event, response};
use super::handoff::views::HandoffView;
use super::live_session::LiveSession;
use super::state::AppState;
use super::token_from_query;
use super::views::{ChatMessage, SessionStatus};
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::crypto::TokenHash;
use cbln_actors::error::PipelineError;
use cbln_actors::persistence::messages::LoadSessionHandoff;
use cbln_actors::session::{self, GetStatus, ListHistory};
use cbln_actors::session_events::SessionChange;
use cbln_actors::system::ActorSystem;
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// Status events that may follow one message before their ids would reach the next message's.
const STATUS_EVENTS_PER_MESSAGE: u64 = 999;
/// History page size for the catch-up reads (the history endpoint's largest).
const PAGE: i64 = super::messages::MAX_HISTORY_PAGE;

/// Stream the session's events.
///
/// Events: `message.created` (data: the Message, as the history shows it), `session.updated`
/// (data: the session status, as `GET /sessions/{token}` shows it, after a change of risk or
/// crisis mode), `session.ended` (data: `{"reason": "deleted"|"expired"}`; the stream then ends).
/// A `: heartbeat` comment comes every 15 s. Ids increase (`seq × 1000 + n`); with
/// `Last-Event-ID` every message after that event is sent first.
#[utoipa::path(get, path = "/api/v1/events",
    params(("Last-Event-ID" = Option<u64>, Header, minimum = 0, maximum = 18_446_744_073_709_551_615_u64, description = "Resume after this event (an `id:` this stream gave)")),
    security(("bearer" = []), ("session_id" = []), ("session_token" = [])),
    responses((status = 200, description = "Server-sent events, each with an increasing `id:` — `message.created` (data: Message), `session.updated` (data: SessionStatus), `handoff.updated` (data: HandoffView, when the session's handoff to a counsellor changes), `session.ended` (data: `{\"reason\": \"deleted\"|\"expired\"}`; the stream then ends) — and a `: heartbeat` comment every 15 s. The stream does not end by itself.",
                  content_type = "text/event-stream", body = String)), tag = "messages")]
pub async fn stream(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = token_from_query(&request)?;
    let resume_after = last_event_id(&request)?;
    let token_hash = state.system.token_hasher.hash(&token);
    // Listening starts before the first read, so nothing committed in between is missed.
    let changes = state.events.subscribe();
    let session = LiveSession::open(&state.system.registry, token_hash).await?;
    let mut connection = Connection {
        system: state.system.clone(),
        token_hash,
        session_id: session.session_id,
        outbox: Outbox::new(changes, state.event_heartbeat),
        last_seq: 0,
        status_events: 0,
        catch_up_pending: false,
    };
    match resume_after {
        Some(id) => {
            connection.last_seq = i64::try_from(id / 1000).unwrap_or(i64::MAX);
            connection.status_events = id % 1000;
            let missed = messages_after(&session, connection.last_seq).await?;
            connection.show(missed);
        }
        None => connection.last_seq = latest_seq(&session).await?,
    }
    Ok(response(futures_util::stream::unfold(
        connection, next_event,
    )))
}

async fn page(
    session: &LiveSession,
    limit: i64,
    offset: i64,
) -> Result<session::History, PipelineError> {
    session.ask(ListHistory { limit, offset }).await
}

/// The sequence number of the session's latest message (0 when it has none).
async fn latest_seq(session: &LiveSession) -> Result<i64, ApiError> {
    let total = page(session, 1, 0).await?.total_count;
    if total == 0 {
        return Ok(0);
    }
    let last = page(session, 1, total - 1).await?;
    Ok(last.messages.last().map_or(0, |m| m.seq))
}

/// The session's messages after sequence number `after`, oldest first, read from the end of the
/// history backwards (usually one page).
async fn messages_after(
    session: &LiveSession,
    after: i64,
) -> Result<Vec<session::ChatMessage>, PipelineError> {
    let total = page(session, 1, 0).await?.total_count;
    let mut offset = total;
    let mut newer: Vec<session::ChatMessage> = Vec::new();
    while offset > 0 {
        offset = (offset - PAGE).max(0);
        let mut messages = page(session, PAGE, offset).await?.messages;
        let reached_older = messages.first().is_some_and(|m| m.seq <= after);
        messages.retain(|m| m.seq > after);
        messages.append(&mut newer);
        newer = messages;
        if reached_older {
            break;
        }
    }
    Ok(newer)
}

/// One open stream.
struct Connection {
    system: Arc<ActorSystem>,
    token_hash: TokenHash,
    session_id: Uuid,
    outbox: Outbox,
    /// The sequence number of the latest message shown (or known when the stream began).
    last_seq: i64,
    /// Status events shown since that message.
    status_events: u64,
    /// A read failed: try again at the next heartbeat.
    catch_up_pending: bool,
}

impl Relay for Connection {
    fn outbox(&mut self) -> &mut Outbox {
        &mut self.outbox
    }

    async fn before_heartbeat(&mut self) {
        if self.catch_up_pending {
            self.catch_up().await;
        }
    }

    async fn changed(&mut self, change: Option<SessionChange>) {
        match change {
            Some(change) if change.session_id() != self.session_id => {}
            Some(SessionChange::MessageCreated { seq, .. }) => {
                if seq > self.last_seq {
                    self.catch_up().await;
                }
            }
            Some(SessionChange::Updated { .. }) => self.status().await,
            Some(SessionChange::Ended { .. }) => self.end("deleted"),
            Some(SessionChange::Handoff { .. }) => self.handoff().await,
            None => self.catch_up().await,
        }
    }
}

impl Connection {
    fn event_id(&self) -> u64 {
        u64::try_from(self.last_seq).unwrap_or(0) * 1000 + self.status_events
    }

    fn show(&mut self, messages: Vec<session::ChatMessage>) {
        for message in messages {
            self.last_seq = message.seq;
            self.status_events = 0;
            let id = self.event_id();
            self.outbox
                .queue
                .push_back(frame(id, "message.created", &ChatMessage::from(message)));
        }
    }

    /// An event about the session rather than a message: its id counts on from the latest
    /// message's.
    fn push_status_event(&mut self, name: &str, data: &impl serde::Serialize) {
        self.status_events = (self.status_events + 1).min(STATUS_EVENTS_PER_MESSAGE);
        let id = self.event_id();
        self.outbox.queue.push_back(frame(id, name, data));
    }

    fn end(&mut self, reason: &str) {
        self.push_status_event("session.ended", &json!({ "reason": reason }));
        self.outbox.ended = true;
    }

    /// Ends the stream when the session is gone; otherwise a later heartbeat tries again.
    fn failed(&mut self, error: PipelineError) {
        match error {
            PipelineError::SessionNotFound => self.end("deleted"),
            PipelineError::SessionExpired => self.end("expired"),
            error => {
                tracing::warn!(session_id = %self.session_id, error = %error, "event stream could not read the session; retrying");
                self.catch_up_pending = true;
            }
        }
    }

    async fn catch_up(&mut self) {
        let read = async {
            let session = LiveSession::open(&self.system.registry, self.token_hash).await?;
            messages_after(&session, self.last_seq).await
        };
        match read.await {
            Ok(messages) => {
                self.catch_up_pending = false;
                self.show(messages);
            }
            Err(error) => self.failed(error),
        }
    }

    /// The session's handoff as it now stands (no place in the queue: `GET /handoff` has it).
    async fn handoff(&mut self) {
        let read = self.system.persistence.ask(LoadSessionHandoff {
            session_id: self.session_id,
        });
        match read.await {
            Ok(Some(record)) => {
                self.push_status_event("handoff.updated", &HandoffView::new(&record, None))
            }
            Ok(None) => {}
            Err(error) => self.failed(error),
        }
    }

    async fn status(&mut self) {
        let read = async {
            let session = LiveSession::open(&self.system.registry, self.token_hash).await?;
            session.ask(GetStatus).await
        };
        match read.await {
            Ok(status) => self.push_status_event("session.updated", &SessionStatus::from(status)),
            Err(error) => self.failed(error),
        }
    }
}
