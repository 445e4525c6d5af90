//! SIGTERM on the real binary while PostgreSQL, behind the tests' own TCP proxy, stops answering
//! mid-request: the process still exits 0 within `server.shutdown_timeout_s`, without a panic.

use crate::fault_proxy::{FaultProxy, Mode};
use crate::helpers::{Backend, TestDatabase};
use crate::processes::{ServeProcess, open_session};
use serde_json::json;
use std::time::{Duration, Instant};

const DEADLINE_S: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_database_is_frozen_mid_request_exits_0_in_time() {
    sigterm_mid_request(Mode::Freeze).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_database_is_cut_mid_request_exits_0_in_time() {
    sigterm_mid_request(Mode::Cut).await;
}

async fn sigterm_mid_request(fault: Mode) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let proxy = FaultProxy::to_postgres().await;
    let database = TestDatabase::create(Backend::Postgres).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (key, secret) = (
        cbln_actors::crypto::MasterKey::generate().to_base64(),
        cbln_actors::crypto::generate_secret_key(),
    );
    let mut server = ServeProcess::start(
        dir.path(),
        &[
            ("DATABASE_URL", proxy.url_for(&database.url)),
            ("ENCRYPTION_KEY", key),
            ("SECRET_KEY", secret),
            ("CBLN__SERVER__SHUTDOWN_TIMEOUT_S", DEADLINE_S.to_string()),
            ("CBLN__RATE_LIMIT__ENABLED", "false".to_string()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let address = server.address.clone();

    let token = open_session(&client, &address).await;
    let send = |text: &'static str| {
        let (client, url, token) = (
            client.clone(),
            format!("{address}/api/v1/messages"),
            token.clone(),
        );
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"content": text}))
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .map(|response| response.status().as_u16())
        }
    };
    assert_eq!(send("xin chào").await.ok(), Some(201));

    let in_flight = if fault == Mode::Freeze {
        proxy.set(Mode::Freeze);
        let in_flight = tokio::spawn(send("mình đang chờ một chút"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            !in_flight.is_finished(),
            "the request is held by the frozen database"
        );
        in_flight
    } else {
        let in_flight = tokio::spawn(send("mình đang chờ một chút"));
        proxy.set(Mode::Cut);
        tokio::time::sleep(Duration::from_millis(200)).await;
        in_flight
    };

    server.signal("TERM");
    let sent = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(DEADLINE_S + 20), server.child.wait())
        .await
        .unwrap_or_else(|_| panic!("cbln still running {}s after SIGTERM", DEADLINE_S + 20))
        .expect("wait");
    let took = sent.elapsed();
    let stderr = server.stderr.await.expect("stderr reader");
    println!("SIGTERM with the database {fault:?}: exited {status} after {took:?}");
    assert!(
        !stderr.contains("panicked"),
        "a panic during shutdown:\n{stderr}"
    );
    assert_eq!(status.code(), Some(0), "exit status {status}\n{stderr}");
    assert!(
        took <= Duration::from_millis(DEADLINE_S * 1000 + 1500),
        "shutdown took {took:?}, past the {DEADLINE_S} s deadline"
    );
    // The held request got an answer or a closed connection, never a hang.
    let outcome = tokio::time::timeout(Duration::from_secs(5), in_flight).await;
    assert!(
        outcome.is_ok(),
        "the in-flight request still hangs after exit"
    );
    proxy.set(Mode::Forward);
}

#[actix_web::test]
async fn an_escalation_stops_the_server_with_an_error() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let data_dir = tempfile::tempdir().expect("data dir");
    let config = cbln::startup::LoadedConfig {
        environment: cbln::config::Environment::Test,
        settings: crate::helpers::test_settings(&database.url, data_dir.path()),
        config_dir: crate::helpers::config_dir(),
    };
    let application = cbln::startup::Application::build(config)
        .await
        .expect("application builds");
    let system = application.system();
    let running = actix_web::rt::spawn(application.run_until_stopped());
    system
        .health
        .escalate(cbln_actors::telemetry::ActorKind::Persistence);
    let outcome = tokio::time::timeout(Duration::from_secs(15), running)
        .await
        .expect("the server stops after an escalation")
        .expect("server task");
    let error = outcome.expect_err("an escalation is a failed run (non-zero exit)");
    assert!(
        error.to_string().contains("restart budget") && error.to_string().contains("persistence"),
        "{error}"
    );
}
