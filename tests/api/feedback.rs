//! Feedback API: one rating per session, validation of each field, the text stored encrypted.

use crate::helpers::{Backend, TestApp, spawn_with_session};
use crate::on_both_backends;
use crate::support::{
    Fetch, assert_field_error, assert_keys, assert_none_in, contains_bytes, keys, set,
};
use serde_json::{Value, json};

async fn submit(app: &TestApp, body: Value) -> (u16, Value) {
    app.post("/api/v1/feedback")
        .json(&body)
        .fetch_json_or_null()
        .await
}

async fn feedback_answers_201_then_409(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let session_id = app.history(&token).await["session_id"].clone();

    let (status, body) = submit(
        &app,
        json!({"session_token": token, "rating": 5, "feedback_text": "Bạn đã giúp mình nhiều", "category": "helpful"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_keys(&body, &["feedback", "message"]);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let feedback = &body["feedback"];
    assert_eq!(
        keys(feedback),
        set(&["id", "session_id", "rating", "category", "created_at"]),
        "no text is echoed: {body}"
    );
    uuid::Uuid::parse_str(feedback["id"].as_str().unwrap()).expect("UUID id");
    assert_eq!(feedback["session_id"], session_id);
    assert_eq!(feedback["rating"], 5);
    assert_eq!(feedback["category"], "helpful");
    let created = feedback["created_at"].as_str().unwrap();
    time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    assert!(created.ends_with('Z'));

    let (status, body) = submit(&app, json!({"session_token": token, "rating": 1})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "feedback_exists");
    assert!(body["detail"].is_string());
    assert_eq!(app.count("SELECT COUNT(*) FROM feedback").await, 1);

    // Bearer, lowest rating, no text, no category: a minimal feedback of another session.
    let other = app.create_session().await;
    let (status, body) = app
        .post_as("/api/v1/feedback", &other)
        .json(&json!({"rating": 1}))
        .fetch_json()
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["feedback"]["rating"], 1);
    assert!(body["feedback"]["category"].is_null(), "{body}");

    for category in ["not_helpful", "inappropriate", "other"] {
        let token = app.create_session().await;
        let (status, body) = submit(
            &app,
            json!({"session_token": token, "rating": 3, "category": category}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["feedback"]["category"], category);
    }

    let (status, body) = submit(
        &app,
        json!({"session_token": format!("anon_{}", uuid::Uuid::new_v4().simple()), "rating": 3}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "session_not_found");
    app.stop().await;
}

async fn feedback_fields_are_validated(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;

    for rating in [
        json!(0),
        json!(6),
        json!(-1),
        json!("5"),
        json!(4.5),
        json!(null),
    ] {
        let (status, body) = submit(&app, json!({"session_token": token, "rating": rating})).await;
        assert_field_error(status, &body, "rating");
    }
    let (status, body) = submit(&app, json!({"session_token": token})).await;
    assert_field_error(status, &body, "rating");

    let (status, body) = submit(
        &app,
        json!({"session_token": token, "rating": 4, "feedback_text": "ệ".repeat(1001)}),
    )
    .await;
    assert_field_error(status, &body, "feedback_text");
    let (status, body) = submit(
        &app,
        json!({"session_token": token, "rating": 4, "feedback_text": 42}),
    )
    .await;
    assert_field_error(status, &body, "feedback_text");

    for category in [json!("awesome"), json!("Helpful"), json!(""), json!(1)] {
        let (status, body) = submit(
            &app,
            json!({"session_token": token, "rating": 4, "category": category}),
        )
        .await;
        assert_field_error(status, &body, "category");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM feedback").await,
        0,
        "nothing invalid is stored"
    );

    // Exactly 1000 characters (3000 bytes) is accepted: characters, not bytes.
    let (status, body) = submit(
        &app,
        json!({"session_token": token, "rating": 4, "feedback_text": "ệ".repeat(1000)}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    app.stop().await;
}

async fn feedback_text_is_stored_encrypted(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let marker = format!(
        "Góp ý bí mật {} không được lưu rõ",
        uuid::Uuid::new_v4().simple()
    );
    let (status, body) = submit(
        &app,
        json!({"session_token": token, "rating": 2, "feedback_text": marker, "category": "other"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM feedback WHERE text IS NOT NULL")
            .await,
        1,
        "the text is stored (as ciphertext)"
    );

    let bytes = app.database_bytes().await;
    assert!(!bytes.is_empty());
    // Positive control: the search does find what is stored (the session id).
    let stored_id = app.stored_session_id(&token).await;
    assert!(
        contains_bytes(&bytes, &stored_id),
        "the search sees the stored session id"
    );
    let unique = marker.split(' ').nth(4).unwrap().to_string();
    let needles = [
        marker.as_bytes().to_vec(),
        unique.as_bytes().to_vec(),
        hex::encode(marker.as_bytes()).into_bytes(),
        hex::encode(unique.as_bytes()).into_bytes(),
    ];
    assert_none_in(&bytes, &needles, "feedback text readable in the database");
    app.stop().await;
}

on_both_backends!(
    feedback_answers_201_then_409,
    feedback_fields_are_validated,
    feedback_text_is_stored_encrypted,
);
