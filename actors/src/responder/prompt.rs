//! The system prompt and the chat-completions message list.

use super::ReplyRequest;
use crate::chat_completions::ChatMessage;
use crate::content;
use crate::crisis::Hotline;
use crate::crisis::hotlines::Numbers;
use crate::domain::{Language, Role};

/// The system prompt with the configured hotlines, by role (docs/safety/hotlines.md): the prompt
/// text of every language (`content/<language>.toml`, `[prompt]`), joined by a blank line, so
/// models that follow one language better still get the rules. Built once per responder: neither
/// the list nor the wording changes while the process runs.
pub fn system_prompt(hotlines: &[Hotline]) -> String {
    let parts: Vec<String> = content::LANGUAGES
        .into_iter()
        .map(|language| {
            let prompt = &content::wording(language).prompt;
            let numbers = Numbers::with_first_line(hotlines, language);
            let danger_rule = match numbers
                .or_list(&prompt.danger_rule_lines)
                .or_else(|| numbers.fallback_item())
            {
                Some(lines) => prompt.danger_rule.replace("{lines}", &lines),
                None => prompt.danger_rule_without_lines.clone(),
            };
            prompt.text.replace("{danger_rule}", &danger_rule)
        })
        .collect();
    parts.join("\n\n")
}

fn session_hint(language: Language) -> &'static str {
    &content::wording(language).prompt.session_hint
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
