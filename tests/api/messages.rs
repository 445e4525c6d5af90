//! Messages API: send, history with pagination, get one, delete one, delete all, the crisis card,
//! and exact order under concurrent posts to one session.

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with, spawn_with_session};
use crate::on_both_backends;
use crate::support::{Fetch, assert_error, assert_field_error, assert_keys, parse_time};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;

const CRISIS_VI: &str = "mình muốn chết, không muốn sống nữa";
const CRISIS_EN: &str = "I want to kill myself, I don't want to live anymore";

fn assert_message_shape(message: &Value) {
    assert_keys(
        message,
        &[
            "id",
            "session_id",
            "role",
            "content",
            "created_at",
            "model_used",
            "processing_time_ms",
            "is_crisis_detected",
        ],
    );
    uuid::Uuid::parse_str(message["id"].as_str().expect("id")).expect("id is a UUID");
    uuid::Uuid::parse_str(message["session_id"].as_str().expect("session_id"))
        .expect("session_id is a UUID");
    assert!(message["content"].is_string(), "{message}");
    assert!(message["is_crisis_detected"].is_boolean(), "{message}");
    let created = message["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z'), "UTC: {created}");
    parse_time(&message["created_at"]);
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    app.get_as(path, token).fetch_json_or_null().await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let response = app.delete_as(path, token).fetch().await;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    if bytes.is_empty() {
        (status, Value::Null)
    } else {
        (status, serde_json::from_slice(&bytes).expect("json body"))
    }
}

async fn post_answers_201_with_both_messages(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let body = app.sent(&token, "mình lo lắng về kỳ thi sắp tới").await;
    assert_keys(
        &body,
        &["user_message", "ai_message", "crisis_info", "notice"],
    );
    let user = &body["user_message"];
    let ai = &body["ai_message"];
    assert_message_shape(user);
    assert_message_shape(ai);
    assert_eq!(user["role"], "user");
    assert_eq!(user["content"], "mình lo lắng về kỳ thi sắp tới");
    assert_eq!(user["is_crisis_detected"], false);
    assert!(user["model_used"].is_null(), "{user}");
    assert_eq!(ai["role"], "assistant");
    assert_eq!(ai["model_used"], "builtin-listener-v1");
    assert!(
        ai["processing_time_ms"].is_u64(),
        "processing_time_ms is a number: {ai}"
    );
    assert!(!ai["content"].as_str().unwrap().trim().is_empty());
    assert_eq!(ai["is_crisis_detected"], false);
    assert_eq!(user["session_id"], ai["session_id"]);
    assert_ne!(user["id"], ai["id"]);
    assert!(parse_time(&ai["created_at"]) >= parse_time(&user["created_at"]));
    assert!(body["crisis_info"].is_null(), "{body}");

    let history = app.history(&token).await;
    assert_eq!(
        history["messages"][0], *user,
        "history shows what was posted"
    );
    assert_eq!(history["messages"][1], *ai);
    assert_eq!(history["session_id"], user["session_id"]);
    app.stop().await;
}

async fn content_is_trimmed_and_validated(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;

    let body = app.sent(&token, "  \n\t xin chào bạn \t\n ").await;
    assert_eq!(body["user_message"]["content"], "xin chào bạn");
    assert_eq!(
        app.history(&token).await["messages"][0]["content"],
        "xin chào bạn"
    );

    for empty in ["", " ", "\n\t  \r\n", "\u{3000}"] {
        let (status, body) = app.send_message(&token, empty).await;
        assert_field_error(status, &body, "content");
    }
    for sent in [
        json!({}),
        json!({"content": null}),
        json!({"content": ["a"]}),
    ] {
        let (status, body) = app.post_message_body(&token, &sent).await;
        assert_field_error(status, &body, "content");
    }

    // Characters, not bytes: "ệ" is 3 bytes in UTF-8, so 5000 of them are 15000 bytes (under the
    // 64 KiB body limit) and still a valid message.
    let exactly = "ệ".repeat(5000);
    let (status, body) = app.send_message(&token, &exactly).await;
    assert_eq!(status, 201, "exactly 5000 characters: {}", body["error"]);
    assert_eq!(
        body["user_message"]["content"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        5000
    );
    // The limit is on the text as sent (the document's `maxLength`); it is stored trimmed.
    let padded = format!("  {}  ", "ệ".repeat(4996));
    let (status, body) = app.send_message(&token, &padded).await;
    assert_eq!(
        status, 201,
        "5000 characters with the padding: {}",
        body["error"]
    );
    assert_eq!(body["user_message"]["content"], "ệ".repeat(4996));
    let (status, body) = app.send_message(&token, &format!(" {exactly}")).await;
    assert_field_error(status, &body, "content");

    let over = "ệ".repeat(5001);
    let (status, body) = app.send_message(&token, &over).await;
    assert_field_error(status, &body, "content");
    let over_ascii = "a".repeat(5001);
    let (status, body) = app.send_message(&token, &over_ascii).await;
    assert_field_error(status, &body, "content");

    assert_eq!(
        app.history(&token).await["total_count"],
        6,
        "only the valid messages were stored"
    );
    app.stop().await;
}

async fn history_is_ordered_and_paginated(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let sent = ["một", "hai", "ba"];
    let mut ids = Vec::new();
    for content in sent {
        let body = app.sent(&token, content).await;
        ids.push(body["user_message"]["id"].clone());
        ids.push(body["ai_message"]["id"].clone());
    }

    let (status, all) = get(&app, "/api/v1/messages", &token).await;
    assert_eq!(status, 200, "{all}");
    assert_keys(
        &all,
        &[
            "messages",
            "total_count",
            "session_id",
            "has_crisis_history",
        ],
    );
    assert_eq!(all["total_count"], 6);
    assert_eq!(all["has_crisis_history"], false);
    let messages = all["messages"].as_array().unwrap();
    let got: Vec<Value> = messages.iter().map(|m| m["id"].clone()).collect();
    assert_eq!(got, ids, "oldest first, in exact order");
    for (i, content) in sent.iter().enumerate() {
        assert_eq!(messages[2 * i]["content"], *content);
        assert_eq!(messages[2 * i]["role"], "user");
        assert_eq!(messages[2 * i + 1]["role"], "assistant");
    }

    let (status, page) = get(&app, "/api/v1/messages?limit=2&offset=2", &token).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total_count"], 6, "total_count is the whole session");
    let page_ids: Vec<Value> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(page_ids, ids[2..4].to_vec());

    let (_, first) = get(&app, "/api/v1/messages?limit=1", &token).await;
    assert_eq!(first["messages"].as_array().unwrap().len(), 1);
    assert_eq!(first["messages"][0]["id"], ids[0]);
    let (_, tail) = get(&app, "/api/v1/messages?offset=5", &token).await;
    assert_eq!(tail["messages"].as_array().unwrap().len(), 1);
    assert_eq!(tail["messages"][0]["id"], ids[5]);
    let (status, beyond) = get(&app, "/api/v1/messages?offset=6&limit=200", &token).await;
    assert_eq!(status, 200);
    assert_eq!(beyond["messages"], json!([]));
    assert_eq!(beyond["total_count"], 6);
    let (status, _) = get(&app, "/api/v1/messages/?limit=200&offset=0", &token).await;
    assert_eq!(status, 200);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=x", "limit"),
        ("limit=1.5", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/messages?{query}"), &token).await;
        assert_field_error(status, &body, field);
    }
    app.stop().await;
}

async fn crisis_history_covers_the_whole_session(backend: Backend) {
    let (app, calm) = spawn_with_session(backend).await;
    let (status, _) = app.send_message(&calm, "hôm nay trời đẹp").await;
    assert_eq!(status, 201);
    assert_eq!(app.history(&calm).await["has_crisis_history"], false);

    let token = app.create_session().await;
    let body = app.sent(&token, CRISIS_VI).await;
    let crisis_id = body["user_message"]["id"].clone();
    for content in ["cảm ơn bạn đã nghe", "mình sẽ gọi cho mẹ"] {
        app.sent(&token, content).await;
    }
    let (status, page) = get(&app, "/api/v1/messages?limit=2&offset=4", &token).await;
    assert_eq!(status, 200, "{page}");
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert!(
        messages.iter().all(|m| m["id"] != crisis_id),
        "the crisis message is outside the page"
    );
    assert_eq!(page["has_crisis_history"], true, "{page}");
    assert_eq!(app.history(&calm).await["has_crisis_history"], false);
    app.stop().await;
}

async fn get_one_message(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let other = app.create_session().await;
    let body = app.sent(&token, "tin nhắn của mình").await;
    let foreign = app.sent(&other, "tin nhắn của người khác").await;
    let id = body["user_message"]["id"].as_str().unwrap();
    let ai_id = body["ai_message"]["id"].as_str().unwrap();

    let (status, message) = get(&app, &format!("/api/v1/messages/{id}"), &token).await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(message, body["user_message"]);
    let (status, message) = get(&app, &format!("/api/v1/messages/{ai_id}"), &token).await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(message, body["ai_message"]);

    // The compatibility form: token in the query.
    assert_eq!(
        app.get(&format!("/api/v1/messages/{id}"))
            .query(&[("session_token", token.as_str())])
            .fetch_status()
            .await,
        200
    );

    let foreign_id = foreign["user_message"]["id"].as_str().unwrap();
    let (status, body) = get(&app, &format!("/api/v1/messages/{foreign_id}"), &token).await;
    assert_error(status, &body, 404, "message_not_found");
    let random = uuid::Uuid::new_v4();
    let (status, body) = get(&app, &format!("/api/v1/messages/{random}"), &token).await;
    assert_error(status, &body, 404, "message_not_found");
    for malformed in ["not-a-uuid", "123", "%27%20OR%201%3D1"] {
        let (status, body) = get(&app, &format!("/api/v1/messages/{malformed}"), &token).await;
        assert_error(status, &body, 422, "validation_failed");
        assert!(body["field"].is_string(), "{body}");
    }
    app.stop().await;
}

async fn delete_one_message(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let first = app.sent(&token, "xoá tin này").await;
    let second = app.sent(&token, "giữ tin này").await;
    let other = app.create_session().await;
    let foreign = app.sent(&other, "không phải của bạn").await;
    let id = first["user_message"]["id"].as_str().unwrap();

    let before = OffsetDateTime::now_utc();
    let (status, body) = delete(&app, &format!("/api/v1/messages/{id}"), &token).await;
    assert_eq!(status, 200, "{body}");
    assert_keys(&body, &["message", "deleted_at", "message_id"]);
    assert_eq!(body["message"], "Message deleted successfully");
    assert_eq!(body["message_id"], id);
    let deleted_at = parse_time(&body["deleted_at"]);
    assert!(deleted_at >= before - time::Duration::seconds(2));

    let (status, body) = get(&app, &format!("/api/v1/messages/{id}"), &token).await;
    assert_error(status, &body, 404, "message_not_found");
    let (status, body) = delete(&app, &format!("/api/v1/messages/{id}"), &token).await;
    assert_error(status, &body, 404, "message_not_found");

    let history = app.history(&token).await;
    assert_eq!(history["total_count"], 3);
    let ids: Vec<&Value> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(
        ids,
        vec![
            &first["ai_message"]["id"],
            &second["user_message"]["id"],
            &second["ai_message"]["id"]
        ]
    );

    // Another session's message cannot be deleted from here.
    let foreign_id = foreign["user_message"]["id"].as_str().unwrap();
    let (status, body) = delete(&app, &format!("/api/v1/messages/{foreign_id}"), &token).await;
    assert_error(status, &body, 404, "message_not_found");
    assert_eq!(app.history(&other).await["total_count"], 2);
    let (status, body) = delete(&app, "/api/v1/messages/not-a-uuid", &token).await;
    assert_error(status, &body, 422, "validation_failed");
    app.stop().await;
}

async fn delete_all_messages(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let other = app.create_session().await;
    for content in ["một", "hai"] {
        let (status, _) = app.send_message(&token, content).await;
        assert_eq!(status, 201);
    }
    let (status, _) = app.send_message(&other, "ba").await;
    assert_eq!(status, 201);

    let (status, body) = delete(&app, "/api/v1/messages", &token).await;
    assert_eq!(status, 204, "{body}");
    assert!(body.is_null(), "204 has no body");
    let history = app.history(&token).await;
    assert_eq!(history["messages"], json!([]));
    assert_eq!(history["total_count"], 0);
    assert_eq!(app.history(&other).await["total_count"], 2);

    // The session goes on, in order.
    app.sent(&token, "bắt đầu lại").await;
    let history = app.history(&token).await;
    assert_eq!(history["total_count"], 2);
    assert_eq!(history["messages"][0]["content"], "bắt đầu lại");

    // The compatibility form.
    assert_eq!(
        app.delete("/api/v1/messages")
            .query(&[("session_token", token.as_str())])
            .fetch_status()
            .await,
        204
    );
    assert_eq!(app.history(&token).await["total_count"], 0);
    app.stop().await;
}

fn assert_crisis_card(card: &Value) {
    assert_keys(
        card,
        &[
            "categories",
            "severity",
            "priority_message",
            "hotlines",
            "immediate_actions",
            "reassurance",
        ],
    );
    let categories = card["categories"].as_array().expect("categories");
    assert!(
        categories.contains(&json!("suicide")),
        "suicide is among the categories: {card}"
    );
    assert!(
        ["medium", "high", "critical"].contains(&card["severity"].as_str().unwrap_or("")),
        "{card}"
    );
    assert!(!card["priority_message"].as_str().unwrap().trim().is_empty());
    assert!(!card["reassurance"].as_str().unwrap().trim().is_empty());
    let actions = card["immediate_actions"].as_array().expect("actions");
    assert!(!actions.is_empty(), "{card}");
    assert!(
        actions
            .iter()
            .all(|a| a.as_str().is_some_and(|s| !s.is_empty()))
    );
    let hotlines = card["hotlines"].as_array().expect("hotlines");
    for hotline in hotlines {
        assert_keys(
            hotline,
            &[
                "name",
                "number",
                "available",
                "free",
                "priority",
                "description",
            ],
        );
        assert!(hotline["name"].is_string());
        assert!(hotline["number"].is_string());
        assert!(hotline["available"].is_string());
        assert!(hotline["free"].is_boolean());
        assert!(hotline["priority"].is_u64());
        assert!(hotline["description"].is_string());
    }
    let numbers: BTreeSet<&str> = hotlines
        .iter()
        .filter_map(|h| h["number"].as_str())
        .collect();
    for number in ["111", "115", "113"] {
        assert!(numbers.contains(number), "hotline {number} listed: {card}");
    }
}

fn hotline<'a>(card: &'a Value, number: &str) -> &'a Value {
    card["hotlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["number"] == number)
        .unwrap_or_else(|| panic!("hotline {number} in {card}"))
}

async fn crisis_message_gets_a_crisis_card(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let body = app.sent(&token, CRISIS_VI).await;
    let card = &body["crisis_info"];
    assert!(card.is_object(), "crisis_info present: {body}");
    assert_crisis_card(card);
    assert_eq!(
        hotline(card, "115")["name"],
        "Cấp cứu y tế",
        "Vietnamese card"
    );
    assert_eq!(body["user_message"]["is_crisis_detected"], true);
    assert_eq!(body["ai_message"]["role"], "assistant");
    assert!(
        !body["ai_message"]["content"]
            .as_str()
            .unwrap()
            .trim()
            .is_empty()
    );

    let response = app.get(&format!("/api/v1/sessions/{token}")).fetch().await;
    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["is_crisis_mode"], true, "{status}");
    let history = app.history(&token).await;
    assert_eq!(history["has_crisis_history"], true);
    assert_eq!(history["messages"][0]["is_crisis_detected"], true);
    app.stop().await;
}

