//! The built-in listener's small lexicon: the feelings, topics and intents it
//! recognises.
//!
//! Messages arrive from phones late at night: often without diacritics, in teen code, decomposed or
//! with old-style tone placement (DOMAIN.md, "How Vietnamese arrives in a text box"). Everything is
//! matched on one folded view (accents stripped, `đ`→`d`, lowercase, teen code expanded) and only at
//! syllable boundaries, because folding makes single syllables collide (`thì`/`thi`, `bỏ`/`bố`).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::domain::Language;
use crate::text::{LanguageSignals, Views, fold_words, is_folded_negator, normalize_views};

/// A feeling or topic the built-in listener can name back to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feeling {
    /// Exams, tests, grades, admissions.
    Exams,
    /// Parents, siblings, home.
    Family,
    /// Feeling alone or not understood.
    Loneliness,
    /// Love, crushes, break-ups.
    Love,
    /// Pressure, exhaustion, overload.
    Stress,
    /// Sadness, crying, feeling down.
    Sadness,
    /// Anger, frustration, resentment.
    Anger,
    /// Worry, fear, nervousness.
    Anxiety,
    /// Schoolwork, teachers, classes.
    School,
    /// Being bullied, mocked or excluded.
    Bullying,
    /// Friendships and quarrels with friends.
    Friends,
    /// Sleeplessness and nightmares.
    Sleep,
    /// Harsh thoughts about oneself.
    SelfWorth,
}

impl Feeling {
    /// Every feeling, in tie-break order: the more specific a topic, the earlier it comes, so
    /// "bullied and sad" is answered about the bullying.
    pub const ALL: [Feeling; 13] = [
        Feeling::Bullying,
        Feeling::SelfWorth,
        Feeling::Loneliness,
        Feeling::Love,
        Feeling::Family,
        Feeling::Exams,
        Feeling::Friends,
        Feeling::Sleep,
        Feeling::School,
        Feeling::Anxiety,
        Feeling::Anger,
        Feeling::Sadness,
        Feeling::Stress,
    ];

    /// A stable snake_case name, fit for a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Feeling::Exams => "exams",
            Feeling::Family => "family",
            Feeling::Loneliness => "loneliness",
            Feeling::Love => "love",
            Feeling::Stress => "stress",
            Feeling::Sadness => "sadness",
            Feeling::Anger => "anger",
            Feeling::Anxiety => "anxiety",
            Feeling::School => "school",
            Feeling::Bullying => "bullying",
            Feeling::Friends => "friends",
            Feeling::Sleep => "sleep",
            Feeling::SelfWorth => "self_worth",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Emotions can be negated ("không buồn", "not sad"); topics cannot, because a negation next to
    /// a topic usually makes it worse ("không thi đỗ" is a failed exam).
    fn negatable(self) -> bool {
        matches!(
            self,
            Feeling::Loneliness
                | Feeling::Stress
                | Feeling::Sadness
                | Feeling::Anger
                | Feeling::Anxiety
                | Feeling::SelfWorth
        )
    }
}

/// What the lexicon found in one message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    scores: [u32; 13],
    /// The person asks whether they are talking to a person or a program.
    pub bot_question: bool,
    /// A greeting.
    pub greeting: bool,
    /// Thanks.
    pub thanks: bool,
    /// A goodbye or good night.
    pub farewell: bool,
    /// Syllables in the message, to tell short or unclear input apart.
    pub tokens: usize,
    language: LanguageSignals,
}

impl Analysis {
    /// The strongest feeling, ties broken by [`Feeling::ALL`] order.
    pub fn primary(&self) -> Option<Feeling> {
        let mut best: Option<(Feeling, u32)> = None;
        for feeling in Feeling::ALL {
            let score = self.scores[feeling.index()];
            if score > 0 && best.is_none_or(|(_, top)| score > top) {
                best = Some((feeling, score));
            }
        }
        best.map(|(feeling, _)| feeling)
    }

    /// The language to answer in (see [`LanguageSignals::reply_language`]).
    pub fn reply_language(&self, session: Language) -> Language {
        self.language.reply_language(session)
    }
}

/// The folded view of the shared text layer as the lexicon matches it: accent-free syllables,
/// teen code expanded, a `|` token at each clause boundary so negation does not reach across
/// clauses, a few emoji turned into words, and English abbreviations spelled out. The result starts
/// and ends with a space so every key can be matched as ` key `.
pub(crate) fn fold(text: &str) -> String {
    fold_views(&normalize_views(text))
}

