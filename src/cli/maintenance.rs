//! `cbln seed`, `reset`, `cleanup`, `check-storage` and `simulate`.

use super::{SimulateCli, UsageError};
use crate::config::Environment;
use crate::startup::{LoadedConfig, connect_store, prepare, start_actor_system};
use cbln_actors::crisis::default_rules;
use cbln_actors::crisis_detector::records_from_specs;
use cbln_actors::janitor::RunSweep;
use cbln_actors::persistence::Timestamp;
use cbln_actors::telemetry::Metrics;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

/// Inserts the default crisis rules that are missing.
pub async fn seed(config: &LoadedConfig) -> anyhow::Result<()> {
    let store = connect_store(&config.settings).await?;
    store.migrate_up().await?;
    let inserted = store
        .insert_missing_rules(&records_from_specs(&default_rules()))
        .await?;
    println!(
        "inserted {inserted} crisis rule(s); {} total",
        store.list_rules().await?.len()
    );
    store.close().await;
    Ok(())
}

/// Deletes every row of every table, with the confirmations the command promises.
pub async fn reset(config: &LoadedConfig, yes: bool, force_production: bool) -> anyhow::Result<()> {
    if config.environment == Environment::Production && !force_production {
        return Err(UsageError(
            "refusing to reset a production database without --force-production".into(),
        )
        .into());
    }
    if !yes {
        return Err(UsageError("reset deletes ALL data; pass --yes to confirm".into()).into());
    }
    if std::io::stdin().is_terminal() {
        print!("Type DELETE EVERYTHING to confirm: ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "DELETE EVERYTHING" {
            return Err(UsageError("not confirmed; nothing was deleted".into()).into());
        }
    }
    let store = connect_store(&config.settings).await?;
    for (table, rows) in store.reset_all_data().await? {
        println!("{table:<24} {rows} row(s) deleted");
    }
    store.close().await;
    Ok(())
}

/// Runs one janitor sweep through the real janitor actor.
pub async fn cleanup(config: &LoadedConfig) -> anyhow::Result<()> {
    let prepared = prepare(config)?;
    let store = connect_store(&config.settings).await?;
    store.migrate_up().await?;
    let system =
        start_actor_system(config, prepared, store.clone(), Metrics::disabled(), false).await?;
    let report = system.janitor.ask(RunSweep).await?;
    system.shutdown().await;
    store.close().await;
    println!(
        "deleted {} expired session(s), {} old health snapshot(s), {} idempotency key(s) and {} \
         staff token(s); shredded {} ended handoff(s)",
        report.sessions_deleted,
        report.health_snapshots_deleted,
        report.idempotency_keys_deleted,
        report.staff_tokens_deleted,
        report.handoffs_shredded
    );
    Ok(())
}

/// Prints the storage report.
pub async fn check_storage(config: &LoadedConfig) -> anyhow::Result<()> {
    let store = connect_store(&config.settings).await?;
    store.ping().await?;
    println!("database: reachable ({})", store.kind().as_str());
    let migrations = store.migration_status().await?;
    let pending = migrations.iter().filter(|m| !m.applied).count();
    println!(
        "migrations: {} applied, {pending} pending",
        migrations.len() - pending
    );
    if pending > 0 {
        println!("run `cbln migrate up` to apply them");
        store.close().await;
        return Ok(());
    }
    let report = store.storage_report(Timestamp::now()).await?;
    println!("database size: {} bytes", report.database_bytes);
    for (table, rows) in &report.table_rows {
        println!("  {table:<24} {rows}");
    }
    match report.oldest_session {
        Some(at) => println!("oldest session: created {at}"),
        None => println!("oldest session: none"),
    }
    println!(
        "sessions past expiry not yet deleted: {}",
        report.expired_pending
    );
    store.close().await;
    Ok(())
}

/// Runs the load simulator.
pub fn simulate(options: &SimulateCli) -> anyhow::Result<()> {
    let args = crate::simulate::SimulateArgs {
        urls: options.urls.clone(),
        sessions: options.sessions,
        messages_per_session: options.messages,
        concurrency: options.concurrency,
        think_time: Duration::from_millis(options.think_ms),
        crisis_ratio: options.crisis_ratio,
        duration_limit: options.max_seconds.map(Duration::from_secs),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(crate::simulate::run(args, &mut std::io::stdout()))?;
    if options.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
