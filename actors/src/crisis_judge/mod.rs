//! An optional second opinion on crisis risk from an OpenAI-compatible chat-completions server.
//!
//! The embedded detector ([`crate::crisis`]) always decides first and alone when the judge is off,
//! down, slow or talking nonsense. When the judge answers with a valid verdict, [`raise`] may turn a
//! missed crisis into one or make a crisis more urgent, never the reverse. Every failure is `None`
//! (no opinion) with a [`JudgeFailure`] for metrics; nothing here returns an error to the pipeline.
//!
//! Logs carry durations, status codes, failure kinds and the verdict's labels only; never a message,
//! a turn, the model's raw answer or the key.

mod client;
mod verdict;

use std::fmt;
use std::time::{Duration, Instant};

use secrecy::SecretString;

pub use client::{CONTEXT_TURNS, JUDGE_PROMPT};
pub use verdict::{
    DEFAULT_CATEGORY, DEFAULT_SEVERITY, JUDGE_RULE_ID, JudgeRisk, JudgeVerdict, Merged, merge,
    raise,
};

/// The timeout when none is configured: the judge sits on the path of every reply, so it gets a
/// small fraction of what the responder may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1500);

/// Configuration of the judge, as resolved from `[crisis.judge]`.
#[derive(Debug, Clone)]
pub struct CrisisJudgeSettings {
    /// Off by default: the judge sends every message to a third party.
    pub enabled: bool,
    /// Base URL including the version path; `/chat/completions` is appended.
    pub base_url: String,
    /// Model to request.
    pub model: String,
    /// Bearer token; local servers usually need none. Prints as redacted.
    pub api_key: Option<SecretString>,
    /// Budget for the whole call; past it the judge has no opinion.
    pub timeout: Duration,
}

impl Default for CrisisJudgeSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: "https://api.openai.com/v1".to_owned(),
            model: "gpt-4o-mini".to_owned(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Why the judge gave no opinion; a stable label for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JudgeFailure {
    /// The call exceeded the configured timeout.
    Timeout,
    /// Connecting or transferring failed (refused, reset, DNS, TLS).
    Transport,
    /// The server answered with a non-2xx status.
    HttpStatus,
    /// The body was not a chat-completions response (or was too large).
    InvalidResponse,
    /// The answer was not exactly a verdict object of the schema.
    InvalidVerdict,
}

impl JudgeFailure {
    /// Every kind, for pre-registering metric label values.
    pub const ALL: [JudgeFailure; 5] = [
        JudgeFailure::Timeout,
        JudgeFailure::Transport,
        JudgeFailure::HttpStatus,
        JudgeFailure::InvalidResponse,
        JudgeFailure::InvalidVerdict,
    ];

    /// A stable snake_case name for metric labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            JudgeFailure::Timeout => "timeout",
            JudgeFailure::Transport => "transport",
            JudgeFailure::HttpStatus => "http_status",
            JudgeFailure::InvalidResponse => "invalid_response",
            JudgeFailure::InvalidVerdict => "invalid_verdict",
        }
    }
}

