//! Idempotent retries over real HTTP: the first answer to a request with an `Idempotency-Key` is
//! replayed byte for byte (by any instance) and creates nothing; the key with another body is
//! refused; a retry while the first runs gets 409 with Retry-After; answers expire.

use crate::helpers::{
    Backend, TestApp, spawn_app_on, spawn_app_with, spawn_two_instances, use_provider,
};
use crate::mock_llm::{answer, provider_answering};
use crate::on_both_backends;
use crate::support::{Fetch, assert_error, assert_field_error, contains_bytes, header};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::ResponseTemplate;

const CRISIS_TEXT: &str = "mình muốn chết, tối nay mình uống hết thuốc ngủ";

/// Posts `body` to `path` with `token` and `key`; answers status, raw body and `Retry-After`.
async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    key: &str,
    body: &Value,
) -> (u16, Vec<u8>, Option<String>) {
    let mut request = app.post(path).header("Idempotency-Key", key).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.fetch().await;
    let status = response.status().as_u16();
    let retry_after = header(&response, "retry-after");
    (
        status,
        response.bytes().await.unwrap().to_vec(),
        retry_after,
    )
}

/// Posts a message `content` with `token` and `key`; answers status and JSON body.
async fn post_message_keyed(app: &TestApp, token: &str, key: &str, content: &str) -> (u16, Value) {
    let body = json!({ "content": content });
    let (status, bytes, _) = post_keyed(app, "/api/v1/messages", Some(token), key, &body).await;
    (status, json_of(&bytes))
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("a JSON body")
}

async fn crisis_detections(app: &TestApp) -> f64 {
    app.metrics().await.sum("crisis_detections_total", &[])
}

async fn messages_of(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM messages").await
}

async fn a_retry_replays_the_first_answer_and_creates_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.create_session().await;
    let body = json!({"content": CRISIS_TEXT});

    let (status, first, _) = post_keyed(&app, "/api/v1/messages", Some(&token), "k-1", &body).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&first));
    assert!(
        json_of(&first)["crisis_info"].is_object(),
        "the message was a crisis"
    );
    assert_eq!(messages_of(&app).await, 2);
    let detections = crisis_detections(&app).await;
    assert!(detections >= 1.0, "the first post counted a detection");

    for _ in 0..2 {
        let (status, again, _) =
            post_keyed(&app, "/api/v1/messages", Some(&token), "k-1", &body).await;
        assert_eq!(status, 201);
        assert_eq!(again, first, "the replay is byte-identical");
    }
    assert_eq!(messages_of(&app).await, 2, "a replay stores no message");
    assert_eq!(app.history(&token).await["total_count"], 2);
    assert_eq!(
        crisis_detections(&app).await,
        detections,
        "a replay counts no second crisis detection"
    );

    // Another key is another request.
    let (status, other, _) = post_keyed(&app, "/api/v1/messages", Some(&token), "k-2", &body).await;
    assert_eq!(status, 201);
    assert_ne!(other, first);
    assert_eq!(messages_of(&app).await, 4);

    // Nothing readable is kept: neither the key nor the text nor the reply.
    let stored = app.database_bytes().await;
    let reply = json_of(&first)["ai_message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    for needle in [CRISIS_TEXT, reply.as_str(), "k-1"] {
        assert!(
            !contains_bytes(&stored, needle.as_bytes()),
            "{needle:?} is readable in the database"
        );
    }
    app.stop().await;
}

async fn the_same_key_with_another_body_is_refused(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.create_session().await;
    let (status, _) = post_message_keyed(&app, &token, "reused", "chào bạn").await;
    assert_eq!(status, 201);
    let (status, body) = post_message_keyed(&app, &token, "reused", "một câu khác").await;
    assert_error(status, &body, 422, "idempotency_key_reused");
    assert_eq!(messages_of(&app).await, 2, "nothing was created");

    // The key is scoped to its session: another session may use the same key.
    let other = app.create_session().await;
    let (status, _) = post_message_keyed(&app, &other, "reused", "một câu khác").await;
    assert_eq!(status, 201);

    // A key that is no key.
    let (status, body) = post_message_keyed(&app, &token, &"x".repeat(256), "chào").await;
    assert_field_error(status, &body, "Idempotency-Key");
    app.stop().await;
}

async fn sessions_are_created_once_and_the_token_is_not_stored(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let body = json!({"language_preference": "en"});
    let (status, first, _) = post_keyed(&app, "/api/v1/sessions", None, "s-1", &body).await;
    assert_eq!(status, 201);
    let (status, again, _) = post_keyed(&app, "/api/v1/sessions", None, "s-1", &body).await;
    assert_eq!(status, 201);
    assert_eq!(again, first, "the replay is byte-identical");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions").await,
        1,
        "one session, however often the creation is retried"
    );
    let token = json_of(&first)["session"]["session_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = app.send_message(&token, "hello").await;
    assert_eq!(status, 201, "the replayed token works");
    assert!(
        !contains_bytes(&app.database_bytes().await, token.as_bytes()),
        "the token is not stored readable"
    );
    let (status, body, _) = post_keyed(
        &app,
        "/api/v1/sessions",
        None,
        "s-1",
        &json!({"language_preference": "vi"}),
    )
    .await;
    assert_error(status, &json_of(&body), 422, "idempotency_key_reused");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    app.stop().await;
}

