//! The summary the built-in listener drafts for a handoff: the topics it recognises in the
//! person's own messages, named in their language. The person sees it and sends it (edited or
//! not) only if they accept it; nothing is shared on the draft's own account.

use crate::content::{TopicNames, wording};
use crate::domain::Language;
use crate::responder::{Feeling, recognise_feeling};

/// Most topics a summary names: more is a list, not a summary.
const MAX_TOPICS: usize = 4;

/// Drafts the summary of `user_messages` (the person's, oldest first) in `language`.
pub fn draft_summary<'a>(
    user_messages: impl IntoIterator<Item = &'a str>,
    language: Language,
) -> String {
    let text = &wording(language).handoff;
    let mut topics: Vec<Feeling> = Vec::new();
    for message in user_messages {
        if let Some(feeling) = recognise_feeling(message)
            && !topics.contains(&feeling)
        {
            topics.push(feeling);
        }
    }
    if topics.is_empty() {
        return text.summary_general.clone();
    }
    let names: Vec<&str> = topics
        .iter()
        .take(MAX_TOPICS)
        .map(|feeling| topic_name(&text.topics, *feeling))
        .collect();
    text.summary_topics.replace("{topics}", &names.join(", "))
}

fn topic_name(names: &TopicNames, feeling: Feeling) -> &str {
    match feeling {
        Feeling::Exams => &names.exams,
        Feeling::Family => &names.family,
        Feeling::Loneliness => &names.loneliness,
        Feeling::Love => &names.love,
        Feeling::Stress => &names.stress,
        Feeling::Sadness => &names.sadness,
        Feeling::Anger => &names.anger,
        Feeling::Anxiety => &names.anxiety,
        Feeling::School => &names.school,
        Feeling::Bullying => &names.bullying,
        Feeling::Friends => &names.friends,
        Feeling::Sleep => &names.sleep,
        Feeling::SelfWorth => &names.self_worth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_recognised_topics_once_each() {
        let draft = draft_summary(
            [
                "I am so stressed about my exams",
                "exams again tomorrow",
                "and my parents keep shouting at home",
            ],
            Language::En,
        );
        assert!(draft.contains("exams"), "{draft}");
        assert_eq!(draft.matches("exams").count(), 1, "{draft}");
        assert!(!draft.contains("{topics}"), "{draft}");
    }

    #[test]
    fn says_something_general_without_a_topic() {
        let draft = draft_summary(["hello"], Language::Vi);
        assert_eq!(draft, wording(Language::Vi).handoff.summary_general);
    }
}