impl fmt::Display for JudgeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A judge that cannot be built from its configuration; judging itself never fails.
#[derive(Debug, thiserror::Error)]
pub enum JudgeConfigError {
    /// A setting is out of range or malformed.
    #[error("invalid crisis judge setting `{field}`: {reason}")]
    InvalidSetting {
        /// The setting's name as in [`CrisisJudgeSettings`].
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the crisis judge's HTTP client")]
    Client(#[source] reqwest::Error),
}

/// The judge, ready to be shared: cloning shares one HTTP connection pool.
#[derive(Debug, Clone)]
pub struct CrisisJudge {
    client: client::JudgeClient,
}

impl CrisisJudge {
    /// Validates the settings and builds the HTTP client, whether or not `enabled` is set.
    pub fn new(settings: &CrisisJudgeSettings) -> Result<Self, JudgeConfigError> {
        client::JudgeClient::new(settings).map(|client| Self { client })
    }

    /// The judge when enabled, `None` when disabled. Enabled settings that cannot be used are
    /// logged and also give `None`, so the embedded detector carries on alone; configuration
    /// loading refuses such settings before this is reached.
    pub fn from_settings(settings: &CrisisJudgeSettings) -> Option<CrisisJudge> {
        if !settings.enabled {
            return None;
        }
        match Self::new(settings) {
            Ok(judge) => Some(judge),
            Err(error) => {
                tracing::error!(%error, "crisis judge disabled: unusable settings");
                None
            }
        }
    }

    /// The configured model name.
    pub fn model(&self) -> &str {
        self.client.model()
    }

    /// The judge's verdict on `message` in the light of `recent_user_turns` (the user's earlier
    /// turns, oldest first, excluding `message`; only the last [`CONTEXT_TURNS`] are sent), or
    /// `None` when there is no usable opinion.
    pub async fn judge(&self, recent_user_turns: &[String], message: &str) -> Option<JudgeVerdict> {
        self.try_judge(recent_user_turns, message).await.ok()
    }

    /// As [`CrisisJudge::judge`], with the reason when there is no opinion, for a metric. The
    /// error is a label, not something to propagate: treat it as "no opinion".
    pub async fn try_judge(
        &self,
        recent_user_turns: &[String],
        message: &str,
    ) -> Result<JudgeVerdict, JudgeFailure> {
        let started = Instant::now();
        let result = self.client.call(recent_user_turns, message).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(verdict) => {
                tracing::debug!(
                    elapsed_ms,
                    risk = verdict.risk.as_str(),
                    category = verdict.category.map(|c| c.as_str()),
                    severity = verdict.severity.map(|s| s.as_str()),
                    "crisis judge answered"
                );
                Ok(verdict)
            }
            Err(failed) => {
                tracing::warn!(
                    elapsed_ms,
                    status = failed.status,
                    reason = failed.failure.as_str(),
                    "crisis judge gave no opinion"
                );
                Err(failed.failure)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CrisisJudgeSettings {
        CrisisJudgeSettings {
            enabled: true,
            base_url: "http://127.0.0.1:11434/v1".to_owned(),
            model: "judge-model".to_owned(),
            api_key: Some(SecretString::from("sk-judge-secret")),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn disabled_by_default_and_when_disabled() {
        let defaults = CrisisJudgeSettings::default();
        assert!(!defaults.enabled);
        assert_eq!(defaults.timeout, Duration::from_millis(1500));
        assert!(CrisisJudge::from_settings(&defaults).is_none());
        let disabled = CrisisJudgeSettings {
            enabled: false,
            ..settings()
        };
        assert!(CrisisJudge::from_settings(&disabled).is_none());
        assert!(CrisisJudge::from_settings(&settings()).is_some());
    }

    #[test]
    fn unusable_settings_give_no_judge() {
        let cases: [fn(&mut CrisisJudgeSettings); 5] = [
            |s| s.model = " ".to_owned(),
            |s| s.timeout = Duration::ZERO,
            |s| s.api_key = Some(SecretString::from("  ")),
            |s| s.base_url = "ftp://example.org/v1".to_owned(),
            |s| s.base_url = "not a url".to_owned(),
        ];
        for change in cases {
            let mut settings = settings();
            change(&mut settings);
            assert!(CrisisJudge::new(&settings).is_err());
            assert!(CrisisJudge::from_settings(&settings).is_none());
        }
    }

    #[test]
    fn debug_never_prints_the_key() {
        let printed = format!("{:?}", settings());
        assert!(!printed.contains("sk-judge-secret"), "{printed}");
        let judge = CrisisJudge::from_settings(&settings());
        let printed = format!("{judge:?}");
        assert!(!printed.contains("sk-judge-secret"), "{printed}");
    }

    #[test]
    fn judge_futures_are_send() {
        if let Some(judge) = CrisisJudge::from_settings(&settings()) {
            let turns = Vec::new();
            let future = judge.judge(&turns, "x");
            assert_send(&future);
            drop(future);
        } else {
            panic!("valid settings rejected");
        }
    }

    #[test]
    fn failure_labels_are_snake_case_and_distinct() {
        let labels: std::collections::HashSet<_> =
            JudgeFailure::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(labels.len(), JudgeFailure::ALL.len());
        for label in labels {
            assert!(label.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
