//! The seed rule set for `blocked_keywords`: `content/crisis-rules.toml`, compiled in.
//!
//! Every rule carries an explicit id in the file, so adding, removing or reordering rules never
//! renames another (ids used to be derived from the pattern and the list order). Patterns are
//! written the way a person would type them with full diacritics; normalisation gives the
//! accent-free, teen-code, Telex and split-letter forms for free, so none are listed.

use std::sync::LazyLock;

use serde::Deserialize;

use super::types::{RuleKind, RuleSpec, Severity};

const SEED_RULES_TOML: &str = include_str!("../../../content/crisis-rules.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    group: Vec<SeedGroup>,
}

/// Rules sharing a kind, a category and (for phrases) a severity, in file order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedGroup {
    kind: RuleKind,
    category: String,
    #[serde(default)]
    severity: Option<Severity>,
    language: String,
    rules: Vec<SeedRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRule {
    id: String,
    pattern: String,
    /// Overrides the group's language for this rule.
    #[serde(default)]
    language: Option<String>,
}

/// Parses a rules file in the format of `content/crisis-rules.toml` (an operator's edited copy is
/// what `cbln crisis train --rules` learns with).
pub fn parse_seed_rules(text: &str) -> Result<Vec<RuleSpec>, toml::de::Error> {
    let file: SeedFile = toml::from_str(text)?;
    Ok(file
        .group
        .into_iter()
        .flat_map(|group| {
            let SeedGroup {
                kind,
                category,
                severity,
                language,
                rules,
            } = group;
            rules.into_iter().map(move |rule| RuleSpec {
                rule_id: rule.id,
                pattern: rule.pattern,
                category: category.clone(),
                severity,
                language: rule.language.unwrap_or_else(|| language.clone()),
                kind,
                enabled: true,
            })
        })
        .collect())
}

/// The seed rule list: phrases for the four categories in Vietnamese and English, the exceptions
/// (hyperbole, idioms, media, questions, third person, negation, resolved past) and the signals of
/// intent, plan, time, means and farewell.
pub fn default_rules() -> Vec<RuleSpec> {
    static RULES: LazyLock<Vec<RuleSpec>> = LazyLock::new(|| {
        // Compiled-in data that a unit test parses and validates: a build whose tests passed
        // cannot fail here, and a detector without its seed rules must not start.
        #[allow(clippy::expect_used)]
        let rules = parse_seed_rules(SEED_RULES_TOML).expect("content/crisis-rules.toml parses");
        rules
    });
    RULES.clone()
}

/// The eleven keywords of the service this project replaces; the seed list must cover them.
pub const ORIGINAL_KEYWORDS: [&str; 11] = [
    "tự tử",
    "tự sát",
    "muốn chết",
    "kết thúc cuộc đời",
    "không muốn sống nữa",
    "cắt tay",
    "tự làm đau",
    "làm hại bản thân",
    "bị đánh đập",
    "bạo lực gia đình",
    "xâm hại",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_file_parses_and_phrases_have_a_severity() {
        let rules = parse_seed_rules(SEED_RULES_TOML).unwrap();
        assert!(rules.len() > 1000);
        for r in &rules {
            assert_eq!(
                r.severity.is_some(),
                r.kind == RuleKind::Phrase,
                "{}",
                r.rule_id
            );
        }
    }

    #[test]
    fn every_default_rule_is_valid_and_ids_are_unique() {
        let rules = default_rules();
        for r in &rules {
            assert_eq!(r.validate(), Ok(()), "{}", r.rule_id);
        }
        let mut ids: Vec<&str> = rules.iter().map(|r| r.rule_id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
    }

    #[test]
    fn original_keywords_are_phrases() {
        let rules = default_rules();
        for k in ORIGINAL_KEYWORDS {
            assert!(
                rules
                    .iter()
                    .any(|r| r.pattern == k && r.kind == RuleKind::Phrase),
                "{k}"
            );
        }
    }
}