fn fold_views(views: &Views) -> String {
    let mut out = String::with_capacity(views.folded().len() + 8);
    out.push(' ');
    for (i, token) in views.folded_tokens().enumerate() {
        if i > 0 && views.clause_start(i) {
            out.push_str("| ");
        }
        out.push_str(lexicon_word(token));
        out.push(' ');
    }
    out
}

/// Emoji people send instead of words, and English chat abbreviations, as the words the lexicon
/// knows. (Vietnamese teen code is expanded by the text layer.)
fn lexicon_word(token: &str) -> &str {
    match token {
        "😢" | "😭" | "😿" | "🥺" | "😞" | "😔" => "sad",
        "💔" => "heartbroken",
        "😡" | "😠" | "🤬" => "angry",
        "😰" | "😨" | "😱" | "😟" => "scared",
        "u" => "you",
        "ur" => "your",
        other => other,
    }
}

/// Feeling keys, written accent-free and matched as whole syllables. Lone syllables that collide after folding
/// (`thi`, `bo`, `me`, `so`, `lo`, `gian`, `tuc`, `chan`) appear only inside longer phrases.
const FEELING_KEYS: &[(Feeling, &[&str])] = &[
    (
        Feeling::Exams,
        &[
            "thi cu",
            "ki thi",
            "ky thi",
            "di thi",
            "on thi",
            "sap thi",
            "mai thi",
            "thi xong",
            "bai thi",
            "mon thi",
            "lich thi",
            "phong thi",
            "thi truot",
            "thi rot",
            "thi do",
            "thi tot",
            "thi khong tot",
            "thi dai hoc",
            "thi tot nghiep",
            "thi chuyen",
            "thi vao lop 10",
            "thi vao 10",
            "thi hoc ki",
            "thi hoc ky",
            "thi giua ki",
            "thi cuoi ki",
            "diem kem",
            "diem thap",
            "diem so",
            "diem thi",
            "bi diem",
            "kiem tra",
            "hoc luc",
            "nguyen vong",
            "truot dai hoc",
            "rot dai hoc",
            "do dai hoc",
            "ielts",
            "exam",
            "exams",
            "test",
            "tests",
            "quiz",
            "grades",
            "bad grade",
            "my grade",
            "score",
            "scores",
            "gpa",
            "finals",
            "midterm",
            "midterms",
            "failed my",
            "entrance exam",
            "entrance exams",
        ],
    ),
    (
        Feeling::Family,
        &[
            "bo me",
            "ba me",
            "cha me",
            "bo minh",
            "me minh",
            "ba minh",
            "bo toi",
            "me toi",
            "bo em",
            "me em",
            "gia dinh",
            "o nha",
            "phu huynh",
            "bi mang",
            "ly hon",
            "ly di",
            "anh trai",
            "chi gai",
            "em trai",
            "em gai",
            "bo duong",
            "me ke",
            "me ghe",
            "ba ghe",
            "parent",
            "parents",
            "mom",
            "mum",
            "mother",
            "dad",
            "father",
            "family",
            "my brother",
            "my sister",
            "sibling",
            "siblings",
            "divorce",
            "divorced",
            "divorcing",
            "at home",
        ],
    ),
    (
        Feeling::Loneliness,
        &[
            "co don",
            "mot minh",
            "le loi",
            "lac loi",
            "lac long",
            "tro troi",
            "trong vang",
            "khong ai hieu",
            "khong ai quan tam",
            "khong ai nghe",
            "khong ai choi",
            "khong ai ben canh",
            "khong co ai",
            "khong co ban",
            "bi bo roi",
            "bi bo lai",
            "lonely",
            "loneliness",
            "lonelier",
            "alone",
            "no one understands",
            "nobody understands",
            "no one cares",
            "nobody cares",
            "no friends",
            "isolated",
            "left out",
        ],
    ),
    (
        Feeling::Love,
        &[
            "nguoi yeu",
            "chia tay",
            "crush",
            "that tinh",
            "tinh cam",
            "tinh yeu",
            "don phuong",
            "ban trai",
            "ban gai",
            "bi cam sung",
            "ngoai tinh",
            "boyfriend",
            "girlfriend",
            "broke up",
            "break up",
            "breakup",
            "dumped",
            "my ex",
            "heartbroken",
            "heartbreak",
            "heartbreaking",
            "relationship",
            "in love",
            "cheated on",
        ],
    ),
    (
        Feeling::Stress,
        &[
            "ap luc",
            "cang thang",
            "met",
            "met moi",
            "met qua",
            "met lam",
            "kiet suc",
            "qua tai",
            "qua suc",
            "duoi suc",
            "ngop",
            "ngop tho",
            "nghet tho",
            "khong tho noi",
            "deadline",
            "deadlines",
            "nhieu viec",
            "stress",
            "stressed",
            "stressful",
            "stressing",
            "overwhelm",
            "overwhelmed",
            "overwhelming",
            "pressure",
            "exhausted",
            "burnout",
            "burned out",
            "burnt out",
            "tired",
            "too much",
            "cant cope",
            "drained",
            "worn out",
        ],
    ),
    (
        Feeling::Sadness,
        &[
            "buon",
            "khoc",
            "muon khoc",
            "chan nan",
            "chan qua",
            "chan lam",
            "that vong",
            "dau long",
            "tuyet vong",
            "tui than",
            "suy qua",
            "suy lam",
            "bi suy",
            "trong rong",
            "nang long",
            "nang ne",
            "khong vui",
            "mat vui",
            "tram cam",
            "sad",
            "sadness",
            "unhappy",
            "depressed",
            "depression",
            "depressing",
            "feel down",
            "feeling down",
            "cry",
            "crying",
            "cried",
            "cries",
            "cried",
            "tears",
            "miserable",
            "hopeless",
            "upset",
            "empty inside",
        ],
    ),
    (
        Feeling::Anger,
        &[
            "tuc qua",
            "tuc lam",
            "tuc dien",
            "tuc gian",
            "buc",
            "buc minh",
            "buc boi",
            "buc tuc",
            "gian du",
            "gian qua",
            "gian lam",
            "dang gian",
            "noi dien",
            "noi khung",
            "phat dien",
            "uc che",
            "kho chiu",
            "ghet",
            "bat cong",
            "cau gat",
            "cau kinh",
            "angry",
            "anger",
            "mad at",
            "so mad",
            "furious",
            "pissed",
            "hate",
            "annoyed",
            "frustrated",
            "frustrating",
            "frustration",
            "unfair",
            "rage",
        ],
    ),
    (
        Feeling::Anxiety,
        &[
            "lo lang",
            "lo au",
            "lo so",
            "lo qua",
            "lo lam",
            "so hai",
            "so qua",
            "so lam",
            "rat so",
            "dang so",
            "minh so",
            "em so",
            "toi so",
            "hoang so",
            "bat an",
            "hoi hop",
            "bon chon",
            "thap thom",
            "hoang loan",
            "tim dap nhanh",
            "anxious",
            "anxiety",
            "worried",
            "worry",
            "worrying",
            "scared",
            "afraid",
            "nervous",
            "panic",
            "panicking",
            "panicked",
            "fear",
            "terrified",
            "freaking out",
        ],
    ),
    (
        Feeling::School,
        &[
            "truong hoc",
            "o truong",
            "o lop",
            "den truong",
            "di hoc",
            "hoc hanh",
            "viec hoc",
            "bai tap",
            "hoc them",
            "giao vien",
            "co giao",
            "thay giao",
            "chu nhiem",
            "lop hoc",
            "hoc kem",
            "hoc khong vao",
            "nghi hoc",
            "bo hoc",
            "chuyen truong",
            "school",
            "class",
            "classes",
            "homework",
            "teacher",
            "teachers",
            "studying",
            "assignment",
            "assignments",
        ],
    ),
    (
        Feeling::Bullying,
        &[
            "bat nat",
            "bi bat nat",
            "bi treu",
            "treu choc",
            "che gieu",
            "che cuoi",
            "bi co lap",
            "tay chay",
            "bi tay chay",
            "bao luc hoc duong",
            "danh hoi dong",
            "noi xau",
            "bi noi xau",
            "body shame",
            "bi mia mai",
            "bully",
            "bullied",
            "bullying",
            "bullies",
            "bullied",
            "picked on",
            "made fun of",
            "mock",
            "mocked",
            "mocking",
            "mocks",
            "teased",
            "teasing",
            "harass",
            "harassed",
            "harassment",
            "harassing",
            "cyberbully",
            "cyberbullied",
            "cyberbullying",
            "excluded",
        ],
    ),
    (
        Feeling::Friends,
        &[
            "ban be",
            "nhom ban",
            "hoi ban",
            "ban cu",
            "tinh ban",
            "mat ban",
            "ban cung lop",
            "cai nhau voi ban",
            "gian ban",
            "dua ban",
            "thang ban",
            "con ban",
            "friend",
            "friends",
            "friendship",
            "best friend",
            "bestie",
            "bff",
        ],
    ),
    (
        Feeling::Sleep,
        &[
            "mat ngu",
            "khong ngu duoc",
            "khong ngu noi",
            "ngu khong duoc",
            "ngu khong ngon",
            "kho ngu",
            "chua ngu",
            "thuc trang dem",
            "thuc khuya",
            "thuc dem",
            "ac mong",
            "cant sleep",
            "couldnt sleep",
            "insomnia",
            "sleep",
            "sleeping",
            "sleepless",
            "nightmare",
            "nightmares",
            "awake all night",
            "up all night",
        ],
    ),
    (
        Feeling::SelfWorth,
        &[
            "vo dung",
            "vo tich su",
            "vo gia tri",
            "kem coi",
            "that bai",
            "khong ra gi",
            "ghet ban than",
            "tu ti",
            "khong xung dang",
            "khong du tot",
            "xau xi",
            "bi so sanh",
            "con nha nguoi ta",
            "ngu ngoc",
            "tu trach",
            "loi cua minh",
            "useless",
            "worthless",
            "not good enough",
            "failure",
            "hate myself",
            "stupid",
            "ugly",
            "a burden",
            "insecure",
            "self esteem",
            "self worth",
            "loser",
        ],
    ),
];