async fn english_session_gets_an_english_card(backend: Backend) {
    let app = spawn_app(backend).await;
    let vi = app.create_session_in("vi").await;
    let en = app.create_session_in("en").await;
    let vi_body = app.sent(&vi, CRISIS_VI).await;
    let en_body = app.sent(&en, CRISIS_EN).await;
    let card = &en_body["crisis_info"];
    assert!(card.is_object(), "crisis_info present: {en_body}");
    assert_crisis_card(card);
    assert_eq!(hotline(card, "115")["name"], "Medical emergency", "{card}");
    assert_eq!(hotline(card, "113")["name"], "Police", "{card}");
    assert_ne!(
        card["priority_message"], vi_body["crisis_info"]["priority_message"],
        "the English card speaks English"
    );
    assert_ne!(card["reassurance"], vi_body["crisis_info"]["reassurance"]);
    app.stop().await;
}

async fn concurrent_posts_keep_exact_order(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.session.mailbox_capacity = 64).await;
    let token = app.create_session().await;
    let contents: Vec<String> = (0..20).map(|i| format!("tin nhắn số {i}")).collect();
    let results =
        futures_util::future::join_all(contents.iter().map(|c| app.send_message(&token, c))).await;

    let mut reply_of = HashMap::new();
    for (status, body) in &results {
        assert_eq!(*status, 201, "{body}");
        reply_of.insert(
            body["user_message"]["id"].as_str().unwrap().to_string(),
            body["ai_message"]["id"].as_str().unwrap().to_string(),
        );
    }
    assert_eq!(reply_of.len(), 20, "20 distinct user messages");

    let history = app.history(&token).await;
    assert_eq!(history["total_count"], 40);
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 40);
    let mut seen = BTreeSet::new();
    let mut previous: Option<OffsetDateTime> = None;
    for pair in messages.chunks(2) {
        assert_eq!(pair[0]["role"], "user", "{history}");
        assert_eq!(pair[1]["role"], "assistant", "{history}");
        let user_id = pair[0]["id"].as_str().unwrap();
        assert_eq!(
            reply_of.get(user_id).map(String::as_str),
            pair[1]["id"].as_str(),
            "each user message is followed by its own reply"
        );
        assert!(seen.insert(pair[0]["content"].as_str().unwrap().to_string()));
        for message in pair {
            let at = parse_time(&message["created_at"]);
            assert!(previous.is_none_or(|p| p <= at), "times never go back");
            previous = Some(at);
        }
    }
    let expected: BTreeSet<String> = contents.into_iter().collect();
    assert_eq!(seen, expected, "every message exactly once");
    app.stop().await;
}

