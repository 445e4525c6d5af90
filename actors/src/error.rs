//! The one error type of the actor pipeline; the front door maps its kinds to status codes.

use crate::crypto::CryptoError;
use crate::mailbox::AskError;
use crate::persistence::StoreError;

/// Why a pipeline request failed. `Display` never carries message text, tokens or keys.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// An actor was overloaded, too slow, or stopped.
    #[error(transparent)]
    Ask(#[from] AskError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing or unwrapping failed (never for a single unreadable record, which is reported
    /// in the record instead).
    #[error("cryptography failed: {0}")]
    Crypto(#[from] CryptoError),
    /// No session has this token.
    #[error("session not found")]
    SessionNotFound,
    /// The session is past its expiry.
    #[error("session expired")]
    SessionExpired,
    /// No such message in this session.
    #[error("message not found")]
    MessageNotFound,
    /// The session already gave feedback.
    #[error("feedback already submitted for this session")]
    FeedbackExists,
    /// The system is shutting down and takes no new work.
    #[error("the service is shutting down")]
    ShuttingDown,
}
