//! Privacy end to end: what a user writes never reaches the database or the logs readable, a
//! ciphertext is bound to its row (tampering or moving it is reported, never served as garbage),
//! and deleting a session shreds its data key.

use crate::helpers::{Backend, TestApp, captured_logs, spawn_app, spawn_with_session};
use crate::on_both_backends;
use crate::support::{Fetch, contains_bytes};
use cbln_actors::crypto::{Aad, KeyRing, MasterKey, Purpose};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::Connection;
use uuid::Uuid;

/// A raw connection behind the API, with the few queries these tests need (bound parameters:
/// ids are 16-byte blobs on SQLite and `uuid` on PostgreSQL).
enum Raw {
    Pg(sqlx::PgConnection),
    Lite(sqlx::SqliteConnection),
}

/// Evaluates `$body` with `$connection` bound to whichever connection `$raw` holds.
macro_rules! on_either {
    ($raw:expr, |$connection:ident| $body:expr) => {
        match $raw {
            Raw::Pg($connection) => $body,
            Raw::Lite($connection) => $body,
        }
    };
}

impl Raw {
    async fn open(app: &TestApp) -> Raw {
        if app.database.pg_name.is_some() {
            Raw::Pg(
                sqlx::PgConnection::connect(&app.database.url)
                    .await
                    .expect("connect"),
            )
        } else {
            Raw::Lite(
                sqlx::SqliteConnection::connect(&app.database.url)
                    .await
                    .expect("connect"),
            )
        }
    }

    /// `(seq, id, role, content)` of a session's messages, in order.
    async fn messages(&mut self, session: Uuid) -> Vec<(i64, Uuid, String, Vec<u8>)> {
        on_either!(self, |c| sqlx::query_as(
            "SELECT seq, id, role, content FROM messages WHERE session_id = $1 ORDER BY seq",
        )
        .bind(session)
        .fetch_all(c)
        .await
        .expect("messages"))
    }

    async fn set_content(&mut self, session: Uuid, seq: i64, content: &[u8]) {
        let affected = on_either!(self, |c| sqlx::query(
            "UPDATE messages SET content = $1 WHERE session_id = $2 AND seq = $3"
        )
        .bind(content)
        .bind(session)
        .bind(seq)
        .execute(c)
        .await
        .expect("update")
        .rows_affected());
        assert_eq!(affected, 1, "exactly one row rewritten");
    }

    /// Every stored wrapped data key: `(session_id, wrapped_key)`.
    async fn wrapped_keys(&mut self) -> Vec<(Uuid, Vec<u8>)> {
        on_either!(self, |c| sqlx::query_as(
            "SELECT session_id, wrapped_key FROM session_keys"
        )
        .fetch_all(c)
        .await
        .expect("session keys"))
    }

    /// Flips one ciphertext byte (in SQL on PostgreSQL).
    async fn flip_byte_in_sql(&mut self, session: Uuid, seq: i64, index: i64) {
        let affected = match self {
            Raw::Pg(c) => sqlx::query(
                "UPDATE messages SET content = set_byte(content, $3::int, get_byte(content, $3::int) # 1) \
                 WHERE session_id = $1 AND seq = $2",
            )
            .bind(session)
            .bind(seq)
            .bind(index as i32)
            .execute(c)
            .await
            .expect("flip")
            .rows_affected(),
            Raw::Lite(_) => 0,
        };
        // SQLite has no byte-level blob update: flip it in Rust and write the row back.
        if affected != 1 {
            let rows = self.messages(session).await;
            let (_, _, _, mut content) = rows
                .into_iter()
                .find(|(s, ..)| *s == seq)
                .expect("row to tamper");
            content[index as usize] ^= 1;
            self.set_content(session, seq, &content).await;
        }
    }
}

fn keyring(app: &TestApp) -> KeyRing {
    let primary = MasterKey::parse(app.settings.security.encryption_key.expose_secret())
        .expect("the test app's master key parses");
    KeyRing::new(primary, vec![])
}

fn session_id_of(history: &Value) -> Uuid {
    Uuid::parse_str(history["session_id"].as_str().expect("session_id")).expect("uuid")
}

