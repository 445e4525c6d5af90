//! One place owns all wiring: storage, migrations, keys, the actor system, Redis, rate limits
//! and the HTTP server, which binds its own listener so tests can run it on port 0.

use crate::config::{
    ConfigError, DEFAULT_HOTLINES_TOML, Environment, ResponderProvider, Settings,
    crisis_judge_settings, hotlines_path, parse_network, resolve_keys,
};
use crate::http::connection_cap::{ConnectionCap, connection_cap};
use crate::http::database_breaker::DatabaseBreaker;
use crate::http::database_gate::database_gate;
use crate::http::idempotency::IdempotencyPolicy;
use crate::http::middleware::request_context;
use crate::http::no_store::no_store;
use crate::http::operations::VERSION;
use crate::http::rate_limit::RateLimits;
use crate::http::request_limits::{RequestLimits, request_limits};
use crate::http::shared_rate_limit::SharedLimiter;
use crate::http::staff::StaffAuth;
use crate::http::state::AppState;
use crate::redis::RedisHandle;
use crate::session_events::SessionEventHub;
use crate::shutdown::{ShutdownBudget, Teardown, tear_down};
use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::{NormalizePath, TrailingSlash, from_fn};
use actix_web::{App, HttpServer, web};
use cbln_actors::content::{self, Content};
use cbln_actors::crisis::{Hotline, RiskModel, parse_hotlines};
use cbln_actors::crisis_judge::CrisisJudge;
use cbln_actors::janitor::JanitorSettings;
use cbln_actors::persistence::{ConnectionLimits, Store, StoreSettings, redact_url};
use cbln_actors::responder::{BuiltInResponder, OpenAiResponder, OpenAiSettings, Responder};
use cbln_actors::session_registry::RegistrySettings;
use cbln_actors::supervision::RestartPolicy;
use cbln_actors::system::{ActorSystem, ActorSystemSettings};
use cbln_actors::telemetry::Metrics;
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Settings after loading, with where they came from.
#[derive(Clone)]
pub struct LoadedConfig {
    /// Which environment.
    pub environment: Environment,
    /// The settings.
    pub settings: Settings,
    /// The config directory (for the hotline file).
    pub config_dir: PathBuf,
}

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    /// The separate `/metrics` listener (`metrics.listen`) and its port.
    metrics_server: Option<(u16, Server)>,
    system: Arc<ActorSystem>,
    store: Store,
    ready: Arc<AtomicBool>,
    breaker: DatabaseBreaker,
    shutdown: ShutdownBudget,
}

/// Opens the configured database.
pub async fn connect_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database.url.expose_secret().to_string();
    let store_settings = StoreSettings {
        url: url.clone(),
        max_connections: settings.database.max_connections,
        min_connections: settings.database.min_connections,
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_s),
    };
    let limits = ConnectionLimits {
        statement_timeout: Duration::from_millis(settings.database.statement_timeout_ms),
        tcp_keepalive: Duration::from_secs(settings.database.tcp_keepalive_s),
    };
    Store::connect_with_limits(&store_settings, limits)
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "database.url (DATABASE_URL): cannot connect to {}: {error}",
                redact_url(&url)
            )
        })
}

/// The learned crisis model: the configured file, or the one compiled in.
pub fn load_risk_model(settings: &Settings) -> Result<RiskModel, ConfigError> {
    let problem = |problem: String| ConfigError {
        setting: "crisis.model_file".into(),
        problem,
    };
    let file = settings.crisis.model_file.trim();
    if file.is_empty() {
        return RiskModel::embedded().map_err(|e| problem(format!("compiled-in model: {e}")));
    }
    let bytes = std::fs::read(file).map_err(|e| problem(format!("cannot read {file}: {e}")))?;
    RiskModel::from_bytes(&bytes).map_err(|e| problem(format!("{file}: {e}")))
}

/// The hotlines for crisis cards, replies and the model's system prompt: the operator's file in
/// the config directory when there is one (it replaces the list, it is not merged), otherwise the
/// compiled-in `config/hotlines.toml`.
pub fn load_hotlines(config_dir: &Path, file: &str) -> Result<Vec<Hotline>, ConfigError> {
    let problem = |problem: String| ConfigError {
        setting: "crisis.hotlines_file".into(),
        problem,
    };
    let path = hotlines_path(config_dir, file);
    let (source, text) = if path.is_file() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| problem(format!("cannot read {}: {e}", path.display())))?;
        (path.display().to_string(), std::borrow::Cow::Owned(text))
    } else {
        (
            "the built-in hotlines.toml".to_owned(),
            std::borrow::Cow::Borrowed(DEFAULT_HOTLINES_TOML),
        )
    };
    parse_hotlines(&text).map_err(|e| problem(format!("{source}: {e}")))
}

