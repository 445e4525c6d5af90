//! `cbln keywords list|add|disable|enable|reload`: manage crisis rules. Running servers notice
//! any change within `janitor.rules_poll_interval_s` and recompile without a restart.

use super::UsageError;
use crate::startup::{LoadedConfig, connect_store};
use cbln_actors::crisis::{CrisisDetector, RuleKind, RuleSpec, Severity};
use cbln_actors::crisis_detector::{compile_records, records_from_specs, specs_from_records};
use cbln_actors::persistence::StoreError;
use clap::Subcommand;

/// Rule actions.
#[derive(Debug, Subcommand)]
pub enum KeywordsAction {
    /// List every rule.
    List {
        /// Also list disabled rules.
        #[arg(long)]
        all: bool,
    },
    /// Add a rule (validated, and the whole set must still compile).
    Add {
        /// Stable id, e.g. vi.suicide.my_phrase.
        #[arg(long)]
        id: String,
        /// The phrase.
        #[arg(long)]
        pattern: String,
        /// Category (suicide, self_harm, abuse, violence; for signals and exceptions their kind).
        #[arg(long)]
        category: String,
        /// medium | high | critical (phrases).
        #[arg(long)]
        severity: Option<String>,
        /// vi | en | any.
        #[arg(long, default_value = "vi")]
        language: String,
        /// phrase | exception | signal.
        #[arg(long, default_value = "phrase")]
        kind: String,
    },
    /// Disable a rule (kept, not compiled).
    Disable {
        /// Rule id.
        id: String,
    },
    /// Enable a disabled rule.
    Enable {
        /// Rule id.
        id: String,
    },
    /// Check that the stored rules compile and print their fingerprint.
    Reload,
}

/// Runs a rule action.
pub async fn run(config: &LoadedConfig, action: KeywordsAction) -> anyhow::Result<()> {
    let store = connect_store(&config.settings).await?;
    let result = run_with(&store, action).await;
    store.close().await;
    result
}

async fn run_with(
    store: &cbln_actors::persistence::Store,
    action: KeywordsAction,
) -> anyhow::Result<()> {
    match action {
        KeywordsAction::List { all } => {
            for rule in store
                .list_rules()
                .await?
                .into_iter()
                .filter(|r| all || r.enabled)
            {
                println!(
                    "{:<48} {:<9} {:<10} {:<8} {:<4} {:<8} {}",
                    rule.rule_id,
                    rule.kind,
                    rule.category,
                    rule.severity.as_deref().unwrap_or("-"),
                    rule.language,
                    if rule.enabled { "enabled" } else { "disabled" },
                    rule.pattern
                );
            }
        }
        KeywordsAction::Add {
            id,
            pattern,
            category,
            severity,
            language,
            kind,
        } => {
            let kind = RuleKind::parse(&kind).ok_or_else(|| {
                UsageError(format!(
                    "--kind must be phrase, exception or signal, not {kind:?}"
                ))
            })?;
            let severity = match severity {
                Some(text) => Some(Severity::parse(&text).ok_or_else(|| {
                    UsageError(format!(
                        "--severity must be medium, high or critical, not {text:?}"
                    ))
                })?),
                None => None,
            };
            let spec = RuleSpec {
                rule_id: id.clone(),
                pattern,
                category,
                severity,
                language,
                kind,
                enabled: true,
            };
            spec.validate()
                .map_err(|error| UsageError(format!("invalid rule: {error}")))?;
            let mut specs =
                specs_from_records(&store.list_rules().await?).map_err(anyhow::Error::msg)?;
            specs.push(spec.clone());
            CrisisDetector::compile(&specs)
                .map_err(|error| UsageError(format!("the rule set would not compile: {error}")))?;
            let records = records_from_specs(std::slice::from_ref(&spec));
            match store.insert_rule(&records[0]).await {
                Ok(()) => println!("added {id}"),
                Err(StoreError::Conflict) => {
                    return Err(UsageError(format!("a rule with id {id:?} exists")).into());
                }
                Err(error) => return Err(error.into()),
            }
        }
        KeywordsAction::Disable { id } | KeywordsAction::Enable { id } if id.is_empty() => {
            return Err(UsageError("a rule id is required".into()).into());
        }
        KeywordsAction::Disable { id } => set_enabled(store, &id, false).await?,
        KeywordsAction::Enable { id } => set_enabled(store, &id, true).await?,
        KeywordsAction::Reload => {
            let records = store.list_rules().await?;
            compile_records(&records).map_err(anyhow::Error::msg)?;
            println!(
                "{} rules compile; fingerprint {}; running servers pick changes up within their poll interval",
                records.len(),
                store.rules_fingerprint().await?
            );
        }
    }
    Ok(())
}

async fn set_enabled(
    store: &cbln_actors::persistence::Store,
    id: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    if !store.set_rule_enabled(id, enabled).await? {
        return Err(UsageError(format!("no rule with id {id:?}")).into());
    }
    println!("{} {id}", if enabled { "enabled" } else { "disabled" });
    Ok(())
}
