//! Risk as a property of the conversation, not of one message.
//!
//! Once a conversation is in crisis, every later turn shows crisis support until the person names
//! a concrete safety step or the conversation has been quiet for the configured period. A joke
//! retraction ("đùa thôi 😂"), "I'm fine" or a change of subject does not end it: they are what
//! people say when they are embarrassed, not evidence of safety. What counts as a step is the
//! judgement's `safety_step`: the rule phrases, or the learned step head.

use serde::{Deserialize, Serialize};

use super::detector::Assessment;
use super::model::{Judgement, StepSource};
use super::types::{Category, RiskLevel, Severity};

/// The risk a session carries from one turn to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRisk {
    /// The level after the last turn.
    pub level: RiskLevel,
    /// The category of the crisis in force (`level == Crisis`).
    pub category: Option<Category>,
    /// Its severity.
    pub severity: Option<Severity>,
    /// Calm turns an `elevated` conversation still stays elevated for.
    #[serde(default)]
    pub elevated_turns_left: u8,
}

/// How many calm turns a worrying message colours: enough for the next few messages to be read in
/// its light, not so many that one dark joke marks the rest of the evening.
const ELEVATED_TURNS: u8 = 3;

/// What one turn did to the conversation's risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// This message is a crisis of its own.
    NewCrisis,
    /// An earlier crisis continues: this turn still gets crisis support.
    CrisisContinues,
    /// A concrete safety step ended the crisis.
    SafetyStep,
    /// The conversation was quiet long enough that the crisis lapsed.
    QuietPeriod,
    /// No crisis before or now.
    NoCrisis,
}

impl ConversationRisk {
    /// True when this turn shows the crisis card and the safety check-in.
    pub fn shows_crisis_support(&self) -> bool {
        self.level == RiskLevel::Crisis
    }

    /// The crisis in force as an assessment, for the crisis card of a turn that continues it.
    pub fn as_assessment(&self) -> Assessment {
        Assessment {
            is_crisis: self.shows_crisis_support(),
            categories: self.category.into_iter().collect(),
            severity: self.severity.or(Some(Severity::High)),
            rule_ids: Vec::new(),
            third_party: self.category == Some(Category::ThirdParty),
            by_operator_rule: false,
        }
    }

