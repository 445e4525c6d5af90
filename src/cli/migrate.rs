//! `cbln migrate up|down [--steps N]|status`.

use crate::startup::{LoadedConfig, connect_store};
use clap::Subcommand;

/// What to do with migrations.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the newest applied migrations.
    Down {
        /// How many to revert.
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
    /// List migrations and whether each is applied.
    Status,
}

/// Runs the action and prints what happened.
pub async fn run(config: &LoadedConfig, action: MigrateAction) -> anyhow::Result<()> {
    let store = connect_store(&config.settings).await?;
    match action {
        MigrateAction::Up => {
            let applied = store.migrate_up().await?;
            println!(
                "applied {applied} migration(s) on {}",
                store.kind().as_str()
            );
        }
        MigrateAction::Down { steps } => {
            let reverted = store.migrate_down(steps).await?;
            println!(
                "reverted {reverted} migration(s) on {}",
                store.kind().as_str()
            );
        }
        MigrateAction::Status => {
            for migration in store.migration_status().await? {
                let state = if migration.applied {
                    "applied"
                } else {
                    "pending"
                };
                println!(
                    "{:>4}  {:<8}  {}",
                    migration.version, state, migration.description
                );
            }
            if let Some(version) = store.schema_version().await? {
                println!("schema_version: {version}");
            }
        }
    }
    store.close().await;
    Ok(())
}
