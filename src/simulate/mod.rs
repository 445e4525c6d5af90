//! The core of `cbln simulate`: a bounded HTTP load test of a running server on this machine.
//!
//! It creates sessions, has each of them chat (one message at a time, as a person waits for the
//! reply), then reads each session's history once to check that every acknowledged message and
//! its reply were stored, and deletes the sessions again so that a run leaves nothing behind.
//! Sessions chat concurrently; `concurrency` bounds the requests in flight across all of them.
//!
//! Given several base URLs (instances of the service behind no balancer), it sends each request
//! to the next URL in turn, round-robin across all requests of all sessions, so consecutive
//! messages of one session land on different instances; it reports per instance and in total.
//!
//! The history check is exact: each session's history must hold the messages answered 201, in
//! the order they were sent, each followed by its reply, and nothing else — except that a message
//! whose request got no answer or a 5xx (an instance killed mid-request) may be stored or not,
//! since the client cannot know; if stored, it must be in its place and answered too.
//!
//! Every run is bounded: only loopback targets, capped session and message counts, a time limit
//! (given, or [`DEFAULT_DURATION_LIMIT`]), and a timeout on every request.

mod messages;
mod pool;
mod stats;

pub use messages::{CRISIS, ORDINARY};
pub use pool::{Pick, pick};
pub use stats::{Latency, loopback_base_url, percentile, summarise};

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Most sessions one run may create.
pub const MAX_SESSIONS: usize = 10_000;
/// Most messages one session may send.
pub const MAX_MESSAGES_PER_SESSION: usize = 1_000;
/// Most messages one run may send in total.
pub const MAX_TOTAL_MESSAGES: usize = 200_000;
/// Most requests in flight.
pub const MAX_CONCURRENCY: usize = 2_048;
/// The time limit of a run that gives none.
pub const DEFAULT_DURATION_LIMIT: Duration = Duration::from_secs(30 * 60);
/// Timeout of each request; a pipeline stage times out well before this on the server.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages the history check reads in one page (the API's maximum).
const HISTORY_PAGE: usize = 200;
/// Most base URLs one run may spread its requests over.
pub const MAX_URLS: usize = 16;

/// What `cbln simulate` was asked to do.
#[derive(Debug, Clone)]
pub struct SimulateArgs {
    /// The servers' base URLs (at least one, all loopback); requests go to each in turn.
    pub urls: Vec<String>,
    /// Sessions to create.
    pub sessions: usize,
    /// Messages each session sends.
    pub messages_per_session: usize,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Pause of each session between getting a reply and sending its next message.
    pub think_time: Duration,
    /// Share (0..=1) of messages drawn from the crisis pool.
    pub crisis_ratio: f64,
    /// Stop creating sessions and sending messages after this long (cleanup still runs).
    pub duration_limit: Option<Duration>,
}

/// What a run measured. Latencies are those of the message requests (`POST /api/v1/messages`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SimulationReport {
    /// The servers' base URLs.
    pub urls: Vec<String>,
    /// What each URL answered, in the order of `urls`.
    pub per_instance: Vec<InstanceReport>,
    /// Sessions asked for.
    pub sessions_requested: usize,
    /// Sessions the server created.
    pub sessions_created: usize,
    /// HTTP requests made, all phases.
    pub requests: u64,
    /// Responses by status code, all phases; transport failures as `timeout`, `connect` or `error`.
    pub status_counts: BTreeMap<String, u64>,
    /// Message requests made.
    pub messages_sent: u64,
    /// Message requests answered 201.
    pub messages_ok: u64,
    /// Message requests drawn from the crisis pool.
    pub crisis_messages_sent: u64,
    /// 201 answers that carried a crisis card (a crisis message's own, or a later turn's while
    /// the conversation stays in crisis).
    pub crisis_cards: u64,
    /// Crisis-pool messages answered 201 without a card: each one is a missed crisis.
    pub crisis_messages_without_card: u64,
    /// Latency of the message requests.
    pub latency: Latency,
    /// Messages answered 201 per second of the chat phase.
    pub throughput_per_s: f64,
    /// Length of the chat phase.
    pub chat_seconds: f64,
    /// Length of the whole run, cleanup included.
    pub total_seconds: f64,
    /// Sessions whose history was read back.
    pub histories_checked: usize,
    /// Sessions whose history is not exactly their messages answered 201, in order, each
    /// followed by a reply.
    pub history_mismatches: Vec<HistoryMismatch>,
    /// Sessions deleted at the end.
    pub sessions_deleted: usize,
    /// Whether the time limit cut the run short.
    pub hit_duration_limit: bool,
}

