//! The weak signals the learned layer combines, as a sparse vector of hashed features: syllable
//! n-grams of both normalised views, character n-grams (for typos and run-together words), what
//! the rule engine saw (phrases, exceptions, signals of plan, means and farewell), and the
//! conversation so far (the previous turns' words and the risk they left).
//!
//! Hashing keeps the model a fixed size whatever the vocabulary; a second hash bit gives each
//! feature a sign so that collisions cancel out on average instead of adding up.

use crate::crisis::detector::{ExplainHit, Explanation, HitOutcome};
use crate::crisis::model::is_signal_of;
use crate::crisis::types::{RiskLevel, SignalKind};
use crate::text::{Views, is_negator_at};

/// What the previous turns of the conversation contribute to the judgement of this one.
#[derive(Debug, Clone, Default)]
pub struct TurnContext<'a> {
    /// Normalised views of the most recent earlier user turns, oldest first.
    pub previous: &'a [Views],
    /// The conversation's risk before this turn.
    pub prior_risk: RiskLevel,
}

/// A sparse feature vector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Hashed indices, `< 1 << bits`.
    pub indices: Vec<u32>,
    /// Values, one per index (signed by the hash).
    pub values: Vec<f32>,
}

/// Feature names with their indices, collected only for `--explain`.
pub type FeatureNames = Vec<(u32, String)>;

const TEXT_WEIGHT: f32 = 1.0;
/// See [`Builder::normalise_from`].
const SHORT_TEXT_FEATURES: f32 = 40.0;
const CONTEXT_WEIGHT: f32 = 0.5;
/// How many earlier turns are read.
pub const CONTEXT_TURNS: usize = 2;

struct Builder<'n> {
    mask: u32,
    features: Features,
    names: Option<&'n mut FeatureNames>,
}

