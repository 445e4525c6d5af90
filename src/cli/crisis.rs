//! `cbln crisis scan [--explain]`: one message per line on stdin, one JSON object per line out,
//! using the rules stored in the database — so operators can try a rule change before relying
//! on it.

use crate::startup::{LoadedConfig, connect_store};
use cbln_actors::crisis::CrisisDetector;
use cbln_actors::crisis_detector::compile_records;
use clap::Subcommand;
use std::io::{BufRead, Write};

/// Crisis tools.
#[derive(Debug, Subcommand)]
pub enum CrisisAction {
    /// Assess each line of stdin.
    Scan {
        /// Add the rule ids and the view each matched on.
        #[arg(long)]
        explain: bool,
        /// Use the built-in default rules instead of the database's.
        #[arg(long)]
        defaults: bool,
    },
}

/// Runs a crisis action.
pub async fn run(config: &LoadedConfig, action: CrisisAction) -> anyhow::Result<()> {
    let CrisisAction::Scan { explain, defaults } = action;
    let detector = if defaults {
        CrisisDetector::compile(&cbln_actors::crisis::default_rules())?
    } else {
        let store = connect_store(&config.settings).await?;
        let records = store.list_rules().await?;
        store.close().await;
        if records.is_empty() {
            anyhow::bail!("no crisis rules in the database: run `cbln seed` (or pass --defaults)");
        }
        compile_records(&records).map_err(anyhow::Error::msg)?
    };
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let json = if explain {
            serde_json::to_string(&detector.explain(&line))?
        } else {
            let assessment = detector.assess(&line);
            serde_json::to_string(&serde_json::json!({
                "is_crisis": assessment.is_crisis,
                "categories": assessment.categories,
                "severity": assessment.severity,
            }))?
        };
        writeln!(out, "{json}")?;
    }
    Ok(())
}