/// What one of the URLs answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InstanceReport {
    /// The base URL.
    pub url: String,
    /// HTTP requests sent to it, all phases.
    pub requests: u64,
    /// Its responses by status code; transport failures as `timeout`, `connect` or `error`.
    pub status_counts: BTreeMap<String, u64>,
    /// Its 5xx answers.
    pub server_errors: u64,
    /// Message requests it answered 201.
    pub messages_ok: u64,
    /// Latency of its message requests answered 201.
    pub latency: Latency,
}

/// A session whose stored history does not match what the server acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryMismatch {
    /// Index of the session in this run (tokens are never printed).
    pub session: usize,
    /// 2 × messages answered 201.
    pub expected: u64,
    /// Messages stored, or `None` when the history could not be read.
    pub stored: Option<u64>,
    /// What is wrong, when the count is right but the content or order is not.
    pub problem: Option<&'static str>,
}

/// Runs the simulation, writing a progress line per second and the final table to `out`.
pub async fn run(args: SimulateArgs, out: &mut impl Write) -> anyhow::Result<SimulationReport> {
    let bases = validate(&args)?;
    cbln_actors::responder::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        // Following a redirect or a proxy could carry the load off this machine.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(args.concurrency)
        .user_agent(concat!("cbln-simulate/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let sim = Arc::new(Sim {
        client,
        instances: bases
            .iter()
            .map(|base| Instance {
                base: base.clone(),
                ..Instance::default()
            })
            .collect(),
        next: AtomicUsize::new(0),
        gate: Semaphore::new(args.concurrency),
        progress: Progress::default(),
    });
    let limit = args.duration_limit.unwrap_or(DEFAULT_DURATION_LIMIT);
    let started = Instant::now();
    let deadline = started + limit;

    writeln!(
        out,
        "simulating {} sessions × {} messages against {} (concurrency {}, think time {} ms, crisis ratio {:.3}, limit {} s)",
        args.sessions,
        args.messages_per_session,
        bases.join(", "),
        args.concurrency,
        args.think_time.as_millis(),
        args.crisis_ratio,
        limit.as_secs()
    )
    .context("writing the simulator output")?;

    let work = simulate(sim.clone(), args.clone(), deadline);
    tokio::pin!(work);
    let mut ticker =
        tokio::time::interval_at(started + Duration::from_secs(1), Duration::from_secs(1));
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = ticker.tick() => {
                writeln!(out, "{}", sim.progress.line(started.elapsed())).context("writing the simulator output")?;
                out.flush().context("writing the simulator output")?;
            }
        }
    };

    let mut report = outcome;
    report.urls = bases;
    report.sessions_requested = args.sessions;
    report.requests = sim.progress.requests.load(Ordering::Relaxed);
    report.per_instance = sim.instances.iter().map(Instance::report).collect();
    for instance in &report.per_instance {
        for (status, count) in &instance.status_counts {
            *report.status_counts.entry(status.clone()).or_default() += count;
        }
    }
    report.total_seconds = started.elapsed().as_secs_f64();
    write_report(out, &report).context("writing the simulator output")?;
    Ok(report)
}

/// Checks the arguments and answers the base URLs.
fn validate(args: &SimulateArgs) -> anyhow::Result<Vec<String>> {
    if args.urls.is_empty() || args.urls.len() > MAX_URLS {
        bail!("give between 1 and {MAX_URLS} --url");
    }
    let bases = args
        .urls
        .iter()
        .map(|url| loopback_base_url(url))
        .collect::<anyhow::Result<Vec<String>>>()?;
    if args.sessions == 0 || args.sessions > MAX_SESSIONS {
        bail!("--sessions must be between 1 and {MAX_SESSIONS}");
    }
    if args.messages_per_session > MAX_MESSAGES_PER_SESSION {
        bail!("--messages-per-session must be at most {MAX_MESSAGES_PER_SESSION}");
    }
    if args.sessions.saturating_mul(args.messages_per_session) > MAX_TOTAL_MESSAGES {
        bail!("sessions × messages per session must be at most {MAX_TOTAL_MESSAGES}");
    }
    if args.concurrency == 0 || args.concurrency > MAX_CONCURRENCY {
        bail!("--concurrency must be between 1 and {MAX_CONCURRENCY}");
    }
    if !(0.0..=1.0).contains(&args.crisis_ratio) {
        bail!("--crisis-ratio must be between 0 and 1");
    }
    if args.think_time > Duration::from_secs(60) {
        bail!("--think-time must be at most 60 s");
    }
    if args.duration_limit.is_some_and(|d| d.is_zero()) {
        bail!("--duration-limit must be greater than zero");
    }
    Ok(bases)
}

