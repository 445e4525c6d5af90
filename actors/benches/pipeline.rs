//! End-to-end throughput of the chat pipeline, in process, without HTTP:
//! `OpenSession` → `PostMessage` (detector → encryptor → commit → built-in responder → encryptor →
//! commit), on SQLite and PostgreSQL, at 1, 64 and 512 concurrent sessions.
//!
//! `cargo bench -p cbln-actors --bench pipeline`
//!
//! Environment:
//! - `BENCH_SECONDS` (default 5): measured seconds per case, after `BENCH_WARMUP` (default 1).
//! - `BENCH_MODE=metrics`: instead of the matrix, compare 64 sessions with metrics on and off
//!   (alternating rounds, `BENCH_ROUNDS` each, default 3) to measure the metrics overhead.
//! - `BENCH_MODE=commit`: time `Store::apply_writes` alone per batch size (where the time goes).
//! - `BENCH_PROFILE=1`: after each case, the mean time per actor request from the metrics.
//! - `BENCH_BACKENDS` (default `sqlite,postgres,pg-unix`), `BENCH_SESSIONS` (default `1,64,512`).
//! - `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`): a server where
//!   the bench may create and drop a scratch database `cbln_bench_<random>`;
//!   `TEST_DATABASE_SOCKET_URL` (default `postgres://postgres@localhost/postgres?host=/var/run/postgresql`)
//!   the same server over its Unix socket (backend `pg-unix`).
//!
//! This is a benchmark, not a test: when PostgreSQL is unreachable it says so and skips it.

use cbln_actors::crypto::{KeyRing, MasterKey, TokenHasher};
use cbln_actors::domain::Language;
use cbln_actors::domain::MessageText;
use cbln_actors::janitor::JanitorSettings;
use cbln_actors::persistence::{Store, StoreSettings};
use cbln_actors::responder::{BuiltInResponder, Responder};
use cbln_actors::session::PostMessage;
use cbln_actors::session_registry::{CreateSession, OpenSession, RegistrySettings};
use cbln_actors::supervision::RestartPolicy;
use cbln_actors::system::{ActorSystem, ActorSystemSettings};
use cbln_actors::telemetry::Metrics;
use sqlx::Connection;
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

type BoxError = Box<dyn Error>;

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_PG_SOCKET_URL: &str =
    "postgres://postgres@localhost/postgres?host=/var/run/postgresql";

/// What students write, shared with the load simulator: ~100 characters, with and without
/// diacritics, some teen code. Hyperbole ("mệt muốn chết") is deliberately present: it must not be
/// flagged, and it exercises the detector's exception path like real traffic does.
#[path = "../../src/simulate/messages.rs"]
mod messages;

/// The twelve ordinary messages every figure in BENCHMARKS.md was measured with.
const ORDINARY: &[&str] = messages::ORDINARY.split_at(12).0;

/// A small share of traffic is a crisis: it takes the safety path and enters crisis mode.
const CRISIS: &[&str] = messages::CRISIS.split_at(2).0;

/// One message in `CRISIS_EVERY` is a crisis (≈2 %).
const CRISIS_EVERY: usize = 50;

fn content_for(client: usize, n: usize) -> String {
    let pick = client.wrapping_mul(7).wrapping_add(n);
    if pick % CRISIS_EVERY == CRISIS_EVERY - 1 {
        CRISIS[pick % CRISIS.len()].to_owned()
    } else {
        ORDINARY[pick % ORDINARY.len()].to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    /// PostgreSQL over TCP (`TEST_DATABASE_URL`).
    Postgres,
    /// PostgreSQL over its Unix-domain socket (`TEST_DATABASE_SOCKET_URL`): sqlx 0.9.0 no longer
    /// sets TCP_NODELAY (transact-rs/sqlx#4335), so over TCP any statement larger than a segment
    /// can stall 40 ms on Nagle + delayed ACK; a Unix socket has no Nagle.
    PostgresUnix,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::PostgresUnix => "pg-unix",
        }
    }
}

struct Config {
    warmup: Duration,
    measure: Duration,
    pg_url: String,
    pg_socket_url: String,
}

