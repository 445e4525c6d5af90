//! Stored rule rows and the detector's rule specs, converted both ways.

use crate::crisis::{CrisisDetector, RuleKind, RuleSpec, Severity};
use crate::persistence::RuleRecord;

/// Converts stored rows into rule specs; a row that cannot be understood is an error naming it.
pub fn specs_from_records(records: &[RuleRecord]) -> Result<Vec<RuleSpec>, String> {
    records
        .iter()
        .map(|record| {
            let kind = RuleKind::parse(&record.kind).ok_or_else(|| {
                format!("rule {}: unknown kind {:?}", record.rule_id, record.kind)
            })?;
            let severity = match &record.severity {
                Some(text) => Some(Severity::parse(text).ok_or_else(|| {
                    format!("rule {}: unknown severity {:?}", record.rule_id, text)
                })?),
                None => None,
            };
            Ok(RuleSpec {
                rule_id: record.rule_id.clone(),
                pattern: record.pattern.clone(),
                category: record.category.clone(),
                severity,
                language: record.language.clone(),
                kind,
                enabled: record.enabled,
            })
        })
        .collect()
}

/// Compiles stored rows into a detector; the error names the rule or the problem.
pub fn compile_records(records: &[RuleRecord]) -> Result<CrisisDetector, String> {
    let specs = specs_from_records(records)?;
    CrisisDetector::compile(&specs).map_err(|error| error.to_string())
}

/// Converts rule specs into rows (seeding, `cbln keywords add`).
pub fn records_from_specs(specs: &[RuleSpec]) -> Vec<RuleRecord> {
    specs
        .iter()
        .map(|spec| RuleRecord {
            rule_id: spec.rule_id.clone(),
            pattern: spec.pattern.clone(),
            category: spec.category.clone(),
            severity: spec.severity.map(|s| s.as_str().to_string()),
            language: spec.language.clone(),
            kind: spec.kind.as_str().to_string(),
            enabled: spec.enabled,
        })
        .collect()
}
