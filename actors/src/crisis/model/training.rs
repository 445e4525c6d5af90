//! Training the learned layer: deterministic, seeded, from the labelled corpus.
//!
//! * Examples are the single messages plus every conversation turn whose earlier turns had not
//!   already made the conversation a crisis (a turn that only stays in crisis because of earlier
//!   turns says nothing about its own words; the conversation state handles it).
//! * One-vs-rest logistic regression per category, AdaGrad, L2, positives up-weighted.
//! * Thresholds come from leave-one-writer-out cross-validation: each writer's messages are scored
//!   by a model trained on the other writers, which is how the model meets a new writer in
//!   production. The per-category thresholds are the highest that keep the cross-validated
//!   false-positive rate of the whole decision (rules and model together) within the budget.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::features::{Features, TurnContext, extract};
use super::step::{StepReport, step_examples, train_step_head};
use super::weights::{ModelMeta, ModelScores, RiskModel};
use super::{Combination, combine, context_views};
use crate::crisis::corpus::Corpus;
use crate::crisis::detector::{CrisisDetector, Explanation};
use crate::crisis::types::{Category, RiskLevel, Severity};
use crate::text::normalize_views;

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingOptions {
    /// Hash width: 2^bits features per category.
    pub bits: u32,
    /// Shuffling seed.
    pub seed: u64,
    /// Passes over the data.
    pub epochs: u32,
    /// AdaGrad's base learning rate.
    pub learning_rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
    /// The cross-validated false-positive rate the thresholds may spend.
    pub fpr_budget: f64,
    /// A message whose strongest ratio reaches this is `elevated`.
    pub elevated_ratio: f32,
    /// The cross-validated share of continuing crises a misread safety step may end; 0 switches
    /// the step head off. Ungated it ended real crises on a fresh blind set (round 4); the shipped
    /// model has it at 0.005 behind round 7's gate (BENCHMARKS.md).
    pub step_budget: f64,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        TrainingOptions {
            bits: 18,
            seed: 20_261_129,
            epochs: 20,
            learning_rate: 0.3,
            l2: 1e-4,
            fpr_budget: 0.05,
            elevated_ratio: 0.5,
            step_budget: 0.005,
        }
    }
}

/// One training example.
#[derive(Debug, Clone)]
pub struct Example {
    /// Its features.
    pub features: Features,
    /// What the rules found (the decision rule needs it).
    pub explanation: Explanation,
    /// The labelled category, `None` when safe.
    pub category: Option<Category>,
    /// The writer, for cross-validation folds.
    pub group: String,
}

/// Builds the examples of a corpus.
pub fn examples(corpus: &Corpus, rules: &CrisisDetector, bits: u32) -> Vec<Example> {
    let mut out = Vec::with_capacity(corpus.messages.len() * 2);
    for m in &corpus.messages {
        out.push(example(
            rules,
            bits,
            &m.text,
            &[],
            RiskLevel::None,
            m.category,
            &m.source,
        ));
    }
    for conversation in &corpus.conversations {
        let mut prior = RiskLevel::None;
        let mut earlier: Vec<String> = Vec::new();
        for turn in &conversation.turns {
            let persisting = prior == RiskLevel::Crisis && turn.risk == RiskLevel::Crisis;
            if !persisting {
                let category = turn.category.filter(|_| turn.risk == RiskLevel::Crisis);
                out.push(example(
                    rules,
                    bits,
                    &turn.text,
                    &earlier,
                    prior,
                    category,
                    &conversation.source,
                ));
            }
            prior = turn.risk;
            earlier.push(turn.text.clone());
        }
    }
    out
}

fn example(
    rules: &CrisisDetector,
    bits: u32,
    text: &str,
    earlier: &[String],
    prior: RiskLevel,
    category: Option<Category>,
    group: &str,
) -> Example {
    let views = normalize_views(text);
    let previous = context_views(earlier);
    let explanation = rules.explain_views(&views);
    let context = TurnContext {
        previous: &previous,
        prior_risk: prior,
    };
    Example {
        features: extract(&views, &explanation, &context, bits, None),
        explanation,
        category,
        group: group.to_owned(),
    }
}

