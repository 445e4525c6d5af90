//! Checks a content folder before it is used: every key of the built-in files present, no unknown
//! key, every value of the right shape, and every placeholder one that can be filled.
//! Messages name the file and the key, for a reviewer at a terminal (`cbln content check DIR`).

use std::fmt;
use std::path::Path;

use super::{BUILT_IN, Content, LANGUAGES, Wording};
use crate::crisis::Hotline;
use crate::crisis::hotlines::{HotlineRole, line_for};
use crate::domain::Language;

/// One thing wrong with a content folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, e.g. `en.toml`; empty when the problem is not about one file.
    pub file: String,
    /// The dotted key, e.g. `card.reassurance`; empty for the whole file.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn general(message: &str) -> Self {
        Self {
            file: String::new(),
            key: String::new(),
            message: message.to_owned(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.key.is_empty()) {
            (true, _) => write!(f, "{}", self.message),
            (false, true) => write!(f, "{}: {}", self.file, self.message),
            (false, false) => write!(f, "{}: `{}`: {}", self.file, self.key, self.message),
        }
    }
}

/// Why a content folder was refused: every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ContentError {
    /// Every problem, in file and key order.
    pub problems: Vec<Problem>,
}

impl ContentError {
    pub(crate) fn single(problem: Problem) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// Checks `dir/<language>.toml` for every language; on success, the wording and notes for the
/// reviewer (roles the configured hotlines do not have, whose sentences will be reworded or left
/// out as docs/safety/hotlines.md describes).
pub fn check_dir(dir: &Path, hotlines: &[Hotline]) -> Result<(Content, Vec<String>), ContentError> {
    parse_all(
        |language| {
            let path = dir.join(file_name(language));
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        },
        hotlines,
    )
}

fn file_name(language: Language) -> String {
    format!("{}.toml", language.as_str())
}

pub(crate) fn parse_all(
    read: impl Fn(Language) -> Result<String, String>,
    hotlines: &[Hotline],
) -> Result<(Content, Vec<String>), ContentError> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut parsed = Vec::new();
    for language in LANGUAGES {
        let file = file_name(language);
        let problem = |key: &str, message: String| Problem {
            file: file.clone(),
            key: key.to_owned(),
            message,
        };
        let text = match read(language) {
            Ok(text) => text,
            Err(message) => {
                problems.push(problem("", message));
                continue;
            }
        };
        let value: toml::Table = match toml::from_str(&text) {
            Ok(value) => value,
            Err(e) => {
                problems.push(problem("", toml_message(&text, &e)));
                continue;
            }
        };
        let reference = BUILT_IN
            .iter()
            .find(|(l, _)| *l == language)
            .and_then(|(_, text)| toml::from_str::<toml::Table>(text).ok())
            .unwrap_or_default();
        let mut found = Vec::new();
        compare_keys(&reference, &value, "", &mut found);
        check_strings(
            &toml::Value::Table(value.clone()),
            "",
            hotlines,
            &mut found,
            &mut notes,
        );
        let shape_ok = found.is_empty();
        problems.extend(
            found
                .into_iter()
                .map(|(key, message)| problem(&key, message)),
        );
        if !shape_ok {
            continue;
        }
        match toml::Value::Table(value).try_into::<Wording>() {
            Ok(wording) => {
                let mut found = Vec::new();
                check_listener(&wording, &mut found);
                problems.extend(
                    found
                        .into_iter()
                        .map(|(key, message)| problem(&key, message)),
                );
                parsed.push(wording);
            }
            Err(e) => problems.push(problem("", e.message().to_owned())),
        }
    }
    notes.sort();
    notes.dedup();
    if !problems.is_empty() {
        return Err(ContentError { problems });
    }
    let mut parsed = parsed.into_iter();
    match (parsed.next(), parsed.next()) {
        (Some(vi), Some(en)) => Ok((Content::from_parts(vi, en), notes)),
        _ => Err(ContentError::single(Problem::general(
            "a language file is missing",
        ))),
    }
}

