//! The load simulator against the real service: every acknowledged message and its reply are in
//! the history, every crisis message got its card (and later turns of a crisis too), and the run cleans up after itself.

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;
use cbln::simulate::{SimulateArgs, SimulationReport, run};
use std::time::Duration;

/// Runs the simulator with `args`: its report and what it printed.
pub(crate) async fn simulate(args: SimulateArgs) -> (SimulationReport, String) {
    let mut out = Vec::new();
    let report = run(args, &mut out)
        .await
        .unwrap_or_else(|e| panic!("simulation failed: {e:#}"));
    (report, String::from_utf8_lossy(&out).into_owned())
}

async fn simulator_drives_the_real_service(backend: Backend) {
    let app = spawn_app(backend).await;
    let args = SimulateArgs {
        urls: vec![app.address.clone()],
        sessions: 8,
        messages_per_session: 5,
        concurrency: 8,
        think_time: Duration::ZERO,
        crisis_ratio: 0.2,
        duration_limit: Some(Duration::from_secs(60)),
    };
    let (report, out) = simulate(args).await;
    assert_eq!(report.sessions_created, 8);
    assert_eq!(report.messages_ok, 40, "{out}");
    assert!(
        report.history_mismatches.is_empty(),
        "{:?}",
        report.history_mismatches
    );
    assert_eq!(report.crisis_messages_without_card, 0);
    // Later turns of a conversation in crisis carry the card too.
    assert!(report.crisis_cards >= report.crisis_messages_sent);
    assert_eq!(report.sessions_deleted, 8);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions").await,
        0,
        "the run left nothing behind"
    );
    app.stop().await;
}

on_both_backends!(simulator_drives_the_real_service);
