//! The session's event stream (`GET /api/v1/events`) over real HTTP: messages from other clients,
//! status changes, the end of the session, heartbeats, resuming with `Last-Event-ID`, the errors
//! before a stream, and a second instance relaying through Redis (which must run at
//! 127.0.0.1:6379; the test fails, never skips, when it does not).

use crate::helpers::{Backend, TestApp, captured_logs, spawn_app_with, spawn_two_instances};
use crate::on_both_backends;
use crate::streaming::{Event, parse_events};
use crate::support::{Fetch, assert_error, header, status_and_json};
use bb8_redis::redis;
use futures_util::StreamExt;
use secrecy::SecretString;
use serde_json::Value;
use std::time::{Duration, Instant};

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
const EVENTS_CHANNEL: &str = "cbln:sessions:events";
const CRISIS_VI: &str = "mình muốn chết, không muốn sống nữa";
/// Held by each test that runs instances on Redis: the deletion test counts the subscribers of a
/// channel, which this file's instances also subscribe to.
pub static REDIS_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// Long enough for a pipeline with the built-in listener on a busy machine.
const WITHIN: Duration = Duration::from_secs(15);

/// An open event stream, read incrementally.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// Opens the stream with the token in the `Authorization` header.
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> EventStream {
        let mut request = app.get_as("/api/v1/events", token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        EventStream::expect_stream(request.send().await.expect("request")).await
    }

    pub async fn expect_stream(response: reqwest::Response) -> EventStream {
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            panic!("expected an event stream, got {status}: {body}");
        }
        let text_of = |name: &str| header(&response, name).unwrap_or_default();
        assert_eq!(text_of("content-type"), "text/event-stream");
        assert_eq!(text_of("cache-control"), "no-store");
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next block (an event or a comment), or `None` when the server ended the stream.
    async fn next_block(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].to_string();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("nothing within {within:?}; so far {:?}", self.buffer))
                .expect("stream read");
            match chunk {
                Some(bytes) => self
                    .buffer
                    .push_str(std::str::from_utf8(&bytes).expect("UTF-8")),
                None => {
                    assert!(self.buffer.trim().is_empty(), "a partial event at the end");
                    return None;
                }
            }
        }
    }

    /// The next event, skipping heartbeat comments.
    pub async fn next_event(&mut self) -> Event {
        loop {
            let block = self.next_block(WITHIN).await.expect("the stream went on");
            if let Some(event) = parse_events(&format!("{block}\n\n")).pop() {
                return event;
            }
            assert_eq!(block, ": heartbeat", "a comment is a heartbeat");
        }
    }

    /// The next `count` events.
    async fn events(&mut self, count: usize) -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..count {
            events.push(self.next_event().await);
        }
        events
    }
}

fn assert_increasing(events: &[Event]) {
    for pair in events.windows(2) {
        assert!(pair[0].id < pair[1].id, "ids increase: {events:?}");
    }
}

fn assert_messages(events: &[Event], expected: &[Value]) {
    assert_eq!(events.len(), expected.len(), "{events:?}");
    for (event, message) in events.iter().zip(expected) {
        assert_eq!(event.name, "message.created", "{event:?}");
        assert_eq!(&event.data, message, "the message as the history shows it");
    }
}

async fn history_messages(app: &TestApp, token: &str) -> Vec<Value> {
    app.history(token).await["messages"]
        .as_array()
        .expect("messages")
        .clone()
}

