//! Plumbing shared by every caller of an OpenAI-compatible chat-completions server (the responder
//! and the crisis judge): client construction, the endpoint, one bounded POST, and the response
//! shape. Callers map [`CallError`] onto their own reasons; nothing here logs, so no caller can leak
//! a message through it.

use std::borrow::Cow;
use std::sync::Once;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// A response body larger than this is not a chat answer of `max_tokens` tokens; stop reading
/// rather than buffer whatever a misbehaving server sends.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Connecting should take a fraction of the whole budget; a dead host should not eat all of it.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static CRYPTO_PROVIDER: Once = Once::new();

/// Installs rustls' `ring` provider as the process default, once. reqwest is built with
/// `rustls-no-provider` and panics when a client is built without a default provider; an
/// application that already installed one keeps it.
pub fn install_crypto_provider() {
    CRYPTO_PROVIDER.call_once(|| {
        // Err means another provider is already installed, which serves just as well.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
    });
}

/// `{base_url}/chat/completions`, or why the base URL cannot be used.
pub(crate) fn endpoint(base_url: &str) -> Result<Url, &'static str> {
    let url = Url::parse(&format!(
        "{}/chat/completions",
        base_url.trim().trim_end_matches('/')
    ))
    .map_err(|_| "not an absolute URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("scheme must be http or https");
    }
    Ok(url)
}

/// True when a key is configured but would send an empty Bearer token.
pub(crate) fn is_blank_key(api_key: Option<&SecretString>) -> bool {
    api_key.is_some_and(|key| key.expose_secret().trim().is_empty())
}

/// The HTTP client for one configured server, with the whole call bounded by `timeout`.
pub(crate) fn build_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        // An API endpoint that redirects is misconfigured; following it could send the
        // conversation somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cung-ban-lang-nghe/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// What went wrong below the level of the answer's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallErrorKind {
    /// The call exceeded the client's timeout.
    Timeout,
    /// Connecting or transferring failed (refused, reset, DNS, TLS).
    Transport,
    /// The server answered with a non-2xx status.
    HttpStatus,
    /// The body was larger than [`MAX_RESPONSE_BYTES`].
    TooLarge,
}

/// A failed call, with the HTTP status when there was one (for log lines only).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallError {
    pub(crate) kind: CallErrorKind,
    pub(crate) status: Option<StatusCode>,
}

impl CallError {
    fn from_reqwest(error: &reqwest::Error, status: Option<StatusCode>) -> Self {
        let kind = if error.is_timeout() {
            CallErrorKind::Timeout
        } else {
            CallErrorKind::Transport
        };
        Self { kind, status }
    }
}

/// The raw body of a 2xx answer.
pub(crate) struct RawAnswer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// POSTs `body` like [`open_stream`] and reads at most [`MAX_RESPONSE_BYTES`] of a successful
/// answer.
pub(crate) async fn post_json<B: Serialize + ?Sized>(
    client: &reqwest::Client,
    endpoint: &Url,
    api_key: Option<&SecretString>,
    body: &B,
) -> Result<RawAnswer, CallError> {
    let mut response = open_stream(client, endpoint, api_key, body).await?;
    let status = response.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| CallError::from_reqwest(&error, Some(status)))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(CallError {
                kind: CallErrorKind::TooLarge,
                status: Some(status),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(RawAnswer {
        status,
        body: bytes,
    })
}

/// POSTs `body` as JSON (with the key as Bearer when there is one) and hands back a successful
/// answer unread, for a caller that reads it as a stream (bounded by its own count and the
/// client's timeout).
pub(crate) async fn open_stream<B: Serialize + ?Sized>(
    client: &reqwest::Client,
    endpoint: &Url,
    api_key: Option<&SecretString>,
    body: &B,
) -> Result<reqwest::Response, CallError> {
    let mut request = client.post(endpoint.clone()).json(body);
    if let Some(key) = api_key {
        request = request.bearer_auth(key.expose_secret());
    }
    let response = request
        .send()
        .await
        .map_err(|error| CallError::from_reqwest(&error, None))?;
    let status = response.status();
    if !status.is_success() {
        return Err(CallError {
            kind: CallErrorKind::HttpStatus,
            status: Some(status),
        });
    }
    Ok(response)
}

/// The next piece of a streamed answer, `None` at its end.
pub(crate) async fn next_chunk(
    response: &mut reqwest::Response,
) -> Result<Option<Vec<u8>>, CallError> {
    let status = response.status();
    response
        .chunk()
        .await
        .map(|chunk| chunk.map(|bytes| bytes.to_vec()))
        .map_err(|error| CallError::from_reqwest(&error, Some(status)))
}

/// One entry of the chat-completions `messages` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ChatMessage<'a> {
    /// `system`, `user` or `assistant`.
    pub(crate) role: &'static str,
    /// The text of the turn.
    pub(crate) content: Cow<'a, str>,
}

/// The part of a chat-completions response anyone here reads.
#[derive(Deserialize)]
pub(crate) struct ChatResponse {
    #[serde(default)]
    pub(crate) model: Option<String>,
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<ChoiceMessage>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

impl ChatResponse {
    /// The first choice's content, empty when there is none.
    pub(crate) fn first_content(&mut self) -> String {
        self.choices
            .drain(..)
            .next()
            .and_then(|choice| choice.message)
            .and_then(|message| message.content)
            .unwrap_or_default()
    }
}

/// Reasoning models served through Ollama or vLLM may put their chain of thought in `content`
/// inside `<think>…</think>`; only what follows is the answer. An unclosed block means the answer
/// was cut off by `max_tokens` before it began.
pub(crate) fn strip_reasoning(content: &str) -> Option<&str> {
    let trimmed = content.trim_start();
    match trimmed.strip_prefix("<think>") {
        Some(rest) => rest.split_once("</think>").map(|(_, answer)| answer),
        None => Some(trimmed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_joins_without_double_slash() {
        let url = endpoint("http://127.0.0.1:11434/v1/").map(|url| url.to_string());
        assert_eq!(
            url.ok().as_deref(),
            Some("http://127.0.0.1:11434/v1/chat/completions")
        );
        assert!(endpoint("ftp://example.org/v1").is_err());
        assert!(endpoint("not a url").is_err());
    }

    #[test]
    fn strips_reasoning_blocks() {
        assert_eq!(
            strip_reasoning("<think>hmm</think>\nHello"),
            Some("\nHello")
        );
        assert_eq!(strip_reasoning("<think>cut off"), None);
        assert_eq!(strip_reasoning("  Hello"), Some("Hello"));
    }

    #[test]
    fn blank_keys_are_caught() {
        assert!(is_blank_key(Some(&SecretString::from("  "))));
        assert!(!is_blank_key(Some(&SecretString::from("sk-x"))));
        assert!(!is_blank_key(None));
    }

    #[test]
    fn first_content_of_an_empty_choice_list_is_empty() {
        let parsed: Result<ChatResponse, _> = serde_json::from_str(r#"{"choices": []}"#);
        assert_eq!(
            parsed.map(|mut response| response.first_content()).ok(),
            Some(String::new())
        );
    }
}
