//! The encryptor's interface: one struct per message, each with its reply type.

use crate::crypto::{Aad, CryptoError, DataKey};
use crate::error::PipelineError;
use crate::persistence::WrappedKey;
use actix::Message;
use uuid::Uuid;

/// Seal each record with the session's data key; the reply holds the sealed records in the same
/// places, so a caller takes each by destructuring rather than by guessing at a list's length.
pub struct SealRecords<const N: usize> {
    /// The session's data key.
    pub key: DataKey,
    /// Context and plaintext of each record.
    pub records: [(Aad, Vec<u8>); N],
}

impl<const N: usize> Message for SealRecords<N> {
    type Result = Result<[Vec<u8>; N], PipelineError>;
}

/// Open each record; one unreadable record does not fail the others.
#[derive(Message)]
#[rtype(result = "Result<Vec<Result<Vec<u8>, CryptoError>>, PipelineError>")]
pub struct OpenRecords {
    /// The session's data key.
    pub key: DataKey,
    /// Context and sealed bytes of each record.
    pub records: Vec<(Aad, Vec<u8>)>,
}

/// Create a data key for a new session and wrap it with the primary master key.
#[derive(Message)]
#[rtype(result = "Result<(DataKey, WrappedKey), PipelineError>")]
pub struct IssueDataKey {
    /// The new session's id, bound into the wrapping.
    pub session_id: Uuid,
}

/// Unwrap a stored data key.
#[derive(Message)]
#[rtype(result = "Result<DataKey, PipelineError>")]
pub struct UnwrapDataKey {
    /// The session the key belongs to.
    pub session_id: Uuid,
    /// The stored wrapped key.
    pub wrapped: WrappedKey,
}
