//! Rate limits: messages per session, session creation per client address, staff sign-in attempts
//! per client address and per user name. With Redis they are
//! shared by every instance ([`SharedLimiter`]); without it, or while it does not answer, each
//! instance limits on its own with governor — nobody is refused because Redis is down.
//! Keyed limiters forget idle keys periodically, so their memory cannot grow without bound.

use super::error::ApiError;
use super::shared_rate_limit::{SharedDecision, SharedLimiter, SharedQuota};
use crate::config::RateLimitSettings;
use actix_web::HttpRequest;
use cbln_actors::telemetry::{Metrics, RateLimitScope};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use uuid::Uuid;

/// Both limiters, or none when limiting is off.
#[derive(Clone)]
pub struct RateLimits {
    inner: Option<Arc<Limiters>>,
    shared: Option<SharedLimiter>,
    trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    metrics: Metrics,
}

struct Limiters {
    messages: DefaultKeyedRateLimiter<Uuid>,
    sessions: DefaultKeyedRateLimiter<IpAddr>,
    staff_login_addresses: DefaultKeyedRateLimiter<IpAddr>,
    staff_login_names: DefaultKeyedRateLimiter<String>,
    message_quota: SharedQuota,
    session_quota: SharedQuota,
    staff_login_quota: SharedQuota,
}

/// A limiter of its own for each key, allowing `per_minute` with bursts of `burst`.
fn keyed<K>(per_minute: u32, burst: u32) -> DefaultKeyedRateLimiter<K>
where
    K: Clone + std::hash::Hash + Eq,
{
    let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
}

impl RateLimits {
    /// Limiters as configured.
    pub fn new(
        settings: &RateLimitSettings,
        trusted_proxies: Vec<ipnet::IpNet>,
        metrics: Metrics,
    ) -> Self {
        let inner = settings.enabled.then(|| {
            Arc::new(Limiters {
                messages: keyed(settings.messages_per_minute, settings.message_burst),
                sessions: keyed(settings.sessions_per_minute, settings.session_burst),
                message_quota: SharedQuota::per_minute(
                    settings.messages_per_minute,
                    settings.message_burst,
                ),
                session_quota: SharedQuota::per_minute(
                    settings.sessions_per_minute,
                    settings.session_burst,
                ),
                staff_login_addresses: keyed(
                    settings.staff_logins_per_minute,
                    settings.staff_login_burst,
                ),
                staff_login_names: keyed(
                    settings.staff_logins_per_minute,
                    settings.staff_login_burst,
                ),
                staff_login_quota: SharedQuota::per_minute(
                    settings.staff_logins_per_minute,
                    settings.staff_login_burst,
                ),
            })
        });
        RateLimits {
            inner,
            shared: None,
            trusted_proxies: Arc::new(trusted_proxies),
            metrics,
        }
    }

    /// The same limits, shared with every instance through Redis while it answers.
    pub fn shared_through(mut self, shared: SharedLimiter) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Counts one message for `session`, across instances when Redis answers.
    pub async fn admit_message(&self, session: Uuid) -> Result<(), ApiError> {
        let key = session.to_string();
        let shared =
            self.admit_shared(RateLimitScope::Session, &key, |limits| limits.message_quota);
        shared.await.unwrap_or_else(|| self.check_message(session))
    }

    /// Counts one session creation for the request's client, across instances when Redis
    /// answers.
    pub async fn admit_session_creation(&self, request: &HttpRequest) -> Result<(), ApiError> {
        let Some(client) = self.client_address(request) else {
            return Ok(());
        };
        let key = client.to_string();
        let shared = self.admit_shared(RateLimitScope::Client, &key, |limits| limits.session_quota);
        shared
            .await
            .unwrap_or_else(|| self.check_session_creation(request))
    }

    /// Counts one staff sign-in attempt against the request's client address and, separately,
    /// against the user name tried (so neither many names from one place nor one name from many
    /// places gets unlimited guesses), across instances when Redis answers.
    pub async fn admit_staff_login(
        &self,
        request: &HttpRequest,
        username: &str,
    ) -> Result<(), ApiError> {
        let Some(limits) = &self.inner else {
            return Ok(());
        };
        let scope = RateLimitScope::StaffLogin;
        if let Some(client) = self.client_address(request) {
            let key = format!("client:{client}");
            let shared = self.admit_shared(scope, &key, |limits| limits.staff_login_quota);
            match shared.await {
                Some(decided) => decided?,
                None => limits
                    .staff_login_addresses
                    .check_key(&client)
                    .map_err(|not_until| self.refuse(scope, &not_until))?,
            }
        }
        let key = format!("name:{username}");
        let shared = self.admit_shared(scope, &key, |limits| limits.staff_login_quota);
        match shared.await {
            Some(decided) => decided,
            None => limits
                .staff_login_names
                .check_key(&username.to_string())
                .map_err(|not_until| self.refuse(scope, &not_until)),
        }
    }

