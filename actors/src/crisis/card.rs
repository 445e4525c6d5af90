//! The crisis card (API.md `CrisisInfo`), the assistant's safety reply and its check-in reply while
//! a conversation stays in crisis mode, in the session's language.
//!
//! Every number comes from the configured hotlines through role placeholders (`{medical}`,
//! `{child_protection}`, `{police}`; see [`super::hotlines`]); what ships, and why the old
//! "1900 636 976" line does not, is in docs/safety/hotlines.md.

use serde::Serialize;

use super::detector::Assessment;
use super::hotlines::{Hotline, Numbers, Sentence};
use super::types::{Category, Severity};
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
    let mut categories = assessment.categories.clone();
    if categories.is_empty() {
        categories.push(Category::Suicide);
    }
    categories.sort();
    categories.dedup();
    let primary = categories.first().copied().unwrap_or(Category::Suicide);
    let severity = assessment.severity.unwrap_or(Severity::High);

    let views = card_order(hotlines, &categories)
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

    let numbers = numbers_for(hotlines, &categories, language);
    let mut actions: Vec<String> = Vec::new();
    for category in &categories {
        for action in numbers.sentences(immediate_actions(*category, language)) {
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
    }
    actions.truncate(6);

    Some(CrisisInfo {
        categories,
        severity,
        priority_message: numbers.message(priority_message(primary, severity, language)),
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

fn priority_message(
    category: Category,
    severity: Severity,
    language: Language,
) -> &'static [Sentence] {
    let urgent = severity == Severity::Critical;
    match (category, language) {
        (Category::Suicide, Language::Vi) if urgent => &[
            &["Mạng sống của bạn rất quan trọng."],
            &[
                "Nếu bạn đang ở gần điều có thể làm mình bị thương, hãy rời xa nó và gọi {medical} \
                 ngay bây giờ — sự giúp đỡ đang có sẵn.",
                "Nếu bạn đang ở gần điều có thể làm mình bị thương, hãy rời xa nó ngay bây giờ — sự \
                 giúp đỡ đang có sẵn.",
            ],
        ],
        (Category::Suicide, Language::En) if urgent => &[
            &["Your life matters."],
            &[
                "If you are near something that could hurt you, move away from it and call \
                 {medical} right now — help is available.",
                "If you are near something that could hurt you, move away from it right now — help \
                 is available.",
            ],
        ],
        (Category::Suicide, Language::Vi) => &[&[
            "Mạng sống của bạn rất quan trọng. Bạn không phải một mình vượt qua chuyện này — sự giúp \
             đỡ đang có sẵn ngay bây giờ.",
        ]],
        (Category::Suicide, Language::En) => &[&[
            "Your life matters. You do not have to get through this alone — help is available right \
             now.",
        ]],
        (Category::SelfHarm, Language::Vi) => &[
            &["Nỗi đau của bạn là thật và bạn xứng đáng được chăm sóc."],
            &["Nếu vết thương sâu hoặc bạn đã uống thứ gì đó, hãy gọi {medical} ngay."],
        ],
        (Category::SelfHarm, Language::En) => &[
            &["Your pain is real and you deserve care."],
            &["If a wound is deep or you have taken something, call {medical} now."],
        ],
        (Category::Abuse, Language::Vi) => &[
            &["An toàn của bạn là trên hết."],
            &["Chuyện này không phải lỗi của bạn, và bạn có quyền được bảo vệ."],
            &["Gọi {child_protection} ({child_protection_terms})."],
        ],
        (Category::Abuse, Language::En) => &[
            &["Your safety comes first."],
            &["This is not your fault, and you have the right to be protected."],
            &["Call {child_protection} ({child_protection_terms})."],
        ],
        (Category::Violence, Language::Vi) => &[
            &["Hãy đến một nơi an toàn ngay."],
            &["Nếu bạn đang gặp nguy hiểm, gọi {police}."],
        ],
        (Category::Violence, Language::En) => &[
            &["Get to a safe place now."],
            &["If you are in danger, call {police}."],
        ],
        (Category::ThirdParty, Language::Vi) => &[
            &["Bạn đã làm đúng khi lên tiếng."],
            &[
                "Nếu người ấy đang gặp nguy hiểm ngay lúc này, hãy gọi {medical|police} và báo cho \
                 một người lớn ở gần.",
                "Nếu người ấy đang gặp nguy hiểm ngay lúc này, hãy báo cho một người lớn ở gần.",
            ],
        ],
        (Category::ThirdParty, Language::En) => &[
            &["You did the right thing by speaking up."],
            &[
                "If they are in danger right now, call {medical|police} and tell an adult nearby.",
                "If they are in danger right now, tell an adult nearby.",
            ],
        ],
    }
}

fn immediate_actions(category: Category, language: Language) -> &'static [Sentence] {
    match (category, language) {
        (Category::Suicide, Language::Vi) => &[
            &["Nếu bạn đã làm hại bản thân hoặc đã uống thuốc, gọi {medical} ngay."],
            &["Để thuốc, dao, dây hoặc thứ có thể gây hại ra xa, hoặc nhờ ai đó cất giúp."],
            &["Ở gần một người bạn tin tưởng và nói với họ rằng bạn đang không ổn."],
            &["Nếu bạn dưới 18 tuổi, gọi {child_protection} ({child_protection_terms})."],
        ],
        (Category::Suicide, Language::En) => &[
            &["If you have hurt yourself or taken pills, call {medical} now."],
            &[
                "Put pills, knives, cords or anything that could hurt you out of reach, or ask \
                 someone to keep them.",
            ],
            &["Stay near someone you trust and tell them you are not okay."],
            &["If you are under 18, call {child_protection} ({child_protection_terms})."],
        ],
        (Category::SelfHarm, Language::Vi) => &[
            &["Nếu vết thương sâu hoặc chảy máu không ngừng, gọi {medical}."],
            &["Cất dụng cụ sắc nhọn ra xa hoặc nhờ ai đó giữ giúp."],
            &["Thử nắm chặt một viên đá lạnh hoặc thở chậm 10 nhịp cho cơn qua đi."],
            &["Kể với một người lớn bạn tin tưởng."],
        ],
        (Category::SelfHarm, Language::En) => &[
            &["If a wound is deep or keeps bleeding, call {medical}."],
            &["Put sharp things out of reach or ask someone to keep them."],
            &[
                "Try holding an ice cube tightly or breathing slowly for ten breaths until the \
                 urge passes.",
            ],
            &["Tell an adult you trust."],
        ],
        (Category::Abuse, Language::Vi) => &[
            &["Nếu bạn đang gặp nguy hiểm ngay lúc này, gọi {police}."],
            &["Gọi {child_protection} — {child_protection_name}, {child_protection_terms}."],
            &["Nếu có thể, đến ở cùng một người lớn bạn tin tưởng (ông bà, thầy cô, hàng xóm)."],
            &["Bạn không cần chứng minh gì trước khi xin giúp đỡ."],
        ],
        (Category::Abuse, Language::En) => &[
            &["If you are in danger right now, call {police}."],
            &["Call {child_protection} — the {child_protection_name}, {child_protection_terms}."],
            &["If you can, stay with an adult you trust (a grandparent, teacher or neighbour)."],
            &["You do not need proof before asking for help."],
        ],
        (Category::Violence, Language::Vi) => &[
            &["Đi đến nơi đông người hoặc nơi an toàn ngay."],
            &["Gọi {police} nếu bạn đang bị đe dọa hoặc tấn công."],
            &["Nếu bạn dưới 18 tuổi, gọi {child_protection} ({child_protection_terms})."],
            &["Báo cho thầy cô hoặc một người lớn bạn tin tưởng."],
        ],
        (Category::Violence, Language::En) => &[
            &["Go somewhere public or safe now."],
            &["Call {police} if you are being threatened or attacked."],
            &["If you are under 18, call {child_protection} ({child_protection_terms})."],
            &["Tell a teacher or an adult you trust."],
        ],
        (Category::ThirdParty, Language::Vi) => &[
            &["Nếu người ấy đã làm hại bản thân hoặc đã uống thứ gì đó, gọi {medical} ngay."],
            &["Nếu có thể, ở cạnh người ấy hoặc giữ liên lạc, đừng để họ một mình."],
            &[
                "Nếu một trẻ em đang bị bạo hành hoặc xâm hại, gọi {child_protection} \
                 ({child_protection_terms}).",
            ],
            &[
                "Kể cho một người lớn bạn tin tưởng; giữ bí mật không phải là điều đúng khi có \
                 người gặp nguy hiểm.",
            ],
        ],
        (Category::ThirdParty, Language::En) => &[
            &["If they have hurt themselves or taken something, call {medical} now."],
            &["If you can, stay with them or keep in touch; do not leave them alone."],
            &["If a child is being abused, call {child_protection} ({child_protection_terms})."],
            &["Tell an adult you trust; keeping a secret is not right when someone is in danger."],
        ],
    }
}

/// Says the listener is automated and points to real people.
fn disclosure(language: Language) -> &'static str {
    pick(
        language,
        "Mình là trợ lý lắng nghe tự động, không phải chuyên gia, nên mình muốn bạn có ngay người thật \
         có thể giúp.",
        "I am an automated listener, not a counsellor, so I want you to have real people who can \
         help right now.",
    )
}