async fn nothing_readable_reaches_the_database_or_the_logs(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let marker = format!("marker {} ngôi nhà màu tím", Uuid::new_v4());
    let feedback_marker = format!("feedback {} con mèo đi hia", Uuid::new_v4());
    let request_id = format!("privacy-{}", Uuid::new_v4().simple());

    let response = app
        .post_as("/api/v1/messages", &token)
        .header("X-Request-ID", &request_id)
        .json(&json!({"content": format!("hôm nay mình kể bạn nghe: {marker}")}))
        .fetch()
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["x-request-id"].to_str().unwrap(),
        request_id,
        "the request id is echoed"
    );
    app.sent(&token, &format!("{marker} — mình vẫn nhớ mãi"))
        .await;
    app.sent(&token, &marker).await;
    assert_eq!(
        app.post_as("/api/v1/feedback", &token)
            .json(&json!({"rating": 4, "feedback_text": feedback_marker, "category": "helpful"}))
            .fetch_status()
            .await,
        201
    );
    // Every form of the token the API accepts, so a leak through any of them would be seen.
    for (form, request) in [
        ("path", app.get(&format!("/api/v1/sessions/{token}"))),
        (
            "query",
            app.get(&format!("/api/v1/messages?session_token={token}")),
        ),
        (
            "header",
            app.get("/api/v1/messages").header("X-Session-ID", &token),
        ),
    ] {
        assert_eq!(request.fetch().await.status(), 200, "token in the {form}");
    }

    // The messages are there and readable through the API (so the checks below are not vacuous).
    let history = app.history(&token).await;
    assert_eq!(history["total_count"], 6, "{history}");
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert!(texts.iter().filter(|t| t.contains(&marker)).count() >= 3);
    assert!(
        app.count("SELECT COUNT(*) FROM feedback").await == 1,
        "the feedback row exists"
    );

    // Let the pool flush; SQLite's WAL is part of the bytes searched.
    let bytes = app.database_bytes().await;
    assert!(!bytes.is_empty());
    for (what, secret) in [
        ("marker", marker.as_str()),
        ("feedback marker", feedback_marker.as_str()),
        ("session token", token.as_str()),
    ] {
        assert!(
            !contains_bytes(&bytes, secret.as_bytes()),
            "the {what} is stored readable in the database"
        );
        let hex_form = hex::encode(secret.as_bytes());
        assert!(
            !contains_bytes(&bytes, hex_form.as_bytes()),
            "the {what} is stored as hex in the database"
        );
        // The part after the first word alone (in case a prefix is stripped or re-encoded).
        let tail = secret.split_once(' ').map(|(_, t)| t).unwrap_or(secret);
        assert!(
            !contains_bytes(&bytes, tail.as_bytes()),
            "part of the {what} is stored readable"
        );
    }

    let logs = captured_logs();
    assert!(
        logs.contains(&request_id),
        "the captured logs do not contain this test's request id, so searching them proves nothing"
    );
    for (what, secret) in [
        ("marker", marker.as_str()),
        ("feedback marker", feedback_marker.as_str()),
        ("session token", token.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
        let tail = secret.split_once(' ').map(|(_, t)| t).unwrap_or(secret);
        assert!(
            !logs.contains(tail),
            "part of the {what} appears in the logs"
        );
    }
    // The token's random part alone (prefix stripped) must not be logged either.
    let random_part = token.strip_prefix("anon_").unwrap_or(&token);
    assert!(
        !logs.contains(random_part),
        "the session token appears in the logs"
    );
    app.stop().await;
}