async fn two_clients_see_each_others_messages(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.server.event_heartbeat_ms = 200).await;
    let token = app.create_session().await;
    let other = app.create_session().await;
    let mut by_header = EventStream::open(&app, &token, None).await;
    // A browser's EventSource cannot set headers: the token rides in the query.
    let mut by_query = EventStream::expect_stream(
        app.get(&format!("/api/v1/events?session_token={token}"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    let mut elsewhere = EventStream::open(&app, &other, None).await;

    let text = "hôm nay mình thấy hơi mệt";
    app.sent(&token, text).await;
    let history = history_messages(&app, &token).await;
    assert_eq!(history[0]["content"], text);
    for stream in [&mut by_header, &mut by_query] {
        let events = stream.events(2).await;
        assert_messages(&events, &history);
        assert_increasing(&events);
    }

    // The second device posts (streamed, this time); the first sees it.
    let response = app
        .stream_message(&token, &serde_json::json!({"content": "còn bạn thì sao"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let _ = response.text().await.expect("streamed reply");
    let history = history_messages(&app, &token).await;
    let mut previous = None;
    for stream in [&mut by_header, &mut by_query] {
        let events = stream.events(2).await;
        assert_messages(&events, &history[2..4]);
        assert_increasing(&events);
        if let Some(previous) = previous {
            assert_eq!(
                events.iter().map(|e| e.id).collect::<Vec<_>>(),
                previous,
                "both clients see the same ids"
            );
        }
        previous = Some(events.iter().map(|e| e.id).collect::<Vec<_>>());
    }

    // Another session's stream hears only heartbeats.
    for _ in 0..3 {
        let block = elsewhere.next_block(WITHIN).await.expect("still open");
        assert_eq!(block, ": heartbeat", "no event of another session");
    }
    assert!(!captured_logs().contains(text), "no message text in logs");
}

/// The one `session.updated` among `events`, which must show the session in crisis.
fn crisis_update(events: &[Event]) -> &Event {
    let updated: Vec<&Event> = events
        .iter()
        .filter(|e| e.name == "session.updated")
        .collect();
    assert_eq!(updated.len(), 1, "{events:?}");
    assert_eq!(updated[0].data["risk"], "crisis", "{events:?}");
    assert_eq!(updated[0].data["is_crisis_mode"], true);
    updated[0]
}

async fn a_crisis_updates_the_session(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.create_session().await;
    let mut stream = EventStream::open(&app, &token, None).await;
    app.sent(&token, CRISIS_VI).await;
    let events = stream.events(3).await;
    assert_increasing(&events);
    assert_eq!(crisis_update(&events).data["message_count"], 2);
    let created = events
        .iter()
        .filter(|e| e.name == "message.created")
        .count();
    assert_eq!(created, 2, "{events:?}");
}

async fn last_event_id_resumes_after_that_event(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.create_session().await;
    for text in ["tin nhắn một", "tin nhắn hai"] {
        let (status, _) = app.send_message(&token, text).await;
        assert_eq!(status, 201);
    }
    let mut stream = EventStream::open(&app, &token, None).await;
    let (status, _) = app.send_message(&token, "tin nhắn ba").await;
    assert_eq!(status, 201);
    let seen = stream.events(2).await;
    drop(stream);
    let history = history_messages(&app, &token).await;
    assert_eq!(history.len(), 6);
    assert_messages(&seen, &history[4..6]);

    // Reconnecting after the first of the two: the second comes again, then new ones.
    let after_first = seen[0].id.to_string();
    let mut resumed = EventStream::open(&app, &token, Some(after_first.as_str())).await;
    let replayed = resumed.next_event().await;
    assert_eq!(replayed.id, seen[1].id, "the same id as before");
    assert_messages(std::slice::from_ref(&replayed), &history[5..6]);
    let (status, _) = app.send_message(&token, "tin nhắn bốn").await;
    assert_eq!(status, 201);
    let fresh = resumed.events(2).await;
    let history = history_messages(&app, &token).await;
    assert_messages(&fresh, &history[6..8]);
    assert!(replayed.id < fresh[0].id);

    // From the start: the whole session, in order.
    let mut from_start = EventStream::open(&app, &token, Some("0")).await;
    let all = from_start.events(8).await;
    assert_messages(&all, &history);
    assert_increasing(&all);

    let response = app
        .get_as("/api/v1/events", &token)
        .header("Last-Event-ID", "yesterday")
        .fetch()
        .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "validation_failed");
    assert_eq!(body["field"], "Last-Event-ID");
}

async fn the_stream_ends_on_quick_exit_and_on_delete(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;

    let exiting = app.create_session().await;
    let bystander = app.create_session().await;
    let mut stream = EventStream::open(&app, &exiting, None).await;
    let mut unaffected = EventStream::open(&app, &bystander, None).await;
    let status = app
        .post_as("/api/v1/sessions/exit", &exiting)
        .fetch_status()
        .await;
    assert_eq!(status, 200);
    let ended = stream.next_event().await;
    assert_eq!(ended.name, "session.ended", "{ended:?}");
    assert_eq!(ended.data, serde_json::json!({"reason": "deleted"}));
    assert_eq!(
        stream.next_block(WITHIN).await,
        None,
        "then the stream ends"
    );

    let deleted = app.create_session().await;
    let (status, _) = app.send_message(&deleted, "xin chào").await;
    assert_eq!(status, 201);
    let mut stream = EventStream::open(&app, &deleted, None).await;
    let status = app.delete_session(&deleted).fetch_status().await;
    assert_eq!(status, 204);
    let ended = stream.next_event().await;
    assert_eq!(ended.name, "session.ended", "{ended:?}");
    assert!(ended.id > 0, "after the session's messages: {ended:?}");
    assert_eq!(
        stream.next_block(WITHIN).await,
        None,
        "then the stream ends"
    );

    // The other session's stream goes on and carries its own messages.
    let (status, _) = app.send_message(&bystander, "mình vẫn ở đây").await;
    assert_eq!(status, 201);
    let events = unaffected.events(2).await;
    assert_messages(&events, &history_messages(&app, &bystander).await);
}

async fn bad_tokens_get_the_usual_errors(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let unknown = format!("anon_{}", "A".repeat(43));
    for request in [
        app.get_as("/api/v1/events", &unknown),
        app.get(&format!("/api/v1/events?session_token={unknown}")),
    ] {
        let (status, body) = status_and_json(request.fetch().await).await;
        assert_error(status, &body, 404, "session_not_found");
    }
    for request in [
        app.get_as("/api/v1/events", "not-a-token"),
        app.get("/api/v1/events"),
    ] {
        let (status, body) = status_and_json(request.fetch().await).await;
        assert_error(status, &body, 401, "session_required");
    }
    let token = app.create_session().await;
    app.expire_all_sessions().await;
    let (status, body) = status_and_json(app.get_as("/api/v1/events", &token).fetch().await).await;
    assert_error(status, &body, 401, "session_expired");
    let response = app.post_as("/api/v1/events", &token).fetch().await;
    assert_eq!(response.status(), 405);
}

on_both_backends!(
    two_clients_see_each_others_messages,
    a_crisis_updates_the_session,
    last_event_id_resumes_after_that_event,
    the_stream_ends_on_quick_exit_and_on_delete,
    bad_tokens_get_the_usual_errors,
);

async fn redis_connection() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(REDIS_URL).expect("redis url");
    match tokio::time::timeout(
        Duration::from_secs(3),
        client.get_multiplexed_async_connection(),
    )
    .await
    {
        Ok(Ok(connection)) => connection,
        other => panic!(
            "Redis is required for this test and is unreachable at {REDIS_URL} ({}). \
             Start it with: redis-server --daemonize yes",
            other.err().map_or("refused".to_string(), |e| e.to_string())
        ),
    }
}

/// Waits until a message posted on `from` reaches a stream on `to` (both subscribed to Redis),
/// probing with a session of its own.
pub async fn await_relay(from: &TestApp, to: &TestApp) {
    let probe = from.create_session().await;
    let mut stream = EventStream::open(to, &probe, None).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = from.send_message(&probe, "thử kết nối").await;
        assert_eq!(status, 201);
        if let Ok(event) =
            tokio::time::timeout(Duration::from_millis(500), stream.next_event()).await
        {
            assert_eq!(event.name, "message.created");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the instances never relayed a change"
        );
    }
}

#[actix_web::test]
async fn a_second_instance_streams_messages_posted_on_the_first() {
    let serial = REDIS_TESTS.lock().await;
    // What crosses Redis, as an eavesdropper on the channel sees it.
    let _ = redis_connection().await;
    let mut eavesdropper = redis::Client::open(REDIS_URL)
        .expect("redis url")
        .get_async_pubsub()
        .await
        .expect("pubsub");
    eavesdropper
        .subscribe(EVENTS_CHANNEL)
        .await
        .expect("subscribe");
    let mut overheard = eavesdropper.into_on_message();

    let (a, b) =
        spawn_two_instances(|s| s.redis.url = SecretString::from(REDIS_URL.to_string())).await;
    await_relay(&a, &b).await;
    await_relay(&b, &a).await;

    let token = a.create_session().await;
    let mut on_b = EventStream::open(&b, &token, None).await;
    let text = "chào bạn, mình là học sinh";
    let (status, body) = a.send_message(&token, text).await;
    assert_eq!(status, 201, "{body}");
    let events = on_b.events(2).await;
    assert_messages(&events, &history_messages(&a, &token).await);
    assert_increasing(&events);

    // Reconnecting to A after the first event B gave: A sends the second again, with B's id.
    // (Only A writes this session: two instances writing one session is another piece of work.)
    let first = events[0].id.to_string();
    let mut on_a = EventStream::open(&a, &token, Some(first.as_str())).await;
    let replayed = on_a.next_event().await;
    assert_eq!(replayed.id, events[1].id);
    assert_eq!(replayed.data, events[1].data);
    let (status, _) = a
        .send_message(&token, "mình vừa ăn cơm xong, giờ đi học bài")
        .await;
    assert_eq!(status, 201);
    let history = history_messages(&a, &token).await;
    for stream in [&mut on_a, &mut on_b] {
        let next = stream.events(2).await;
        assert_messages(&next, &history[2..4]);
        assert!(events[1].id < next[0].id);
    }

    // A crisis on A: B's status is read fresh, not from its own stale copy of the session.
    a.sent(&token, CRISIS_VI).await;
    let on_b_crisis = on_b.events(3).await;
    crisis_update(&on_b_crisis);
    assert_increasing(&on_b_crisis);

    let response = a.post_as("/api/v1/sessions/exit", &token).fetch().await;
    assert_eq!(response.status(), 200);
    let ended = on_b.next_event().await;
    assert_eq!(ended.name, "session.ended", "{ended:?}");
    assert_eq!(on_b.next_block(WITHIN).await, None);

    // Only kinds and ids crossed Redis.
    let mut payloads = Vec::new();
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(300), overheard.next()).await
    {
        payloads.push(message.get_payload::<String>().expect("text payload"));
    }
    assert!(payloads.len() >= 5, "{payloads:?}");
    for payload in &payloads {
        let fields: Vec<&str> = payload.split('|').collect();
        assert_eq!(fields.len(), 5, "{payload}");
        assert!(
            ["message", "updated", "ended"].contains(&fields[1]),
            "{payload}"
        );
        assert!(
            !payload.contains("chào") && !payload.contains("kết nối") && !payload.contains("chết"),
            "no message text: {payload}"
        );
    }
    // The instances' Redis subscriptions close only when this test's runtime is dropped, just
    // after it returns: the other Redis test, which counts subscribers, waits a moment longer.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        drop(serial);
    });
}

#[actix_web::test]
async fn the_openapi_document_describes_the_event_stream() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let (status, document) = app.get("/openapi.json").fetch_json().await;
    assert_eq!(status, 200);
    let events = &document["paths"]["/api/v1/events"]["get"];
    assert!(
        events["responses"]["200"]["content"]["text/event-stream"].is_object(),
        "{events}"
    );
    let parameters: Vec<&str> = events["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(parameters.contains(&"Last-Event-ID"), "{parameters:?}");
    // The token in the query (for EventSource) is one of the declared ways to authenticate.
    let schemes: Vec<&str> = events["security"]
        .as_array()
        .expect("security")
        .iter()
        .filter_map(|requirement| requirement.as_object()?.keys().next().map(String::as_str))
        .collect();
    assert!(schemes.contains(&"session_token"), "{schemes:?}");
}
