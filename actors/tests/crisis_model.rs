//! The layered detector (rules + learned model + conversation state) on the training corpus and on
//! the blind evaluation sets, with floors a little under the figures measured when the model was
//! trained (BENCHMARKS.md). The blind sets were written by helpers who saw only
//! docs/crisis/taxonomy.md and were frozen before any training; nothing here tunes on them.

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
    for blind in ["eval/blind-1", "eval/blind-2"] {
        let set = corpus(blind);
        assert!(set.messages.len() >= 600, "{blind}");
        assert!(set.conversations.len() >= 40, "{blind}");
    }
}