on_both_backends!(
    post_answers_201_with_both_messages,
    content_is_trimmed_and_validated,
    history_is_ordered_and_paginated,
    crisis_history_covers_the_whole_session,
    get_one_message,
    delete_one_message,
    delete_all_messages,
    crisis_message_gets_a_crisis_card,
    english_session_gets_an_english_card,
    concurrent_posts_keep_exact_order,
);

/// Someone whose friend says she wants to die gets guidance and numbers, not a generic reply.
async fn a_worried_friend_is_told_how_to_help(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let body = app
        .sent(&token, "làm sao để giúp bạn mình, bạn ấy nói muốn tự tử")
        .await;
    assert_eq!(
        body["ai_message"]["model_used"],
        cbln_actors::session::SAFETY_MODEL
    );
    let reply = body["ai_message"]["content"].as_str().unwrap();
    assert!(reply.contains("115") && reply.contains("111"), "{reply}");
    app.stop().await;
}

on_both_backends!(a_worried_friend_is_told_how_to_help);

/// A crisis phrase about a friend, with no question of how to help, is a third-party crisis: the
/// card for someone else's danger (round 8 left "bạn mình định tự tử, mình phải làm sao" only
/// elevated). A film's character in the same words is not.
async fn a_friend_in_danger_opens_a_third_party_crisis(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let body = app
        .sent(&token, "ban minh dinh tu tu, minh phai lam sao")
        .await;
    assert_eq!(
        body["crisis_info"]["categories"][0], "third_party",
        "{body}"
    );
    let calm = app.create_session().await;
    let film = app
        .sent(
            &calm,
            "bạn thân mình bảo cảnh nhân vật tự tử trong phim làm nó khóc cả đêm",
        )
        .await;
    assert!(film["crisis_info"].is_null(), "{film}");
    app.stop().await;
}

on_both_backends!(a_friend_in_danger_opens_a_third_party_crisis);
