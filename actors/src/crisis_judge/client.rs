//! The HTTP call to the judge: one chat-completions request asking for a JSON verdict, bounded by
//! the configured timeout, with every failure turned into a [`JudgeFailure`].

use std::borrow::Cow;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;
use serde::Serialize;

use super::verdict::JudgeVerdict;
use super::{CrisisJudgeSettings, JudgeConfigError, JudgeFailure};
use crate::chat_completions::{
    self, CallError, CallErrorKind, ChatMessage, ChatResponse, strip_reasoning,
};

/// The instructions, kept as a data file so the wording can be reviewed and changed without
/// touching code.
pub const JUDGE_PROMPT: &str = include_str!("../../../config/prompts/crisis_judge.txt");

/// How many earlier user turns go with the message: enough to see a danger built up over a few
/// turns, few enough to keep the call fast and the amount of text sent out small.
pub const CONTEXT_TURNS: usize = 4;

/// The verdict object is about 25 tokens; room for spacing, not for an essay.
const MAX_TOKENS: u32 = 64;

#[derive(Serialize)]
struct JudgeRequest<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    max_tokens: u32,
    temperature: f32,
    stream: bool,
    response_format: ResponseFormat,
}

#[derive(Serialize)]
struct ResponseFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}

/// Why a call gave no verdict, with the HTTP status when there was one (for the log line only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Failed {
    pub(super) failure: JudgeFailure,
    pub(super) status: Option<u16>,
}

impl From<JudgeFailure> for Failed {
    fn from(failure: JudgeFailure) -> Self {
        Self {
            failure,
            status: None,
        }
    }
}

impl From<CallError> for Failed {
    fn from(error: CallError) -> Self {
        let failure = match error.kind {
            CallErrorKind::Timeout => JudgeFailure::Timeout,
            CallErrorKind::Transport => JudgeFailure::Transport,
            CallErrorKind::HttpStatus => JudgeFailure::HttpStatus,
            CallErrorKind::TooLarge => JudgeFailure::InvalidResponse,
        };
        Self {
            failure,
            status: error.status.map(|status| status.as_u16()),
        }
    }
}

/// The configured endpoint and shared HTTP client.
#[derive(Debug, Clone)]
pub(super) struct JudgeClient {
    client: reqwest::Client,
    endpoint: Url,
    model: String,
    api_key: Option<SecretString>,
    timeout: Duration,
}

impl JudgeClient {
    pub(super) fn new(settings: &CrisisJudgeSettings) -> Result<Self, JudgeConfigError> {
        let invalid = |field, reason| JudgeConfigError::InvalidSetting { field, reason };
        if settings.model.trim().is_empty() {
            return Err(invalid("model", "must not be empty"));
        }
        if settings.timeout.is_zero() {
            return Err(invalid("timeout", "must be greater than zero"));
        }
        if chat_completions::is_blank_key(settings.api_key.as_ref()) {
            return Err(invalid("api_key", "must not be blank when set"));
        }
        let endpoint = chat_completions::endpoint(&settings.base_url)
            .map_err(|reason| invalid("base_url", reason))?;
        let client =
            chat_completions::build_client(settings.timeout).map_err(JudgeConfigError::Client)?;
        Ok(Self {
            client,
            endpoint,
            model: settings.model.clone(),
            api_key: settings.api_key.clone(),
            timeout: settings.timeout,
        })
    }

    pub(super) fn model(&self) -> &str {
        &self.model
    }

    /// One call, never longer than the configured timeout.
    pub(super) async fn call(
        &self,
        recent_user_turns: &[String],
        message: &str,
    ) -> Result<JudgeVerdict, Failed> {
        // reqwest's own timeout covers the same ground; this outer one also bounds everything
        // around it, so the pipeline's wait is the configured budget whatever the server does.
        match tokio::time::timeout(
            self.timeout,
            self.call_unbounded(recent_user_turns, message),
        )
        .await
        {
            Ok(result) => result,
            Err(_elapsed) => Err(JudgeFailure::Timeout.into()),
        }
    }

