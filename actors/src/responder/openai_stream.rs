//! The OpenAI-compatible client's streamed answers (`"stream": true`, server-sent events of
//! `chat.completion.chunk`), passed through the sentence guard as they arrive.
//!
//! The same rules as the whole-answer path: the call is bounded by the configured budget and
//! [`MAX_RESPONSE_BYTES`], every failure ends in the built-in listener's reply, and logs carry
//! reasons and durations only.

use serde::Deserialize;

use super::openai::{Answer, Failure, OpenAiResponder, model_name};
use super::stream::{GuardedStream, PieceSink, send_whole};
use super::{FallbackReason, ReplyOutcome, ReplyRequest};
use crate::chat_completions::{
    self, CallError, CallErrorKind, ChatResponse, MAX_RESPONSE_BYTES, next_chunk,
};

/// One `data:` event of a streamed chat completion.
#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<StreamChoice>,
}

#[derive(Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: Option<StreamDelta>,
}

#[derive(Deserialize)]
struct StreamDelta {
    #[serde(default)]
    content: Option<String>,
}

impl OpenAiResponder {
    /// Answers one message with the remote model's streamed answer, each sentence sent to `sink`
    /// once the guard passed it; on any failure the built-in listener answers (and, if nothing
    /// was shown yet, is streamed in its place).
    pub async fn reply_streaming(&self, req: &ReplyRequest, sink: &PieceSink) -> ReplyOutcome {
        let mut guarded = GuardedStream::new(sink);
        let settled = self
            .settle(req, self.call_streaming(req, &mut guarded))
            .await;
        settled.unwrap_or_else(|fallback| {
            if !guarded.has_shown() {
                send_whole(&fallback.text, sink);
            }
            fallback
        })
    }

    async fn call_streaming(
        &self,
        req: &ReplyRequest,
        guarded: &mut GuardedStream<'_>,
    ) -> Result<Answer, Failure> {
        let body = self.chat_request(req, true);
        let mut response = chat_completions::open_stream(
            &self.client,
            &self.endpoint,
            self.settings.api_key.as_ref(),
            &body,
        )
        .await?;
        let status = response.status();
        let failed = |reason| Failure {
            reason,
            status: Some(status),
        };
        let mut is_event_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));

        let mut received = 0usize;
        let mut pending: Vec<u8> = Vec::new();
        let mut reported_model = None;
        let mut whole_body = Vec::new();
        while let Some(chunk) = next_chunk(&mut response).await? {
            received += chunk.len();
            if received > MAX_RESPONSE_BYTES {
                return Err(Failure::from(CallError {
                    kind: CallErrorKind::TooLarge,
                    status: Some(status),
                }));
            }
            if received == chunk.len() {
                // Some servers stream events under another content type; the events show it.
                is_event_stream |= chunk.trim_ascii_start().starts_with(b"data:");
            }
            if !is_event_stream {
                // A server that ignores `stream` answers with one ordinary completion.
                whole_body.extend_from_slice(&chunk);
                continue;
            }
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let line = std::str::from_utf8(&line)
                    .map_err(|_| failed(FallbackReason::InvalidResponse))?
                    .trim();
                let Some(data) = line.strip_prefix("data:").map(str::trim) else {
                    continue;
                };
                if data == "[DONE]" {
                    return self.finish(guarded, reported_model, status);
                }
                let parsed: StreamChunk = serde_json::from_str(data)
                    .map_err(|_| failed(FallbackReason::InvalidResponse))?;
                if parsed.model.is_some() {
                    reported_model = parsed.model;
                }
                let text: String = parsed
                    .choices
                    .into_iter()
                    .take(1)
                    .filter_map(|choice| choice.delta.and_then(|delta| delta.content))
                    .collect();
                guarded.push(&text).map_err(failed)?;
            }
        }
        if !is_event_stream {
            let mut parsed: ChatResponse = serde_json::from_slice(&whole_body)
                .map_err(|_| failed(FallbackReason::InvalidResponse))?;
            guarded.push(&parsed.first_content()).map_err(failed)?;
            reported_model = parsed.model.take();
        }
        self.finish(guarded, reported_model, status)
    }

    fn finish(
        &self,
        guarded: &mut GuardedStream<'_>,
        reported_model: Option<String>,
        status: reqwest::StatusCode,
    ) -> Result<Answer, Failure> {
        let text = guarded.finish().map_err(|reason| Failure {
            reason,
            status: Some(status),
        })?;
        Ok(Answer {
            text,
            model: model_name(reported_model, &self.settings.model),
        })
    }
}
