//! `cbln crisis …`: try the layered detector on messages (`scan`), measure it on labelled data
//! (`eval`) and retrain its learned layer from the corpus (`train`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cbln_actors::crisis::corpus::Corpus;
use cbln_actors::crisis::evaluation::{MessageReport, TurnReport};
use cbln_actors::crisis::model::training::{TrainingOptions, train};
use cbln_actors::crisis::model::{Combination, StepSource};
use cbln_actors::crisis::{
    CrisisDetector, Layers, RiskLevel, RiskModel, default_rules, parse_seed_rules,
};
use cbln_actors::crisis_detector::compile_records;
use clap::Subcommand;

use crate::startup::{LoadedConfig, connect_store, load_risk_model};

/// Crisis tools.
#[derive(Debug, Subcommand)]
pub enum CrisisAction {
    /// Judge each line of stdin with the rules and the learned model; one JSON object per line.
    Scan {
        /// Name the rules that matched and the strongest model features behind the verdict.
        #[arg(long)]
        explain: bool,
        /// Use the built-in default rules instead of the database's.
        #[arg(long)]
        defaults: bool,
        /// Read the lines as one conversation: each is judged after the ones before it.
        #[arg(long)]
        conversation: bool,
        /// A rules file in the format of content/crisis-rules.toml instead of the database's.
        #[arg(long, conflicts_with = "defaults")]
        rules: Option<PathBuf>,
    },
    /// Recall and false-positive rate on labelled files (taxonomy format), per category, per hard
    /// negative kind, per typing style and turn by turn over conversations.
    Eval {
        /// Files or folders of `.tsv` messages and `.jsonl` conversations.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A model file to evaluate instead of the configured one.
        #[arg(long)]
        model: Option<PathBuf>,
        /// A rules file in the format of content/crisis-rules.toml instead of the built-in rules
        /// (the rules the model was trained with).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Train the learned layer on the corpus with the built-in rules or a rules file (deterministic).
    Train {
        /// The training corpus.
        #[arg(long, default_value = "corpus/crisis/train")]
        corpus: PathBuf,
        /// Where to write the model.
        #[arg(long, default_value = "models/crisis-risk.bin")]
        out: PathBuf,
        /// A rules file in the format of content/crisis-rules.toml instead of the built-in rules.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// How to train.
        #[command(flatten)]
        options: TrainArgs,
    },
}

/// Training settings (the defaults are the ones the shipped model was trained with).
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Shuffling seed.
    #[arg(long, default_value_t = TrainingOptions::default().seed)]
    seed: u64,
    /// Passes over the data.
    #[arg(long, default_value_t = TrainingOptions::default().epochs)]
    epochs: u32,
    /// Cross-validated false-positive rate the thresholds may spend.
    #[arg(long, default_value_t = TrainingOptions::default().fpr_budget)]
    fpr_budget: f64,
    /// AdaGrad's base learning rate.
    #[arg(long, default_value_t = TrainingOptions::default().learning_rate)]
    learning_rate: f32,
    /// L2 penalty per update.
    #[arg(long, default_value_t = TrainingOptions::default().l2)]
    l2: f32,
    /// Hash width (2^bits features per category; 18 keeps the file under 4 MiB).
    #[arg(long, default_value_t = TrainingOptions::default().bits)]
    bits: u32,
    /// Cross-validated share of continuing crises a misread safety step may end (0: no step head).
    #[arg(long, default_value_t = TrainingOptions::default().step_budget)]
    step_budget: f64,
}

impl TrainArgs {
    fn options(&self) -> anyhow::Result<TrainingOptions> {
        if !(10..=22).contains(&self.bits) {
            anyhow::bail!("--bits must be between 10 and 22");
        }
        if !(0.0..=1.0).contains(&self.step_budget) {
            anyhow::bail!("--step-budget must be between 0 and 1");
        }
        Ok(TrainingOptions {
            seed: self.seed,
            epochs: self.epochs,
            fpr_budget: self.fpr_budget,
            learning_rate: self.learning_rate,
            l2: self.l2,
            bits: self.bits,
            step_budget: self.step_budget,
            ..TrainingOptions::default()
        })
    }
}