/// What the service says: the operator's reviewed copy named by `content.dir` (relative to the
/// config directory), or the compiled-in `content/`; checked, then in use for the whole process.
pub fn install_content(
    config_dir: &Path,
    dir: &str,
    hotlines: &[Hotline],
) -> Result<(), ConfigError> {
    let problem = |problem: String| ConfigError {
        setting: "content.dir".into(),
        problem,
    };
    let content = if dir.trim().is_empty() {
        Content::built_in(hotlines).map_err(|e| problem(format!("the built-in content/: {e}")))?
    } else {
        let path = hotlines_path(config_dir, dir);
        Content::from_dir(&path, hotlines)
            .map_err(|e| problem(format!("{}: {e}", path.display())))?
    };
    content::install(content).map_err(|e| problem(e.to_string()))
}

/// The responder the settings choose; `hotlines` is what a model's system prompt may name.
pub fn build_responder(settings: &Settings, hotlines: &[Hotline]) -> anyhow::Result<Responder> {
    Ok(match settings.responder.provider {
        ResponderProvider::Builtin => Responder::BuiltIn(BuiltInResponder::new()),
        ResponderProvider::Openai => {
            let key = settings.responder.api_key.expose_secret();
            let responder = OpenAiResponder::new(OpenAiSettings {
                base_url: settings.responder.base_url.clone(),
                model: settings.responder.model.clone(),
                api_key: (!key.is_empty()).then(|| settings.responder.api_key.clone()),
                timeout: Duration::from_millis(settings.responder.timeout_ms),
                max_tokens: settings.responder.max_tokens,
                temperature: settings.responder.temperature,
                context_turns: settings.session.context_turns,
                hotlines: hotlines.to_vec(),
            })
            .map_err(|error| anyhow::anyhow!("responder: {error}"))?;
            Responder::OpenAi(responder)
        }
    })
}

fn threads(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    }
}

/// The actor-system settings derived from the configuration.
pub fn actor_settings(
    settings: &Settings,
    sweep_at_start: bool,
    risk_model: Arc<RiskModel>,
) -> ActorSystemSettings {
    let s = settings;
    ActorSystemSettings {
        registry: RegistrySettings {
            max_live: s.session.max_live_actors,
            idle_timeout: Duration::from_secs(s.session.idle_timeout_s),
            session_mailbox_capacity: s.session.mailbox_capacity,
            request_timeout: Duration::from_millis(s.pipeline.request_timeout_ms),
            session_ttl: Duration::from_secs(s.session.ttl_days * 86_400),
        },
        janitor: JanitorSettings {
            sweep_interval: Duration::from_secs(s.janitor.sweep_interval_minutes * 60),
            sweep_at_start,
            batch_size: s.janitor.batch_size,
            batch_pause: Duration::from_millis(s.janitor.batch_pause_ms),
            health_retention: Duration::from_secs(s.janitor.health_retention_days * 86_400),
            snapshot_interval: Duration::from_secs(s.janitor.snapshot_interval_minutes * 60),
            rules_poll_interval: Duration::from_secs(s.janitor.rules_poll_interval_s),
            orphan_sweep_interval: Duration::from_secs(s.janitor.orphan_sweep_interval_s),
            orphan_grace: Duration::from_secs(s.janitor.orphan_grace_s),
        },
        stage_timeout: Duration::from_millis(s.pipeline.stage_timeout_ms),
        mailbox_capacity: s.pipeline.mailbox_capacity,
        encryptor_threads: threads(s.pipeline.encryptor_threads),
        detector_threads: threads(s.pipeline.detector_threads),
        group_commit_max: s.pipeline.group_commit_max,
        commit_writers: s.pipeline.commit_writers,
        context_turns: s.session.context_turns,
        restart_policy: RestartPolicy {
            max_restarts: s.supervision.max_restarts,
            within: Duration::from_secs(s.supervision.within_s),
        },
        risk_model,
        crisis_quiet_period: Duration::from_secs(u64::from(s.crisis.quiet_period_minutes) * 60),
        notices: crate::config::notice_settings(&s.session),
        crisis_judge: CrisisJudge::from_settings(&crisis_judge_settings(s)).map(Arc::new),
    }
}

/// Everything derived from the configuration that can be wrong: checked before any connection
/// is made, so a bad key or hotline file stops startup with one line and nothing else.
pub struct Prepared {
    keys: crate::config::ResolvedKeys,
    hotlines: Vec<Hotline>,
    responder: Responder,
    risk_model: RiskModel,
}

