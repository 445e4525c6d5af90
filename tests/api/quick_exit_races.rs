//! Quick exit racing a counsellor's changes to the same handoff over HTTP on both backends: the
//! exit takes the session row first, as a claim, an answer or a close does, so on PostgreSQL
//! neither deadlocks the other; so does the person's own message racing it and the deletion of
//! the session. Every request answers one of its documented statuses (never a 500 or a 503), and
//! afterwards nothing of the session or its handoff can be read: the exit answers only once its
//! shredding committed, so this is checked at once rather than waited for.

use crate::handoff::{asked, rows_of};
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::on_both_backends;
use crate::staff_support::{answer, claim, close};
use cbln_actors::staff::StaffRole;
use serde_json::{Value, json};

/// Rounds of sessions racing at once, and how many sessions each round.
const ROUNDS: usize = 6;
const SESSIONS_PER_ROUND: usize = 4;

/// A session with a queued handoff; every other one already claimed by `claimer`, so the
/// answer and the close race the exit too rather than only being refused as not yours.
struct Raced {
    token: String,
    session_id: String,
    handoff_id: String,
}

async fn raced(app: &TestApp, claimer: &str, claimed: bool) -> Raced {
    let token = app.create_session().await;
    let session_id = app.session_id_of(&token).await;
    let handoff_id = asked(app, &token, json!({"share": "none"})).await;
    if claimed {
        let (status, body) = claim(app, claimer, &handoff_id).await;
        assert_eq!(status, 200, "{body}");
    }
    Raced {
        token,
        session_id,
        handoff_id,
    }
}

fn assert_one_of(what: &str, (status, body): &(u16, Value), allowed: &[u16]) {
    assert!(
        allowed.contains(status),
        "{what} answered {status} (documented: {allowed:?}): {body}"
    );
}

/// Each race: the exit against a claim by each counsellor, an answer and a close.
async fn race(app: &TestApp, lan: &str, minh: &str, session: &Raced) {
    let id = &session.handoff_id;
    let exit = async {
        let response = app
            .post_as("/api/v1/sessions/exit", &session.token)
            .send()
            .await
            .expect("exit answers");
        let status = response.status().as_u16();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    let (exited, lan_claim, minh_claim, answered, closed) = tokio::join!(
        exit,
        claim(app, lan, id),
        claim(app, minh, id),
        answer(app, lan, id, "mình ở đây"),
        close(app, lan, id, "resolved"),
    );
    assert_one_of("the quick exit", &exited, &[200]);
    assert_eq!(exited.1, json!({"status": "exited"}));
    for (who, answer) in [("lan's claim", &lan_claim), ("minh's claim", &minh_claim)] {
        assert_one_of(who, answer, &[200, 404, 409]);
    }
    assert_one_of("the answer", &answered, &[201, 403, 404, 409]);
    assert_one_of("the close", &closed, &[200, 403, 404, 409]);
}

/// A request's status and JSON body (null when it has none).
async fn answered(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the request answers");
    let status = response.status().as_u16();
    (
        status,
        response.json::<Value>().await.unwrap_or(Value::Null),
    )
}

/// Each race: the exit against the person's own message, the deletion of the session and a
/// counsellor's answer (adding to the handoff while its session goes).
async fn race_the_person(app: &TestApp, lan: &str, session: &Raced) {
    let token = &session.token;
    let (exited, deleted, posted, counselled) = tokio::join!(
        answered(app.post_as("/api/v1/sessions/exit", token)),
        answered(app.delete_session(token)),
        app.send_message(token, "mình vẫn ở đây"),
        answer(app, lan, &session.handoff_id, "mình nghe em"),
    );
    assert_one_of("the quick exit", &exited, &[200, 404]);
    assert_one_of("the deletion", &deleted, &[204, 404]);
    // The exit answers 200 whatever it found; the deletion 204 only when it came first: one
    // that found the session before the exit revoked its token deletes it only while the token
    // still names it, and otherwise answers 404 like any deletion of a session gone.
    assert!(
        exited.0 == 200 || deleted.0 == 204,
        "the exit or the deletion ends the session: {exited:?} {deleted:?}"
    );
    assert_one_of("the person's message", &posted, &[201, 401, 404]);
    assert_one_of("the answer", &counselled, &[201, 403, 404, 409]);
}

/// Nothing of the session or its handoff is left to read: no session key, the row expired and
/// its token unknown, the handoff ended with no key and no entries.
async fn assert_shredded(app: &TestApp, session: &Raced) {
    let session_match = app.id_literal(&session.session_id);
    let keys = app
        .count(&format!(
            "SELECT COUNT(*) FROM session_keys WHERE session_id = {session_match}"
        ))
        .await;
    assert_eq!(keys, 0, "the session key is shredded");
    let (status, body) = app.send_message(&session.token, "còn đó không").await;
    assert_eq!(status, 404, "the token is revoked: {body}");
    let handoff_match = app.id_literal(&session.handoff_id);
    let open = app
        .count(&format!(
            "SELECT COUNT(*) FROM handoffs WHERE id = {handoff_match} \
             AND status IN ('queued', 'assigned')"
        ))
        .await;
    assert_eq!(open, 0, "the handoff ended with its session");
    for table in ["handoff_keys", "handoff_entries"] {
        let left = rows_of(app, table, &session.handoff_id).await;
        assert_eq!(left, 0, "{table} of the handoff are shredded");
    }
}

async fn quick_exit_racing_a_counsellor_answers_as_documented_and_shreds_everything(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let lan = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let minh = app.signed_in_staff("minh", StaffRole::Counsellor).await;
    for _ in 0..ROUNDS {
        let mut sessions = Vec::with_capacity(SESSIONS_PER_ROUND);
        for n in 0..SESSIONS_PER_ROUND {
            sessions.push(raced(&app, &lan, n % 2 == 0).await);
        }
        futures_util::future::join_all(sessions.iter().map(|s| race(&app, &lan, &minh, s))).await;
        for session in &sessions {
            assert_shredded(&app, session).await;
        }
    }
    app.stop().await;
}

on_both_backends!(quick_exit_racing_a_counsellor_answers_as_documented_and_shreds_everything);

async fn quick_exit_racing_the_person_and_a_deletion_answers_as_documented_and_shreds_everything(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let lan = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    for _ in 0..ROUNDS {
        let mut sessions = Vec::with_capacity(SESSIONS_PER_ROUND);
        for n in 0..SESSIONS_PER_ROUND {
            sessions.push(raced(&app, &lan, n % 2 == 0).await);
        }
        futures_util::future::join_all(sessions.iter().map(|s| race_the_person(&app, &lan, s)))
            .await;
        for session in &sessions {
            assert_shredded(&app, session).await;
        }
    }
    app.stop().await;
}

on_both_backends!(
    quick_exit_racing_the_person_and_a_deletion_answers_as_documented_and_shreds_everything
);
