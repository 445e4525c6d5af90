//! The judge's verdict, its strict parsing, and the merge rule that lets it raise the embedded
//! assessment but never lower it.
//!
//! Parsing is strict on purpose: a verdict that only half follows the schema says the model did not
//! understand the task, and an opinion we cannot trust is worse than none. The merge is one-way on
//! purpose too: the judge sees less context than the detector's rules were tuned on, can be
//! prompt-injected by the message it judges, and may be down; letting it clear a crisis would turn
//! any of those into a missed crisis, which is far worse than a false alarm.

use serde_json::{Map, Value};

use crate::crisis::{Assessment, Category, Severity};

/// Added to `rule_ids` when the judge changed the assessment, so anyone reading a stored or logged
/// assessment can tell the decision did not come from the embedded detector alone.
pub const JUDGE_RULE_ID: &str = "judge.model";

/// The category assumed when the judge says crisis but names none: the most urgent one.
pub const DEFAULT_CATEGORY: Category = Category::Suicide;

/// The severity assumed when the judge says crisis but names none.
pub const DEFAULT_SEVERITY: Severity = Severity::High;

/// The judge's overall risk level, as in the conversation labels of `docs/crisis/taxonomy.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JudgeRisk {
    /// Nothing worrying.
    None,
    /// Worrying, not yet a crisis.
    Elevated,
    /// Crisis support must be shown now.
    Crisis,
}

impl JudgeRisk {
    /// Every level.
    pub const ALL: [JudgeRisk; 3] = [JudgeRisk::None, JudgeRisk::Elevated, JudgeRisk::Crisis];

    /// The wire form, also fit for metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            JudgeRisk::None => "none",
            JudgeRisk::Elevated => "elevated",
            JudgeRisk::Crisis => "crisis",
        }
    }

    /// Parses the wire form (exact, lowercase).
    pub fn parse(value: &str) -> Option<Self> {
        JudgeRisk::ALL
            .into_iter()
            .find(|risk| risk.as_str() == value)
    }
}

/// What the judge said about one message. Holds no text of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JudgeVerdict {
    /// The overall risk.
    pub risk: JudgeRisk,
    /// The category the judge named; meaningful only with [`JudgeRisk::Crisis`].
    pub category: Option<Category>,
    /// The severity the judge named; meaningful only with [`JudgeRisk::Crisis`].
    pub severity: Option<Severity>,
}

const FIELDS: [&str; 3] = ["risk", "category", "severity"];

impl JudgeVerdict {
    /// Parses the model's answer: exactly one JSON object with exactly the keys `risk`, `category`
    /// and `severity` (the last two may be `null`), each with a value from the schema. Surrounding
    /// whitespace is allowed; anything else (prose, a code fence, an extra or missing key, an
    /// unknown or differently cased value) is `None`.
    pub fn parse(content: &str) -> Option<JudgeVerdict> {
        let object: Map<String, Value> = serde_json::from_str(content.trim()).ok()?;
        if object.len() != FIELDS.len() || !FIELDS.iter().all(|key| object.contains_key(*key)) {
            return None;
        }
        let risk = JudgeRisk::parse(object.get("risk")?.as_str()?)?;
        let category = nullable(object.get("category")?, Category::parse)?;
        let severity = nullable(object.get("severity")?, Severity::parse)?;
        Some(JudgeVerdict {
            risk,
            category,
            severity,
        })
    }
}

/// `null` is `Some(None)`; a known string is `Some(Some(_))`; anything else is `None` (invalid).
fn nullable<T>(value: &Value, parse: fn(&str) -> Option<T>) -> Option<Option<T>> {
    match value {
        Value::Null => Some(None),
        Value::String(text) => parse(text).map(Some),
        _ => None,
    }
}

/// The merged assessment, and whether the judge changed it (for a metric of raises).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The embedded assessment, raised by the judge where it saw more.
    pub assessment: Assessment,
    /// True when the judge made it a crisis, added a category or raised the severity.
    pub raised: bool,
}

