//! Reading JSON bodies with precise errors: 413 past the limit (checked while streaming, not
//! after buffering everything), 415 for anything but JSON, 422 naming the field at fault.

use super::error::ApiError;
use super::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::{Ready, ready};

/// The request's body, not yet read, with the configured limit: a handler reads it only once its
/// own earlier checks have passed, so their errors keep coming first.
pub struct RequestBody {
    request: HttpRequest,
    payload: Payload,
    limit: usize,
}

impl FromRequest for RequestBody {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(AppState::of(request).map(|state| RequestBody {
            request: request.clone(),
            payload: payload.take(),
            limit: state.body_limit,
        }))
    }
}

impl RequestBody {
    /// The bytes as sent, up to the limit, whatever they are.
    pub async fn bytes(self) -> Result<BytesMut, ApiError> {
        read_limited(self.payload, self.limit).await
    }

    /// A JSON body that must be there: an empty one is a 422 naming `field`, saying `missing`.
    pub async fn required<T: DeserializeOwned>(
        self,
        field: &str,
        missing: &str,
    ) -> Result<T, ApiError> {
        self.json_and_bytes()
            .await?
            .0
            .ok_or_else(|| ApiError::field(field, missing))
    }

    /// A JSON body, `None` when it is empty, together with the bytes as received (an idempotent
    /// retry is recognised by them).
    pub async fn json_and_bytes<T: DeserializeOwned>(
        self,
    ) -> Result<(Option<T>, BytesMut), ApiError> {
        if let Some(length) = self
            .request
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok())
            && length > self.limit
        {
            return Err(ApiError::PayloadTooLarge { limit: self.limit });
        }
        let bytes = read_limited(self.payload, self.limit).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok((None, bytes));
        }
        let is_json = self
            .request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                let essence = value
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ApiError::body("the request body is not valid UTF-8"));
        }
        let parsed = parse_json(&bytes)?;
        Ok((Some(parsed), bytes))
    }
}

/// Reads the body up to `limit` bytes.
async fn read_limited(mut payload: Payload, limit: usize) -> Result<BytesMut, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::body("the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Deserialises with the path of the failing field, so a 422 can name it. Anything after the
/// JSON value (a second value, stray bytes) makes the body invalid, as does any syntax error —
/// and a syntax error names no field, since no field is at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let not_json = || ApiError::body("the request body is not valid JSON");
    // serde builds a struct from an array of its fields in order too (`["en"]`), which no
    // client means and the document does not allow: the bodies are objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::body("the request body must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        let field = field_name(error.path());
        if inner.is_eof() || inner.is_io() {
            return not_json();
        }
        if inner.is_syntax() {
            // serde_json reports a value of the wrong kind for an enum field ("vi"/"en" given
            // a number) as "expected value": that field is at fault, not the JSON.
            let wrong_value = inner.to_string().starts_with("expected value");
            return match field {
                Some(field) if wrong_value => ApiError::Validation {
                    detail: format!("{field} has an invalid value"),
                    field: Some(field),
                },
                _ => not_json(),
            };
        }
        let message = inner.to_string();
        let field = field.or_else(|| missing_field(&message));
        let detail = value_free_detail(field.as_deref(), &message);
        ApiError::Validation { field, detail }
    })?;
    deserializer.end().map_err(|_| not_json())?;
    Ok(value)
}

/// A 422 sentence that never repeats what the client sent: serde's messages quote the offending
/// value (`invalid type: string "…"`, ``unknown variant `…` ``), and that value may be text a
/// person wrote. Only what was expected, or which field is missing, is kept.
fn value_free_detail(field: Option<&str>, message: &str) -> String {
    let subject = field.map_or_else(|| "the request body".to_string(), |f| format!("`{f}`"));
    if message.starts_with("missing field") {
        return format!("{subject} is required");
    }
    let expected = message.find("expected ").map(|at| {
        message[at..]
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .trim()
    });
    match expected {
        Some(expected) if !expected.is_empty() => format!("{subject} is invalid: {expected}"),
        _ => format!("{subject} is invalid"),
    }
}

/// The failing field as `a.b` when the path is made of object keys only; a position inside an
/// array or an unknown position names no field.
fn field_name(path: &serde_path_to_error::Path) -> Option<String> {
    let mut names = Vec::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Map { key } => names.push(key.as_str()),
            _ => return None,
        }
    }
    (!names.is_empty()).then(|| names.join("."))
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        content: String,
        rating: u8,
    }

    fn field_of(json: &str) -> Option<String> {
        match parse_json::<Probe>(json.as_bytes()) {
            Err(ApiError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_with_the_wrong_type() {
        assert_eq!(
            field_of(r#"{"content": "x", "rating": "five"}"#).as_deref(),
            Some("rating")
        );
        assert_eq!(
            field_of(r#"{"content": 5, "rating": 1}"#).as_deref(),
            Some("content")
        );
    }

    #[test]
    fn names_a_missing_field() {
        assert_eq!(field_of(r#"{"rating": 1}"#).as_deref(), Some("content"));
    }

    #[test]
    fn syntax_errors_name_no_field() {
        assert_eq!(field_of(r#"{"content": "#), None);
        assert_eq!(field_of("{bad json}"), None);
        assert_eq!(field_of("[1, 2"), None);
    }

    #[test]
    fn details_never_repeat_the_value_sent() {
        for json in [
            r#"{"content": "x", "rating": "my private words"}"#,
            r#"{"content": ["my private words"], "rating": 1}"#,
        ] {
            match parse_json::<Probe>(json.as_bytes()) {
                Err(ApiError::Validation { detail, .. }) => {
                    assert!(!detail.contains("private"), "{detail}");
                    assert!(detail.contains("expected"), "{detail}");
                }
                other => panic!("expected a validation error, got {other:?}"),
            }
        }
    }

    #[test]
    fn arrays_are_not_bodies() {
        assert_eq!(field_of(r#"["x", 1]"#), None);
        assert_eq!(field_of(r#"  [{"content": "x", "rating": 1}]"#), None);
        assert!(parse_json::<Probe>(br#"{"content": "x", "rating": 1}"#).is_ok());
    }

    #[test]
    fn trailing_bytes_are_refused() {
        assert_eq!(field_of(r#"{"content": "a", "rating": 1} trailing"#), None);
        assert_eq!(
            field_of(r#"{"content": "a", "rating": 1}{"content": "b", "rating": 2}"#),
            None
        );
    }
}