impl Config {
    /// The URL of the server's maintenance database for a PostgreSQL backend.
    fn admin_url(&self, backend: Backend) -> &str {
        match backend {
            Backend::PostgresUnix => &self.pg_socket_url,
            Backend::Sqlite | Backend::Postgres => &self.pg_url,
        }
    }
}

/// What one case measured.
#[derive(Debug, Default, Clone)]
struct CaseResult {
    completed: u64,
    errors: u64,
    crisis_cards: u64,
    seconds: f64,
    latencies_us: Vec<u64>,
    peak_rss_kib: Option<u64>,
}

impl CaseResult {
    fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.completed as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Nearest-rank percentile in milliseconds (`latencies_us` is sorted).
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies_us.len()) - 1;
        self.latencies_us[index] as f64 / 1000.0
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Peak resident set size since the last reset, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets VmHWM (Linux ≥ 4.0) so each case reports its own peak rather than the process's.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The same server URL naming another database (`postgres://u@h:p/other?params`).
fn with_database(url: &str, database: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{}{}", &base[..host_end], database, query)
}

/// A scratch database for one case; removed by `drop_scratch`.
struct Scratch {
    backend: Backend,
    url: String,
    pg_database: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

async fn pg_reachable(url: &str) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(3), sqlx::PgConnection::connect(url)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("no answer within 3 s".to_owned()),
    }
}

async fn make_scratch(backend: Backend, config: &Config) -> Result<Scratch, BoxError> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            Ok(Scratch {
                backend,
                url,
                pg_database: None,
                _dir: Some(dir),
            })
        }
        Backend::Postgres | Backend::PostgresUnix => {
            let name = format!("cbln_bench_{}", Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(config.admin_url(backend)).await?;
            // `name` is our own hex identifier, so interpolating it is safe.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
            Ok(Scratch {
                backend,
                url: with_database(config.admin_url(backend), &name),
                pg_database: Some(name),
                _dir: None,
            })
        }
    }
}

async fn drop_scratch(scratch: Scratch, config: &Config) {
    if let Some(name) = scratch.pg_database {
        let dropped = async {
            let mut admin = sqlx::PgConnection::connect(config.admin_url(scratch.backend)).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await?;
            admin.close().await
        };
        if let Err(error) = dropped.await {
            eprintln!("warning: could not drop scratch database {name}: {error}");
        }
    }
}

fn system_settings() -> ActorSystemSettings {
    let long = Duration::from_secs(24 * 3600);
    ActorSystemSettings {
        registry: RegistrySettings {
            max_live: 2048,
            idle_timeout: long,
            session_mailbox_capacity: 8,
            request_timeout: Duration::from_secs(10),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
        },
        // The janitor stays out of the way: only the chat pipeline is measured.
        janitor: JanitorSettings {
            sweep_interval: long,
            sweep_at_start: false,
            batch_size: 500,
            batch_pause: Duration::from_millis(10),
            health_retention: long,
            snapshot_interval: long,
            rules_poll_interval: long,
            orphan_sweep_interval: long,
            orphan_grace: cbln_actors::session::RECOVERY_GRACE,
        },
        stage_timeout: Duration::from_secs(10),
        mailbox_capacity: 8192,
        encryptor_threads: 2,
        detector_threads: 2,
        group_commit_max: 256,
        commit_writers: 0,
        context_turns: 10,
        restart_policy: RestartPolicy::default(),
        risk_model: std::sync::Arc::new(match cbln_actors::crisis::RiskModel::embedded() {
            Ok(model) => model,
            Err(e) => panic!("the embedded crisis model must load: {e}"),
        }),
        crisis_quiet_period: Duration::from_secs(12 * 3600),
        notices: cbln_actors::session::NoticeSettings::default(),
        crisis_judge: None,
    }
}

/// Runs one case in its own actix `System`, so nothing of one case outlives it.
fn run_case(
    backend: Backend,
    sessions: usize,
    metrics_on: bool,
    config: &Config,
) -> Result<CaseResult, BoxError> {
    actix::System::new().block_on(async {
        let scratch = make_scratch(backend, config).await?;
        let result = drive(&scratch.url, sessions, metrics_on, config).await;
        drop_scratch(scratch, config).await;
        result
    })
}