/// Raises `embedded` by `verdict`; see [`merge`].
pub fn raise(embedded: &Assessment, verdict: &JudgeVerdict) -> Assessment {
    merge(embedded, verdict).assessment
}

/// The merge rule:
///
/// * judge `none` or `elevated` → `embedded` unchanged;
/// * judge `crisis`, embedded not → a crisis of the judge's category ([`DEFAULT_CATEGORY`] when
///   null) and severity ([`DEFAULT_SEVERITY`] when null); `third_party` is cleared, as the detector
///   never reports a crisis with it set (a danger to someone else is the `third_party` category);
/// * both crisis → the embedded categories plus the judge's if new (kept in order of precedence),
///   and the higher severity. Here a null category or severity means the judge has no opinion on
///   it and changes nothing: the defaults exist only to make a crisis out of nothing.
///
/// Whenever the result differs, [`JUDGE_RULE_ID`] joins `rule_ids`. Every other field of
/// `embedded` is carried over as it is.
pub fn merge(embedded: &Assessment, verdict: &JudgeVerdict) -> Merged {
    if verdict.risk != JudgeRisk::Crisis {
        return unchanged(embedded);
    }
    let mut merged = embedded.clone();
    if embedded.is_crisis {
        if let Some(category) = verdict.category
            && !merged.categories.contains(&category)
        {
            merged.categories.push(category);
            merged.categories.sort();
        }
        merged.severity = merged.severity.max(verdict.severity);
    } else {
        merged.is_crisis = true;
        merged.categories = vec![verdict.category.unwrap_or(DEFAULT_CATEGORY)];
        merged.severity = Some(verdict.severity.unwrap_or(DEFAULT_SEVERITY));
        merged.third_party = false;
    }
    if merged == *embedded {
        return unchanged(embedded);
    }
    if !merged.rule_ids.iter().any(|id| id == JUDGE_RULE_ID) {
        merged.rule_ids.push(JUDGE_RULE_ID.to_owned());
        merged.rule_ids.sort();
    }
    Merged {
        assessment: merged,
        raised: true,
    }
}