/// Shared by every request of a run.
struct Sim {
    client: reqwest::Client,
    instances: Vec<Instance>,
    /// The round-robin cursor over `instances`.
    next: AtomicUsize,
    gate: Semaphore,
    progress: Progress,
}

/// One base URL and what it answered.
#[derive(Default)]
struct Instance {
    base: String,
    requests: AtomicU64,
    messages_ok: AtomicU64,
    statuses: Mutex<BTreeMap<String, u64>>,
    latencies_ms: Mutex<Vec<f64>>,
}

impl Instance {
    fn report(&self) -> InstanceReport {
        let status_counts = self
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let server_errors = status_counts
            .iter()
            .filter(|(status, _)| status.starts_with('5'))
            .map(|(_, count)| count)
            .sum();
        let latencies = self
            .latencies_ms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        InstanceReport {
            url: self.base.clone(),
            requests: self.requests.load(Ordering::Relaxed),
            status_counts,
            server_errors,
            messages_ok: self.messages_ok.load(Ordering::Relaxed),
            latency: summarise(latencies),
        }
    }
}

/// Live counters for the progress line.
#[derive(Default)]
struct Progress {
    phase: AtomicU8,
    requests: AtomicU64,
    messages_ok: AtomicU64,
    failures: AtomicU64,
    sessions: AtomicU64,
}

const PHASES: [&str; 4] = ["create", "chat", "verify", "delete"];

impl Progress {
    fn line(&self, elapsed: Duration) -> String {
        let phase = PHASES
            .get(usize::from(self.phase.load(Ordering::Relaxed)))
            .unwrap_or(&"?");
        format!(
            "[{:>4.0}s] {phase:<6} sessions {:>5}  requests {:>7}  messages ok {:>7}  failures {:>5}",
            elapsed.as_secs_f64(),
            self.sessions.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
            self.messages_ok.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
        )
    }
}

/// One request's outcome: the status, or why there was none.
enum Answer {
    Status(reqwest::StatusCode, reqwest::Response),
    Failed(&'static str),
}

impl Sim {
    /// The instance the next request goes to, and the URL of `path` there.
    fn target(&self, path: &str) -> (usize, String) {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.instances.len().max(1);
        let base = self.instances.get(index).map_or("", |i| i.base.as_str());
        (index, format!("{base}{path}"))
    }

    /// Sends one request to instance `index` under the concurrency gate and counts its outcome.
    async fn send(&self, index: usize, request: reqwest::RequestBuilder) -> Answer {
        let Ok(_permit) = self.gate.acquire().await else {
            return Answer::Failed("error");
        };
        self.progress.requests.fetch_add(1, Ordering::Relaxed);
        let Some(instance) = self.instances.get(index) else {
            return Answer::Failed("error");
        };
        instance.requests.fetch_add(1, Ordering::Relaxed);
        let answer = match request.send().await {
            Ok(response) => Answer::Status(response.status(), response),
            Err(error) if error.is_timeout() => Answer::Failed("timeout"),
            Err(error) if error.is_connect() => Answer::Failed("connect"),
            Err(_) => Answer::Failed("error"),
        };
        let key = match &answer {
            Answer::Status(status, _) => status.as_u16().to_string(),
            Answer::Failed(kind) => (*kind).to_owned(),
        };
        if !matches!(&answer, Answer::Status(s, _) if s.is_success()) {
            self.progress.failures.fetch_add(1, Ordering::Relaxed);
        }
        *instance
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
        answer
    }

