//! The vocabulary shared by rules, the detector and the crisis card.

use serde::{Deserialize, Serialize};

/// What kind of danger a message points to.
///
/// The declaration order is the order of precedence when a message touches several categories
/// (the crisis card speaks first to the first one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Thoughts, intent or plans of ending one's life.
    Suicide,
    /// Hurting oneself without (stated) intent to die.
    SelfHarm,
    /// Abuse by family, carers or anyone sexual, including of children.
    Abuse,
    /// Assault, threats or danger from another person, or intent to hurt others.
    Violence,
    /// Someone else (a friend, a sibling) is in danger of any of the above, and the writer is the
    /// one who can get them help.
    ThirdParty,
}

impl Category {
    /// Every category, in order of precedence.
    pub const ALL: [Category; 5] = [
        Category::Suicide,
        Category::SelfHarm,
        Category::Abuse,
        Category::Violence,
        Category::ThirdParty,
    ];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Suicide => "suicide",
            Category::SelfHarm => "self_harm",
            Category::Abuse => "abuse",
            Category::Violence => "violence",
            Category::ThirdParty => "third_party",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        Category::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

/// How urgent a crisis is; `Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worrying words without intent or plan.
    Medium,
    /// Clear intent, or ongoing abuse or violence.
    High,
    /// A plan, a method at hand, or a farewell together with intent.
    Critical,
}

impl Severity {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// How much worry a conversation shows, as the session status reports it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Nothing worrying, or a concrete safety step ended an earlier crisis.
    #[default]
    None,
    /// Worrying but not (yet) a crisis: hopelessness, hints that are not clear yet.
    Elevated,
    /// Crisis support is shown on every turn.
    Crisis,
}

impl RiskLevel {
    /// Every level, lowest first.
    pub const ALL: [RiskLevel; 3] = [RiskLevel::None, RiskLevel::Elevated, RiskLevel::Crisis];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::None => "none",
            RiskLevel::Elevated => "elevated",
            RiskLevel::Crisis => "crisis",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        RiskLevel::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// What a rule does when its pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A phrase that on its own marks a crisis of its category.
    Phrase,
    /// A phrase that cancels or softens phrase matches (hyperbole, media, negation, ...).
    Exception,
    /// A word about intent, plan, means or farewell that only counts in combination.
    Signal,
}

impl RuleKind {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Phrase => "phrase",
            RuleKind::Exception => "exception",
            RuleKind::Signal => "signal",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "phrase" => Some(RuleKind::Phrase),
            "exception" => Some(RuleKind::Exception),
            "signal" => Some(RuleKind::Signal),
            _ => None,
        }
    }
}

/// The kinds of exception; the `category` of an exception rule names one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionKind {
    /// "mệt muốn chết": cancels phrase matches it overlaps.
    Hyperbole,
    /// "giết thời gian", "đánh giá": cancels phrase matches it overlaps.
    Idiom,
    /// Films, news, books: cancels matches not anchored on the writer.
    Media,
    /// "làm sao giúp bạn mình ...": cancels matches not anchored on the writer.
    GeneralQuestion,
    /// "bạn ấy", "người ta": cancels matches not anchored on the writer.
    ThirdPerson,
    /// "không có ý định": cancels phrase matches just after it, never plan or means.
    Negation,
    /// "giờ ổn rồi": cancels phrase matches unless something says it is happening again.
    ResolvedPast,
}

impl ExceptionKind {
    /// Every exception kind.
    pub const ALL: [ExceptionKind; 7] = [
        ExceptionKind::Hyperbole,
        ExceptionKind::Idiom,
        ExceptionKind::Media,
        ExceptionKind::GeneralQuestion,
        ExceptionKind::ThirdPerson,
        ExceptionKind::Negation,
        ExceptionKind::ResolvedPast,
    ];

