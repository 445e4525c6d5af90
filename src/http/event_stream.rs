//! Server-sent events: recognising a client that asks for them, framing events, and the response
//! that carries them (never cached, never buffered by a proxy).

use super::error::ApiError;
use actix_web::http::header::{ACCEPT, CACHE_CONTROL};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use cbln_actors::session_events::SessionChange;
use futures_util::Stream;
use serde::Serialize;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::{Interval, MissedTickBehavior};

/// The media type of an event stream.
pub const EVENT_STREAM: &str = "text/event-stream";

/// True when the request's `Accept` names `text/event-stream`.
pub fn wants_event_stream(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            range
                .split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case(EVENT_STREAM))
        })
}

/// The `Last-Event-ID` header of a stream resuming: absent, or an id a stream gave (a number).
pub fn last_event_id(request: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(value) = request.headers().get("last-event-id") else {
        return Ok(None);
    };
    let value = value.to_str().map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        ApiError::field(
            "Last-Event-ID",
            "Last-Event-ID must be the id of an event of this stream",
        )
    })
}

/// One event as it goes on the wire: `id`, `event` and one `data` line of JSON.
pub fn frame(id: u64, name: &str, data: &impl Serialize) -> Bytes {
    // serde_json writes no raw newline, so the JSON is always one `data:` line.
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    Bytes::from(format!("id: {id}\nevent: {name}\ndata: {data}\n\n"))
}

/// A comment line: keeps idle connections (and the proxies in between) open.
pub fn heartbeat() -> Bytes {
    Bytes::from_static(b": heartbeat\n\n")
}

/// The usual JSON error body of `error`, as the data of an `error` event.
pub async fn error_body(error: &ApiError) -> serde_json::Value {
    let bytes = actix_web::body::to_bytes(error.error_response().into_body())
        .await
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
}

/// A 200 event-stream response over `events`.
pub fn response<S>(events: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type(EVENT_STREAM)
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events)
}

/// The heartbeat of a long-lived stream: its first beat one period from now, late beats not
/// bunched up after a stall.
fn heartbeat_timer(every: Duration) -> Interval {
    let every = every.max(Duration::from_millis(10));
    let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    timer
}

/// What every long-lived stream holds: the events waiting to go out, whether it has ended, and
/// what wakes it (its heartbeat and the relay of session changes).
pub struct Outbox {
    /// Events queued, sent in order before the stream waits again.
    pub queue: VecDeque<Bytes>,
    /// Set to end the stream once its queue is sent.
    pub ended: bool,
    changes: broadcast::Receiver<SessionChange>,
    heartbeat: Interval,
}

impl Outbox {
    /// An empty outbox over `changes`, beating every `heartbeat_every`. Subscribe to the changes
    /// before the stream's first read, so nothing committed in between is missed.
    pub fn new(changes: broadcast::Receiver<SessionChange>, heartbeat_every: Duration) -> Self {
        Self {
            queue: VecDeque::new(),
            ended: false,
            changes,
            heartbeat: heartbeat_timer(heartbeat_every),
        }
    }
}

/// A stream that turns what wakes it into events in its [`Outbox`].
pub trait Relay: Sized {
    /// The stream's outbox.
    fn outbox(&mut self) -> &mut Outbox;

    /// Work due at a heartbeat, queued before the heartbeat itself.
    fn before_heartbeat(&mut self) -> impl Future<Output = ()> {
        async {}
    }

    /// A session change on any instance, or `None` when the stream fell behind the relay and
    /// missed some: whatever was missed is in the database.
    fn changed(&mut self, change: Option<SessionChange>) -> impl Future<Output = ()>;
}

/// The next event of `relay` (for `futures_util::stream::unfold`): a queued one, else whatever
/// its heartbeat or the next session change brings; `None` once it ended, or when the service
/// stops (the relay closes).
pub async fn next_event<R: Relay>(mut relay: R) -> Option<(Result<Bytes, actix_web::Error>, R)> {
    loop {
        let outbox = relay.outbox();
        if let Some(bytes) = outbox.queue.pop_front() {
            return Some((Ok(bytes), relay));
        }
        if outbox.ended {
            return None;
        }
        let wake = tokio::select! {
            _ = outbox.heartbeat.tick() => None,
            change = outbox.changes.recv() => Some(change),
        };
        match wake {
            None => {
                relay.before_heartbeat().await;
                relay.outbox().queue.push_back(heartbeat());
            }
            Some(Ok(change)) => relay.changed(Some(change)).await,
            Some(Err(broadcast::error::RecvError::Lagged(_))) => relay.changed(None).await,
            Some(Err(broadcast::error::RecvError::Closed)) => relay.outbox().ended = true,
        }
    }
}