impl Builder<'_> {
    fn add(&mut self, namespace: &str, parts: &[&str], value: f32) {
        let mut hash = FNV_OFFSET;
        hash = fnv(hash, namespace.as_bytes());
        for part in parts {
            hash = fnv(hash, &[0x1f]);
            hash = fnv(hash, part.as_bytes());
        }
        let mixed = hash ^ (hash >> 29);
        let index = (mixed as u32) & self.mask;
        let sign = if (mixed >> 63) & 1 == 1 { -1.0 } else { 1.0 };
        self.features.indices.push(index);
        self.features.values.push(value * sign);
        if let Some(names) = self.names.as_deref_mut() {
            names.push((index, format!("{namespace}:{}", parts.join(" "))));
        }
    }

    /// Scales the values from `start` on to unit length times `weight`, so long and short
    /// messages weigh alike — except that a very short message is scaled as if it had
    /// `SHORT_TEXT_FEATURES` features: two words ("cảm ơn bạn") must not carry the weight of a
    /// paragraph.
    fn normalise_from(&mut self, start: usize, weight: f32) {
        let values = &mut self.features.values[start..];
        let norm = values
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .max(SHORT_TEXT_FEATURES)
            .sqrt();
        if norm > 0.0 {
            for v in values {
                *v *= weight / norm;
            }
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Extracts the features of one message. `bits` is the model's hash width.
pub fn extract(
    views: &Views,
    explanation: &Explanation,
    context: &TurnContext<'_>,
    bits: u32,
    names: Option<&mut FeatureNames>,
) -> Features {
    let mut b = Builder {
        mask: (1u32 << bits) - 1,
        features: Features::default(),
        names,
    };
    b.add("bias", &[], 1.0);
    let text_start = b.features.indices.len();
    text_ngrams(&mut b, views, "");
    b.normalise_from(text_start, TEXT_WEIGHT);

    rule_features(&mut b, explanation);
    let length = match views.len() {
        0..=3 => "short",
        4..=12 => "medium",
        13..=40 => "long",
        _ => "very_long",
    };
    b.add("len", &[length], 1.0);

    b.add("prior", &[context.prior_risk.as_str()], 1.0);
    if !context.previous.is_empty() {
        let context_start = b.features.indices.len();
        for earlier in context.previous.iter().rev().take(CONTEXT_TURNS) {
            word_ngrams(&mut b, earlier, "x");
        }
        b.normalise_from(context_start, CONTEXT_WEIGHT);
    }
    b.features
}

fn text_ngrams(b: &mut Builder<'_>, views: &Views, prefix: &str) {
    word_ngrams(b, views, prefix);
    negation_scope(b, views);
    let toned_ns = format!("{prefix}t1");
    for (toned, folded) in views.toned_tokens().zip(views.folded_tokens()) {
        if toned != folded {
            b.add(&toned_ns, &[toned], 1.0);
        }
    }
    let char_ns = format!("{prefix}c");
    let mut padded = String::new();
    for token in views.folded_tokens() {
        padded.clear();
        padded.push('<');
        padded.push_str(token);
        padded.push('>');
        let chars: Vec<(usize, char)> = padded.char_indices().collect();
        for n in [3usize, 4] {
            for window in chars.windows(n) {
                let start = window[0].0;
                let end = window[n - 1].0 + window[n - 1].1.len_utf8();
                b.add(&char_ns, &[&padded[start..end]], 0.5);
            }
        }
    }
}

fn word_ngrams(b: &mut Builder<'_>, views: &Views, prefix: &str) {
    let tokens: Vec<&str> = views.folded_tokens().collect();
    let uni = format!("{prefix}w1");
    let bi = format!("{prefix}w2");
    let tri = format!("{prefix}w3");
    for (i, token) in tokens.iter().enumerate() {
        b.add(&uni, &[token], 1.0);
        if i + 1 < tokens.len() {
            b.add(&bi, &[token, tokens[i + 1]], 1.0);
        }
        if i + 2 < tokens.len() {
            b.add(&tri, &[token, tokens[i + 1], tokens[i + 2]], 1.0);
        }
    }
}

/// Words within three tokens after a negator in the same clause ("không muốn chết", "never hurt
/// myself"), as their own features: the same word means the opposite there.
fn negation_scope(b: &mut Builder<'_>, views: &Views) {
    let tokens: Vec<&str> = views.folded_tokens().collect();
    for i in 0..tokens.len() {
        if !is_negator_at(views, i) {
            continue;
        }
        for (j, scoped) in tokens.iter().enumerate().skip(i + 1).take(3) {
            if views.clause_start(j) {
                break;
            }
            b.add("neg", &[scoped], 1.0);
        }
    }
}

/// What the rules saw, by kind, category and outcome — never by rule id, so the model learns
/// from families of rules and an operator's new rule still feeds it. The words that only gate
/// the step head (`step_cue`, `step_later`, `step_doubt`) are left out: they are everyday words
/// ("chờ", "mai", "gọi") that the corpus meets mostly inside crises, and as features they made
/// "mình chờ câu trả lời nhé" a crisis.
fn rule_features(b: &mut Builder<'_>, explanation: &Explanation) {
    for hit in explanation.hits.iter().filter(|h| !rules_internal(h)) {
        let outcome = outcome_name(hit.outcome);
        b.add("rule", &[hit.kind.as_str(), &hit.category, outcome], 1.0);
        b.add("rule", &[hit.kind.as_str(), &hit.category], 1.0);
    }
    let assessment = &explanation.assessment;
    if assessment.is_crisis {
        b.add("rules_crisis", &[], 1.0);
        for category in &assessment.categories {
            b.add("rules_category", &[category.as_str()], 1.0);
        }
        if let Some(severity) = assessment.severity {
            b.add("rules_severity", &[severity.as_str()], 1.0);
        }
    }
    if assessment.third_party {
        b.add("rules_third_party", &[], 1.0);
    }
}

/// Signals that only the rules' own logic reads: the step head's gate, and the past told as a
/// story (a second reader found the model learning "hồi trước … giờ" as calm by itself, so "ngày
/// xưa mình hay khóc, giờ thì mình chỉ muốn chết" fell under its threshold).
fn rules_internal(hit: &ExplainHit) -> bool {
    is_signal_of(
        hit,
        &[
            SignalKind::StepCue,
            SignalKind::StepLater,
            SignalKind::StepDoubt,
            SignalKind::Past,
            SignalKind::Nowadays,
            SignalKind::Settled,
        ],
    )
}

fn outcome_name(outcome: HitOutcome) -> &'static str {
    match outcome {
        HitOutcome::Counted => "counted",
        HitOutcome::Suppressed => "suppressed",
        HitOutcome::Negated => "negated",
        HitOutcome::NotAboutWriter => "not_about_writer",
        HitOutcome::ResolvedPast => "resolved_past",
        HitOutcome::NeedsContext => "needs_context",
        HitOutcome::Seen => "seen",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crisis::{CrisisDetector, default_rules};
    use crate::text::normalize_views;

    fn features_of(text: &str) -> Features {
        let detector = CrisisDetector::compile(&default_rules()).unwrap();
        let views = normalize_views(text);
        let explanation = detector.explain_views(&views);
        extract(&views, &explanation, &TurnContext::default(), 18, None)
    }

    #[test]
    fn every_way_of_typing_a_message_gives_the_same_features() {
        let nfc = features_of("mình muốn chết");
        let nfd: String =
            unicode_normalization::UnicodeNormalization::nfd("mình muốn chết").collect();
        assert_eq!(features_of(&nfd), nfc);
        assert_eq!(features_of("MÌNH MUỐN CHẾT"), nfc);
    }

    #[test]
    fn indices_fit_the_width_and_names_follow_indices() {
        let detector = CrisisDetector::compile(&default_rules()).unwrap();
        let views = normalize_views("tao gom đủ thuốc rồi, tối nay thôi 💊");
        let previous = vec![normalize_views("chán sống lắm")];
        let context = TurnContext {
            previous: &previous,
            prior_risk: RiskLevel::Elevated,
        };
        let mut names = FeatureNames::new();
        let f = extract(
            &views,
            &detector.explain_views(&views),
            &context,
            12,
            Some(&mut names),
        );
        assert!(f.indices.iter().all(|&i| i < 1 << 12));
        assert_eq!(names.len(), f.indices.len());
        assert!(names.iter().any(|(_, n)| n == "prior:elevated"));
        assert!(names.iter().any(|(_, n)| n.starts_with("xw1:")));
        assert!(
            names.iter().any(|(_, n)| n.starts_with("rule:signal ")),
            "{names:?}"
        );
    }
}
