//! The OpenAI-compatible chat-completions client (OpenAI, Groq, vLLM, Ollama, llama.cpp).
//!
//! Every failure ends in the built-in listener's reply with the reason recorded, never in an error:
//! a remote model is an enhancement, and a person in distress must always get an answer. Logs carry
//! status codes, durations and fallback reasons only; never the message, the history, the reply or
//! the key.

use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::builtin::BuiltInResponder;
use super::prompt::{ChatMessage, build_messages, system_prompt};
use super::safety::is_unsafe_answer;
use super::{FallbackReason, ReplyOutcome, ReplyRequest, ResponderError};
use crate::crisis::Hotline;

/// The `provider` value of replies that came from the remote model.
pub const OPENAI_PROVIDER: &str = "openai";

/// A response body larger than this is not a chat answer of `max_tokens` tokens; stop reading and
/// fall back rather than buffer whatever a misbehaving server sends.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The reported model name is stored with every reply; cap what a server can make us store.
const MAX_MODEL_NAME_CHARS: usize = 128;

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

/// Configuration of the OpenAI-compatible client.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// Base URL including the version path, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// Model to request, e.g. `gpt-4o-mini` or `qwen2.5:7b`.
    pub model: String,
    /// Bearer token; local servers usually need none. Prints as redacted.
    pub api_key: Option<SecretString>,
    /// Budget for the whole call (connect, request and response body); past it the built-in answers.
    pub timeout: Duration,
    /// `max_tokens` sent with each request.
    pub max_tokens: u32,
    /// `temperature` sent with each request (0.0–2.0).
    pub temperature: f32,
    /// How many of the most recent turns of history are sent.
    pub context_turns: usize,
    /// The hotlines the system prompt tells the model to point to: the list the crisis cards use,
    /// so the model never names a number the deployment does not list.
    pub hotlines: Vec<Hotline>,
}

/// Calls an OpenAI-compatible chat-completions endpoint through one shared HTTP client, falling
/// back to the built-in listener on any failure.
#[derive(Debug, Clone)]
pub struct OpenAiResponder {
    client: reqwest::Client,
    endpoint: Url,
    // Boxed because, with the rendered prompt beside it, `Responder::OpenAi` would be several times
    // the size of `Responder::BuiltIn`, and responders are moved into actors by value.
    settings: Box<OpenAiSettings>,
    system_prompt: String,
    fallback: BuiltInResponder,
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    max_tokens: u32,
    temperature: f32,
    stream: bool,
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    model: Option<String>,
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

/// A successful answer before it becomes a [`ReplyOutcome`].
struct Answer {
    text: String,
    model: String,
}

/// Why a call failed, with the HTTP status when there was one (for the log line only).
struct Failure {
    reason: FallbackReason,
    status: Option<StatusCode>,
}

impl From<FallbackReason> for Failure {
    fn from(reason: FallbackReason) -> Self {
        Self {
            reason,
            status: None,
        }
    }
}

fn endpoint(base_url: &str) -> Result<Url, ResponderError> {
    let url = Url::parse(&format!(
        "{}/chat/completions",
        base_url.trim().trim_end_matches('/')
    ))
    .map_err(|_| ResponderError::InvalidSetting {
        field: "base_url",
        reason: "not an absolute URL",
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ResponderError::InvalidSetting {
            field: "base_url",
            reason: "scheme must be http or https",
        });
    }
    Ok(url)
}

fn validate(settings: &OpenAiSettings) -> Result<(), ResponderError> {
    let invalid = |field, reason| Err(ResponderError::InvalidSetting { field, reason });
    if settings.model.trim().is_empty() {
        return invalid("model", "must not be empty");
    }
    if settings.timeout.is_zero() {
        return invalid("timeout", "must be greater than zero");
    }
    if settings.max_tokens == 0 {
        return invalid("max_tokens", "must be greater than zero");
    }
    if !(0.0..=2.0).contains(&settings.temperature) {
        return invalid("temperature", "must be between 0.0 and 2.0");
    }
    if settings
        .api_key
        .as_ref()
        .is_some_and(|key| key.expose_secret().trim().is_empty())
    {
        return invalid("api_key", "must not be blank when set");
    }
    Ok(())
}

/// Reasoning models served through Ollama or vLLM may put their chain of thought in `content`
/// inside `<think>…</think>`; only what follows is the answer. An unclosed block means the answer
/// was cut off by `max_tokens` before it began.
fn strip_reasoning(content: &str) -> Option<&str> {
    let trimmed = content.trim_start();
    match trimmed.strip_prefix("<think>") {
        Some(rest) => rest.split_once("</think>").map(|(_, answer)| answer),
        None => Some(trimmed),
    }
}

fn model_name(reported: Option<String>, configured: &str) -> String {
    match reported.map(|name| name.trim().to_owned()) {
        Some(name) if !name.is_empty() => name.chars().take(MAX_MODEL_NAME_CHARS).collect(),
        _ => configured.to_owned(),
    }
}

fn classify(error: &reqwest::Error) -> FallbackReason {
    if error.is_timeout() {
        FallbackReason::Timeout
    } else {
        FallbackReason::Transport
    }
}

impl OpenAiResponder {
    /// Validates the settings and builds the shared HTTP client.
    pub fn new(settings: OpenAiSettings) -> Result<Self, ResponderError> {
        validate(&settings)?;
        let endpoint = endpoint(&settings.base_url)?;
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(MAX_CONNECT_TIMEOUT))
            // An API endpoint that redirects is misconfigured; following it could send the
            // conversation somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cung-ban-lang-nghe/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ResponderError::Client)?;
        Ok(Self {
            client,
            endpoint,
            system_prompt: system_prompt(&settings.hotlines),
            settings: Box::new(settings),
            fallback: BuiltInResponder::new(),
        })
    }