fn toml_message(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!(
            "line {}: {}",
            text[..span.start.min(text.len())].lines().count().max(1),
            e.message()
        ),
        None => e.message().to_owned(),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Every table key of the built-in file must be there, and no other.
fn compare_keys(
    reference: &toml::Table,
    actual: &toml::Table,
    prefix: &str,
    found: &mut Vec<(String, String)>,
) {
    for (key, expected) in reference {
        let path = join(prefix, key);
        match actual.get(key) {
            None => found.push((path, "missing key".to_owned())),
            Some(value) => match (expected, value) {
                (toml::Value::Table(e), toml::Value::Table(a)) => compare_keys(e, a, &path, found),
                (toml::Value::Table(_), _) => found.push((path, "must be a table".to_owned())),
                (toml::Value::String(_), toml::Value::String(_))
                | (toml::Value::Array(_), toml::Value::Array(_)) => {}
                (toml::Value::String(_), _) => found.push((path, "must be a text".to_owned())),
                (toml::Value::Array(_), _) => found.push((path, "must be a list".to_owned())),
                _ => {}
            },
        }
    }
    for key in actual.keys().filter(|k| !reference.contains_key(*k)) {
        found.push((join(prefix, key), "unknown key".to_owned()));
    }
}

/// The placeholders a text at `path` may use besides hotline roles, and the one it must use.
fn own_placeholders(path: &str) -> (&'static [&'static str], Option<&'static str>) {
    match path {
        "safety_reply.not_in_crisis" => (&["lines"], Some("lines")),
        "hotlines.free_terms" => (&["hours"], Some("hours")),
        "hotlines.you_can_call" => (&["line"], Some("line")),
        "prompt.text" => (&["danger_rule"], Some("danger_rule")),
        "prompt.danger_rule" => (&["lines"], Some("lines")),
        "handoff.summary_topics" => (&["topics"], Some("topics")),
        "chat_page.queued_position" => (&["position"], Some("position")),
        "chat_page.queued_wait" | "staff_page.waiting" => (&["minutes"], Some("minutes")),
        "chat_page.next_opening" => (&["time"], Some("time")),
        _ => (&[], None),
    }
}

/// Texts that are said as written: no placeholder at all.
fn said_as_written(path: &str) -> bool {
    path.starts_with("listener.")
        || path.starts_with("hotlines.")
        || path.starts_with("notice.")
        || path.starts_with("handoff.")
        || path.starts_with("chat_page.")
        || path.starts_with("staff_page.")
        || matches!(
            path,
            "prompt.session_hint" | "prompt.danger_rule_without_lines" | "check_in.closing"
        )
}

fn check_strings(
    value: &toml::Value,
    path: &str,
    hotlines: &[Hotline],
    found: &mut Vec<(String, String)>,
    notes: &mut Vec<String>,
) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                check_strings(value, &join(path, key), hotlines, found, notes);
            }
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_strings(item, &format!("{path}[{i}]"), hotlines, found, notes);
            }
        }
        toml::Value::String(text) => {
            let key = path.split('[').next().unwrap_or(path);
            check_text(text, path, key, hotlines, found, notes);
        }
        _ => found.push((
            path.to_owned(),
            "must be a text or a list of texts".to_owned(),
        )),
    }
}

fn check_text(
    text: &str,
    path: &str,
    key: &str,
    hotlines: &[Hotline],
    found: &mut Vec<(String, String)>,
    notes: &mut Vec<String>,
) {
    if text.trim().is_empty() {
        found.push((path.to_owned(), "must not be empty".to_owned()));
        return;
    }
    let (own, required) = own_placeholders(key);
    let mut rest = text;
    let mut used = Vec::new();
    while let Some(start) = rest.find(['{', '}']) {
        if rest[start..].starts_with('}') {
            found.push((path.to_owned(), "a `}` without its `{`".to_owned()));
            return;
        }
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            found.push((path.to_owned(), "a `{` without its `}`".to_owned()));
            return;
        };
        let name = &after[..end];
        used.push(name);
        rest = &after[end + 1..];
        if own.contains(&name) {
            continue;
        }
        if said_as_written(key) && !own.contains(&name) {
            found.push((
                path.to_owned(),
                format!("unknown placeholder `{{{name}}}`: this text is said as written"),
            ));
            continue;
        }
        match hotline_roles(name) {
            Some(roles) => {
                for role in roles {
                    if line_for(hotlines, role).is_none() && !hotlines.is_empty() {
                        notes.push(format!(
                            "no `{}` line is configured: sentences naming `{{{}}}` are reworded or \
                             left out",
                            role.as_str(),
                            role.as_str()
                        ));
                    }
                }
            }
            None => {
                let known: Vec<String> = own.iter().map(|p| format!("{{{p}}}")).collect();
                let extra = if known.is_empty() {
                    String::new()
                } else {
                    format!(", {}", known.join(", "))
                };
                found.push((
                    path.to_owned(),
                    format!(
                        "unknown placeholder `{{{name}}}`: known are {{child_protection}}, \
                         {{medical}}, {{police}}, each with _name or _terms, roles joined by `|`{extra}"
                    ),
                ));
            }
        }
    }
    if let Some(required) = required
        && !used.contains(&required)
    {
        found.push((path.to_owned(), format!("must contain `{{{required}}}`")));
    }
}

