//! The learned layer over the rules: logistic regression over hashed features of the normalised
//! views, the rule engine's findings and the conversation so far, and the judgement that combines
//! both layers into one [`Assessment`].
//!
//! The rules stay the high-precision layer: what they find at or above the model's
//! `rules_override` severity is a crisis whatever the model says, and a rule crisis below it needs
//! only `rules_ratio` of the model's threshold to stand. Everything else is the model's call, with
//! a threshold per category; all of these are chosen by cross-validation (see [`training`]).

mod features;
mod step;
pub mod training;
mod weights;

pub use features::{CONTEXT_TURNS, FeatureNames, Features, TurnContext, extract};
pub use step::StepReport;
pub use weights::{ModelError, ModelMeta, ModelScores, RiskModel};

use std::cell::OnceCell;

use super::detector::{Assessment, CrisisDetector, ExplainHit, Explanation, HitOutcome};
use super::types::{Category, ExceptionKind, RiskLevel, RuleKind, Severity, SignalKind};
use crate::text::{Views, is_negator_at, normalize_views};

/// Who read a safety step in a message. Only a step in the rule phrases' words outranks a crisis
/// the model reads into the same message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepSource {
    /// The rule phrases of a concrete step.
    Rules,
    /// The learned step head alone, through its gate.
    Head,
}

/// What both layers concluded about one message, in the light of the turns before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The combined decision; its `rule_ids` are the rules' (for `--explain`, never for logs).
    pub assessment: Assessment,
    /// The message's own level: crisis, elevated (worrying) or none.
    pub level: RiskLevel,
    /// The message names a concrete safety step (someone with them, help called, means gone), and
    /// who read it there.
    pub safety_step: Option<StepSource>,
    /// The model's reading.
    pub scores: ModelScores,
    /// True when the model, not the rules, made it a crisis.
    pub by_model: bool,
}

/// Both layers, borrowed for one judgement.
#[derive(Clone, Copy)]
pub struct Layers<'a> {
    /// The compiled rules.
    pub rules: &'a CrisisDetector,
    /// The learned model.
    pub model: &'a RiskModel,
}

/// A judgement with what lay behind it, for `cbln crisis scan --explain`.
#[derive(Debug, Clone)]
pub struct Explained {
    /// The judgement.
    pub judgement: Judgement,
    /// Every rule that matched and what happened to it.
    pub rules: Explanation,
    /// The features that pushed the strongest category up most, with their contributions.
    pub top_features: Vec<(String, f32)>,
    /// The step head's probability that this turn ends a crisis (read whatever the prior risk).
    pub step_probability: f32,
}