    /// The risk after a turn judged `judgement`; `quiet_period_passed` when the conversation was
    /// silent for at least the configured quiet period before this turn.
    pub fn advance(self, judgement: &Judgement, quiet_period_passed: bool) -> (Self, Transition) {
        // A safety step outranks a crisis the model reads into it from the turns before ("my
        // brother is here with me now" after "I'm on the bridge"); the rules' own finding of a
        // new crisis in the same message still counts.
        let step_ends_crisis = self.level == RiskLevel::Crisis
            && judgement.safety_step == Some(StepSource::Rules)
            && judgement.by_model;
        if judgement.assessment.is_crisis && !step_ends_crisis {
            let category = judgement.assessment.categories.first().copied();
            return (
                ConversationRisk {
                    level: RiskLevel::Crisis,
                    category,
                    severity: judgement.assessment.severity,
                    elevated_turns_left: ELEVATED_TURNS,
                },
                Transition::NewCrisis,
            );
        }
        let elevated = |turns| ConversationRisk {
            level: RiskLevel::Elevated,
            category: None,
            severity: None,
            elevated_turns_left: turns,
        };
        match self.level {
            RiskLevel::Crisis if judgement.safety_step.is_some() => {
                (elevated(ELEVATED_TURNS), Transition::SafetyStep)
            }
            RiskLevel::Crisis if quiet_period_passed => {
                (elevated(ELEVATED_TURNS), Transition::QuietPeriod)
            }
            RiskLevel::Crisis => (self, Transition::CrisisContinues),
            _ if judgement.level == RiskLevel::Elevated => {
                (elevated(ELEVATED_TURNS), Transition::NoCrisis)
            }
            RiskLevel::Elevated if !quiet_period_passed && self.elevated_turns_left > 1 => {
                (elevated(self.elevated_turns_left - 1), Transition::NoCrisis)
            }
            _ => (ConversationRisk::default(), Transition::NoCrisis),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crisis::model::ModelScores;

    fn judged(level: RiskLevel, category: Option<Category>, safety_step: bool) -> Judgement {
        Judgement {
            assessment: Assessment {
                is_crisis: category.is_some(),
                categories: category.into_iter().collect(),
                ..Assessment::default()
            },
            level,
            safety_step: safety_step.then_some(StepSource::Rules),
            scores: ModelScores {
                probabilities: vec![],
                ratios: vec![],
            },
            by_model: false,
        }
    }

    #[test]
    fn a_crisis_persists_until_a_safety_step_or_quiet() {
        let start = ConversationRisk::default();
        let (risk, t) = start.advance(
            &judged(RiskLevel::Crisis, Some(Category::Suicide), false),
            false,
        );
        assert_eq!(t, Transition::NewCrisis);
        assert_eq!(risk.category, Some(Category::Suicide));
        let joke = judged(RiskLevel::None, None, false);
        let (risk, t) = risk.advance(&joke, false);
        assert_eq!(t, Transition::CrisisContinues);
        assert!(risk.shows_crisis_support());
        assert_eq!(risk.category, Some(Category::Suicide));
        let (after_step, t) = risk.advance(&judged(RiskLevel::None, None, true), false);
        assert_eq!(t, Transition::SafetyStep);
        assert_eq!(after_step.level, RiskLevel::Elevated);
        assert!(!after_step.shows_crisis_support());
        let (lapsed, t) = risk.advance(&joke, true);
        assert_eq!(t, Transition::QuietPeriod);
        assert!(!lapsed.shows_crisis_support());
    }

    #[test]
    fn a_safety_step_outranks_a_crisis_only_the_model_reads_into_it() {
        let crisis = ConversationRisk {
            level: RiskLevel::Crisis,
            category: Some(Category::Suicide),
            severity: Some(Severity::High),
            elevated_turns_left: 0,
        };
        let mut by_model = judged(RiskLevel::Crisis, Some(Category::Suicide), true);
        by_model.by_model = true;
        let (risk, t) = crisis.advance(&by_model, false);
        assert_eq!(t, Transition::SafetyStep);
        assert!(!risk.shows_crisis_support());
    }

    #[test]
    fn a_step_only_the_step_head_reads_never_outranks_a_crisis_in_the_same_message() {
        let crisis = ConversationRisk {
            level: RiskLevel::Crisis,
            category: Some(Category::Suicide),
            severity: Some(Severity::High),
            elevated_turns_left: 0,
        };
        let mut head_only = judged(RiskLevel::Crisis, Some(Category::Suicide), true);
        head_only.by_model = true;
        head_only.safety_step = Some(StepSource::Head);
        let (risk, t) = crisis.advance(&head_only, false);
        assert_eq!(t, Transition::NewCrisis);
        assert!(risk.shows_crisis_support());
    }

    #[test]
    fn a_safety_step_in_a_new_crisis_message_does_not_end_it() {
        let crisis = ConversationRisk {
            level: RiskLevel::Crisis,
            category: Some(Category::Abuse),
            severity: Some(Severity::High),
            elevated_turns_left: 0,
        };
        let (risk, t) = crisis.advance(
            &judged(RiskLevel::Crisis, Some(Category::Violence), true),
            false,
        );
        assert_eq!(t, Transition::NewCrisis);
        assert_eq!(risk.category, Some(Category::Violence));
    }

    #[test]
    fn elevated_fades_after_a_few_calm_turns_or_a_quiet_period() {
        let start = ConversationRisk::default();
        let (risk, _) = start.advance(&judged(RiskLevel::Elevated, None, false), false);
        assert_eq!(risk.level, RiskLevel::Elevated);
        let calm = judged(RiskLevel::None, None, false);
        let mut later = risk;
        for _ in 1..ELEVATED_TURNS {
            later = later.advance(&calm, false).0;
            assert_eq!(later.level, RiskLevel::Elevated);
        }
        assert_eq!(later.advance(&calm, false).0.level, RiskLevel::None);
        assert_eq!(risk.advance(&calm, true).0.level, RiskLevel::None);
    }
}
