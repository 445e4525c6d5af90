//! `GET /api/v1/staff/events`: a counsellor's event stream — `queue.changed` (`{"queued"}`, no
//! content) whenever the queue may have changed, `handoff.updated` when one of their handoffs
//! changes (the person left, the risk rose), and `handoff.message` for every new message in their
//! handoffs — on every instance, through the session-change hub (and Redis between instances).
//!
//! Like the young person's stream, a change only says *that* something happened; the stream
//! reads the handoff itself, so a change relayed from another instance needs nothing else.
//!
//! An event's id is the time it was sent, in microseconds since the Unix epoch, made strictly
//! increasing within a stream. A reconnect with `Last-Event-ID` (on any instance) gets the queue
//! as it is, each of the caller's handoffs that is still theirs or ended since then, and every
//! message of those handoffs written from a few seconds before that event on: a message is
//! stamped when written and copied for the counsellor a moment later, so the overlap catches one
//! that landed after the break; `index` (its place in `GET …/messages`) tells a repeat. An id
//! older than [`RESUME_LIMIT`] or from the future cannot be resumed: the stream then starts with
//! `stream.reset` and goes on as a new one (read the handoffs afresh).

use super::sealing::read_entries;
use super::staff_views::{EntryView, StaffHandoffView};
use crate::http::error::ApiError;
use crate::http::event_stream::{Outbox, Relay, frame, last_event_id, next_event, response};
use crate::http::openapi;
use crate::http::staff::{StaffPrincipal, StaffRole};
use crate::http::state::AppState;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::handoff::{HandoffRecord, HandoffStatus};
use cbln_actors::persistence::Timestamp;
use cbln_actors::persistence::messages::{ListStaffHandoffs, LoadQueueFigures, LoadSessionHandoff};
use cbln_actors::session_events::SessionChange;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// How far back a stream may resume: a reconnect comes within seconds; an older id is a reset.
pub const RESUME_LIMIT: Duration = Duration::from_secs(15 * 60);
/// How far ahead of this instance's clock a resumed id may be (another instance's clock).
const CLOCK_SKEW: Duration = Duration::from_secs(60);
/// How long before the last event seen a resumed stream looks again for messages.
const RESUME_OVERLAP: Duration = Duration::from_secs(5);

/// Stream queue changes and the messages of the caller's handoffs.
#[utoipa::path(get, path = "/api/v1/staff/events",
    params(("Last-Event-ID" = Option<u64>, Header, minimum = 0, maximum = 18_446_744_073_709_551_615_u64, description = "Resume after this event (an `id:` this stream gave)")),
    responses((status = 200, description = "Server-sent events, each with an increasing `id:` — `queue.changed` (`{\"queued\"}`), `handoff.updated` (`{\"handoff\"}`), `handoff.message` (`{\"handoff_id\", \"index\", \"message\"}`), and `stream.reset` (`{\"reason\"}`) first when a `Last-Event-ID` cannot be resumed — and a `: heartbeat` comment", content_type = "text/event-stream", body = String),
              (status = 403, response = openapi::Forbidden),
              (status = 422, response = openapi::ValidationFailed)),
    security(("staff_token" = [])), tag = "staff")]
pub async fn stream(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    principal.require(StaffRole::Counsellor)?;
    let resume_after = last_event_id(&request)?;
    // Listening starts before the first read, so nothing in between is missed.
    let changes = state.events.subscribe();
    let now = Timestamp::now();
    let mut connection = StaffConnection {
        state: state.clone(),
        staff_id: principal.staff_id,
        started: now,
        outbox: Outbox::new(changes, state.event_heartbeat),
        shown: HashMap::new(),
        last_id: 0,
    };
    let resume_at = resume_after.and_then(|id| resumable(id, now));
    match (resume_after, resume_at) {
        (Some(id), Some(at)) => {
            connection.last_id = id;
            connection.started = at.minus(RESUME_OVERLAP);
        }
        (Some(_), None) => connection.push("stream.reset", &json!({ "reason": "cannot_resume" })),
        (None, _) => {}
    }
    connection.queue_changed().await;
    if let Some(at) = resume_at {
        connection.catch_up(at).await;
    }
    Ok(response(futures_util::stream::unfold(
        connection, next_event,
    )))
}

struct StaffConnection {
    state: Data<AppState>,
    staff_id: Uuid,
    /// Messages before this were there when the stream began (the counsellor reads them with
    /// `GET …/messages`); later ones are sent.
    started: Timestamp,
    outbox: Outbox,
    /// Messages of each of the caller's handoffs already accounted for.
    shown: HashMap<Uuid, usize>,
    /// The id of the latest event (microseconds since the epoch when it was sent).
    last_id: u64,
}

impl Relay for StaffConnection {
    fn outbox(&mut self) -> &mut Outbox {
        &mut self.outbox
    }

    async fn changed(&mut self, change: Option<SessionChange>) {
        match change {
            Some(SessionChange::Handoff { session_id }) => {
                self.queue_changed().await;
                self.handoff_changed(session_id).await;
            }
            Some(SessionChange::Ended { .. }) => self.queue_changed().await,
            Some(_) => {}
            // Fell behind: the queue is read afresh; messages come with the next change.
            None => self.queue_changed().await,
        }
    }
}

impl StaffConnection {
    fn push(&mut self, name: &str, data: &impl serde::Serialize) {
        let now = u64::try_from(Timestamp::now().unix_millis()).unwrap_or(0) * 1000;
        self.last_id = now.max(self.last_id + 1);
        self.outbox.queue.push_back(frame(self.last_id, name, data));
    }

    /// After a break: the caller's handoffs as they stand, and their messages since then.
    async fn catch_up(&mut self, since: Timestamp) {
        let handoffs = self
            .state
            .system
            .persistence
            .ask(ListStaffHandoffs {
                staff_id: self.staff_id,
                ended_since: since,
            })
            .await;
        match handoffs {
            Ok(handoffs) => {
                for record in handoffs {
                    self.report(record).await;
                }
            }
            Err(error) => tracing::warn!(error = %error, "staff stream could not read handoffs"),
        }
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
        match self
            .state
            .system
            .persistence
            .ask(LoadSessionHandoff { session_id })
            .await
        {
            Ok(Some(record)) if record.claimed_by == Some(self.staff_id) => {
                self.report(record).await
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "staff stream could not read a handoff"),
        }
    }

    /// One of the caller's handoffs: its state, then its messages not yet accounted for.
    async fn report(&mut self, record: HandoffRecord) {
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
        let total = entries.len();
        let new: Vec<EntryView> = entries
            .into_iter()
            .skip(seen)
            .map(EntryView::from)
            .collect();
        self.shown.insert(record.id, seen.max(total));
        for (index, message) in (seen..).zip(new) {
            self.push(
                "handoff.message",
                &json!({ "handoff_id": record.id, "index": index, "message": message }),
            );
        }
    }
}

/// The instant an event id of a stream stands for, when a stream can resume from it: not older
/// than [`RESUME_LIMIT`], not ahead of this clock by more than another instance's could be.
fn resumable(id: u64, now: Timestamp) -> Option<Timestamp> {
    let nanos = i128::from(id / 1000) * 1_000_000;
    let at = Timestamp::from_datetime(time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?);
    (at >= now.minus(RESUME_LIMIT) && at <= now.plus(CLOCK_SKEW)).then_some(at)
}
