//! The built-in listener: the default responder, and the fallback for every remote failure.
//!
//! Pure and fast (a lexicon pass and a template pick, no I/O), so it can answer inside the actor
//! without a timeout and can never be the reason a message fails.

use super::lexicon::{Analysis, analyse};
use super::templates::{Situation, Templates, templates};
use super::{FallbackReason, ReplyOutcome, ReplyRequest};
use crate::domain::Role;

/// The `model_used` value of every built-in reply; bump the suffix when the wording changes
/// materially, so stored replies can be told apart.
pub const BUILTIN_MODEL: &str = "builtin-listener-v1";

/// The `provider` value of built-in replies (including fallbacks).
pub const BUILTIN_PROVIDER: &str = "builtin";

/// A supportive listener in Vietnamese and English that names the feeling it recognises, reflects
/// it back and asks one open question; no network, no state.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltInResponder;

impl BuiltInResponder {
    /// Creates the listener; it has no configuration.
    pub fn new() -> Self {
        Self
    }

    /// Answers one message.
    pub fn reply(&self, req: &ReplyRequest) -> ReplyOutcome {
        ReplyOutcome {
            text: compose_reply(req),
            model_used: BUILTIN_MODEL.to_owned(),
            provider: BUILTIN_PROVIDER,
            fallback: None,
        }
    }

    /// Answers one message on behalf of a remote provider that failed, recording why.
    pub fn fallback(&self, req: &ReplyRequest, reason: FallbackReason) -> ReplyOutcome {
        ReplyOutcome {
            fallback: Some(reason),
            ..self.reply(req)
        }
    }
}

fn situation(analysis: &Analysis) -> Situation {
    // Disclosure comes first: a person asking whether they talk to a machine deserves a straight
    // answer before anything else (the Koko lesson in DOMAIN.md).
    if analysis.bot_question {
        return Situation::BotQuestion;
    }
    if let Some(feeling) = analysis.primary() {
        return Situation::Feeling(feeling);
    }
    if analysis.farewell {
        return Situation::Farewell;
    }
    if analysis.thanks {
        return Situation::Thanks;
    }
    if analysis.greeting {
        return Situation::Greeting;
    }
    if analysis.tokens <= 2 {
        return Situation::Unclear;
    }
    Situation::Generic
}

fn compose_reply(req: &ReplyRequest) -> String {
    let analysis = analyse(&req.message);
    let language = analysis.reply_language(req.language);
    let set = templates(situation(&analysis), language);
    let previous = req
        .history
        .iter()
        .rev()
        .find(|turn| turn.role == Role::Assistant)
        .map(|turn| turn.content.as_str());
    let history_len = u64::try_from(req.history.len()).unwrap_or(u64::MAX);
    let seed = mix(req.variation ^ history_len.rotate_left(32));
    compose(set, seed, previous)
}

/// SplitMix64 finaliser: the caller's seed and the history length both tend to grow in steps of
/// two, and a plain modulo of their sum would then cycle through the same few templates.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn candidate(set: &Templates, k: usize) -> (&str, Option<&str>) {
    let reflections = set.reflections.len().max(1);
    let reflection = set
        .reflections
        .get(k % reflections)
        .map(String::as_str)
        .unwrap_or("");
    let question = if set.questions.is_empty() {
        None
    } else {
        // Advancing k changes both halves, so neighbouring seeds never share a sentence.
        let index = (k / reflections + k) % set.questions.len();
        set.questions.get(index).map(String::as_str)
    };
    (reflection, question)
}

fn join(reflection: &str, question: Option<&str>) -> String {
    match question {
        Some(question) => format!("{reflection} {question}"),
        None => reflection.to_owned(),
    }
}

