//! Streamed replies: text goes out sentence by sentence, each sentence only after the reply guard
//! passed everything said up to its end.
//!
//! What a reader was shown is always a prefix of a safe reply. When a later sentence fails (or the
//! model fails part way), nothing more is shown and the outcome is the built-in listener's reply:
//! the caller sees that what was shown differs from what is stored and tells the client so.

use tokio::sync::mpsc::UnboundedSender;

use super::guard::passes_reply_guard;
use super::{FallbackReason, ReplyOutcome, ReplyRequest, Responder};
use crate::text::SentenceSplitter;

/// Where the guarded pieces of a reply go as they pass. A reader that went away only drops them.
pub type PieceSink = UnboundedSender<String>;

impl Responder {
    /// Answers one message like [`Responder::reply`], sending the reply's text to `sink` in pieces
    /// as it is produced and guarded. The pieces add up to the outcome's text unless the outcome is
    /// a replacement (the guard refused a sentence, or the remote model failed after speaking).
    pub async fn reply_streaming(&self, req: &ReplyRequest, sink: &PieceSink) -> ReplyOutcome {
        match self {
            Responder::BuiltIn(builtin) => {
                let outcome = builtin.reply(req);
                send_whole(&outcome.text, sink);
                outcome
            }
            Responder::OpenAi(openai) => openai.reply_streaming(req, sink).await,
        }
    }
}

/// Sends reviewed text (the built-in listener's) a sentence at a time.
pub(crate) fn send_whole(text: &str, sink: &PieceSink) {
    let mut splitter = SentenceSplitter::new();
    for piece in splitter.push(text).into_iter().chain(splitter.finish()) {
        // A closed sink is a reader that left; the reply still completes and is stored.
        let _ = sink.send(piece);
    }
}

/// Where a model's raw text stands with respect to a leading `<think>` block.
#[derive(Debug)]
enum Reasoning {
    /// Too little text yet to know whether the answer opens with `<think>`.
    Undecided(String),
    /// Inside the block: nothing of it is ever shown.
    Thinking(String),
    /// Past any block: everything is answer.
    Answering,
}

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// The sentence-by-sentence guard between a model's raw text and the reader.
#[derive(Debug)]
pub(crate) struct GuardedStream<'a> {
    sink: &'a PieceSink,
    splitter: SentenceSplitter,
    reasoning: Reasoning,
    shown: String,
    refused: bool,
}

impl<'a> GuardedStream<'a> {
    pub(crate) fn new(sink: &'a PieceSink) -> Self {
        Self {
            sink,
            splitter: SentenceSplitter::new(),
            reasoning: Reasoning::Undecided(String::new()),
            shown: String::new(),
            refused: false,
        }
    }

    /// Whether any piece reached the sink.
    pub(crate) fn has_shown(&self) -> bool {
        !self.shown.is_empty()
    }

    /// Takes more raw text; `Err` once the guard refused a sentence (nothing more is shown).
    pub(crate) fn push(&mut self, raw: &str) -> Result<(), FallbackReason> {
        if self.refused {
            return Err(FallbackReason::UnsafeAnswer);
        }
        let answer = match &mut self.reasoning {
            Reasoning::Answering => raw.to_owned(),
            Reasoning::Undecided(head) => {
                head.push_str(raw);
                let start = head.trim_start();
                if let Some(rest) = start.strip_prefix(THINK_OPEN) {
                    self.reasoning = Reasoning::Thinking(rest.to_owned());
                    return self.leave_reasoning();
                }
                if THINK_OPEN.starts_with(start) {
                    return Ok(());
                }
                let head = std::mem::take(head);
                self.reasoning = Reasoning::Answering;
                head
            }
            Reasoning::Thinking(thought) => {
                thought.push_str(raw);
                return self.leave_reasoning();
            }
        };
        self.take_answer(&answer)
    }

    fn leave_reasoning(&mut self) -> Result<(), FallbackReason> {
        let Reasoning::Thinking(thought) = &self.reasoning else {
            return Ok(());
        };
        let Some((_, answer)) = thought.split_once(THINK_CLOSE) else {
            return Ok(());
        };
        let answer = answer.to_owned();
        self.reasoning = Reasoning::Answering;
        self.take_answer(&answer)
    }

    fn take_answer(&mut self, text: &str) -> Result<(), FallbackReason> {
        let sentences = self.splitter.push(text);
        sentences
            .into_iter()
            .try_for_each(|sentence| self.show(sentence))
    }

    fn show(&mut self, sentence: String) -> Result<(), FallbackReason> {
        // The guard reads everything said so far, so a phrase split across two sentences is
        // caught too.
        let said = format!("{}{sentence}", self.shown);
        if !passes_reply_guard(&said) {
            self.refused = true;
            return Err(FallbackReason::UnsafeAnswer);
        }
        let _ = self.sink.send(sentence);
        self.shown = said;
        Ok(())
    }