/// "Am I talking to a person?" in the ways people ask it. `bot` alone is left out: folded `bớt`
/// ("less") is the same syllable.
const BOT_KEYS: &[&str] = &[
    "ban la ai",
    "ban la gi",
    "ban la nguoi hay",
    "ban la nguoi that",
    "ban la bot",
    "ban la robot",
    "ban la may",
    "ban la chatbot",
    "la nguoi hay may",
    "nguoi hay may",
    "nguoi hay bot",
    "nguoi that khong",
    "nguoi that ha",
    "nguoi that a",
    "co phai nguoi",
    "co phai la nguoi",
    "co phai bot",
    "co phai la bot",
    "co phai ai",
    "co phai may",
    "dang noi chuyen voi may",
    "dang noi chuyen voi bot",
    "dang noi chuyen voi ai",
    "la bot a",
    "la bot ha",
    "la bot khong",
    "chatbot",
    "chat gpt",
    "chatgpt",
    "are you a bot",
    "are you bot",
    "are you a robot",
    "are you human",
    "are you a human",
    "are you a person",
    "are you a real person",
    "are you real",
    "are you an ai",
    "are you ai",
    "you a bot",
    "is this a bot",
    "is this ai",
    "is this an ai",
    "is this automated",
    "talking to a bot",
    "talking to a human",
    "talking to a person",
    "talking to a real",
    "talking to an ai",
    "human or bot",
    "bot or human",
    "human or ai",
    "who are you",
    "you a robot",
    "you a person",
    "you a real person",
    // Single letters are joined by the text layer ("r u a" reads as one syllable), so the chat
    // abbreviations are listed as typed.
    "r u a bot",
    "r u a real person",
    "r u a person",
    "r u human",
    "r u real",
    "you human",
    "you a human",
    "you an ai",
    "r you real",
    "r you ai",
];

