//! The context a ciphertext is bound to (GCM associated data).
//!
//! Every field has a fixed length, so no two different contexts encode to the same bytes and a
//! ciphertext copied to another row, session or purpose fails authentication.

use std::fmt;

use uuid::Uuid;

/// Length of an encoded context: purpose tag, session id, record id.
pub(crate) const CONTEXT_LEN: usize = 1 + 16 + 16;

/// Tag reserved for data keys wrapped by a master key; never produced by [`Purpose`], so a wrapped
/// key can never be opened as record content or the other way round.
const DATA_KEY_TAG: u8 = 0x01;

/// What a ciphertext holds. Part of the associated data, so content sealed for one purpose cannot
/// be opened as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The text of a user or assistant message.
    MessageContent,
    /// The rolling conversation context handed to the responder.
    ConversationContext,
    /// Free text in user feedback.
    FeedbackText,
    /// A record exported for training with consent.
    TrainingData,
    /// The answer kept for retries of a request sent with an `Idempotency-Key`.
    IdempotentResponse,
    /// What a counsellor may read of a handoff, sealed under the handoff's own key.
    HandoffContent,
}

impl Purpose {
    /// Every purpose, for exhaustive tests and metrics registration.
    pub const ALL: [Self; 6] = [
        Self::MessageContent,
        Self::ConversationContext,
        Self::FeedbackText,
        Self::TrainingData,
        Self::IdempotentResponse,
        Self::HandoffContent,
    ];

    /// A stable `snake_case` name, for logs and metrics.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MessageContent => "message_content",
            Self::ConversationContext => "conversation_context",
            Self::FeedbackText => "feedback_text",
            Self::TrainingData => "training_data",
            Self::IdempotentResponse => "idempotent_response",
            Self::HandoffContent => "handoff_content",
        }
    }

    /// The byte written into the associated data. Changing a value makes existing ciphertext
    /// unreadable, so these are fixed forever.
    const fn tag(self) -> u8 {
        match self {
            Self::MessageContent => 0x10,
            Self::ConversationContext => 0x11,
            Self::FeedbackText => 0x12,
            Self::TrainingData => 0x13,
            Self::IdempotentResponse => 0x14,
            Self::HandoffContent => 0x15,
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a ciphertext belongs: the row it is stored in and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aad {
    /// The session that owns the record (and whose data key seals it).
    pub session_id: Uuid,
    /// The row the ciphertext is stored in, e.g. a message id.
    pub record_id: Uuid,
    /// What the ciphertext holds.
    pub purpose: Purpose,
}

impl Aad {
    /// Builds the context for one record.
    #[must_use]
    pub const fn new(session_id: Uuid, record_id: Uuid, purpose: Purpose) -> Self {
        Self {
            session_id,
            record_id,
            purpose,
        }
    }

    pub(crate) fn encode(&self) -> [u8; CONTEXT_LEN] {
        encode(self.purpose.tag(), self.session_id, self.record_id)
    }
}

/// Context of a session's data key wrapped by a master key. There is one data key per session, so
/// the record id is fixed to nil.
pub(crate) fn data_key_context(session_id: Uuid) -> [u8; CONTEXT_LEN] {
    encode(DATA_KEY_TAG, session_id, Uuid::nil())
}

fn encode(tag: u8, session_id: Uuid, record_id: Uuid) -> [u8; CONTEXT_LEN] {
    let mut out = [0u8; CONTEXT_LEN];
    out[0] = tag;
    out[1..17].copy_from_slice(session_id.as_bytes());
    out[17..].copy_from_slice(record_id.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_have_distinct_tags_and_names() {
        for (i, a) in Purpose::ALL.iter().enumerate() {
            assert_ne!(a.tag(), DATA_KEY_TAG);
            for b in &Purpose::ALL[i + 1..] {
                assert_ne!(a.tag(), b.tag());
                assert_ne!(a.as_str(), b.as_str());
            }
        }
    }

    #[test]
    fn swapping_session_and_record_changes_the_encoding() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let one = Aad::new(a, b, Purpose::MessageContent).encode();
        let two = Aad::new(b, a, Purpose::MessageContent).encode();
        assert_ne!(one, two);
    }

    #[test]
    fn data_key_context_differs_from_any_record_context() {
        let session = Uuid::new_v4();
        let wrapped = data_key_context(session);
        for purpose in Purpose::ALL {
            assert_ne!(wrapped, Aad::new(session, Uuid::nil(), purpose).encode());
        }
    }
}