    async fn call_unbounded(
        &self,
        recent_user_turns: &[String],
        message: &str,
    ) -> Result<JudgeVerdict, Failed> {
        let body = JudgeRequest {
            model: &self.model,
            messages: build_messages(recent_user_turns, message),
            max_tokens: MAX_TOKENS,
            temperature: 0.0,
            stream: false,
            response_format: ResponseFormat {
                kind: "json_object",
            },
        };
        let answer =
            chat_completions::post_json(&self.client, &self.endpoint, self.api_key.as_ref(), &body)
                .await?;
        let invalid = |failure| Failed {
            failure,
            status: Some(answer.status.as_u16()),
        };
        let mut parsed: ChatResponse = serde_json::from_slice(&answer.body)
            .map_err(|_| invalid(JudgeFailure::InvalidResponse))?;
        let content = parsed.first_content();
        strip_reasoning(&content)
            .and_then(JudgeVerdict::parse)
            .ok_or_else(|| invalid(JudgeFailure::InvalidVerdict))
    }
}

/// The prompt, the last [`CONTEXT_TURNS`] non-empty user turns oldest first, then the message.
fn build_messages<'a>(recent_user_turns: &'a [String], message: &'a str) -> Vec<ChatMessage<'a>> {
    let mut turns: Vec<&str> = recent_user_turns
        .iter()
        .map(String::as_str)
        .filter(|turn| !turn.trim().is_empty())
        .collect();
    // The contract says the turns exclude the message; a caller that appended it anyway must not
    // make the judge read it as its own context.
    if turns
        .last()
        .is_some_and(|last| last.trim() == message.trim())
    {
        turns.pop();
    }
    let context = &turns[turns.len().saturating_sub(CONTEXT_TURNS)..];

    let mut messages = Vec::with_capacity(context.len() + 2);
    messages.push(ChatMessage {
        role: "system",
        content: Cow::Borrowed(JUDGE_PROMPT.trim_end()),
    });
    for turn in context {
        messages.push(ChatMessage {
            role: "user",
            content: Cow::Borrowed(turn),
        });
    }
    messages.push(ChatMessage {
        role: "user",
        content: Cow::Borrowed(message),
    });
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents<'a>(messages: &'a [ChatMessage<'a>]) -> Vec<(&'static str, &'a str)> {
        messages
            .iter()
            .map(|m| (m.role, m.content.as_ref()))
            .collect()
    }

    #[test]
    fn sends_the_prompt_the_last_four_user_turns_and_the_message() {
        let turns: Vec<String> = (1..=6).map(|i| format!("turn {i}")).collect();
        let messages = build_messages(&turns, "now");
        let got = contents(&messages);
        assert_eq!(got[0].0, "system");
        assert_eq!(
            &got[1..],
            &[
                ("user", "turn 3"),
                ("user", "turn 4"),
                ("user", "turn 5"),
                ("user", "turn 6"),
                ("user", "now"),
            ]
        );
    }

    #[test]
    fn skips_blank_turns_and_a_repeated_message() {
        let turns = vec!["a".to_owned(), "  ".to_owned(), "now ".to_owned()];
        let messages = build_messages(&turns, "now");
        assert_eq!(&contents(&messages)[1..], &[("user", "a"), ("user", "now")]);
        let messages = build_messages(&[], "now");
        assert_eq!(&contents(&messages)[1..], &[("user", "now")]);
    }

    #[test]
    fn prompt_asks_for_the_schema() {
        for needle in [
            "\"risk\"",
            "\"category\"",
            "\"severity\"",
            "\"elevated\"",
            "\"self_harm\"",
            "\"third_party\"",
            "\"critical\"",
            "LAST",
        ] {
            assert!(JUDGE_PROMPT.contains(needle), "{needle}");
        }
    }

    #[test]
    fn request_body_has_json_mode_and_zero_temperature() {
        let turns = Vec::new();
        let body = JudgeRequest {
            model: "m",
            messages: build_messages(&turns, "x"),
            max_tokens: MAX_TOKENS,
            temperature: 0.0,
            stream: false,
            response_format: ResponseFormat {
                kind: "json_object",
            },
        };
        let json = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(json["response_format"]["type"], "json_object");
        assert_eq!(json["temperature"].as_f64(), Some(0.0));
        assert_eq!(json["max_tokens"], MAX_TOKENS);
    }
}