const GREETING_KEYS: &[&str] = &[
    "chao",
    "xin chao",
    "chao ban",
    "alo",
    "hello",
    "helo",
    "hi",
    "hii",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
];

const THANKS_KEYS: &[&str] = &["cam on", "camon", "thank", "thanks", "thx", "tks"];

const FAREWELL_KEYS: &[&str] = &[
    "tam biet",
    "bye",
    "goodbye",
    "good night",
    "goodnight",
    "chuc ngu ngon",
    "ngu ngon nhe",
    "di ngu day",
    "di ngu nhe",
    "hen gap lai",
    "see you",
];

/// Besides the shared negators, "hết" ("no longer": "hết buồn") softens an emotion.
const ENDING_WORDS: &[&str] = &["het"];

/// Words that may sit between a negator and the emotion it negates ("không hề buồn", "not really
/// sad", "don't feel sad").
const NEGATION_FILLERS: &[&str] = &[
    "he", "con", "thay", "cam", "bi", "hoi", "really", "feel", "feeling", "that", "so", "too",
    "very", "im",
];

#[derive(Debug, Clone, Copy)]
enum Tag {
    Feeling(Feeling, u32),
    Bot,
    Greeting,
    Thanks,
    Farewell,
}

struct Matcher {
    automaton: Option<AhoCorasick>,
    tags: Vec<Tag>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(build_matcher);

/// A key as the text layer folds it, so key and message are always spelled alike (the normaliser
/// also decodes Telex leftovers and cuts run-together syllables, in English words too: every form
/// of a word is therefore listed, no prefix matching).
fn pattern(key: &str) -> String {
    fold(key)
}

fn build_matcher() -> Matcher {
    let mut patterns = Vec::new();
    let mut tags = Vec::new();
    for (feeling, keys) in FEELING_KEYS {
        for key in *keys {
            let syllables = u32::try_from(key.split_whitespace().count()).unwrap_or(1);
            patterns.push(pattern(key));
            tags.push(Tag::Feeling(*feeling, syllables));
        }
    }
    for (keys, tag) in [
        (BOT_KEYS, Tag::Bot),
        (GREETING_KEYS, Tag::Greeting),
        (THANKS_KEYS, Tag::Thanks),
        (FAREWELL_KEYS, Tag::Farewell),
    ] {
        for key in keys {
            patterns.push(pattern(key));
            tags.push(tag);
        }
    }
    // The patterns are a fixed, small list, so building cannot hit the automaton's size limits; if
    // it ever did, the listener still answers (generically) rather than panicking.
    let automaton = match AhoCorasick::new(&patterns) {
        Ok(automaton) => Some(automaton),
        Err(error) => {
            tracing::error!(%error, "responder lexicon failed to build; feelings will not be named");
            None
        }
    };
    Matcher { automaton, tags }
}

fn is_negation_filler(token: &str) -> bool {
    static FOLDED: LazyLock<Vec<String>> = LazyLock::new(|| fold_words(NEGATION_FILLERS));
    FOLDED.iter().any(|w| w == token)
}

/// True when the first non-filler word before `start` (within the same clause) is a negator.
fn negated(folded: &str, start: usize) -> bool {
    let before = folded.get(..start).unwrap_or("");
    for token in before.split_whitespace().rev().take(3) {
        if token == "|" {
            return false;
        }
        if ENDING_WORDS.contains(&token) || is_folded_negator(token) {
            return true;
        }
        if !is_negation_filler(token) {
            return false;
        }
    }
    false
}

/// Runs the lexicon over one message.
pub(crate) fn analyse(message: &str) -> Analysis {
    let views = normalize_views(message);
    let folded = fold_views(&views);
    let language = LanguageSignals::of(message, &views);
    let mut analysis = Analysis {
        tokens: language.tokens,
        language,
        ..Analysis::default()
    };

    let matcher = &*MATCHER;
    let Some(automaton) = matcher.automaton.as_ref() else {
        return analysis;
    };
    let Ok(matches) = automaton.try_find_overlapping_iter(folded.as_str()) else {
        return analysis;
    };
    for found in matches {
        let Some(tag) = matcher.tags.get(found.pattern().as_usize()) else {
            continue;
        };
        match *tag {
            Tag::Feeling(feeling, weight) => {
                if feeling.negatable() && negated(&folded, found.start()) {
                    continue;
                }
                analysis.scores[feeling.index()] += weight;
            }
            Tag::Bot => analysis.bot_question = true,
            Tag::Greeting => analysis.greeting = true,
            Tag::Thanks => analysis.thanks = true,
            Tag::Farewell => analysis.farewell = true,
        }
    }
    analysis
}

/// True when the message asks whether the other side is a person, a bot or an AI ("bạn là người
/// hay máy", "ban la ai", "are you a bot", "r u human"), with or without diacritics.
pub fn is_asking_if_bot(message: &str) -> bool {
    analyse(message).bot_question
}

/// The feeling or topic the built-in listener would name for this message, if any; useful as a
/// metric label.
pub fn recognise_feeling(message: &str) -> Option<Feeling> {
    analyse(message).primary()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn every_key_is_accent_free_and_matches_itself() {
        for (feeling, keys) in FEELING_KEYS {
            for key in *keys {
                let bare = *key;
                assert!(bare.is_ascii() && bare == bare.to_lowercase(), "{key:?}");
                assert!(analyse(bare).scores[feeling.index()] > 0, "{key:?}");
            }
        }
        type IntentKeys = (&'static [&'static str], fn(&Analysis) -> bool);
        let intents: [IntentKeys; 4] = [
            (BOT_KEYS, |a| a.bot_question),
            (GREETING_KEYS, |a| a.greeting),
            (THANKS_KEYS, |a| a.thanks),
            (FAREWELL_KEYS, |a| a.farewell),
        ];
        for (keys, found) in intents {
            for key in keys {
                let bare = *key;
                assert!(bare.is_ascii() && bare == bare.to_lowercase(), "{key:?}");
                assert!(found(&analyse(bare)), "{key:?}");
            }
        }
    }