    /// The configured model name (what is requested, not necessarily what answers).
    pub fn model(&self) -> &str {
        &self.settings.model
    }

    /// Answers one message with the remote model, or with the built-in listener (and the reason in
    /// `fallback`) when the call fails, times out, returns garbage, an empty or an unsafe answer.
    pub async fn reply(&self, req: &ReplyRequest) -> ReplyOutcome {
        let started = Instant::now();
        // reqwest's own timeout covers the same ground; this outer one also bounds everything
        // around it, so the caller's wait is the configured budget whatever the server does.
        let result = match tokio::time::timeout(self.settings.timeout, self.call(req)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FallbackReason::Timeout.into()),
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(answer) => {
                tracing::debug!(elapsed_ms, "responder answered");
                ReplyOutcome {
                    text: answer.text,
                    model_used: answer.model,
                    provider: OPENAI_PROVIDER,
                    fallback: None,
                }
            }
            Err(failure) => {
                tracing::warn!(
                    elapsed_ms,
                    status = failure.status.map(|status| status.as_u16()),
                    reason = failure.reason.as_str(),
                    "responder fell back to the built-in listener"
                );
                self.fallback.fallback(req, failure.reason)
            }
        }
    }

    async fn call(&self, req: &ReplyRequest) -> Result<Answer, Failure> {
        let body = ChatRequest {
            model: &self.settings.model,
            messages: build_messages(req, self.settings.context_turns, &self.system_prompt),
            max_tokens: self.settings.max_tokens,
            temperature: self.settings.temperature,
            stream: false,
        };
        let mut request = self.client.post(self.endpoint.clone()).json(&body);
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let mut response = request
            .send()
            .await
            .map_err(|error| Failure::from(classify(&error)))?;

        let status = response.status();
        if !status.is_success() {
            return Err(Failure {
                reason: FallbackReason::HttpStatus,
                status: Some(status),
            });
        }

        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| Failure {
            reason: classify(&error),
            status: Some(status),
        })? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Failure {
                    reason: FallbackReason::InvalidResponse,
                    status: Some(status),
                });
            }
            bytes.extend_from_slice(&chunk);
        }

        let invalid = |reason| Failure {
            reason,
            status: Some(status),
        };
        let parsed: ChatResponse =
            serde_json::from_slice(&bytes).map_err(|_| invalid(FallbackReason::InvalidResponse))?;
        let content = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message)
            .and_then(|message| message.content)
            .unwrap_or_default();
        let text = strip_reasoning(&content).unwrap_or("").trim();
        if text.is_empty() {
            return Err(invalid(FallbackReason::EmptyAnswer));
        }
        if is_unsafe_answer(text) {
            return Err(invalid(FallbackReason::UnsafeAnswer));
        }
        Ok(Answer {
            text: text.to_owned(),
            model: model_name(parsed.model, &self.settings.model),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OpenAiSettings {
        OpenAiSettings {
            base_url: "http://127.0.0.1:11434/v1/".to_owned(),
            model: "qwen2.5:7b".to_owned(),
            api_key: Some(SecretString::from("sk-very-secret")),
            timeout: Duration::from_secs(5),
            max_tokens: 200,
            temperature: 0.7,
            context_turns: 6,
            hotlines: crate::crisis::hotlines::tests::shipped(),
        }
    }

    #[test]
    fn debug_never_prints_the_key() {
        let printed = format!("{:?}", settings());
        assert!(!printed.contains("sk-very-secret"), "{printed}");
        let responder = OpenAiResponder::new(settings());
        let printed = format!("{responder:?}");
        assert!(!printed.contains("sk-very-secret"), "{printed}");
    }

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
    fn rejects_unusable_settings() {
        let cases: [fn(&mut OpenAiSettings); 5] = [
            |s| s.model = " ".to_owned(),
            |s| s.timeout = Duration::ZERO,
            |s| s.max_tokens = 0,
            |s| s.temperature = f32::NAN,
            |s| s.api_key = Some(SecretString::from("  ")),
        ];
        for change in cases {
            let mut settings = settings();
            change(&mut settings);
            assert!(OpenAiResponder::new(settings).is_err());
        }
        assert!(OpenAiResponder::new(settings()).is_ok());
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
    fn model_name_prefers_the_reported_one() {
        assert_eq!(model_name(Some("gpt-x".into()), "cfg"), "gpt-x");
        assert_eq!(model_name(Some("  ".into()), "cfg"), "cfg");
        assert_eq!(model_name(None, "cfg"), "cfg");
        assert_eq!(
            model_name(Some("m".repeat(1000)), "cfg").len(),
            MAX_MODEL_NAME_CHARS
        );
    }
}
