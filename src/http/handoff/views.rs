//! What the young person reads about their handoff.

use crate::http::mirror::mirror_enum;
use crate::http::views::HotlineView;
use cbln_actors::handoff::{HandoffRecord, HandoffStatus, Outcome, Share};
use cbln_actors::persistence::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

mirror_enum! {
    /// What the person lets the counsellor read.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ShareChoice from and into Share {
        /// Nothing of the conversation (only the note, if any).
        None,
        /// A summary the person has seen and accepted, sent as `note`.
        Summary,
        /// Exactly the messages named in `message_ids`.
        Selected,
    }
}

mirror_enum! {
    /// Where a handoff is in its life, as the API shows it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum HandoffState from HandoffStatus {
        /// Waiting for a counsellor.
        Queued,
        /// A counsellor is answering; the AI does not.
        Assigned,
        /// The counsellor closed it.
        Closed,
        /// The person left it, or their session ended.
        Cancelled,
    }
}

mirror_enum! {
    /// How a handoff ended.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum HandoffOutcome from and into Outcome {
        /// The person was helped.
        Resolved,
        /// Referred to another service.
        Referred,
        /// Emergency services were involved.
        Emergency,
        /// The person stopped answering.
        NoResponse,
        /// Anything else.
        Other,
        /// The person left (never chosen by a counsellor).
        Left,
    }
}

/// The person's handoff.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HandoffView {
    /// Handoff id.
    pub id: Uuid,
    /// Where it is.
    pub status: HandoffState,
    /// What was shared.
    pub share: ShareChoice,
    /// While queued: 1 when next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// While queued: the expected wait in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_s: Option<i64>,
    /// When it was asked for, taken and ended, and how it ended.
    #[serde(flatten)]
    pub times: HandoffTimes,
}

/// When a handoff was asked for, taken by a counsellor and ended, and how it ended: the same in
/// the person's view and the counsellor's.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HandoffTimes {
    /// When it was asked for.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When a counsellor took it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub claimed_at: Option<Timestamp>,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    /// How it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<HandoffOutcome>,
}

impl From<&HandoffRecord> for HandoffTimes {
    fn from(record: &HandoffRecord) -> Self {
        HandoffTimes {
            created_at: record.created_at,
            claimed_at: record.claimed_at,
            closed_at: record.closed_at,
            outcome: record.outcome.map(Into::into),
        }
    }
}

impl HandoffView {
    /// The view of `record`, with its place in the queue when it waits.
    pub fn new(record: &HandoffRecord, queue: Option<(i64, i64)>) -> Self {
        HandoffView {
            id: record.id,
            status: record.status.into(),
            share: record.share.into(),
            position: queue.map(|(position, _)| position),
            estimated_wait_s: queue.map(|(_, wait)| wait),
            times: record.into(),
        }
    }
}

/// `{"handoff": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffEnvelope {
    /// The handoff.
    pub handoff: HandoffView,
}

/// Always `unavailable`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// No counsellor can take the chat now.
    Unavailable,
}

/// Why no handoff was made.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnavailableView {
    /// `unavailable`.
    pub status: Unavailable,
    /// When counsellors are next on duty, when opening hours are set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_opening: Option<Timestamp>,
}

/// Where to call instead.
#[derive(Debug, Serialize, ToSchema)]
pub struct HotlineCard {
    /// Why no counsellor can answer, and that the chat stays open.
    pub message: String,
    /// Every configured line, in priority order.
    pub hotlines: Vec<HotlineView>,
}

/// Answer of `POST /handoff` when no counsellor can take the chat: it stays with the AI.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnavailableAnswer {
    /// `{"status": "unavailable", "next_opening"?}`.
    pub handoff: UnavailableView,
    /// The hotline card.
    pub crisis_card: HotlineCard,
}

/// Answer of `GET /handoff/summary-draft`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryDraft {
    /// The drafted summary; shared only if the person sends it (edited or not) as `note`.
    pub summary: String,
}
