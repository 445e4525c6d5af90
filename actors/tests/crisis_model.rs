//! The layered detector (rules + learned model + conversation state) on the training corpus and on
//! the blind evaluation sets, with floors a little under the figures measured when the model was
//! trained (BENCHMARKS.md). The blind sets were written by helpers who saw only
//! docs/crisis/taxonomy.md and were frozen before they were evaluated; nothing here tunes on them.
//! Spent blind sets 1-3 live in the training corpus as `w8-spent-blind-*`; sets 4 and 5 are spent
//! (regression guards); sets 6 and 7 were evaluated, unread. The next round needs a blind-8.

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
    // The learned step head ships switched off (BENCHMARKS.md, rounds 4 and 6).
    assert!(model.step_threshold() > 1.0, "{}", model.step_threshold());
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

/// Floors a little under the figures the shipped model measured on one blind set.
struct Floors {
    messages: (f64, f64),
    categories: [(&'static str, f64); 5],
    style_recall: f64,
    style_fpr: f64,
    turns: (f64, f64),
    patterns: [(&'static str, f64); 2],
}

fn assert_blind_set(relative: &str, floors: &Floors) {
    let set = corpus(relative);
    with_layers(|layers| {
        let messages = MessageReport::judge(&set.messages, layers);
        let table = messages.render();
        let (recall, fpr) = floors.messages;
        assert_at_least("messages", &messages.overall, recall, fpr, &table);
        for (category, floor) in floors.categories {
            let tally = messages.by_kind.get(category).copied().unwrap_or_default();
            assert_at_least(category, &tally, floor, 1.0, &table);
        }
        for (style, tally) in &messages.by_style {
            assert_at_least(style, tally, floors.style_recall, floors.style_fpr, &table);
        }
        let turns = TurnReport::judge(&set.conversations, layers);
        let table = turns.render();
        let (recall, fpr) = floors.turns;
        assert_at_least("turns", &turns.overall, recall, fpr, &table);
        for (pattern, floor) in floors.patterns {
            let tally = turns.by_pattern.get(pattern).copied().unwrap_or_default();
            assert_at_least(pattern, &tally, floor, 1.0, &table);
        }
    });
}

/// Blind set 7: written blind (the writer saw only docs/crisis/taxonomy.md) and committed before
/// round 6's model was trained; evaluated three times — with the model first chosen, after a
/// review, and with the shipped one (changed for a false alarm found while merging), never chosen
/// on; nobody has read its misses. With blind set 6 it gives the figures in BENCHMARKS.md
/// (messages 0.915 at 0.033, turns 0.903 at 0.144).
#[test]
fn blind_set_7_single_messages_and_turns() {
    assert_blind_set(
        "eval/blind-7",
        &Floors {
            messages: (0.89, 0.043),
            categories: [
                ("suicide", 0.85),
                ("self_harm", 0.93),
                ("abuse", 0.88),
                ("violence", 0.90),
                ("third_party", 0.87),
            ],
            style_recall: 0.80,
            style_fpr: 0.09,
            turns: (0.88, 0.164),
            patterns: [("joke_retraction", 0.97), ("direct_crisis", 0.97)],
        },
    );
}

/// Blind set 6: written blind and frozen a round before it was first evaluated; evaluated as set 7
/// was; nobody has read its misses (messages 0.893 at 0.028, turns 0.896 at 0.186).
#[test]
fn blind_set_6_single_messages_and_turns() {
    assert_blind_set(
        "eval/blind-6",
        &Floors {
            messages: (0.87, 0.038),
            categories: [
                ("suicide", 0.79),
                ("self_harm", 0.93),
                ("abuse", 0.83),
                ("violence", 0.91),
                ("third_party", 0.86),
            ],
            style_recall: 0.77,
            style_fpr: 0.09,
            turns: (0.87, 0.206),
            patterns: [("joke_retraction", 0.67), ("direct_crisis", 0.97)],
        },
    );
}

/// Blind set 5: round 6 read its safety-step turns and chose the step head's budget on it and on
/// set 4, so it is spent: a regression guard only (messages 0.917 at 0.038, turns 0.908 at 0.211).
#[test]
fn blind_set_5_single_messages_and_turns() {
    assert_blind_set(
        "eval/blind-5",
        &Floors {
            messages: (0.89, 0.048),
            categories: [
                ("suicide", 0.89),
                ("self_harm", 0.90),
                ("abuse", 0.91),
                ("violence", 0.87),
                ("third_party", 0.84),
            ],
            style_recall: 0.80,
            style_fpr: 0.15,
            turns: (0.88, 0.231),
            patterns: [("joke_retraction", 0.97), ("direct_crisis", 0.91)],
        },
    );
}

/// Blind set 4: spent in round 4 (the step head's ablation) and used again, with set 5, in round 6:
/// a regression guard only (messages 0.923 at 0.036, turns 0.920 at 0.257).
#[test]
fn blind_set_4_single_messages_and_turns() {
    assert_blind_set(
        "eval/blind-4",
        &Floors {
            messages: (0.90, 0.046),
            categories: [
                ("suicide", 0.85),
                ("self_harm", 0.97),
                ("abuse", 0.85),
                ("violence", 0.91),
                ("third_party", 0.88),
            ],
            style_recall: 0.78,
            style_fpr: 0.09,
            turns: (0.90, 0.277),
            patterns: [("joke_retraction", 0.97), ("direct_crisis", 0.97)],
        },
    );
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
        // In-sample turn false positives (0.175) are the safety steps the rule phrases do not know
        // yet (most of them in the step-rich conversations w6 and w7): crises that stay open.
        assert_at_least("turns", &turns.overall, 0.99, 0.19, &turns.render());
    });
}

/// What only sounds like a safety step never ends a crisis: nobody is there, the means are at
/// hand, the abuser is back, the call went unanswered, a joke, a promise for later. A real step
/// in the rule phrases' words does end it (the step head is off in the shipped model).
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
            (pills, "đùa thôi 😂 ngủ đây"),
            (pills, "mai em sẽ gọi cho mẹ, giờ thì chưa"),
            (pills, "ok i'll call the hotline tomorrow"),
            (beaten, "mẹ 11h mới về"),
            (beaten, "mẹ sắp về nhà rồi"),
            (pills, "mình không đi bệnh viện đâu"),
            (pills, "không dám gọi cho mẹ"),
            (pills, "mẹ không ở bên cạnh mình"),
            (pills, "I didn't call the hotline"),
            (pills, "I couldn't reach the hotline"),
            (pills, "đùa thôi, mình đang ngồi xem phim"),
            (pills, "jk lol I'm safe now"),
            (pills, "I took the pills"),
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
