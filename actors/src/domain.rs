//! Small domain types shared by every actor and by the HTTP front door.

use serde::{Deserialize, Serialize};

/// The language a session is held in; replies and crisis cards follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Language {
    /// The stored and wire form (`vi` / `en`).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Vi => "vi",
            Language::En => "en",
        }
    }

    /// Parses the stored form; anything else is `None` so callers decide how to report it.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "vi" => Some(Language::Vi),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person chatting.
    User,
    /// The automated listener.
    Assistant,
    /// A counsellor the person asked for (a handoff).
    Counsellor,
}

impl Role {
    /// The stored and wire form (`user` / `assistant` / `counsellor`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Counsellor => "counsellor",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            "counsellor" => Some(Role::Counsellor),
            _ => None,
        }
    }
}

/// One turn of a conversation as the responder sees it (plaintext, memory only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

/// A chat message as a person sent it: trimmed, not empty, at most [`MessageText::MAX_CHARS`]
/// characters. Made only by [`MessageText::parse`], so every actor can rely on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

/// Why a message cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageTextError {
    /// Nothing but whitespace.
    #[error("the message is empty")]
    Empty,
    /// Longer than [`MessageText::MAX_CHARS`] as sent.
    #[error("the message is longer than {} characters", MessageText::MAX_CHARS)]
    TooLong,
}

impl MessageText {
    /// Longest message, in characters as sent (before trimming).
    pub const MAX_CHARS: usize = 5000;

    /// Checks the length of `raw` as sent — the bound the API publishes (`maxLength`), so that a
    /// client can check it before sending — and trims it.
    pub fn parse(raw: &str) -> Result<Self, MessageTextError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(MessageTextError::TooLong);
        }
        match raw.trim() {
            "" => Err(MessageTextError::Empty),
            text => Ok(MessageText(text.to_string())),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A rating of the conversation, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating(u8);

/// The rating is outside 1..=5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rating must be between 1 and 5")]
pub struct RatingError;

impl Rating {
    /// Accepts 1 to 5.
    pub fn parse(value: i64) -> Result<Self, RatingError> {
        match u8::try_from(value) {
            Ok(rating @ 1..=5) => Ok(Rating(rating)),
            _ => Err(RatingError),
        }
    }

    /// The stored form.
    pub fn get(self) -> i16 {
        i16::from(self.0)
    }
}

/// What a feedback is about, when the person says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackCategory {
    /// It helped.
    Helpful,
    /// It did not help.
    NotHelpful,
    /// Something was inappropriate.
    Inappropriate,
    /// Anything else.
    Other,
}

impl FeedbackCategory {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackCategory::Helpful => "helpful",
            FeedbackCategory::NotHelpful => "not_helpful",
            FeedbackCategory::Inappropriate => "inappropriate",
            FeedbackCategory::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_trimmed_and_bounded() {
        assert_eq!(
            MessageText::parse("  chào  ").map(MessageText::into_string),
            Ok("chào".into())
        );
        assert_eq!(MessageText::parse(" \n\t "), Err(MessageTextError::Empty));
        let longest = "ă".repeat(MessageText::MAX_CHARS);
        assert!(MessageText::parse(&longest).is_ok());
        assert_eq!(
            MessageText::parse(&format!("{longest}a")),
            Err(MessageTextError::TooLong)
        );
        // The bound is on what was sent: whitespace around counts.
        assert_eq!(
            MessageText::parse(&format!(" {longest}")),
            Err(MessageTextError::TooLong)
        );
        assert!(MessageText::parse(&format!(" {} ", &longest[..longest.len() - 4])).is_ok());
    }

    #[test]
    fn a_rating_is_one_to_five() {
        assert_eq!(Rating::parse(1).map(Rating::get), Ok(1));
        assert_eq!(Rating::parse(5).map(Rating::get), Ok(5));
        for outside in [0, 6, -1, 256, 257, i64::MAX, i64::MIN] {
            assert_eq!(Rating::parse(outside), Err(RatingError), "{outside}");
        }
    }
}
