//! A cheap guess at whether a message is Vietnamese or English, from diacritics and the most
//! frequent function words of each language.

use unicode_normalization::UnicodeNormalization;

use super::normalize::Views;
use crate::domain::Language;

/// Frequent English function words. Two of them mark a message as English, where accent-free
/// one-syllable Vietnamese ("me", "so") would only be collisions.
const ENGLISH_WORDS: &[&str] = &[
    "the", "is", "are", "was", "to", "and", "of", "it", "you", "my", "im", "that", "this", "with",
    "about", "made", "i", "a", "at", "so", "be", "have", "me", "when", "dont", "cant", "just",
    "am", "feel", "what", "how", "really",
];

/// Frequent Vietnamese words in their accent-free form.
const VIETNAMESE_WORDS: &[&str] = &[
    "minh", "ban", "khong", "la", "toi", "qua", "lam", "roi", "gi", "duoc", "cua", "va", "nguoi",
    "voi", "nay", "cung", "thay", "nhe", "nha", "vay",
];

/// Two English function words make a message English.
const ENGLISH_THRESHOLD: usize = 2;

/// True when the message has at least two English function words: there, an accent-free
/// one-syllable Vietnamese match ("me", "so") is only a collision.
pub fn looks_english(views: &Views) -> bool {
    english_word_count(views) >= ENGLISH_THRESHOLD
}

fn english_word_count(views: &Views) -> usize {
    (0..views.len())
        .filter(|&i| {
            let toned = views.toned_token(i);
            toned == views.folded_token(i) && ENGLISH_WORDS.contains(&toned)
        })
        .count()
}

/// What a message shows of its language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LanguageSignals {
    /// Tokens in the message.
    pub tokens: usize,
    /// Tokens that are frequent English words (typed without diacritics).
    pub english_words: usize,
    /// Tokens that are frequent Vietnamese words.
    pub vietnamese_words: usize,
    /// Vietnamese-only letters (`đ`) or Vietnamese diacritics were present.
    pub vietnamese_letters: bool,
}

impl LanguageSignals {
    /// Reads the signals of `text`, whose normalised views are `views`.
    pub fn of(text: &str, views: &Views) -> Self {
        let mut signals = LanguageSignals {
            tokens: views.len(),
            // Only the Latin combining diacritics block: emoji variation selectors are marks too.
            vietnamese_letters: text
                .nfd()
                .any(|c| c == 'đ' || c == 'Đ' || ('\u{300}'..='\u{36f}').contains(&c)),
            ..LanguageSignals::default()
        };
        signals.english_words = english_word_count(views);
        signals.vietnamese_words = (0..views.len())
            .filter(|&i| VIETNAMESE_WORDS.contains(&views.folded_token(i)))
            .count();
        signals
    }

    /// See [`looks_english`].
    pub fn looks_english(&self) -> bool {
        self.english_words >= ENGLISH_THRESHOLD
    }

    /// The language to answer in: the session's, unless the message is clearly in the other one
    /// (people switch to English mid-conversation, or type Vietnamese in an English session).
    pub fn reply_language(&self, session: Language) -> Language {
        if self.vietnamese_letters {
            return Language::Vi;
        }
        if self.looks_english() && self.vietnamese_words == 0 {
            return Language::En;
        }
        if self.vietnamese_words >= 2 && self.english_words == 0 {
            return Language::Vi;
        }
        session
    }
}