async fn feedback_is_stored_once(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.create_session().await;
    let body = json!({"rating": 5, "feedback_text": "cảm ơn bạn nhiều", "category": "helpful"});
    let (status, first, _) = post_keyed(&app, "/api/v1/feedback", Some(&token), "f-1", &body).await;
    assert_eq!(status, 201);
    let (status, again, _) = post_keyed(&app, "/api/v1/feedback", Some(&token), "f-1", &body).await;
    assert_eq!(
        status, 201,
        "a retry gets the first answer, not feedback_exists"
    );
    assert_eq!(again, first);
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback").await, 1);
    app.stop().await;
}

async fn a_streamed_post_keeps_its_final_answer_for_retries(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.create_session().await;
    let streamed = |key: &'static str| {
        app.stream_message(&token, &json!({"content": "chào bạn"}))
            .header("Idempotency-Key", key)
            .fetch()
    };
    let first = streamed("stream-1").await;
    assert_eq!(first.status().as_u16(), 200);
    let events = first.text().await.unwrap();
    assert!(events.contains("event: reply.completed"), "{events}");
    // The final answer is kept once the stream ends, apart from the client reading it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let replay = loop {
        let again = streamed("stream-1").await;
        let status = again.status().as_u16();
        if status != 409 {
            break (status, again.json::<Value>().await.unwrap());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the key stayed in flight"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(replay.0, 201, "{}", replay.1);
    assert_eq!(replay.1["user_message"]["content"], "chào bạn");
    let completed = events
        .lines()
        .skip_while(|line| *line != "event: reply.completed")
        .find_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str::<Value>(data).unwrap())
        .unwrap();
    assert_eq!(replay.1["ai_message"], completed["ai_message"]);
    assert_eq!(
        messages_of(&app).await,
        2,
        "one message and one reply, once"
    );
    app.stop().await;
}

/// A streamed post whose reply fails after its message was stored: the message is answered by the
/// built-in listener at once and that answer is kept for the key, so a retry gets it instead of a
/// 409 for the whole in-flight lease, and the message is not posted twice.
async fn a_streamed_post_that_fails_after_its_message_settles_its_key(backend: Backend) {
    let provider =
        provider_answering(ResponseTemplate::new(500).set_delay(Duration::from_secs(3))).await;
    let uri = provider.uri();
    let app = spawn_app_with(backend, move |s| {
        use_provider(s, &uri, 10_000);
        // The reply stage gives up before the provider answers: after the message was stored.
        s.pipeline.stage_timeout_ms = 800;
    })
    .await;
    let token = app.create_session().await;
    let body = json!({"content": "lần này trả lời chậm"});
    let events = app
        .stream_message(&token, &body)
        .header("Idempotency-Key", "fails-late")
        .fetch()
        .await
        .text()
        .await
        .unwrap();
    assert!(events.contains("event: message.accepted"), "{events}");
    assert!(events.contains("event: error"), "{events}");

    // Well before the 120 s lease ends, the retry gets the message and its answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (status, replay) = loop {
        let (status, replay, _) =
            post_keyed(&app, "/api/v1/messages", Some(&token), "fails-late", &body).await;
        if status != 409 {
            break (status, json_of(&replay));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the key stayed in flight"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, 201, "{replay}");
    assert_eq!(replay["user_message"]["content"], "lần này trả lời chậm");
    assert_eq!(replay["ai_message"]["role"], "assistant", "{replay}");
    let history = app.history(&token).await;
    assert_eq!(history["messages"][1], replay["ai_message"], "{history}");
    assert_eq!(messages_of(&app).await, 2, "one message and one answer");
    app.stop().await;
}

async fn answers_expire(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.idempotency.ttl_s = 1;
        s.janitor.sweep_at_start = true;
    })
    .await;
    let token = app.create_session().await;
    let body = json!({"content": "chào bạn"});
    let (status, first, _) = post_keyed(&app, "/api/v1/messages", Some(&token), "e-1", &body).await;
    assert_eq!(status, 201);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 1);
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let (status, later, _) = post_keyed(&app, "/api/v1/messages", Some(&token), "e-1", &body).await;
    assert_eq!(status, 201);
    assert_ne!(later, first, "an expired key is a new request");
    assert_eq!(messages_of(&app).await, 4);

    // The janitor purges expired keys (its sweep runs at start).
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let settings = app.settings.clone();
    let database = app.stop().await;
    let app = spawn_app_on(database, move |s| {
        *s = settings;
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while app.count("SELECT COUNT(*) FROM idempotency_keys").await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the janitor never purged the expired key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

/// No kept answer outlives its session: deleted with it, and shredded with its key by a quick
/// exit (the creation's answer, sealed under a key the client holds, too).
async fn kept_answers_go_with_their_session(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    for ending in ["delete", "quick exit"] {
        let (status, created, _) = post_keyed(
            &app,
            "/api/v1/sessions",
            None,
            &format!("create-{}", ending.replace(' ', "-")),
            &json!({}),
        )
        .await;
        assert_eq!(status, 201);
        let token = json_of(&created)["session"]["session_token"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _, _) = post_keyed(
            &app,
            "/api/v1/messages",
            Some(&token),
            &format!("message-{}", ending.replace(' ', "-")),
            &json!({"content": "mình kể bạn nghe chuyện này"}),
        )
        .await;
        assert_eq!(status, 201);
        let kept = "SELECT COUNT(*) FROM idempotency_keys";
        assert_eq!(app.count(kept).await, 2, "{ending}: both answers kept");
        let status = if ending == "delete" {
            app.delete_session(&token).fetch().await.status()
        } else {
            app.post_as("/api/v1/sessions/exit", &token)
                .fetch()
                .await
                .status()
        };
        assert!(status.is_success(), "{ending}: {status}");
        assert_eq!(
            app.count(kept).await,
            0,
            "{ending}: no kept answer outlives the session"
        );
    }
    app.stop().await;
}

on_both_backends!(
    kept_answers_go_with_their_session,
    a_retry_replays_the_first_answer_and_creates_nothing,
    the_same_key_with_another_body_is_refused,
    sessions_are_created_once_and_the_token_is_not_stored,
    feedback_is_stored_once,
    a_streamed_post_keeps_its_final_answer_for_retries,
    a_streamed_post_that_fails_after_its_message_settles_its_key,
    answers_expire,
);

async fn a_retry_while_the_first_runs_gets_409(backend: Backend) {
    let mock = provider_answering(
        answer("Mình đang nghe bạn đây. Bạn kể tiếp nhé?").set_delay(Duration::from_millis(1_500)),
    )
    .await;
    let uri = mock.uri();
    let app = spawn_app_with(backend, move |s| use_provider(s, &uri, 5_000)).await;
    let token = app.create_session().await;
    let body = json!({"content": "hôm nay mình hơi mệt"});

    let first = post_keyed(&app, "/api/v1/messages", Some(&token), "slow", &body);
    let second = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        post_keyed(&app, "/api/v1/messages", Some(&token), "slow", &body).await
    };
    let ((status, first, _), (second_status, second_body, retry_after)) =
        tokio::join!(first, second);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&first));
    assert_error(
        second_status,
        &json_of(&second_body),
        409,
        "idempotency_key_in_flight",
    );
    let retry_after: u64 = retry_after
        .expect("Retry-After on a 409")
        .parse()
        .expect("seconds");
    assert!((1..=5).contains(&retry_after), "{retry_after}");

    let (status, replay, _) =
        post_keyed(&app, "/api/v1/messages", Some(&token), "slow", &body).await;
    assert_eq!(status, 201);
    assert_eq!(
        replay, first,
        "once finished, the retry gets the first answer"
    );
    assert_eq!(messages_of(&app).await, 2);
    app.stop().await;
}

