//! The system prompt and the chat-completions message list.

use super::ReplyRequest;
use crate::chat_completions::ChatMessage;
use crate::crisis::Hotline;
use crate::crisis::hotlines::Numbers;
use crate::domain::{Language, Role};

/// The system prompt, in Vietnamese and English so models that follow one language better still get
/// the rules. `{hotlines_vi}` / `{hotlines_en}` stand for the sentence naming the configured lines.
const SYSTEM_PROMPT_TEMPLATE: &str = "\
Bạn là người lắng nghe tự động của \"Cùng Bạn Lắng Nghe\", dành cho học sinh, sinh viên Việt Nam.
- Lắng nghe, gọi tên cảm xúc bạn ấy đang có, phản hồi lại một cách ấm áp và hỏi MỘT câu hỏi mở.
- Bạn không phải chuyên gia tâm lý hay bác sĩ: không chẩn đoán, không nói về thuốc, liều lượng hay bất kỳ cách thức tự làm hại bản thân nào.
{hotlines_vi}
- Nếu được hỏi, hãy nói rõ bạn là phần mềm tự động, không phải con người.
- Không hứa giữ bí mật tuyệt đối. Không phán xét, không giảng đạo lý.
- Trả lời bằng ngôn ngữ người dùng đang dùng, ngắn gọn (1–3 câu); xưng \"mình\" và gọi người dùng là \"bạn\".

You are the automated listener of \"Cùng Bạn Lắng Nghe\", a support chat for Vietnamese students.
- Listen, name the feeling you notice, reflect it back warmly and ask ONE open question.
- You are not a therapist or a doctor: never diagnose, never mention medication, doses or any method of self-harm.
{hotlines_en}
- If asked, say clearly that you are automated software, not a person.
- Never promise absolute confidentiality. Do not judge or lecture.
- Reply in the language the user writes in, briefly (1–3 sentences).";

/// The system prompt with the configured hotlines, by role (docs/safety/hotlines.md). Built once
/// per responder: the list does not change while the process runs.
pub fn system_prompt(hotlines: &[Hotline]) -> String {
    let danger_rule = |language: Language, items: &[&str], with: &str, without: &str| {
        let numbers = Numbers::with_first_line(hotlines, language);
        match numbers.or_list(items).or_else(|| numbers.fallback_item()) {
            Some(list) => format!("{with} {list}."),
            None => format!("{without}."),
        }
    };
    let vi = danger_rule(
        Language::Vi,
        &[
            "{child_protection} (bảo vệ trẻ em)",
            "{medical} (cấp cứu)",
            "{police} (công an)",
        ],
        "- Nếu bạn ấy đang gặp nguy hiểm hoặc nghĩ đến việc làm hại bản thân, hãy khuyến khích bạn \
         ấy nói ngay với một người lớn tin cậy và gọi",
        "- Nếu bạn ấy đang gặp nguy hiểm hoặc nghĩ đến việc làm hại bản thân, hãy khuyến khích bạn \
         ấy nói ngay với một người lớn tin cậy",
    );
    let en = danger_rule(
        Language::En,
        &[
            "{child_protection} (child protection)",
            "{medical} (medical emergency)",
            "{police} (police)",
        ],
        "- If the person is in danger or thinking of hurting themselves, encourage them to tell a \
         trusted adult now and to call",
        "- If the person is in danger or thinking of hurting themselves, encourage them to tell a \
         trusted adult now",
    );
    SYSTEM_PROMPT_TEMPLATE
        .replace("{hotlines_vi}", &vi)
        .replace("{hotlines_en}", &en)
}

fn session_hint(language: Language) -> &'static str {
    match language {
        Language::Vi => "Ngôn ngữ của phiên: tiếng Việt. / Session language: Vietnamese.",
        Language::En => "Ngôn ngữ của phiên: tiếng Anh. / Session language: English.",
    }
}

