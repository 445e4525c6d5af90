//! Two actor systems (two instances) on one database, with no session affinity: the database
//! serialises a session's writes, so neither instance's cache can collide with or hide the
//! other's turns; and every stored user message is answered, even when its reply failed or its
//! instance died before answering. Real PostgreSQL (required) and a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use cbln_actors::crisis::parse_hotlines;
use cbln_actors::crypto::{MasterKey, TokenHash};
use cbln_actors::domain::{MessageText, Role};
use cbln_actors::error::PipelineError;
use cbln_actors::janitor::AnswerOrphans;
use cbln_actors::persistence::{Store, StoredMessage, Timestamp, WriteOp};
use cbln_actors::responder::{BuiltInResponder, OpenAiResponder, OpenAiSettings, Responder};
use cbln_actors::session::{
    ChatMessage, ListHistory, PostMessage, PostMessageStreaming, PostedMessage, RECOVERY_GRACE,
    SAFETY_MODEL, StreamEvent,
};
use cbln_actors::session_registry::{OpenSession, SessionHandle};
use cbln_actors::system::{ActorSystem, ActorSystemSettings};
use std::time::Duration;
use support::database::Database;
use support::on_both_databases;
use uuid::Uuid;

const CONTEXT_TURNS: usize = 10;

fn settings() -> ActorSystemSettings {
    ActorSystemSettings {
        encryptor_threads: 1,
        context_turns: CONTEXT_TURNS,
        ..support::test_settings()
    }
}

/// One instance: its own pool and actor system, sharing keys with the others.
struct Instance {
    system: ActorSystem,
    store: Store,
}

/// An instance answering with the built-in listener.
async fn instance(url: &str, master: &MasterKey) -> Instance {
    instance_with(
        url,
        master,
        Responder::BuiltIn(BuiltInResponder::new()),
        |_| {},
    )
    .await
}

async fn instance_with(
    url: &str,
    master: &MasterKey,
    responder: Responder,
    tweak: impl FnOnce(&mut ActorSystemSettings),
) -> Instance {
    let mut settings = settings();
    tweak(&mut settings);
    let (system, store) = support::start_system(url, master.clone(), responder, settings).await;
    Instance { system, store }
}

impl Instance {
    async fn create(&self) -> (TokenHash, Uuid) {
        support::create_session(&self.system).await
    }

    async fn open(&self, token_hash: TokenHash) -> SessionHandle {
        self.system
            .registry
            .ask(OpenSession { token_hash })
            .await
            .expect("open session")
    }

    /// Posts `content` to the session through this instance.
    async fn post(
        &self,
        token_hash: TokenHash,
        content: &str,
    ) -> Result<PostedMessage, PipelineError> {
        self.open(token_hash)
            .await
            .mailbox
            .ask(PostMessage {
                content: text(content),
            })
            .await
    }

    async fn history(&self, token_hash: TokenHash) -> Vec<ChatMessage> {
        self.open(token_hash)
            .await
            .mailbox
            .ask(ListHistory {
                limit: 500,
                offset: 0,
            })
            .await
            .expect("history")
            .messages
    }
}

fn text(raw: &str) -> MessageText {
    MessageText::parse(raw).expect("a valid message")
}

/// (role, content) of a history, for exact comparison.
fn roles_and_texts(history: &[ChatMessage]) -> Vec<(Role, Option<String>)> {
    history
        .iter()
        .map(|m| (m.role, m.content.clone()))
        .collect()
}

async fn alternate_between_two_instances(database: Database) {
    let master = MasterKey::generate();
    let a = instance(&database.url, &master).await;
    let b = instance(&database.url, &master).await;
    let (token, session_id) = a.create().await;
    let mut sent = Vec::new();
    for i in 0..12 {
        let (this, name) = if i % 2 == 0 { (&a, "a") } else { (&b, "b") };
        let content = format!("lượt {i} qua {name}");
        // Both instances keep their session actor alive between turns: each must notice the
        // other's writes rather than trust its copy.
        let posted = this
            .post(token, &content)
            .await
            .unwrap_or_else(|e| panic!("turn {i} on {name} failed: {e}"));
        assert_eq!(
            posted.user_message.content.as_deref(),
            Some(content.as_str())
        );
        sent.push((content, posted.ai_message.as_ref().unwrap().content.clone()));
        let context = a
            .store
            .load_context(session_id)
            .await
            .expect("context")
            .expect("a context after a reply");
        assert_eq!(
            context.turn_count as usize,
            (2 * (i + 1)).min(CONTEXT_TURNS),
            "turn {i} on {name}: the context holds the other instance's turns too"
        );
    }
    let expected: Vec<(Role, Option<String>)> = sent
        .into_iter()
        .flat_map(|(user, reply)| [(Role::User, Some(user)), (Role::Assistant, reply)])
        .collect();
    for (who, instance) in [("a", &a), ("b", &b)] {
        assert_eq!(
            roles_and_texts(&instance.history(token).await),
            expected,
            "history read through {who} is exact and in order"
        );
    }
    let seqs: Vec<i64> = a
        .store
        .list_messages(session_id, 500, 0)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(
        seqs,
        (1..=24).collect::<Vec<i64>>(),
        "no sequence number collides or is lost"
    );

    // A crisis told to one instance is the conversation's state on the other.
    let crisis = a
        .post(token, "mình không muốn sống nữa, mình định tự tử tối nay")
        .await
        .expect("crisis turn");
    assert_eq!(
        crisis.ai_message.as_ref().unwrap().model_used.as_deref(),
        Some(SAFETY_MODEL)
    );
    let next = b.post(token, "ừ").await.expect("turn after the crisis");
    assert_eq!(
        next.ai_message.as_ref().unwrap().model_used.as_deref(),
        Some(SAFETY_MODEL),
        "the other instance sees the crisis and keeps to the safety protocol"
    );
    assert!(next.crisis_info.is_some());
    a.system.shutdown().await;
    b.system.shutdown().await;
    database.drop().await;
}

