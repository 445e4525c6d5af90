//! Properties of the detector that must hold for any input, not just the corpus.

use std::sync::OnceLock;

use cbln_actors::crisis::{CrisisDetector, default_rules};
use cbln_actors::text::normalize_views;
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

fn detector() -> &'static CrisisDetector {
    static DETECTOR: OnceLock<CrisisDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| match CrisisDetector::compile(&default_rules()) {
        Ok(d) => d,
        Err(e) => panic!("default rules must compile: {e}"),
    })
}

/// Vietnamese-looking text: syllables from a pool that includes crisis words, teen code, Telex
/// leftovers, split letters, emoji and punctuation, so the interesting paths are exercised.
fn vietnamese_text() -> impl Strategy<Value = String> {
    let pool = prop::sample::select(vec![
        "mình",
        "muốn",
        "chết",
        "tự",
        "tử",
        "từ",
        "không",
        "sống",
        "nữa",
        "bố",
        "đánh",
        "bị",
        "mk",
        "ko",
        "mún",
        "t",
        "u",
        "c.h.ế.t",
        "buoonf",
        "kho63",
        "tuwj",
        "💊",
        "⚰️",
        "800mg",
        "quá",
        "đói",
        "hoà",
        "thuỷ",
        "MUỐN",
        "CHẾT",
        "đâu",
        ",",
        ".",
        "!",
        "tôi",
        "ổn",
        "rồi",
        "giờ",
        "phim",
        "bạn",
        "ấy",
        "kms",
        "i",
        "want",
        "to",
        "die",
        "sh",
        "lại",
        "cắt",
        "tay",
        "dao",
        "lam",
        "tối",
        "nay",
        "hết",
        "uống",
        "thuốc",
        "ngủ",
        "xâm",
        "hại",
        "chếttt",
        "a",
        "e",
    ]);
    prop::collection::vec(pool, 0..24).prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_unicode(text in any::<String>()) {
        let a = detector().assess(&text);
        prop_assert_eq!(a.is_crisis, a.severity.is_some());
        let _ = detector().explain(&text);
    }

    #[test]
    fn never_panics_on_vietnamese_like_text(text in vietnamese_text()) {
        let _ = detector().explain(&text);
    }

    #[test]
    fn normalisation_is_idempotent(text in any::<String>()) {
        let once = normalize_views(&text);
        let twice = normalize_views(once.toned());
        prop_assert_eq!(once.toned(), twice.toned());
        prop_assert_eq!(once.folded(), twice.folded());
    }

    #[test]
    fn normalisation_is_idempotent_on_vietnamese(text in vietnamese_text()) {
        let once = normalize_views(&text);
        let twice = normalize_views(once.toned());
        prop_assert_eq!(once.toned(), twice.toned());
        prop_assert_eq!(once.folded(), twice.folded());
    }

    #[test]
    fn nfc_and_nfd_give_the_same_assessment(text in any::<String>()) {
        let nfc: String = text.nfc().collect();
        let nfd: String = text.nfd().collect();
        prop_assert_eq!(detector().assess(&nfc), detector().assess(&nfd));
    }

    #[test]
    fn nfc_and_nfd_agree_on_vietnamese(text in vietnamese_text()) {
        let nfc: String = text.nfc().collect();
        let nfd: String = text.nfd().collect();
        prop_assert_eq!(detector().assess(&nfc), detector().assess(&nfd));
    }
}

#[test]
fn assessment_never_contains_message_text() {
    let text = "mình muốn chết, tối nay uống hết thuốc ngủ";
    let a = detector().assess(text);
    assert!(a.is_crisis);
    let json = serde_json::to_string(&detector().explain(text)).unwrap_or_default();
    for word in ["muốn", "chết", "thuốc", "tối nay"] {
        assert!(!json.contains(word), "{word} leaked into {json}");
    }
}
