//! The hotlines a deployment lists and the sentences that name them.
//!
//! No sentence types a number. Sentences name a role (`{medical}`, `{child_protection}`,
//! `{police}`) and are filled from the configured list when rendered, so the list in
//! `config/hotlines.toml` (or an operator's replacement) is the only place a number is written
//! (docs/safety/hotlines.md).

use serde::{Deserialize, Serialize};

use super::types::Category;
use crate::content::{self, HotlineWording};
use crate::domain::Language;

/// What a hotline is for, as far as the assistant's sentences are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HotlineRole {
    /// Child protection: abuse, violence or danger to anyone under 18 (`{child_protection}`).
    ChildProtection,
    /// Medical emergency: overdose, poisoning, injury (`{medical}`).
    Medical,
    /// Police: immediate danger from another person (`{police}`).
    Police,
    /// Listed on the card only; no sentence refers to it.
    Other,
}

impl HotlineRole {
    /// The roles sentences refer to.
    pub const NAMED: [HotlineRole; 3] = [
        HotlineRole::ChildProtection,
        HotlineRole::Medical,
        HotlineRole::Police,
    ];

    /// The configured form, which is also the placeholder's name.
    pub fn as_str(self) -> &'static str {
        match self {
            HotlineRole::ChildProtection => "child_protection",
            HotlineRole::Medical => "medical",
            HotlineRole::Police => "police",
            HotlineRole::Other => "other",
        }
    }

    fn parse_named(value: &str) -> Option<Self> {
        HotlineRole::NAMED.into_iter().find(|r| r.as_str() == value)
    }
}

/// A hotline as operators list it in `config/hotlines.toml` (`[[hotline]]` tables).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hotline {
    /// What the line is for; sentences name the line of their role with the lowest priority.
    pub role: HotlineRole,
    /// Name in Vietnamese.
    pub name_vi: String,
    /// Name in English.
    pub name_en: String,
    /// The number to dial, as shown.
    pub number: String,
    /// Opening hours in Vietnamese ("24/7").
    pub available_vi: String,
    /// Opening hours in English.
    pub available_en: String,
    /// Whether calls are free.
    pub free: bool,
    /// Lower comes first among equally relevant hotlines.
    pub priority: u8,
    /// What the line is for, in Vietnamese.
    pub description_vi: String,
    /// What the line is for, in English.
    pub description_en: String,
    /// The crises this line is for; relevant lines are listed first on the card.
    #[serde(default)]
    pub categories: Vec<Category>,
}

/// Why a hotline list was refused; meant for an operator at a terminal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HotlineError {
    /// Not TOML, an unknown key, a missing field or an unknown role.
    #[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Invalid {
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// No `[[hotline]]` at all: a crisis card must name somewhere to call.
    #[error("lists no hotline")]
    Empty,
    /// A field that sentences or the card show is blank.
    #[error("hotline {index} (number {number:?}): {field} must not be empty")]
    Blank {
        /// 1-based position in the file.
        index: usize,
        /// The number, to find the entry.
        number: String,
        /// The blank field.
        field: &'static str,
    },
}

/// Parses and checks a hotline file (`[[hotline]]` tables).
pub fn parse_hotlines(text: &str) -> Result<Vec<Hotline>, HotlineError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct HotlineFile {
        hotline: Vec<Hotline>,
    }
    let parsed: HotlineFile = toml::from_str(text).map_err(|e| HotlineError::Invalid {
        line: e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1)),
        message: e.message().to_owned(),
    })?;
    if parsed.hotline.is_empty() {
        return Err(HotlineError::Empty);
    }
    for (i, h) in parsed.hotline.iter().enumerate() {
        let shown = [
            ("number", &h.number),
            ("name_vi", &h.name_vi),
            ("name_en", &h.name_en),
            ("available_vi", &h.available_vi),
            ("available_en", &h.available_en),
        ];
        if let Some((field, _)) = shown.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(HotlineError::Blank {
                index: i + 1,
                number: h.number.clone(),
                field,
            });
        }
    }
    Ok(parsed.hotline)
}

/// The line sentences mean by `role`: the lowest priority of that role, the first listed on a tie.
pub fn line_for(hotlines: &[Hotline], role: HotlineRole) -> Option<&Hotline> {
    hotlines
        .iter()
        .filter(|h| h.role == role)
        .min_by_key(|h| h.priority)
}

/// Fills role placeholders for one language.
///
/// A template may use `{role}` (the number), `{role_name}`, `{role_terms}` ("miễn phí, 24/7",
/// built from `free` and `available_*`, so a sentence never promises more than the line offers)
/// and `{role|role}` (the numbers of those roles that have a line, as "a or b").
/// A sentence is a list of alternatives: the first whose roles are all configured is used, and a
/// sentence with none is left out. When that leaves a message that should name a number without
/// any, the fallback line is named instead, so a person in crisis is never left without one.
pub(crate) struct Numbers<'a> {
    language: Language,
    hotlines: &'a [Hotline],
    fallback: Option<&'a Hotline>,
}

