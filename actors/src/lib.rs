//! The actor system of Cùng Bạn Lắng Nghe and the domain each actor owns.
//!
//! Nothing here depends on actix-web: the HTTP front door depends on this crate, never the reverse.
//!
//! # Where things live
//!
//! A folder is told to be an actor's by one mark, the same everywhere: it holds an `actor.rs` (one
//! actor, its lifecycle and handlers that each route to a function) and a `messages.rs` (that
//! actor's interface and nothing else: one struct per message with its reply type). Such a folder is
//! named after its actor: `session/` holds `SessionActor`, `session_registry/` the
//! `SessionRegistry`, `encryptor/`, `crisis_detector/`, `janitor/` and `persistence/` theirs, and
//! `responder_actor/` the `ResponderActor` (the plain name is the domain's). Every other folder is
//! pure domain (`crisis/`, `crypto/`, `responder/`, `text/`, …): no `actor.rs`, no `messages.rs`,
//! no actix, callable without a running system. The actix plumbing shared by all actors is in the
//! top-level files `mailbox.rs`, `supervision.rs` and `system.rs`.

mod chat_completions;
pub mod content;
pub mod crisis;
pub mod crisis_detector;
pub mod crisis_judge;
pub mod crypto;
pub mod domain;
pub mod encryptor;
pub mod error;
pub mod handoff;
pub mod janitor;
pub mod mailbox;
pub mod persistence;
pub mod responder;
pub mod responder_actor;
pub mod session;
pub mod session_events;
pub mod session_registry;
pub mod staff;
pub mod supervision;
pub mod system;
pub mod telemetry;
pub mod text;
