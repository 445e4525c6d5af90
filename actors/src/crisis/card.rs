//! The crisis card (API.md `CrisisInfo`), the assistant's safety reply and its check-in reply while
//! a conversation stays in crisis mode, in the session's language.
//!
//! The sentences are data (`content/<language>.toml`, docs/content.md); every number comes from the
//! configured hotlines through role placeholders (`{medical}`, `{child_protection}`, `{police}`; see
//! [`super::hotlines`]); what ships, and why the old "1900 636 976" line does not, is in
//! docs/safety/hotlines.md.

use serde::Serialize;

use super::detector::Assessment;
use super::hotlines::{Hotline, Numbers};
use super::types::{Category, Severity};
use crate::content::{self, Wording};
use crate::domain::Language;

/// One hotline on the card, in the session's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HotlineView {
    /// Name of the service.
    pub name: String,
    /// The number to dial.
    pub number: String,
    /// Opening hours.
    pub available: String,
    /// Whether calls are free.
    pub free: bool,
    /// Position on the card, 1 first (relevant lines first, then configured priority).
    pub priority: u8,
    /// What the line is for.
    pub description: String,
}

/// The crisis card returned with a message that was assessed as a crisis (API.md `CrisisInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrisisInfo {
    /// Crisis categories found, in order of precedence.
    pub categories: Vec<Category>,
    /// The highest severity found.
    pub severity: Severity,
    /// The first thing to say, chosen by the most pressing category.
    pub priority_message: String,
    /// Where to call, relevant lines first.
    pub hotlines: Vec<HotlineView>,
    /// Concrete steps to take now.
    pub immediate_actions: Vec<String>,
    /// A closing word of support.
    pub reassurance: String,
}

/// Relevant lines first, then configured priority; the number breaks ties so the card is stable.
fn card_order<'a>(hotlines: &'a [Hotline], categories: &[Category]) -> Vec<&'a Hotline> {
    let mut ordered: Vec<&Hotline> = hotlines.iter().collect();
    ordered.sort_by_key(|h| {
        let relevant = h.categories.iter().any(|c| categories.contains(c));
        (!relevant, h.priority, h.number.clone())
    });
    ordered
}

/// Role placeholders for these categories; a sentence whose role has no line falls back to the
/// line the card lists first, so the words point where the person is already looking.
fn numbers_for<'a>(
    hotlines: &'a [Hotline],
    categories: &[Category],
    language: Language,
) -> Numbers<'a> {
    let first = card_order(hotlines, categories).into_iter().next();
    Numbers::new(hotlines, language, first)
}