    /// The stored form (the `category` column of an exception rule).
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::Hyperbole => "hyperbole",
            ExceptionKind::Idiom => "idiom",
            ExceptionKind::Media => "media",
            ExceptionKind::GeneralQuestion => "general_question",
            ExceptionKind::ThirdPerson => "third_person",
            ExceptionKind::Negation => "negation",
            ExceptionKind::ResolvedPast => "resolved_past",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        ExceptionKind::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// The kinds of signal; the `category` of a signal rule names one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalKind {
    /// "muốn", "định", "sẽ", "want to".
    Intent,
    /// Preparation or the act itself: "uống hết", "gom đủ", "nhảy xuống".
    Plan,
    /// A time soon: "tối nay", "tonight". Only strengthens other evidence.
    Time,
    /// A method that is rarely innocent: "thuốc ngủ", "800mg", 💊.
    Means,
    /// A method with many innocent uses: "con dao", "sân thượng", "cây cầu".
    WeakMeans,
    /// Tools of self-harm: "lưỡi lam", "dao lam", "razor".
    HarmMeans,
    /// Goodbyes and giving things away.
    Farewell,
    /// Hopelessness and exhaustion: "không chịu nổi", "tuyệt vọng".
    Distress,
    /// "lại", "dạo này": it is happening now, so a resolved-past exception does not apply.
    Present,
    /// A family member or carer ("bố", "dượng"): followed by an assault word it means abuse.
    Abuser,
    /// A violent or sexual act ("đánh", "sờ", "tát"): counts after an abuser word or "bị".
    Assault,
    /// Dying or disappearing ("chết", "biến mất", "ngủ mãi không dậy"): counts right after intent.
    Death,
    /// A concrete safety step ("mẹ đang ngồi cạnh mình", "gọi 115 rồi", "đưa thuốc cho mẹ rồi"): it
    /// ends a conversation's crisis mode; it never makes or cancels a crisis by itself.
    SafetyStep,
    /// Words a concrete step is told in ("ngồi cạnh", "gọi", "bệnh viện", "vứt", "with me"):
    /// alone they prove nothing, but the learned step head may end a crisis only where one is seen.
    StepCue,
    /// The step is for later ("mai", "lát nữa", "để mình thử", "tomorrow"): the learned head may
    /// not end a crisis on a promise.
    StepLater,
    /// "Nobody", "no answer": said around a would-be safety step, they mean there is none.
    StepDoubt,
    /// A time that is over ("hồi trước", "ngày xưa", "hồi nhỏ", "when i was little"): with a later
    /// [`SignalKind::Nowadays`] clause that says the danger is [`SignalKind::Settled`] and names
    /// none, it puts what its own clause told to rest.
    Past,
    /// The present set against the past ("giờ", "bây giờ", "now"): see [`SignalKind::Past`].
    Nowadays,
    /// The danger is over ("ổn rồi", "ly hôn", "safe"): after a [`SignalKind::Nowadays`] marker,
    /// what a [`SignalKind::Past`] clause told is the resolved past.
    Settled,
}

impl SignalKind {
    /// Every signal kind.
    pub const ALL: [SignalKind; 19] = [
        SignalKind::Intent,
        SignalKind::Plan,
        SignalKind::Time,
        SignalKind::Means,
        SignalKind::WeakMeans,
        SignalKind::HarmMeans,
        SignalKind::Farewell,
        SignalKind::Distress,
        SignalKind::Present,
        SignalKind::Abuser,
        SignalKind::Assault,
        SignalKind::Death,
        SignalKind::SafetyStep,
        SignalKind::StepCue,
        SignalKind::StepLater,
        SignalKind::StepDoubt,
        SignalKind::Past,
        SignalKind::Nowadays,
        SignalKind::Settled,
    ];

    /// The stored form (the `category` column of a signal rule).
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Intent => "intent",
            SignalKind::Plan => "plan",
            SignalKind::Time => "time",
            SignalKind::Means => "means",
            SignalKind::WeakMeans => "weak_means",
            SignalKind::HarmMeans => "harm_means",
            SignalKind::Farewell => "farewell",
            SignalKind::Distress => "distress",
            SignalKind::Present => "present",
            SignalKind::Abuser => "abuser",
            SignalKind::Assault => "assault",
            SignalKind::Death => "death",
            SignalKind::SafetyStep => "safety_step",
            SignalKind::StepCue => "step_cue",
            SignalKind::StepLater => "step_later",
            SignalKind::StepDoubt => "step_doubt",
            SignalKind::Past => "past",
            SignalKind::Nowadays => "nowadays",
            SignalKind::Settled => "settled",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        SignalKind::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// One row of the `blocked_keywords` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSpec {
    /// Stable identifier reported in assessments: `[a-z0-9_.-]`, at most 64 characters.
    pub rule_id: String,
    /// The phrase as a person would type it; it goes through the same normalisation as messages.
    pub pattern: String,
    /// A crisis category for phrases, an exception kind for exceptions, a signal kind for signals.
    pub category: String,
    /// Required for phrases, absent for exceptions and signals.
    pub severity: Option<Severity>,
    /// `vi`, `en` or `any`; Vietnamese phrases also match without diacritics when multi-syllable.
    pub language: String,
    /// Phrase, exception or signal.
    pub kind: RuleKind,
    /// Disabled rules are kept in the table but not compiled.
    pub enabled: bool,
}