impl<'a> Numbers<'a> {
    /// `fallback` is the line named when no sentence of a message could name its own.
    pub(crate) fn new(
        hotlines: &'a [Hotline],
        language: Language,
        fallback: Option<&'a Hotline>,
    ) -> Self {
        Self {
            language,
            hotlines,
            fallback,
        }
    }

    /// Falls back to the line with the lowest priority of all.
    pub(crate) fn with_first_line(hotlines: &'a [Hotline], language: Language) -> Self {
        let first = hotlines.iter().min_by_key(|h| h.priority);
        Self::new(hotlines, language, first)
    }

    fn pick<'s>(&self, vi: &'s str, en: &'s str) -> &'s str {
        match self.language {
            Language::Vi => vi,
            Language::En => en,
        }
    }

    fn name(&self, h: &Hotline) -> String {
        self.pick(&h.name_vi, &h.name_en).to_owned()
    }

    fn wording(&self) -> &'static HotlineWording {
        &content::wording(self.language).hotlines
    }

    fn terms(&self, h: &Hotline) -> String {
        let available = self.pick(&h.available_vi, &h.available_en);
        if h.free {
            self.wording().free_terms.replace("{hours}", available)
        } else {
            available.to_owned()
        }
    }

    fn fill(&self, key: &str) -> Option<String> {
        if key.contains('|') {
            let items: Vec<String> = key.split('|').map(|role| format!("{{{role}}}")).collect();
            let items: Vec<&str> = items.iter().map(String::as_str).collect();
            return self.or_list(&items);
        }
        let (role, field) = match key.rsplit_once('_') {
            Some((role, field @ ("name" | "terms"))) => (role, field),
            _ => (key, "number"),
        };
        let line = line_for(self.hotlines, HotlineRole::parse_named(role)?)?;
        Some(match field {
            "name" => self.name(line),
            "terms" => self.terms(line),
            _ => line.number.clone(),
        })
    }

    /// The template with every placeholder filled, or `None` when a role has no line.
    pub(crate) fn render(&self, template: &str) -> Option<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('}')?;
            out.push_str(&self.fill(&after[..end])?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// The sentences that can be said with the configured lines, plus the fallback line when
    /// sentences that needed a number were all left out.
    pub(crate) fn sentences<S: AsRef<str>, A: AsRef<[S]>>(&self, sentences: &[A]) -> Vec<String> {
        let mut wanted = false;
        let mut named = false;
        let mut out = Vec::with_capacity(sentences.len() + 1);
        for alternatives in sentences {
            let alternatives = alternatives.as_ref();
            wanted |= alternatives.iter().any(|a| a.as_ref().contains('{'));
            if let Some((template, text)) = alternatives
                .iter()
                .map(AsRef::as_ref)
                .find_map(|a| self.render(a).map(|text| (a, text)))
            {
                named |= template.contains('{');
                out.push(text);
            }
        }
        if wanted
            && !named
            && let Some(sentence) = self.fallback_sentence()
        {
            out.push(sentence);
        }
        out
    }

    /// [`Numbers::sentences`] as one paragraph.
    pub(crate) fn message<S: AsRef<str>, A: AsRef<[S]>>(&self, sentences: &[A]) -> String {
        self.sentences(sentences).join(" ")
    }

    /// "You can call N (name)." for the fallback line.
    pub(crate) fn fallback_sentence(&self) -> Option<String> {
        self.fallback_item()
            .map(|line| self.wording().you_can_call.replace("{line}", &line))
    }

    /// "N (name)" for the fallback line, to stand in for a list of roles.
    pub(crate) fn fallback_item(&self) -> Option<String> {
        self.fallback
            .map(|h| format!("{} ({})", h.number, self.name(h)))
    }

    /// The items that render, joined as "a, b or c" ("a, b hoặc c").
    pub(crate) fn or_list<S: AsRef<str>>(&self, items: &[S]) -> Option<String> {
        let rendered: Vec<String> = items
            .iter()
            .filter_map(|i| self.render(i.as_ref()))
            .collect();
        let or = format!(" {} ", self.wording().or);
        match rendered.split_last() {
            None => None,
            Some((last, [])) => Some(last.clone()),
            Some((last, rest)) => Some(format!("{}{or}{last}", rest.join(", "))),
        }
    }

    /// The items that render, joined by commas.
    pub(crate) fn comma_list<S: AsRef<str>>(&self, items: &[S]) -> Option<String> {
        let rendered: Vec<String> = items
            .iter()
            .filter_map(|i| self.render(i.as_ref()))
            .collect();
        (!rendered.is_empty()).then(|| rendered.join(", "))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The shipped list, read from the same file the binary compiles in.
    pub(crate) fn shipped() -> Vec<Hotline> {
        parse_hotlines(include_str!("../../../config/hotlines.toml")).unwrap_or_default()
    }

    /// A list with a made-up number for every role, none of them a real national number.
    pub(crate) fn operator_lines() -> Vec<Hotline> {
        let line = |role, number: &str, free, priority| Hotline {
            role,
            name_vi: format!("Đường dây {number}"),
            name_en: format!("Line {number}"),
            number: number.to_owned(),
            available_vi: "8:00–22:00".to_owned(),
            available_en: "8am–10pm".to_owned(),
            free,
            priority,
            description_vi: "d".to_owned(),
            description_en: "d".to_owned(),
            categories: vec![],
        };
        vec![
            line(HotlineRole::ChildProtection, "0900 000 001", false, 1),
            line(HotlineRole::Medical, "0900 000 002", true, 2),
            line(HotlineRole::Police, "0900 000 003", true, 3),
            line(HotlineRole::Other, "0900 000 004", true, 4),
        ]
    }

    pub(crate) fn without(role: HotlineRole) -> Vec<Hotline> {
        shipped().into_iter().filter(|h| h.role != role).collect()
    }

    #[test]
    fn the_shipped_list_has_one_line_per_named_role() {
        let lines = shipped();
        let numbers: Vec<(&str, HotlineRole)> =
            lines.iter().map(|h| (h.number.as_str(), h.role)).collect();
        assert_eq!(
            numbers,
            vec![
                ("111", HotlineRole::ChildProtection),
                ("115", HotlineRole::Medical),
                ("113", HotlineRole::Police)
            ]
        );
    }

    #[test]
    fn the_lowest_priority_of_a_role_is_the_one_named() {
        let mut lines = operator_lines();
        let mut second = lines[1].clone();
        second.number = "0900 000 009".to_owned();
        second.priority = 0;
        lines.push(second);
        assert_eq!(
            line_for(&lines, HotlineRole::Medical).map(|h| h.number.as_str()),
            Some("0900 000 009")
        );
        let numbers = Numbers::with_first_line(&lines, Language::En);
        assert_eq!(
            numbers.render("call {medical} or {police}").as_deref(),
            Some("call 0900 000 009 or 0900 000 003")
        );
    }

    #[test]
    fn terms_follow_the_line() {
        let shipped = shipped();
        let vi = Numbers::with_first_line(&shipped, Language::Vi);
        assert_eq!(
            vi.render("{child_protection} ({child_protection_terms})")
                .as_deref(),
            Some("111 (miễn phí, 24/7)")
        );
        let operator = operator_lines();
        let en = Numbers::with_first_line(&operator, Language::En);
        assert_eq!(
            en.render("{child_protection} ({child_protection_terms}), {medical_terms}")
                .as_deref(),
            Some("0900 000 001 (8am–10pm), free, 8am–10pm")
        );
    }

    #[test]
    fn a_missing_role_drops_the_sentence_and_names_the_fallback() {
        let lines = without(HotlineRole::Medical);
        let numbers = Numbers::with_first_line(&lines, Language::En);
        assert_eq!(numbers.render("call {medical}"), None);
        let text = numbers.message(&[&["Stay safe."], &["Call {medical} now."]]);
        assert_eq!(
            text,
            "Stay safe. You can call 111 (National Child Protection Hotline)."
        );
        let text = numbers.message(&[&["Call {medical} or {police}.", "Call {police}."]]);
        assert_eq!(text, "Call 113.");
        assert_eq!(
            numbers
                .render("call {medical|police|child_protection}")
                .as_deref(),
            Some("call 113 or 111")
        );
        assert_eq!(numbers.render("call {medical|nobody}"), None);
        assert_eq!(
            numbers.or_list(&["{child_protection}", "{medical}", "{police}"]),
            Some("111 or 113".to_owned())
        );
        let none = Numbers::with_first_line(&[], Language::Vi);
        assert_eq!(none.message(&[&["Gọi {medical}."]]), "");
    }

    #[test]
    fn files_are_checked() {
        let good = include_str!("../../../config/hotlines.toml");
        assert!(parse_hotlines(good).is_ok());
        let unknown = good.replacen("role = \"police\"", "role = \"helpline\"", 1);
        let error = parse_hotlines(&unknown).map(|_| ()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("helpline"), "{message}");
        assert!(message.contains("child_protection"), "{message}");
        assert!(message.starts_with("line "), "{message}");
        let missing = good.replacen("role = \"police\"\n", "", 1);
        assert!(parse_hotlines(&missing).is_err());
        let typo = good.replacen("categories", "categorie", 1);
        assert!(parse_hotlines(&typo).is_err());
        assert_eq!(parse_hotlines("hotline = []"), Err(HotlineError::Empty));
        let blank = good.replacen("number = \"115\"", "number = \" \"", 1);
        assert!(matches!(
            parse_hotlines(&blank),
            Err(HotlineError::Blank {
                index: 2,
                field: "number",
                ..
            })
        ));
    }
}