/// Resolves keys (generating development keys if needed), hotlines and the responder.
pub fn prepare(config: &LoadedConfig) -> anyhow::Result<Prepared> {
    let settings = &config.settings;
    let keys = resolve_keys(settings, config.environment)?;
    let hotlines = load_hotlines(&config.config_dir, &settings.crisis.hotlines_file)?;
    install_content(&config.config_dir, &settings.content.dir, &hotlines)?;
    let responder = build_responder(settings, &hotlines)?;
    let risk_model = load_risk_model(settings)?;
    Ok(Prepared {
        keys,
        hotlines,
        responder,
        risk_model,
    })
}

/// Starts the actor system over `store` as configured (also used by `cbln cleanup`).
pub async fn start_actor_system(
    config: &LoadedConfig,
    prepared: Prepared,
    store: Store,
    metrics: Metrics,
    sweep_at_start: bool,
) -> anyhow::Result<ActorSystem> {
    for file in &prepared.keys.generated {
        tracing::warn!(
            file = %file.display(),
            "no key configured: generated a random development key into this file (mode 0600); \
             set ENCRYPTION_KEY and SECRET_KEY for anything but local development"
        );
    }
    let system = ActorSystem::start(
        store,
        actor_settings(
            &config.settings,
            sweep_at_start,
            Arc::new(prepared.risk_model),
        ),
        Arc::new(prepared.keys.keyring),
        Arc::new(prepared.keys.token_hasher),
        prepared.responder,
        prepared.hotlines,
        metrics,
    )
    .await?;
    Ok(system)
}

