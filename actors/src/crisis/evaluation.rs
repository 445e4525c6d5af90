//! Recall and false-positive rate of the layered detector over labelled data: per category, per
//! hard-negative kind, per typing style, and turn by turn over conversations. Used by
//! `cbln crisis eval`, by training's cross-validation report and by the corpus tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::conversation::ConversationRisk;
use super::corpus::{LabelledConversation, LabelledMessage};
use super::model::Layers;
use super::types::RiskLevel;

/// Counts for one group of messages or turns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Crisis items.
    pub positives: usize,
    /// Crisis items detected.
    pub detected: usize,
    /// Crisis items detected with the labelled category among those found.
    pub category_right: usize,
    /// Safe items.
    pub negatives: usize,
    /// Safe items flagged as crisis.
    pub false_alarms: usize,
}

impl Tally {
    /// Share of crisis items detected (NaN when there are none).
    pub fn recall(&self) -> f64 {
        ratio(self.detected, self.positives)
    }

    /// Share of safe items flagged (NaN when there are none).
    pub fn fpr(&self) -> f64 {
        ratio(self.false_alarms, self.negatives)
    }

    fn count(&mut self, crisis: bool, flagged: bool, category_right: bool) {
        if crisis {
            self.positives += 1;
            self.detected += usize::from(flagged);
            self.category_right += usize::from(flagged && category_right);
        } else {
            self.negatives += 1;
            self.false_alarms += usize::from(flagged);
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Results over single messages.
#[derive(Debug, Clone, Default)]
pub struct MessageReport {
    /// Everything.
    pub overall: Tally,
    /// By crisis category (positives) and hard-negative kind (negatives).
    pub by_kind: BTreeMap<String, Tally>,
    /// By typing style.
    pub by_style: BTreeMap<String, Tally>,
    /// By writer.
    pub by_source: BTreeMap<String, Tally>,
}

/// What was decided for one message: flagged, and the categories found.
pub struct Verdict {
    /// Flagged as crisis.
    pub crisis: bool,
    /// The labelled category is among those found.
    pub category_right: bool,
}

impl MessageReport {
    /// Tallies `decide` over `messages`.
    pub fn of(
        messages: &[LabelledMessage],
        mut decide: impl FnMut(usize, &LabelledMessage) -> Verdict,
    ) -> Self {
        let mut report = MessageReport::default();
        for (i, m) in messages.iter().enumerate() {
            let v = decide(i, m);
            let crisis = m.category.is_some();
            for t in [
                &mut report.overall,
                report.by_kind.entry(m.kind.clone()).or_default(),
                report.by_style.entry(m.style.clone()).or_default(),
                report.by_source.entry(m.source.clone()).or_default(),
            ] {
                t.count(crisis, v.crisis, v.category_right);
            }
        }
        report
    }

    /// Tallies the layered detector over `messages` (no conversation context).
    pub fn judge(messages: &[LabelledMessage], layers: Layers<'_>) -> Self {
        Self::of(messages, |_, m| {
            let j = layers.judge(&m.text, &[], RiskLevel::None);
            Verdict {
                crisis: j.assessment.is_crisis,
                category_right: m
                    .category
                    .is_some_and(|c| j.assessment.categories.contains(&c)),
            }
        })
    }

    /// A plain-text table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", header());
        let _ = writeln!(out, "{}", row("overall", &self.overall));
        for (title, groups) in [
            ("category / kind", &self.by_kind),
            ("typing style", &self.by_style),
            ("writer", &self.by_source),
        ] {
            let _ = writeln!(out, "-- {title}");
            for (name, t) in groups {
                let _ = writeln!(out, "{}", row(name, t));
            }
        }
        out
    }
}

/// Results turn by turn over conversations.
#[derive(Debug, Clone, Default)]
pub struct TurnReport {
    /// Every turn: positive when labelled crisis, flagged when crisis support was shown.
    pub overall: Tally,
    /// By conversation pattern.
    pub by_pattern: BTreeMap<String, Tally>,
}

impl TurnReport {
    /// Runs each conversation through the layered detector and the conversation's risk state,
    /// as a session would (no time passes, so no quiet period ends a crisis).
    pub fn judge(conversations: &[LabelledConversation], layers: Layers<'_>) -> Self {
        let mut report = TurnReport::default();
        for conversation in conversations {
            let mut risk = ConversationRisk::default();
            let mut earlier: Vec<String> = Vec::new();
            for turn in &conversation.turns {
                let judgement = layers.judge(&turn.text, &earlier, risk.level);
                risk = risk.advance(&judgement, false).0;
                let crisis = turn.risk == RiskLevel::Crisis;
                let right = turn.category.is_some() && risk.category == turn.category;
                for t in [
                    &mut report.overall,
                    report
                        .by_pattern
                        .entry(conversation.pattern.clone())
                        .or_default(),
                ] {
                    t.count(crisis, risk.shows_crisis_support(), right);
                }
                earlier.push(turn.text.clone());
            }
        }
        report
    }

    /// A plain-text table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", header());
        let _ = writeln!(out, "{}", row("all turns", &self.overall));
        let _ = writeln!(out, "-- pattern");
        for (name, t) in &self.by_pattern {
            let _ = writeln!(out, "{}", row(name, t));
        }
        out
    }
}

fn header() -> String {
    format!(
        "{:<28} {:>5} {:>7} {:>7} {:>5} {:>7}",
        "group", "pos", "recall", "cat_ok", "neg", "fpr"
    )
}

fn row(name: &str, t: &Tally) -> String {
    let cat_ok = ratio(t.category_right, t.detected);
    format!(
        "{:<28} {:>5} {:>7} {:>7} {:>5} {:>7}",
        name,
        t.positives,
        rate(t.recall()),
        rate(cat_ok),
        t.negatives,
        rate(t.fpr())
    )
}

fn rate(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{x:.3}")
    }
}