/// The assistant's reply to a crisis message: warm, says the writer is not alone, gives the numbers
/// to call now, and says plainly that the listener is automated.
///
/// For a message that is not a crisis but is about someone else at risk (`third_party`), it answers
/// the worried friend; otherwise it is a short general reminder of where to call.
pub fn safety_reply(assessment: &Assessment, language: Language, hotlines: &[Hotline]) -> String {
    let disclosure = disclosure(language);
    if !assessment.is_crisis {
        let numbers = numbers_for(hotlines, &[], language);
        let body = if assessment.third_party {
            numbers.message(third_party_advice(language))
        } else {
            let items: &[&str] = match language {
                Language::Vi => &[
                    "{medical} (cấp cứu)",
                    "{police} (công an)",
                    "{child_protection} (bảo vệ trẻ em, {child_protection_terms})",
                ],
                Language::En => &[
                    "{medical} (emergency)",
                    "{police} (police)",
                    "{child_protection} (child protection, {child_protection_terms})",
                ],
            };
            let lines = numbers
                .comma_list(items)
                .or_else(|| numbers.fallback_item());
            match lines {
                Some(lines) => format!(
                    "{} {lines}.",
                    pick(
                        language,
                        "Nếu bạn cần người giúp ngay:",
                        "If you need someone right now:"
                    )
                ),
                None => String::new(),
            }
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
    let call = numbers_for(hotlines, &assessment.categories, language)
        .message(where_to_call(primary, language));
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

fn third_party_advice(language: Language) -> &'static [Sentence] {
    match language {
        Language::Vi => &[
            &["Bạn đang lo cho một người khác, điều đó rất đáng quý."],
            &[
                "Hãy ở bên họ, lắng nghe mà không phán xét, và đừng giữ bí mật một mình: báo cho \
                 người lớn tin tưởng.",
            ],
            &[
                "Nếu họ đang gặp nguy hiểm, gọi {medical} (cấp cứu); nếu là trẻ em bị xâm hại hay \
                 bạo lực, gọi {child_protection} ({child_protection_terms}).",
                "Nếu họ đang gặp nguy hiểm, gọi {medical} (cấp cứu).",
                "Nếu là trẻ em bị xâm hại hay bạo lực, gọi {child_protection} \
                 ({child_protection_terms}).",
            ],
        ],
        Language::En => &[
            &["It means a lot that you are worried about someone."],
            &[
                "Stay with them, listen without judging, and do not keep it a secret alone: tell \
                 an adult you trust.",
            ],
            &[
                "If they are in danger, call {medical} (emergency); if a child faces abuse or \
                 violence, call {child_protection} ({child_protection_terms}).",
                "If they are in danger, call {medical} (emergency).",
                "If a child faces abuse or violence, call {child_protection} \
                 ({child_protection_terms}).",
            ],
        ],
    }
}

fn where_to_call(primary: Category, language: Language) -> &'static [Sentence] {
    match (primary, language) {
        (Category::Suicide | Category::SelfHarm, Language::Vi) => &[
            &["Nếu bạn đang gặp nguy hiểm hoặc đã làm hại bản thân, hãy gọi {medical} ngay."],
            &["Nếu bạn dưới 18 tuổi, gọi {child_protection} ({child_protection_terms})."],
            &["Hãy nhắn cho một người bạn tin tưởng ở gần bạn ngay bây giờ."],
        ],
        (Category::Suicide | Category::SelfHarm, Language::En) => &[
            &["If you are in danger or have hurt yourself, call {medical} now."],
            &["If you are under 18, call {child_protection} ({child_protection_terms})."],
            &["Please reach out to someone you trust near you right now."],
        ],
        (Category::Abuse, Language::Vi) => &[&[
            "Hãy gọi {child_protection} ({child_protection_terms}) để được bảo vệ; nếu đang gặp nguy \
             hiểm ngay lúc này, gọi {police}.",
            "Hãy gọi {child_protection} ({child_protection_terms}) để được bảo vệ.",
            "Nếu đang gặp nguy hiểm ngay lúc này, hãy gọi {police}.",
        ]],
        (Category::Abuse, Language::En) => &[&[
            "Please call {child_protection} ({child_protection_terms}) to get protection; if you \
             are in danger right now, call {police}.",
            "Please call {child_protection} ({child_protection_terms}) to get protection.",
            "If you are in danger right now, call {police}.",
        ]],
        (Category::Violence, Language::Vi) => &[&[
            "Hãy đến nơi an toàn và gọi {police} nếu bạn đang bị đe dọa; nếu bạn dưới 18 tuổi, \
             {child_protection} cũng có thể giúp bạn.",
            "Hãy đến nơi an toàn và gọi {police} nếu bạn đang bị đe dọa.",
            "Hãy đến nơi an toàn; nếu bạn dưới 18 tuổi, {child_protection} cũng có thể giúp bạn.",
            "Hãy đến nơi an toàn.",
        ]],
        (Category::Violence, Language::En) => &[&[
            "Get somewhere safe and call {police} if you are being threatened; if you are under 18, \
             {child_protection} can help too.",
            "Get somewhere safe and call {police} if you are being threatened.",
            "Get somewhere safe; if you are under 18, {child_protection} can help too.",
            "Get somewhere safe.",
        ]],
        (Category::ThirdParty, Language::Vi) => &[
            &[
                "Nếu người ấy đang gặp nguy hiểm, hãy gọi {medical|police} ngay; nếu là trẻ em bị \
                 bạo hành, gọi {child_protection} ({child_protection_terms}).",
                "Nếu người ấy đang gặp nguy hiểm, hãy gọi {medical|police} ngay.",
                "Nếu là trẻ em bị bạo hành, gọi {child_protection} ({child_protection_terms}).",
            ],
            &["Hãy báo cho một người lớn bạn tin tưởng."],
        ],
        (Category::ThirdParty, Language::En) => &[
            &[
                "If they are in danger, call {medical|police} now; if a child is being abused, call \
                 {child_protection} ({child_protection_terms}).",
                "If they are in danger, call {medical|police} now.",
                "If a child is being abused, call {child_protection} ({child_protection_terms}).",
            ],
            &["Please tell an adult you trust."],
        ],
    }
}

/// What the assistant says on a later turn while a conversation stays in crisis mode: it asks
/// whether the person (or, for `third_party`, the friend) is safe right now, reminds them of the
/// numbers for `category`, and says it is automated software. It never says goodbye or that the
/// person seems fine: a crisis does not end because the conversation moved on.
///
/// `variation` picks one of three openings so a long conversation does not repeat itself word for
/// word (the pipeline passes the message's sequence number).
pub fn check_in_reply(
    category: Category,
    language: Language,
    hotlines: &[Hotline],
    variation: u64,
) -> String {
    let openings = check_in_openings(category, language);
    let index = usize::try_from(variation % openings.len() as u64).unwrap_or(0);
    let opening = openings.get(index).copied().unwrap_or_default();
    let question = check_in_question(category, language);
    let reminder =
        numbers_for(hotlines, &[category], language).message(check_in_reminder(category, language));
    let closing = pick(
        language,
        "Mình là phần mềm tự động, không phải chuyên gia, nên những người trực ở các số này có thể \
         giúp bạn nhiều hơn mình. Bạn cứ kể tiếp nếu muốn, mình đang nghe.",
        "I am automated software, not a counsellor, so the people who answer these numbers can \
         help you more than I can. You can keep telling me, I am listening.",
    );
    join_nonempty(&[opening, question, &reminder, closing])
}

fn check_in_openings(category: Category, language: Language) -> &'static [&'static str] {
    match (category, language) {
        (Category::ThirdParty, Language::Vi) => &[
            "Mình vẫn đang nghĩ về người mà bạn kể lúc nãy, và về cả bạn nữa.",
            "Cảm ơn bạn vẫn ở đây và vẫn lo cho người ấy. Bạn không phải gánh chuyện này một mình.",
            "Mình muốn hỏi thăm thêm về người ấy, vì điều bạn kể lúc nãy khiến mình lo.",
        ],
        (Category::ThirdParty, Language::En) => &[
            "I keep thinking about the person you told me about, and about you too.",
            "Thank you for staying and still caring about them. You do not have to carry this \
             alone.",
            "I want to check in about them, because what you told me earlier has me worried.",
        ],
        (_, Language::Vi) => &[
            "Mình vẫn ở đây với bạn, và mình vẫn đang nghĩ về điều bạn kể lúc nãy.",
            "Cảm ơn bạn vẫn tiếp tục trò chuyện với mình. Điều bạn chia sẻ lúc trước vẫn rất quan \
             trọng với mình.",
            "Mình muốn hỏi thăm bạn một chút, vì điều bạn kể lúc nãy khiến mình lo cho bạn.",
        ],
        (_, Language::En) => &[
            "I am still here with you, and I keep thinking about what you told me earlier.",
            "Thank you for still talking with me. What you shared before still matters a lot to \
             me.",
            "I want to check in with you, because what you told me earlier has me worried about \
             you.",
        ],
    }
}

