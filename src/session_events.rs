//! The instance's hub of session changes, which every `GET /api/v1/events` stream listens to:
//! commits and status changes announced by this instance's session actors, deletions seen here,
//! and — through Redis, when configured — the same news from other instances.
//!
//! A change made elsewhere needs nothing from this instance's actor of that session: the database
//! hands out sequence numbers and refuses a write prepared against a stale copy, which the actor
//! then reloads (stopping the actor here instead killed requests it was serving).
//!
//! Only kinds and ids cross Redis (`instance|kind|session|message|seq`), never what anyone wrote:
//! each instance reads a new message itself, through the session's actor and key.

use crate::redis::RedisHandle;
use cbln_actors::session_events::SessionChange;
use cbln_actors::system::ActorSystem;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// The channel session changes are relayed on between instances.
pub const EVENTS_CHANNEL: &str = "cbln:sessions:events";

/// How many changes a slow stream may fall behind before it re-reads (it then catches up from
/// the database, so falling behind loses nothing).
const FANOUT_CAPACITY: usize = 4096;

/// Fans session changes out to this instance's event streams.
#[derive(Clone)]
pub struct SessionEventHub {
    fanout: broadcast::Sender<SessionChange>,
}

impl SessionEventHub {
    /// Starts relaying `system`'s changes to the streams here and, with `redis`, to and from
    /// other instances.
    pub fn start(system: &ActorSystem, redis: Option<RedisHandle>) -> Self {
        let hub = SessionEventHub {
            fanout: broadcast::channel(FANOUT_CAPACITY).0,
        };
        let mut changes = system.changes.subscribe();
        let mut deletions = system.deletions.subscribe();
        let local = hub.clone();
        let publisher = redis.clone();
        actix_web::rt::spawn(async move {
            loop {
                let change = tokio::select! {
                    change = changes.recv() => change,
                    deleted = deletions.recv() => {
                        deleted.map(|session_id| SessionChange::Ended { session_id })
                    }
                };
                match change {
                    Ok(change) => {
                        let _ = local.fanout.send(change);
                        if let Some(redis) = &publisher {
                            let payload = encode(redis.instance(), change);
                            if let Err(error) = redis.publish_on(EVENTS_CHANNEL, payload).await {
                                tracing::warn!(error = %error, "could not relay a session change");
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "session changes were dropped before relaying");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        if let Some(redis) = redis {
            let remote = hub.clone();
            actix_web::rt::spawn(async move {
                loop {
                    match redis.messages_on(EVENTS_CHANNEL).await {
                        Ok(mut messages) => {
                            while let Some(message) = messages.next().await {
                                let Ok(payload) = message.get_payload::<String>() else {
                                    continue;
                                };
                                if let Some(change) = decode(redis.instance(), &payload) {
                                    let _ = remote.fanout.send(change);
                                }
                            }
                            tracing::warn!("redis subscription to session changes ended; retrying");
                        }
                        Err(error) => {
                            tracing::warn!(error = %error, "redis subscription to session changes lost; retrying");
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            });
        }
        hub
    }

    /// Every change from now on, for every session: a stream keeps those of its own.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionChange> {
        self.fanout.subscribe()
    }
}

fn encode(instance: Uuid, change: SessionChange) -> String {
    match change {
        SessionChange::MessageCreated {
            session_id,
            message_id,
            seq,
        } => format!("{instance}|message|{session_id}|{message_id}|{seq}"),
        SessionChange::Updated { session_id } => format!("{instance}|updated|{session_id}||"),
        SessionChange::Ended { session_id } => format!("{instance}|ended|{session_id}||"),
        SessionChange::Handoff { session_id } => format!("{instance}|handoff|{session_id}||"),
    }
}

/// A change announced by another instance (`None` for our own, already delivered here, and for
/// anything malformed).
fn decode(instance: Uuid, payload: &str) -> Option<SessionChange> {
    let mut parts = payload.split('|');
    let sender = Uuid::parse_str(parts.next()?).ok()?;
    if sender == instance {
        return None;
    }
    let kind = parts.next()?;
    let session_id = Uuid::parse_str(parts.next()?).ok()?;
    match kind {
        "message" => Some(SessionChange::MessageCreated {
            session_id,
            message_id: Uuid::parse_str(parts.next()?).ok()?,
            seq: parts.next()?.parse().ok()?,
        }),
        "updated" => Some(SessionChange::Updated { session_id }),
        "ended" => Some(SessionChange::Ended { session_id }),
        "handoff" => Some(SessionChange::Handoff { session_id }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_survives_the_wire_and_our_own_is_ignored() {
        let (here, there) = (Uuid::new_v4(), Uuid::new_v4());
        let session_id = Uuid::new_v4();
        for change in [
            SessionChange::MessageCreated {
                session_id,
                message_id: Uuid::new_v4(),
                seq: 42,
            },
            SessionChange::Updated { session_id },
            SessionChange::Ended { session_id },
            SessionChange::Handoff { session_id },
        ] {
            let payload = encode(there, change);
            assert_eq!(decode(here, &payload), Some(change));
            assert_eq!(decode(there, &payload), None, "our own announcement");
        }
        assert_eq!(decode(here, "garbage"), None);
        assert_eq!(
            decode(here, &format!("{there}|message|{session_id}||")),
            None
        );
    }
}