/// Runs a crisis action.
pub async fn run(config: &LoadedConfig, action: CrisisAction) -> anyhow::Result<()> {
    match action {
        CrisisAction::Scan {
            explain,
            defaults,
            conversation,
            rules,
        } => {
            let rules = match rules {
                Some(path) => rules_file(&path)?,
                None => load_rules(config, defaults).await?,
            };
            let model = load_risk_model(&config.settings)?;
            scan(
                Layers {
                    rules: &rules,
                    model: &model,
                },
                explain,
                conversation,
            )
        }
        CrisisAction::Eval {
            paths,
            model,
            rules,
        } => {
            let rules = built_in_or_file(rules.as_deref())?;
            let model = match model {
                Some(path) => read_model(&path)?,
                None => load_risk_model(&config.settings)?,
            };
            let mut corpus = Corpus::default();
            for path in &paths {
                corpus.extend(Corpus::load(path)?);
            }
            let layers = Layers {
                rules: &rules,
                model: &model,
            };
            let mut out = std::io::stdout().lock();
            if !corpus.messages.is_empty() {
                writeln!(out, "single messages ({})", corpus.messages.len())?;
                write!(
                    out,
                    "{}",
                    MessageReport::judge(&corpus.messages, layers).render()
                )?;
            }
            if !corpus.conversations.is_empty() {
                writeln!(
                    out,
                    "conversation turns ({} conversations)",
                    corpus.conversations.len()
                )?;
                write!(
                    out,
                    "{}",
                    TurnReport::judge(&corpus.conversations, layers).render()
                )?;
            }
            Ok(())
        }
        CrisisAction::Train {
            corpus,
            out,
            rules,
            options,
        } => {
            let options = options.options()?;
            let rules = built_in_or_file(rules.as_deref())?;
            train_to(&corpus, &rules, &out, &options)
        }
    }
}

async fn load_rules(config: &LoadedConfig, defaults: bool) -> anyhow::Result<CrisisDetector> {
    if defaults {
        return Ok(CrisisDetector::compile(&default_rules())?);
    }
    let store = connect_store(&config.settings).await?;
    let records = store.list_rules().await?;
    store.close().await;
    if records.is_empty() {
        anyhow::bail!("no crisis rules in the database: run `cbln seed` (or pass --defaults)");
    }
    compile_records(&records).map_err(anyhow::Error::msg)
}

/// The built-in rules, or an operator's rules file.
fn built_in_or_file(path: Option<&Path>) -> anyhow::Result<CrisisDetector> {
    match path {
        Some(path) => rules_file(path),
        None => Ok(CrisisDetector::compile(&default_rules())?),
    }
}

fn rules_file(path: &Path) -> anyhow::Result<CrisisDetector> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let specs = parse_seed_rules(&text).with_context(|| format!("{}", path.display()))?;
    CrisisDetector::compile(&specs).with_context(|| format!("{}", path.display()))
}

fn read_model(path: &Path) -> anyhow::Result<RiskModel> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    RiskModel::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

