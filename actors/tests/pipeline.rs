//! Drives the actor system without HTTP, on a real SQLite file: pipeline order, concurrency on
//! one session, overload, supervision, idle stop, the LRU cap, the crisis path, encryption at
//! rest, the janitor and rule reloads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{start_system, test_settings};

use cbln_actors::crypto::{MasterKey, TokenHash};
use cbln_actors::domain::{MessageText, Role};
use cbln_actors::error::PipelineError;
use cbln_actors::janitor::{ReloadRules, RunSweep, TakeSnapshot};
use cbln_actors::mailbox::AskError;
use cbln_actors::persistence::messages::Recycle;
use cbln_actors::persistence::{RuleRecord, Store};
use cbln_actors::responder::{BuiltInResponder, Responder};
use cbln_actors::session::{
    self, GetStatus, History, ListHistory, PostMessage, PostedMessage, StopSession,
};
use cbln_actors::session_registry::{CloseSession, CountLiveSessions, OpenSession, SessionHandle};
use cbln_actors::supervision::RestartPolicy;
use cbln_actors::system::{ActorSystem, ActorSystemSettings};
use cbln_actors::telemetry::ActorKind;
use futures_util::future::join_all;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

struct Harness {
    system: ActorSystem,
    store: Store,
    url: String,
    db_path: PathBuf,
    // Dropped last: the database file lives here.
    _dir: TempDir,
}

