//! What the actor system does behind the API, as a client meets it: rule changes apply without a
//! restart, expiry answers 401 until the janitor removes the session, a full session answers 503,
//! and evicting session actors loses nothing.

use crate::helpers::{Backend, spawn_app_on, spawn_app_with};
use crate::on_both_backends;
use crate::support::poll_until;
use cbln_actors::persistence::RuleRecord;
use std::time::Duration;

async fn a_new_crisis_rule_applies_without_a_restart(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.janitor.rules_poll_interval_s = 1).await;
    let token = app.create_session().await;
    // Slang an operator might add: the spider lily is the flower of the underworld. (Round 11's
    // model reads the earlier probe, "muốn ăn quả táo độc", as self-harm on its own.)
    let phrase = "muốn đi hái hoa bỉ ngạn";
    let body = app.sent(&token, phrase).await;
    assert!(
        body["crisis_info"].is_null(),
        "not a crisis before the rule exists: {body}"
    );

    // An operator adds the rule from elsewhere (as `cbln keywords add` does).
    let store =
        cbln_actors::persistence::Store::connect(&cbln_actors::persistence::StoreSettings {
            url: app.database.url.clone(),
            max_connections: 1,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
    store
        .insert_rule(&RuleRecord {
            rule_id: "test.sui.hoa_bi_ngan".into(),
            pattern: "hái hoa bỉ ngạn".into(),
            category: "suicide".into(),
            severity: Some("high".into()),
            language: "vi".into(),
            kind: "phrase".into(),
            enabled: true,
        })
        .await
        .unwrap();
    store.close().await;

    // Until the rule is loaded the repeated phrase may already read as a crisis of another kind
    // in the light of the turns before it (the model's call); the rule's category shows that the
    // rule itself applies.
    poll_until(
        "the running server never picked up the new rule",
        Duration::from_secs(10),
        Duration::from_millis(300),
        || async {
            let body = app.sent(&token, phrase).await;
            Some(body["crisis_info"].clone()).filter(|card| {
                card["categories"]
                    .as_array()
                    .is_some_and(|categories| categories.iter().any(|c| c == "suicide"))
            })
        },
    )
    .await;
    app.stop().await;
}

async fn an_expired_session_answers_401_until_the_janitor_removes_it(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.janitor.sweep_at_start = false).await;
    let token = app.create_session().await;
    // Expire it before its actor starts (a live actor keeps the expiry it loaded).
    app.expire_all_sessions().await;
    let (status, body) = app.send_message(&token, "còn đó không").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("session_expired")),
        "{body}"
    );

    // A restart runs the janitor's sweep at start; the session and its data are then gone.
    let database = app.stop().await;
    let app = spawn_app_on(database, |s| s.janitor.sweep_at_start = true).await;
    let gone = poll_until(
        "the janitor never removed the expired session",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || async {
            let (status, body) = app.send_message(&token, "còn đó không").await;
            if status != 404 {
                assert_eq!(status, 401, "{body}");
            }
            (status == 404).then_some(body)
        },
    )
    .await;
    assert_eq!(gone["error"], "session_not_found");
    // The sweep may still be removing the session's data when its row is already gone.
    poll_until(
        "the janitor left messages or keys of the expired session",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || async {
            let messages = app.count("SELECT COUNT(*) FROM messages").await;
            let keys = app.count("SELECT COUNT(*) FROM session_keys").await;
            ((messages, keys) == (0, 0)).then_some(())
        },
    )
    .await;
    app.stop().await;
}

async fn a_full_session_answers_503_and_loses_nothing_acknowledged(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.session.mailbox_capacity = 1).await;
    let token = app.create_session().await;
    let sends = (0..24).map(|i| {
        let (app, token) = (&app, &token);
        async move {
            let response = app
                .client
                .post(app.url("/api/v1/messages"))
                .bearer_auth(token)
                .json(&serde_json::json!({"content": format!("tin nhắn số {i}")}))
                .send()
                .await
                .unwrap();
            let retry_after = response.headers().get("retry-after").cloned();
            (response.status().as_u16(), retry_after)
        }
    });
    let results = futures_util::future::join_all(sends).await;
    let accepted = results.iter().filter(|(status, _)| *status == 201).count();
    let refused: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 503)
        .collect();
    assert_eq!(
        accepted + refused.len(),
        results.len(),
        "only 201 or 503: {results:?}"
    );
    assert!(accepted >= 1, "{results:?}");
    assert!(
        !refused.is_empty(),
        "24 simultaneous posts to a session with room for one: {results:?}"
    );
    assert!(
        refused.iter().all(|(_, retry)| retry.is_some()),
        "every 503 says when to retry"
    );
    let history = app.history(&token).await;
    assert_eq!(
        history["total_count"],
        accepted as i64 * 2,
        "every 201 and only those are stored"
    );
    app.stop().await;
}

async fn evicted_session_actors_lose_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.session.max_live_actors = 1).await;
    let (a, b) = (app.create_session().await, app.create_session().await);
    for round in 0..3 {
        for token in [&a, &b] {
            // Each message to one session evicts the other's actor (only one may live).
            let (status, body) = app.send_message(token, &format!("lượt {round}")).await;
            assert_eq!(status, 201, "{body}");
        }
    }
    for token in [&a, &b] {
        let history = app.history(token).await;
        assert_eq!(history["total_count"], 6);
        let contents: Vec<_> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user")
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(contents, ["lượt 0", "lượt 1", "lượt 2"]);
    }
    app.stop().await;
}

on_both_backends!(
    a_new_crisis_rule_applies_without_a_restart,
    an_expired_session_answers_401_until_the_janitor_removes_it,
    a_full_session_answers_503_and_loses_nothing_acknowledged,
    evicted_session_actors_lose_nothing,
);
