//! What every session actor needs: the pipeline's other actors and a few settings.

use crate::crisis::Hotline;
use crate::crisis_detector::CrisisDetectorActor;
use crate::encryptor::EncryptorActor;
use crate::mailbox::Mailbox;
use crate::persistence::PersistenceActor;
use crate::responder_actor::ResponderActor;
use crate::telemetry::Metrics;
use std::sync::Arc;
use std::time::Duration;

/// Shared by all session actors of one instance.
pub struct SessionDeps {
    /// Durable state.
    pub persistence: Mailbox<PersistenceActor>,
    /// Sealing and opening.
    pub encryptor: Mailbox<EncryptorActor>,
    /// Crisis assessment.
    pub detector: Mailbox<CrisisDetectorActor>,
    /// Replies.
    pub responder: Mailbox<ResponderActor>,
    /// Metrics.
    pub metrics: Metrics,
    /// Hotlines for crisis cards.
    pub hotlines: Arc<Vec<Hotline>>,
    /// Turns of context kept for the responder.
    pub context_turns: usize,
    /// Silence after which a conversation's crisis mode lapses without a safety step.
    pub crisis_quiet_period: Duration,
    /// The optional model judge that may raise a verdict to a crisis.
    pub crisis_judge: Option<Arc<crate::crisis_judge::CrisisJudge>>,
    /// Session lifetime, for refresh.
    pub session_ttl: Duration,
    /// When replies carry break reminders.
    pub notices: super::notice::NoticeSettings,
    /// Announces deleted sessions so other instances can stop their copies (via Redis).
    pub deletions: tokio::sync::broadcast::Sender<uuid::Uuid>,
    /// How long a message may await its reply before an actor that did not take it answers it.
    pub recovery_grace: Duration,
    /// Announces commits to the session's event streams.
    pub changes: crate::session_events::SessionChanges,
}
