//! Crisis detection as pure functions: normalisation of how Vietnamese is really typed, phrase rules
//! matched by one automaton, exceptions, signals of plan, means and farewell, and the crisis card
//! and replies, which name the configured hotlines by role (docs/safety/hotlines.md).
//!
//! No I/O and no actors: the CrisisDetectorActor compiles [`default_rules`] (or the rows of
//! `blocked_keywords`) with [`CrisisDetector::compile`], shares it in an `Arc`, and calls
//! [`CrisisDetector::assess`] per message.

mod card;
pub mod conversation;
pub mod corpus;
mod detector;
pub mod evaluation;
pub(crate) mod hotlines;
pub mod model;
mod rules;
mod types;

pub use card::{CrisisInfo, HotlineView, check_in_reply, crisis_card, hotline_views, safety_reply};
pub use conversation::{ConversationRisk, Transition};
pub use detector::{Assessment, CrisisDetector, ExplainHit, Explanation, HitOutcome, ViewName};
pub use hotlines::{Hotline, HotlineError, HotlineRole, line_for, parse_hotlines};
pub use model::{Judgement, Layers, RiskModel};
pub use rules::{ORIGINAL_KEYWORDS, default_rules, parse_seed_rules};
pub use types::{
    Category, ExceptionKind, RiskLevel, RuleError, RuleKind, RuleSpec, Severity, SignalKind,
};
