//! Rate limits shared by every instance: one GCRA schedule per key in Redis, updated atomically
//! by a short Lua script (loaded once with SCRIPT LOAD, then run with EVALSHA; loaded again when
//! Redis answers NOSCRIPT, e.g. after a restart). Keys are keyed hashes, so
//! neither a client address nor a session id is readable in Redis.
//!
//! Redis makes limits shared, never stricter: when it does not answer quickly, the caller falls
//! back to its in-process limiter, and after a failure Redis is left alone for a few seconds so
//! a Redis outage adds no latency to every message.

use bb8_redis::{RedisConnectionManager, bb8, redis};
use cbln_actors::crypto::TokenHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The script; Redis names it by its SHA-1.
const GCRA_SCRIPT: &str = include_str!("gcra.lua");

/// How long a limit check waits for Redis before deciding locally.
const REDIS_DEADLINE: Duration = Duration::from_millis(250);

/// How long Redis is bypassed after it failed.
const BACKOFF: Duration = Duration::from_secs(5);

/// One quota: a request every `interval`, up to `burst` at once.
#[derive(Debug, Clone, Copy)]
pub struct SharedQuota {
    /// Time one request uses up.
    pub interval: Duration,
    /// Requests allowed back to back.
    pub burst: u32,
}

impl SharedQuota {
    /// `per_minute` requests a minute with a burst of `burst`, as the in-process limiter reads it.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        SharedQuota {
            interval: Duration::from_millis(60_000 / u64::from(per_minute.max(1))),
            burst: burst.max(1),
        }
    }
}

/// Redis's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedDecision {
    /// Within the limit.
    Allowed,
    /// Over it; retry after this many seconds.
    Refused {
        /// Seconds, rounded up.
        retry_after: u64,
    },
}

/// The Redis side of the limits.
#[derive(Clone)]
pub struct SharedLimiter {
    pool: bb8::Pool<RedisConnectionManager>,
    /// The SHA-1 Redis gave the script, once loaded.
    script_sha: Arc<RwLock<Option<String>>>,
    hasher: Arc<TokenHasher>,
    /// Unix milliseconds before which Redis is not asked (after a failure).
    bypass_until: Arc<AtomicU64>,
}

impl SharedLimiter {
    /// A limiter over `pool`, hashing keys with the server secret.
    pub fn new(pool: bb8::Pool<RedisConnectionManager>, hasher: Arc<TokenHasher>) -> Self {
        SharedLimiter {
            pool,
            script_sha: Arc::new(RwLock::new(None)),
            hasher,
            bypass_until: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts one request against `scope`/`key`; `None` when Redis could not decide in time.
    pub async fn check(
        &self,
        scope: &str,
        key: &str,
        quota: SharedQuota,
    ) -> Option<SharedDecision> {
        if now_millis() < self.bypass_until.load(Ordering::Relaxed) {
            return None;
        }
        let hashed = self.hasher.hash(&format!("rate-limit:{scope}:{key}"));
        let redis_key = format!("cbln:rl:{scope}:{}", hex(hashed.as_bytes()));
        let interval_ms = u64::try_from(quota.interval.as_millis()).unwrap_or(u64::MAX);
        let asked = tokio::time::timeout(REDIS_DEADLINE, async {
            let mut connection = self.pool.get().await.map_err(|e| e.to_string())?;
            let connection = &mut *connection;
            let sha = match self.loaded_sha() {
                Some(sha) => sha,
                None => self.load(connection).await?,
            };
            match run(connection, &sha, &redis_key, interval_ms, quota.burst).await {
                Err(error) if is_no_script(&error) => {
                    let sha = self.load(connection).await?;
                    run(connection, &sha, &redis_key, interval_ms, quota.burst)
                        .await
                        .map_err(|e| e.to_string())
                }
                other => other.map_err(|e| e.to_string()),
            }
        })
        .await;
        match asked {
            Ok(Ok((1, _))) => Some(SharedDecision::Allowed),
            Ok(Ok((_, wait_ms))) => Some(SharedDecision::Refused {
                retry_after: u64::try_from(wait_ms.max(1)).unwrap_or(1).div_ceil(1_000),
            }),
            Ok(Err(error)) => {
                self.back_off();
                tracing::warn!(error = %error, "redis rate limit unavailable; limiting in process");
                None
            }
            Err(_) => {
                self.back_off();
                tracing::warn!("redis rate limit too slow; limiting in process");
                None
            }
        }
    }

    fn loaded_sha(&self) -> Option<String> {
        self.script_sha.read().ok().and_then(|sha| sha.clone())
    }

    async fn load(
        &self,
        connection: &mut redis::aio::MultiplexedConnection,
    ) -> Result<String, String> {
        let sha: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(GCRA_SCRIPT)
            .query_async(connection)
            .await
            .map_err(|e| e.to_string())?;
        if let Ok(mut cached) = self.script_sha.write() {
            *cached = Some(sha.clone());
        }
        Ok(sha)
    }

    fn back_off(&self) {
        let until = now_millis() + u64::try_from(BACKOFF.as_millis()).unwrap_or(u64::MAX);
        self.bypass_until.store(until, Ordering::Relaxed);
    }
}

async fn run(
    connection: &mut redis::aio::MultiplexedConnection,
    sha: &str,
    key: &str,
    interval_ms: u64,
    burst: u32,
) -> Result<(i64, i64), redis::RedisError> {
    redis::cmd("EVALSHA")
        .arg(sha)
        .arg(1)
        .arg(key)
        .arg(interval_ms)
        .arg(burst)
        .query_async(connection)
        .await
}

/// Redis forgot the script (it restarted, or SCRIPT FLUSH).
fn is_no_script(error: &redis::RedisError) -> bool {
    matches!(
        error.kind(),
        redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
    )
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