impl Layers<'_> {
    /// Judges `text` given the earlier user turns (oldest first) and the risk they left.
    pub fn judge(&self, text: &str, earlier: &[String], prior: RiskLevel) -> Judgement {
        self.evaluate(text, earlier, prior, None).0
    }

    /// The judgement, what the rules saw and the features, naming them into `names` if given.
    fn evaluate(
        &self,
        text: &str,
        earlier: &[String],
        prior: RiskLevel,
        names: Option<&mut FeatureNames>,
    ) -> (Judgement, Explanation, Features) {
        let views = normalize_views(text);
        let previous = context_views(earlier);
        let explanation = self.rules.explain_views(&views);
        let context = TurnContext {
            previous: &previous,
            prior_risk: prior,
        };
        let features = extract(&views, &explanation, &context, self.model.bits(), names);
        // The message read without its earlier turns, worked out at most once and only when the
        // context check or the step head needs it.
        let alone = OnceCell::new();
        let judgement = self.combine(&explanation, &features);
        let mut judgement =
            self.confirm_on_its_own(judgement, &views, &explanation, earlier, &alone);
        judgement.safety_step = self.safety_step(&views, &explanation, &features, prior, &alone);
        (judgement, explanation, features)
    }

    /// The earlier turns may lift a borderline message over its threshold, and may sink one the
    /// model alone flagged (most false alarms in a conversation are read right only in context),
    /// but never one the rules found explicitly: "I don't want to live anymore" after talk of
    /// exams stays a crisis. And a crisis the model finds only because of the earlier turns needs
    /// some support in the message itself, or "cảm ơn bạn" after a dark conversation would open a
    /// new crisis.
    fn confirm_on_its_own(
        &self,
        judgement: Judgement,
        views: &Views,
        explanation: &Explanation,
        earlier: &[String],
        alone: &OnceCell<Judgement>,
    ) -> Judgement {
        // Only a model-made crisis, or a rule crisis the context sank, needs the second reading.
        let context_sank_rules =
            explanation.assessment.is_crisis && !judgement.assessment.is_crisis;
        if earlier.is_empty() || !(judgement.by_model || context_sank_rules) {
            return judgement;
        }
        let on_its_own = alone.get_or_init(|| self.judge_alone(views, explanation));
        if on_its_own.assessment.is_crisis
            && !judgement.assessment.is_crisis
            && explanation.assessment.is_crisis
        {
            return on_its_own.clone();
        }
        if !judgement.by_model {
            return judgement;
        }
        let own = on_its_own.scores.strongest().map_or(0.0, |(_, r)| r);
        if own >= OWN_TEXT_FLOOR {
            return judgement;
        }
        Judgement {
            assessment: Assessment {
                third_party: explanation.assessment.third_party,
                ..Assessment::default()
            },
            level: RiskLevel::Elevated,
            by_model: false,
            ..judgement
        }
    }

    /// Who reads a concrete safety step in the message, if anyone. "Nobody is with me", or
    /// intent beside the step, voids it whoever saw it. The step head learned only from turns of
    /// conversations in crisis, where a step matters, and reads only through its gate
    /// ([`step_gate`]); switched off (a threshold above any probability) it costs nothing. A step
    /// only the head reads must also come from a message that, read without the turns before it,
    /// worries the model less than an elevated message would: "thầy ôm em từ phía sau" has a
    /// step's word ("ôm em") and is a disclosure, not a step.
    fn safety_step(
        &self,
        views: &Views,
        explanation: &Explanation,
        features: &Features,
        prior: RiskLevel,
        alone: &OnceCell<Judgement>,
    ) -> Option<StepSource> {
        if step_is_doubtful(explanation) {
            return None;
        }
        if rules_saw_step(explanation) {
            return Some(StepSource::Rules);
        }
        let head_reads_step = prior == RiskLevel::Crisis
            && self.model.step_threshold() <= 1.0
            && step_gate(views, explanation)
            && self.model.step_probability(features) >= self.model.step_threshold()
            && alone
                .get_or_init(|| self.judge_alone(views, explanation))
                .level
                == RiskLevel::None;
        head_reads_step.then_some(StepSource::Head)
    }

    /// The judgement of the message read without the turns before it.
    fn judge_alone(&self, views: &Views, explanation: &Explanation) -> Judgement {
        let alone = extract(
            views,
            explanation,
            &TurnContext::default(),
            self.model.bits(),
            None,
        );
        self.combine(explanation, &alone)
    }

    /// [`Layers::judge`] with the rules and the strongest features behind it.
    pub fn explain(&self, text: &str, earlier: &[String], prior: RiskLevel) -> Explained {
        let mut names = FeatureNames::new();
        let (judgement, explanation, features) =
            self.evaluate(text, earlier, prior, Some(&mut names));
        let class = judgement.scores.strongest().map_or(0, |(c, _)| c);
        let top_features = self
            .model
            .contributions(&features, class)
            .into_iter()
            .filter(|(_, weight)| *weight > 0.0)
            .take(8)
            .filter_map(|(position, weight)| {
                names.get(position).map(|(_, name)| (name.clone(), weight))
            })
            .collect();
        Explained {
            judgement,
            rules: explanation,
            top_features,
            step_probability: self.model.step_probability(&features),
        }
    }

    /// Judges a message whose features are already extracted (training and evaluation).
    pub fn combine(&self, explanation: &Explanation, features: &Features) -> Judgement {
        let scores = self.model.score(features);
        let meta = self.model.meta();
        combine(
            explanation,
            scores,
            self.model.classes(),
            self.model.elevated_ratio(),
            Combination {
                rules_override: meta.rules_override,
                rules_ratio: meta.rules_ratio,
            },
        )
    }
}