/// A crisis is logged by category and severity only: the ids of the rules that matched are slugs
/// of the words a person wrote ("p.sui.tu_tu"), so none may reach a log line.
async fn crisis_logs_name_no_rule(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let request_id = format!("rules-{}", Uuid::new_v4().simple());
    let messages = [
        "mình gom đủ thuốc ngủ rồi, tối nay mình sẽ uống hết",
        "bố say rượu về lại đánh mình chảy máu",
        "t lại cắt tay rồi, dao lam vẫn để trong hộp bút",
    ];
    let detector =
        cbln_actors::crisis::CrisisDetector::compile(&cbln_actors::crisis::default_rules())
            .unwrap();
    let mut rule_ids = std::collections::BTreeSet::new();
    for message in messages {
        let response = app
            .post_as("/api/v1/messages", &token)
            .header("X-Request-ID", &request_id)
            .json(&json!({ "content": message }))
            .fetch()
            .await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(!body["crisis_info"].is_null(), "{body}");
        for hit in detector.explain(message).hits {
            rule_ids.insert(hit.rule_id);
        }
    }
    assert!(
        rule_ids.len() >= 5,
        "the messages match rules: {rule_ids:?}"
    );
    let logs = captured_logs();
    assert!(
        logs.contains(&request_id) && logs.contains("crisis detected"),
        "the crisis log lines of this test were captured"
    );
    for id in &rule_ids {
        assert!(
            !logs.contains(id.as_str()),
            "rule id {id} appears in the logs"
        );
    }
    app.stop().await;
}

async fn tampered_or_moved_ciphertext_is_reported_not_served(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let texts = [
        "tin nhắn thứ nhất về kỳ thi",
        "tin nhắn thứ hai về gia đình",
        "tin nhắn thứ ba về bạn bè",
    ];
    for text in texts {
        app.sent(&token, text).await;
    }
    let history = app.history(&token).await;
    let session = session_id_of(&history);
    let mut raw = Raw::open(&app).await;
    let rows = raw.messages(session).await;
    assert_eq!(rows.len(), 6);
    let users: Vec<&(i64, Uuid, String, Vec<u8>)> = rows
        .iter()
        .filter(|(_, _, role, _)| role == "user")
        .collect();
    assert_eq!(users.len(), 3);
    let (first_seq, first_id, _, first_content) = users[0].clone();
    let (second_seq, second_id, _, _) = users[1].clone();
    let (third_seq, third_id, _, third_content) = users[2].clone();
    assert!(third_content.len() > 21, "ciphertext long enough to tamper");

    // Tamper one byte of the third message's ciphertext (inside the encrypted body).
    raw.flip_byte_in_sql(session, third_seq, 20).await;
    let after = raw.messages(session).await;
    let tampered = &after.iter().find(|(s, ..)| *s == third_seq).unwrap().3;
    assert_ne!(tampered, &third_content, "the byte was flipped");
    assert_eq!(tampered.len(), third_content.len());

    let response = app
        .get_as("/api/v1/messages?limit=200", &token)
        .fetch()
        .await;
    assert_eq!(
        response.status(),
        200,
        "a tampered record must not fail the list"
    );
    let history: Value = response.json().await.unwrap();
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6, "{history}");
    for message in messages {
        let id = Uuid::parse_str(message["id"].as_str().unwrap()).unwrap();
        if id == third_id {
            assert!(message["content"].is_null(), "{message}");
            assert_eq!(message["integrity_error"], true, "{message}");
        } else {
            assert!(message["content"].is_string(), "{message}");
            assert_ne!(message["integrity_error"], true, "{message}");
        }
    }
    assert_eq!(messages[0]["content"], texts[0]);
    assert_eq!(messages[2]["content"], texts[1]);

    // The single-message read reports it the same way.
    let response = app
        .get_as(&format!("/api/v1/messages/{third_id}"), &token)
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    let one: Value = response.json().await.unwrap();
    assert!(
        one["content"].is_null() && one["integrity_error"] == true,
        "{one}"
    );

    // Copy the first message's (valid) ciphertext into the second message's row: the AAD binds
    // it to its own record id, so it must not decrypt there.
    raw.set_content(session, second_seq, &first_content).await;
    let history = app.history(&token).await;
    let messages = history["messages"].as_array().unwrap();
    let find = |id: Uuid| {
        messages
            .iter()
            .find(|m| m["id"] == id.to_string())
            .unwrap_or_else(|| panic!("{id} in {history}"))
    };
    assert_eq!(find(first_id)["content"], texts[0]);
    assert!(find(second_id)["content"].is_null(), "{history}");
    assert_eq!(find(second_id)["integrity_error"], true, "{history}");
    assert_eq!(find(third_id)["integrity_error"], true);
    assert!(
        messages
            .iter()
            .filter(|m| m["role"] == "assistant")
            .all(|m| m["content"].is_string() && m["integrity_error"].is_null()),
        "{history}"
    );
    let _ = first_seq;

    // A ciphertext of another session, even a valid one, does not open here either.
    let other = app.create_session().await;
    let (status, _) = app.send_message(&other, "tin nhắn của phiên khác").await;
    assert_eq!(status, 201);
    let other_history = app.history(&other).await;
    let other_rows = raw.messages(session_id_of(&other_history)).await;
    raw.set_content(session, first_seq, &other_rows[0].3).await;
    let history = app.history(&token).await;
    let moved = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == first_id.to_string())
        .unwrap()
        .clone();
    assert_eq!(moved["integrity_error"], true, "{moved}");
    assert!(moved["content"].is_null());
    app.stop().await;
}

