//! The reply guard: what a generated reply must never say, checked on every sentence of a streamed
//! reply before it is shown and on the whole of every reply before it is stored.
//!
//! Beyond the output rule of [`is_unsafe_answer`] (method, means, doses, encouragement of harm) it
//! refuses two things safe-messaging guidance names for youth services: asking a young person to
//! keep something secret (the grooming pattern), and a claim to be a human being.

use std::sync::LazyLock;

use super::lexicon::fold;
use super::safety::is_unsafe_answer;

/// Folded phrases that ask for secrecy.
const SECRECY_PHRASES: &[&str] = &[
    "please keep it secret",
    "keep it secret from",
    "keep this secret from",
    "keep it a secret",
    "keep this a secret",
    "keep it between us",
    "keep this between us",
    "our little secret",
    "our secret",
    "don't tell anyone",
    "dont tell anyone",
    "do not tell anyone",
    "don't tell your parents",
    "dont tell your parents",
    "giữ bí mật chuyện này",
    "giữ bí mật nhé",
    "bí mật của hai đứa",
    "bí mật của chúng ta",
    "đừng nói với ai",
    "đừng kể với ai",
    "đừng nói cho ai",
    "đừng kể cho ai",
    "đừng nói với bố mẹ",
    "đừng kể với bố mẹ",
];

/// Folded phrases by which a reply claims to be a person.
const HUMAN_CLAIMS: &[&str] = &[
    "i am human",
    "i'm human",
    "i am a human",
    "i'm a human",
    "i am a real person",
    "i'm a real person",
    "i am not a bot",
    "i'm not a bot",
    "i am not an ai",
    "i'm not an ai",
    "i am not a robot",
    "i'm not a robot",
    "mình là người thật",
    "tôi là người thật",
    "mình là con người",
    "tôi là con người",
    "mình không phải là bot",
    "mình không phải bot",
    "mình không phải là máy",
    "mình không phải ai",
    "tôi không phải là bot",
    "tôi không phải bot",
];

fn patterns() -> &'static [String] {
    static PATTERNS: LazyLock<Vec<String>> = LazyLock::new(|| {
        SECRECY_PHRASES
            .iter()
            .chain(HUMAN_CLAIMS)
            .map(|phrase| fold(phrase))
            .collect()
    });
    &PATTERNS
}

/// True when `text` (a sentence, or everything said so far) may be shown: no method or means
/// detail, no encouragement of harm, no request for secrecy and no claim to be human, in Vietnamese
/// or English, with or without diacritics or teen code.
pub fn passes_reply_guard(text: &str) -> bool {
    if is_unsafe_answer(text) {
        return false;
    }
    let folded = fold(text);
    !patterns()
        .iter()
        .any(|pattern| folded.contains(pattern.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_is_refused_with_and_without_diacritics() {
        for phrase in SECRECY_PHRASES.iter().chain(HUMAN_CLAIMS) {
            assert!(!passes_reply_guard(phrase), "{phrase:?}");
            let bare: String = unicode_normalization::UnicodeNormalization::nfd(*phrase)
                .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
                .collect::<String>()
                .replace('đ', "d");
            assert!(!passes_reply_guard(&bare), "{bare:?}");
        }
    }

    #[test]
    fn the_output_rule_is_part_of_the_guard() {
        assert!(!passes_reply_guard("Bạn có thể uống 20 viên thuốc ngủ."));
        assert!(!passes_reply_guard("Take 500mg and you will feel better."));
    }

    #[test]
    fn honest_supportive_sentences_pass() {
        for sentence in [
            "Mình là chương trình máy tính, không phải chuyên viên tư vấn.",
            "I'm a computer program, not a counsellor.",
            "Mình không phải người thật, nhưng mình đang lắng nghe.",
            "Bạn không cần giữ chuyện này một mình đâu.",
            "Bạn có thể kể với một người lớn bạn tin tưởng.",
            "It's okay to tell someone you trust.",
            "You do not have to keep this secret alone: tell an adult you trust.",
        ] {
            assert!(passes_reply_guard(sentence), "{sentence:?}");
        }
    }
}