/// Ending crisis mode on a misread step is the costly mistake, so a safety step does not count when
/// the message also says nobody is there ("không có ai ngồi cạnh mình", "nobody is with me", the
/// `step_doubt` signals, jokes among them) or speaks of intent, a plan, a time, a farewell, distress,
/// an assault ("bố về rồi, mình sợ lắm") or death ("xe cấp cứu chở nó đi rồi, nhưng nó mất rồi").
/// Means and family words alone do not void it: handing the pills to mum names both.
pub(crate) fn step_is_doubtful(explanation: &Explanation) -> bool {
    saw_signal(
        explanation,
        &[
            SignalKind::StepDoubt,
            SignalKind::Farewell,
            SignalKind::Time,
            SignalKind::Intent,
            SignalKind::Plan,
            SignalKind::Assault,
            SignalKind::Distress,
            SignalKind::Death,
        ],
    )
}

/// The step head's gate, the same in production, training and tests: the words of a step
/// ([`head_may_see_step`]) and nothing that casts doubt on it ([`step_is_doubtful`]).
pub(crate) fn step_gate(views: &Views, explanation: &Explanation) -> bool {
    head_may_see_step(views, explanation) && !step_is_doubtful(explanation)
}

/// The learned head may end a crisis only on a turn told in the words of a concrete step, not put
/// off for later, and with no negator anywhere in it: "mai em gọi", "mình không đi bệnh viện" or
/// "I didn't call the hotline" leave it nothing to read as a step. (The rule phrases judge their
/// own negation; the head, reading words, cannot.)
pub(crate) fn head_may_see_step(views: &Views, explanation: &Explanation) -> bool {
    saw_signal(explanation, &[SignalKind::StepCue])
        && !saw_signal(explanation, &[SignalKind::StepLater])
        && !(0..views.len()).any(|i| is_negator_at(views, i))
}

fn saw_signal(explanation: &Explanation, kinds: &[SignalKind]) -> bool {
    explanation
        .hits
        .iter()
        .any(|h| h.outcome == HitOutcome::Seen && is_signal_of(h, kinds))
}

/// The hit is a signal of one of `kinds`.
pub(crate) fn is_signal_of(hit: &ExplainHit, kinds: &[SignalKind]) -> bool {
    hit.kind == RuleKind::Signal && kinds.iter().any(|k| hit.category == k.as_str())
}

/// The rule phrases name a safety step (doubt is judged separately).
pub(crate) fn rules_saw_step(explanation: &Explanation) -> bool {
    saw_signal(explanation, &[SignalKind::SafetyStep])
}

/// A model-only crisis found with the help of earlier turns needs this much of a threshold from
/// the message read on its own.
const OWN_TEXT_FLOOR: f32 = 0.5;

/// The views of the earlier turns the model reads.
pub fn context_views(earlier: &[String]) -> Vec<Views> {
    let skip = earlier.len().saturating_sub(CONTEXT_TURNS);
    earlier
        .iter()
        .skip(skip)
        .map(|t| normalize_views(t))
        .collect()
}

/// How the rules' verdict weighs against the model's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Combination {
    /// A rule crisis at or above this severity stands whatever the model says.
    pub rules_override: Option<Severity>,
    /// A rule crisis below it stands when the model's strongest ratio reaches this.
    pub rules_ratio: f32,
}

