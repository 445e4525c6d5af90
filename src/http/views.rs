//! The API's response shapes: what a client reads, with its OpenAPI description and the fields the
//! old client still expects, built from the actors' replies. The actors know nothing of the wire.

use super::feedback::FeedbackCategory;
use super::mirror::mirror_enum;
use cbln_actors::persistence::Timestamp;
use cbln_actors::{crisis, domain, session};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

mirror_enum! {
    /// The language a session is held in; replies and crisis cards follow it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Language from and into domain::Language {
        /// Vietnamese, the default.
        Vi,
        /// English.
        En,
    }
}

mirror_enum! {
    /// Who wrote a message.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Role from domain::Role {
        /// The person chatting.
        User,
        /// The automated listener.
        Assistant,
        /// A counsellor the person asked for.
        Counsellor,
    }
}

mirror_enum! {
    /// How much worry a conversation shows, as the session status reports it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum RiskLevel from crisis::RiskLevel {
        /// Nothing worrying, or a concrete safety step ended an earlier crisis.
        None,
        /// Worrying but not (yet) a crisis: hopelessness, hints that are not clear yet.
        Elevated,
        /// Crisis support is shown on every turn.
        Crisis,
    }
}

mirror_enum! {
    /// What kind of danger a message points to.
    ///
    /// The declaration order is the order of precedence when a message touches several categories
    /// (the crisis card speaks first to the first one).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Category from crisis::Category {
        /// Thoughts, intent or plans of ending one's life.
        Suicide,
        /// Hurting oneself without (stated) intent to die.
        SelfHarm,
        /// Abuse by family, carers or anyone sexual, including of children.
        Abuse,
        /// Assault, threats or danger from another person, or intent to hurt others.
        Violence,
        /// Someone else (a friend, a sibling) is in danger of any of the above, and the writer is the
        /// one who can get them help.
        ThirdParty,
    }
}

mirror_enum! {
    /// How urgent a crisis is; `Medium < High < Critical`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Severity from crisis::Severity {
        /// Worrying words without intent or plan.
        Medium,
        /// Clear intent, or ongoing abuse or violence.
        High,
        /// A plan, a method at hand, or a farewell together with intent.
        Critical,
    }
}

/// One hotline on the card, in the session's language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotlineView {
    /// Name of the service.
    pub name: String,
    /// The number to dial.
    pub number: String,
    /// Opening hours.
    pub available: String,
    /// Whether calls are free.
    pub free: bool,
    /// Position on the card, 1 first (relevant lines first, then configured priority).
    pub priority: u8,
    /// What the line is for.
    pub description: String,
}

impl From<crisis::HotlineView> for HotlineView {
    fn from(line: crisis::HotlineView) -> Self {
        HotlineView {
            name: line.name,
            number: line.number,
            available: line.available,
            free: line.free,
            priority: line.priority,
            description: line.description,
        }
    }
}

/// The crisis card returned with a message that was assessed as a crisis (API.md `CrisisInfo`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CrisisInfo {
    /// Crisis categories found, in order of precedence.
    pub categories: Vec<Category>,
    /// The highest severity found.
    pub severity: Severity,
    /// The first thing to say, chosen by the most pressing category.
    pub priority_message: String,
    /// Where to call, relevant lines first.
    pub hotlines: Vec<HotlineView>,
    /// Concrete steps to take now.
    pub immediate_actions: Vec<String>,
    /// A closing word of support.
    pub reassurance: String,
}

impl From<crisis::CrisisInfo> for CrisisInfo {
    fn from(card: crisis::CrisisInfo) -> Self {
        CrisisInfo {
            categories: card.categories.into_iter().map(Category::from).collect(),
            severity: card.severity.into(),
            priority_message: card.priority_message,
            hotlines: card.hotlines.into_iter().map(HotlineView::from).collect(),
            immediate_actions: card.immediate_actions,
            reassurance: card.reassurance,
        }
    }
}

/// A chat message as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatMessage {
    /// Message id.
    pub id: Uuid,
    /// The session's id.
    pub session_id: Uuid,
    /// `user`, `assistant`, or `counsellor` (a counsellor the person asked for).
    pub role: Role,
    /// The text; `null` when the stored record failed its integrity check.
    pub content: Option<String>,
    /// Commit time (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// What produced an assistant message.
    pub model_used: Option<String>,
    /// Milliseconds spent producing the reply.
    pub processing_time_ms: Option<i32>,
    /// Whether the crisis detector flagged this message.
    pub is_crisis_detected: bool,
    /// Present and true only when the stored record could not be decrypted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub integrity_error: bool,
}

