//! Reply generation: the built-in listener and the OpenAI-compatible client that falls back to it.
//!
//! This is a library for the `ResponderActor`: nothing here spawns tasks or holds actors. Crisis
//! messages never reach it (the session replaces those replies with a safety response first); what
//! it does guard is the model's own output, through [`passes_reply_guard`] (whole replies, and every
//! sentence of a streamed one before it is shown).

mod builtin;
mod guard;
mod lexicon;
mod openai;
mod openai_stream;
mod prompt;
mod safety;
mod stream;
mod templates;

use std::fmt;

use crate::domain::{Language, Turn};

pub use crate::chat_completions::install_crypto_provider;
pub use builtin::{BUILTIN_MODEL, BUILTIN_PROVIDER, BuiltInResponder};
pub use guard::passes_reply_guard;
pub use lexicon::{Feeling, is_asking_if_bot, recognise_feeling};
pub use openai::{OPENAI_PROVIDER, OpenAiResponder, OpenAiSettings};
pub use prompt::system_prompt;
pub use safety::is_unsafe_answer;
pub use stream::PieceSink;

/// What a responder needs to answer one message. Plaintext, memory only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRequest {
    /// The session's language; the built-in switches only when the message is clearly in the other.
    pub language: Language,
    /// The user's message, already trimmed and validated.
    pub message: String,
    /// Earlier turns, oldest first, excluding `message`.
    pub history: Vec<Turn>,
    /// Seed that varies the built-in wording, e.g. the message's sequence number.
    pub variation: u64,
}

/// The reply and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyOutcome {
    /// The assistant's reply.
    pub text: String,
    /// What actually answered: [`BUILTIN_MODEL`] or the model name the provider reported.
    pub model_used: String,
    /// [`BUILTIN_PROVIDER`] or [`OPENAI_PROVIDER`]; a fallback reply is `builtin`.
    pub provider: &'static str,
    /// Set when a remote provider was asked but the built-in answered instead.
    pub fallback: Option<FallbackReason>,
}

/// Why the OpenAI-compatible path handed over to the built-in listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FallbackReason {
    /// The call exceeded the configured timeout.
    Timeout,
    /// The server answered with a non-2xx status.
    HttpStatus,
    /// The body was not a chat-completions response (or was too large).
    InvalidResponse,
    /// The response held no usable text.
    EmptyAnswer,
    /// Connecting or transferring failed (refused, reset, DNS, TLS).
    Transport,
    /// The model's answer tripped the output safety rule.
    UnsafeAnswer,
}

impl FallbackReason {
    /// Every reason, for pre-registering metric label values.
    pub const ALL: [FallbackReason; 6] = [
        FallbackReason::Timeout,
        FallbackReason::HttpStatus,
        FallbackReason::InvalidResponse,
        FallbackReason::EmptyAnswer,
        FallbackReason::Transport,
        FallbackReason::UnsafeAnswer,
    ];

    /// A stable snake_case name for metric labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackReason::Timeout => "timeout",
            FallbackReason::HttpStatus => "http_status",
            FallbackReason::InvalidResponse => "invalid_response",
            FallbackReason::EmptyAnswer => "empty_answer",
            FallbackReason::Transport => "transport",
            FallbackReason::UnsafeAnswer => "unsafe_answer",
        }
    }
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A responder that cannot be built from its configuration; replying itself never fails.
#[derive(Debug, thiserror::Error)]
pub enum ResponderError {
    /// A setting is out of range or malformed.
    #[error("invalid responder setting `{field}`: {reason}")]
    InvalidSetting {
        /// The setting's name as in `OpenAiSettings`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the responder's HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The configured responder.
#[derive(Debug, Clone)]
pub enum Responder {
    /// The built-in listener (default; no network).
    BuiltIn(BuiltInResponder),
    /// An OpenAI-compatible server, falling back to the built-in listener.
    OpenAi(OpenAiResponder),
}

impl Responder {
    /// Answers one message; never fails.
    pub async fn reply(&self, req: &ReplyRequest) -> ReplyOutcome {
        match self {
            Responder::BuiltIn(builtin) => builtin.reply(req),
            Responder::OpenAi(openai) => openai.reply(req).await,
        }
    }

    /// The configured provider (`builtin` or `openai`), whatever answered a given message.
    pub fn provider(&self) -> &'static str {
        match self {
            Responder::BuiltIn(_) => BUILTIN_PROVIDER,
            Responder::OpenAi(_) => OPENAI_PROVIDER,
        }
    }
}

impl Default for Responder {
    fn default() -> Self {
        Responder::BuiltIn(BuiltInResponder::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn reply_futures_are_send() {
        let responder = Responder::default();
        let req = ReplyRequest {
            language: Language::Vi,
            message: "chào".to_owned(),
            history: Vec::new(),
            variation: 0,
        };
        let future = responder.reply(&req);
        assert_send(&future);
        drop(future);
    }

    #[test]
    fn reason_labels_are_snake_case_and_distinct() {
        let labels: std::collections::HashSet<_> =
            FallbackReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), FallbackReason::ALL.len());
        for label in labels {
            assert!(label.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn builtin_is_the_default_provider() {
        assert_eq!(Responder::default().provider(), "builtin");
    }
}
