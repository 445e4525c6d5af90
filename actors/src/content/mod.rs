//! What the service says, as reviewed data: `content/<language>.toml`, compiled in, or an
//! operator's copy of that folder (`content.dir`). Loaded once at startup into typed wording and
//! checked by [`check`] before any session can see it (docs/content.md).
//!
//! Sentences name hotline roles (`{medical}`), never numbers; [`crate::crisis::hotlines`] fills them.

pub mod check;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::crisis::{Category, Hotline};
use crate::domain::Language;

pub use check::{ContentError, Problem};

/// One sentence: alternatives, most complete first; the first whose roles all have a line is said.
pub type Sentence = Vec<String>;

/// The compiled-in language files, by language.
pub const BUILT_IN: [(Language, &str); 2] = [
    (Language::Vi, include_str!("../../../content/vi.toml")),
    (Language::En, include_str!("../../../content/en.toml")),
];

/// The languages every content folder must cover, in the order the system prompt joins them.
pub const LANGUAGES: [Language; 2] = [Language::Vi, Language::En];

/// Everything the service says, in every language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    vi: Wording,
    en: Wording,
}

impl Content {
    /// The wording of one language.
    pub fn wording(&self, language: Language) -> &Wording {
        match language {
            Language::Vi => &self.vi,
            Language::En => &self.en,
        }
    }

    /// The compiled-in folder, checked like an operator's (its test proves it passes).
    pub fn built_in(hotlines: &[Hotline]) -> Result<Self, ContentError> {
        check::parse_all(
            |language| {
                BUILT_IN
                    .iter()
                    .find(|(l, _)| *l == language)
                    .map(|(_, text)| Ok((*text).to_owned()))
                    .unwrap_or_else(|| Err(format!("no built-in file for {}", language.as_str())))
            },
            hotlines,
        )
        .map(|(content, _)| content)
    }

    /// An operator's folder holding `<language>.toml` for every language.
    pub fn from_dir(dir: &Path, hotlines: &[Hotline]) -> Result<Self, ContentError> {
        check::check_dir(dir, hotlines).map(|(content, _)| content)
    }

    pub(crate) fn from_parts(vi: Wording, en: Wording) -> Self {
        Self { vi, en }
    }
}

static ACTIVE: OnceLock<Content> = OnceLock::new();

/// Makes `content` what the service says for the life of the process; startup calls it once,
/// before any actor runs. Refused when different wording is already in use.
pub fn install(content: Content) -> Result<(), ContentError> {
    let installed = ACTIVE.get_or_init(|| content.clone());
    if *installed == content {
        Ok(())
    } else {
        Err(ContentError::single(Problem::general(
            "different wording is already in use in this process",
        )))
    }
}

/// The wording in use: what startup installed, else the compiled-in folder.
pub fn active() -> &'static Content {
    ACTIVE.get_or_init(|| {
        // The compiled-in files are checked by a unit test, so this cannot fail in a build that
        // passed its tests; failing loudly beats a crisis card with missing sentences.
        #[allow(clippy::expect_used)]
        let built_in = Content::built_in(&[]).expect("compiled-in content/ is valid");
        built_in
    })
}

/// The wording of one language in use.
pub fn wording(language: Language) -> &'static Wording {
    active().wording(language)
}

/// Everything one language file holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    /// The crisis card.
    pub card: CardWording,
    /// The reply to a crisis message.
    pub safety_reply: SafetyReplyWording,
    /// Later replies while a conversation stays in crisis mode.
    pub check_in: CheckInWording,
    /// How lines are named inside sentences.
    pub hotlines: HotlineWording,
    /// The system prompt sent to a language model.
    pub prompt: PromptWording,
    /// The built-in listener's replies.
    pub listener: ListenerWording,
    /// Notices shown with replies.
    pub notice: NoticeWording,
    /// Asking for a counsellor.
    pub handoff: HandoffWording,
    /// The chat page's own texts (labels, buttons, states), served to the page as they are.
    pub chat_page: PageWording,
    /// The counsellors' console's own texts.
    pub staff_page: PageWording,
}

/// A compiled-in page's texts by key, served to it as JSON. A map rather than a struct: the page,
/// not the service, reads each key, and the check still demands every key of the built-in file.
pub type PageWording = BTreeMap<String, PageText>;

/// One text of a page, or a group of them (its error messages by code).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum PageText {
    /// Said as written, but for the placeholders its key allows (`check::own_placeholders`).
    Text(String),
    /// Texts by a code the page looks up, such as an API error code.
    Group(BTreeMap<String, String>),
}

/// What is said about a handoff to a counsellor (said as written, but for `{topics}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffWording {
    /// The drafted summary when topics were recognised; `{topics}` lists them.
    pub summary_topics: String,
    /// The drafted summary when none were.
    pub summary_general: String,
    /// Why no counsellor can take the chat now; the hotline card follows.
    pub unavailable: String,
    /// How each topic the built-in listener recognises is named in a summary.
    pub topics: TopicNames,
}

/// A short name per topic of the built-in listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct TopicNames {
    pub exams: String,
    pub family: String,
    pub loneliness: String,
    pub love: String,
    pub stress: String,
    pub sadness: String,
    pub anger: String,
    pub anxiety: String,
    pub school: String,
    pub bullying: String,
    pub friends: String,
    pub sleep: String,
    pub self_worth: String,
}

/// Notices shown with replies (said as written).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeWording {
    /// With the first reply of a session: replies come from software, not a counsellor.
    pub ai_disclosure: String,
    /// After a long stretch of continuous use.
    pub break_reminder: String,
    /// Late at night in Vietnam.
    pub night_reminder: String,
}