on_both_backends!(a_retry_while_the_first_runs_gets_409);

#[actix_web::test]
async fn a_second_instance_replays_the_first_answer() {
    let (a, b) = spawn_two_instances(|_| {}).await;

    let token = a.create_session().await;
    let body = json!({"content": CRISIS_TEXT});
    let (status, first, _) = post_keyed(&a, "/api/v1/messages", Some(&token), "ab", &body).await;
    assert_eq!(status, 201);
    let (status, on_b, _) = post_keyed(&b, "/api/v1/messages", Some(&token), "ab", &body).await;
    assert_eq!(status, 201);
    assert_eq!(on_b, first, "B replays A's answer byte for byte");
    assert_eq!(messages_of(&a).await, 2, "B created nothing");
    assert_eq!(crisis_detections(&b).await, 0.0, "B counted no detection");

    let session_body = json!({"language_preference": "vi"});
    let (status, created, _) =
        post_keyed(&a, "/api/v1/sessions", None, "new-ab", &session_body).await;
    assert_eq!(status, 201);
    let (status, on_b, _) = post_keyed(&b, "/api/v1/sessions", None, "new-ab", &session_body).await;
    assert_eq!(status, 201);
    assert_eq!(on_b, created, "B replays A's new session");
    assert_eq!(a.count("SELECT COUNT(*) FROM sessions").await, 2);

    b.stop().await;
    a.stop().await;
}

/// A web client on another origin may send the key (the chat page retries with it).
#[actix_web::test]
async fn a_browser_on_an_allowed_origin_may_send_the_key() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let origin = "http://localhost:3000";
    assert!(
        app.settings
            .server
            .cors_origins
            .contains(&origin.to_string())
    );
    let response = app
        .request(reqwest::Method::OPTIONS, "/api/v1/messages")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization, idempotency-key",
        )
        .fetch()
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let allowed = response
        .headers()
        .get("access-control-allow-headers")
        .map(|v| v.to_str().unwrap().to_lowercase())
        .unwrap_or_default();
    assert!(
        allowed.contains("idempotency-key"),
        "allow-headers: {allowed}"
    );
    app.stop().await;
}