/// Builds the message list: the system prompt (from [`system_prompt`]), the last `context_turns`
/// turns of history, then the message exactly once.
pub(crate) fn build_messages<'a>(
    req: &'a ReplyRequest,
    context_turns: usize,
    system_prompt: &str,
) -> Vec<ChatMessage<'a>> {
    let mut history: &[crate::domain::Turn] = &req.history;
    // The contract says history excludes the message; a caller that appended it anyway must not make
    // the model see it twice.
    if let Some((last, earlier)) = history.split_last()
        && last.role == Role::User
        && last.content.trim() == req.message.trim()
    {
        history = earlier;
    }
    let recent = &history[history.len().saturating_sub(context_turns)..];

    let mut messages = Vec::with_capacity(recent.len() + 2);
    messages.push(ChatMessage {
        role: "system",
        content: format!("{system_prompt}\n\n{}", session_hint(req.language)).into(),
    });
    for turn in recent.iter().filter(|turn| !turn.content.trim().is_empty()) {
        messages.push(ChatMessage {
            role: turn.role.as_str(),
            content: turn.content.as_str().into(),
        });
    }
    messages.push(ChatMessage {
        role: "user",
        content: req.message.as_str().into(),
    });
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crisis::HotlineRole;
    use crate::crisis::hotlines::tests::{operator_lines, shipped, without};
    use crate::domain::Turn;

    fn turn(role: Role, content: &str) -> Turn {
        Turn {
            role,
            content: content.to_owned(),
        }
    }

    #[test]
    fn keeps_the_last_turns_and_sends_the_message_once() {
        let req = ReplyRequest {
            language: Language::Vi,
            message: "m3".to_owned(),
            history: vec![
                turn(Role::User, "m1"),
                turn(Role::Assistant, "a1"),
                turn(Role::User, "m2"),
                turn(Role::Assistant, "a2"),
                turn(Role::User, "m3"),
            ],
            variation: 0,
        };
        let messages = build_messages(&req, 3, &system_prompt(&shipped()));
        let roles: Vec<_> = messages.iter().map(|m| m.role).collect();
        let contents: Vec<_> = messages
            .iter()
            .skip(1)
            .map(|m| m.content.as_ref())
            .collect();
        assert_eq!(roles, ["system", "assistant", "user", "assistant", "user"]);
        assert_eq!(contents, ["a1", "m2", "a2", "m3"]);
        assert!(messages[0].content.contains("111"));
        assert!(messages[0].content.contains("tiếng Việt"));
    }

    #[test]
    fn zero_context_sends_only_system_and_message() {
        let req = ReplyRequest {
            language: Language::En,
            message: "hi".to_owned(),
            history: vec![turn(Role::User, "old"), turn(Role::Assistant, "reply")],
            variation: 0,
        };
        let messages = build_messages(&req, 0, &system_prompt(&shipped()));
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1].content, "hi");
    }

    #[test]
    fn the_prompt_names_the_configured_lines_by_role() {
        let prompt = system_prompt(&shipped());
        assert!(
            prompt.contains(
                "nói ngay với một người lớn tin cậy và gọi 111 (bảo vệ trẻ em), 115 (cấp cứu) \
                 hoặc 113 (công an)."
            ),
            "{prompt}"
        );
        assert!(
            prompt.contains(
                "tell a trusted adult now and to call 111 (child protection), 115 (medical \
                 emergency) or 113 (police)."
            ),
            "{prompt}"
        );
        assert!(!prompt.contains('{'), "{prompt}");

        let prompt = system_prompt(&operator_lines());
        for national in ["111", "113", "115"] {
            assert!(!prompt.contains(national), "{prompt}");
        }
        assert!(prompt.contains("0900 000 001 (child protection), 0900 000 002 (medical"));

        let prompt = system_prompt(&without(HotlineRole::Medical));
        assert!(
            prompt.contains("call 111 (child protection) or 113 (police)."),
            "{prompt}"
        );
        let others: Vec<_> = operator_lines()
            .into_iter()
            .filter(|h| h.role == HotlineRole::Other)
            .collect();
        let prompt = system_prompt(&others);
        assert!(
            prompt.contains("and to call 0900 000 004 (Line 0900 000 004)."),
            "{prompt}"
        );
        let prompt = system_prompt(&[]);
        assert!(prompt.contains("tell a trusted adult now.\n"), "{prompt}");
    }
}