/// A migrated pool on `url` and the measured actor system over it, answering with the
/// built-in listener.
async fn start_system(url: &str, metrics: Metrics) -> Result<(Store, ActorSystem), BoxError> {
    let store = Store::connect(&StoreSettings {
        url: url.to_owned(),
        max_connections: 16,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(10),
    })
    .await?;
    store.migrate_up().await?;
    let system = ActorSystem::start(
        store.clone(),
        system_settings(),
        Arc::new(KeyRing::new(MasterKey::generate(), vec![])),
        Arc::new(TokenHasher::new(&[7u8; 32])?),
        Responder::BuiltIn(BuiltInResponder::new()),
        shipped_hotlines()?,
        metrics,
    )
    .await?;
    Ok((store, system))
}

async fn drive(
    url: &str,
    sessions: usize,
    metrics_on: bool,
    config: &Config,
) -> Result<CaseResult, BoxError> {
    let metrics = if metrics_on {
        Metrics::new("bench")
    } else {
        Metrics::disabled()
    };
    let (store, system) = start_system(url, metrics).await?;

    let mut hashes = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let created = system
            .registry
            .ask(CreateSession {
                language: Language::Vi,
            })
            .await?;
        hashes.push(system.token_hasher.hash(&created.token));
    }

    let started = Instant::now();
    let measure_from = started + config.warmup;
    let measure_until = measure_from + config.measure;
    let registry = system.registry.clone();
    let clients = hashes.into_iter().enumerate().map(|(client, token_hash)| {
        let registry = registry.clone();
        async move {
            let mut result = CaseResult::default();
            let mut n = 0;
            while Instant::now() < measure_until {
                let sent = Instant::now();
                let content = content_for(client, n);
                n += 1;
                // The same two hops as the HTTP handler: find the session's actor, then post.
                let outcome = match registry.ask(OpenSession { token_hash }).await {
                    Ok(handle) => match MessageText::parse(&content) {
                        Ok(content) => handle.mailbox.ask(PostMessage { content }).await,
                        // Every bench message is a non-empty constant.
                        Err(_) => continue,
                    },
                    Err(error) => Err(error),
                };
                let done = Instant::now();
                if done < measure_from || done > measure_until {
                    continue;
                }
                match outcome {
                    Ok(posted) => {
                        result.completed += 1;
                        result.crisis_cards += u64::from(posted.crisis_info.is_some());
                        result
                            .latencies_us
                            .push(done.duration_since(sent).as_micros() as u64);
                    }
                    Err(error) => {
                        if result.errors == 0 {
                            eprintln!("  first error of client {client}: {error}");
                        }
                        result.errors += 1;
                    }
                }
            }
            result
        }
    });
    let per_client = futures_util::future::join_all(clients).await;

    let mut total = CaseResult {
        seconds: config.measure.as_secs_f64(),
        ..CaseResult::default()
    };
    for client in per_client {
        total.completed += client.completed;
        total.errors += client.errors;
        total.crisis_cards += client.crisis_cards;
        total.latencies_us.extend(client.latencies_us);
    }
    total.latencies_us.sort_unstable();
    total.peak_rss_kib = peak_rss_kib();

    if metrics_on && std::env::var_os("BENCH_PROFILE").is_some() {
        print_stage_profile(&system.metrics);
    }
    system.shutdown().await;
    drop(system);
    store.close().await;
    Ok(total)
}

