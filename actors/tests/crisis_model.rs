//! The layered detector (rules + learned model + conversation state) on the training corpus and on
//! the blind evaluation sets, with floors a little under the figures measured when the model was
//! trained (BENCHMARKS.md). The blind sets were written by helpers who saw only
//! docs/crisis/taxonomy.md and were frozen before any training; nothing here tunes on them.

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
    for blind in ["eval/blind-1", "eval/blind-2", "eval/blind-3"] {
        let set = corpus(blind);
        assert!(set.messages.len() >= 600, "{blind}");
        assert!(set.conversations.len() >= 40, "{blind}");
    }
}

/// Blind set 3: written blind, frozen before it was ever evaluated, evaluated once with the final
/// model — the figures reported in BENCHMARKS.md (messages recall 0.923 at a false-positive rate of
/// 0.044; turns 0.916 at 0.182). A reviewer has since quoted some of its misses, so it is spent
/// too. Floors a little under the figures.
#[test]
fn blind_set_3_single_messages_and_turns() {
    let set = corpus("eval/blind-3");
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        let table = messages.render();
        assert_at_least("messages", &messages.overall, 0.90, 0.055, &table);
        for (category, floor) in [
            ("suicide", 0.84),
            ("self_harm", 0.89),
            ("abuse", 0.95),
            ("violence", 0.96),
            ("third_party", 0.90),
        ] {
            let tally = messages.by_kind.get(category).copied().unwrap_or_default();
            assert_at_least(category, &tally, floor, 1.0, &table);
        }
        for (style, tally) in &messages.by_style {
            assert_at_least(style, tally, 0.80, 0.10, &table);
        }
        let turns = TurnReport::judge(&set.conversations, layers);
        let table = turns.render();
        assert_at_least("turns", &turns.overall, 0.89, 0.20, &table);
        for pattern in ["joke_retraction", "direct_crisis"] {
            let tally = turns.by_pattern.get(pattern).copied().unwrap_or_default();
            assert_at_least(pattern, &tally, 0.95, 1.0, &table);
        }
    });
}

/// Blind set 2: written blind and frozen before training; its misses were studied after round 2
/// (signal and safety-step words added, thresholds' budget raised), so it is spent and guards
/// against regressions only. The fresh figures come from blind set 3.
#[test]
fn blind_set_2_single_messages_and_turns() {
    let set = corpus("eval/blind-2");
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        let table = messages.render();
        assert_at_least("messages", &messages.overall, 0.92, 0.032, &table);
        for (category, floor) in [
            ("suicide", 0.90),
            ("self_harm", 0.93),
            ("abuse", 0.94),
            ("violence", 0.92),
            ("third_party", 0.88),
        ] {
            let tally = messages.by_kind.get(category).copied().unwrap_or_default();
            assert_at_least(category, &tally, floor, 1.0, &table);
        }
        let turns = TurnReport::judge(&set.conversations, layers);
        let table = turns.render();
        assert_at_least("turns", &turns.overall, 0.88, 0.19, &table);
        for pattern in ["joke_retraction", "direct_crisis"] {
            let tally = turns.by_pattern.get(pattern).copied().unwrap_or_default();
            assert_at_least(pattern, &tally, 0.97, 1.0, &table);
        }
    });
}

/// Blind set 1: written blind and frozen before training, then spent in round 1 (its misses led
/// to the safety-step phrases); a regression guard.
#[test]
fn blind_set_1_single_messages_and_turns() {
    let set = corpus("eval/blind-1");
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        assert_at_least(
            "messages",
            &messages.overall,
            0.87,
            0.045,
            &messages.render(),
        );
        let turns = TurnReport::judge(&set.conversations, layers);
        assert_at_least("turns", &turns.overall, 0.93, 0.165, &turns.render());
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
        assert_at_least("turns", &turns.overall, 0.99, 0.08, &turns.render());
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
