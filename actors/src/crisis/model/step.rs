//! Learning when a turn ends a crisis: the safety-step head.
//!
//! The head answers one question on every turn of a conversation the service holds in crisis: is
//! the conversation out of crisis after this turn? Its examples are
//! * the turns that follow a turn labelled crisis: out of crisis when the writer labelled the turn
//!   so (the taxonomy's rule: only a concrete safety step does that), still in crisis when it goes
//!   on ("đùa thôi", "ok em ổn", "mẹ 11h mới về");
//! * every later turn of a conversation that never was a crisis (hyperbole, a place, a film,
//!   homework), read as if the service had taken an earlier turn for one: such a conversation is
//!   out of crisis, and the earlier turns it reads tell it so ("deadline này giết tao mất" then
//!   "mới nộp xong hihi").
//!
//! The rule phrases stay as one source of steps; the head adds what they do not know, and its
//! threshold is chosen by leave-one-writer-out cross-validation so that the whole decision ends at
//! most `step_budget` of the crises that go on — ending a real crisis is the costly error. The
//! shipped model trains it with a budget of 0.005 behind the gate of `head_may_see_step`. At run
//! time a head-only step must also be calm on its own (`Layers::safety_step`), which these
//! figures leave out: they are an upper bound on what the head recognises and on what it ends.

use std::collections::BTreeSet;

use super::features::{Features, TurnContext, extract};
use super::training::{SplitMix, TrainingOptions};
use super::weights::{StepHead, sigmoid};
use super::{context_views, rules_saw_step, step_gate, step_is_doubtful};
use crate::crisis::corpus::Corpus;
use crate::crisis::detector::CrisisDetector;
use crate::crisis::types::RiskLevel;
use crate::text::normalize_views;

/// One turn after a crisis turn.
#[derive(Debug, Clone)]
pub struct StepExample {
    features: Features,
    /// The rule phrases name a step and nothing in the message casts doubt on it.
    rules_step: bool,
    /// The head may read this turn as a step (words of a step, none of doubt or of later).
    head_may_see: bool,
    /// The writer labelled the turn out of crisis.
    is_step: bool,
    /// The turn follows a turn labelled crisis (not a turn of a conversation that never was one).
    after_crisis: bool,
    group: String,
}

/// How one way of deciding steps fares on the step examples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepFigures {
    /// Of all steps (turns a writer labelled out of crisis after a crisis turn, and the later turns
    /// of conversations that never were a crisis, read as if one had been taken for it), the share
    /// recognised.
    pub recall: f64,
    /// Of the steps written after a crisis turn alone, the share recognised.
    pub written_recall: f64,
    /// Of the turns after a crisis turn that did not end it, the share that would end it.
    pub false_rate: f64,
}

/// Cross-validated figures of the step decision.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepReport {
    /// Steps of both kinds (see [`StepFigures::recall`]).
    pub steps: usize,
    /// Of those, the steps written after a crisis turn.
    pub written_steps: usize,
    /// Turns after a crisis turn that did not end it.
    pub continuations: usize,
    /// The rule phrases alone.
    pub rules: StepFigures,
    /// The rule phrases or the head's gate alone (words of a step, none of later, doubt or
    /// negation): the most the head could ever add.
    pub gate: StepFigures,
    /// The rule phrases and the head at its threshold, out of fold (without the calm-on-its-own
    /// check, which needs the category model: an upper bound).
    pub decision: StepFigures,
    /// The head's chosen threshold.
    pub threshold: f32,
}

