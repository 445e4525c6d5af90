//! Staff sign-in over HTTP: tokens for a shift, one answer for every failed sign-in, token and role
//! checks on staff routes, the sign-in limits, opening hours, who counts as signed in, and that
//! neither a password nor a token is kept readable in the logs or the database.

use crate::helpers::{Backend, TestApp, captured_logs, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::staff_support::STAFF_PASSWORD;
use crate::support::{Fetch, assert_error, assert_field_error, assert_none_in, parse_utc_time};
use cbln_actors::persistence::{Store, Timestamp};
use cbln_actors::staff::StaffRole;
use serde_json::{Value, json};
use std::time::Duration;

const HOURS: &str = "/api/v1/staff/opening-hours";

/// Disables or enables the account `name` straight in the store, as an admin's tool would.
async fn set_disabled(store: &Store, name: &str, disabled: bool) {
    let changed = store
        .set_staff_disabled(name, disabled, Timestamp::now())
        .await
        .unwrap();
    assert!(changed, "{name} has an account");
}

/// `GET` the opening hours with `authorization` as the whole header value, if any.
async fn get_hours(app: &TestApp, authorization: Option<&str>) -> (u16, Value) {
    let mut request = app.get(HOURS);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.fetch_json().await
}

async fn put_hours(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    app.put_as(HOURS, token).json(&body).fetch_json().await
}

async fn logout(app: &TestApp, token: &str) -> u16 {
    app.post_as("/api/v1/staff/logout", token)
        .fetch()
        .await
        .status()
        .as_u16()
}

async fn login_answers_a_token_for_the_shift(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_staff("lan", StaffRole::Counsellor).await;
    let before = time::OffsetDateTime::now_utc();
    // The name is matched whatever its case and surrounding spaces.
    let (status, body) = app.staff_login(" Lan ", STAFF_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        crate::support::keys(&body),
        crate::support::set(&["token", "expires_at", "role"])
    );
    assert_eq!(body["role"], "counsellor");
    let token = body["token"].as_str().unwrap();
    assert!(
        token.starts_with("staff_") && token.len() == 6 + 43,
        "{token}"
    );
    let expires_at = parse_utc_time(&body["expires_at"]);
    let shift = time::Duration::hours(8);
    assert!(
        expires_at >= before + shift - time::Duration::seconds(1)
            && expires_at <= time::OffsetDateTime::now_utc() + shift,
        "valid for the configured 8-hour shift: {expires_at}"
    );
    // Every sign-in is a token of its own.
    let (_, again) = app.staff_login("lan", STAFF_PASSWORD).await;
    assert_ne!(again["token"], body["token"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_tokens").await, 2);
    app.stop().await;
}

async fn the_shift_length_is_configurable(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.staff.shift_hours = 2).await;
    app.add_staff("lan", StaffRole::Counsellor).await;
    let (status, body) = app.staff_login("lan", STAFF_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let left = parse_utc_time(&body["expires_at"]) - time::OffsetDateTime::now_utc();
    assert!(
        left <= time::Duration::hours(2) && left > time::Duration::hours(1),
        "{left}"
    );
    app.stop().await;
}

async fn every_failed_sign_in_gets_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_staff("lan", StaffRole::Counsellor).await;
    app.add_staff("minh", StaffRole::Admin).await;
    let store = app.store().await;
    set_disabled(&store, "minh", true).await;
    store.close().await;

    let (status, wrong_password) = app.staff_login("lan", "not the password at all").await;
    assert_error(status, &wrong_password, 401, "invalid_credentials");
    for (username, password) in [
        ("nobody", "not the password at all"),
        ("nobody", STAFF_PASSWORD),
        ("minh", STAFF_PASSWORD),
        ("lân!", STAFF_PASSWORD),
        ("", STAFF_PASSWORD),
    ] {
        let (status, body) = app.staff_login(username, password).await;
        assert_eq!(status, 401, "{username:?}: {body}");
        assert_eq!(body, wrong_password, "{username:?}: the very same body");
    }
    // A missing field is a malformed request, not a failed sign-in.
    let (status, body) = app
        .post("/api/v1/staff/login")
        .json(&json!({"username": "lan"}))
        .fetch_json()
        .await;
    assert_field_error(status, &body, "password");
    let (status, body) = app.post("/api/v1/staff/login").fetch_json().await;
    assert_field_error(status, &body, "username");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_tokens").await, 0);
    app.stop().await;
}

async fn staff_routes_need_a_valid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.signed_in_staff("an", StaffRole::Admin).await;
    let (status, body) = get_hours(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = get_hours(&app, None).await;
    assert_error(status, &body, 401, "staff_token_required");
    let (status, body) = get_hours(&app, Some("Basic YW46cGFzcw==")).await;
    assert_error(status, &body, 401, "staff_token_required");
    let session = app.create_session().await;
    for bad in [
        "Bearer not-a-token".to_string(),
        format!("Bearer {session}"),
        format!("Bearer staff_{}", "A".repeat(43)),
        format!("Bearer {}", token.replace("staff_", "anon_")),
    ] {
        let (status, body) = get_hours(&app, Some(&bad)).await;
        assert_error(status, &body, 401, "staff_token_invalid");
    }

    // Logout ends this sign-in only.
    let other = app.staff_login("an", STAFF_PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(logout(&app, &token).await, 204);
    let (status, body) = get_hours(&app, Some(&format!("Bearer {token}"))).await;
    assert_error(status, &body, 401, "staff_token_invalid");
    app.post_as("/api/v1/staff/logout", &token)
        .refused(401, "staff_token_invalid")
        .await;
    assert_eq!(
        get_hours(&app, Some(&format!("Bearer {other}"))).await.0,
        200
    );

    // An expired token is refused, and the janitor's purge removes it.
    app.expire_all("staff_tokens").await;
    let (status, body) = get_hours(&app, Some(&format!("Bearer {other}"))).await;
    assert_error(status, &body, 401, "staff_token_invalid");
    let store = app.store().await;
    assert_eq!(
        store
            .delete_expired_staff_tokens(Timestamp::now(), 100)
            .await
            .unwrap(),
        1
    );
    store.close().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_tokens").await, 0);
    app.stop().await;
}

async fn disabling_an_account_ends_its_sign_ins(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.signed_in_staff("an", StaffRole::Admin).await;
    let store = app.store().await;
    set_disabled(&store, "an", true).await;
    let (status, body) = get_hours(&app, Some(&format!("Bearer {token}"))).await;
    assert_error(status, &body, 401, "staff_token_invalid");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_tokens").await, 0);
    // Enabled again, the old token stays ended; a new sign-in works.
    set_disabled(&store, "an", false).await;
    store.close().await;
    assert_eq!(
        get_hours(&app, Some(&format!("Bearer {token}"))).await.0,
        401
    );
    assert_eq!(app.staff_login("an", STAFF_PASSWORD).await.0, 200);
    app.stop().await;
}

async fn roles_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let counsellor = app.signed_in_staff("lan", StaffRole::Counsellor).await;
    let supervisor = app.signed_in_staff("hoa", StaffRole::Supervisor).await;
    let admin = app.signed_in_staff("an", StaffRole::Admin).await;
    let body = json!({"opening_hours": ["mon-fri 08:00-22:00"], "holidays": []});
    for token in [&counsellor, &supervisor] {
        let (status, answer) = get_hours(&app, Some(&format!("Bearer {token}"))).await;
        assert_error(status, &answer, 403, "forbidden");
        let (status, answer) = put_hours(&app, token, body.clone()).await;
        assert_error(status, &answer, 403, "forbidden");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM opening_hours").await, 0);
    let (status, answer) = put_hours(&app, &admin, body).await;
    assert_eq!(status, 200, "{answer}");
    app.stop().await;
}

async fn sign_ins_are_limited_per_address_and_per_name(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.staff_logins_per_minute = 1;
        settings.rate_limit.staff_login_burst = 2;
        settings.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    app.add_staff("lan", StaffRole::Counsellor).await;
    let attempt = |from: &'static str, username: &'static str, password: &'static str| {
        app.post("/api/v1/staff/login")
            .header("x-forwarded-for", from)
            .json(&json!({"username": username, "password": password}))
            .fetch()
    };
    // One name from many addresses: the third try is refused, even with the right password.
    // Many names from one address: the third try from that address is refused.
    for tries in [
        [
            ("203.0.113.1", "lan"),
            ("203.0.113.2", "lan"),
            ("203.0.113.3", "LAN"),
        ],
        [
            ("198.51.100.7", "a1"),
            ("198.51.100.7", "a2"),
            ("198.51.100.7", "a3"),
        ],
    ] {
        for (from, username) in &tries[..2] {
            let refused = attempt(from, username, "a wrong password").await;
            assert_eq!(refused.status(), 401, "{from} {username}");
        }
        let (from, username) = tries[2];
        assert_limited(attempt(from, username, STAFF_PASSWORD).await).await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_tokens").await, 0);
    app.stop().await;
}

async fn assert_limited(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    let seconds: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&seconds), "{seconds}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited", "{body}");
}

async fn opening_hours_are_validated_and_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.signed_in_staff("an", StaffRole::Admin).await;
    let (status, body) = get_hours(&app, Some(&format!("Bearer {admin}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"opening_hours": [], "holidays": [], "time_zone": "Asia/Ho_Chi_Minh",
               "source": "configuration", "open_now": true, "next_opening": null})
    );

    for (bad, field) in [
        (
            json!({"opening_hours": ["mon-fri 08:00-22:00", "funday 08:00-10:00"], "holidays": []}),
            "opening_hours[1]",
        ),
        (
            json!({"opening_hours": ["mon 22:00-06:00"], "holidays": []}),
            "opening_hours[0]",
        ),
        (
            json!({"opening_hours": ["mon 8:00-10:00"], "holidays": []}),
            "opening_hours[0]",
        ),
        (
            json!({"opening_hours": [], "holidays": ["2026-02-30"]}),
            "holidays[0]",
        ),
        (json!({"opening_hours": []}), "holidays"),
        (json!({"holidays": []}), "opening_hours"),
        (
            json!({"opening_hours": "mon-fri 08:00-22:00", "holidays": []}),
            "opening_hours",
        ),
        (
            json!({"opening_hours": [], "holidays": [], "timezone": "UTC"}),
            "timezone",
        ),
    ] {
        let (status, body) = put_hours(&app, &admin, bad.clone()).await;
        assert_field_error(status, &body, field);
    }
    // Every problem is listed, the first one named.
    let (status, body) = put_hours(
        &app,
        &admin,
        json!({"opening_hours": ["funday 08:00-10:00"], "holidays": ["soon"]}),
    )
    .await;
    assert_field_error(status, &body, "opening_hours[0]");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("funday") && detail.contains("holidays[0]"),
        "{detail}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM opening_hours").await, 0);

    let (status, body) = put_hours(
        &app,
        &admin,
        json!({"opening_hours": [" Mon-Fri 08:00-22:00", "sat 09:00-12:00"],
               "holidays": ["2027-01-01", "2026-12-31"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["opening_hours"],
        json!(["mon-fri 08:00-22:00", "sat 09:00-12:00"])
    );
    assert_eq!(body["holidays"], json!(["2026-12-31", "2027-01-01"]));
    assert_eq!(body["source"], "database");
    let next = parse_utc_time(&body["next_opening"]);
    let open_now = body["open_now"].as_bool().unwrap();
    if open_now {
        assert!(next <= time::OffsetDateTime::now_utc(), "{body}");
    } else {
        assert!(next > time::OffsetDateTime::now_utc(), "{body}");
    }
    let (status, stored) = get_hours(&app, Some(&format!("Bearer {admin}"))).await;
    assert_eq!(status, 200);
    assert_eq!(stored["opening_hours"], body["opening_hours"]);
    assert_eq!(stored["holidays"], body["holidays"]);
    assert_eq!(stored["source"], "database");
    app.stop().await;
}

async fn configured_hours_apply_until_an_admin_sets_others(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.handoff.opening_hours = vec!["sun 00:00-00:01".into()];
        settings.handoff.holidays = vec!["2030-01-01".into()];
    })
    .await;
    let admin = app.signed_in_staff("an", StaffRole::Admin).await;
    let (status, body) = get_hours(&app, Some(&format!("Bearer {admin}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "configuration");
    assert_eq!(body["opening_hours"], json!(["sun 00:00-00:01"]));
    assert_eq!(body["holidays"], json!(["2030-01-01"]));
    assert!(body["next_opening"].is_string(), "{body}");
    app.stop().await;
}

async fn signed_in_queue_staff_are_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let store = app.store().await;
    let count = || async {
        store
            .count_queue_staff_signed_in(Timestamp::now())
            .await
            .unwrap()
    };
    assert_eq!(count().await, 0);
    app.add_staff("idle", StaffRole::Counsellor).await;
    assert_eq!(
        count().await,
        0,
        "an account alone is not someone signed in"
    );
    app.signed_in_staff("lan", StaffRole::Counsellor).await;
    assert_eq!(count().await, 1);
    assert_eq!(app.staff_login("lan", STAFF_PASSWORD).await.0, 200);
    assert_eq!(count().await, 1, "two devices are still one person");
    let admin = app.signed_in_staff("an", StaffRole::Admin).await;
    assert_eq!(count().await, 2, "an admin may work the queue too");
    assert_eq!(logout(&app, &admin).await, 204);
    assert_eq!(count().await, 1);
    set_disabled(&store, "lan", true).await;
    assert_eq!(count().await, 0);
    set_disabled(&store, "lan", false).await;
    app.signed_in_staff("hoa", StaffRole::Supervisor).await;
    assert_eq!(count().await, 1, "lan's sign-ins ended with the disabling");
    assert_eq!(
        store
            .count_queue_staff_signed_in(Timestamp::now().plus(Duration::from_secs(9 * 3600)))
            .await
            .unwrap(),
        0,
        "nobody is signed in after the shift"
    );
    store.close().await;
    app.stop().await;
}

async fn passwords_and_tokens_stay_out_of_logs_and_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_staff("lan", StaffRole::Admin).await;
    let marker_name = format!("marker.name.{}", uuid::Uuid::new_v4().simple());
    let marker_password = format!("marker password {}", uuid::Uuid::new_v4().simple());
    let request_id = format!("staff-privacy-{}", uuid::Uuid::new_v4().simple());
    let response = app
        .post("/api/v1/staff/login")
        .header("X-Request-ID", &request_id)
        .json(&json!({"username": marker_name, "password": marker_password}))
        .fetch()
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(app.staff_login("lan", &marker_password).await.0, 401);
    let (status, body) = app.staff_login("lan", STAFF_PASSWORD).await;
    assert_eq!(status, 200);
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(
        get_hours(&app, Some(&format!("Bearer {token}"))).await.0,
        200
    );
    assert_eq!(logout(&app, &token).await, 204);
    let (_, body) = app.staff_login("lan", STAFF_PASSWORD).await;
    let live_token = body["token"].as_str().unwrap().to_string();

    let random_part = |token: &str| token.strip_prefix("staff_").unwrap().to_string();
    let needles: Vec<Vec<u8>> = [
        marker_password.clone(),
        marker_name.clone(),
        STAFF_PASSWORD.to_string(),
        random_part(&token),
        random_part(&live_token),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    assert_none_in(
        &app.database_bytes().await,
        &needles,
        "readable in the database",
    );
    let logs = captured_logs();
    assert!(
        logs.contains(&request_id),
        "the captured logs hold this test's request, so searching them proves something"
    );
    assert_none_in(logs.as_bytes(), &needles, "in the logs");
    app.stop().await;
}

on_both_backends!(
    login_answers_a_token_for_the_shift,
    the_shift_length_is_configurable,
    every_failed_sign_in_gets_the_same_answer,
    staff_routes_need_a_valid_token,
    disabling_an_account_ends_its_sign_ins,
    roles_are_checked,
    sign_ins_are_limited_per_address_and_per_name,
    opening_hours_are_validated_and_stored,
    configured_hours_apply_until_an_admin_sets_others,
    signed_in_queue_staff_are_counted,
    passwords_and_tokens_stay_out_of_logs_and_the_database,
);