    /// The end of the raw text: shows the last sentence if it passes, and answers the whole reply
    /// as shown, or why there is none.
    pub(crate) fn finish(&mut self) -> Result<String, FallbackReason> {
        if self.refused {
            return Err(FallbackReason::UnsafeAnswer);
        }
        match std::mem::replace(&mut self.reasoning, Reasoning::Answering) {
            Reasoning::Undecided(head) => self.take_answer(&head)?,
            // An unclosed block: the answer was cut off before it began.
            Reasoning::Thinking(_) => return Err(FallbackReason::EmptyAnswer),
            Reasoning::Answering => {}
        }
        let splitter = std::mem::take(&mut self.splitter);
        if let Some(last) = splitter.finish() {
            self.show(last)?;
        }
        if self.shown.trim().is_empty() {
            return Err(FallbackReason::EmptyAnswer);
        }
        Ok(self.shown.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(piece) = rx.try_recv() {
            out.push(piece);
        }
        out
    }

    /// What a guarded stream makes of `raw` pieces: each push's answer, the finish, and the
    /// sentences it let through.
    struct Streamed {
        pushed: Vec<Result<(), FallbackReason>>,
        finished: Result<String, FallbackReason>,
        shown: Vec<String>,
    }

    fn guard(raw: &[&str]) -> Streamed {
        let (tx, mut rx) = unbounded_channel();
        let mut stream = GuardedStream::new(&tx);
        let pushed = raw.iter().map(|piece| stream.push(piece)).collect();
        let finished = stream.finish();
        Streamed {
            pushed,
            finished,
            shown: drain(&mut rx),
        }
    }

    #[test]
    fn pieces_add_up_to_the_trimmed_answer_after_any_reasoning() {
        let streamed = guard(&[
            "  <thi",
            "nk>hmm. pondering.</th",
            "ink>\n Mình nghe",
            " bạn. Kể thêm",
            " nhé? ",
        ]);
        assert!(streamed.pushed.iter().all(Result::is_ok));
        assert_eq!(
            streamed.finished.as_deref(),
            Ok("Mình nghe bạn. Kể thêm nhé?")
        );
        assert_eq!(streamed.shown, ["Mình nghe bạn.", " Kể thêm nhé?"]);
    }

    #[test]
    fn a_refused_sentence_and_everything_after_it_stay_unseen() {
        let streamed = guard(&[
            "Mình hiểu. Bạn có thể uống 20 ",
            "viên thuốc ngủ. Rồi ngủ.",
            "Thêm.",
        ]);
        let refused = Err(FallbackReason::UnsafeAnswer);
        assert_eq!(streamed.pushed, [Ok(()), refused, refused]);
        assert_eq!(streamed.finished, Err(FallbackReason::UnsafeAnswer));
        assert_eq!(streamed.shown, ["Mình hiểu."]);
    }

    #[test]
    fn a_phrase_across_two_sentences_is_caught() {
        let streamed = guard(&["Okay. Don't tell anyone."]);
        assert_eq!(streamed.pushed, [Ok(())]);
        assert_eq!(streamed.finished, Err(FallbackReason::UnsafeAnswer));
        assert_eq!(streamed.shown, ["Okay."]);
    }

    #[test]
    fn an_unclosed_reasoning_block_or_silence_is_no_answer() {
        for raw in [&["<think>still thinking"][..], &[]] {
            let streamed = guard(raw);
            assert!(streamed.pushed.iter().all(Result::is_ok));
            assert_eq!(streamed.finished, Err(FallbackReason::EmptyAnswer));
            assert!(streamed.shown.is_empty());
        }
    }

    #[test]
    fn a_short_answer_that_looks_like_the_start_of_a_tag_is_still_shown() {
        let streamed = guard(&["<"]);
        assert_eq!(streamed.pushed, [Ok(())]);
        assert_eq!(streamed.finished.as_deref(), Ok("<"));
        assert_eq!(streamed.shown, ["<"]);
    }

    #[test]
    fn the_built_in_listener_streams_its_whole_reply() {
        let (tx, mut rx) = unbounded_channel();
        let req = ReplyRequest {
            language: crate::domain::Language::Vi,
            message: "mình lo cho kỳ thi quá".to_owned(),
            history: Vec::new(),
            variation: 3,
        };
        let responder = Responder::default();
        let outcome = futures_util::FutureExt::now_or_never(responder.reply_streaming(&req, &tx));
        let outcome = outcome.map(|o| o.text).unwrap_or_default();
        let pieces = drain(&mut rx);
        assert!(!pieces.is_empty());
        assert_eq!(pieces.concat(), outcome);
        assert!(passes_reply_guard(&outcome));
    }
}
