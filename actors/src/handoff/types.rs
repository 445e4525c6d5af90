//! The handoff's states and records.

use crate::crisis::RiskLevel;
use crate::domain::Language;
use crate::persistence::{Timestamp, WrappedKey};
use uuid::Uuid;

/// Declares a closed set of values with a stable stored and wire form.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the stored and wire form.
            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value)
            }
        }
    };
}

wire_enum!(
    /// Where a handoff is in its life.
    HandoffStatus {
        /// Waiting for a counsellor.
        Queued = "queued",
        /// A counsellor claimed it; the AI does not answer.
        Assigned = "assigned",
        /// The counsellor closed it.
        Closed = "closed",
        /// The young person left it (or the session ended) before a counsellor closed it.
        Cancelled = "cancelled",
    }
);

impl HandoffStatus {
    /// Queued or assigned: the session has a handoff in progress.
    pub fn is_open(self) -> bool {
        matches!(self, HandoffStatus::Queued | HandoffStatus::Assigned)
    }
}

wire_enum!(
    /// What the young person lets the counsellor read of the conversation so far.
    Share {
        /// Nothing of it (only the note, if any).
        None = "none",
        /// A summary the person has seen and accepted (sent as the note).
        Summary = "summary",
        /// Exactly the messages the person chose.
        Selected = "selected",
    }
);

wire_enum!(
    /// How a handoff ended.
    Outcome {
        /// The person was helped.
        Resolved = "resolved",
        /// The person was referred to another service.
        Referred = "referred",
        /// Emergency services were involved.
        Emergency = "emergency",
        /// The person stopped answering.
        NoResponse = "no_response",
        /// Anything else.
        Other = "other",
        /// The person left the handoff themselves.
        Left = "left",
    }
);

wire_enum!(
    /// Who wrote an entry a counsellor reads.
    EntryRole {
        /// The young person.
        User = "user",
        /// The automated listener (in shared messages).
        Assistant = "assistant",
        /// The counsellor.
        Counsellor = "counsellor",
        /// The note or summary the person sent with the request.
        Note = "note",
    }
);

/// A handoff as stored: ids, states, times and levels, nothing anyone wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffRecord {
    /// Random id, the one the person and the counsellor see.
    pub id: Uuid,
    /// The session that asked.
    pub session_id: Uuid,
    /// Where it is in its life.
    pub status: HandoffStatus,
    /// What the person shared.
    pub share: Share,
    /// The conversation's risk level; a crisis moves it to the head of the queue.
    pub risk: RiskLevel,
    /// The session's language.
    pub language: Language,
    /// When it was asked for.
    pub created_at: Timestamp,
    /// The counsellor who claimed it.
    pub claimed_by: Option<Uuid>,
    /// When it was claimed.
    pub claimed_at: Option<Timestamp>,
    /// When it was closed or cancelled.
    pub closed_at: Option<Timestamp>,
    /// How it ended.
    pub outcome: Option<Outcome>,
}

/// One thing a counsellor may read, in plaintext (memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffEntry {
    /// Who wrote it.
    pub role: EntryRole,
    /// The session message it copies, when it copies one.
    pub message_id: Option<Uuid>,
    /// What was written.
    pub content: String,
    /// When it was written.
    pub created_at: Timestamp,
}

/// An entry sealed under the handoff's key, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEntry {
    /// The row's id, bound into the seal.
    pub id: Uuid,
    /// Who wrote it.
    pub role: EntryRole,
    /// The session message it copies, when it copies one.
    pub message_id: Option<Uuid>,
    /// Sealed text.
    pub content: Vec<u8>,
    /// When it was written.
    pub created_at: Timestamp,
}

/// A handoff with its wrapped key and sealed material, written in one transaction.
#[derive(Debug, Clone)]
pub struct NewHandoff {
    /// The handoff.
    pub record: HandoffRecord,
    /// Its key, wrapped by the master key.
    pub key: WrappedKey,
    /// The shared material, in order.
    pub entries: Vec<SealedEntry>,
}

/// Queue figures without content: for the estimate, the statistics and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueFigures {
    /// Handoffs waiting.
    pub queued: i64,
    /// Handoffs assigned.
    pub assigned: i64,
    /// Mean wait between asking and a claim over recent claims, in seconds (none yet: `None`).
    pub mean_wait_s: Option<i64>,
}

/// The wait a person at `position` (1 = next) can expect: the recent mean wait per handoff ahead,
/// or `default_s` per handoff before any claim was measured.
pub fn estimated_wait_s(position: i64, figures: &QueueFigures, default_s: i64) -> i64 {
    let per_handoff = figures.mean_wait_s.unwrap_or(default_s).max(0);
    per_handoff.saturating_mul(position.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_round_trip() {
        for status in HandoffStatus::ALL {
            assert_eq!(HandoffStatus::parse(status.as_str()), Some(*status));
        }
        for share in Share::ALL {
            assert_eq!(Share::parse(share.as_str()), Some(*share));
        }
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(*outcome));
        }
        for role in EntryRole::ALL {
            assert_eq!(EntryRole::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Share::parse("all"), None);
    }

    #[test]
    fn only_queued_and_assigned_are_open() {
        let open: Vec<_> = HandoffStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [&HandoffStatus::Queued, &HandoffStatus::Assigned]);
    }

    #[test]
    fn the_estimate_grows_with_the_position() {
        let measured = QueueFigures {
            mean_wait_s: Some(90),
            ..QueueFigures::default()
        };
        assert_eq!(estimated_wait_s(1, &measured, 300), 90);
        assert_eq!(estimated_wait_s(3, &measured, 300), 270);
        assert_eq!(estimated_wait_s(2, &QueueFigures::default(), 300), 600);
    }
}