async fn deleting_a_session_shreds_its_data_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let keys = keyring(&app);
    let token = app.create_session().await;
    let secret_text = format!("bí mật {} không ai được đọc", Uuid::new_v4());
    app.sent(&token, &secret_text).await;
    // A second session that stays, so "what remains" is not empty.
    let survivor = app.create_session().await;
    let (status, _) = app.send_message(&survivor, "mình vẫn ở đây").await;
    assert_eq!(status, 201);

    let history = app.history(&token).await;
    let session = session_id_of(&history);
    let mut raw = Raw::open(&app).await;
    let rows = raw.messages(session).await;
    let (_, message_id, _, backup_copy) = rows
        .iter()
        .find(|(_, _, role, _)| role == "user")
        .cloned()
        .expect("the user message");
    let aad = Aad::new(session, message_id, Purpose::MessageContent);
    let all_keys = raw.wrapped_keys().await;
    let wrapped = all_keys
        .iter()
        .find(|(id, _)| *id == session)
        .map(|(_, key)| key.clone())
        .expect("the session has a wrapped data key in session_keys");

    // Control: while the key exists, the copy decrypts to the text (so the check below means
    // something).
    let data_key = keys.unwrap(&wrapped, session).expect("unwraps");
    let plain = data_key.open(&backup_copy, &aad).expect("opens");
    assert_eq!(String::from_utf8(plain).unwrap(), secret_text);

    let status = app.delete_session(&token).fetch_status().await;
    assert_eq!(status, 204);

    let remaining = raw.wrapped_keys().await;
    assert!(
        remaining.iter().all(|(id, _)| *id != session),
        "the deleted session's wrapped key is still stored"
    );
    assert!(
        !remaining.is_empty(),
        "the other session's key must remain (the check would be vacuous)"
    );
    assert!(
        raw.messages(session).await.is_empty(),
        "messages cascade away"
    );
    // Nothing that remains opens the copy: no remaining wrapped key unwraps for this session,
    // and no other session's data key opens its ciphertext.
    for (owner, other_wrapped) in &remaining {
        assert!(
            keys.unwrap(other_wrapped, session).is_err(),
            "a remaining wrapped key unwraps for the deleted session"
        );
        let other_key = keys.unwrap(other_wrapped, *owner).expect("own key unwraps");
        assert!(other_key.open(&backup_copy, &aad).is_err());
    }
    // Nor does the database hold the old wrapped key anywhere (the key row is gone, not moved).
    let bytes = app.database_bytes().await;
    if backend == Backend::Postgres {
        let hex_form = hex::encode(&wrapped);
        assert!(!contains_bytes(&bytes, hex_form.as_bytes()));
    }
    // The API no longer knows the session.
    let status = app.get_as("/api/v1/messages", &token).fetch_status().await;
    assert_eq!(status, 404);
    app.stop().await;
}

on_both_backends!(
    nothing_readable_reaches_the_database_or_the_logs,
    crisis_logs_name_no_rule,
    tampered_or_moved_ciphertext_is_reported_not_served,
    deleting_a_session_shreds_its_data_key,
);