/// Why a rule cannot be compiled; messages are meant for an operator at a terminal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rule id is empty.
    #[error("rule_id must not be empty")]
    EmptyRuleId,
    /// The rule id has characters outside `[a-z0-9_.-]` or is too long.
    #[error("rule_id {0:?} is invalid: use at most 64 characters from a-z, 0-9, '_', '.', '-'")]
    BadRuleId(String),
    /// Two enabled rules share an id.
    #[error("rule_id {0:?} is used by more than one rule")]
    DuplicateRuleId(String),
    /// The pattern is empty or only whitespace.
    #[error("rule {0:?}: pattern must not be empty")]
    EmptyPattern(String),
    /// The pattern is longer than 200 characters.
    #[error("rule {0:?}: pattern is longer than 200 characters")]
    PatternTooLong(String),
    /// The pattern has no letters, digits or emoji left after normalisation.
    #[error("rule {0:?}: pattern normalises to nothing (only punctuation or invisible characters)")]
    PatternNormalisesToNothing(String),
    /// A Vietnamese phrase of one syllable would match inside unrelated words.
    #[error(
        "rule {0:?}: a Vietnamese phrase needs at least two syllables (a lone syllable such as \
         'sát' also occurs in 'cảnh sát'); make it a signal or add context"
    )]
    SingleSyllablePhrase(String),
    /// The category does not exist for this kind of rule.
    #[error(
        "rule {rule_id:?}: unknown category {category:?} for a {kind} rule; expected one of: {expected}"
    )]
    UnknownCategory {
        /// The offending rule.
        rule_id: String,
        /// The kind of the rule.
        kind: &'static str,
        /// What was given.
        category: String,
        /// What is accepted.
        expected: String,
    },
    /// A phrase rule without severity.
    #[error("rule {0:?}: a phrase rule needs a severity (medium, high or critical)")]
    MissingSeverity(String),
    /// An exception or signal rule with severity.
    #[error(
        "rule {0:?}: severity only applies to phrase rules; leave it empty for exceptions and signals"
    )]
    UnexpectedSeverity(String),
    /// The language is not `vi`, `en` or `any`.
    #[error("rule {rule_id:?}: unknown language {language:?}; expected vi, en or any")]
    UnknownLanguage {
        /// The offending rule.
        rule_id: String,
        /// What was given.
        language: String,
    },
    /// The automaton could not be built (too many or too large patterns).
    #[error("the rule set could not be compiled: {0}")]
    Automaton(String),
}

/// The language a rule is written in, parsed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleLanguage {
    Vi,
    En,
    Any,
}

impl RuleLanguage {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "vi" => Some(RuleLanguage::Vi),
            "en" => Some(RuleLanguage::En),
            "any" => Some(RuleLanguage::Any),
            _ => None,
        }
    }
}

/// What a rule means once its category has been parsed for its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleClass {
    Crisis(Category),
    Exception(ExceptionKind),
    Signal(SignalKind),
}

impl RuleSpec {
    /// Checks everything that can be checked on one row, with a message fit for `cbln keywords add`.
    pub fn validate(&self) -> Result<(), RuleError> {
        self.parsed().map(|_| ())
    }

