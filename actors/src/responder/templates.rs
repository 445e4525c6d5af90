//! The built-in listener's wording, in Vietnamese and English: `[listener.*]` of
//! `content/<language>.toml` (docs/content.md).
//!
//! Each situation has reflections (name the feeling, no question mark) and open questions (exactly
//! one question mark); a reply is one of each, so every reply asks exactly one question and the
//! combinations give enough variety that consecutive replies rarely repeat. Nothing here diagnoses,
//! advises on medication, or promises confidentiality.

use super::lexicon::Feeling;
use crate::content::{self, ReplyTemplates};
use crate::domain::Language;

/// One reflection and, unless `questions` is empty, one question make a reply.
pub(crate) type Templates = ReplyTemplates;

/// What the built-in listener is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Situation {
    Feeling(Feeling),
    BotQuestion,
    Greeting,
    Thanks,
    Farewell,
    Unclear,
    Generic,
}

pub(crate) fn templates(situation: Situation, language: Language) -> &'static Templates {
    let listener = &content::wording(language).listener;
    match situation {
        Situation::Feeling(Feeling::Exams) => &listener.exams,
        Situation::Feeling(Feeling::Family) => &listener.family,
        Situation::Feeling(Feeling::Loneliness) => &listener.loneliness,
        Situation::Feeling(Feeling::Love) => &listener.love,
        Situation::Feeling(Feeling::Stress) => &listener.stress,
        Situation::Feeling(Feeling::Sadness) => &listener.sadness,
        Situation::Feeling(Feeling::Anger) => &listener.anger,
        Situation::Feeling(Feeling::Anxiety) => &listener.anxiety,
        Situation::Feeling(Feeling::School) => &listener.school,
        Situation::Feeling(Feeling::Bullying) => &listener.bullying,
        Situation::Feeling(Feeling::Friends) => &listener.friends,
        Situation::Feeling(Feeling::Sleep) => &listener.sleep,
        Situation::Feeling(Feeling::SelfWorth) => &listener.self_worth,
        Situation::BotQuestion => &listener.bot_question,
        Situation::Greeting => &listener.greeting,
        Situation::Thanks => &listener.thanks,
        Situation::Farewell => &listener.farewell,
        Situation::Unclear => &listener.unclear,
        Situation::Generic => &listener.generic,
    }
}