fn check_in_question(category: Category, language: Language) -> &'static str {
    match (category, language) {
        (Category::ThirdParty, Language::Vi) => {
            "Người ấy có đang an toàn ngay lúc này không? Đã có người lớn nào biết chuyện chưa?"
        }
        (Category::ThirdParty, Language::En) => {
            "Is your friend safe right now? Does an adult you trust know what is happening?"
        }
        (_, Language::Vi) => "Bạn có đang an toàn ngay lúc này không?",
        (_, Language::En) => "Are you safe right now?",
    }
}

fn check_in_reminder(category: Category, language: Language) -> &'static [Sentence] {
    match (category, language) {
        (Category::Suicide, Language::Vi) => &[
            &["Nếu bạn đang gặp nguy hiểm hoặc đã làm hại bản thân, hãy gọi {medical} ngay."],
            &["Nếu bạn dưới 18 tuổi, gọi {child_protection} ({child_protection_terms})."],
            &["Ở gần một người bạn tin tưởng và nói với họ rằng bạn đang không ổn."],
        ],
        (Category::Suicide, Language::En) => &[
            &["If you are in danger or have hurt yourself, call {medical} now."],
            &["If you are under 18, call {child_protection} ({child_protection_terms})."],
            &["Stay near someone you trust and tell them you are not okay."],
        ],
        (Category::SelfHarm, Language::Vi) => &[
            &["Nếu vết thương sâu hoặc chảy máu không ngừng, gọi {medical}."],
            &["Nếu bạn dưới 18 tuổi, gọi {child_protection} ({child_protection_terms})."],
            &["Cất dụng cụ sắc nhọn ra xa hoặc nhờ ai đó giữ giúp."],
        ],
        (Category::SelfHarm, Language::En) => &[
            &["If a wound is deep or keeps bleeding, call {medical}."],
            &["If you are under 18, call {child_protection} ({child_protection_terms})."],
            &["Put sharp things out of reach or ask someone to keep them."],
        ],
        (Category::Abuse, Language::Vi) => &[
            &["Chuyện đó không phải lỗi của bạn."],
            &["Nếu bạn đang gặp nguy hiểm ngay lúc này, gọi {police}."],
            &["Hãy gọi {child_protection} ({child_protection_terms}) để được bảo vệ."],
        ],
        (Category::Abuse, Language::En) => &[
            &["What happened is not your fault."],
            &["If you are in danger right now, call {police}."],
            &["Please call {child_protection} ({child_protection_terms}) to get protection."],
        ],
        (Category::Violence, Language::Vi) => &[
            &[
                "Nếu bạn đang bị đe dọa, hãy đến nơi đông người và gọi {police}.",
                "Nếu bạn đang bị đe dọa, hãy đến nơi đông người hoặc nơi an toàn ngay.",
            ],
            &["Nếu bạn dưới 18 tuổi, {child_protection} cũng có thể giúp bạn."],
        ],
        (Category::Violence, Language::En) => &[
            &[
                "If you are being threatened, go somewhere public and call {police}.",
                "If you are being threatened, go somewhere public or safe now.",
            ],
            &["If you are under 18, {child_protection} can help too."],
        ],
        (Category::ThirdParty, Language::Vi) => &[
            &["Nếu người ấy đang gặp nguy hiểm, hãy gọi {medical|police} ngay."],
            &["Nếu là trẻ em bị bạo hành, gọi {child_protection} ({child_protection_terms})."],
            &["Bạn không phải giữ bí mật này một mình: hãy kể cho một người lớn bạn tin tưởng."],
        ],
        (Category::ThirdParty, Language::En) => &[
            &["If they are in danger, call {medical|police} now."],
            &["If a child is being abused, call {child_protection} ({child_protection_terms})."],
            &["You do not have to keep this secret alone: tell an adult you trust."],
        ],
    }
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

    fn every_sentence_table() -> Vec<&'static [Sentence]> {
        let mut tables = Vec::new();
        for language in LANGUAGES {
            for category in Category::ALL {
                for severity in SEVERITIES {
                    tables.push(priority_message(category, severity, language));
                }
                tables.push(immediate_actions(category, language));
                tables.push(where_to_call(category, language));
                tables.push(check_in_reminder(category, language));
            }
            tables.push(third_party_advice(language));
        }
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
            for table in every_sentence_table() {
                for alternatives in table {
                    let first = alternatives.first().copied().unwrap_or_default();
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
