//! Pins every text the service can say — crisis cards, safety replies, check-ins, the built-in
//! listener's replies, the system prompt — and the seed crisis rules, byte for byte, against golden
//! files written from the behaviour before the wording moved out of Rust into `content/`.
//!
//! A deliberate change of wording regenerates them: `CBLN_WRITE_GOLDEN=1 cargo test -p cbln-actors
//! --test wording_characterization`, then review the diff of `actors/tests/golden/` like any other
//! change of what the service says.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;
use std::path::PathBuf;

use cbln_actors::crisis::{
    Assessment, Category, Hotline, HotlineRole, Severity, check_in_reply, crisis_card,
    default_rules, parse_hotlines, safety_reply,
};
use cbln_actors::domain::{Language, Role, Turn};
use cbln_actors::responder::{BuiltInResponder, ReplyRequest, system_prompt};

const LANGUAGES: [Language; 2] = [Language::Vi, Language::En];
const SEVERITIES: [Severity; 3] = [Severity::Medium, Severity::High, Severity::Critical];

fn shipped() -> Vec<Hotline> {
    parse_hotlines(include_str!("../../config/hotlines.toml")).expect("shipped hotlines parse")
}

/// Made-up numbers for every role, one line not free, so `_terms` differs from the shipped list.
fn operator_lines() -> Vec<Hotline> {
    let text = r#"
[[hotline]]
role = "child_protection"
name_vi = "Đường dây 0900 000 001"
name_en = "Line 0900 000 001"
number = "0900 000 001"
available_vi = "8:00–22:00"
available_en = "8am–10pm"
free = false
priority = 1
description_vi = "d"
description_en = "d"

[[hotline]]
role = "medical"
name_vi = "Đường dây 0900 000 002"
name_en = "Line 0900 000 002"
number = "0900 000 002"
available_vi = "8:00–22:00"
available_en = "8am–10pm"
free = true
priority = 2
description_vi = "d"
description_en = "d"

[[hotline]]
role = "other"
name_vi = "Đường dây 0900 000 004"
name_en = "Line 0900 000 004"
number = "0900 000 004"
available_vi = "8:00–22:00"
available_en = "8am–10pm"
free = true
priority = 4
description_vi = "d"
description_en = "d"
"#;
    parse_hotlines(text).expect("operator hotlines parse")
}

fn without(role: HotlineRole) -> Vec<Hotline> {
    shipped().into_iter().filter(|h| h.role != role).collect()
}

fn only_other() -> Vec<Hotline> {
    operator_lines()
        .into_iter()
        .filter(|h| h.role == HotlineRole::Other)
        .collect()
}

fn lists() -> Vec<(&'static str, Vec<Hotline>)> {
    vec![
        ("shipped", shipped()),
        ("operator", operator_lines()),
        (
            "without child_protection",
            without(HotlineRole::ChildProtection),
        ),
        ("without medical", without(HotlineRole::Medical)),
        ("without police", without(HotlineRole::Police)),
        ("only other", only_other()),
    ]
}

fn crisis(categories: Vec<Category>, severity: Severity, rule_id: &str) -> Assessment {
    Assessment {
        is_crisis: true,
        categories,
        severity: Some(severity),
        rule_ids: vec![rule_id.to_owned()],
        ..Assessment::default()
    }
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn compare_with_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("CBLN_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("golden folder")).expect("golden folder");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).expect("golden file present");
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (e, a))| e != a)
            .map(|(i, (e, a))| format!("line {}:\nexpected: {e}\nactual:   {a}", i + 1))
            .unwrap_or_else(|| "one is a prefix of the other".to_owned());
        panic!("{name} differs from the golden file: {first_difference}");
    }
}

fn category_sets() -> Vec<Vec<Category>> {
    let mut sets: Vec<Vec<Category>> = Category::ALL.iter().map(|c| vec![*c]).collect();
    sets.push(vec![Category::Abuse, Category::Suicide]);
    sets.push(vec![
        Category::Violence,
        Category::SelfHarm,
        Category::ThirdParty,
    ]);
    sets.push(vec![]);
    sets
}

