//! `GET /api/v1/staff/events`: a counsellor's event stream — `queue.changed` (`{"queued"}`, no
//! content) whenever the queue may have changed, `handoff.updated` when one of their handoffs
//! changes (the person left, the risk rose), and `handoff.message` for every new message in their
//! handoffs — on every instance, through the session-change hub (and Redis between instances).
//!
//! Like the young person's stream, a change only says *that* something happened; the stream
//! reads the handoff itself, so a change relayed from another instance needs nothing else.

use super::sealing::read_entries;
use super::staff_views::{EntryView, StaffHandoffView};
use crate::http::error::ApiError;
use crate::http::event_stream::{Wake, frame, heartbeat, heartbeat_timer, next_wake, response};
use crate::http::openapi;
use crate::http::staff::{StaffPrincipal, StaffRole};
use crate::http::state::AppState;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpResponse, web};
use cbln_actors::handoff::HandoffStatus;
use cbln_actors::persistence::Timestamp;
use cbln_actors::persistence::messages::{LoadQueueFigures, LoadSessionHandoff};
use cbln_actors::session_events::SessionChange;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use tokio::sync::broadcast;
use tokio::time::Interval;
use uuid::Uuid;

/// Stream queue changes and the messages of the caller's handoffs.
#[utoipa::path(get, path = "/api/v1/staff/events",
    responses((status = 200, description = "Server-sent events: `queue.changed`, `handoff.updated`, `handoff.message`", content_type = "text/event-stream", body = String),
              (status = 401, response = openapi::StaffUnauthorized),
              (status = 403, response = openapi::Forbidden)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn stream(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
) -> Result<HttpResponse, ApiError> {
    principal.require(StaffRole::Counsellor)?;
    // Listening starts before the first read, so nothing in between is missed.
    let changes = state.events.subscribe();
    let mut connection = StaffConnection {
        state: state.clone(),
        staff_id: principal.staff_id,
        started: Timestamp::now(),
        changes,
        queue: VecDeque::new(),
        shown: HashMap::new(),
        next_id: 1,
        ended: false,
        heartbeat: heartbeat_timer(state.event_heartbeat),
    };
    connection.queue_changed().await;
    Ok(response(futures_util::stream::unfold(
        connection,
        StaffConnection::next,
    )))
}

struct StaffConnection {
    state: Data<AppState>,
    staff_id: Uuid,
    /// Messages before this were there when the stream began (the counsellor reads them with
    /// `GET …/messages`); later ones are sent.
    started: Timestamp,
    changes: broadcast::Receiver<SessionChange>,
    queue: VecDeque<Bytes>,
    /// Messages of each of the caller's handoffs already accounted for.
    shown: HashMap<Uuid, usize>,
    next_id: u64,
    ended: bool,
    heartbeat: Interval,
}

impl StaffConnection {
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        loop {
            if let Some(bytes) = self.queue.pop_front() {
                return Some((Ok(bytes), self));
            }
            if self.ended {
                return None;
            }
            let wake = next_wake(&mut self.heartbeat, &mut self.changes).await;
            match wake {
                Wake::Heartbeat => self.queue.push_back(heartbeat()),
                Wake::Change(Ok(SessionChange::Handoff { session_id })) => {
                    self.queue_changed().await;
                    self.handoff_changed(session_id).await;
                }
                Wake::Change(Ok(SessionChange::Ended { .. })) => self.queue_changed().await,
                Wake::Change(Ok(_)) => {}
                // Fell behind: the queue is read afresh; messages come with the next change.
                Wake::Change(Err(broadcast::error::RecvError::Lagged(_))) => {
                    self.queue_changed().await
                }
                Wake::Change(Err(broadcast::error::RecvError::Closed)) => self.ended = true,
            }
        }
    }

    fn push(&mut self, name: &str, data: &impl serde::Serialize) {
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back(frame(id, name, data));
    }

    async fn queue_changed(&mut self) {
        match self.state.system.persistence.ask(LoadQueueFigures {}).await {
            Ok(figures) => {
                self.state.system.metrics.set_handoff_queue(figures.queued);
                self.push("queue.changed", &json!({ "queued": figures.queued }));
            }
            Err(error) => tracing::warn!(error = %error, "staff stream could not read the queue"),
        }
    }

    /// When the session's handoff is the caller's: its state, then its new messages.
    async fn handoff_changed(&mut self, session_id: Uuid) {
        let record = match self
            .state
            .system
            .persistence
            .ask(LoadSessionHandoff { session_id })
            .await
        {
            Ok(Some(record)) if record.claimed_by == Some(self.staff_id) => record,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(error = %error, "staff stream could not read a handoff");
                return;
            }
        };
        self.push(
            "handoff.updated",
            &json!({ "handoff": StaffHandoffView::from(&record) }),
        );
        if record.status == HandoffStatus::Queued {
            return;
        }
        let entries = match read_entries(&self.state, record.id).await {
            Ok(entries) => entries,
            Err(_) => return,
        };
        let started = self.started;
        let seen = *self.shown.entry(record.id).or_insert_with(|| {
            entries
                .iter()
                .take_while(|entry| entry.created_at < started)
                .count()
        });
        let new: Vec<EntryView> = entries
            .into_iter()
            .skip(seen)
            .map(EntryView::from)
            .collect();
        self.shown.insert(record.id, seen + new.len());
        for message in new {
            self.push(
                "handoff.message",
                &json!({ "handoff_id": record.id, "message": message }),
            );
        }
    }
}