/// The roles a hotline placeholder names: `role`, `role_name`, `role_terms` or `role|role`.
fn hotline_roles(name: &str) -> Option<Vec<HotlineRole>> {
    let named = |role: &str| HotlineRole::NAMED.into_iter().find(|r| r.as_str() == role);
    if name.contains('|') {
        return name.split('|').map(named).collect();
    }
    let role = match name.rsplit_once('_') {
        Some((role, "name" | "terms")) => role,
        _ => name,
    };
    named(role).map(|role| vec![role])
}

/// The listener's replies ask exactly one question, so its templates keep that promise.
fn check_listener(wording: &Wording, found: &mut Vec<(String, String)>) {
    let l = &wording.listener;
    let sets = [
        ("exams", &l.exams),
        ("family", &l.family),
        ("loneliness", &l.loneliness),
        ("love", &l.love),
        ("stress", &l.stress),
        ("sadness", &l.sadness),
        ("anger", &l.anger),
        ("anxiety", &l.anxiety),
        ("school", &l.school),
        ("bullying", &l.bullying),
        ("friends", &l.friends),
        ("sleep", &l.sleep),
        ("self_worth", &l.self_worth),
        ("bot_question", &l.bot_question),
        ("greeting", &l.greeting),
        ("thanks", &l.thanks),
        ("farewell", &l.farewell),
        ("unclear", &l.unclear),
        ("generic", &l.generic),
    ];
    for (name, set) in sets {
        if set.reflections.is_empty() {
            found.push((
                format!("listener.{name}.reflections"),
                "must not be empty".to_owned(),
            ));
        }
        for (i, r) in set.reflections.iter().enumerate() {
            if r.contains('?') {
                found.push((
                    format!("listener.{name}.reflections[{i}]"),
                    "a reflection is never a question".to_owned(),
                ));
            }
        }
        for (i, q) in set.questions.iter().enumerate() {
            if q.matches('?').count() != 1 {
                found.push((
                    format!("listener.{name}.questions[{i}]"),
                    "a question has exactly one question mark".to_owned(),
                ));
            }
        }
    }
    if !l.farewell.questions.is_empty() {
        found.push((
            "listener.farewell.questions".to_owned(),
            "a goodbye does not press with a question: leave it empty".to_owned(),
        ));
    }
    for (name, set) in [
        ("about_self", &wording.check_in.openings.about_self),
        ("third_party", &wording.check_in.openings.third_party),
    ] {
        if set.is_empty() {
            found.push((
                format!("check_in.openings.{name}"),
                "must not be empty".to_owned(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crisis::hotlines::Numbers;
    use crate::crisis::hotlines::tests::shipped;

    fn built_in(language: Language) -> String {
        BUILT_IN
            .iter()
            .find(|(l, _)| *l == language)
            .map(|(_, t)| (*t).to_owned())
            .unwrap_or_default()
    }

    fn check_with(
        replace: impl Fn(Language, String) -> String,
    ) -> Result<(Content, Vec<String>), ContentError> {
        parse_all(
            |language| Ok(replace(language, built_in(language))),
            &shipped(),
        )
    }

    /// The error the check gives after `edit` changed the built-in file of `language` only.
    fn error_after(language: Language, edit: impl Fn(String) -> String) -> String {
        check_with(|current, text| {
            if current == language {
                edit(text)
            } else {
                text
            }
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    }

    #[test]
    fn the_built_in_folder_passes_with_the_shipped_lines() {
        let checked = check_with(|_, text| text);
        assert!(
            checked.as_ref().is_ok_and(|(_, notes)| notes.is_empty()),
            "{checked:?}"
        );
    }

    #[test]
    fn every_language_has_every_key_of_every_other() {
        for a in LANGUAGES {
            for b in LANGUAGES {
                let a_table: toml::Table = toml::from_str(&built_in(a)).unwrap();
                let b_table: toml::Table = toml::from_str(&built_in(b)).unwrap();
                let mut found = Vec::new();
                compare_keys(&a_table, &b_table, "", &mut found);
                assert!(
                    found.is_empty(),
                    "{} vs {}: {found:?}",
                    a.as_str(),
                    b.as_str()
                );
            }
        }
    }

    /// Every text with placeholders renders with the shipped lines: nothing is left in braces.
    #[test]
    fn every_placeholder_resolves_with_the_shipped_lines() {
        fn texts(value: &toml::Value, out: &mut Vec<String>) {
            match value {
                toml::Value::String(s) => out.push(s.clone()),
                toml::Value::Array(items) => items.iter().for_each(|i| texts(i, out)),
                toml::Value::Table(t) => t.values().for_each(|v| texts(v, out)),
                _ => {}
            }
        }
        let lines = shipped();
        for language in LANGUAGES {
            let mut all = Vec::new();
            texts(&toml::from_str(&built_in(language)).unwrap(), &mut all);
            let numbers = Numbers::with_first_line(&lines, language);
            let own = [
                "{lines}",
                "{hours}",
                "{line}",
                "{danger_rule}",
                "{topics}",
                "{position}",
                "{minutes}",
                "{time}",
            ];
            for text in all {
                let stripped = own.iter().fold(text.clone(), |t, p| t.replace(p, ""));
                let rendered = numbers.render(&stripped);
                assert!(
                    rendered
                        .as_ref()
                        .is_some_and(|r| !r.contains('{') && !r.contains('}')),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn a_missing_key_is_named_with_its_file() {
        let err = error_after(Language::En, |text| {
            text.replacen("reassurance = ", "# reassurance = ", 1)
        });
        assert_eq!(err, "en.toml: `card.reassurance`: missing key");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = error_after(Language::Vi, |text| {
            text.replacen("[card]\n", "[card]\nreasurance = \"typo\"\n", 1)
        });
        assert_eq!(err, "vi.toml: `card.reasurance`: unknown key");
    }

    #[test]
    fn an_unknown_placeholder_is_refused_with_its_place() {
        let err = error_after(Language::En, |text| {
            text.replacen("call {medical} now", "call {medicl} now", 1)
        });
        assert!(
            err.starts_with(
                "en.toml: `card.priority_message.self_harm[1][0]`: unknown placeholder `{medicl}`"
            ),
            "{err}"
        );
        let err = error_after(Language::Vi, |text| {
            text.replacen("Mình đang lắng nghe bạn đây.", "Gọi {medical} nhé.", 1)
        });
        assert!(err.contains("`listener.generic.reflections[1]`: unknown placeholder `{medical}`: this text is said as written"), "{err}");
    }

    #[test]
    fn a_required_placeholder_and_braces_are_checked() {
        let err = error_after(Language::En, |text| {
            text.replacen("{danger_rule}", "", 1)
                .replacen("call {police}.", "call {police.", 1)
        });
        assert!(
            err.contains("en.toml: `prompt.text`: must contain `{danger_rule}`"),
            "{err}"
        );
        assert!(err.contains("a `{` without its `}`"), "{err}");
    }

    /// The pages' texts are checked like every other: only the placeholder their key names (the
    /// page fills it; a number is never the page's to say), and every key, error texts included.
    #[test]
    fn page_texts_keep_their_placeholder_and_every_key() {
        let cases = [
            (
                Language::En,
                "number {position} in",
                "next in",
                "en.toml: `chat_page.queued_position`: must contain `{position}`",
            ),
            (
                Language::En,
                "Stop waiting",
                "Call {medical} instead",
                "en.toml: `chat_page.cancel_wait`: unknown placeholder `{medical}`: this text is \
                 said as written",
            ),
            (
                Language::Vi,
                "chờ {minutes} phút",
                "chờ {minute} phút",
                "vi.toml: `staff_page.waiting`: unknown placeholder `{minute}`",
            ),
            (
                Language::Vi,
                "handoff_taken = ",
                "# handoff_taken = ",
                "vi.toml: `staff_page.errors.handoff_taken`: missing key",
            ),
        ];
        for (language, from, to, expected) in cases {
            let err = error_after(language, |text| text.replacen(from, to, 1));
            assert!(err.contains(expected), "{expected}\n{err}");
        }
    }

    #[test]
    fn a_missing_role_is_a_note_not_an_error() {
        let lines: Vec<Hotline> = shipped()
            .into_iter()
            .filter(|h| h.role != HotlineRole::Medical)
            .collect();
        let checked = parse_all(|language| Ok(built_in(language)), &lines);
        let notes = checked.map(|(_, notes)| notes).unwrap_or_default();
        assert_eq!(
            notes,
            [
                "no `medical` line is configured: sentences naming `{medical}` are reworded or left out"
            ]
        );
    }

    #[test]
    fn a_listener_question_must_ask_once() {
        let err = error_after(Language::En, |text| {
            text.replacen("What's on your mind?", "What's on your mind", 1)
        });
        assert!(
            err.contains("a question has exactly one question mark"),
            "{err}"
        );
    }
}