/// The step examples of a corpus, read as a session reads them (prior risk crisis).
pub fn step_examples(corpus: &Corpus, rules: &CrisisDetector, bits: u32) -> Vec<StepExample> {
    let mut out = Vec::new();
    for conversation in &corpus.conversations {
        let never_crisis = conversation
            .turns
            .iter()
            .all(|t| t.risk != RiskLevel::Crisis);
        let mut earlier: Vec<String> = Vec::new();
        let mut previous_label = RiskLevel::None;
        for turn in &conversation.turns {
            if previous_label == RiskLevel::Crisis || (never_crisis && !earlier.is_empty()) {
                let views = normalize_views(&turn.text);
                let explanation = rules.explain_views(&views);
                let previous = context_views(&earlier);
                let context = TurnContext {
                    previous: &previous,
                    prior_risk: RiskLevel::Crisis,
                };
                out.push(StepExample {
                    features: extract(&views, &explanation, &context, bits, None),
                    rules_step: rules_saw_step(&explanation) && !step_is_doubtful(&explanation),
                    head_may_see: step_gate(&views, &explanation),
                    is_step: turn.risk != RiskLevel::Crisis,
                    after_crisis: previous_label == RiskLevel::Crisis,
                    group: conversation.source.clone(),
                });
            }
            previous_label = turn.risk;
            earlier.push(turn.text.clone());
        }
    }
    out
}

/// Trains the head and chooses its threshold; `step_budget` is the share of continuing crises the
/// whole step decision may end in cross-validation.
pub fn train_step_head(
    examples: &[StepExample],
    options: &TrainingOptions,
) -> (StepHead, StepReport) {
    let folds: BTreeSet<&str> = examples.iter().map(|e| e.group.as_str()).collect();
    let mut oof = vec![0.0f32; examples.len()];
    for fold in &folds {
        let training: Vec<&StepExample> = examples.iter().filter(|e| e.group != *fold).collect();
        let head = fit_step(&training, options);
        for (slot, e) in oof.iter_mut().zip(examples) {
            if e.group == *fold {
                *slot = sigmoid(head.logit(&e.features));
            }
        }
    }
    let measure = |threshold: f32| measure_steps(examples, &oof, threshold);
    // Candidate thresholds: just above each continuation's out-of-fold score, lowest last kept
    // within the budget (a lower threshold finds more steps and ends more crises).
    let mut candidates: Vec<f32> = examples
        .iter()
        .zip(&oof)
        .filter(|(e, _)| !e.is_step && e.head_may_see)
        .map(|(_, p)| p.next_up())
        .chain([STEP_THRESHOLD_CEILING])
        .filter(|t| *t >= STEP_THRESHOLD_FLOOR && *t <= STEP_THRESHOLD_CEILING)
        .collect();
    candidates.sort_by(|a, b| b.total_cmp(a));
    candidates.dedup();
    let mut threshold = NEVER;
    // A budget of 0 means no head, whatever the rule phrases alone would allow.
    for candidate in candidates.into_iter().filter(|_| options.step_budget > 0.0) {
        if measure(candidate).false_rate <= options.step_budget {
            threshold = candidate;
        } else {
            break;
        }
    }
    let mut head = fit_step(&examples.iter().collect::<Vec<_>>(), options);
    head.threshold = threshold;
    let report = StepReport {
        steps: examples.iter().filter(|e| e.is_step).count(),
        written_steps: examples
            .iter()
            .filter(|e| e.is_step && e.after_crisis)
            .count(),
        continuations: examples.iter().filter(|e| !e.is_step).count(),
        rules: measure(f32::INFINITY),
        gate: measure(f32::NEG_INFINITY),
        decision: measure(threshold),
        threshold,
    };
    (head, report)
}

/// How the rule phrases and the head at `threshold` (out-of-fold scores `oof`) decide the
/// examples: `INFINITY` is the rules alone, `NEG_INFINITY` the rules or the gate alone.
fn measure_steps(examples: &[StepExample], oof: &[f32], threshold: f32) -> StepFigures {
    let share = |found: usize, of: usize| found as f64 / of.max(1) as f64;
    let (mut steps, mut found, mut written, mut written_found) = (0, 0, 0, 0);
    let (mut continuations, mut ended) = (0, 0);
    for (e, p) in examples.iter().zip(oof) {
        let said = usize::from(e.rules_step || (e.head_may_see && *p >= threshold));
        if e.is_step {
            steps += 1;
            found += said;
            if e.after_crisis {
                written += 1;
                written_found += said;
            }
        } else {
            continuations += 1;
            ended += said;
        }
    }
    StepFigures {
        recall: share(found, steps),
        written_recall: share(written_found, written),
        false_rate: share(ended, continuations),
    }
}