/// The crisis card for an assessment, or `None` when the message is not a crisis.
pub fn crisis_card(
    assessment: &Assessment,
    language: Language,
    hotlines: &[Hotline],
) -> Option<CrisisInfo> {
    if !assessment.is_crisis {
        return None;
    }
    let wording = &content::wording(language).card;
    let mut categories = assessment.categories.clone();
    if categories.is_empty() {
        categories.push(Category::Suicide);
    }
    categories.sort();
    categories.dedup();
    let primary = categories.first().copied().unwrap_or(Category::Suicide);
    let severity = assessment.severity.unwrap_or(Severity::High);

    let views = views(card_order(hotlines, &categories), language);

    let numbers = numbers_for(hotlines, &categories, language);
    let mut actions: Vec<String> = Vec::new();
    for category in &categories {
        for action in numbers.sentences(wording.immediate_actions.get(*category)) {
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
    }
    actions.truncate(6);

    let critical = severity == Severity::Critical;
    Some(CrisisInfo {
        categories,
        severity,
        priority_message: numbers.message(wording.priority_message.get(primary, critical)),
        hotlines: views,
        immediate_actions: actions,
        reassurance: wording.reassurance.clone(),
    })
}

/// Every line in configured priority, for when no person can answer (a handoff is unavailable)
/// and no crisis was found: where to call, without a crisis's words.
pub fn hotline_views(hotlines: &[Hotline], language: Language) -> Vec<HotlineView> {
    views(card_order(hotlines, &[]), language)
}

fn views(ordered: Vec<&Hotline>, language: Language) -> Vec<HotlineView> {
    ordered
        .into_iter()
        .enumerate()
        .map(|(i, h)| HotlineView {
            name: pick(language, &h.name_vi, &h.name_en).to_owned(),
            number: h.number.clone(),
            available: pick(language, &h.available_vi, &h.available_en).to_owned(),
            free: h.free,
            priority: u8::try_from(i + 1).unwrap_or(u8::MAX),
            description: pick(language, &h.description_vi, &h.description_en).to_owned(),
        })
        .collect()
}

fn pick<'a>(language: Language, vi: &'a str, en: &'a str) -> &'a str {
    match language {
        Language::Vi => vi,
        Language::En => en,
    }
}

/// The assistant's reply to a crisis message: warm, says the writer is not alone, gives the numbers
/// to call now, and says plainly that the listener is automated.
///
/// For a message that is not a crisis but is about someone else at risk (`third_party`), it answers
/// the worried friend; otherwise it is a short general reminder of where to call.
pub fn safety_reply(assessment: &Assessment, language: Language, hotlines: &[Hotline]) -> String {
    let wording = &content::wording(language).safety_reply;
    let disclosure = wording.disclosure.as_str();
    if !assessment.is_crisis {
        let numbers = numbers_for(hotlines, &[], language);
        let body = if assessment.third_party {
            numbers.message(&wording.third_party_advice)
        } else {
            numbers
                .comma_list(&wording.not_in_crisis_lines)
                .or_else(|| numbers.fallback_item())
                .map(|lines| wording.not_in_crisis.replace("{lines}", &lines))
                .unwrap_or_default()
        };
        return join_nonempty(&[&body, disclosure]);
    }
    let primary = assessment
        .categories
        .iter()
        .min()
        .copied()
        .unwrap_or(Category::Suicide);
    let variant = assessment
        .rule_ids
        .iter()
        .flat_map(|id| id.bytes())
        .fold(0usize, |acc, b| acc.wrapping_add(usize::from(b)));
    let openings = wording.opening.get(primary);
    let opening = openings
        .get(variant % openings.len().max(1))
        .map(String::as_str)
        .unwrap_or_default();
    let call = numbers_for(hotlines, &assessment.categories, language)
        .message(wording.where_to_call.get(primary));
    join_nonempty(&[opening, &call, disclosure])
}

fn join_nonempty(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the assistant says on a later turn while a conversation stays in crisis mode: it asks
/// whether the person (or, for `third_party`, the friend) is safe right now, reminds them of the
/// numbers for `category`, and says it is automated software. It never says goodbye or that the
/// person seems fine: a crisis does not end because the conversation moved on.
///
/// `variation` picks one of the openings so a long conversation does not repeat itself word for
/// word (the pipeline passes the message's sequence number).
pub fn check_in_reply(
    category: Category,
    language: Language,
    hotlines: &[Hotline],
    variation: u64,
) -> String {
    let wording: &Wording = content::wording(language);
    let check_in = &wording.check_in;
    let openings = check_in.openings.get(category);
    let count = u64::try_from(openings.len().max(1)).unwrap_or(1);
    let index = usize::try_from(variation % count).unwrap_or(0);
    let opening = openings.get(index).map(String::as_str).unwrap_or_default();
    let question = check_in.question.get(category);
    let reminder =
        numbers_for(hotlines, &[category], language).message(check_in.reminder.get(category));
    join_nonempty(&[opening, question, &reminder, &check_in.closing])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crisis::hotlines::HotlineRole;
    use crate::crisis::hotlines::tests::{operator_lines, shipped, without};

    const LANGUAGES: [Language; 2] = [Language::Vi, Language::En];
    const SEVERITIES: [Severity; 3] = [Severity::Medium, Severity::High, Severity::Critical];

    fn crisis(categories: Vec<Category>, severity: Severity) -> Assessment {
        Assessment {
            is_crisis: true,
            categories,
            severity: Some(severity),
            rule_ids: vec!["p.sui.tu_tu".to_owned()],
            ..Assessment::default()
        }
    }

    fn worried_friend() -> Assessment {
        Assessment {
            third_party: true,
            ..Assessment::default()
        }
    }

    /// Every text the assistant can produce from `hotlines`: card sentences, safety replies and
    /// check-in replies, for every category, severity and language.
    fn every_text(hotlines: &[Hotline]) -> Vec<String> {
        let mut texts = Vec::new();
        for language in LANGUAGES {
            for category in Category::ALL {
                for severity in SEVERITIES {
                    let assessment = crisis(vec![category], severity);
                    if let Some(card) = crisis_card(&assessment, language, hotlines) {
                        texts.push(card.priority_message);
                        texts.extend(card.immediate_actions);
                    }
                    texts.push(safety_reply(&assessment, language, hotlines));
                }
                for variation in 0..3 {
                    texts.push(check_in_reply(category, language, hotlines, variation));
                }
            }
            texts.push(safety_reply(&worried_friend(), language, hotlines));
            texts.push(safety_reply(&Assessment::default(), language, hotlines));
        }
        texts
    }

    fn every_sentence_table(language: Language) -> Vec<&'static [content::Sentence]> {
        let wording = content::wording(language);
        let mut tables: Vec<&'static [content::Sentence]> = Vec::new();
        for category in Category::ALL {
            for critical in [false, true] {
                tables.push(wording.card.priority_message.get(category, critical));
            }
            tables.push(wording.card.immediate_actions.get(category));
            tables.push(wording.safety_reply.where_to_call.get(category));
            tables.push(wording.check_in.reminder.get(category));
        }
        tables.push(&wording.safety_reply.third_party_advice);
        tables
    }

    #[test]
    fn no_card_without_crisis() {
        assert!(crisis_card(&Assessment::default(), Language::Vi, &shipped()).is_none());
    }

    #[test]
    fn relevant_hotlines_first() {
        let card = crisis_card(
            &crisis(vec![Category::Suicide], Severity::High),
            Language::En,
            &shipped(),
        );
        let card = card.map(|c| c.hotlines.into_iter().map(|h| h.number).collect::<Vec<_>>());
        assert_eq!(
            card,
            Some(vec!["115".to_owned(), "111".to_owned(), "113".to_owned()])
        );
        let card = crisis_card(
            &crisis(vec![Category::Abuse], Severity::High),
            Language::Vi,
            &shipped(),
        );
        assert_eq!(
            card.as_ref()
                .and_then(|c| c.hotlines.first())
                .map(|h| h.number.as_str()),
            Some("111")
        );
        assert!(card.is_some_and(|c| c.priority_message.contains("không phải lỗi của bạn")));
    }

    #[test]
    fn card_serialises_with_api_field_names() {
        let card = crisis_card(
            &crisis(vec![Category::Violence], Severity::Medium),
            Language::Vi,
            &shipped(),
        );
        let json = serde_json::to_value(card).unwrap_or_default();
        for field in [
            "categories",
            "severity",
            "priority_message",
            "hotlines",
            "immediate_actions",
            "reassurance",
        ] {
            assert!(json.get(field).is_some(), "{field}");
        }
        assert_eq!(json["severity"], "medium");
        assert_eq!(json["categories"][0], "violence");
        assert!(json["hotlines"][0].get("available").is_some());
    }

    #[test]
    fn replies_disclose_automation_and_give_numbers() {
        for lang in LANGUAGES {
            for c in Category::ALL {
                let reply = safety_reply(&crisis(vec![c], Severity::High), lang, &shipped());
                assert!(
                    ["111", "113", "115"].iter().any(|n| reply.contains(n)),
                    "{reply}"
                );
                assert!(
                    reply.contains("tự động") || reply.contains("automated"),
                    "{reply}"
                );
            }
        }
    }

    #[test]
    fn the_shipped_lines_fill_every_sentence() {
        let lines = shipped();
        for language in LANGUAGES {
            let numbers = Numbers::with_first_line(&lines, language);
            for table in every_sentence_table(language) {
                for alternatives in table {
                    let first = alternatives.first().map(String::as_str).unwrap_or_default();
                    assert!(numbers.render(first).is_some(), "{first}");
                }
            }
        }
        for text in every_text(&lines) {
            assert!(!text.contains('{') && !text.contains('}'), "{text}");
        }
    }

    #[test]
    fn sentences_keep_their_reviewed_wording() {
        let lines = shipped();
        let card = crisis_card(
            &crisis(vec![Category::Abuse], Severity::High),
            Language::En,
            &lines,
        );
        let card = card.unwrap_or_else(|| panic!("a card"));
        assert_eq!(
            card.priority_message,
            "Your safety comes first. This is not your fault, and you have the right to be \
             protected. Call 111 (free, 24/7)."
        );
        assert_eq!(
            card.immediate_actions[..2],
            [
                "If you are in danger right now, call 113.",
                "Call 111 — the National Child Protection Hotline, free, 24/7."
            ]
        );
        let reply = safety_reply(
            &crisis(vec![Category::ThirdParty], Severity::High),
            Language::Vi,
            &lines,
        );
        assert!(
            reply.contains(
                "Nếu người ấy đang gặp nguy hiểm, hãy gọi 115 hoặc 113 ngay; nếu là trẻ em bị bạo \
                 hành, gọi 111 (miễn phí, 24/7). Hãy báo cho một người lớn bạn tin tưởng."
            ),
            "{reply}"
        );
        assert_eq!(
            safety_reply(&Assessment::default(), Language::En, &lines),
            "If you need someone right now: 115 (emergency), 113 (police), 111 (child \
             protection, free, 24/7). I am an automated listener, not a counsellor, so I want you \
             to have real people who can help right now."
        );
    }

    #[test]
    fn an_operator_list_replaces_every_number() {
        let lines = operator_lines();
        for text in every_text(&lines) {
            for national in ["111", "113", "115"] {
                assert!(!text.contains(national), "{national} in {text}");
            }
        }
        let card = crisis_card(
            &crisis(vec![Category::Abuse], Severity::High),
            Language::En,
            &lines,
        )
        .unwrap_or_else(|| panic!("a card"));
        // The child-protection line of this list is not free and not 24/7: no sentence says so.
        assert!(
            card.priority_message
                .ends_with("Call 0900 000 001 (8am–10pm)."),
            "{}",
            card.priority_message
        );
        assert!(
            card.immediate_actions
                .contains(&"Call 0900 000 001 — the Line 0900 000 001, 8am–10pm.".to_owned()),
            "{:?}",
            card.immediate_actions
        );
        assert!(!card.priority_message.contains("free"));
        assert!(!card.immediate_actions.iter().any(|a| a.contains("24/7")));
    }

    #[test]
    fn a_missing_role_still_leaves_a_number_to_call() {
        for role in HotlineRole::NAMED {
            let lines = without(role);
            let configured: Vec<&str> = lines.iter().map(|h| h.number.as_str()).collect();
            for language in LANGUAGES {
                for category in Category::ALL {
                    for severity in SEVERITIES {
                        let assessment = crisis(vec![category], severity);
                        let reply = safety_reply(&assessment, language, &lines);
                        assert!(configured.iter().any(|n| reply.contains(n)), "{reply}");
                        let card = crisis_card(&assessment, language, &lines)
                            .unwrap_or_else(|| panic!("a card"));
                        let numbers_named = std::iter::once(&card.priority_message)
                            .chain(&card.immediate_actions)
                            .any(|t| configured.iter().any(|n| t.contains(n)));
                        assert!(numbers_named, "{card:?}");
                    }
                }
            }
            for text in every_text(&lines) {
                assert!(!text.contains('{') && !text.contains("  "), "{text}");
                assert!(!text.contains(" ;") && !text.contains(";."), "{text}");
            }
        }
    }

    #[test]
    fn without_a_medical_line_the_sentence_is_dropped_and_the_first_card_line_named() {
        let lines = without(HotlineRole::Medical);
        let card = crisis_card(
            &crisis(vec![Category::Suicide], Severity::Critical),
            Language::En,
            &lines,
        )
        .unwrap_or_else(|| panic!("a card"));
        assert_eq!(
            card.priority_message,
            "Your life matters. If you are near something that could hurt you, move away from it \
             right now — help is available. You can call 111 (National Child Protection Hotline)."
        );
        assert_eq!(
            card.hotlines.first().map(|h| h.number.as_str()),
            Some("111")
        );
        assert!(
            !card
                .immediate_actions
                .iter()
                .any(|a| a.contains("taken pills")),
            "{:?}",
            card.immediate_actions
        );
        let reply = safety_reply(
            &crisis(vec![Category::ThirdParty], Severity::High),
            Language::En,
            &lines,
        );
        assert!(
            reply.contains("If they are in danger, call 113 now; if a child is being abused"),
            "{reply}"
        );
    }

    #[test]
    fn check_in_asks_about_safety_and_names_a_number_in_every_case() {
        let goodbyes = [
            "tạm biệt",
            "hẹn gặp lại",
            "chúc bạn",
            "ổn rồi",
            "mừng",
            "bye",
            "see you",
            "take care",
            "glad",
            "fine now",
            "you're fine",
            "you are fine",
            "you're okay",
            "you are okay",
        ];
        for lines in [shipped(), operator_lines(), without(HotlineRole::Medical)] {
            let configured: Vec<&str> = lines.iter().map(|h| h.number.as_str()).collect();
            for language in LANGUAGES {
                for category in Category::ALL {
                    let replies: Vec<String> = (0..3)
                        .map(|v| check_in_reply(category, language, &lines, v))
                        .collect();
                    for reply in &replies {
                        assert!(configured.iter().any(|n| reply.contains(n)), "{reply}");
                        let question = match (category, language) {
                            (Category::ThirdParty, Language::Vi) => {
                                "Người ấy có đang an toàn ngay lúc này không?"
                            }
                            (Category::ThirdParty, Language::En) => {
                                "Is your friend safe right now?"
                            }
                            (_, Language::Vi) => "Bạn có đang an toàn ngay lúc này không?",
                            (_, Language::En) => "Are you safe right now?",
                        };
                        assert!(reply.contains(question), "{reply}");
                        if category == Category::ThirdParty {
                            assert!(
                                reply.contains("người lớn nào biết")
                                    || reply.contains("adult you trust know"),
                                "{reply}"
                            );
                        }
                        assert!(
                            reply.contains("phần mềm tự động")
                                || reply.contains("automated software"),
                            "{reply}"
                        );
                        let lower = reply.to_lowercase();
                        for goodbye in goodbyes {
                            assert!(!lower.contains(goodbye), "{goodbye:?} in {reply}");
                        }
                    }
                    assert!(
                        replies[0] != replies[1]
                            && replies[1] != replies[2]
                            && replies[0] != replies[2],
                        "{replies:?}"
                    );
                    assert_eq!(check_in_reply(category, language, &lines, 3), replies[0]);
                }
            }
        }
    }

    #[test]
    fn check_in_reminds_of_the_lines_of_its_category() {
        let lines = shipped();
        let reply = check_in_reply(Category::SelfHarm, Language::Vi, &lines, 0);
        assert!(reply.contains("gọi 115"), "{reply}");
        let reply = check_in_reply(Category::Abuse, Language::En, &lines, 1);
        assert!(
            reply.contains("call 113") && reply.contains("call 111 (free, 24/7)"),
            "{reply}"
        );
        let reply = check_in_reply(Category::ThirdParty, Language::En, &lines, 2);
        assert!(reply.contains("call 115 or 113 now"), "{reply}");
    }

    #[test]
    fn hotlines_parse_from_toml_shaped_json() {
        let value = serde_json::json!({
            "role": "child_protection",
            "name_vi": "A", "name_en": "A", "number": "111", "available_vi": "24/7",
            "available_en": "24/7", "free": true, "priority": 1, "description_vi": "d",
            "description_en": "d", "categories": ["abuse", "self_harm"]
        });
        let h: Result<Hotline, _> = serde_json::from_value(value);
        assert!(h.is_ok_and(
            |h| h.categories == vec![Category::Abuse, Category::SelfHarm]
                && h.role == HotlineRole::ChildProtection
        ));
    }
}
