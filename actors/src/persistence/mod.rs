//! Durable state: the storage interface over SQLite and PostgreSQL, and the actor that owns it.

mod actor;
mod chat;
mod claim;
mod error;
mod exit;
mod feedback;
pub mod handoff_copy;
mod handoffs;
mod idempotency;
mod maintenance;
pub mod messages;
mod probe;
mod reachability;
mod records;
mod rules;
mod session_version;
mod sessions;
mod staff;
pub(crate) mod store;
mod time;
mod wrapped_keys;

pub use actor::PersistenceActor;
pub use error::StoreError;
pub use handoffs::Withdrawal;
pub use idempotency::{ClaimOutcome, IdempotencyClaim, IdempotencyRecord};
pub use maintenance::{MigrationState, StorageReport, TABLES};
pub use probe::DatabaseProbe;
pub use reachability::Reachability;
pub use records::{
    Committed, HealthSnapshot, MessageStats, NewFeedback, NewSession, RuleRecord, SessionRecord,
    StoredContext, StoredMessage, WrappedKey, WriteOp,
};
pub use staff::{StaffRecord, StoredOpeningHours};
pub use store::{BackendKind, ConnectionLimits, Store, StoreSettings, redact_url};
pub use time::Timestamp;
pub use wrapped_keys::KeyOwner;
