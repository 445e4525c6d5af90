//! The first conversation a newcomer has: create a session, talk, read it back.

use crate::helpers::{Backend, spawn_with_session};
use crate::on_both_backends;

async fn a_conversation_round_trips(backend: Backend) {
    let (app, token) = spawn_with_session(backend).await;
    let body = app.sent(&token, "dạo này mình áp lực thi cử quá").await;
    assert_eq!(
        body["user_message"]["content"],
        "dạo này mình áp lực thi cử quá"
    );
    assert_eq!(body["ai_message"]["role"], "assistant");
    assert!(body["crisis_info"].is_null());
    let history = app.history(&token).await;
    assert_eq!(history["total_count"], 2);
    assert_eq!(history["messages"][0]["role"], "user");
    assert_eq!(history["messages"][1]["role"], "assistant");
    app.stop().await;
}

on_both_backends!(a_conversation_round_trips);