/// Concurrent posts to one session from two instances at once: each either commits or is
/// prepared again; none is answered with an error, none is lost or duplicated.
#[actix::test]
async fn concurrent_posts_from_two_instances_to_one_session_all_commit() {
    let database = Database::postgres().await;
    let master = MasterKey::generate();
    let a = instance(&database.url, &master).await;
    let b = instance(&database.url, &master).await;
    let (token, session_id) = a.create().await;
    let (ha, hb) = (a.open(token).await, b.open(token).await);
    let mut asks = Vec::new();
    for i in 0..8 {
        for (handle, name) in [(&ha, "a"), (&hb, "b")] {
            let mailbox = handle.mailbox.clone();
            let content = format!("cùng lúc {i} {name}");
            asks.push(async move {
                mailbox
                    .ask(PostMessage {
                        content: text(&content),
                    })
                    .await
                    .map_err(|e| format!("{content}: {e}"))
            });
        }
    }
    let results = futures_util::future::join_all(asks).await;
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    let stored = a.store.list_messages(session_id, 500, 0).await.unwrap();
    assert_eq!(stored.len(), 32);
    for pair in stored.chunks(2) {
        assert_eq!(pair[0].role, Role::User);
        assert_eq!(pair[1].role, Role::Assistant);
        assert_eq!(
            pair[1].seq,
            pair[0].seq + 1,
            "each reply follows its message"
        );
    }
    let context = a.store.load_context(session_id).await.unwrap().unwrap();
    assert_eq!(context.turn_count as usize, CONTEXT_TURNS);
    a.system.shutdown().await;
    b.system.shutdown().await;
    database.drop().await;
}

/// Leaves `orphan_text` in the session as an instance that died mid-reply would: its user
/// message, sealed as the pipeline seals it, committed `age` ago, with no reply.
async fn leave_orphan(
    instance: &Instance,
    token: TokenHash,
    session_id: Uuid,
    orphan_text: &str,
    age: Duration,
) {
    let posted = instance
        .post(token, orphan_text)
        .await
        .expect("a turn to take the sealed message from");
    // Keep the sealed user message, drop the pair, and put the message back alone.
    let sealed = instance
        .store
        .get_message(session_id, posted.user_message.id)
        .await
        .unwrap()
        .unwrap();
    instance
        .store
        .apply_writes(&[WriteOp::Retract {
            session_id,
            ids: vec![
                posted.user_message.id,
                posted.ai_message.as_ref().unwrap().id,
            ],
        }])
        .await
        .unwrap();
    let (_, outcomes) = instance
        .store
        .apply_writes(&[WriteOp::UserMessage {
            message: StoredMessage {
                created_at: Timestamp::now().minus(age),
                ..sealed
            },
            risk_change: None,
            expected_version: None,
        }])
        .await
        .unwrap();
    assert!(outcomes[0].is_ok());
}

/// An instance that died after committing a user message and before its reply (the half a
/// streamed reply commits first): another instance answers it exactly once, when it loads the
/// session, with the built-in listener.
async fn a_message_left_by_a_dead_instance_is_answered_once(database: Database) {
    let master = MasterKey::generate();
    let a = instance(&database.url, &master).await;
    let (token, session_id) = a.create().await;
    let first = a
        .post(token, "trước khi mất điện")
        .await
        .expect("first turn");
    let orphan_text = "tin nhắn không ai trả lời";
    leave_orphan(
        &a,
        token,
        session_id,
        orphan_text,
        RECOVERY_GRACE + Duration::from_secs(5),
    )
    .await;
    a.system.shutdown().await;

    let b = instance(&database.url, &master).await;
    let c = instance(&database.url, &master).await;
    let history = b.history(token).await;
    let roles: Vec<Role> = history.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        vec![Role::User, Role::Assistant, Role::User, Role::Assistant],
        "the orphan got its answer"
    );
    assert_eq!(history[0].id, first.user_message.id);
    assert_eq!(history[2].content.as_deref(), Some(orphan_text));
    assert_eq!(
        history[3].model_used.as_deref(),
        Some(cbln_actors::responder::BUILTIN_MODEL)
    );
    // A third instance loading the session later does not answer it again.
    let later = c.history(token).await;
    assert_eq!(roles_and_texts(&later), roles_and_texts(&history));
    let next = c.post(token, "sau đó").await.expect("the session goes on");
    assert!(next.ai_message.as_ref().unwrap().content.is_some());
    assert_eq!(c.history(token).await.len(), 6);
    b.system.shutdown().await;
    c.system.shutdown().await;
    database.drop().await;
}