    fn refuse(
        &self,
        scope: RateLimitScope,
        not_until: &governor::NotUntil<governor::clock::QuantaInstant>,
    ) -> ApiError {
        self.metrics.rate_limited(scope);
        ApiError::RateLimited {
            retry_after: retry_after(not_until),
        }
    }

    /// Redis's answer for `key` under the limits' `quota` (a refusal counted under `scope`), or
    /// `None` when limits are off, there is no Redis or it did not answer: then this instance
    /// decides alone.
    async fn admit_shared(
        &self,
        scope: RateLimitScope,
        key: &str,
        quota: impl Fn(&Limiters) -> SharedQuota,
    ) -> Option<Result<(), ApiError>> {
        let quota = quota(self.inner.as_ref()?);
        // The scope's label also names its keys in Redis.
        match self
            .shared
            .as_ref()?
            .check(scope.as_str(), key, quota)
            .await?
        {
            SharedDecision::Allowed => Some(Ok(())),
            SharedDecision::Refused { retry_after } => {
                self.metrics.rate_limited(scope);
                Some(Err(ApiError::RateLimited { retry_after }))
            }
        }
    }

    /// Counts one message for `session` in this instance's limiter.
    pub fn check_message(&self, session: Uuid) -> Result<(), ApiError> {
        let Some(limits) = &self.inner else {
            return Ok(());
        };
        limits.messages.check_key(&session).map_err(|not_until| {
            self.metrics.rate_limited(RateLimitScope::Session);
            ApiError::RateLimited {
                retry_after: retry_after(&not_until),
            }
        })
    }

    /// Counts one session creation for the request's client in this instance's limiter.
    pub fn check_session_creation(&self, request: &HttpRequest) -> Result<(), ApiError> {
        let Some(limits) = &self.inner else {
            return Ok(());
        };
        let Some(client) = self.client_address(request) else {
            return Ok(());
        };
        limits.sessions.check_key(&client).map_err(|not_until| {
            self.metrics.rate_limited(RateLimitScope::Client);
            ApiError::RateLimited {
                retry_after: retry_after(&not_until),
            }
        })
    }

    /// The client's address: the socket peer, or the `X-Forwarded-For` client when the peer is
    /// a trusted proxy. Kept in memory only; never stored.
    pub fn client_address(&self, request: &HttpRequest) -> Option<IpAddr> {
        let peer = request.peer_addr()?.ip();
        if !self.trusted_proxies.iter().any(|net| net.contains(&peer)) {
            return Some(peer);
        }
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        // The right-most address that is not itself a trusted proxy is the real client.
        forwarded
            .into_iter()
            .flat_map(|value| value.split(',').rev())
            .filter_map(|part| part.trim().parse::<IpAddr>().ok())
            .find(|address| !self.trusted_proxies.iter().any(|net| net.contains(address)))
            .or(Some(peer))
    }

    /// Forgets keys idle long enough to be full again.
    pub fn forget_idle(&self) {
        if let Some(limits) = &self.inner {
            limits.messages.retain_recent();
            limits.messages.shrink_to_fit();
            limits.sessions.retain_recent();
            limits.sessions.shrink_to_fit();
            limits.staff_login_addresses.retain_recent();
            limits.staff_login_addresses.shrink_to_fit();
            limits.staff_login_names.retain_recent();
            limits.staff_login_names.shrink_to_fit();
        }
    }

    /// Keys currently tracked (for tests of the eviction).
    pub fn tracked_keys(&self) -> usize {
        self.inner
            .as_ref()
            .map(|l| {
                l.messages.len()
                    + l.sessions.len()
                    + l.staff_login_addresses.len()
                    + l.staff_login_names.len()
            })
            .unwrap_or(0)
    }
}

fn retry_after(not_until: &governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32) -> RateLimits {
        let settings = RateLimitSettings {
            enabled: true,
            messages_per_minute: per_minute,
            message_burst: 1,
            sessions_per_minute: per_minute,
            session_burst: 1,
            staff_logins_per_minute: per_minute,
            staff_login_burst: 1,
        };
        RateLimits::new(&settings, Vec::new(), Metrics::disabled())
    }

    #[test]
    fn idle_keys_are_forgotten() {
        // 60,000 a minute refills a key in 1 ms, so every key is idle again almost at once.
        let limits = limits(60_000);
        for _ in 0..1_000 {
            limits.check_message(Uuid::new_v4()).unwrap();
        }
        assert_eq!(limits.tracked_keys(), 1_000);
        std::thread::sleep(std::time::Duration::from_millis(20));
        limits.forget_idle();
        assert_eq!(
            limits.tracked_keys(),
            0,
            "memory does not grow with every session ever seen"
        );
    }

    #[test]
    fn a_busy_key_is_kept_and_limited() {
        let limits = limits(1);
        let session = Uuid::new_v4();
        limits.check_message(session).unwrap();
        let refused = limits.check_message(session).unwrap_err();
        assert!(matches!(refused, ApiError::RateLimited { retry_after } if retry_after >= 1));
        limits.forget_idle();
        assert_eq!(
            limits.tracked_keys(),
            1,
            "a key still inside its window is remembered"
        );
    }
}
