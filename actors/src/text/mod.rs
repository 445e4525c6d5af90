//! How the service reads what people type: one text layer shared by the crisis detector, its
//! learned model and the built-in listener, so that they can never disagree about a message.
//!
//! * [`normalize_views`] turns NFC, NFD, the Windows-keyboard form, Telex/VNI leftovers, split
//!   letters, stretched letters and teen code into two views of syllables (toned and folded);
//! * [`NEGATORS`] are the words that negate what follows, read with their accents by
//!   [`is_negator_at`];
//! * [`WordSet`] reads any word list the way the views spell a message;
//! * [`LanguageSignals`] guesses whether a message is English or Vietnamese;
//! * [`SentenceSplitter`] cuts a streamed reply into whole sentences for the reply guard.

mod language;
mod negation;
mod normalize;
mod sentence;
pub(crate) mod syllable;
mod teen_code;
mod word_set;

pub use language::{LanguageSignals, looks_english};
pub use negation::{NEGATORS, is_folded_negator, is_negator_at};
pub(crate) use normalize::FastHash;
pub use normalize::{Views, is_emoji, normalize_views};
pub use sentence::SentenceSplitter;
pub use word_set::WordSet;

/// Words as single tokens of the folded view, spelled the way the normaliser spells them inside a
/// message (word lists are written by people; messages arrive through [`normalize_views`]).
pub fn fold_words(words: &[&str]) -> Vec<String> {
    words
        .iter()
        .map(|w| normalize_views(w).folded().trim().to_owned())
        .collect()
}