/// Picks a reflection and a question from `seed`, preferring a pair that shares no sentence with
/// the previous assistant turn, then one that at least differs from it as a whole.
fn compose(set: &Templates, seed: u64, previous: Option<&str>) -> String {
    let combinations = set.reflections.len().max(1) * set.questions.len().max(1);
    let start = usize::try_from(seed % u64::try_from(combinations).unwrap_or(1)).unwrap_or(0);
    let Some(previous) = previous else {
        let (reflection, question) = candidate(set, start);
        return join(reflection, question);
    };
    let mut different: Option<String> = None;
    for step in 0..combinations {
        let (reflection, question) = candidate(set, start + step);
        let shares_sentence = previous.contains(reflection)
            || question.is_some_and(|question| previous.contains(question));
        let text = join(reflection, question);
        if !shares_sentence {
            return text;
        }
        if different.is_none() && text != previous {
            different = Some(text);
        }
    }
    different.unwrap_or_else(|| {
        let (reflection, question) = candidate(set, start);
        join(reflection, question)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Language, Turn};
    use crate::responder::lexicon::Feeling;
    use crate::responder::safety::is_unsafe_answer;

    /// Whether `text` opens with one of the reflections for `situation` in `language`.
    fn reflects(text: &str, situation: Situation, language: Language) -> bool {
        templates(situation, language)
            .reflections
            .iter()
            .any(|r| text.starts_with(r))
    }

    fn request(language: Language, message: &str, variation: u64) -> ReplyRequest {
        ReplyRequest {
            language,
            message: message.to_owned(),
            history: Vec::new(),
            variation,
        }
    }

    fn reply(language: Language, message: &str) -> String {
        BuiltInResponder::new()
            .reply(&request(language, message, 7))
            .text
    }

    /// (feeling, with diacritics, without diacritics / teen code, English)
    const SAMPLES: &[(Feeling, &str, &str, &str)] = &[
        (
            Feeling::Exams,
            "Mai thi rồi mà mình chưa ôn được gì",
            "diem kiem tra toan cua mk thap lam",
            "I have an exam tomorrow and I haven't studied",
        ),
        (
            Feeling::Family,
            "Bố mẹ mình suốt ngày cãi nhau",
            "bme t lai cai nhau",
            "My parents keep yelling at each other",
        ),
        (
            Feeling::Loneliness,
            "Mình thấy cô đơn quá",
            "minh thay co don qua",
            "I feel so lonely these days",
        ),
        (
            Feeling::Love,
            "Mình vừa chia tay người yêu",
            "ny chia tay mk roi",
            "My girlfriend broke up with me",
        ),
        (
            Feeling::Stress,
            "Dạo này áp lực quá, mệt mỏi lắm",
            "dao nay ap luc qua",
            "I'm so stressed, there's too much going on",
        ),
        (
            Feeling::Sadness,
            "Hôm nay mình buồn lắm",
            "hom nay mik buonnn lam",
            "I feel sad today",
        ),
        (
            Feeling::Anger,
            "Mình bực bội với mọi thứ",
            "uc che qua di",
            "I'm so angry right now",
        ),
        (
            Feeling::Anxiety,
            "Mình lo lắng không yên",
            "minh lo lang qua",
            "I'm really anxious",
        ),
        (
            Feeling::School,
            "Bài tập về nhà nhiều không làm nổi",
            "bai tap nhieu qua ko lam noi",
            "My homework never ends",
        ),
        (
            Feeling::Bullying,
            "Mình bị bắt nạt ở trường",
            "mk bi bat nat o truong",
            "I'm getting bullied at school",
        ),
        (
            Feeling::Friends,
            "Bạn bè trong lớp không chơi với mình nữa",
            "ban be gio khac het roi",
            "My best friend ignores me",
        ),
        (
            Feeling::Sleep,
            "Mình mất ngủ cả tuần nay",
            "ko ngu dc may dem roi",
            "I can't sleep at night",
        ),
        (
            Feeling::SelfWorth,
            "Mình thấy bản thân thật vô dụng",
            "minh thay minh vo dung",
            "I feel worthless",
        ),
    ];

    #[test]
    fn every_feeling_is_recognised_in_three_spellings() {
        for (feeling, accented, plain, english) in SAMPLES {
            for message in [accented, plain, english] {
                let analysis = analyse(message);
                assert_eq!(analysis.primary(), Some(*feeling), "{message:?}");
            }
        }
    }

    #[test]
    fn every_feeling_is_named_back_in_the_right_language() {
        for (feeling, accented, plain, english) in SAMPLES {
            for (message, language) in [
                (accented, Language::Vi),
                (plain, Language::Vi),
                (english, Language::En),
            ] {
                let text = reply(language, message);
                assert!(
                    reflects(&text, Situation::Feeling(*feeling), language),
                    "{message:?} -> {text:?}"
                );
            }
        }
    }

    #[test]
    fn english_message_in_a_vietnamese_session_gets_english() {
        let text = reply(Language::Vi, "I feel sad today");
        let sadness = Situation::Feeling(Feeling::Sadness);
        assert!(reflects(&text, sadness, Language::En), "{text}");
    }

    #[test]
    fn every_reply_asks_exactly_one_question_and_is_short() {
        let messages = SAMPLES
            .iter()
            .flat_map(|(_, a, b, c)| [*a, *b, *c])
            .chain([
                "chào bạn",
                "hello",
                "cảm ơn nhé",
                "thanks",
                "ừ",
                "...",
                "hmm ok",
            ])
            .chain(["bạn là người hay máy?", "are you a bot?"])
            .chain([
                "hôm qua mình đi chơi với anh họ ở quê",
                "we went to the zoo",
            ]);
        for message in messages {
            for language in [Language::Vi, Language::En] {
                for variation in 0..12 {
                    let text = BuiltInResponder::new()
                        .reply(&request(language, message, variation))
                        .text;
                    assert_eq!(text.matches('?').count(), 1, "{message:?} -> {text:?}");
                    assert!(text.trim_end().ends_with('?'), "{text:?}");
                    let sentences = text.matches(['.', '!', '?']).count();
                    assert!((1..=3).contains(&sentences), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn farewell_does_not_press_with_a_question() {
        let text = reply(Language::Vi, "thôi mình đi ngủ đây, tạm biệt");
        assert_eq!(text.matches('?').count(), 0, "{text}");
        let text = reply(Language::En, "ok bye");
        assert_eq!(text.matches('?').count(), 0, "{text}");
    }

    #[test]
    fn wording_varies_across_variation() {
        for (_, accented, _, english) in SAMPLES {
            for (message, language) in [(accented, Language::Vi), (english, Language::En)] {
                let distinct: std::collections::HashSet<String> = (0..20)
                    .map(|v| {
                        BuiltInResponder::new()
                            .reply(&request(language, message, v))
                            .text
                    })
                    .collect();
                assert!(distinct.len() >= 4, "{message:?}: {distinct:?}");
            }
        }
    }

    #[test]
    fn never_repeats_the_previous_assistant_turn() {
        let responder = BuiltInResponder::new();
        let mut history: Vec<Turn> = Vec::new();
        for variation in 0..30u64 {
            let message = "mình buồn quá".to_owned();
            let req = ReplyRequest {
                language: Language::Vi,
                message: message.clone(),
                history: history.clone(),
                variation,
            };
            let text = responder.reply(&req).text;
            if let Some(last) = history.iter().rev().find(|t| t.role == Role::Assistant) {
                assert_ne!(last.content, text);
                let reflection = text.split(". ").next().unwrap_or_default();
                assert!(
                    !last.content.contains(reflection),
                    "{text} after {}",
                    last.content
                );
            }
            history.push(Turn {
                role: Role::User,
                content: message,
            });
            history.push(Turn {
                role: Role::Assistant,
                content: text,
            });
        }
    }

    #[test]
    fn discloses_automation_when_asked() {
        for (message, language) in [
            ("bạn là người hay máy vậy", Language::Vi),
            ("ban la ai", Language::Vi),
            ("chào, bạn là bot à? mình buồn quá", Language::Vi),
            ("are you a bot", Language::En),
            ("r u a real person?", Language::En),
        ] {
            for variation in 0..6 {
                let text = BuiltInResponder::new()
                    .reply(&request(language, message, variation))
                    .text;
                let lower = text.to_lowercase();
                let disclosed = match language {
                    Language::Vi => lower.contains("tự động") && lower.contains("không phải"),
                    Language::En => {
                        (lower.contains("automated") || lower.contains("software"))
                            && lower.contains("not a")
                    }
                };
                assert!(disclosed, "{message:?} -> {text:?}");
            }
        }
    }

    #[test]
    fn handles_greetings_thanks_and_unclear_input() {
        let greeting = reply(Language::Vi, "chào bạn");
        assert!(greeting.starts_with("Chào bạn"), "{greeting}");
        let greeting = reply(Language::En, "hey");
        assert!(reflects(&greeting, Situation::Greeting, Language::En));
        let thanks = reply(Language::Vi, "cam on ban nhieu");
        assert!(
            reflects(&thanks, Situation::Thanks, Language::Vi),
            "{thanks}"
        );
        for unclear in ["ừ", "...", "?", "ok", "😶"] {
            let text = reply(Language::Vi, unclear);
            assert!(
                reflects(&text, Situation::Unclear, Language::Vi),
                "{unclear:?} -> {text}"
            );
        }
    }

    #[test]
    fn no_template_contains_dangerous_or_clinical_words() {
        let banned = [
            "trầm cảm",
            "rối loạn",
            "chẩn đoán",
            "thuốc",
            "liều",
            "bí mật tuyệt đối",
            "depression",
            "disorder",
            "diagnos",
            "medication",
            "pill",
            "dose",
            "confidential",
            "i promise",
        ];
        let situations = Feeling::ALL.iter().map(|f| Situation::Feeling(*f)).chain([
            Situation::BotQuestion,
            Situation::Greeting,
            Situation::Thanks,
            Situation::Farewell,
            Situation::Unclear,
            Situation::Generic,
        ]);
        for situation in situations {
            for language in [Language::Vi, Language::En] {
                let set = templates(situation, language);
                assert_eq!(set.reflections.len(), 3, "{situation:?}");
                for sentence in set.reflections.iter().chain(&set.questions) {
                    let lower = sentence.to_lowercase();
                    for word in banned {
                        assert!(!lower.contains(word), "{sentence:?} contains {word:?}");
                    }
                    assert!(!is_unsafe_answer(sentence), "{sentence:?}");
                }
                for reflection in &set.reflections {
                    assert!(!reflection.contains('?'), "{reflection:?}");
                }
                for question in &set.questions {
                    assert_eq!(question.matches('?').count(), 1, "{question:?}");
                }
            }
        }
    }

    #[test]
    fn fallback_records_its_reason_and_names_the_builtin() {
        let outcome = BuiltInResponder::new().fallback(
            &request(Language::Vi, "mình buồn", 1),
            FallbackReason::Timeout,
        );
        assert_eq!(outcome.fallback, Some(FallbackReason::Timeout));
        assert_eq!(outcome.provider, BUILTIN_PROVIDER);
        assert_eq!(outcome.model_used, BUILTIN_MODEL);
    }

    #[test]
    fn is_fast() {
        let responder = BuiltInResponder::new();
        let req = request(
            Language::Vi,
            "Dạo này mình áp lực vì thi cử, bố mẹ thì hay so sánh mình với con nhà người ta",
            3,
        );
        let _warm = responder.reply(&req);
        let started = std::time::Instant::now();
        for _ in 0..1000 {
            std::hint::black_box(responder.reply(std::hint::black_box(&req)));
        }
        // Generous bound for unoptimised test builds on a shared machine; release builds are far
        // below it.
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }
}