/// Above any probability: the head never fires.
const NEVER: f32 = 2.0;
/// The head is never trusted below this, however few continuations the corpus has.
const STEP_THRESHOLD_FLOOR: f32 = 0.3;
const STEP_THRESHOLD_CEILING: f32 = 0.99;

/// Binary logistic regression with AdaGrad, steps up-weighted as the categories' positives are.
fn fit_step(examples: &[&StepExample], options: &TrainingOptions) -> StepHead {
    let bits = options.bits;
    let mut head = StepHead {
        threshold: NEVER,
        bias: 0.0,
        weights: vec![0.0; 1usize << bits],
    };
    let positives = examples.iter().filter(|e| e.is_step).count();
    let negatives = examples.len() - positives;
    let positive_weight = if positives == 0 {
        1.0
    } else {
        ((negatives as f32 / positives as f32).sqrt()).clamp(1.0, 4.0)
    };
    let mut squared = vec![1e-8f32; head.weights.len()];
    let mut bias_squared = 1e-8f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = SplitMix::new(options.seed ^ STEP_SEED);
    for _ in 0..options.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let e = examples[i];
            let p = sigmoid(head.logit(&e.features));
            let sample_weight = if e.is_step { positive_weight } else { 1.0 };
            let error = (p - f32::from(u8::from(e.is_step))) * sample_weight;
            for (&index, &value) in e.features.indices.iter().zip(&e.features.values) {
                let slot = index as usize;
                let Some(weight) = head.weights.get_mut(slot) else {
                    continue;
                };
                let gradient = error * value + options.l2 * *weight;
                squared[slot] += gradient * gradient;
                *weight -= options.learning_rate * gradient / squared[slot].sqrt();
            }
            bias_squared += error * error;
            head.bias -= options.learning_rate * error / bias_squared.sqrt();
        }
    }
    head
}

/// Keeps the step head's shuffles apart from the categories' under the same seed.
const STEP_SEED: u64 = 0x5afe_57e9;

#[cfg(test)]
mod tests {
    use super::*;

    fn example(index: u32, is_step: bool, group: &str) -> StepExample {
        StepExample {
            features: Features {
                indices: vec![index],
                values: vec![1.0],
            },
            rules_step: false,
            head_may_see: true,
            is_step,
            after_crisis: true,
            group: group.to_owned(),
        }
    }

    #[test]
    fn written_steps_leave_out_the_turns_of_conversations_that_never_were_a_crisis() {
        let mut examples = vec![
            example(1, true, "a"),
            example(2, true, "a"),
            example(3, false, "a"),
        ];
        // A later turn of a false alarm: a step the head misses, not a written one.
        examples[1].after_crisis = false;
        let oof = [0.9, 0.1, 0.2];
        let figures = measure_steps(&examples, &oof, 0.5);
        assert_eq!(figures.recall, 0.5);
        assert_eq!(figures.written_recall, 1.0);
        assert_eq!(figures.false_rate, 0.0);
        let rules_alone = measure_steps(&examples, &oof, f32::INFINITY);
        assert_eq!(rules_alone.recall, 0.0);
        let gate_alone = measure_steps(&examples, &oof, f32::NEG_INFINITY);
        assert_eq!(gate_alone.false_rate, 1.0);
    }

    #[test]
    fn a_budget_of_zero_means_no_head_even_where_the_rules_never_misfire() {
        let examples: Vec<StepExample> = ["a", "b", "c"]
            .iter()
            .flat_map(|group| [example(1, true, group), example(2, false, group)])
            .collect();
        let options = TrainingOptions {
            bits: 8,
            step_budget: 0.0,
            ..TrainingOptions::default()
        };
        let (head, report) = train_step_head(&examples, &options);
        assert!(head.threshold > 1.0, "{report:?}");
        let options = TrainingOptions {
            step_budget: 0.5,
            ..options
        };
        let (head, _) = train_step_head(&examples, &options);
        assert!(head.threshold <= 1.0, "a budget lets the head fire");
    }
}