/// What training reports besides the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingReport {
    /// Examples trained on.
    pub examples: usize,
    /// Writers (cross-validation folds).
    pub folds: Vec<String>,
    /// Per-category thresholds chosen.
    pub thresholds: Vec<(Category, f32)>,
    /// How rules and model were chosen to combine.
    pub combination: Combination,
    /// Cross-validated recall and false-positive rate at those choices.
    pub cv_recall: f64,
    /// See `cv_recall`.
    pub cv_fpr: f64,
    /// Every combination considered, with its cross-validated recall and false-positive rate.
    pub candidates: Vec<(Combination, f64, f64)>,
    /// The safety-step head's cross-validated figures.
    pub step: StepReport,
}

/// Trains on `corpus` with the `rules` feeding the model; the result is deterministic for the
/// same corpus, rules and options.
pub fn train(
    corpus: &Corpus,
    rules: &CrisisDetector,
    options: &TrainingOptions,
) -> (RiskModel, TrainingReport) {
    let all = examples(corpus, rules, options.bits);
    let folds: Vec<String> = all
        .iter()
        .map(|e| e.group.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut oof: Vec<Vec<f32>> = vec![Vec::new(); all.len()];
    for fold in &folds {
        let training: Vec<&Example> = all.iter().filter(|e| &e.group != fold).collect();
        let model = fit(&training, options);
        for (i, e) in all.iter().enumerate() {
            if &e.group == fold {
                oof[i] = model.score(&e.features).probabilities;
            }
        }
    }
    let choice = choose_thresholds(&all, &oof, options);
    let mut model = fit(&all.iter().collect::<Vec<_>>(), options);
    model.set_thresholds(choice.thresholds.clone(), options.elevated_ratio);
    let (step_head, step) = train_step_head(&step_examples(corpus, rules, options.bits), options);
    model.set_step_head(step_head);
    model.set_meta(ModelMeta {
        corpus_fingerprint: fingerprint(corpus),
        seed: options.seed,
        examples: all.len(),
        epochs: options.epochs,
        fpr_budget: options.fpr_budget,
        cv_recall: choice.recall,
        cv_fpr: choice.fpr,
        rules_override: choice.combination.rules_override,
        rules_ratio: choice.combination.rules_ratio,
        step_cv_recall: step.decision.recall,
        step_cv_false_rate: step.decision.false_rate,
    });
    let report = TrainingReport {
        examples: all.len(),
        folds,
        thresholds: Category::ALL
            .iter()
            .copied()
            .zip(choice.thresholds.iter().copied())
            .collect(),
        combination: choice.combination,
        cv_recall: choice.recall,
        cv_fpr: choice.fpr,
        candidates: choice.candidates,
        step,
    };
    (model, report)
}

/// SHA-256 over the corpus files' names and contents, in path order.
pub fn fingerprint(corpus: &Corpus) -> String {
    let mut hasher = Sha256::new();
    for file in &corpus.files {
        if let Some(name) = file.file_name() {
            hasher.update(name.to_string_lossy().as_bytes());
        }
        if let Some(parent) = file.parent().and_then(|p| p.file_name()) {
            hasher.update(parent.to_string_lossy().as_bytes());
        }
        hasher.update(std::fs::read(file).unwrap_or_default());
    }
    hex::encode(hasher.finalize())
}

/// One-vs-rest logistic regression with AdaGrad.
pub fn fit(examples: &[&Example], options: &TrainingOptions) -> RiskModel {
    let classes = Category::ALL.to_vec();
    let width = classes.len();
    let mut model = RiskModel::zeroed(options.bits, classes.clone());
    let mut squared = vec![1e-8f32; (1usize << options.bits) * width];
    let mut bias_squared = vec![1e-8f32; width];
    let positive_weight: Vec<f32> = classes
        .iter()
        .map(|c| {
            let positives = examples.iter().filter(|e| e.category == Some(*c)).count();
            let negatives = examples.len() - positives;
            if positives == 0 {
                1.0
            } else {
                ((negatives as f32 / positives as f32).sqrt()).clamp(1.0, 4.0)
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = SplitMix::new(options.seed);
    for _ in 0..options.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let e = examples[i];
            let logits = model.logits(&e.features);
            let (weights, bias) = model.parameters_mut();
            for (c, class) in classes.iter().enumerate() {
                let target = e.category == Some(*class);
                let p = 1.0 / (1.0 + (-logits[c]).exp());
                let sample_weight = if target { positive_weight[c] } else { 1.0 };
                let error = (p - f32::from(u8::from(target))) * sample_weight;
                for (&index, &value) in e.features.indices.iter().zip(&e.features.values) {
                    let slot = index as usize * width + c;
                    let gradient = error * value + options.l2 * weights[slot];
                    squared[slot] += gradient * gradient;
                    weights[slot] -= options.learning_rate * gradient / squared[slot].sqrt();
                }
                bias_squared[c] += error * error;
                bias[c] -= options.learning_rate * error / bias_squared[c].sqrt();
            }
        }
    }
    model
}

struct Choice {
    thresholds: Vec<f32>,
    combination: Combination,
    recall: f64,
    fpr: f64,
    candidates: Vec<(Combination, f64, f64)>,
}

/// The combinations cross-validation chooses from. The ratios are fine-grained where the choice
/// falls: round 12's model, chosen at 0.35, sank "dao nay minh hay nghi den chuyen tu tu" (a
/// counted phrase) at a ratio of 0.34, when 0.3 cost less than the two points the rules may take.
fn combinations() -> Vec<Combination> {
    let mut out = Vec::new();
    for rules_override in [None, Some(Severity::Critical), Some(Severity::High)] {
        for rules_ratio in [1.0, 0.7, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2] {
            out.push(Combination {
                rules_override,
                rules_ratio,
            });
        }
    }
    out
}

/// How much cross-validated recall a combination that trusts the rules more may cost.
const RULES_PREFERENCE: f64 = 0.02;

/// Thresholds are never set below this: a category the safe messages never touch would otherwise
/// fire on noise.
const THRESHOLD_FLOOR: f32 = 0.1;

fn choose_thresholds(all: &[Example], oof: &[Vec<f32>], options: &TrainingOptions) -> Choice {
    let width = Category::ALL.len();
    // Each category's out-of-fold scores on the safe examples, highest first.
    let negatives: Vec<Vec<f32>> = (0..width)
        .map(|c| {
            let mut s: Vec<f32> = all
                .iter()
                .zip(oof)
                .filter(|(e, _)| e.category.is_none())
                .filter_map(|(_, p)| p.get(c).copied())
                .collect();
            s.sort_by(|a, b| b.total_cmp(a));
            s
        })
        .collect();
    let thresholds_at = |k: usize| -> Vec<f32> {
        negatives
            .iter()
            .map(|s| {
                s.get(k)
                    .map_or(THRESHOLD_FLOOR, |v| v.next_up().max(THRESHOLD_FLOOR))
                    .min(0.99)
            })
            .collect()
    };
    let mut measured: Vec<Choice> = Vec::new();
    let mut candidates = Vec::new();
    for combination in combinations() {
        let measure = |thresholds: &[f32]| {
            let mut tally = (0usize, 0usize, 0usize, 0usize);
            for (e, p) in all.iter().zip(oof) {
                let ratios = p
                    .iter()
                    .zip(thresholds)
                    .map(|(p, t)| p / t)
                    .collect::<Vec<f32>>();
                let scores = ModelScores {
                    probabilities: p.clone(),
                    ratios,
                };
                let j = combine(
                    &e.explanation,
                    scores,
                    &Category::ALL,
                    options.elevated_ratio,
                    combination,
                );
                if e.category.is_some() {
                    tally.0 += 1;
                    tally.1 += usize::from(j.assessment.is_crisis);
                } else {
                    tally.2 += 1;
                    tally.3 += usize::from(j.assessment.is_crisis);
                }
            }
            (
                tally.1 as f64 / tally.0.max(1) as f64,
                tally.3 as f64 / tally.2.max(1) as f64,
            )
        };
        // The largest number of safe examples each category may score above its threshold
        // such that the whole decision stays within the budget.
        let max_k = negatives.first().map_or(0, Vec::len);
        let (mut lo, mut hi) = (0usize, max_k);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if measure(&thresholds_at(mid)).1 <= options.fpr_budget {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let thresholds = thresholds_at(lo);
        let (recall, fpr) = measure(&thresholds);
        candidates.push((combination, recall, fpr));
        measured.push(Choice {
            thresholds,
            combination,
            recall,
            fpr,
            candidates: Vec::new(),
        });
    }
    // Within the budget, the combination that gives the rules' explicit, writer-anchored findings
    // the most say is preferred unless it costs more than RULES_PREFERENCE of the best recall:
    // cross-validation counts every miss alike, but a missed "I don't want to live anymore" is the
    // worst miss there is. Outside the budget nothing is chosen unless nothing fits it.
    let within: Vec<&Choice> = measured
        .iter()
        .filter(|c| c.fpr <= options.fpr_budget)
        .collect();
    let pool: Vec<&Choice> = if within.is_empty() {
        measured.iter().collect()
    } else {
        within
    };
    let best_recall = pool.iter().map(|c| c.recall).fold(f64::NAN, f64::max);
    let best = pool
        .into_iter()
        .filter(|c| c.recall + RULES_PREFERENCE >= best_recall)
        .min_by(|a, b| {
            a.combination
                .rules_ratio
                .total_cmp(&b.combination.rules_ratio)
                .then(b.recall.total_cmp(&a.recall))
        })
        .map(|c| Choice {
            thresholds: c.thresholds.clone(),
            combination: c.combination,
            recall: c.recall,
            fpr: c.fpr,
            candidates: Vec::new(),
        });
    let mut choice = best.unwrap_or(Choice {
        thresholds: vec![0.5; width],
        combination: Combination {
            rules_override: None,
            rules_ratio: 1.0,
        },
        recall: f64::NAN,
        fpr: f64::NAN,
        candidates: Vec::new(),
    });
    choice.candidates = candidates;
    choice
}

/// A small deterministic generator (SplitMix64): the same seed shuffles the same way on every
/// platform and crate version.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crisis::corpus::LabelledMessage;
    use crate::crisis::default_rules;

    fn tiny_corpus() -> Corpus {
        let lines = [
            (Some(Category::Suicide), "w1", "mình muốn chết"),
            (Some(Category::Suicide), "w2", "tao gom đủ thuốc ngủ rồi"),
            (Some(Category::Abuse), "w1", "bố say rượu đánh mình"),
            (Some(Category::Abuse), "w2", "dượng bắt mình gửi ảnh"),
            (None, "w1", "hôm nay đi học vui"),
            (None, "w2", "mệt chết đi được 😂"),
            (None, "w1", "ăn cơm chưa"),
            (None, "w2", "bài tập hóa khó quá"),
        ];
        Corpus {
            messages: lines
                .iter()
                .map(|(category, source, text)| LabelledMessage {
                    source: (*source).into(),
                    category: *category,
                    kind: category.map_or("everyday", |c| c.as_str()).into(),
                    style: "nfc".into(),
                    text: (*text).into(),
                })
                .collect(),
            ..Corpus::default()
        }
    }

    #[test]
    fn training_is_deterministic_and_learns_the_training_data() {
        let rules = CrisisDetector::compile(&default_rules()).unwrap();
        let options = TrainingOptions {
            bits: 12,
            epochs: 20,
            ..TrainingOptions::default()
        };
        let (a, report) = train(&tiny_corpus(), &rules, &options);
        let (b, _) = train(&tiny_corpus(), &rules, &options);
        assert_eq!(a.to_bytes(), b.to_bytes());
        assert_eq!(report.folds, vec!["w1".to_owned(), "w2".to_owned()]);
        let all = examples(&tiny_corpus(), &rules, 12);
        let abuse = a.score(&all[3].features).probabilities[2];
        let safe = a.score(&all[6].features).probabilities[2];
        assert!(abuse > safe, "{abuse} vs {safe}");
    }

    #[test]
    fn a_different_seed_shuffles_differently() {
        let mut order_a: Vec<usize> = (0..50).collect();
        let mut order_b = order_a.clone();
        SplitMix(1).shuffle(&mut order_a);
        SplitMix(2).shuffle(&mut order_b);
        assert_ne!(order_a, order_b);
        order_a.sort_unstable();
        assert_eq!(order_a, (0..50).collect::<Vec<_>>());
    }
}