    #[test]
    fn matcher_builds() {
        assert!(MATCHER.automaton.is_some());
    }

    #[test]
    fn fold_strips_marks_in_every_unicode_form() {
        let nfc = "Mình buồn quá, Đừng lo";
        let nfd: String = nfc.nfd().collect();
        assert_eq!(fold(nfc), " minh buon qua | dung lo ");
        assert_eq!(fold(&nfd), fold(nfc));
        assert_eq!(fold("hoà"), fold("hòa"));
        assert_eq!(fold("thuỷ"), fold("thủy"));
    }

    #[test]
    fn fold_handles_teen_code_repeats_and_apostrophes() {
        assert_eq!(fold("mk ko ngu dc"), " minh khong ngu duoc ");
        assert_eq!(fold("buồnnnn quááá"), " buon qua ");
        assert_eq!(fold("I can't sleep"), fold("i cant sleep"));
        assert_eq!(fold("ny cũ"), " nguoi yeu cu ");
        assert_eq!(fold("😭"), " sad ");
    }

    #[test]
    fn colliding_single_syllables_do_not_match() {
        assert_eq!(recognise_feeling("thì mình cũng không biết nữa"), None);
        assert_eq!(recognise_feeling("đơn giản là vậy thôi"), None);
        assert_eq!(recognise_feeling("tức là sao"), None);
        assert_eq!(recognise_feeling("mình bỏ qua rồi"), None);
    }