/// Mean time per actor request (queueing included), from the metrics the system keeps anyway:
/// where a message's latency goes, without a profiler.
fn print_stage_profile(metrics: &Metrics) {
    let Ok(text) = metrics.encode() else { return };
    let mut sums = std::collections::BTreeMap::<String, (f64, f64)>::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        for (suffix, slot) in [("_sum{", 0), ("_count{", 1)] {
            let Some(at) = series.find(suffix) else {
                continue;
            };
            let name = &series[..at];
            if name != "actor_message_duration_seconds"
                && name != "db_pool_acquire_duration_seconds"
            {
                continue;
            }
            let key = format!("{name}{}", &series[at + suffix.len() - 1..]);
            let entry = sums.entry(key).or_default();
            if slot == 0 {
                entry.0 += value
            } else {
                entry.1 += value
            }
        }
        if series.starts_with("db_pool_acquire_duration_seconds_sum")
            || series.starts_with("db_pool_acquire_duration_seconds_count")
        {
            let key = "db_pool_acquire_duration_seconds (per group commit)".to_owned();
            let entry = sums.entry(key).or_default();
            if series.contains("_sum") {
                entry.0 += value
            } else {
                entry.1 += value
            }
        }
    }
    for (key, (sum, count)) in sums {
        if count > 0.0 {
            println!(
                "    {key:<90} n={count:>8.0} mean={:>8.3} ms",
                sum / count * 1000.0
            );
        }
    }
}

fn print_header() {
    println!(
        "| {:<8} | {:>8} | {:>10} | {:>10} | {:>8} | {:>8} | {:>8} | {:>9} | {:>6} | {:>6} |",
        "backend",
        "sessions",
        "messages/s",
        "rows/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "peak RSS",
        "crisis",
        "errors"
    );
    println!(
        "|{:-<10}|{:->10}|{:->12}|{:->12}|{:->10}|{:->10}|{:->10}|{:->11}|{:->8}|{:->8}|",
        "", "", "", "", "", "", "", "", "", ""
    );
}

fn print_row(backend: Backend, sessions: usize, r: &CaseResult) {
    let rss = r.peak_rss_kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.0} MiB", k as f64 / 1024.0),
    );
    let max_ms = r.latencies_us.last().map_or(0.0, |us| *us as f64 / 1000.0);
    println!(
        "| {:<8} | {:>8} | {:>10.0} | {:>10.0} | {:>8.2} | {:>8.2} | {:>8.2} | {:>9} | {:>6} | {:>6} |",
        backend.name(),
        sessions,
        r.per_second(),
        2.0 * r.per_second(),
        r.percentile_ms(50.0),
        r.percentile_ms(99.0),
        max_ms,
        rss,
        r.crisis_cards,
        r.errors
    );
}

fn backends(config: &Config) -> Result<Vec<Backend>, BoxError> {
    let mut chosen = Vec::new();
    for name in env_list("BENCH_BACKENDS", "sqlite,postgres,pg-unix") {
        match name.as_str() {
            "sqlite" => chosen.push(Backend::Sqlite),
            "postgres" | "pg-unix" => {
                let backend = if name == "postgres" {
                    Backend::Postgres
                } else {
                    Backend::PostgresUnix
                };
                let url = config.admin_url(backend);
                match actix::System::new().block_on(pg_reachable(url)) {
                    Ok(()) => chosen.push(backend),
                    Err(error) => println!(
                        "PostgreSQL unreachable at {} ({error}); skipping the {name} backend",
                        cbln_actors::persistence::redact_url(url)
                    ),
                }
            }
            other => return Err(format!("unknown backend {other:?} in BENCH_BACKENDS").into()),
        }
    }
    Ok(chosen)
}

