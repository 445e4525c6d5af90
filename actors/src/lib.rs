//! The actor system of Cùng Bạn Lắng Nghe and the domain each actor owns.
//!
//! Nothing here depends on actix-web: the HTTP front door depends on this crate, never the reverse.

mod chat_completions;
pub mod content;
pub mod crisis;
pub mod crisis_detector;
pub mod crisis_judge;
pub mod crypto;
pub mod domain;
pub mod encryptor;
pub mod error;
pub mod janitor;
pub mod mailbox;
pub mod persistence;
pub mod responder;
pub mod responder_actor;
pub mod session;
pub mod supervision;
pub mod system;
pub mod telemetry;
pub mod text;