fn unchanged(embedded: &Assessment) -> Merged {
    Merged {
        assessment: embedded.clone(),
        raised: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(
        risk: JudgeRisk,
        category: Option<Category>,
        severity: Option<Severity>,
    ) -> JudgeVerdict {
        JudgeVerdict {
            risk,
            category,
            severity,
        }
    }

    /// Every verdict the schema allows, including contradictory ones (a category with `none`).
    fn all_verdicts() -> Vec<JudgeVerdict> {
        let categories = std::iter::once(None).chain(Category::ALL.into_iter().map(Some));
        let mut out = Vec::new();
        for risk in JudgeRisk::ALL {
            for category in categories.clone() {
                for severity in [
                    None,
                    Some(Severity::Medium),
                    Some(Severity::High),
                    Some(Severity::Critical),
                ] {
                    out.push(verdict(risk, category, severity));
                }
            }
        }
        out
    }

    /// Not-crisis assessments (plain and about someone else) and crisis assessments of every
    /// category, pair of categories and severity.
    fn all_embedded() -> Vec<Assessment> {
        let mut out = vec![
            Assessment::default(),
            Assessment {
                third_party: true,
                ..Default::default()
            },
        ];
        let mut category_sets: Vec<Vec<Category>> =
            Category::ALL.iter().map(|c| vec![*c]).collect();
        category_sets.push(vec![Category::Suicide, Category::Abuse]);
        category_sets.push(vec![Category::SelfHarm, Category::ThirdParty]);
        for categories in category_sets {
            for severity in [Severity::Medium, Severity::High, Severity::Critical] {
                out.push(Assessment {
                    is_crisis: true,
                    categories: categories.clone(),
                    severity: Some(severity),
                    rule_ids: vec!["p.sui.example".to_owned(), "s.plan".to_owned()],
                    ..Default::default()
                });
            }
        }
        out
    }

    fn with_judge_id(mut ids: Vec<String>) -> Vec<String> {
        ids.push(JUDGE_RULE_ID.to_owned());
        ids.sort();
        ids
    }

    #[test]
    fn merge_is_exhaustively_one_way() {
        for embedded in all_embedded() {
            for v in all_verdicts() {
                let Merged { assessment, raised } = merge(&embedded, &v);
                let context = format!("{embedded:?} + {v:?} = {assessment:?}");
                assert_eq!(raise(&embedded, &v), assessment, "{context}");
                assert_eq!(raised, assessment != embedded, "{context}");

                // Never lowered: a crisis stays one, categories only grow, severity never drops.
                assert!(assessment.is_crisis >= embedded.is_crisis, "{context}");
                if embedded.is_crisis {
                    assert!(
                        embedded
                            .categories
                            .iter()
                            .all(|c| assessment.categories.contains(c)),
                        "{context}"
                    );
                    assert!(assessment.severity >= embedded.severity, "{context}");
                }
                assert!(
                    assessment.categories.windows(2).all(|w| w[0] < w[1]),
                    "categories stay in order of precedence without duplicates: {context}"
                );

                match (v.risk, embedded.is_crisis) {
                    (JudgeRisk::None | JudgeRisk::Elevated, _) => {
                        assert_eq!(assessment, embedded, "{context}");
                        assert!(!raised, "{context}");
                    }
                    (JudgeRisk::Crisis, false) => {
                        assert!(raised, "{context}");
                        // Built from a clone so fields added to Assessment later are covered.
                        let mut expected = embedded.clone();
                        expected.is_crisis = true;
                        expected.categories = vec![v.category.unwrap_or(Category::Suicide)];
                        expected.severity = Some(v.severity.unwrap_or(Severity::High));
                        expected.rule_ids = with_judge_id(embedded.rule_ids.clone());
                        expected.third_party = false;
                        assert_eq!(assessment, expected, "{context}");
                    }
                    (JudgeRisk::Crisis, true) => {
                        let mut categories = embedded.categories.clone();
                        if let Some(c) = v.category
                            && !categories.contains(&c)
                        {
                            categories.push(c);
                            categories.sort();
                        }
                        let severity = embedded.severity.max(v.severity);
                        let changed =
                            categories != embedded.categories || severity != embedded.severity;
                        assert_eq!(raised, changed, "{context}");
                        let rule_ids = if changed {
                            with_judge_id(embedded.rule_ids.clone())
                        } else {
                            embedded.rule_ids.clone()
                        };
                        let mut expected = embedded.clone();
                        expected.categories = categories;
                        expected.severity = severity;
                        expected.rule_ids = rule_ids;
                        assert_eq!(assessment, expected, "{context}");
                    }
                }
            }
        }
    }

    #[test]
    fn judge_alone_makes_a_crisis_with_defaults() {
        let merged = merge(
            &Assessment {
                third_party: true,
                ..Default::default()
            },
            &verdict(JudgeRisk::Crisis, None, None),
        );
        assert!(merged.raised);
        assert!(merged.assessment.is_crisis);
        assert_eq!(merged.assessment.categories, vec![Category::Suicide]);
        assert_eq!(merged.assessment.severity, Some(Severity::High));
        assert_eq!(merged.assessment.rule_ids, vec![JUDGE_RULE_ID.to_owned()]);
        assert!(!merged.assessment.third_party);
    }

    #[test]
    fn both_crisis_adds_category_in_precedence_order_and_keeps_higher_severity() {
        let embedded = Assessment {
            is_crisis: true,
            categories: vec![Category::Abuse],
            severity: Some(Severity::Critical),
            rule_ids: vec!["p.abuse.x".to_owned()],
            ..Default::default()
        };
        let merged = merge(
            &embedded,
            &verdict(
                JudgeRisk::Crisis,
                Some(Category::Suicide),
                Some(Severity::Medium),
            ),
        );
        assert!(merged.raised);
        assert_eq!(
            merged.assessment.categories,
            vec![Category::Suicide, Category::Abuse]
        );
        assert_eq!(merged.assessment.severity, Some(Severity::Critical));
        assert_eq!(
            merged.assessment.rule_ids,
            vec![JUDGE_RULE_ID.to_owned(), "p.abuse.x".to_owned()]
        );
    }

    #[test]
    fn agreeing_judge_changes_nothing() {
        let embedded = Assessment {
            is_crisis: true,
            categories: vec![Category::Suicide],
            severity: Some(Severity::High),
            rule_ids: vec!["p.sui.x".to_owned()],
            ..Default::default()
        };
        for v in [
            verdict(
                JudgeRisk::Crisis,
                Some(Category::Suicide),
                Some(Severity::High),
            ),
            verdict(JudgeRisk::Crisis, None, None),
            verdict(
                JudgeRisk::Crisis,
                Some(Category::Suicide),
                Some(Severity::Medium),
            ),
        ] {
            let merged = merge(&embedded, &v);
            assert!(!merged.raised, "{v:?}");
            assert_eq!(merged.assessment, embedded, "{v:?}");
        }
    }

    #[test]
    fn judge_id_is_a_valid_rule_id_and_not_added_twice() {
        assert!(
            JUDGE_RULE_ID
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
        );
        let once = raise(
            &Assessment::default(),
            &verdict(JudgeRisk::Crisis, None, Some(Severity::Medium)),
        );
        let twice = raise(
            &once,
            &verdict(JudgeRisk::Crisis, None, Some(Severity::Critical)),
        );
        assert_eq!(twice.severity, Some(Severity::Critical));
        assert_eq!(twice.rule_ids, vec![JUDGE_RULE_ID.to_owned()]);
    }

    #[test]
    fn parses_every_valid_verdict() {
        for v in all_verdicts() {
            let json = serde_json::json!({
                "risk": v.risk.as_str(),
                "category": v.category.map(Category::as_str),
                "severity": v.severity.map(Severity::as_str),
            });
            assert_eq!(JudgeVerdict::parse(&json.to_string()), Some(v), "{json}");
        }
        assert_eq!(
            JudgeVerdict::parse(
                "\n  {\"severity\": \"critical\", \"risk\": \"crisis\", \"category\": \"self_harm\"}  \n"
            ),
            Some(verdict(
                JudgeRisk::Crisis,
                Some(Category::SelfHarm),
                Some(Severity::Critical)
            ))
        );
    }

    #[test]
    fn rejects_anything_else() {
        for bad in [
            "",
            "   ",
            "null",
            "[]",
            "\"crisis\"",
            "crisis",
            "<html>oops</html>",
            r#"{"risk": "crisis"}"#,
            r#"{"risk": "crisis", "category": null}"#,
            r#"{"category": null, "severity": null}"#,
            r#"{"risk": "crisis", "category": null, "severity": null, "reason": "x"}"#,
            r#"{"risk": "Crisis", "category": null, "severity": null}"#,
            r#"{"risk": "high", "category": null, "severity": null}"#,
            r#"{"risk": null, "category": null, "severity": null}"#,
            r#"{"risk": 2, "category": null, "severity": null}"#,
            r#"{"risk": "crisis", "category": "suicidal", "severity": null}"#,
            r#"{"risk": "crisis", "category": "", "severity": null}"#,
            r#"{"risk": "crisis", "category": ["suicide"], "severity": null}"#,
            r#"{"risk": "crisis", "category": null, "severity": "low"}"#,
            r#"{"risk": "crisis", "category": null, "severity": 3}"#,
            r#"{"risk": "crisis", "category": null, "severity": null} trailing"#,
            r#"{"risk": "crisis", "category": null, "severity": null}{"risk": "none"}"#,
            "```json\n{\"risk\": \"crisis\", \"category\": null, \"severity\": null}\n```",
            "Here it is: {\"risk\": \"none\", \"category\": null, \"severity\": null}",
        ] {
            assert_eq!(JudgeVerdict::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn risk_labels_round_trip() {
        for risk in JudgeRisk::ALL {
            assert_eq!(JudgeRisk::parse(risk.as_str()), Some(risk));
        }
        assert_eq!(JudgeRisk::parse("CRISIS"), None);
    }
}