fn run_matrix(config: &Config) -> Result<(), BoxError> {
    let sessions: Vec<usize> = env_list("BENCH_SESSIONS", "1,64,512")
        .iter()
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let backends = backends(config)?;
    print_header();
    for backend in backends {
        for &n in &sessions {
            reset_peak_rss();
            let result = run_case(backend, n, true, config)?;
            print_row(backend, n, &result);
        }
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn run_metrics_overhead(config: &Config) -> Result<(), BoxError> {
    let backend = backends(config)?
        .into_iter()
        .max_by_key(|b| match b {
            Backend::Sqlite => 0,
            Backend::Postgres => 1,
            // Least noise: over TCP the Nagle stalls (see `Backend`) would drown a 3 % effect.
            Backend::PostgresUnix => 2,
        })
        .ok_or("no backend available")?;
    let sessions: usize = env_or("BENCH_METRICS_SESSIONS", 64);
    let rounds: usize = env_or("BENCH_ROUNDS", 3);
    println!(
        "metrics overhead: {} backend, {sessions} sessions, {rounds} alternating rounds",
        backend.name()
    );
    print_header();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first so drift (page cache, autovacuum) does not favour one side.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for metrics_on in order {
            let result = run_case(backend, sessions, metrics_on, config)?;
            print!(
                "{:<13}",
                if metrics_on {
                    "metrics on "
                } else {
                    "metrics off"
                }
            );
            print_row(backend, sessions, &result);
            if metrics_on {
                on.push(result.per_second())
            } else {
                off.push(result.per_second())
            }
        }
    }
    let (on, off) = (median(&mut on), median(&mut off));
    let overhead = if off > 0.0 {
        (off - on) / off * 100.0
    } else {
        0.0
    };
    println!(
        "median messages/s: metrics on {on:.0}, metrics off {off:.0}; overhead {overhead:.2} % (target < 3 %)"
    );
    Ok(())
}

/// Time `Store::apply_writes` alone for batches of replies and of user messages: how much of a
/// message's latency is the group-commit transaction itself, as a function of batch size.
fn run_commit_profile(config: &Config) -> Result<(), BoxError> {
    let backends = backends(config)?;
    let batch_sizes = [1usize, 8, 32, 64, 128, 256];
    let reps: u32 = env_or("BENCH_REPS", 20);
    println!("| backend  | batch | writes   | mean ms/txn | writes/s |");
    println!("|----------|-------|----------|-------------|----------|");
    for backend in backends {
        actix::System::new().block_on(async {
            let scratch = make_scratch(backend, config).await?;
            let outcome = commit_profile(backend, &scratch.url, &batch_sizes, reps).await;
            drop_scratch(scratch, config).await;
            outcome
        })?;
    }
    Ok(())
}

async fn commit_profile(
    backend: Backend,
    url: &str,
    sizes: &[usize],
    reps: u32,
) -> Result<(), BoxError> {
    use cbln_actors::domain::Role;
    use cbln_actors::persistence::{StoredContext, StoredMessage, Timestamp, WriteOp};
    let (store, system) = start_system(url, Metrics::disabled()).await?;
    let max = sizes.iter().copied().max().unwrap_or(1);
    let mut ids = Vec::with_capacity(max);
    for _ in 0..max {
        ids.push(
            system
                .registry
                .ask(CreateSession {
                    language: Language::Vi,
                })
                .await?
                .record
                .id,
        );
    }
    let mut seq = 0i64;
    // Sizes of what the pipeline really writes: ~100-char message, ~300-byte reply, ~2 KiB context.
    let message = |session_id: Uuid, seq: i64, role: Role, len: usize| StoredMessage {
        id: Uuid::new_v4(),
        session_id,
        seq,
        role,
        content: vec![0x5a; len],
        model_used: None,
        processing_time_ms: None,
        is_crisis_detected: false,
        created_at: Timestamp::now(),
    };
    for &size in sizes {
        for kind in ["user", "exchange"] {
            let started = Instant::now();
            for _ in 0..reps {
                seq += 1;
                let ops: Vec<WriteOp> = ids[..size]
                    .iter()
                    .map(|&id| match kind {
                        "user" => WriteOp::UserMessage {
                            message: message(id, seq, Role::User, 160),
                            risk_change: None,
                            expected_version: None,
                        },
                        _ => WriteOp::Exchange {
                            user: message(id, seq, Role::User, 160),
                            reply: message(id, seq, Role::Assistant, 400),
                            context: StoredContext {
                                sealed: vec![0x5a; 2048],
                                turn_count: 10,
                            },
                            risk_change: None,
                            expected_version: None,
                        },
                    })
                    .collect();
                store.apply_writes(&ops).await?;
            }
            let per_txn = started.elapsed().as_secs_f64() / f64::from(reps);
            println!(
                "| {:<8} | {:>5} | {:<8} | {:>11.3} | {:>8.0} |",
                backend.name(),
                size,
                kind,
                per_txn * 1000.0,
                size as f64 / per_txn
            );
        }
    }
    if backend != Backend::Sqlite {
        set_based_reply_profile(url, &ids, sizes, reps).await?;
    }
    system.shutdown().await;
    drop(system);
    store.close().await;
    Ok(())
}

/// A prototype of the reply batch with one statement per table (arrays through `UNNEST`)
/// instead of two statements per reply, to show what set-based group commit would gain.
async fn set_based_reply_profile(
    url: &str,
    ids: &[Uuid],
    sizes: &[usize],
    reps: u32,
) -> Result<(), BoxError> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let mut seq = 1_000_000i64;
    for &size in sizes {
        let started = Instant::now();
        for _ in 0..reps {
            seq += 1;
            let sessions = &ids[..size];
            let now = time::OffsetDateTime::now_utc();
            let message_ids: Vec<Uuid> = sessions.iter().map(|_| Uuid::new_v4()).collect();
            let seqs = vec![seq; size];
            let contents = vec![vec![0x5au8; 400]; size];
            let contexts = vec![vec![0x5au8; 2048]; size];
            let times = vec![now; size];
            let mut tx = sqlx::Connection::begin(&mut conn).await?;
            sqlx::query(
                "INSERT INTO messages (id, session_id, seq, role, content, model_used, processing_time_ms, \
                 is_crisis_detected, created_at, updated_at) \
                 SELECT id, sid, seq, 'assistant', content, 'builtin', 1, FALSE, ts, ts \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::bytea[], $5::timestamptz[]) \
                 AS v(id, sid, seq, content, ts)",
            )
            .bind(&message_ids)
            .bind(sessions)
            .bind(&seqs)
            .bind(&contents)
            .bind(&times)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO conversation_context (id, session_id, context, turn_count, created_at, updated_at) \
                 SELECT sid, sid, ctx, 10, ts, ts FROM UNNEST($1::uuid[], $2::bytea[], $3::timestamptz[]) \
                 AS v(sid, ctx, ts) \
                 ON CONFLICT (session_id) DO UPDATE SET context = excluded.context, \
                 turn_count = excluded.turn_count, updated_at = excluded.updated_at",
            )
            .bind(sessions)
            .bind(&contexts)
            .bind(&times)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE sessions SET last_activity = v.ts, updated_at = v.ts \
                 FROM UNNEST($1::uuid[], $2::timestamptz[]) AS v(sid, ts) WHERE sessions.id = v.sid",
            )
            .bind(sessions)
            .bind(&times)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        let per_txn = started.elapsed().as_secs_f64() / f64::from(reps);
        println!(
            "| {:<8} | {:>5} | {:<8} | {:>11.3} | {:>8.0} |",
            "pg-set",
            size,
            "reply",
            per_txn * 1000.0,
            size as f64 / per_txn
        );
    }
    conn.close().await?;
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let config = Config {
        warmup: Duration::from_secs_f64(env_or("BENCH_WARMUP", 1.0)),
        measure: Duration::from_secs_f64(env_or("BENCH_SECONDS", 5.0)),
        pg_url: std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned()),
        pg_socket_url: std::env::var("TEST_DATABASE_SOCKET_URL")
            .unwrap_or_else(|_| DEFAULT_PG_SOCKET_URL.to_owned()),
    };
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need either.
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    println!(
        "pipeline bench: {:.0} s warm-up + {:.0} s measured per case; {} CPUs; messages/s = completed PostMessage (user message + reply), rows/s = 2x",
        config.warmup.as_secs_f64(),
        config.measure.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    match std::env::var("BENCH_MODE").as_deref() {
        Ok("metrics") => run_metrics_overhead(&config),
        Ok("commit") => run_commit_profile(&config),
        Ok("matrix") | Err(_) => run_matrix(&config),
        Ok(other) => {
            Err(format!("unknown BENCH_MODE {other:?} (use matrix, metrics or commit)").into())
        }
    }
}

/// The shipped hotline list, from the file the binary compiles in.
fn shipped_hotlines() -> Result<Vec<cbln_actors::crisis::Hotline>, BoxError> {
    Ok(cbln_actors::crisis::parse_hotlines(include_str!(
        "../../config/hotlines.toml"
    ))?)
}