impl Application {
    /// Connects, migrates, starts the actors and binds the listener. Must run inside an actix
    /// `System` (`#[actix_web::main]` or `#[actix_web::test]`).
    pub async fn build(config: LoadedConfig) -> anyhow::Result<Self> {
        let settings = config.settings.clone();
        let prepared = prepare(&config)?;
        let store = connect_store(&settings).await?;
        if settings.database.migrate_on_start {
            let applied = store.migrate_up().await?;
            if applied > 0 {
                tracing::info!(
                    applied,
                    backend = store.kind().as_str(),
                    "migrations applied"
                );
            }
        }
        let migrated = store.is_fully_migrated().await?;
        if !migrated {
            tracing::warn!(
                "database migrations are pending; run `cbln migrate up` (readiness stays false)"
            );
        }
        let metrics = if settings.metrics.enabled {
            Metrics::new(VERSION)
        } else {
            Metrics::disabled()
        };
        let system = Arc::new(
            start_actor_system(
                &config,
                prepared,
                store.clone(),
                metrics.clone(),
                settings.janitor.sweep_at_start,
            )
            .await?,
        );
        let redis = if settings.redis.url.expose_secret().is_empty() {
            None
        } else {
            let redis = RedisHandle::new(&settings.redis)?;
            redis.spawn_invalidation(system.deletions.subscribe(), system.registry.clone());
            Some(redis)
        };
        let events = SessionEventHub::start(&system, redis.clone());
        let trusted: Vec<_> = settings
            .server
            .trusted_proxies
            .iter()
            .filter_map(|p| parse_network(p))
            .collect();
        let connections =
            ConnectionCap::new(settings.server.max_connections_per_address, trusted.clone());
        let request_caps = web::Data::new(RequestLimits {
            max_url_bytes: settings.server.max_url_bytes,
            body_read_timeout: Duration::from_millis(settings.server.body_read_timeout_ms),
        });
        let mut limits = RateLimits::new(&settings.rate_limit, trusted, metrics.clone());
        if let Some(redis) = &redis {
            limits = limits.shared_through(SharedLimiter::new(
                redis.pool(),
                system.token_hasher.clone(),
            ));
        }
        {
            let limits = limits.clone();
            actix_web::rt::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    limits.forget_idle();
                }
            });
        }
        // Checked when the configuration loaded, so this only repeats a parse that succeeded.
        let configured_hours =
            cbln_actors::staff::OpeningHours::parse(&settings.handoff.hours_spec())
                .map_err(|_| anyhow::anyhow!("handoff.opening_hours: invalid"))?;
        let ready = Arc::new(AtomicBool::new(migrated));
        let breaker = DatabaseBreaker::new(store.reachability().clone());
        breaker.spawn_probe(
            store.clone(),
            Duration::from_millis(settings.database.probe_interval_ms),
            Duration::from_millis(settings.database.probe_timeout_ms),
        );
        let state = web::Data::new(AppState {
            system: system.clone(),
            limits,
            redis,
            body_limit: settings.server.body_limit_bytes,
            started: Instant::now(),
            ready: ready.clone(),
            breaker: breaker.clone(),
            idempotency: IdempotencyPolicy {
                ttl: Duration::from_secs(settings.idempotency.ttl_s),
                in_flight_lease: Duration::from_secs(settings.idempotency.in_flight_lease_s),
            },
            events,
            event_heartbeat: Duration::from_millis(settings.server.event_heartbeat_ms),
            handoff: crate::http::handoff::HandoffPolicy {
                retention: Duration::from_secs(settings.handoff.retention_minutes * 60),
                default_wait_s: i64::try_from(settings.handoff.default_wait_s).unwrap_or(i64::MAX),
            },
            staff: StaffAuth::new(
                &system.token_hasher,
                Duration::from_secs(settings.staff.shift_hours.saturating_mul(3600)),
                configured_hours,
            ),
        });
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .map_err(|error| {
                anyhow::anyhow!(
                    "server.host/server.port: cannot listen on {}:{}: {error}",
                    settings.server.host,
                    settings.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let metrics_server = match settings.metrics.listen_address() {
            Some(address) => Some(metrics_server(
                address,
                state.clone(),
                settings.server.shutdown_timeout_s,
            )?),
            None => None,
        };
        let metrics_on_main = metrics_server.is_none();
        let origins = settings.server.cors_origins.clone();
        let shutdown = ShutdownBudget::split(settings.server.shutdown_timeout_s);
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(request_caps.clone())
                .wrap(from_fn(database_gate))
                .wrap(from_fn(request_limits))
                .wrap(from_fn(no_store))
                .wrap(from_fn(connection_cap))
                .wrap(cors(&origins))
                .wrap(from_fn(request_context))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .configure(|config| {
                    if metrics_on_main {
                        crate::http::configure_metrics(config);
                    }
                })
                .configure(crate::http::configure)
        })
        .shutdown_timeout(shutdown.requests_s)
        .on_connect(move |connection, data| connections.on_connect(connection, data))
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        let handle = server.handle();
        let mut escalation = system.health.shutdown_requested();
        actix_web::rt::spawn(async move {
            if escalation.wait_for(|requested| *requested).await.is_ok() {
                tracing::error!("an actor escalated past its restart budget: stopping the server");
                handle.stop(true).await;
            }
        });
        tracing::info!(
            port,
            metrics_port = metrics_server.as_ref().map(|(port, _)| *port),
            backend = store.kind().as_str(),
            version = VERSION,
            "listening"
        );
        Ok(Application {
            port,
            server,
            metrics_server,
            system,
            store,
            ready,
            breaker,
            shutdown,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the separate `/metrics` listener, when `metrics.listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// A handle to stop the server (graceful or not); the metrics listener follows it.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The actor system (tests inspect it).
    pub fn system(&self) -> Arc<ActorSystem> {
        self.system.clone()
    }

    /// Serves until SIGTERM/SIGINT, a stop through the handle or an escalation: stop accepting,
    /// let in-flight requests (and so their pipelines) finish, then stop the actors and close the
    /// pool, all within `server.shutdown_timeout_s` whatever the database does. After an
    /// escalation the result is an error, so the process exits with status 1 and its supervisor
    /// (systemd's `Restart=on-failure`) starts it again.
    pub async fn run_until_stopped(self) -> anyhow::Result<Teardown> {
        let metrics = self.metrics_server.map(|(_, server)| {
            let handle = server.handle();
            (handle, actix_web::rt::spawn(server))
        });
        let result = self.server.await;
        self.ready.store(false, Ordering::Release);
        self.breaker.stop();
        // Scrapes go on while the API drains, so the last figures of a shutdown are seen.
        if let Some((handle, running)) = metrics {
            handle.stop(true).await;
            if let Ok(Err(error)) = running.await {
                tracing::warn!(%error, "the metrics listener stopped with an error");
            }
        }
        let teardown = tear_down(&self.system, &self.store, self.shutdown.teardown).await;
        tracing::info!(clean = teardown == Teardown::Clean, "stopped");
        result?;
        let escalated = self.system.health.escalated();
        if !escalated.is_empty() {
            let actors: Vec<&str> = escalated.iter().map(|actor| actor.as_str()).collect();
            anyhow::bail!(
                "stopped because {} exceeded the restart budget",
                actors.join(", ")
            );
        }
        Ok(teardown)
    }
}

/// Binds the separate `/metrics` listener: one worker, no signal handling of its own (it stops
/// when the main server has).
fn metrics_server(
    address: &str,
    state: web::Data<AppState>,
    shutdown_timeout_s: u64,
) -> anyhow::Result<(u16, Server)> {
    let listener = TcpListener::bind(address)
        .map_err(|error| anyhow::anyhow!("metrics.listen: cannot listen on {address}: {error}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(from_fn(request_context))
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .configure(crate::http::configure_metrics_only)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(shutdown_timeout_s)
    .listen(listener)?
    .run();
    Ok((port, server))
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(vec!["GET", "POST", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers(vec![
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-session-id"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static(crate::http::idempotency::HEADER),
        ])
        .expose_headers(vec![
            HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
