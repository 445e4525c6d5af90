//! The crisis card (API.md `CrisisInfo`) and the assistant's safety reply, in the session's language.
//!
//! Hotlines come from configuration; the defaults are the three verified national numbers only
//! (DOMAIN.md: the old "1900 636 976" line could not be confirmed and is deliberately absent).

use serde::{Deserialize, Serialize};

use super::detector::Assessment;
use super::types::{Category, Severity};
use crate::domain::Language;

/// A hotline as operators list it in `config/hotlines.toml` (`[[hotline]]` tables).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotline {
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

/// One hotline on the card, in the session's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

/// The verified national numbers: 111 (child protection), 115 (medical emergency), 113 (police).
pub fn default_hotlines() -> Vec<Hotline> {
    vec![
        Hotline {
            name_vi: "Tổng đài quốc gia bảo vệ trẻ em".to_owned(),
            name_en: "National Child Protection Hotline".to_owned(),
            number: "111".to_owned(),
            available_vi: "24/7".to_owned(),
            available_en: "24/7".to_owned(),
            free: true,
            priority: 1,
            description_vi:
                "Miễn phí, 24/7: tư vấn và can thiệp khi trẻ em và người dưới 18 tuổi bị \
                             xâm hại, bạo lực, bóc lột hoặc gặp nguy hiểm."
                    .to_owned(),
            description_en: "Free, 24/7: advice and intervention when a child or anyone under 18 \
                             faces abuse, violence, exploitation or danger."
                .to_owned(),
            categories: vec![Category::Abuse, Category::Violence],
        },
        Hotline {
            name_vi: "Cấp cứu y tế".to_owned(),
            name_en: "Medical emergency".to_owned(),
            number: "115".to_owned(),
            available_vi: "24/7".to_owned(),
            available_en: "24/7".to_owned(),
            free: true,
            priority: 2,
            description_vi: "Gọi ngay khi đã uống thuốc quá liều, bị ngộ độc hoặc bị thương."
                .to_owned(),
            description_en: "Call now after an overdose, poisoning or an injury.".to_owned(),
            categories: vec![Category::Suicide, Category::SelfHarm],
        },
        Hotline {
            name_vi: "Công an".to_owned(),
            name_en: "Police".to_owned(),
            number: "113".to_owned(),
            available_vi: "24/7".to_owned(),
            available_en: "24/7".to_owned(),
            free: true,
            priority: 3,
            description_vi: "Khi bạn đang gặp nguy hiểm trước mắt từ người khác.".to_owned(),
            description_en: "When someone else puts you in immediate danger.".to_owned(),
            categories: vec![Category::Violence, Category::Abuse],
        },
    ]
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
    let mut categories = assessment.categories.clone();
    if categories.is_empty() {
        categories.push(Category::Suicide);
    }
    categories.sort();
    categories.dedup();
    let primary = categories.first().copied().unwrap_or(Category::Suicide);
    let severity = assessment.severity.unwrap_or(Severity::High);

    let mut ordered: Vec<&Hotline> = hotlines.iter().collect();
    ordered.sort_by_key(|h| {
        let relevant = h.categories.iter().any(|c| categories.contains(c));
        (!relevant, h.priority, h.number.clone())
    });
    let views = ordered
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
        .collect();

    let mut actions: Vec<String> = Vec::new();
    for category in &categories {
        for action in immediate_actions(*category, language) {
            if !actions.iter().any(|a| a == action) {
                actions.push((*action).to_owned());
            }
        }
    }
    actions.truncate(6);

    Some(CrisisInfo {
        categories,
        severity,
        priority_message: priority_message(primary, severity, language).to_owned(),
        hotlines: views,
        immediate_actions: actions,
        reassurance: pick(
            language,
            "Bạn đã rất dũng cảm khi nói ra. Bạn không cô đơn, và cảm giác lúc này sẽ không kéo dài \
             mãi. Mình vẫn ở đây lắng nghe bạn.",
            "Reaching out took courage. You are not alone, and this moment will not last forever. \
             I am still here listening.",
        )
        .to_owned(),
    })
}

fn pick<'a>(language: Language, vi: &'a str, en: &'a str) -> &'a str {
    match language {
        Language::Vi => vi,
        Language::En => en,
    }
}

