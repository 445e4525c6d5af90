//! Optional Redis: shared state between instances. When a session is deleted on one instance
//! (by its user or by the janitor), the others hear it on a pub/sub channel and stop their copy
//! of its actor, so no instance keeps serving a deleted session from memory.

use crate::config::RedisSettings;
use bb8_redis::{RedisConnectionManager, bb8, redis};
use cbln_actors::mailbox::Mailbox;
use cbln_actors::session_registry::{EvictSessions, SessionRegistry};
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// The channel deletions are announced on.
pub const DELETIONS_CHANNEL: &str = "cbln:sessions:deleted";

/// A Redis pool plus this instance's identity (to ignore its own announcements).
#[derive(Clone)]
pub struct RedisHandle {
    pool: bb8::Pool<RedisConnectionManager>,
    url: SecretString,
    instance: Uuid,
}

impl RedisHandle {
    /// Builds the pool without waiting for Redis: a Redis outage degrades health, it does not
    /// stop the service.
    pub fn new(settings: &RedisSettings) -> anyhow::Result<Self> {
        let manager = RedisConnectionManager::new(settings.url.expose_secret())
            .map_err(|_| anyhow::anyhow!("redis.url (REDIS_URL): not a valid Redis URL"))?;
        let pool = bb8::Pool::builder()
            .max_size(settings.pool_size.max(1))
            .connection_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .build_unchecked(manager);
        Ok(RedisHandle {
            pool,
            url: settings.url.clone(),
            instance: Uuid::new_v4(),
        })
    }

    /// The connection pool, for the shared rate limits.
    pub fn pool(&self) -> bb8::Pool<RedisConnectionManager> {
        self.pool.clone()
    }

    /// A PING round trip.
    pub async fn ping(&self) -> bool {
        let Ok(mut connection) = self.pool.get().await else {
            return false;
        };
        redis::cmd("PING")
            .query_async::<String>(&mut *connection)
            .await
            .is_ok()
    }

    /// Publishes local deletions and applies remote ones, until the process stops.
    pub fn spawn_invalidation(
        &self,
        mut deletions: broadcast::Receiver<Uuid>,
        registry: Mailbox<SessionRegistry>,
    ) {
        let publisher = self.clone();
        actix_web::rt::spawn(async move {
            loop {
                match deletions.recv().await {
                    Ok(id) => publisher.publish(id).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "session deletion announcements were dropped");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        let subscriber = self.clone();
        actix_web::rt::spawn(async move {
            loop {
                if let Err(error) = subscriber.listen(&registry).await {
                    tracing::warn!(error = %error, "redis subscription lost; retrying");
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }

    /// This instance's identity, to tell its own announcements from others'.
    pub fn instance(&self) -> Uuid {
        self.instance
    }

    /// Publishes `payload` on `channel`.
    pub async fn publish_on(&self, channel: &str, payload: String) -> Result<(), String> {
        let mut connection = self.pool.get().await.map_err(|e| e.to_string())?;
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async::<i64>(&mut *connection)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The messages published on `channel` from now on, over a connection of their own.
    pub async fn messages_on(
        &self,
        channel: &str,
    ) -> Result<redis::aio::PubSubStream, redis::RedisError> {
        let client = redis::Client::open(self.url.expose_secret())?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub.into_on_message())
    }

    async fn publish(&self, id: Uuid) {
        let payload = format!("{}:{id}", self.instance);
        if let Err(error) = self.publish_on(DELETIONS_CHANNEL, payload).await {
            tracing::warn!(error = %error, "could not announce a session deletion");
        }
    }

    async fn listen(&self, registry: &Mailbox<SessionRegistry>) -> Result<(), redis::RedisError> {
        let client = redis::Client::open(self.url.expose_secret())?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(DELETIONS_CHANNEL).await?;
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            let Some((instance, id)) = payload.split_once(':') else {
                continue;
            };
            if instance == self.instance.to_string() {
                continue;
            }
            if let Ok(id) = Uuid::parse_str(id) {
                let evicted: Result<(), cbln_actors::error::PipelineError> = registry
                    .ask(EvictSessions {
                        ids: vec![id],
                        announce: false,
                    })
                    .await;
                if let Err(error) = evicted {
                    tracing::warn!(error = %error, "could not evict a session deleted elsewhere");
                }
            }
        }
        Ok(())
    }
}
