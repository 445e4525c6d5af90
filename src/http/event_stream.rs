//! Server-sent events: recognising a client that asks for them, framing events, and the response
//! that carries them (never cached, never buffered by a proxy).

use super::error::ApiError;
use actix_web::http::header::{ACCEPT, CACHE_CONTROL};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use cbln_actors::session_events::SessionChange;
use futures_util::Stream;
use serde::Serialize;
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
pub fn heartbeat_timer(every: Duration) -> Interval {
    let every = every.max(Duration::from_millis(10));
    let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    timer
}

/// What woke a stream waiting on its heartbeat and the relay of session changes.
pub enum Wake {
    /// Time for a heartbeat.
    Heartbeat,
    /// A change (or the relay's lag or close).
    Change(Result<SessionChange, broadcast::error::RecvError>),
}

/// Waits for the next heartbeat or session change, whichever comes first.
pub async fn next_wake(
    heartbeat: &mut Interval,
    changes: &mut broadcast::Receiver<SessionChange>,
) -> Wake {
    tokio::select! {
        _ = heartbeat.tick() => Wake::Heartbeat,
        change = changes.recv() => Wake::Change(change),
    }
}