/// The decision rule shared by production, training and evaluation.
pub fn combine(
    explanation: &Explanation,
    scores: ModelScores,
    classes: &[Category],
    elevated_ratio: f32,
    combination: Combination,
) -> Judgement {
    let Combination {
        rules_override,
        rules_ratio,
    } = combination;
    let rules = &explanation.assessment;
    let safety_step = rules_saw_step(explanation).then_some(StepSource::Rules);
    let strongest = scores.strongest();
    let rules_decide = rules.is_crisis
        && (rules.by_operator_rule
            || rules_override.is_some_and(|floor| rules.severity.is_some_and(|s| s >= floor))
            || strongest.is_some_and(|(_, ratio)| ratio >= rules_ratio));
    let model_class = strongest
        .filter(|(_, ratio)| *ratio >= 1.0)
        .and_then(|(class, _)| classes.get(class).copied());
    // A crisis phrase about someone else ("bạn mình định tự tử") is the rules' finding of a
    // third-party crisis: it stands at the rules' ratio of the model's third-party reading, as a
    // crisis phrase about the writer stands at the rules' ratio of its strongest. A phrase set
    // aside as a film's or a general question's is no finding about a person.
    let about_media_or_question = explanation.hits.iter().any(|h| {
        h.kind == RuleKind::Exception
            && (h.category == ExceptionKind::Media.as_str()
                || h.category == ExceptionKind::GeneralQuestion.as_str())
    });
    let rules_find_third_party = !rules.is_crisis
        && rules.third_party
        && !about_media_or_question
        && classes
            .iter()
            .position(|class| *class == Category::ThirdParty)
            .and_then(|class| scores.ratios.get(class))
            .is_some_and(|ratio| *ratio >= rules_ratio);
    let distress = explanation.hits.iter().any(|h| {
        h.kind == RuleKind::Signal
            && h.category == SignalKind::Distress.as_str()
            && h.outcome == HitOutcome::Seen
    });
    let (assessment, by_model) = if rules_decide {
        (rules.clone(), false)
    } else if let Some(category) = model_class {
        let mut categories = vec![category];
        if rules.is_crisis {
            categories.extend(rules.categories.iter().copied());
            categories.sort();
            categories.dedup();
        }
        let severity = if rules.is_crisis {
            rules.severity.unwrap_or(Severity::Medium)
        } else if strongest.is_some_and(|(_, ratio)| ratio >= 2.0) {
            Severity::High
        } else {
            Severity::Medium
        };
        (
            Assessment {
                is_crisis: true,
                categories,
                severity: Some(severity),
                rule_ids: rules.rule_ids.clone(),
                third_party: category == Category::ThirdParty,
                by_operator_rule: false,
            },
            !rules.is_crisis,
        )
    } else if rules_find_third_party {
        (
            Assessment {
                is_crisis: true,
                categories: vec![Category::ThirdParty],
                // Weaker evidence than a model finding of its own, which is High only at twice
                // its threshold.
                severity: Some(Severity::Medium),
                rule_ids: rules.rule_ids.clone(),
                third_party: true,
                by_operator_rule: false,
            },
            false,
        )
    } else {
        (
            Assessment {
                is_crisis: false,
                categories: Vec::new(),
                severity: None,
                rule_ids: Vec::new(),
                third_party: rules.third_party,
                by_operator_rule: false,
            },
            false,
        )
    };
    let level = if assessment.is_crisis {
        RiskLevel::Crisis
    } else if distress || rules.is_crisis || strongest.is_some_and(|(_, r)| r >= elevated_ratio) {
        RiskLevel::Elevated
    } else {
        RiskLevel::None
    };
    Judgement {
        assessment,
        level,
        safety_step,
        scores,
        by_model,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crisis::default_rules;

    fn gate(text: &str) -> bool {
        let rules = match CrisisDetector::compile(&default_rules()) {
            Ok(rules) => rules,
            Err(e) => panic!("default rules compile: {e:?}"),
        };
        let views = normalize_views(text);
        let explanation = rules.explain_views(&views);
        step_gate(&views, &explanation)
    }

    #[test]
    fn the_step_head_may_read_only_an_unnegated_step_that_is_not_for_later_or_a_joke() {
        for step in [
            "mẹ đang ngồi cạnh mình rồi",
            "t gọi 115 r, xe cứu thương đang tới",
            "my sister came over, she's sitting with me",
            // "nó" folds to the English "no" but negates nothing.
            "Em với mẹ em chạy qua rồi, đã gọi 115, xe cấp cứu đưa nó vào bệnh viện huyện.",
        ] {
            assert!(gate(step), "{step:?} should reach the head");
        }
        for not_a_step in [
            "mình không đi bệnh viện đâu",
            "không dám gọi cho mẹ",
            "mẹ không ở bên cạnh mình",
            "I didn't call the hotline",
            "I couldn't reach the hotline",
            "đùa thôi, mình đang ngồi xem phim",
            "jk I'm safe now",
            "mai em sẽ gọi cho mẹ",
            "mẹ sắp về nhà rồi",
            "ok i'll call the hotline tomorrow",
            "I took the pills",
            "vĩnh biệt mọi người, mẹ đang ngồi cạnh mình",
            "chủ nhật cả nhà đi lễ, em ở nhà một mình",
            "thầy bảo vệ ở dưới nhưng ổng đang ngủ",
            "my roommate is home but asleep",
            "Em đang ngồi ngoài ban công tầng 11.",
            "t khóa cửa phòng r, mà ổng có chìa",
            "t ngồi khóc trong nhà tắm",
            "I texted my sister goodbye",
            "I called my dad, he hung up",
            "bác sĩ nói em bị trầm cảm",
        ] {
            assert!(!gate(not_a_step), "{not_a_step:?} reached the head");
        }
    }
}
