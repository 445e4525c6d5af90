//! A word list read the way the views spell a message: with the word's own accents, or without
//! any when the writer typed none ("khong" is "không", "dám" is not "đấm").

use std::collections::HashSet;

use super::{FastHash, Views, normalize_views};

/// Words in both spellings the views use: toned, and accent-free for unaccented messages.
pub struct WordSet {
    toned: HashSet<String, FastHash>,
    folded: HashSet<String, FastHash>,
}

impl WordSet {
    /// The words as people write them; each is spelled the way the normaliser spells a message.
    pub fn new(words: &[&str]) -> Self {
        let mut toned = HashSet::default();
        let mut folded = HashSet::default();
        for word in words {
            let views = normalize_views(word);
            toned.insert(views.toned().trim().to_owned());
            folded.insert(views.folded().trim().to_owned());
        }
        WordSet { toned, folded }
    }

    /// Token `i` of `views` is one of the words: exactly, or accent-free when the writer typed no
    /// accents on it.
    pub fn contains_at(&self, views: &Views, i: usize) -> bool {
        let toned = views.toned_token(i);
        if toned.is_empty() {
            return false;
        }
        self.toned.contains(toned)
            || (toned == views.folded_token(i) && self.folded.contains(toned))
    }
}