fn priority_message(category: Category, severity: Severity, language: Language) -> &'static str {
    let urgent = severity == Severity::Critical;
    match (category, language) {
        (Category::Suicide, Language::Vi) if urgent => {
            "Mạng sống của bạn rất quan trọng. Nếu bạn đang ở gần điều có thể làm mình bị thương, hãy \
             rời xa nó và gọi 115 ngay bây giờ — sự giúp đỡ đang có sẵn."
        }
        (Category::Suicide, Language::En) if urgent => {
            "Your life matters. If you are near something that could hurt you, move away from it \
             and call 115 right now — help is available."
        }
        (Category::Suicide, Language::Vi) => {
            "Mạng sống của bạn rất quan trọng. Bạn không phải một mình vượt qua chuyện này — sự giúp \
             đỡ đang có sẵn ngay bây giờ."
        }
        (Category::Suicide, Language::En) => {
            "Your life matters. You do not have to get through this alone — help is available right \
             now."
        }
        (Category::SelfHarm, Language::Vi) => {
            "Nỗi đau của bạn là thật và bạn xứng đáng được chăm sóc. Nếu vết thương sâu hoặc bạn đã \
             uống thứ gì đó, hãy gọi 115 ngay."
        }
        (Category::SelfHarm, Language::En) => {
            "Your pain is real and you deserve care. If a wound is deep or you have taken something, \
             call 115 now."
        }
        (Category::Abuse, Language::Vi) => {
            "An toàn của bạn là trên hết. Chuyện này không phải lỗi của bạn, và bạn có quyền được \
             bảo vệ. Gọi 111 (miễn phí, 24/7)."
        }
        (Category::Abuse, Language::En) => {
            "Your safety comes first. This is not your fault, and you have the right to be \
             protected. Call 111 (free, 24/7)."
        }
        (Category::Violence, Language::Vi) => {
            "Hãy đến một nơi an toàn ngay. Nếu bạn đang gặp nguy hiểm, gọi 113."
        }
        (Category::Violence, Language::En) => {
            "Get to a safe place now. If you are in danger, call 113."
        }
        (Category::ThirdParty, Language::Vi) => {
            "Bạn đã làm đúng khi lên tiếng. Nếu người ấy đang gặp nguy hiểm ngay lúc này, hãy gọi \
             115 hoặc 113 và báo cho một người lớn ở gần."
        }
        (Category::ThirdParty, Language::En) => {
            "You did the right thing by speaking up. If they are in danger right now, call 115 or \
             113 and tell an adult nearby."
        }
    }
}

fn immediate_actions(category: Category, language: Language) -> &'static [&'static str] {
    match (category, language) {
        (Category::Suicide, Language::Vi) => &[
            "Nếu bạn đã làm hại bản thân hoặc đã uống thuốc, gọi 115 ngay.",
            "Để thuốc, dao, dây hoặc thứ có thể gây hại ra xa, hoặc nhờ ai đó cất giúp.",
            "Ở gần một người bạn tin tưởng và nói với họ rằng bạn đang không ổn.",
            "Nếu bạn dưới 18 tuổi, gọi 111 (miễn phí, 24/7).",
        ],
        (Category::Suicide, Language::En) => &[
            "If you have hurt yourself or taken pills, call 115 now.",
            "Put pills, knives, cords or anything that could hurt you out of reach, or ask someone \
             to keep them.",
            "Stay near someone you trust and tell them you are not okay.",
            "If you are under 18, call 111 (free, 24/7).",
        ],
        (Category::SelfHarm, Language::Vi) => &[
            "Nếu vết thương sâu hoặc chảy máu không ngừng, gọi 115.",
            "Cất dụng cụ sắc nhọn ra xa hoặc nhờ ai đó giữ giúp.",
            "Thử nắm chặt một viên đá lạnh hoặc thở chậm 10 nhịp cho cơn qua đi.",
            "Kể với một người lớn bạn tin tưởng.",
        ],
        (Category::SelfHarm, Language::En) => &[
            "If a wound is deep or keeps bleeding, call 115.",
            "Put sharp things out of reach or ask someone to keep them.",
            "Try holding an ice cube tightly or breathing slowly for ten breaths until the urge \
             passes.",
            "Tell an adult you trust.",
        ],
        (Category::Abuse, Language::Vi) => &[
            "Nếu bạn đang gặp nguy hiểm ngay lúc này, gọi 113.",
            "Gọi 111 — Tổng đài quốc gia bảo vệ trẻ em, miễn phí, 24/7.",
            "Nếu có thể, đến ở cùng một người lớn bạn tin tưởng (ông bà, thầy cô, hàng xóm).",
            "Bạn không cần chứng minh gì trước khi xin giúp đỡ.",
        ],
        (Category::Abuse, Language::En) => &[
            "If you are in danger right now, call 113.",
            "Call 111 — the National Child Protection Hotline, free, 24/7.",
            "If you can, stay with an adult you trust (a grandparent, teacher or neighbour).",
            "You do not need proof before asking for help.",
        ],
        (Category::Violence, Language::Vi) => &[
            "Đi đến nơi đông người hoặc nơi an toàn ngay.",
            "Gọi 113 nếu bạn đang bị đe dọa hoặc tấn công.",
            "Nếu bạn dưới 18 tuổi, gọi 111 (miễn phí, 24/7).",
            "Báo cho thầy cô hoặc một người lớn bạn tin tưởng.",
        ],
        (Category::Violence, Language::En) => &[
            "Go somewhere public or safe now.",
            "Call 113 if you are being threatened or attacked.",
            "If you are under 18, call 111 (free, 24/7).",
            "Tell a teacher or an adult you trust.",
        ],
        (Category::ThirdParty, Language::Vi) => &[
            "Nếu người ấy đã làm hại bản thân hoặc đã uống thứ gì đó, gọi 115 ngay.",
            "Nếu có thể, ở cạnh người ấy hoặc giữ liên lạc, đừng để họ một mình.",
            "Nếu một trẻ em đang bị bạo hành hoặc xâm hại, gọi 111 (miễn phí, 24/7).",
            "Kể cho một người lớn bạn tin tưởng; giữ bí mật không phải là điều đúng khi có người gặp \
             nguy hiểm.",
        ],
        (Category::ThirdParty, Language::En) => &[
            "If they have hurt themselves or taken something, call 115 now.",
            "If you can, stay with them or keep in touch; do not leave them alone.",
            "If a child is being abused, call 111 (free, 24/7).",
            "Tell an adult you trust; keeping a secret is not right when someone is in danger.",
        ],
    }
}

