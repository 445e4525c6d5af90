//! The layered detector (rules + learned model + conversation state) on the training corpus and on
//! the blind evaluation sets, with floors a little under the figures measured when the model was
//! trained (BENCHMARKS.md). The blind set was written by a helper who saw only
//! docs/crisis/taxonomy.md and was frozen before any training; nothing here tunes on it. Spent
//! blind sets (whose misses were studied) live in the training corpus as `w8-spent-blind-*`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use cbln_actors::crisis::corpus::Corpus;
use cbln_actors::crisis::evaluation::{MessageReport, Tally, TurnReport};
use cbln_actors::crisis::model::training::fingerprint;
use cbln_actors::crisis::{CrisisDetector, Layers, RiskModel, default_rules};

fn corpus(relative: &str) -> Corpus {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/crisis")
        .join(relative);
    match Corpus::load(&path) {
        Ok(c) => c,
        Err(e) => panic!("{relative}: {e}"),
    }
}

fn with_layers<T>(f: impl FnOnce(Layers<'_>) -> T) -> T {
    let rules = CrisisDetector::compile(&default_rules()).expect("default rules compile");
    let model = RiskModel::embedded().expect("embedded model loads");
    f(Layers {
        rules: &rules,
        model: &model,
    })
}

fn assert_at_least(name: &str, tally: &Tally, recall_floor: f64, fpr_ceiling: f64, table: &str) {
    assert!(
        tally.recall() >= recall_floor,
        "{name}: recall {:.3} under {recall_floor}\n{table}",
        tally.recall()
    );
    if tally.negatives > 0 {
        assert!(
            tally.fpr() <= fpr_ceiling,
            "{name}: false-positive rate {:.3} over {fpr_ceiling}\n{table}",
            tally.fpr()
        );
    }
}

#[test]
fn the_embedded_model_was_trained_on_the_current_corpus() {
    let model = RiskModel::embedded().expect("embedded model loads");
    assert_eq!(
        model.meta().corpus_fingerprint,
        fingerprint(&corpus("train")),
        "the corpus changed since models/crisis-risk.bin was trained: run `cbln crisis train`"
    );
    assert!(model.meta().examples > 7_000, "{:?}", model.meta());
}

#[test]
fn the_corpus_is_as_large_and_varied_as_promised() {
    let train = corpus("train");
    let crisis = train
        .messages
        .iter()
        .filter(|m| m.category.is_some())
        .count();
    assert!(train.messages.len() >= 6_000, "{}", train.messages.len());
    assert!(crisis >= 2_500, "{crisis}");
    assert!(train.conversations.len() >= 150);
    let writers: std::collections::BTreeSet<&str> =
        train.messages.iter().map(|m| m.source.as_str()).collect();
    assert!(writers.len() >= 6, "{writers:?}");
    let blind = corpus("eval/blind-4");
    assert!(blind.messages.len() >= 600, "{}", blind.messages.len());
    assert!(
        blind.conversations.len() >= 40,
        "{}",
        blind.conversations.len()
    );
}

/// Blind set 4: written blind (the writer saw only docs/crisis/taxonomy.md) and committed before
/// this round's model was trained. Its aggregate figures were read twice — the model with the step
/// head, then without it — and the head was switched off because of them, so the set is spent: a
/// regression guard, with floors a little under the shipped model's figures (messages 0.894 at
/// 0.040, turns 0.874 at 0.223; BENCHMARKS.md). Fresh figures come from the next blind set.
const MSG_RECALL: f64 = 0.88;
const MSG_FPR: f64 = 0.045;
const CATEGORY_FLOORS: [(&str, f64); 5] = [
    ("suicide", 0.85),
    ("self_harm", 0.95),
    ("abuse", 0.83),
    ("violence", 0.87),
    ("third_party", 0.87),
];
const STYLE_FLOOR: f64 = 0.77;
const STYLE_FPR: f64 = 0.10;
const TURN_RECALL: f64 = 0.86;
const TURN_FPR: f64 = 0.24;

#[test]
fn blind_set_4_single_messages_and_turns() {
    let set = corpus("eval/blind-4");
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        let table = messages.render();
        assert_at_least("messages", &messages.overall, MSG_RECALL, MSG_FPR, &table);
        for (category, floor) in CATEGORY_FLOORS {
            let tally = messages.by_kind.get(category).copied().unwrap_or_default();
            assert_at_least(category, &tally, floor, 1.0, &table);
        }
        for (style, tally) in &messages.by_style {
            assert_at_least(style, tally, STYLE_FLOOR, STYLE_FPR, &table);
        }
        let turns = TurnReport::judge(&set.conversations, layers);
        let table = turns.render();
        assert_at_least("turns", &turns.overall, TURN_RECALL, TURN_FPR, &table);
        for (pattern, floor) in [("joke_retraction", 0.97), ("direct_crisis", 0.84)] {
            let tally = turns.by_pattern.get(pattern).copied().unwrap_or_default();
            assert_at_least(pattern, &tally, floor, 1.0, &table);
        }
    });
}

/// The training corpus itself (in-sample, so near perfect): a guard that the embedded model is the
/// one trained on it and that the decision rule reads it as trained.
#[test]
fn the_training_corpus_in_sample() {
    let set = corpus("train");
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        assert_at_least(
            "messages",
            &messages.overall,
            0.99,
            0.01,
            &messages.render(),
        );
        let turns = TurnReport::judge(&set.conversations, layers);
        // In-sample turn false positives (0.171) are the safety steps the rule phrases do not know
        // yet (most of them in the step-rich conversations w6 and w7): crises that stay open.
        assert_at_least("turns", &turns.overall, 0.99, 0.19, &turns.render());
    });
}

/// What only sounds like a safety step never ends a crisis: nobody is there, the means are at
/// hand, the abuser is back, the call went unanswered. A real step does end it.
#[test]
fn only_a_real_safety_step_ends_a_crisis() {
    use cbln_actors::crisis::{ConversationRisk, RiskLevel};
    with_layers(|layers| {
        let run = |opening: &str, next: &str| {
            let first = layers.judge(opening, &[], RiskLevel::None);
            let (risk, _) = ConversationRisk::default().advance(&first, false);
            assert!(risk.shows_crisis_support(), "{opening:?} opens a crisis");
            let second = layers.judge(next, &[opening.to_owned()], risk.level);
            risk.advance(&second, false).0
        };
        let pills = "mình gom đủ thuốc ngủ rồi, tối nay mình sẽ uống hết";
        let beaten = "bố say rượu về lại đánh mình chảy máu";
        for (opening, next) in [
            (pills, "không có ai ngồi cạnh mình cả"),
            (pills, "nobody is with me, i'm alone"),
            (pills, "the pills are right here with me now"),
            (pills, "mình đã gọi 2 lần cho mẹ mà không ai nghe máy"),
            (pills, "chưa ai gọi cấp cứu rồi đâu"),
            (beaten, "bố về rồi, mình sợ lắm"),
        ] {
            let after = run(opening, next);
            assert!(after.shows_crisis_support(), "{next:?} ended the crisis");
        }
        for (opening, step) in [
            (
                pills,
                "mình đưa hết thuốc cho mẹ rồi, mẹ đang ngồi cạnh mình",
            ),
            (
                beaten,
                "mình chạy sang nhà hàng xóm rồi, cô đã gọi công an rồi",
            ),
        ] {
            let after = run(opening, step);
            assert!(
                !after.shows_crisis_support(),
                "{step:?} did not end the crisis"
            );
        }
    });
}