impl Harness {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(tweak: impl FnOnce(&mut ActorSystemSettings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("t.db");
        let url = format!("sqlite://{}", db_path.display());
        let mut settings = test_settings();
        tweak(&mut settings);
        let (system, store) = start_system(
            &url,
            MasterKey::generate(),
            Responder::BuiltIn(BuiltInResponder::new()),
            settings,
        )
        .await;
        Harness {
            system,
            store,
            url,
            db_path,
            _dir: dir,
        }
    }

    /// A second, independent pool on the same file, for inspecting and tampering behind the
    /// actors' backs.
    async fn side_pool(&self) -> SqlitePool {
        let options = SqliteConnectOptions::from_str(&self.url)
            .expect("url")
            .busy_timeout(Duration::from_secs(5));
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("side pool")
    }

    /// Creates a session and opens its actor: (token hash, handle).
    async fn new_session(&self) -> (TokenHash, SessionHandle) {
        let (token_hash, session_id) = support::create_session(&self.system).await;
        let handle = self.open(token_hash).await.expect("open session");
        assert_eq!(handle.session_id, session_id);
        (token_hash, handle)
    }

    async fn open(&self, token_hash: TokenHash) -> Result<SessionHandle, PipelineError> {
        self.system.registry.ask(OpenSession { token_hash }).await
    }

    async fn live_sessions(&self) -> usize {
        self.system
            .registry
            .ask(CountLiveSessions)
            .await
            .expect("count live")
    }

    /// The value of the series written exactly as `series` (name, then labels in the order the
    /// registry writes them); the HTTP tests check the exposition's well-formedness.
    fn metric(&self, series: &str) -> Option<f64> {
        let text = self.system.metrics.encode().expect("encode metrics");
        text.lines().find_map(|line| {
            let value = line.strip_prefix(series)?.strip_prefix(' ')?;
            value.split(' ').next()?.parse().ok()
        })
    }

    fn restarts(&self, actor: &str) -> f64 {
        self.metric(&format!("actor_restarts_total{{actor=\"{actor}\"}}"))
            .unwrap_or(0.0)
    }
}

/// A message as the HTTP edge would pass it inward.
fn text(raw: impl AsRef<str>) -> MessageText {
    MessageText::parse(raw.as_ref()).expect("a valid test message")
}

async fn post(handle: &SessionHandle, content: &str) -> PostedMessage {
    handle
        .mailbox
        .ask(PostMessage {
            content: text(content),
        })
        .await
        .unwrap_or_else(|e| panic!("posting {content:?} failed: {e}"))
}

async fn history(handle: &SessionHandle) -> History {
    handle
        .mailbox
        .ask(ListHistory {
            limit: 200,
            offset: 0,
        })
        .await
        .expect("history")
}

/// Polls `check` every 10 ms until it holds, failing after `deadline`.
async fn eventually<F, Fut>(what: &str, deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + deadline;
    loop {
        if check().await {
            return;
        }
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// (id, seq, role) of a session's stored messages in sequence order, read straight from the table.
async fn stored_order(pool: &SqlitePool, session_id: Uuid) -> Vec<(Uuid, i64, String)> {
    sqlx::query_as("SELECT id, seq, role FROM messages WHERE session_id = $1 ORDER BY seq")
        .bind(session_id)
        .fetch_all(pool)
        .await
        .expect("read messages")
}

async fn count(pool: &SqlitePool, sql: &'static str, id: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("count query")
}

/// Each table holding a session's data, with the query counting the session's rows in it.
const SESSION_TABLES: [(&str, &str); 4] = [
    ("sessions", "SELECT COUNT(*) FROM sessions WHERE id = $1"),
    (
        "session_keys",
        "SELECT COUNT(*) FROM session_keys WHERE session_id = $1",
    ),
    (
        "messages",
        "SELECT COUNT(*) FROM messages WHERE session_id = $1",
    ),
    (
        "conversation_context",
        "SELECT COUNT(*) FROM conversation_context WHERE session_id = $1",
    ),
];

/// How many rows of session `id` each of [`SESSION_TABLES`] holds.
async fn session_rows(pool: &SqlitePool, id: Uuid) -> BTreeMap<&'static str, i64> {
    let mut rows = BTreeMap::new();
    for (table, sql) in SESSION_TABLES {
        rows.insert(table, count(pool, sql, id).await);
    }
    rows
}

async fn assert_session_gone(pool: &SqlitePool, id: Uuid) {
    let rows = session_rows(pool, id).await;
    assert!(rows.values().all(|&n| n == 0), "rows left: {rows:?}");
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// 1. Pipeline order
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn messages_are_committed_in_order_user_before_reply() {
    let h = Harness::start().await;
    let (_, handle) = h.new_session().await;
    let contents: Vec<String> = (1..=5)
        .map(|i| format!("tin nhắn số {i}: hôm nay mình thấy hơi mệt"))
        .collect();
    let mut posted = Vec::new();
    for content in &contents {
        let reply = post(&handle, content).await;
        assert_eq!(
            reply.user_message.content.as_deref(),
            Some(content.as_str())
        );
        assert_eq!(reply.user_message.role, Role::User);
        assert_eq!(reply.ai_message.as_ref().unwrap().role, Role::Assistant);
        assert!(
            reply
                .ai_message
                .as_ref()
                .unwrap()
                .content
                .as_deref()
                .is_some_and(|c| !c.is_empty())
        );
        assert!(reply.crisis_info.is_none());
        posted.push(reply);
    }

    let hist = history(&handle).await;
    assert_eq!(hist.total_count, 10);
    assert_eq!(hist.messages.len(), 10);
    assert!(!hist.has_crisis_history);
    for (i, pair) in hist.messages.chunks(2).enumerate() {
        let (user, ai) = (&pair[0], &pair[1]);
        assert_eq!(user.role, Role::User, "message {} is the user's", 2 * i);
        assert_eq!(
            ai.role,
            Role::Assistant,
            "message {} is the reply",
            2 * i + 1
        );
        assert_eq!(user.content.as_deref(), Some(contents[i].as_str()));
        assert_eq!(user.id, posted[i].user_message.id);
        assert_eq!(ai.id, posted[i].ai_message.as_ref().unwrap().id);
        assert_eq!(ai.content, posted[i].ai_message.as_ref().unwrap().content);
        assert!(!user.integrity_error && !ai.integrity_error);
        // The user's message was committed before its reply was produced.
        assert!(user.created_at <= ai.created_at);
        assert!(user.processing_time_ms.is_none());
        assert!(ai.processing_time_ms.is_some_and(|ms| ms >= 0));
        assert!(ai.model_used.is_some());
    }
    for window in hist.messages.windows(2) {
        assert!(window[0].created_at <= window[1].created_at);
    }

    // The stored sequence numbers are strictly increasing in history order.
    let pool = h.side_pool().await;
    let stored = stored_order(&pool, handle.session_id).await;
    let history_ids: Vec<Uuid> = hist.messages.iter().map(|m| m.id).collect();
    let stored_ids: Vec<Uuid> = stored.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(history_ids, stored_ids);
    assert!(
        stored.windows(2).all(|w| w[0].1 < w[1].1),
        "seq strictly increasing: {stored:?}"
    );
    pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// 2. 50 concurrent sends to one session
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn fifty_concurrent_sends_to_one_session_lose_and_duplicate_nothing() {
    let h = Harness::start_with(|s| s.registry.session_mailbox_capacity = 64).await;
    let (_, handle) = h.new_session().await;
    let contents: Vec<String> = (0..50).map(|i| format!("đồng thời #{i:02}")).collect();
    let results = join_all(contents.iter().map(|content| {
        handle.mailbox.ask(PostMessage {
            content: text(content),
        })
    }))
    .await;
    let posted: Vec<PostedMessage> = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|e| panic!("send {i} failed: {e}")))
        .collect();

    let hist = history(&handle).await;
    assert_eq!(hist.total_count, 100);
    assert_eq!(hist.messages.len(), 100);
    let ids: HashSet<Uuid> = hist.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 100, "no duplicate messages");

    let mut seen_contents = HashSet::new();
    for pair in hist.messages.chunks(2) {
        let (user, ai) = (&pair[0], &pair[1]);
        assert_eq!(user.role, Role::User);
        assert_eq!(ai.role, Role::Assistant);
        let content = user.content.clone().expect("readable");
        assert!(
            seen_contents.insert(content.clone()),
            "{content} appears once"
        );
        // The reply right after a user message is that message's own reply.
        let own = posted
            .iter()
            .find(|p| p.user_message.id == user.id)
            .expect("every stored user message was acknowledged");
        assert_eq!(own.user_message.content.as_deref(), Some(content.as_str()));
        assert_eq!(
            own.ai_message.as_ref().unwrap().id,
            ai.id,
            "pairs are contiguous"
        );
    }
    let expected: HashSet<String> = contents.into_iter().collect();
    assert_eq!(seen_contents, expected);

    let pool = h.side_pool().await;
    let stored = stored_order(&pool, handle.session_id).await;
    assert_eq!(stored.len(), 100);
    assert!(stored.windows(2).all(|w| w[0].1 < w[1].1));
    pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// 3. A full mailbox answers overloaded
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn full_session_mailbox_answers_overloaded() {
    let h = Harness::start_with(|s| s.registry.session_mailbox_capacity = 1).await;
    let (_, handle) = h.new_session().await;
    let results = join_all((0..20).map(|i| {
        handle.mailbox.ask(PostMessage {
            content: text(format!("quá tải {i}")),
        })
    }))
    .await;

    let mut accepted = Vec::new();
    let mut overloaded: u32 = 0;
    for result in results {
        match result {
            Ok(posted) => accepted.push(posted),
            Err(PipelineError::Ask(AskError::Overloaded(actor))) => {
                assert_eq!(actor, "session");
                overloaded += 1;
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert!(overloaded >= 1, "at least one request refused");
    assert!(!accepted.is_empty(), "the first request gets through");
    assert_eq!(accepted.len() + overloaded as usize, 20);

    // Nothing acknowledged is missing, and nothing refused was stored.
    let hist = history(&handle).await;
    assert_eq!(hist.messages.len(), 2 * accepted.len());
    let stored: HashSet<Uuid> = hist.messages.iter().map(|m| m.id).collect();
    for posted in &accepted {
        assert!(stored.contains(&posted.user_message.id));
        assert!(stored.contains(&posted.ai_message.as_ref().unwrap().id));
    }

    let refused = h
        .metric(
            r#"actor_messages_total{actor="session",message="PostMessage",outcome="overloaded"}"#,
        )
        .expect("overloaded series exists");
    assert!(refused >= 1.0);
    assert_eq!(refused, f64::from(overloaded));
}

// ---------------------------------------------------------------------------------------------
// 4. Supervision
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn supervisor_restarts_persistence_without_losing_acknowledged_data() {
    let h = Harness::start().await;
    let (token_hash, handle) = h.new_session().await;
    let before = [
        post(&handle, "trước khi khởi động lại 1").await,
        post(&handle, "trước khi khởi động lại 2").await,
    ];
    assert_eq!(h.restarts("persistence"), 0.0);

    let _: () = h
        .system
        .persistence
        .ask(Recycle)
        .await
        .expect("recycle acknowledged");
    eventually("persistence restarted", Duration::from_secs(5), || async {
        h.restarts("persistence") >= 1.0
    })
    .await;
    assert!(h.system.persistence.connected());
    assert!(h.system.actors_healthy());
    assert!(h.system.database_healthy().await);

    let after = post(&handle, "sau khi khởi động lại").await;
    let hist = history(&handle).await;
    assert_eq!(hist.messages.len(), 6);
    let ids: Vec<Uuid> = hist.messages.iter().map(|m| m.id).collect();
    for posted in before.iter().chain(std::iter::once(&after)) {
        assert!(ids.contains(&posted.user_message.id));
        assert!(ids.contains(&posted.ai_message.as_ref().unwrap().id));
    }
    // A fresh session actor (which reloads its state through the restarted actor) sees it all.
    handle.mailbox.addr().do_send(StopSession);
    eventually("old actor stopped", Duration::from_secs(2), || async {
        !handle.mailbox.connected()
    })
    .await;
    let reopened = h.open(token_hash).await.expect("reopen");
    assert_eq!(history(&reopened).await.messages.len(), 6);

    assert_eq!(h.restarts("persistence"), 1.0);
    assert!(h.system.health.escalated().is_empty());
    assert!(!*h.system.health.shutdown_requested().borrow());
}

#[actix::test]
async fn restarts_beyond_the_budget_escalate_and_request_shutdown() {
    let max_restarts = 2;
    let h = Harness::start_with(|s| {
        s.restart_policy = RestartPolicy {
            max_restarts,
            within: Duration::from_secs(60),
        };
    })
    .await;
    let shutdown = h.system.health.shutdown_requested();
    for n in 1..=max_restarts + 1 {
        let _: () = h.system.persistence.ask(Recycle).await.expect("recycle");
        eventually("restart counted", Duration::from_secs(5), || async {
            h.restarts("persistence") >= f64::from(n)
        })
        .await;
        if n <= max_restarts {
            assert!(
                h.system.health.escalated().is_empty(),
                "restart {n} is within budget"
            );
            assert!(!*shutdown.borrow());
        }
    }
    assert_eq!(h.system.health.escalated(), vec![ActorKind::Persistence]);
    assert!(*shutdown.borrow());
    assert!(*h.system.health.shutdown_requested().borrow());
    assert!(!h.system.actors_healthy());
}

// ---------------------------------------------------------------------------------------------
// 5. Idle stop
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn idle_session_actor_stops_and_restarts_on_demand() {
    let h = Harness::start_with(|s| s.registry.idle_timeout = Duration::from_millis(200)).await;
    let (token_hash, handle) = h.new_session().await;
    let first = post(&handle, "rồi mình sẽ quay lại").await;

    eventually("idle session stopped", Duration::from_secs(5), || async {
        h.live_sessions().await == 0
    })
    .await;
    eventually(
        "idle actor disconnected",
        Duration::from_secs(2),
        || async { !handle.mailbox.connected() },
    )
    .await;

    // Every request opens its session first (as the front door does), which also keeps a
    // session in use from being stopped as idle between requests.
    let reopened = h.open(token_hash).await.expect("reopen after idle stop");
    assert_eq!(reopened.session_id, handle.session_id);
    assert_eq!(h.live_sessions().await, 1);
    let hist = history(&reopened).await;
    let ids: Vec<Uuid> = hist.messages.iter().map(|m| m.id).collect();
    assert_eq!(
        ids,
        vec![first.user_message.id, first.ai_message.as_ref().unwrap().id]
    );
    // The restarted actor continues the sequence rather than reusing it.
    let second = post(
        &h.open(token_hash).await.expect("open"),
        "mình quay lại rồi",
    )
    .await;
    let hist = history(&h.open(token_hash).await.expect("open")).await;
    assert_eq!(hist.messages.len(), 4);
    assert_eq!(hist.messages[2].id, second.user_message.id);
}

// ---------------------------------------------------------------------------------------------
// 6. LRU cap
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn live_cap_stops_the_least_recently_used_session() {
    let h = Harness::start_with(|s| s.registry.max_live = 2).await;
    let (hash_a, a) = h.new_session().await;
    post(&a, "A").await;
    let (hash_b, b) = h.new_session().await;
    post(&b, "B").await;
    assert_eq!(h.live_sessions().await, 2);

    // Touch A again (every request opens its session), so B becomes least recently used.
    let a_again = h.open(hash_a).await.expect("reopen A");
    assert_eq!(a_again.session_id, a.session_id);
    post(&a_again, "A lần nữa").await;

    let (_, c) = h.new_session().await;
    post(&c, "C").await;

    eventually("B stopped", Duration::from_secs(2), || async {
        !b.mailbox.connected()
    })
    .await;
    assert!(a.mailbox.connected(), "A was used more recently than B");
    assert!(
        a_again.mailbox.addr() == a.mailbox.addr(),
        "reopening A reused its actor"
    );
    assert!(c.mailbox.connected());
    assert_eq!(h.live_sessions().await, 2);

    // B comes back in a fresh actor with its history; A is now the least recently used, so it
    // is the one that goes, and C stays.
    let b_again = h.open(hash_b).await.expect("reopen B");
    assert_eq!(b_again.session_id, b.session_id);
    assert!(
        b_again.mailbox.addr() != b.mailbox.addr(),
        "the evicted B got a new actor"
    );
    assert_eq!(history(&b_again).await.messages.len(), 2);
    eventually("A stopped", Duration::from_secs(2), || async {
        !a.mailbox.connected()
    })
    .await;
    assert!(c.mailbox.connected(), "C was used more recently than A");
    assert!(b_again.mailbox.connected());
    assert_eq!(h.live_sessions().await, 2);
    eventually("actors_live gauge at 2", Duration::from_secs(2), || async {
        h.metric(r#"actors_live{actor="session"}"#) == Some(2.0)
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 7. Crisis path
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn crisis_message_gets_the_safety_protocol_and_sets_crisis_mode() {
    let h = Harness::start().await;
    let (token_hash, handle) = h.new_session().await;
    let posted = post(&handle, "mình muốn tự tử").await;
    let info = posted.crisis_info.as_ref().expect("crisis card");
    assert!(
        info.hotlines.iter().any(|line| line.number == "111"),
        "{:?}",
        info.hotlines
    );
    assert_eq!(
        posted.ai_message.as_ref().unwrap().model_used.as_deref(),
        Some(session::SAFETY_MODEL)
    );
    assert!(posted.user_message.is_crisis_detected);
    assert!(!posted.ai_message.as_ref().unwrap().is_crisis_detected);

    let status = handle.mailbox.ask(GetStatus).await.expect("status");
    assert!(status.is_crisis_mode);
    assert_eq!(status.message_count, 2);

    // "I feel better" is no concrete safety step: the crisis continues, with a check-in.
    let calm = post(&handle, "cảm ơn bạn, giờ mình thấy đỡ hơn rồi").await;
    assert!(calm.crisis_info.is_some());
    assert!(!calm.user_message.is_crisis_detected);
    assert_eq!(
        calm.ai_message.as_ref().unwrap().model_used.as_deref(),
        Some(session::SAFETY_MODEL)
    );
    // Someone with them is: crisis mode ends.
    let safe = post(&handle, "mẹ mình về rồi, mẹ đang ngồi cạnh mình").await;
    assert!(safe.crisis_info.is_none());
    assert_ne!(
        safe.ai_message.as_ref().unwrap().model_used.as_deref(),
        Some(session::SAFETY_MODEL)
    );
    let status = handle.mailbox.ask(GetStatus).await.expect("status");
    assert!(!status.is_crisis_mode);
    assert_eq!(status.risk, cbln_actors::crisis::RiskLevel::Elevated);
    let hist = history(&handle).await;
    assert!(hist.has_crisis_history);
    assert_eq!(hist.messages.len(), 6);
    assert!(hist.messages[0].is_crisis_detected);
    assert!(!hist.messages[2].is_crisis_detected);

    // The risk is durable: a fresh actor loads it from the database.
    handle.mailbox.addr().do_send(StopSession);
    eventually("old actor stopped", Duration::from_secs(2), || async {
        !handle.mailbox.connected()
    })
    .await;
    let reopened = h.open(token_hash).await.expect("reopen");
    let status = reopened.mailbox.ask(GetStatus).await.expect("status");
    assert_eq!(status.risk, cbln_actors::crisis::RiskLevel::Elevated);
    assert!(!status.is_crisis_mode);
}

// ---------------------------------------------------------------------------------------------
// 8. Encryption at rest
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn nothing_readable_at_rest_tampering_is_reported_and_deletion_shreds() {
    let h = Harness::start().await;
    let (token_hash, handle) = h.new_session().await;
    let marker = "Chim sẻ tím XQZ-7741 bay qua cầu Trường Tiền lúc nửa đêm";
    post(&handle, "chào bạn, mình đang buồn").await;
    let marked = post(&handle, marker).await;
    post(&handle, "mình sợ thi trượt").await;

    let pool = h.side_pool().await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .expect("checkpoint");
    let mut files = vec![h.db_path.clone()];
    for suffix in ["-wal", "-shm", "-journal"] {
        files.push(PathBuf::from(format!("{}{suffix}", h.db_path.display())));
    }
    let needles: [&[u8]; 3] = [marker.as_bytes(), b"XQZ-7741", "Trường Tiền".as_bytes()];
    let mut bytes_checked = 0;
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        bytes_checked += bytes.len();
        for needle in needles {
            assert!(
                !contains_bytes(&bytes, needle),
                "{} contains plaintext {:?}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(bytes_checked > 0);

    // Tamper with one byte of the marked message's ciphertext.
    let target = marked.user_message.id;
    let mut sealed: Vec<u8> = sqlx::query_scalar("SELECT content FROM messages WHERE id = $1")
        .bind(target)
        .fetch_one(&pool)
        .await
        .expect("stored ciphertext");
    assert!(!contains_bytes(&sealed, marker.as_bytes()));
    let middle = sealed.len() / 2;
    sealed[middle] ^= 0x01;
    let updated = sqlx::query("UPDATE messages SET content = $1 WHERE id = $2")
        .bind(&sealed)
        .bind(target)
        .execute(&pool)
        .await
        .expect("tamper");
    assert_eq!(updated.rows_affected(), 1);

    let hist = history(&handle).await;
    assert_eq!(hist.messages.len(), 6);
    for message in &hist.messages {
        if message.id == target {
            assert!(message.content.is_none());
            assert!(message.integrity_error);
        } else {
            assert!(
                message.content.is_some(),
                "untouched message {} readable",
                message.id
            );
            assert!(!message.integrity_error);
        }
    }

    // Deleting the session removes its wrapped key (crypto-shredding) and its data.
    let session_id = handle.session_id;
    assert_eq!(session_rows(&pool, session_id).await["session_keys"], 1);
    h.system
        .registry
        .ask(CloseSession { token_hash })
        .await
        .expect("close session");
    assert_session_gone(&pool, session_id).await;
    assert!(matches!(
        h.open(token_hash).await,
        Err(PipelineError::SessionNotFound)
    ));
    eventually(
        "closed session's actor stopped",
        Duration::from_secs(2),
        || async { !handle.mailbox.connected() },
    )
    .await;
    pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// 9. Janitor
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn janitor_sweeps_expired_sessions_and_records_snapshots() {
    let h = Harness::start().await;
    let (expired_hash, expired) = h.new_session().await;
    post(&expired, "phiên này sẽ hết hạn").await;
    let (kept_hash, kept) = h.new_session().await;
    post(&kept, "phiên này còn hạn").await;

    let pool = h.side_pool().await;
    let forced =
        sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = $1")
            .bind(expired.session_id)
            .execute(&pool)
            .await
            .expect("force expiry");
    assert_eq!(forced.rows_affected(), 1);

    let report = h.system.janitor.ask(RunSweep).await.expect("sweep");
    assert_eq!(report.sessions_deleted, 1);
    assert_session_gone(&pool, expired.session_id).await;
    // The live actor of the deleted session was told to stop.
    eventually(
        "expired session's actor stopped",
        Duration::from_secs(2),
        || async { !expired.mailbox.connected() },
    )
    .await;
    assert!(matches!(
        h.open(expired_hash).await,
        Err(PipelineError::SessionNotFound)
    ));

    // The other session is untouched.
    let kept_again = h.open(kept_hash).await.expect("kept session");
    assert_eq!(history(&kept_again).await.messages.len(), 2);
    assert_eq!(
        h.system
            .janitor
            .ask(RunSweep)
            .await
            .expect("sweep")
            .sessions_deleted,
        0
    );

    let snapshots = |pool: SqlitePool| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM system_health_metrics")
            .fetch_one(&pool)
            .await
            .expect("count snapshots")
    };
    assert_eq!(snapshots(pool.clone()).await, 0);
    let snapshot = h.system.janitor.ask(TakeSnapshot).await.expect("snapshot");
    assert_eq!(snapshots(pool.clone()).await, 1);
    assert_eq!(snapshot.active_sessions, 1);
    assert_eq!(snapshot.live_session_actors, 1);
    assert!(snapshot.database_bytes > 0);
    pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// 10. Rule reload
// ---------------------------------------------------------------------------------------------

#[actix::test]
async fn reloaded_rules_apply_to_the_next_message() {
    let h = Harness::start().await;
    let (_, handle) = h.new_session().await;
    let phrase = "mình muốn ăn quả táo độc";
    assert!(
        post(&handle, phrase).await.crisis_info.is_none(),
        "not a rule yet"
    );
    // Rules are loaded once, not queried per message: a new row alone changes nothing.
    h.store
        .insert_rule(&RuleRecord {
            rule_id: "test.poisoned_apple".to_owned(),
            pattern: "quả táo độc".to_owned(),
            category: "suicide".to_owned(),
            severity: Some("high".to_owned()),
            language: "vi".to_owned(),
            kind: "phrase".to_owned(),
            enabled: true,
        })
        .await
        .expect("insert rule");
    assert!(
        post(&handle, phrase).await.crisis_info.is_none(),
        "not reloaded yet"
    );

    assert!(h.system.janitor.ask(ReloadRules).await.expect("reload"));
    let posted = post(&handle, phrase).await;
    assert!(posted.crisis_info.is_some(), "the new rule is in force");
    assert!(posted.user_message.is_crisis_detected);
    assert_eq!(
        posted.ai_message.as_ref().unwrap().model_used.as_deref(),
        Some(session::SAFETY_MODEL)
    );
    assert!(
        !h.system
            .janitor
            .ask(ReloadRules)
            .await
            .expect("second reload")
    );
}

/// A commit that times out but lands later must not wedge the session: the next messages get
/// fresh sequence numbers and the late half-pair is retracted behind it in the writer queue.
#[actix::test]
async fn commit_timeout_leaves_session_usable() {
    let h = Harness::start_with(|s| s.stage_timeout = Duration::from_millis(300)).await;
    let (_, handle) = h.new_session().await;
    post(&handle, "trước").await;
    // Another writer holds the database's write lock for longer than the stage timeout.
    let pool = h.side_pool().await;
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .unwrap();
    let slow = handle
        .mailbox
        .ask(PostMessage {
            content: text("bị chặn"),
        })
        .await;
    assert!(
        matches!(
            slow,
            Err(PipelineError::Ask(AskError::Timeout("persistence")))
        ),
        "{:?}",
        slow.err()
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let next = handle
        .mailbox
        .ask(PostMessage {
            content: text("sau"),
        })
        .await;
    let again = handle
        .mailbox
        .ask(PostMessage {
            content: text("sau nữa"),
        })
        .await;
    assert!(next.is_ok(), "{:?}", next.err());
    assert!(again.is_ok(), "{:?}", again.err());
    let messages = history(&handle).await.messages;
    assert_eq!(messages.len(), 6, "the late half-pair was retracted");
    assert!(
        messages
            .iter()
            .all(|m| m.content.as_deref() != Some("bị chặn")),
        "the timed-out message is not left behind"
    );
}
