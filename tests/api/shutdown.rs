//! Graceful shutdown under load: every message acknowledged with 201 is in the database, no
//! user message is left without its reply, and requests caught by the stop fail cleanly.

use crate::helpers::{
    Backend, TestDatabase, build_application, spawn_app_on, spawn_app_with, test_settings,
};
use crate::on_both_backends;
use cbln_actors::telemetry::ActorKind;
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const SESSIONS: usize = 8;
const MESSAGES: usize = 80;

enum Outcome {
    Status(u16, Value),
    Transport(String),
}

async fn acknowledged_messages_survive_a_graceful_stop(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        // Room for every request of a session to queue: overload is not what this test is about.
        s.session.mailbox_capacity = 32;
    })
    .await;
    let security = app.settings.security.clone();
    let mut tokens = Vec::new();
    for _ in 0..SESSIONS {
        tokens.push(app.create_session().await);
    }

    let posts = (0..MESSAGES).map(|i| {
        let client = app.client.clone();
        let url = app.url("/api/v1/messages");
        let token = tokens[i % SESSIONS].clone();
        async move {
            let result = client
                .post(url)
                .bearer_auth(&token)
                .json(&json!({"content": format!("tin nhắn số {i}: hôm nay mình hơi mệt")}))
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            let outcome = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match response.json::<Value>().await {
                        Ok(body) => Outcome::Status(status, body),
                        // The connection closed while the body was read.
                        Err(error) => Outcome::Transport(format!("{status}: {error}")),
                    }
                }
                Err(error) => Outcome::Transport(format!("{error:?}")),
            };
            (token, outcome)
        }
    });
    let handle = app.handle.clone();
    let stopper = async move {
        actix_web::rt::time::sleep(Duration::from_millis(40)).await;
        handle.stop(true).await;
    };
    let started = std::time::Instant::now();
    let (outcomes, ()) = futures_util::join!(join_all(posts), stopper);
    println!(
        "{backend:?}: all requests settled after {:?}",
        started.elapsed()
    );

    let mut acknowledged: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let (mut created, mut unavailable, mut transport) = (0, 0, 0);
    for (token, outcome) in &outcomes {
        match outcome {
            Outcome::Status(201, body) => {
                created += 1;
                let user = body["user_message"]["id"].as_str().expect("user id");
                let ai = body["ai_message"]["id"].as_str().expect("ai id");
                acknowledged
                    .entry(token.clone())
                    .or_default()
                    .push((user.to_string(), ai.to_string()));
            }
            Outcome::Status(503, body) => {
                unavailable += 1;
                assert!(body["error"].is_string(), "a 503 is a JSON error: {body}");
            }
            Outcome::Status(status, body) => {
                panic!("a request caught by the shutdown answered {status}: {body}")
            }
            Outcome::Transport(error) => {
                transport += 1;
                if transport <= 3 {
                    println!("transport failure: {error}");
                }
                let lower = error.to_lowercase();
                assert!(
                    lower.contains("connect")
                        || lower.contains("reset")
                        || lower.contains("closed")
                        || lower.contains("incomplete")
                        || lower.contains("eof")
                        || lower.contains("sendrequest")
                        || lower.contains("request"),
                    "not a clean failure: {error}"
                );
            }
        }
    }
    println!(
        "{backend:?}: {created} acknowledged, {unavailable} answered 503, {transport} refused or reset"
    );
    assert!(created > 0, "no message was acknowledged before the stop");
    assert_eq!(created + unavailable + transport, MESSAGES);

    let database = app.stop().await;
    // A second instance on the same database, with the same keys, reads everything back.
    let again = spawn_app_on(database, move |s| s.security = security).await;
    let mut stored_total = 0;
    for token in &tokens {
        let history = again.history(token).await;
        let messages = history["messages"].as_array().expect("messages");
        stored_total += messages.len();
        let ids: BTreeSet<&str> = messages.iter().filter_map(|m| m["id"].as_str()).collect();
        for (user, ai) in acknowledged.get(token).into_iter().flatten() {
            assert!(
                ids.contains(user.as_str()),
                "acknowledged user message {user} is lost"
            );
            assert!(ids.contains(ai.as_str()), "acknowledged reply {ai} is lost");
        }
        let users = messages.iter().filter(|m| m["role"] == "user").count();
        let assistants = messages.iter().filter(|m| m["role"] == "assistant").count();
        assert_eq!(
            users, assistants,
            "a half-written pair in a session: {users} user vs {assistants} assistant messages"
        );
        assert!(
            messages
                .iter()
                .all(|m| m["content"].is_string() && m["integrity_error"].is_null()),
            "every stored message reads back: {history}"
        );
        // Strict alternation: every user message is followed by its reply.
        for pair in messages.chunks(2) {
            assert_eq!(pair[0]["role"], "user", "{history}");
            assert_eq!(pair[1]["role"], "assistant", "{history}");
        }
    }
    println!("{backend:?}: {stored_total} messages stored for {created} acknowledged pairs");
    assert_eq!(
        stored_total,
        created * 2,
        "messages were committed whose 201 never reached the client: the stop cut requests in flight"
    );
    let user_rows = again
        .count("SELECT COUNT(*) FROM messages WHERE role = 'user'")
        .await;
    let assistant_rows = again
        .count("SELECT COUNT(*) FROM messages WHERE role = 'assistant'")
        .await;
    assert_eq!(user_rows, assistant_rows, "no half-written pair anywhere");
    assert_eq!(user_rows as usize * 2, stored_total);
    again.stop().await;
}

on_both_backends!(acknowledged_messages_survive_a_graceful_stop);

/// How a run of `serve` ends, on SQLite (the backend plays no part): `Ok` after a stop, an error
/// naming the actor after an escalation.
async fn run_outcome(escalate: Option<ActorKind>) -> anyhow::Result<()> {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let data_dir = tempfile::tempdir().expect("data dir");
    let application = build_application(test_settings(&database.url, data_dir.path())).await;
    let health = application.system().health.clone();
    let handle = application.handle();
    let run = actix_web::rt::spawn(application.run_until_stopped());
    match escalate {
        Some(actor) => health.escalate(actor),
        None => handle.stop(true).await,
    }
    actix_web::rt::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the server stops within 30 s")
        .expect("the run task completes")
        .map(|_teardown| ())
}

/// An escalation stops the server as gracefully as SIGTERM, yet the run must end in failure, so
/// that `cbln serve` exits 1 and systemd's `Restart=on-failure` starts a clean instance.
#[actix_web::test]
async fn an_escalation_ends_the_run_in_failure() {
    let error = run_outcome(Some(ActorKind::Persistence))
        .await
        .expect_err("a run stopped by an escalation must fail");
    assert!(
        error
            .to_string()
            .contains("persistence exceeded the restart budget"),
        "{error}"
    );
}

/// A stop asked for (SIGTERM, the handle) is a clean end.
#[actix_web::test]
async fn a_requested_stop_ends_the_run_cleanly() {
    run_outcome(None)
        .await
        .expect("a requested stop is not a failure");
}
