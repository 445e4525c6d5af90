//! Recall and false-positive rate of the rules alone over the team-written corpus they were tuned
//! on (`corpus/crisis/train/w0-team/`), overall, per category and per way of typing, through the
//! same corpus loader and report as `cbln crisis eval`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use cbln_actors::crisis::corpus::Corpus;
use cbln_actors::crisis::evaluation::{MessageReport, Verdict};
use cbln_actors::crisis::{CrisisDetector, ORIGINAL_KEYWORDS, default_rules};

fn rules() -> CrisisDetector {
    CrisisDetector::compile(&default_rules()).expect("default rules compile")
}

#[test]
fn corpus_recall_and_false_positive_rate() {
    let detector = rules();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/crisis/train/w0-team");
    let corpus = Corpus::load(&dir).expect("the team corpus loads");
    assert!(
        corpus.messages.len() >= 600,
        "corpus has only {} messages",
        corpus.messages.len()
    );
    let report = MessageReport::of(&corpus.messages, |_, message| {
        let a = detector.assess(&message.text);
        Verdict {
            crisis: a.is_crisis,
            category_right: message.category.is_some_and(|c| a.categories.contains(&c)),
        }
    });
    let table = report.render();
    println!("{table}");
    let overall = report.overall;
    assert!(
        overall.recall() >= 0.95 && overall.fpr() <= 0.05,
        "recall {:.3} (need >= 0.95), false-positive rate {:.3} (need <= 0.05)\n{table}",
        overall.recall(),
        overall.fpr()
    );
}

#[test]
fn original_keywords_each_trigger() {
    let detector = rules();
    for keyword in ORIGINAL_KEYWORDS {
        for text in [keyword.to_owned(), format!("mình {keyword}")] {
            let a = detector.assess(&text);
            assert!(a.is_crisis, "{text:?} must be a crisis: {a:?}");
        }
    }
}
