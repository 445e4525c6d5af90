//! News that a session changed, for the session's event streams (`GET /api/v1/events`) here and,
//! through the front door, on other instances. It carries ids and kinds only — never what anyone
//! wrote — so it can cross process boundaries: whoever streams it reads the message itself
//! through the session's actor and key.

use crate::persistence::StoredMessage;
use tokio::sync::broadcast;
use uuid::Uuid;

/// One change of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    /// A message was committed.
    MessageCreated {
        /// The session.
        session_id: Uuid,
        /// The message.
        message_id: Uuid,
        /// Its place in the session's order.
        seq: i64,
    },
    /// The session's risk or crisis mode changed.
    Updated {
        /// The session.
        session_id: Uuid,
    },
    /// The session is gone (deleted, quick exit, or removed after expiry).
    Ended {
        /// The session.
        session_id: Uuid,
    },
    /// The session's handoff to a counsellor changed: asked for, claimed, closed or left, its
    /// risk raised, or a message added for the counsellor.
    Handoff {
        /// The session.
        session_id: Uuid,
    },
}

impl SessionChange {
    /// The session it concerns.
    pub fn session_id(&self) -> Uuid {
        match *self {
            SessionChange::MessageCreated { session_id, .. }
            | SessionChange::Updated { session_id }
            | SessionChange::Ended { session_id }
            | SessionChange::Handoff { session_id } => session_id,
        }
    }
}

/// Where the session actors of one instance announce their commits.
#[derive(Clone)]
pub struct SessionChanges {
    sender: broadcast::Sender<SessionChange>,
}

impl SessionChanges {
    /// A channel keeping up to `capacity` changes for a slow listener.
    pub fn new(capacity: usize) -> Self {
        SessionChanges {
            sender: broadcast::channel(capacity.max(1)).0,
        }
    }

    /// Announces a committed message, and a status change committed with it.
    pub fn committed(&self, message: &StoredMessage, status_changed: bool) {
        // No listener is not an error: nobody is watching the session right now.
        let _ = self.sender.send(SessionChange::MessageCreated {
            session_id: message.session_id,
            message_id: message.id,
            seq: message.seq,
        });
        if status_changed {
            let _ = self.sender.send(SessionChange::Updated {
                session_id: message.session_id,
            });
        }
    }

    /// Announces that the session's handoff changed.
    pub fn handoff(&self, session_id: Uuid) {
        let _ = self.sender.send(SessionChange::Handoff { session_id });
    }

    /// Every change announced from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionChange> {
        self.sender.subscribe()
    }
}