/// One value per crisis category.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByCategory<T> {
    /// Suicide.
    pub suicide: T,
    /// Self-harm.
    pub self_harm: T,
    /// Abuse.
    pub abuse: T,
    /// Violence.
    pub violence: T,
    /// Someone else at risk.
    pub third_party: T,
}

impl<T> ByCategory<T> {
    /// The value for `category`.
    pub fn get(&self, category: Category) -> &T {
        match category {
            Category::Suicide => &self.suicide,
            Category::SelfHarm => &self.self_harm,
            Category::Abuse => &self.abuse,
            Category::Violence => &self.violence,
            Category::ThirdParty => &self.third_party,
        }
    }
}

/// The crisis card's sentences.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardWording {
    /// The closing word of support.
    pub reassurance: String,
    /// The first thing to say, by the most pressing category.
    pub priority_message: PriorityMessages,
    /// Steps to take now, by category.
    pub immediate_actions: ByCategory<Vec<Sentence>>,
}

/// The card's first message by category; suicide has its own for a critical severity.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityMessages {
    /// Suicide, below critical.
    pub suicide: Vec<Sentence>,
    /// Suicide with a plan or means.
    pub suicide_critical: Vec<Sentence>,
    /// Self-harm.
    pub self_harm: Vec<Sentence>,
    /// Abuse.
    pub abuse: Vec<Sentence>,
    /// Violence.
    pub violence: Vec<Sentence>,
    /// Someone else at risk.
    pub third_party: Vec<Sentence>,
}

impl PriorityMessages {
    /// The message for `category`, critical or not.
    pub fn get(&self, category: Category, critical: bool) -> &[Sentence] {
        match category {
            Category::Suicide if critical => &self.suicide_critical,
            _ => self.below_critical().get(category),
        }
    }

    /// The messages for a severity below critical, one per category (the file keeps them beside
    /// `suicide_critical`, so they cannot be read as a [`ByCategory`] of their own).
    fn below_critical(&self) -> ByCategory<&[Sentence]> {
        ByCategory {
            suicide: &self.suicide,
            self_harm: &self.self_harm,
            abuse: &self.abuse,
            violence: &self.violence,
            third_party: &self.third_party,
        }
    }
}

/// The reply to a crisis message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyReplyWording {
    /// Says the listener is software and points to real people.
    pub disclosure: String,
    /// To a message about someone else at risk that is not a crisis itself.
    pub third_party_advice: Vec<Sentence>,
    /// Otherwise: `{lines}` becomes the lines below that have a line.
    pub not_in_crisis: String,
    /// The lines `not_in_crisis` lists.
    pub not_in_crisis_lines: Vec<String>,
    /// Openings by category; several are varied between messages.
    pub opening: ByCategory<Vec<String>>,
    /// Where to call, by category.
    pub where_to_call: ByCategory<Vec<Sentence>>,
}

/// Something said about the writer or about someone else at risk.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AboutWhom<T> {
    /// The writer is at risk.
    pub about_self: T,
    /// Someone else is.
    pub third_party: T,
}

impl<T> AboutWhom<T> {
    /// The value for a crisis of `category`.
    pub fn get(&self, category: Category) -> &T {
        match category {
            Category::ThirdParty => &self.third_party,
            _ => &self.about_self,
        }
    }
}

/// Later replies while a conversation stays in crisis mode.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInWording {
    /// Ends every check-in: software, not a counsellor; still listening.
    pub closing: String,
    /// Openings, varied by turn.
    pub openings: AboutWhom<Vec<String>>,
    /// The question about safety.
    pub question: AboutWhom<String>,
    /// The lines to call, by category.
    pub reminder: ByCategory<Vec<Sentence>>,
}

/// How lines are named inside sentences.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotlineWording {
    /// `{role_terms}` of a free line; `{hours}` is its hours.
    pub free_terms: String,
    /// Joins the last two of several numbers.
    pub or: String,
    /// Names the first line of the card when no sentence could name one; `{line}` is "number (name)".
    pub you_can_call: String,
}

/// The system prompt's part in this language.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptWording {
    /// The rules; `{danger_rule}` is replaced by one of the two below.
    pub text: String,
    /// The rule naming lines; `{lines}` lists `danger_rule_lines` that have a line.
    pub danger_rule: String,
    /// The rule when no line is configured.
    pub danger_rule_without_lines: String,
    /// The lines the rule names.
    pub danger_rule_lines: Vec<String>,
    /// Appended for a session in this language.
    pub session_hint: String,
}

/// One reflection and, unless `questions` is empty, one question make a built-in reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyTemplates {
    /// Name and reflect the feeling; never a question.
    pub reflections: Vec<String>,
    /// Open questions with exactly one question mark.
    pub questions: Vec<String>,
}

/// The built-in listener's replies by situation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct ListenerWording {
    pub exams: ReplyTemplates,
    pub family: ReplyTemplates,
    pub loneliness: ReplyTemplates,
    pub love: ReplyTemplates,
    pub stress: ReplyTemplates,
    pub sadness: ReplyTemplates,
    pub anger: ReplyTemplates,
    pub anxiety: ReplyTemplates,
    pub school: ReplyTemplates,
    pub bullying: ReplyTemplates,
    pub friends: ReplyTemplates,
    pub sleep: ReplyTemplates,
    pub self_worth: ReplyTemplates,
    pub bot_question: ReplyTemplates,
    pub greeting: ReplyTemplates,
    pub thanks: ReplyTemplates,
    pub farewell: ReplyTemplates,
    pub unclear: ReplyTemplates,
    pub generic: ReplyTemplates,
}