impl From<session::ChatMessage> for ChatMessage {
    fn from(message: session::ChatMessage) -> Self {
        ChatMessage {
            id: message.id,
            session_id: message.session_id,
            role: message.role.into(),
            integrity_error: message.integrity_error,
            content: message.content,
            created_at: message.created_at,
            model_used: message.model_used,
            processing_time_ms: message.processing_time_ms,
            is_crisis_detected: message.is_crisis_detected,
        }
    }
}

/// The reply to a posted message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostedMessage {
    /// The user's message as committed.
    pub user_message: ChatMessage,
    /// The reply as committed; `null` while a counsellor has the conversation (they answer, and
    /// their messages come with `"role": "counsellor"` in the history and on the event stream).
    pub ai_message: Option<ChatMessage>,
    /// The crisis card when the message was a crisis.
    pub crisis_info: Option<CrisisInfo>,
    /// Shown with the reply: `ai_disclosure` on the session's first, `break_reminder` after a long
    /// stretch of use or late at night in Vietnam, otherwise null.
    pub notice: Option<Notice>,
}

impl From<session::PostedMessage> for PostedMessage {
    fn from(posted: session::PostedMessage) -> Self {
        PostedMessage {
            user_message: posted.user_message.into(),
            ai_message: posted.ai_message.map(Into::into),
            crisis_info: posted.crisis_info.map(CrisisInfo::from),
            notice: posted.notice.map(Notice::from),
        }
    }
}

mirror_enum! {
    /// What kind of notice a reply carries.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum NoticeKind from session::NoticeKind {
        /// Replies come from software, not a counsellor.
        AiDisclosure,
        /// A reminder that a break is fine.
        BreakReminder,
    }
}

/// A notice shown with a reply, in the session's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Notice {
    /// What it is.
    pub kind: NoticeKind,
    /// What it says.
    pub text: String,
}

impl From<session::Notice> for Notice {
    fn from(notice: session::Notice) -> Self {
        Notice {
            kind: notice.kind.into(),
            text: notice.text,
        }
    }
}

/// A page of history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct History {
    /// Messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Messages in the whole session.
    pub total_count: i64,
    /// The session's id.
    pub session_id: Uuid,
    /// Whether any message of the session was a crisis.
    pub has_crisis_history: bool,
}

impl From<session::History> for History {
    fn from(history: session::History) -> Self {
        History {
            messages: history
                .messages
                .into_iter()
                .map(ChatMessage::from)
                .collect(),
            total_count: history.total_count,
            session_id: history.session_id,
            has_crisis_history: history.has_crisis_history,
        }
    }
}

/// A session's status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionStatus {
    /// The session exists and may be used.
    pub is_valid: bool,
    /// Past expiry (an expired session answers 401 instead, so this is false in a 200).
    pub is_expired: bool,
    /// Not expired.
    pub is_active: bool,
    /// The conversation is in crisis: every reply carries crisis support until a concrete safety
    /// step is named or the conversation has been quiet for the configured period.
    pub is_crisis_mode: bool,
    /// The conversation's risk: `none`, `elevated` (worrying, not yet a crisis) or `crisis`.
    pub risk: RiskLevel,
    /// Creation time.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last use.
    #[schema(value_type = String, format = DateTime)]
    pub last_activity: Timestamp,
    /// Expiry time.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// Messages in the session.
    pub message_count: i64,
}

impl From<session::SessionStatus> for SessionStatus {
    fn from(status: session::SessionStatus) -> Self {
        // Only a live session answers with a status (an expired one is a 401), so the old
        // client's three flags are constant.
        SessionStatus {
            is_valid: true,
            is_expired: false,
            is_active: true,
            is_crisis_mode: status.is_crisis_mode,
            risk: status.risk.into(),
            created_at: status.created_at,
            last_activity: status.last_activity,
            expires_at: status.expires_at,
            message_count: status.message_count,
        }
    }
}

/// A stored feedback, as acknowledged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackReceipt {
    /// Feedback id.
    pub id: Uuid,
    /// The session's id.
    pub session_id: Uuid,
    /// 1..5.
    pub rating: i16,
    /// Optional category.
    pub category: Option<FeedbackCategory>,
    /// Submission time.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<session::FeedbackReceipt> for FeedbackReceipt {
    fn from(receipt: session::FeedbackReceipt) -> Self {
        FeedbackReceipt {
            id: receipt.id,
            session_id: receipt.session_id,
            rating: receipt.rating.get(),
            category: receipt.category.map(Into::into),
            created_at: receipt.created_at,
        }
    }
}