fn scan(layers: Layers<'_>, explain: bool, conversation: bool) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut earlier: Vec<String> = Vec::new();
    let mut risk = cbln_actors::crisis::ConversationRisk::default();
    for line in stdin.lock().lines() {
        let line = line?;
        let prior = if conversation {
            risk.level
        } else {
            RiskLevel::None
        };
        let explained = layers.explain(&line, &earlier, prior);
        let judgement = &explained.judgement;
        let mut json = serde_json::json!({
            "is_crisis": judgement.assessment.is_crisis,
            "categories": judgement.assessment.categories,
            "severity": judgement.assessment.severity,
            "level": judgement.level,
        });
        if conversation {
            risk = risk.advance(judgement, false).0;
            json["conversation_risk"] = serde_json::json!(risk.level);
            json["crisis_support"] = serde_json::json!(risk.shows_crisis_support());
            earlier.push(line.clone());
        }
        if explain {
            let classes = layers.model.classes();
            json["model"] = serde_json::json!({
                "decided": judgement.by_model,
                "probabilities": classes.iter().zip(&judgement.scores.probabilities)
                    .map(|(c, p)| (c.as_str(), *p)).collect::<std::collections::BTreeMap<_, _>>(),
                "thresholds": classes.iter().zip(layers.model.thresholds())
                    .map(|(c, t)| (c.as_str(), *t)).collect::<std::collections::BTreeMap<_, _>>(),
                "strongest_features": explained.top_features,
                "step_probability": explained.step_probability,
                "step_threshold": layers.model.step_threshold(),
            });
            json["safety_step"] = serde_json::json!(judgement.safety_step.is_some());
            json["step_source"] =
                serde_json::json!(judgement.safety_step.map(|source| match source {
                    StepSource::Rules => "rules",
                    StepSource::Head => "head",
                }));
            json["rule_ids"] = serde_json::json!(judgement.assessment.rule_ids);
            json["rules"] = serde_json::to_value(&explained.rules.hits)?;
        }
        writeln!(out, "{json}")?;
    }
    Ok(())
}

fn train_to(
    corpus_dir: &Path,
    rules: &CrisisDetector,
    out: &Path,
    options: &TrainingOptions,
) -> anyhow::Result<()> {
    let corpus = Corpus::load(corpus_dir)?;
    let started = std::time::Instant::now();
    let (model, report) = train(&corpus, rules, options);
    std::fs::write(out, model.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "trained on {} examples ({} messages, {} conversations) from {} writers in {:.1} s",
        report.examples,
        corpus.messages.len(),
        corpus.conversations.len(),
        report.folds.len(),
        started.elapsed().as_secs_f64()
    )?;
    writeln!(
        stdout,
        "leave-one-writer-out cross-validation, by combination:"
    )?;
    let describe = |c: &Combination| {
        format!(
            "rules_override={:<8} rules_ratio={:.2}",
            c.rules_override.map_or("none", |s| s.as_str()),
            c.rules_ratio
        )
    };
    for (combination, recall, fpr) in &report.candidates {
        writeln!(
            stdout,
            "  {}  recall {recall:.3}  fpr {fpr:.3}",
            describe(combination)
        )?;
    }
    writeln!(
        stdout,
        "chosen: {}, cv recall {:.3} at fpr {:.3} (budget {:.3})",
        describe(&report.combination),
        report.cv_recall,
        report.cv_fpr,
        options.fpr_budget
    )?;
    for (category, threshold) in &report.thresholds {
        writeln!(
            stdout,
            "  threshold {:<12} {threshold:.3}",
            category.as_str()
        )?;
    }
    let step = &report.step;
    writeln!(
        stdout,
        "safety steps (out of fold): {} steps ({} written after a crisis turn), {} continuing \
         crises; step head threshold {:.3} (budget {:.3})",
        step.steps, step.written_steps, step.continuations, step.threshold, options.step_budget
    )?;
    for (name, figures) in [
        ("rule phrases alone", &step.rules),
        ("rule phrases or the head's gate alone", &step.gate),
        (
            "rule phrases and the head (no calm check: an upper bound)",
            &step.decision,
        ),
    ] {
        writeln!(
            stdout,
            "  {name}: recall {:.3} (written steps {:.3}), end {:.3} of continuing crises",
            figures.recall, figures.written_recall, figures.false_rate
        )?;
    }
    writeln!(
        stdout,
        "wrote {} ({} bytes)",
        out.display(),
        model.to_bytes().len()
    )?;
    Ok(())
}
