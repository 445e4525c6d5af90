//! Small helpers shared by the HTTP tests: requests to the app, reading answers, and the checks
//! on body shapes and error bodies that many tests make.

use crate::helpers::TestApp;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

impl TestApp {
    /// A request with `method` to `path` on the app, with the app's client.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// `DELETE /api/v1/sessions/{token}`: the session's deletion, the token in the path.
    pub fn delete_session(&self, token: &str) -> RequestBuilder {
        self.delete(&format!("/api/v1/sessions/{token}"))
    }

    /// `GET path` with `token` as the bearer (a session's or a member of staff's).
    pub fn get_as(&self, path: &str, token: &str) -> RequestBuilder {
        self.get(path).bearer_auth(token)
    }

    /// `POST path` with `token` as the bearer.
    pub fn post_as(&self, path: &str, token: &str) -> RequestBuilder {
        self.post(path).bearer_auth(token)
    }

    /// `PUT path` with `token` as the bearer.
    pub fn put_as(&self, path: &str, token: &str) -> RequestBuilder {
        self.put(path).bearer_auth(token)
    }

    /// `DELETE path` with `token` as the bearer.
    pub fn delete_as(&self, path: &str, token: &str) -> RequestBuilder {
        self.delete(path).bearer_auth(token)
    }

    /// Moves every session's expiry into the past (written in each backend's own time form).
    pub async fn expire_all_sessions(&self) {
        self.expire_all("sessions").await;
    }

    /// Moves the `expires_at` of every row of `table` into the past (in each backend's own time
    /// form); at least one row must change.
    pub async fn expire_all(&self, table: &str) {
        let past = if self.database.pg_name.is_some() {
            "'2000-01-01T00:00:00Z'"
        } else {
            "'2000-01-01T00:00:00.000Z'"
        };
        let changed = self
            .execute(&format!("UPDATE {table} SET expires_at = {past}"))
            .await;
        assert!(changed >= 1, "a row of {table} was updated");
    }

    /// `id` as an SQL literal matching how this backend stores a UUID (a blob in SQLite).
    pub fn id_literal(&self, id: &str) -> String {
        if self.database.pg_name.is_some() {
            format!("'{id}'")
        } else {
            format!("X'{}'", id.replace('-', ""))
        }
    }

    /// The session id the server uses for `token` (from the history answer).
    pub async fn session_id_of(&self, token: &str) -> String {
        self.history(token).await["session_id"]
            .as_str()
            .expect("session_id")
            .to_string()
    }

    /// The session id of `token` as the database stores it: 16 bytes in SQLite, its text form
    /// in PostgreSQL (how [`TestApp::database_bytes`] shows it).
    pub async fn stored_session_id(&self, token: &str) -> Vec<u8> {
        let id = uuid::Uuid::parse_str(&self.session_id_of(token).await).expect("uuid");
        if self.database.pg_name.is_some() {
            id.to_string().into_bytes()
        } else {
            id.as_bytes().to_vec()
        }
    }
}

/// Sending a request built for a test: it must reach the server.
#[allow(async_fn_in_trait)]
pub trait Fetch {
    /// Sends the request; panics when it cannot be sent.
    async fn fetch(self) -> Response;
    /// Sends the request and gives only the status.
    async fn fetch_status(self) -> u16;
    /// Sends the request and reads the status and the JSON body (which must be JSON).
    async fn fetch_json(self) -> (u16, Value);
    /// Sends the request and reads the status and the JSON body, `Null` when it is not JSON.
    async fn fetch_json_or_null(self) -> (u16, Value);
    /// Sends the request and asserts that it is refused with `status` and the error `code`.
    async fn refused(self, status: u16, code: &str);
}

impl Fetch for RequestBuilder {
    async fn fetch(self) -> Response {
        self.send().await.expect("request")
    }

    async fn fetch_status(self) -> u16 {
        self.fetch().await.status().as_u16()
    }

    async fn fetch_json(self) -> (u16, Value) {
        status_and_json(self.fetch().await).await
    }

    async fn fetch_json_or_null(self) -> (u16, Value) {
        let response = self.fetch().await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn refused(self, status: u16, code: &str) {
        let (answered, body) = self.fetch_json_or_null().await;
        assert_error(answered, &body, status, code);
    }
}

/// The status and the JSON body of `response` (which must be JSON).
pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// Runs `attempt` every `every` until it gives a value, and returns that value; fails the test
/// with `what` when `within` passes first.
pub async fn poll_until<T, F, Fut>(
    what: &str,
    within: Duration,
    every: Duration,
    mut attempt: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(every).await;
    }
}

/// A response header's text, when it is there and readable.
pub fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The keys of a JSON object.
pub fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {value}"))
        .keys()
        .cloned()
        .collect()
}

/// Asserts that `value` is an object with exactly the keys `names`.
pub fn assert_keys(value: &Value, names: &[&str]) {
    assert_eq!(keys(value), set(names), "{value}");
}

/// The strings in the array `value` (anything else in it is passed over).
pub fn strings_in(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// The text `key` of each object in the array `value`.
pub fn texts_of<'a>(value: &'a Value, key: &str) -> Vec<&'a str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|item| {
            item[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} is not text in {item}"))
        })
        .collect()
}

/// A set of key names, to compare with [`keys`].
pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// An RFC 3339 time string.
pub fn parse_time(value: &Value) -> OffsetDateTime {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a time string, got {value}"));
    OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("not RFC 3339: {text}: {e}"))
}

/// An RFC 3339 time string in UTC, written with a `Z`.
pub fn parse_utc_time(value: &Value) -> OffsetDateTime {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a time string, got {value}"));
    assert!(text.ends_with('Z'), "times are UTC with a Z: {text}");
    parse_time(value)
}

/// An error answer: the status, the error code and a detail string.
pub fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(body["detail"].is_string(), "{body}");
}

/// A 422 `validation_failed` answer naming `field`.
pub fn assert_field_error(status: u16, body: &Value, field: &str) {
    assert_error(status, body, 422, "validation_failed");
    assert_eq!(body["field"], field, "{body}");
}

/// Whether `needle` (not empty) occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// Each text as its bytes and as hex: the two forms in which a database file may show it.
pub fn plain_and_hex(texts: &[&str]) -> Vec<Vec<u8>> {
    texts
        .iter()
        .flat_map(|text| {
            [
                text.as_bytes().to_vec(),
                hex::encode(text.as_bytes()).into_bytes(),
            ]
        })
        .collect()
}

/// Asserts that none of `texts`, as written or hex-encoded, is in the app's database or the
/// captured logs; `what` says what a hit leaks.
pub async fn assert_unreadable(app: &TestApp, texts: &[&str], what: &str) {
    let needles = plain_and_hex(texts);
    let database = app.database_bytes().await;
    assert_none_in(&database, &needles, &format!("{what}: in the database"));
    let logs = crate::helpers::captured_logs();
    assert_none_in(logs.as_bytes(), &needles, &format!("{what}: in the logs"));
}

/// Asserts that no needle (none may be empty) occurs in `bytes`; `what` says what a hit leaks.
pub fn assert_none_in(bytes: &[u8], needles: &[Vec<u8>], what: &str) {
    for needle in needles {
        assert!(!needle.is_empty(), "{what}: an empty needle");
        assert!(
            !contains_bytes(bytes, needle),
            "{what} ({})",
            String::from_utf8_lossy(needle)
        );
    }
}
