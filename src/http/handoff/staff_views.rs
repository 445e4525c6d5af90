//! What counsellors and supervisors read about handoffs. The queue and the figures hold no
//! content; a handoff's messages are read only by the counsellor who has it.

use super::views::{HandoffOutcome, HandoffState, HandoffTimes, ShareChoice};
use crate::http::mirror::mirror_enum;
use crate::http::views::{Language, RiskLevel};
use cbln_actors::handoff::{EntryRole, HandoffEntry, HandoffRecord};
use cbln_actors::persistence::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One waiting handoff in the queue: no content.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    /// Handoff id.
    pub id: Uuid,
    /// The conversation's risk; a crisis is at the head of the queue.
    pub risk: RiskLevel,
    /// Seconds since it was asked for.
    pub waiting_s: i64,
    /// The person's language.
    pub language: Language,
    /// What they shared.
    pub share: ShareChoice,
}

impl QueueItem {
    /// The item for `record` at `now`.
    pub fn new(record: &HandoffRecord, now: Timestamp) -> Self {
        QueueItem {
            id: record.id,
            risk: record.risk.into(),
            waiting_s: waited_s(record.created_at, now),
            language: record.language.into(),
            share: record.share.into(),
        }
    }
}

/// `{"handoffs": [...]}`, highest risk first, then longest wait.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queue {
    /// Waiting handoffs.
    pub handoffs: Vec<QueueItem>,
}

/// A handoff as its counsellor sees it (no content).
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffHandoffView {
    /// Handoff id.
    pub id: Uuid,
    /// Where it is.
    pub status: HandoffState,
    /// The conversation's risk.
    pub risk: RiskLevel,
    /// The person's language.
    pub language: Language,
    /// What the person shared.
    pub share: ShareChoice,
    /// When it was asked for, claimed and ended, and how it ended.
    #[serde(flatten)]
    pub times: HandoffTimes,
}

impl From<&HandoffRecord> for StaffHandoffView {
    fn from(record: &HandoffRecord) -> Self {
        StaffHandoffView {
            id: record.id,
            status: record.status.into(),
            risk: record.risk.into(),
            language: record.language.into(),
            share: record.share.into(),
            times: record.into(),
        }
    }
}

/// `{"handoff": …}` for staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffHandoffEnvelope {
    /// The handoff.
    pub handoff: StaffHandoffView,
}

mirror_enum! {
    /// Who wrote what a counsellor reads.
    #[derive(Debug, Clone, Copy, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum EntryAuthor from EntryRole {
        /// The young person.
        User,
        /// The automated listener (in shared messages).
        Assistant,
        /// The counsellor.
        Counsellor,
        /// The note or the accepted summary sent with the request.
        Note,
    }
}

/// One thing the counsellor may read.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    /// Who wrote it.
    pub role: EntryAuthor,
    /// What was written.
    pub content: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<HandoffEntry> for EntryView {
    fn from(entry: HandoffEntry) -> Self {
        EntryView {
            role: entry.role.into(),
            content: entry.content,
            created_at: entry.created_at,
        }
    }
}

/// `{"messages": [...]}`: exactly what was shared, then the conversation since the claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryList {
    /// Oldest first.
    pub messages: Vec<EntryView>,
}

/// Body of `POST /staff/handoffs/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounsellorMessageRequest {
    /// 1..5000 characters after trimming.
    pub content: String,
}

/// `{"message": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CounsellorMessageCreated {
    /// The counsellor's message as stored.
    pub message: EntryView,
}

/// Body of `POST /staff/handoffs/{id}/close`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// `resolved`, `referred`, `emergency`, `no_response` or `other`.
    pub outcome: HandoffOutcome,
}

/// Seconds from `from` to `to`, never negative.
pub fn waited_s(from: Timestamp, to: Timestamp) -> i64 {
    ((to.unix_millis() - from.unix_millis()) / 1000).max(0)
}

/// How many handoffs ended one way at one risk level.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeCount {
    /// The conversation's risk.
    pub risk: RiskLevel,
    /// How it ended.
    pub outcome: HandoffOutcome,
    /// How many.
    pub count: i64,
}

/// Queue and outcome figures for supervisors: counts and times, never content.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffStats {
    /// Handoffs waiting.
    pub queue_length: i64,
    /// Handoffs a counsellor has now.
    pub assigned: i64,
    /// The longest current wait, in seconds (0 with an empty queue).
    pub longest_wait_s: i64,
    /// Mean wait before a claim over recent claims, in seconds; `null` before any claim.
    pub mean_wait_s: Option<i64>,
    /// Ended handoffs by risk and outcome.
    pub outcomes: Vec<OutcomeCount>,
}