    /// Counts a message answered 201 by instance `index` after `latency_ms`.
    fn acknowledged(&self, index: usize, latency_ms: f64) {
        self.progress.messages_ok.fetch_add(1, Ordering::Relaxed);
        if let Some(instance) = self.instances.get(index) {
            instance.messages_ok.fetch_add(1, Ordering::Relaxed);
            instance
                .latencies_ms
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(latency_ms);
        }
    }
}

#[derive(Deserialize)]
struct CreatedBody {
    session: CreatedSession,
}

#[derive(Deserialize)]
struct CreatedSession {
    session_token: String,
}

#[derive(Deserialize)]
struct PostedBody {
    #[serde(default)]
    crisis_info: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct HistoryBody {
    total_count: u64,
    #[serde(default)]
    messages: Vec<HistoryMessage>,
}

#[derive(Deserialize)]
struct HistoryMessage {
    role: String,
    /// `null` when the stored text could not be opened.
    #[serde(default)]
    content: Option<String>,
}

/// What one session's chat produced.
#[derive(Default)]
struct SessionChat {
    sent: u64,
    ok: u64,
    /// The messages that may be stored, in the order sent.
    sent_log: Vec<Sent>,
    crisis_sent: u64,
    crisis_cards: u64,
    crisis_without_card: u64,
    latencies_ms: Vec<f64>,
}

async fn simulate(sim: Arc<Sim>, args: SimulateArgs, deadline: Instant) -> SimulationReport {
    let mut report = SimulationReport::default();
    let concurrency = args.concurrency;

    // Create.
    let tokens: Vec<String> = futures_util::stream::iter(0..args.sessions)
        .map(|_| create_session(&sim, deadline))
        .buffer_unordered(concurrency)
        .filter_map(|token| async move { token })
        .collect()
        .await;
    report.sessions_created = tokens.len();

    // Chat: every session its own task, each request gated by the semaphore.
    sim.progress.phase.store(1, Ordering::Relaxed);
    let chat_started = Instant::now();
    let mut chats = JoinSet::new();
    for (index, token) in tokens.iter().enumerate() {
        let (sim, token, args) = (sim.clone(), token.clone(), args.clone());
        chats.spawn(async move { (index, chat(&sim, &token, &args, deadline).await) });
    }
    let mut per_session: Vec<SessionChat> =
        (0..tokens.len()).map(|_| SessionChat::default()).collect();
    let mut latencies = Vec::new();
    while let Some(joined) = chats.join_next().await {
        let Ok((index, mut outcome)) = joined else {
            continue;
        };
        latencies.append(&mut outcome.latencies_ms);
        if let Some(slot) = per_session.get_mut(index) {
            *slot = outcome;
        }
    }
    report.chat_seconds = chat_started.elapsed().as_secs_f64();
    report.hit_duration_limit = Instant::now() >= deadline;
    for chat in &per_session {
        report.messages_sent += chat.sent;
        report.messages_ok += chat.ok;
        report.crisis_messages_sent += chat.crisis_sent;
        report.crisis_cards += chat.crisis_cards;
        report.crisis_messages_without_card += chat.crisis_without_card;
    }
    report.latency = summarise(latencies);
    if report.chat_seconds > 0.0 {
        report.throughput_per_s = report.messages_ok as f64 / report.chat_seconds;
    }

    // Verify: the history is exactly the acknowledged exchanges, in order.
    sim.progress.phase.store(2, Ordering::Relaxed);
    let checks: Vec<(usize, Option<Vec<HistoryMessage>>)> =
        futures_util::stream::iter(tokens.iter().enumerate())
            .map(|(index, token)| {
                let sim = &sim;
                async move { (index, read_history(sim, token).await) }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    report.histories_checked = checks.iter().filter(|(_, stored)| stored.is_some()).count();
    let mut mismatches: Vec<HistoryMismatch> = checks
        .into_iter()
        .filter_map(|(session, stored)| {
            let sent = per_session
                .get(session)
                .map_or(&[][..], |c| c.sent_log.as_slice());
            compare_history(session, sent, stored.as_deref())
        })
        .collect();
    mismatches.sort_by_key(|m| m.session);
    report.history_mismatches = mismatches;

    // Delete, always, even past the deadline: a load test must not leave sessions behind.
    sim.progress.phase.store(3, Ordering::Relaxed);
    report.sessions_deleted = futures_util::stream::iter(tokens.iter())
        .map(|token| delete_session(&sim, token))
        .buffer_unordered(concurrency)
        .filter(|deleted| std::future::ready(*deleted))
        .count()
        .await;
    report
}

async fn create_session(sim: &Sim, deadline: Instant) -> Option<String> {
    if Instant::now() >= deadline {
        return None;
    }
    let (index, url) = sim.target("/api/v1/sessions");
    let request = sim
        .client
        .post(url)
        .json(&serde_json::json!({ "language_preference": "vi" }));
    let Answer::Status(status, response) = sim.send(index, request).await else {
        return None;
    };
    if status != reqwest::StatusCode::CREATED {
        return None;
    }
    let body: CreatedBody = response.json().await.ok()?;
    sim.progress.sessions.fetch_add(1, Ordering::Relaxed);
    Some(body.session.session_token)
}

async fn chat(sim: &Sim, token: &str, args: &SimulateArgs, deadline: Instant) -> SessionChat {
    let mut outcome = SessionChat::default();
    for n in 0..args.messages_per_session {
        if n > 0 && !args.think_time.is_zero() {
            tokio::time::sleep(args.think_time).await;
        }
        if Instant::now() >= deadline {
            break;
        }
        // The thread-local generator is not `Send`: draw before any await.
        let Pick { content, crisis } = pick(&mut rand::rng(), args.crisis_ratio);
        let (index, url) = sim.target("/api/v1/messages");
        let request = sim
            .client
            .post(url)
            .bearer_auth(token)
            .json(&serde_json::json!({ "content": content }));
        outcome.sent += 1;
        outcome.crisis_sent += u64::from(crisis);
        let sent = Instant::now();
        let answer = sim.send(index, request).await;
        if let Answer::Status(reqwest::StatusCode::CREATED, response) = answer {
            // The latency is the user's wait: until the whole answer has arrived.
            let body = response.json::<PostedBody>().await;
            let latency_ms = sent.elapsed().as_secs_f64() * 1000.0;
            outcome.latencies_ms.push(latency_ms);
            outcome.ok += 1;
            outcome.sent_log.push(Sent {
                content,
                acknowledged: true,
            });
            sim.acknowledged(index, latency_ms);
            let card = body.is_ok_and(|b| b.crisis_info.is_some_and(|c| !c.is_null()));
            outcome.crisis_cards += u64::from(card);
            outcome.crisis_without_card += u64::from(crisis && !card);
        } else if !matches!(answer, Answer::Status(status, _) if status.is_client_error()) {
            // No answer or a 5xx: stored or not, the client cannot tell. A 4xx stored nothing.
            outcome.sent_log.push(Sent {
                content,
                acknowledged: false,
            });
        }
    }
    outcome
}

/// The session's whole history, page by page, or `None` when it could not be read.
async fn read_history(sim: &Sim, token: &str) -> Option<Vec<HistoryMessage>> {
    let mut messages: Vec<HistoryMessage> = Vec::new();
    loop {
        let (index, url) = sim.target("/api/v1/messages");
        let request = sim
            .client
            .get(url)
            .query(&[("limit", HISTORY_PAGE), ("offset", messages.len())])
            .bearer_auth(token);
        let Answer::Status(reqwest::StatusCode::OK, response) = sim.send(index, request).await
        else {
            return None;
        };
        let mut page: HistoryBody = response.json().await.ok()?;
        let got = page.messages.len();
        messages.append(&mut page.messages);
        if got < HISTORY_PAGE || messages.len() as u64 >= page.total_count {
            return Some(messages);
        }
    }
}

/// A message a session sent that may be in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sent {
    content: &'static str,
    /// Answered 201: it must be stored. Otherwise it may be.
    acknowledged: bool,
}

/// `None` when `stored` is the `sent` messages in order, each followed by one reply, with every
/// acknowledged one present and nothing else.
fn compare_history(
    session: usize,
    sent: &[Sent],
    stored: Option<&[HistoryMessage]>,
) -> Option<HistoryMismatch> {
    let expected = 2 * sent.iter().filter(|s| s.acknowledged).count() as u64;
    let mismatch = |stored: Option<u64>, problem: Option<&'static str>| {
        Some(HistoryMismatch {
            session,
            expected,
            stored,
            problem,
        })
    };
    let Some(stored) = stored else {
        return mismatch(None, None);
    };
    let count = stored.len() as u64;
    let certain = sent.iter().all(|s| s.acknowledged);
    if (certain && count != expected) || count < expected || count > 2 * sent.len() as u64 {
        return mismatch(Some(count), None);
    }
    let mut users = Vec::with_capacity(stored.len() / 2);
    for pair in stored.chunks(2) {
        let [user, reply] = pair else {
            return mismatch(Some(count), Some("a message without its reply"));
        };
        if user.role != "user" || reply.role != "assistant" {
            return mismatch(Some(count), Some("messages out of turn"));
        }
        users.push(user.content.as_deref().unwrap_or_default());
    }
    if !is_sent_in_order(sent, &users) {
        return mismatch(
            Some(count),
            Some("a message differs from what was sent, or out of order"),
        );
    }
    None
}

/// Whether `stored` is `sent` with some unacknowledged messages left out. Equal texts make a
/// greedy match ambiguous, so this tracks every reachable position in `stored`.
fn is_sent_in_order(sent: &[Sent], stored: &[&str]) -> bool {
    if sent.iter().all(|s| s.acknowledged) {
        return sent.len() == stored.len() && sent.iter().zip(stored).all(|(s, t)| s.content == *t);
    }
    // reachable[i]: the first i stored messages can be explained by the sent ones so far.
    let mut reachable = vec![false; stored.len() + 1];
    reachable[0] = true;
    for message in sent {
        let mut next = vec![false; stored.len() + 1];
        for (i, &here) in reachable.iter().enumerate() {
            if !here {
                continue;
            }
            if !message.acknowledged {
                next[i] = true;
            }
            if stored.get(i).is_some_and(|text| *text == message.content) {
                next[i + 1] = true;
            }
        }
        reachable = next;
    }
    reachable[stored.len()]
}

async fn delete_session(sim: &Sim, token: &str) -> bool {
    let (index, url) = sim.target(&format!("/api/v1/sessions/{token}"));
    let request = sim.client.delete(url).bearer_auth(token);
    matches!(sim.send(index, request).await, Answer::Status(status, _) if status.is_success())
}

/// The human-readable report.
pub fn write_report(out: &mut impl Write, r: &SimulationReport) -> std::io::Result<()> {
    let statuses: Vec<String> = r
        .status_counts
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    writeln!(out)?;
    writeln!(
        out,
        "sessions        {} created of {} requested, {} deleted",
        r.sessions_created, r.sessions_requested, r.sessions_deleted
    )?;
    writeln!(
        out,
        "requests        {} ({})",
        r.requests,
        statuses.join(", ")
    )?;
    writeln!(
        out,
        "messages        {} ok of {} sent",
        r.messages_ok, r.messages_sent
    )?;
    writeln!(
        out,
        "crisis          {} sent, {} crisis cards received, {} crisis messages without a card",
        r.crisis_messages_sent, r.crisis_cards, r.crisis_messages_without_card
    )?;
    writeln!(
        out,
        "latency (ms)    p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}  mean {:.1}",
        r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms, r.latency.max_ms, r.latency.mean_ms
    )?;
    writeln!(
        out,
        "throughput      {:.1} messages/s over {:.1} s of chat ({:.1} s in all)",
        r.throughput_per_s, r.chat_seconds, r.total_seconds
    )?;
    if r.per_instance.len() > 1 {
        for (n, i) in r.per_instance.iter().enumerate() {
            writeln!(
                out,
                "instance {n}      {}: {} requests, {} 5xx, {} messages ok, latency (ms) p50 {:.1}  p95 {:.1}  p99 {:.1}",
                i.url,
                i.requests,
                i.server_errors,
                i.messages_ok,
                i.latency.p50_ms,
                i.latency.p95_ms,
                i.latency.p99_ms
            )?;
        }
    }
    writeln!(
        out,
        "history check   {} sessions read, {} mismatched",
        r.histories_checked,
        r.history_mismatches.len()
    )?;
    for m in r.history_mismatches.iter().take(10) {
        let stored = m
            .stored
            .map_or_else(|| "unreadable".to_owned(), |n| n.to_string());
        writeln!(
            out,
            "  session #{}: expected {} stored messages, found {stored}{}",
            m.session,
            m.expected,
            m.problem.map(|p| format!(": {p}")).unwrap_or_default()
        )?;
    }
    if r.history_mismatches.len() > 10 {
        writeln!(out, "  … and {} more", r.history_mismatches.len() - 10)?;
    }
    if r.hit_duration_limit {
        writeln!(out, "note            the time limit cut the run short")?;
    }
    if r.status_counts.contains_key("429") {
        writeln!(
            out,
            "note            the server rate-limited the run (429); for load tests start it with CBLN__RATE_LIMIT__ENABLED=false"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
