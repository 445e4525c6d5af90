//! The OpenAI-compatible chat-completions client (OpenAI, Groq, vLLM, Ollama, llama.cpp).
//!
//! Every failure ends in the built-in listener's reply with the reason recorded, never in an error:
//! a remote model is an enhancement, and a person in distress must always get an answer. Logs carry
//! status codes, durations and fallback reasons only; never the message, the history, the reply or
//! the key.

use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use secrecy::SecretString;
use serde::Serialize;

use super::builtin::BuiltInResponder;
use super::guard::passes_reply_guard;
use super::prompt::{build_messages, system_prompt};
use super::{FallbackReason, ReplyOutcome, ReplyRequest, ResponderError};
use crate::chat_completions::{
    self, CallError, CallErrorKind, ChatMessage, ChatResponse, strip_reasoning,
};
use crate::crisis::Hotline;

/// The `provider` value of replies that came from the remote model.
pub const OPENAI_PROVIDER: &str = "openai";

/// The reported model name is stored with every reply; cap what a server can make us store.
const MAX_MODEL_NAME_CHARS: usize = 128;

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
    pub(super) client: reqwest::Client,
    pub(super) endpoint: Url,
    // Boxed because, with the rendered prompt beside it, `Responder::OpenAi` would be several times
    // the size of `Responder::BuiltIn`, and responders are moved into actors by value.
    pub(super) settings: Box<OpenAiSettings>,
    pub(super) system_prompt: String,
    pub(super) fallback: BuiltInResponder,
}

#[derive(Serialize)]
pub(super) struct ChatRequest<'a> {
    pub(super) model: &'a str,
    pub(super) messages: Vec<ChatMessage<'a>>,
    pub(super) max_tokens: u32,
    pub(super) temperature: f32,
    pub(super) stream: bool,
}

/// A successful answer before it becomes a [`ReplyOutcome`].
pub(super) struct Answer {
    pub(super) text: String,
    pub(super) model: String,
}

/// Why a call failed, with the HTTP status when there was one (for the log line only).
pub(super) struct Failure {
    pub(super) reason: FallbackReason,
    pub(super) status: Option<StatusCode>,
}

impl From<FallbackReason> for Failure {
    fn from(reason: FallbackReason) -> Self {
        Self {
            reason,
            status: None,
        }
    }
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Self {
        let reason = match error.kind {
            CallErrorKind::Timeout => FallbackReason::Timeout,
            CallErrorKind::Transport => FallbackReason::Transport,
            CallErrorKind::HttpStatus => FallbackReason::HttpStatus,
            CallErrorKind::TooLarge => FallbackReason::InvalidResponse,
        };
        Self {
            reason,
            status: error.status,
        }
    }
}

fn endpoint(base_url: &str) -> Result<Url, ResponderError> {
    chat_completions::endpoint(base_url).map_err(|reason| ResponderError::InvalidSetting {
        field: "base_url",
        reason,
    })
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
    if chat_completions::is_blank_key(settings.api_key.as_ref()) {
        return invalid("api_key", "must not be blank when set");
    }
    Ok(())
}

pub(super) fn model_name(reported: Option<String>, configured: &str) -> String {
    match reported.map(|name| name.trim().to_owned()) {
        Some(name) if !name.is_empty() => name.chars().take(MAX_MODEL_NAME_CHARS).collect(),
        _ => configured.to_owned(),
    }
}

impl OpenAiResponder {
    /// Validates the settings and builds the shared HTTP client.
    pub fn new(settings: OpenAiSettings) -> Result<Self, ResponderError> {
        validate(&settings)?;
        let endpoint = endpoint(&settings.base_url)?;
        let client =
            chat_completions::build_client(settings.timeout).map_err(ResponderError::Client)?;
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
        self.settle(req, self.call(req))
            .await
            .unwrap_or_else(|fallback| fallback)
    }

    /// Awaits `call` within the configured budget: its answer as the outcome, or (`Err`) the
    /// built-in listener's, logged with the reason — shared by the plain and the streamed reply.
    pub(super) async fn settle(
        &self,
        req: &ReplyRequest,
        call: impl std::future::Future<Output = Result<Answer, Failure>>,
    ) -> Result<ReplyOutcome, ReplyOutcome> {
        let started = Instant::now();
        // reqwest's own timeout covers the same ground; this outer one also bounds everything
        // around it, so the caller's wait is the configured budget whatever the server does.
        let result = match tokio::time::timeout(self.settings.timeout, call).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FallbackReason::Timeout.into()),
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(answer) => {
                tracing::debug!(elapsed_ms, "responder answered");
                Ok(ReplyOutcome {
                    text: answer.text,
                    model_used: answer.model,
                    provider: OPENAI_PROVIDER,
                    fallback: None,
                })
            }
            Err(failure) => {
                tracing::warn!(
                    elapsed_ms,
                    status = failure.status.map(|status| status.as_u16()),
                    reason = failure.reason.as_str(),
                    "responder fell back to the built-in listener"
                );
                Err(self.fallback.fallback(req, failure.reason))
            }
        }
    }

    /// The request for `req` under the configured model and limits, streamed or whole.
    pub(super) fn chat_request<'a>(
        &'a self,
        req: &'a ReplyRequest,
        stream: bool,
    ) -> ChatRequest<'a> {
        ChatRequest {
            model: &self.settings.model,
            messages: build_messages(req, self.settings.context_turns, &self.system_prompt),
            max_tokens: self.settings.max_tokens,
            temperature: self.settings.temperature,
            stream,
        }
    }

    async fn call(&self, req: &ReplyRequest) -> Result<Answer, Failure> {
        let body = self.chat_request(req, false);
        let answer = chat_completions::post_json(
            &self.client,
            &self.endpoint,
            self.settings.api_key.as_ref(),
            &body,
        )
        .await?;
        let status = answer.status;

        let invalid = |reason| Failure {
            reason,
            status: Some(status),
        };
        let mut parsed: ChatResponse = serde_json::from_slice(&answer.body)
            .map_err(|_| invalid(FallbackReason::InvalidResponse))?;
        let content = parsed.first_content();
        let text = strip_reasoning(&content).unwrap_or("").trim();
        if text.is_empty() {
            return Err(invalid(FallbackReason::EmptyAnswer));
        }
        if !passes_reply_guard(text) {
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