    /// Validates and returns the parsed class, language and normalised pattern syllables.
    pub(crate) fn parsed(&self) -> Result<(RuleClass, RuleLanguage, Vec<String>), RuleError> {
        let id = self.rule_id.as_str();
        if id.is_empty() {
            return Err(RuleError::EmptyRuleId);
        }
        let id_ok = id.chars().count() <= 64
            && id.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')
            });
        if !id_ok {
            return Err(RuleError::BadRuleId(id.to_owned()));
        }
        if self.pattern.trim().is_empty() {
            return Err(RuleError::EmptyPattern(id.to_owned()));
        }
        if self.pattern.chars().count() > 200 {
            return Err(RuleError::PatternTooLong(id.to_owned()));
        }
        let language =
            RuleLanguage::parse(&self.language).ok_or_else(|| RuleError::UnknownLanguage {
                rule_id: id.to_owned(),
                language: self.language.clone(),
            })?;
        let class = match self.kind {
            RuleKind::Phrase => Category::parse(&self.category).map(RuleClass::Crisis),
            RuleKind::Exception => ExceptionKind::parse(&self.category).map(RuleClass::Exception),
            RuleKind::Signal => SignalKind::parse(&self.category).map(RuleClass::Signal),
        };
        let class = class.ok_or_else(|| RuleError::UnknownCategory {
            rule_id: id.to_owned(),
            kind: self.kind.as_str(),
            category: self.category.clone(),
            expected: expected_categories(self.kind),
        })?;
        match (self.kind, self.severity) {
            (RuleKind::Phrase, None) => return Err(RuleError::MissingSeverity(id.to_owned())),
            (RuleKind::Exception | RuleKind::Signal, Some(_)) => {
                return Err(RuleError::UnexpectedSeverity(id.to_owned()));
            }
            _ => {}
        }
        let views = crate::text::normalize_views(&self.pattern);
        let syllables: Vec<String> = views.toned_tokens().map(str::to_owned).collect();
        if syllables.is_empty() {
            return Err(RuleError::PatternNormalisesToNothing(id.to_owned()));
        }
        let is_emoji = syllables
            .iter()
            .all(|s| s.chars().all(crate::text::is_emoji));
        if self.kind == RuleKind::Phrase
            && language == RuleLanguage::Vi
            && syllables.len() < 2
            && !is_emoji
        {
            return Err(RuleError::SingleSyllablePhrase(id.to_owned()));
        }
        Ok((class, language, syllables))
    }
}

fn expected_categories(kind: RuleKind) -> String {
    let names: Vec<&str> = match kind {
        RuleKind::Phrase => Category::ALL.iter().map(|c| c.as_str()).collect(),
        RuleKind::Exception => ExceptionKind::ALL.iter().map(|c| c.as_str()).collect(),
        RuleKind::Signal => SignalKind::ALL.iter().map(|c| c.as_str()).collect(),
    };
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, category: &str, kind: RuleKind, severity: Option<Severity>) -> RuleSpec {
        RuleSpec {
            rule_id: "test.rule".to_owned(),
            pattern: pattern.to_owned(),
            category: category.to_owned(),
            severity,
            language: "vi".to_owned(),
            kind,
            enabled: true,
        }
    }

    #[test]
    fn validation_messages() {
        let ok = rule(
            "muốn chết",
            "suicide",
            RuleKind::Phrase,
            Some(Severity::High),
        );
        assert_eq!(ok.validate(), Ok(()));
        let bad_id = RuleSpec {
            rule_id: "Bad Id".to_owned(),
            ..ok.clone()
        };
        assert!(matches!(bad_id.validate(), Err(RuleError::BadRuleId(_))));
        assert!(matches!(
            rule("  ", "suicide", RuleKind::Phrase, Some(Severity::High)).validate(),
            Err(RuleError::EmptyPattern(_))
        ));
        assert!(matches!(
            rule("?!.", "suicide", RuleKind::Phrase, Some(Severity::High)).validate(),
            Err(RuleError::PatternNormalisesToNothing(_))
        ));
        assert!(matches!(
            rule("sát", "suicide", RuleKind::Phrase, Some(Severity::High)).validate(),
            Err(RuleError::SingleSyllablePhrase(_))
        ));
        assert!(matches!(
            rule(
                "muốn chết",
                "hyperbole",
                RuleKind::Phrase,
                Some(Severity::High)
            )
            .validate(),
            Err(RuleError::UnknownCategory { .. })
        ));
        assert!(matches!(
            rule("muốn chết", "suicide", RuleKind::Phrase, None).validate(),
            Err(RuleError::MissingSeverity(_))
        ));
        assert!(matches!(
            rule(
                "đói muốn chết",
                "hyperbole",
                RuleKind::Exception,
                Some(Severity::High)
            )
            .validate(),
            Err(RuleError::UnexpectedSeverity(_))
        ));
        let err = rule("x y", "nope", RuleKind::Signal, None).validate();
        let msg = err.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(msg.contains("means"), "{msg}");
    }

    #[test]
    fn enums_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        assert!(Severity::Medium < Severity::High && Severity::High < Severity::Critical);
        for k in [RuleKind::Phrase, RuleKind::Exception, RuleKind::Signal] {
            assert_eq!(RuleKind::parse(k.as_str()), Some(k));
        }
        let json = serde_json::to_string(&Category::SelfHarm).unwrap_or_default();
        assert_eq!(json, "\"self_harm\"");
    }
}
