//! Bounded, timed, measured requests to an actor.
//!
//! actix's `send` parks the caller when a mailbox is full, which turns overload into unbounded
//! waiting (actix/actix#534). Every request on user traffic goes through `Mailbox::ask` instead:
//! a gate counts requests in flight and refuses past its capacity (the API answers 503
//! `overloaded`), each stage has a timeout, and every request is counted per actor type,
//! message type and outcome.

use crate::telemetry::{ActorKind, Metrics, Outcome};
use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, MailboxError, Message};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// Capacity given to actix's own mailboxes; far above any gate, so the gates decide.
pub const ACTIX_MAILBOX_CAPACITY: usize = 1 << 16;

/// Why a request did not get a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// The actor already has as many requests as its mailbox may hold.
    #[error("the {0} actor is overloaded")]
    Overloaded(&'static str),
    /// No reply within the stage timeout.
    #[error("the {0} actor did not answer in time")]
    Timeout(&'static str),
    /// The actor stopped before answering.
    #[error("the {0} actor is not running")]
    Stopped(&'static str),
}

/// Depth shared by every mailbox of one actor type (for the `actor_mailbox_depth` gauge).
#[derive(Debug, Clone, Default)]
pub struct DepthGauge(Arc<AtomicI64>);

impl DepthGauge {
    /// Requests in flight across the actor type.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// An actor address with a bound on requests in flight, a timeout and metrics.
pub struct Mailbox<A: Actor> {
    addr: Addr<A>,
    kind: ActorKind,
    capacity: i64,
    in_flight: Arc<AtomicI64>,
    kind_depth: DepthGauge,
    timeout: Duration,
    metrics: Metrics,
}

impl<A: Actor> Clone for Mailbox<A> {
    fn clone(&self) -> Self {
        Mailbox {
            addr: self.addr.clone(),
            kind: self.kind,
            capacity: self.capacity,
            in_flight: self.in_flight.clone(),
            kind_depth: self.kind_depth.clone(),
            timeout: self.timeout,
            metrics: self.metrics.clone(),
        }
    }
}

impl<A: Actor> std::fmt::Debug for Mailbox<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Mailbox({}, {}/{})",
            self.kind.as_str(),
            self.in_flight.load(Ordering::Relaxed),
            self.capacity
        )
    }
}

/// Releases a gate slot however the request ends (reply, timeout, or the caller being dropped).
struct Slot<'a> {
    in_flight: &'a AtomicI64,
    kind_depth: &'a AtomicI64,
    metrics: &'a Metrics,
    kind: ActorKind,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        let depth = self.kind_depth.fetch_sub(1, Ordering::AcqRel) - 1;
        self.metrics.set_mailbox_depth(self.kind, depth);
    }
}

impl<A: Actor> Mailbox<A> {
    /// Wraps `addr`; `capacity` bounds requests in flight through this mailbox.
    pub fn new(
        addr: Addr<A>,
        kind: ActorKind,
        capacity: usize,
        timeout: Duration,
        kind_depth: DepthGauge,
        metrics: Metrics,
    ) -> Self {
        Mailbox {
            addr,
            kind,
            capacity: capacity.max(1) as i64,
            in_flight: Arc::new(AtomicI64::new(0)),
            kind_depth,
            timeout,
            metrics,
        }
    }

    /// The raw address, for fire-and-forget internal notifications.
    pub fn addr(&self) -> &Addr<A> {
        &self.addr
    }

    /// Whether the actor is still running.
    pub fn connected(&self) -> bool {
        self.addr.connected()
    }

    /// Requests in flight through this mailbox.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Sends `message` and waits for its reply, refusing at once when the mailbox is full and
    /// giving up after the stage timeout. Handler errors come back as the handler's error type.
    pub async fn ask<M, T, E>(&self, message: M) -> Result<T, E>
    where
        M: Message<Result = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<AskError> + Send + 'static,
        A: Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        let name = message_name::<M>();
        let kind = self.kind.as_str();
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.metrics
                .record_actor_message(self.kind, name, Outcome::Overloaded, Duration::ZERO);
            return Err(AskError::Overloaded(kind).into());
        }
        let depth = self.kind_depth.0.fetch_add(1, Ordering::AcqRel) + 1;
        self.metrics.set_mailbox_depth(self.kind, depth);
        let _slot = Slot {
            in_flight: &self.in_flight,
            kind_depth: &self.kind_depth.0,
            metrics: &self.metrics,
            kind: self.kind,
        };
        let started = Instant::now();
        let reply = tokio::time::timeout(self.timeout, self.addr.send(message)).await;
        let elapsed = started.elapsed();
        let (outcome, result) = match reply {
            Ok(Ok(Ok(value))) => (Outcome::Ok, Ok(value)),
            Ok(Ok(Err(error))) => (Outcome::Error, Err(error)),
            Ok(Err(MailboxError::Closed)) => {
                (Outcome::Stopped, Err(AskError::Stopped(kind).into()))
            }
            Ok(Err(MailboxError::Timeout)) | Err(_) => {
                (Outcome::Timeout, Err(AskError::Timeout(kind).into()))
            }
        };
        self.metrics
            .record_actor_message(self.kind, name, outcome, elapsed);
        result
    }
}

/// The message type's own name (`PostMessage`), used as the metric label.
pub fn message_name<M>() -> &'static str {
    let full = std::any::type_name::<M>();
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Probe;

    #[test]
    fn message_names_are_short() {
        assert_eq!(message_name::<Probe>(), "Probe");
        assert_eq!(message_name::<Vec<u8>>(), "Vec");
    }
}
