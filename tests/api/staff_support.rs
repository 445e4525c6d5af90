//! Staff accounts for HTTP tests: made behind the API (as `cbln staff add` does, through the
//! store), then signed in over HTTP. Any test that needs a counsellor uses these.

use crate::helpers::TestApp;
use crate::support::Fetch;
use cbln_actors::persistence::{StaffRecord, Store, StoreSettings, Timestamp};
use cbln_actors::staff::{StaffRole, hash_password};
use serde_json::{Value, json};
use std::time::Duration;

/// The password every test account gets (long enough for the policy).
pub const STAFF_PASSWORD: &str = "correct horse battery staple";

/// A store over the database at `url`, for what has no HTTP route (staff accounts).
pub async fn store_at(url: &str) -> Store {
    Store::connect(&StoreSettings {
        url: url.to_string(),
        max_connections: 1,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .expect("store connects")
}

impl TestApp {
    /// The app's database through the store.
    pub async fn store(&self) -> Store {
        store_at(&self.database.url).await
    }

    /// Creates an enabled account `username` with `role` and [`STAFF_PASSWORD`]; returns its id.
    pub async fn add_staff(&self, username: &str, role: StaffRole) -> uuid::Uuid {
        let record = StaffRecord {
            id: uuid::Uuid::new_v4(),
            username: username.to_string(),
            role,
            password_hash: hash_password(STAFF_PASSWORD).expect("hash"),
            disabled: false,
            created_at: Timestamp::now(),
        };
        let store = self.store().await;
        store.insert_staff(&record).await.expect("staff inserted");
        store.close().await;
        record.id
    }

    /// `POST /api/v1/staff/login`: status and body.
    pub async fn staff_login(&self, username: &str, password: &str) -> (u16, Value) {
        self.post("/api/v1/staff/login")
            .json(&json!({"username": username, "password": password}))
            .fetch_json()
            .await
    }

    /// Creates an account with `role` and signs it in; returns the bearer token.
    pub async fn signed_in_staff(&self, username: &str, role: StaffRole) -> String {
        self.add_staff(username, role).await;
        let (status, body) = self.staff_login(username, STAFF_PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().expect("token").to_string()
    }
}

/// `GET path` as the staff member signed in with `staff`: status and body.
pub async fn staff_get(app: &TestApp, staff: &str, path: &str) -> (u16, Value) {
    app.get_as(path, staff).fetch_json_or_null().await
}

/// `POST path` with a JSON `body` as the staff member signed in with `staff`: status and body.
pub async fn staff_post(app: &TestApp, staff: &str, path: &str, body: Value) -> (u16, Value) {
    app.post_as(path, staff)
        .json(&body)
        .fetch_json_or_null()
        .await
}

/// `POST /api/v1/staff/handoffs/{id}/claim` as `staff`: status and body.
pub async fn claim(app: &TestApp, staff: &str, id: &str) -> (u16, Value) {
    app.post_as(&format!("/api/v1/staff/handoffs/{id}/claim"), staff)
        .fetch_json_or_null()
        .await
}

/// `POST /api/v1/staff/handoffs/{id}/close` with `outcome` as `staff`: status and body.
pub async fn close(app: &TestApp, staff: &str, id: &str, outcome: &str) -> (u16, Value) {
    let path = format!("/api/v1/staff/handoffs/{id}/close");
    staff_post(app, staff, &path, serde_json::json!({ "outcome": outcome })).await
}

/// `POST /api/v1/staff/handoffs/{id}/messages` as `staff`: the counsellor's answer `content`.
pub async fn answer(app: &TestApp, staff: &str, id: &str, content: &str) -> (u16, Value) {
    let path = format!("/api/v1/staff/handoffs/{id}/messages");
    staff_post(app, staff, &path, serde_json::json!({ "content": content })).await
}

/// Opens `GET /api/v1/staff/events` as `staff`, resuming after `last_event_id` when given.
pub async fn staff_events(
    app: &TestApp,
    staff: &str,
    last_event_id: Option<&str>,
) -> crate::events::EventStream {
    let mut request = app.get_as("/api/v1/staff/events", staff);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    crate::events::EventStream::expect_stream(request.send().await.expect("request")).await
}