/// The assistant's reply to a crisis message: warm, says the writer is not alone, gives the numbers
/// to call now, and says plainly that the listener is automated.
///
/// For a message that is not a crisis but is about someone else at risk (`third_party`), it answers
/// the worried friend; otherwise it is a short general reminder of where to call.
pub fn safety_reply(assessment: &Assessment, language: Language) -> String {
    let disclosure = pick(
        language,
        "Mình là trợ lý lắng nghe tự động, không phải chuyên gia, nên mình muốn bạn có ngay người thật \
         có thể giúp.",
        "I am an automated listener, not a counsellor, so I want you to have real people who can \
         help right now.",
    );
    if !assessment.is_crisis {
        let body = if assessment.third_party {
            pick(
                language,
                "Bạn đang lo cho một người khác, điều đó rất đáng quý. Hãy ở bên họ, lắng nghe mà không \
                 phán xét, và đừng giữ bí mật một mình: báo cho người lớn tin tưởng. Nếu họ đang gặp \
                 nguy hiểm, gọi 115 (cấp cứu); nếu là trẻ em bị xâm hại hay bạo lực, gọi 111 (miễn \
                 phí, 24/7).",
                "It means a lot that you are worried about someone. Stay with them, listen without \
                 judging, and do not keep it a secret alone: tell an adult you trust. If they are in \
                 danger, call 115 (emergency); if a child faces abuse or violence, call 111 (free, \
                 24/7).",
            )
        } else {
            pick(
                language,
                "Nếu bạn cần người giúp ngay: 115 (cấp cứu), 113 (công an), 111 (bảo vệ trẻ em, miễn \
                 phí, 24/7).",
                "If you need someone right now: 115 (emergency), 113 (police), 111 (child \
                 protection, free, 24/7).",
            )
        };
        return format!("{body} {disclosure}");
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
        .fold(0usize, |acc, b| acc.wrapping_add(usize::from(b)))
        % 2;
    let opening = match (primary, language, variant) {
        (Category::Suicide, Language::Vi, 0) => {
            "Cảm ơn bạn đã nói với mình. Nghe bạn đang đau đến mức này, mình rất lo cho bạn, và bạn \
             không hề một mình."
        }
        (Category::Suicide, Language::Vi, _) => {
            "Mình nghe thấy bạn, và mình mừng vì bạn đã nói ra. Bạn không cô đơn trong lúc này."
        }
        (Category::Suicide, Language::En, 0) => {
            "Thank you for telling me. I am really worried hearing how much you are hurting, and you \
             are not alone."
        }
        (Category::Suicide, Language::En, _) => {
            "I hear you, and I am glad you said it out loud. You are not alone right now."
        }
        (Category::SelfHarm, Language::Vi, _) => {
            "Cảm ơn bạn đã tin mình mà kể ra. Bạn xứng đáng được chăm sóc, không phải bị làm đau, \
             và bạn không một mình."
        }
        (Category::SelfHarm, Language::En, _) => {
            "Thank you for trusting me with this. You deserve care, not pain, and you are not \
             alone."
        }
        (Category::Abuse, Language::Vi, _) => {
            "Cảm ơn bạn đã dũng cảm kể ra. Chuyện này không phải lỗi của bạn, và bạn không một mình."
        }
        (Category::Abuse, Language::En, _) => {
            "Thank you for being brave enough to tell me. This is not your fault, and you are not \
             alone."
        }
        (Category::Violence, Language::Vi, _) => {
            "Mình rất lo cho sự an toàn của bạn. Bạn không một mình, và bạn không đáng bị như vậy."
        }
        (Category::Violence, Language::En, _) => {
            "I am worried about your safety. You are not alone, and you do not deserve this."
        }
        (Category::ThirdParty, Language::Vi, _) => {
            "Cảm ơn bạn đã lo cho người ấy và kể với mình. Bạn không phải gánh chuyện này một mình."
        }
        (Category::ThirdParty, Language::En, _) => {
            "Thank you for caring about them and telling me. You do not have to carry this alone."
        }
    };
    let call = match (primary, language) {
        (Category::Suicide | Category::SelfHarm, Language::Vi) => {
            "Nếu bạn đang gặp nguy hiểm hoặc đã làm hại bản thân, hãy gọi 115 ngay. Nếu bạn dưới 18 \
             tuổi, 111 miễn phí và nghe máy 24/7. Hãy nhắn cho một người bạn tin tưởng ở gần bạn \
             ngay bây giờ."
        }
        (Category::Suicide | Category::SelfHarm, Language::En) => {
            "If you are in danger or have hurt yourself, call 115 now. If you are under 18, 111 is \
             free and answers 24/7. Please reach out to someone you trust near you right now."
        }
        (Category::Abuse, Language::Vi) => {
            "Hãy gọi 111 (miễn phí, 24/7) để được bảo vệ; nếu đang gặp nguy hiểm ngay lúc này, gọi \
             113."
        }
        (Category::Abuse, Language::En) => {
            "Please call 111 (free, 24/7) to get protection; if you are in danger right now, call \
             113."
        }
        (Category::Violence, Language::Vi) => {
            "Hãy đến nơi an toàn và gọi 113 nếu bạn đang bị đe dọa; nếu bạn dưới 18 tuổi, 111 cũng \
             có thể giúp bạn."
        }
        (Category::Violence, Language::En) => {
            "Get somewhere safe and call 113 if you are being threatened; if you are under 18, 111 \
             can help too."
        }
        (Category::ThirdParty, Language::Vi) => {
            "Nếu người ấy đang gặp nguy hiểm, hãy gọi 115 hoặc 113 ngay; nếu là trẻ em bị bạo hành, \
             gọi 111 (miễn phí, 24/7). Hãy báo cho một người lớn bạn tin tưởng."
        }
        (Category::ThirdParty, Language::En) => {
            "If they are in danger, call 115 or 113 now; if a child is being abused, call 111 \
             (free, 24/7). Please tell an adult you trust."
        }
    };
    format!("{opening} {call} {disclosure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crisis(categories: Vec<Category>, severity: Severity) -> Assessment {
        Assessment {
            is_crisis: true,
            categories,
            severity: Some(severity),
            rule_ids: vec!["p.sui.tu_tu".to_owned()],
            ..Assessment::default()
        }
    }

    #[test]
    fn defaults_are_the_verified_numbers_only() {
        let numbers: Vec<String> = default_hotlines().into_iter().map(|h| h.number).collect();
        assert_eq!(numbers, vec!["111", "115", "113"]);
    }

    #[test]
    fn no_card_without_crisis() {
        assert!(crisis_card(&Assessment::default(), Language::Vi, &default_hotlines()).is_none());
    }

    #[test]
    fn relevant_hotlines_first() {
        let card = crisis_card(
            &crisis(vec![Category::Suicide], Severity::High),
            Language::En,
            &default_hotlines(),
        );
        let card = card.map(|c| c.hotlines.into_iter().map(|h| h.number).collect::<Vec<_>>());
        assert_eq!(
            card,
            Some(vec!["115".to_owned(), "111".to_owned(), "113".to_owned()])
        );
        let card = crisis_card(
            &crisis(vec![Category::Abuse], Severity::High),
            Language::Vi,
            &default_hotlines(),
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
            &default_hotlines(),
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
        for lang in [Language::Vi, Language::En] {
            for c in Category::ALL {
                let reply = safety_reply(&crisis(vec![c], Severity::High), lang);
                assert!(reply.contains("11"), "{reply}");
                assert!(
                    reply.contains("tự động") || reply.contains("automated"),
                    "{reply}"
                );
            }
        }
    }

    #[test]
    fn hotlines_parse_from_toml_shaped_json() {
        let value = serde_json::json!({
            "name_vi": "A", "name_en": "A", "number": "111", "available_vi": "24/7",
            "available_en": "24/7", "free": true, "priority": 1, "description_vi": "d",
            "description_en": "d", "categories": ["abuse", "self_harm"]
        });
        let h: Result<Hotline, _> = serde_json::from_value(value);
        assert!(h.is_ok_and(|h| h.categories == vec![Category::Abuse, Category::SelfHarm]));
    }
}