/// The janitor answers a message left without a reply once it is past the grace period, though
/// nobody reopens its session and no actor of it is live; a newer one it leaves to its own
/// instance for now.
async fn the_janitor_answers_an_orphan_nobody_reopens(database: Database) {
    let master = MasterKey::generate();
    let a = instance(&database.url, &master).await;
    let (token, session_id) = a.create().await;
    a.post(token, "trước khi mất điện")
        .await
        .expect("first turn");
    leave_orphan(
        &a,
        token,
        session_id,
        "không ai mở lại phiên này",
        RECOVERY_GRACE + Duration::from_secs(5),
    )
    .await;
    let (recent_token, recent_id) = a.create().await;
    leave_orphan(
        &a,
        recent_token,
        recent_id,
        "vừa mới gửi xong",
        Duration::ZERO,
    )
    .await;
    a.system.shutdown().await;

    let b = instance(&database.url, &master).await;
    let handed_over = b.system.janitor.ask(AnswerOrphans).await.expect("sweep");
    assert_eq!(handed_over, 1, "only the orphan past the grace period");
    let stored = b.store.list_messages(session_id, 10, 0).await.unwrap();
    let roles: Vec<Role> = stored.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        vec![Role::User, Role::Assistant, Role::User, Role::Assistant],
        "the orphan got its answer without anyone opening the session"
    );
    assert_eq!(stored[3].seq, stored[2].seq + 1);
    assert_eq!(
        stored[3].model_used.as_deref(),
        Some(cbln_actors::responder::BUILTIN_MODEL)
    );
    assert!(
        b.store
            .awaiting_messages(session_id, Timestamp::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        b.store
            .awaiting_messages(recent_id, Timestamp::now())
            .await
            .unwrap()
            .len(),
        1,
        "a message within the grace period may still be answered by its own instance"
    );
    // Answered once: a second sweep finds nothing, and the history shows one answer.
    assert_eq!(b.system.janitor.ask(AnswerOrphans).await.expect("sweep"), 0);
    assert_eq!(b.history(token).await.len(), 4);
    b.system.shutdown().await;
    database.drop().await;
}

/// A streamed reply that fails after its user message was committed (the provider takes longer
/// than the stage allows): the session's next use answers that message first, exactly once, and
/// the next message follows it.
#[actix::test]
async fn a_streamed_reply_that_fails_is_answered_at_the_next_use() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let responder = Responder::OpenAi(
        OpenAiResponder::new(OpenAiSettings {
            base_url: format!("{}/v1", server.uri()),
            model: "test-model".to_owned(),
            api_key: None,
            timeout: Duration::from_secs(10),
            max_tokens: 180,
            temperature: 0.6,
            context_turns: 3,
            hotlines: parse_hotlines(include_str!("../../config/hotlines.toml")).unwrap(),
        })
        .expect("valid settings"),
    );
    let database = Database::postgres().await;
    let master = MasterKey::generate();
    let a = instance_with(&database.url, &master, responder, |s| {
        s.stage_timeout = Duration::from_millis(800);
    })
    .await;
    let (token, session_id) = a.create().await;
    let handle = a.open(token).await;
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let _ = handle
        .mailbox
        .ask(PostMessageStreaming {
            content: "lần này trả lời chậm".to_string(),
            events,
        })
        .await;
    let mut accepted = false;
    let mut failed = false;
    while let Some(event) = received.recv().await {
        match event {
            StreamEvent::Accepted { .. } => accepted = true,
            StreamEvent::Failed(_) => failed = true,
            _ => {}
        }
    }
    assert!(accepted && failed, "accepted {accepted}, failed {failed}");
    let stored = a.store.list_messages(session_id, 50, 0).await.unwrap();
    assert_eq!(
        stored.len(),
        1,
        "the user's message stays, awaiting its answer"
    );

    let history = a.history(token).await;
    let roles: Vec<Role> = history.iter().map(|m| m.role).collect();
    assert_eq!(roles, vec![Role::User, Role::Assistant]);
    assert_eq!(
        history[1].model_used.as_deref(),
        Some(cbln_actors::responder::BUILTIN_MODEL),
        "answered by the built-in listener"
    );
    let stored = a.store.list_messages(session_id, 50, 0).await.unwrap();
    assert_eq!(stored[1].seq, stored[0].seq + 1);
    assert_eq!(a.history(token).await.len(), 2, "answered exactly once");
    a.system.shutdown().await;
    database.drop().await;
}

on_both_databases!(
    actix::test;
    alternate_between_two_instances,
    a_message_left_by_a_dead_instance_is_answered_once,
    the_janitor_answers_an_orphan_nobody_reopens,
);