    #[test]
    fn negated_emotions_are_not_named() {
        assert_eq!(recognise_feeling("mình không buồn đâu"), None);
        assert_eq!(recognise_feeling("I'm not sad"), None);
        assert_eq!(recognise_feeling("I don't feel lonely"), None);
        assert_eq!(
            recognise_feeling("ko biết nữa, buồn lắm"),
            Some(Feeling::Sadness)
        );
        assert_eq!(recognise_feeling("mình không thi đỗ"), Some(Feeling::Exams));
        assert_eq!(
            recognise_feeling("không buồn. nhưng cô đơn"),
            Some(Feeling::Loneliness)
        );
    }

    #[test]
    fn specific_topic_wins_over_generic_emotion() {
        assert_eq!(
            recognise_feeling("mình buồn vì bị bắt nạt ở lớp"),
            Some(Feeling::Bullying)
        );
    }

    #[test]
    fn asks_if_bot_in_many_forms() {
        for message in [
            "bạn là người hay máy?",
            "ban la nguoi hay may",
            "Bạn là ai vậy",
            "ban la ai",
            "bn là bot à",
            "mình đang nói chuyện với máy hả",
            "Are you a bot?",
            "r u human",
            "is this AI",
            "who are you",
            "am I talking to a real person?",
        ] {
            assert!(is_asking_if_bot(message), "{message:?}");
        }
        for message in [
            "mình buồn quá",
            "bớt buồn rồi",
            "I feel sad",
            "thi cử áp lực quá",
        ] {
            assert!(!is_asking_if_bot(message), "{message:?}");
        }
    }

    #[test]
    fn reply_language_follows_a_clear_switch() {
        let en = analyse("I feel so tired and I dont know what to do");
        assert_eq!(en.reply_language(Language::Vi), Language::En);
        let vi = analyse("mình mệt quá");
        assert_eq!(vi.reply_language(Language::En), Language::Vi);
        let vi_plain = analyse("minh met qua roi");
        assert_eq!(vi_plain.reply_language(Language::En), Language::Vi);
        let unclear = analyse("ok");
        assert_eq!(unclear.reply_language(Language::En), Language::En);
        assert_eq!(unclear.reply_language(Language::Vi), Language::Vi);
    }
}
