//! Notices on replies over real HTTP: the AI disclosure on a session's first reply, a break
//! reminder after a stretch of continuous use or late at night in Vietnam, none in a crisis, the
//! wording from `content/`, and the same notice on a streamed reply.

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;
use crate::streaming::parse_events;
use cbln_actors::content::wording;
use cbln_actors::domain::Language;
use serde_json::{Value, json};
use std::time::Duration;

const CRISIS_VI: &str = "mình muốn chết, không muốn sống nữa";

/// An app whose night window is `night` (start, end) and whose stretch is `break_after_s` long.
async fn app_with(backend: Backend, break_after_s: u64, night: (u8, u8)) -> TestApp {
    spawn_app_with(backend, move |s| {
        s.session.break_after_s = break_after_s;
        s.session.stretch_gap_s = 3600;
        s.session.night_start_hour = night.0;
        s.session.night_end_hour = night.1;
    })
    .await
}

fn notice(body: &Value) -> &Value {
    assert!(body.get("notice").is_some(), "a notice key: {body}");
    &body["notice"]
}

/// The notice on the reply to `text` in `token`'s session (`Null` when there is none).
async fn notice_on(app: &TestApp, token: &str, text: &str) -> Value {
    notice(&app.sent(token, text).await).clone()
}

async fn the_first_reply_discloses_and_then_nothing_by_day(backend: Backend) {
    let app = app_with(backend, 3600, (0, 0)).await;
    for (language, lang) in [("vi", Language::Vi), ("en", Language::En)] {
        let token = app.create_session_in(language).await;
        assert_eq!(
            notice_on(&app, &token, "hello, mình hơi mệt").await,
            json!({"kind": "ai_disclosure", "text": wording(lang).notice.ai_disclosure})
        );
        assert!(
            notice_on(&app, &token, "hôm nay đi học mệt")
                .await
                .is_null()
        );
    }
}

async fn a_long_stretch_brings_a_break_reminder_once(backend: Backend) {
    let app = app_with(backend, 1, (0, 0)).await;
    let token = app.create_session().await;
    let first = notice_on(&app, &token, "mình lo thi quá").await;
    assert_eq!(first["kind"], "ai_disclosure");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        notice_on(&app, &token, "vẫn lo lắm").await,
        json!({"kind": "break_reminder", "text": wording(Language::Vi).notice.break_reminder})
    );
    let third = notice_on(&app, &token, "cảm ơn bạn").await;
    assert!(third.is_null(), "not on every reply: {third}");
}

async fn late_at_night_in_vietnam_a_reply_reminds_of_sleep(backend: Backend) {
    let hour = cbln_actors::session::vietnam_hour(time::OffsetDateTime::now_utc());
    let app = app_with(backend, 3600, (hour, (hour + 2) % 24)).await;
    let token = app.create_session_in("en").await;
    let first = notice_on(&app, &token, "can't sleep").await;
    assert_eq!(first["kind"], "ai_disclosure", "disclosure comes first");
    assert_eq!(
        notice_on(&app, &token, "still awake").await,
        json!({"kind": "break_reminder", "text": wording(Language::En).notice.night_reminder})
    );
    assert!(notice_on(&app, &token, "ok").await.is_null());

    // Outside the window, nothing.
    let app = app_with(backend, 3600, ((hour + 2) % 24, (hour + 4) % 24)).await;
    let token = app.create_session().await;
    app.sent(&token, "chào").await;
    assert!(notice_on(&app, &token, "mình chưa ngủ").await.is_null());
}

async fn no_break_reminder_on_a_safety_reply(backend: Backend) {
    let app = app_with(backend, 0, (0, 0)).await;
    let token = app.create_session().await;
    assert_eq!(
        notice_on(&app, &token, "chào bạn").await["kind"],
        "ai_disclosure"
    );
    let body = app.sent(&token, CRISIS_VI).await;
    assert!(body["crisis_info"].is_object(), "{body}");
    assert!(
        notice(&body).is_null(),
        "no nudge to leave in a crisis: {body}"
    );
}

async fn a_streamed_reply_carries_the_notice(backend: Backend) {
    let app = app_with(backend, 3600, (0, 0)).await;
    let token = app.create_session().await;
    let body = app
        .stream_message(&token, &json!({"content": "mình lo thi quá"}))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let events = parse_events(&body);
    let last = events.last().expect("events");
    assert_eq!(last.name, "reply.completed");
    assert_eq!(last.data["notice"]["kind"], "ai_disclosure", "{body}");
}

on_both_backends!(
    the_first_reply_discloses_and_then_nothing_by_day,
    a_long_stretch_brings_a_break_reminder_once,
    late_at_night_in_vietnam_a_reply_reminds_of_sleep,
    no_break_reminder_on_a_safety_reply,
    a_streamed_reply_carries_the_notice,
);
