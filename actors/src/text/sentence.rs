//! Cutting a reply that arrives in pieces into whole sentences, so that each one can be judged
//! before anyone reads it.
//!
//! The pieces it hands out add up exactly to the trimmed text it was fed: the space between two
//! sentences travels at the front of the second, leading space of the whole is dropped, and
//! trailing space is held back until more text shows it was not the end.

/// Marks that end a sentence when whitespace follows them.
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '…', '。', '！', '？'];

/// Gathers streamed text and releases it a sentence at a time.
#[derive(Debug, Default)]
pub struct SentenceSplitter {
    pending: String,
    started: bool,
}

impl SentenceSplitter {
    /// An empty splitter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `text` and returns the sentences it completed, in order (often none).
    pub fn push(&mut self, text: &str) -> Vec<String> {
        if self.started {
            self.pending.push_str(text);
        } else {
            let trimmed = text.trim_start();
            self.started = !trimmed.is_empty();
            self.pending.push_str(trimmed);
        }
        let mut sentences = Vec::new();
        while let Some(end) = sentence_end(&self.pending) {
            let rest = self.pending.split_off(end);
            sentences.push(std::mem::replace(&mut self.pending, rest));
        }
        sentences
    }

    /// The text after the last complete sentence, trailing space removed (the end of the reply).
    pub fn finish(self) -> Option<String> {
        let last = self.pending.trim_end();
        (!last.is_empty()).then(|| last.to_owned())
    }
}

/// Byte offset just past the first sentence end in `text` that is followed by whitespace (a
/// newline ends a sentence by itself), or `None` while the first sentence may still go on.
fn sentence_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    // Leading whitespace belongs to the sentence it precedes.
    let mut seen_text = false;
    while let Some((index, c)) = chars.next() {
        if !c.is_whitespace() {
            seen_text = true;
        }
        let next = chars.peek().map(|&(_, next)| next);
        if seen_text && c == '\n' {
            return Some(index);
        }
        if seen_text && SENTENCE_ENDS.contains(&c) {
            match next {
                // Runs like "?!" or "..." end together.
                Some(n) if SENTENCE_ENDS.contains(&n) => continue,
                Some(n) if n.is_whitespace() => return Some(index + c.len_utf8()),
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_in_pieces(text: &str, piece: usize) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut splitter = SentenceSplitter::new();
        let mut out = Vec::new();
        for chunk in chars.chunks(piece) {
            out.extend(splitter.push(&chunk.iter().collect::<String>()));
        }
        out.extend(splitter.finish());
        out
    }

    #[test]
    fn sentences_come_out_whole_and_add_up_to_the_trimmed_text() {
        let text = "  Mình nghe bạn. Điều gì làm bạn lo nhất?!  Kể mình nghe nhé…\nMình ở đây.  ";
        for piece in 1..12 {
            let sentences = split_in_pieces(text, piece);
            assert_eq!(sentences.concat(), text.trim(), "piece size {piece}");
            assert_eq!(
                sentences,
                [
                    "Mình nghe bạn.",
                    " Điều gì làm bạn lo nhất?!",
                    "  Kể mình nghe nhé…",
                    "\nMình ở đây."
                ],
                "piece size {piece}"
            );
        }
    }

    #[test]
    fn a_full_stop_inside_a_number_or_name_does_not_end_a_sentence() {
        assert_eq!(
            split_in_pieces("Gọi 1.800.599.920 nhé. Hoặc www.example.vn.", 3),
            ["Gọi 1.800.599.920 nhé.", " Hoặc www.example.vn."]
        );
    }

    #[test]
    fn nothing_is_released_before_the_sentence_ends() {
        let mut splitter = SentenceSplitter::new();
        assert!(splitter.push("Take it").is_empty());
        assert!(
            splitter.push(" slowly.").is_empty(),
            "the end may still go on"
        );
        assert_eq!(splitter.push(" Then"), ["Take it slowly."]);
        assert_eq!(splitter.finish().as_deref(), Some(" Then"));
        assert_eq!(SentenceSplitter::new().finish(), None);
    }
}