#[test]
fn crisis_texts_are_unchanged() {
    let mut out = String::new();
    for (list_name, lines) in lists() {
        for language in LANGUAGES {
            let _ = writeln!(out, "#### {list_name} / {}", language.as_str());
            for categories in category_sets() {
                for severity in SEVERITIES {
                    // Two rule ids whose byte sums differ in parity pick both suicide openings.
                    for rule_id in ["a", "b"] {
                        let assessment = crisis(categories.clone(), severity, rule_id);
                        let card = crisis_card(&assessment, language, &lines);
                        let card = serde_json::to_string(&card).expect("card serialises");
                        let reply = safety_reply(&assessment, language, &lines);
                        let _ = writeln!(
                            out,
                            "## card {categories:?} {severity:?} {rule_id}\n{card}\n## reply\n{reply}"
                        );
                    }
                }
            }
            for category in Category::ALL {
                for variation in 0..4 {
                    let reply = check_in_reply(category, language, &lines, variation);
                    let _ = writeln!(out, "## check-in {category:?} {variation}\n{reply}");
                }
            }
            let worried_friend = Assessment {
                third_party: true,
                ..Assessment::default()
            };
            let _ = writeln!(
                out,
                "## worried friend\n{}\n## not a crisis\n{}",
                safety_reply(&worried_friend, language, &lines),
                safety_reply(&Assessment::default(), language, &lines)
            );
            let no_card = crisis_card(&Assessment::default(), language, &lines);
            let _ = writeln!(out, "## no card\n{no_card:?}");
        }
        let _ = writeln!(out, "## system prompt\n{}", system_prompt(&lines));
    }
    let _ = writeln!(out, "## system prompt, no lines\n{}", system_prompt(&[]));
    compare_with_golden("crisis_texts.txt", &out);
}

const LISTENER_MESSAGES: &[&str] = &[
    "Mai thi rồi mà mình chưa ôn được gì",
    "Bố mẹ mình suốt ngày cãi nhau",
    "Mình thấy cô đơn quá",
    "Mình vừa chia tay người yêu",
    "Dạo này áp lực quá, mệt mỏi lắm",
    "Hôm nay mình buồn lắm",
    "Mình bực bội với mọi thứ",
    "Mình lo lắng không yên",
    "Bài tập về nhà nhiều không làm nổi",
    "Mình bị bắt nạt ở trường",
    "Bạn bè trong lớp không chơi với mình nữa",
    "Mình mất ngủ cả tuần nay",
    "Mình thấy bản thân thật vô dụng",
    "I have an exam tomorrow and I haven't studied",
    "My parents keep yelling at each other",
    "I feel so lonely these days",
    "My girlfriend broke up with me",
    "I'm so stressed, there's too much going on",
    "I feel sad today",
    "I'm so angry right now",
    "I'm really anxious",
    "My homework never ends",
    "I'm getting bullied at school",
    "My best friend ignores me",
    "I can't sleep at night",
    "I feel worthless",
    "bạn là người hay máy?",
    "are you a bot?",
    "chào bạn",
    "hello",
    "cảm ơn nhé",
    "thanks",
    "thôi mình đi ngủ đây, tạm biệt",
    "ok bye",
    "ừ",
    "...",
    "hôm qua mình đi chơi với anh họ ở quê",
    "we went to the zoo",
];

#[test]
fn listener_replies_are_unchanged() {
    let responder = BuiltInResponder::new();
    let mut out = String::new();
    for message in LISTENER_MESSAGES {
        for language in LANGUAGES {
            let _ = writeln!(out, "## {message} / {}", language.as_str());
            let mut history: Vec<Turn> = Vec::new();
            for variation in 0..12 {
                let fresh = responder.reply(&ReplyRequest {
                    language,
                    message: (*message).to_owned(),
                    history: Vec::new(),
                    variation,
                });
                let followed = responder.reply(&ReplyRequest {
                    language,
                    message: (*message).to_owned(),
                    history: history.clone(),
                    variation,
                });
                let _ = writeln!(
                    out,
                    "{variation}: {}\n{variation}+: {}",
                    fresh.text, followed.text
                );
                history.push(Turn {
                    role: Role::User,
                    content: (*message).to_owned(),
                });
                history.push(Turn {
                    role: Role::Assistant,
                    content: followed.text,
                });
            }
        }
    }
    compare_with_golden("listener_replies.txt", &out);
}

#[test]
fn seed_rules_are_unchanged() {
    let mut out = String::new();
    for rule in default_rules() {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            rule.rule_id,
            rule.pattern,
            rule.kind.as_str(),
            rule.category,
            rule.severity.map(|s| s.as_str()).unwrap_or("-"),
            rule.language,
            rule.enabled
        );
    }
    compare_with_golden("seed_rules.tsv", &out);
}
