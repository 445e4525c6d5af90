//! The hotline list has one source: `config/hotlines.toml`, compiled in, or an operator's file
//! that replaces it. Whichever it is, the card, the replies and the model's system prompt name
//! exactly its numbers.

use crate::helpers::{Backend, config_dir, spawn_app_with};
use crate::mock_llm::{answer, provider_answering};
use cbln::config::ResponderProvider;
use cbln::startup::load_hotlines;
use cbln_actors::crisis::{
    Assessment, Category, Hotline, Severity, check_in_reply, crisis_card, safety_reply,
};
use cbln_actors::domain::Language;
use cbln_actors::responder::system_prompt;
use serde_json::Value;
use std::path::Path;

const NATIONAL: [&str; 3] = ["111", "113", "115"];

/// A test number for every role; the child-protection line is neither free nor open all day, so no
/// sentence may call it "free, 24/7".
const OPERATOR_FILE: &str = include_str!("../fixtures/operator_hotlines.toml");

const OPERATOR_NUMBERS: [&str; 3] = ["0900 000 001", "0900 000 002", "0900 000 003"];

fn crisis(category: Category, severity: Severity) -> Assessment {
    Assessment {
        is_crisis: true,
        categories: vec![category],
        severity: Some(severity),
        rule_ids: vec!["test.rule".to_owned()],
        ..Assessment::default()
    }
}

fn operator_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("hotlines.toml"), OPERATOR_FILE).expect("write hotlines");
    dir
}

/// Every text the list reaches: cards, safety replies, check-in replies and the system prompt.
fn everything_said(hotlines: &[Hotline]) -> Vec<String> {
    let mut texts = vec![system_prompt(hotlines)];
    for language in [Language::Vi, Language::En] {
        for category in Category::ALL {
            for severity in [Severity::Medium, Severity::High, Severity::Critical] {
                let assessment = crisis(category, severity);
                let card = crisis_card(&assessment, language, hotlines).expect("a card");
                texts.push(serde_json::to_string(&card).expect("card serialises"));
                texts.push(safety_reply(&assessment, language, hotlines));
            }
            for variation in 0..3 {
                texts.push(check_in_reply(category, language, hotlines, variation));
            }
        }
        let worried = Assessment {
            third_party: true,
            ..Assessment::default()
        };
        texts.push(safety_reply(&worried, language, hotlines));
        texts.push(safety_reply(&Assessment::default(), language, hotlines));
    }
    texts
}

#[test]
fn config_hotlines_card_is_the_same_with_or_without_a_config_dir() {
    let built_in = load_hotlines(Path::new("/nonexistent-config-dir"), "hotlines.toml")
        .expect("the compiled-in list loads");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        config_dir().join("hotlines.toml"),
        dir.path().join("hotlines.toml"),
    )
    .expect("copy config/hotlines.toml");
    let from_dir = load_hotlines(dir.path(), "hotlines.toml").expect("the copied file loads");
    assert_eq!(built_in, from_dir);
    let numbers: Vec<&str> = built_in.iter().map(|h| h.number.as_str()).collect();
    assert_eq!(numbers, ["111", "115", "113"]);

    for language in [Language::Vi, Language::En] {
        for category in Category::ALL {
            for severity in [Severity::Medium, Severity::High, Severity::Critical] {
                let assessment = crisis(category, severity);
                let a = crisis_card(&assessment, language, &built_in).expect("a card");
                let b = crisis_card(&assessment, language, &from_dir).expect("a card");
                assert_eq!(a, b, "{category:?} {severity:?} {language:?}");
                for number in NATIONAL {
                    assert!(
                        a.hotlines.iter().any(|h| h.number == number),
                        "{number} on the {category:?} card"
                    );
                }
            }
        }
    }
}

#[test]
fn config_hotlines_operator_file_replaces_every_number() {
    let dir = operator_dir();
    let hotlines = load_hotlines(dir.path(), "hotlines.toml").expect("the operator file loads");
    let numbers: Vec<&str> = hotlines.iter().map(|h| h.number.as_str()).collect();
    assert_eq!(numbers, OPERATOR_NUMBERS, "replaced, not merged");
    for text in everything_said(&hotlines) {
        for national in NATIONAL {
            assert!(!text.contains(national), "{national} in {text}");
        }
        assert!(
            OPERATOR_NUMBERS.iter().any(|n| text.contains(n)),
            "no configured number in {text}"
        );
    }
    let prompt = system_prompt(&hotlines);
    assert!(
        prompt.contains(
            "call 0900 000 001 (child protection), 0900 000 002 (medical emergency) or 0900 000 \
             003 (police)"
        ),
        "{prompt}"
    );
    let card = crisis_card(
        &crisis(Category::Abuse, Severity::High),
        Language::En,
        &hotlines,
    )
    .expect("a card");
    assert!(
        card.priority_message
            .ends_with("Call 0900 000 001 (8am–10pm)."),
        "the child line's own hours, not 'free, 24/7': {}",
        card.priority_message
    );
}

#[test]
fn config_hotlines_unknown_role_is_a_startup_error_naming_the_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = OPERATOR_FILE.replacen("role = \"police\"", "role = \"helpline\"", 1);
    std::fs::write(dir.path().join("hotlines.toml"), file).expect("write hotlines");
    let error = load_hotlines(dir.path(), "hotlines.toml").expect_err("refused");
    let message = error.to_string();
    assert_eq!(error.setting, "crisis.hotlines_file");
    assert!(message.contains("crisis.hotlines_file"), "{message}");
    assert!(message.contains("helpline"), "{message}");
    assert!(
        message.contains("child_protection") && message.contains("other"),
        "says which roles exist: {message}"
    );
    assert!(
        message.contains("hotlines.toml"),
        "names the file: {message}"
    );

    let missing = OPERATOR_FILE.replacen("role = \"medical\"\n", "", 1);
    std::fs::write(dir.path().join("hotlines.toml"), missing).expect("write hotlines");
    let error = load_hotlines(dir.path(), "hotlines.toml").expect_err("refused");
    assert!(error.to_string().contains("role"), "{error}");
}

/// The operator's file reaches the running server: the crisis card, the safety reply and the
/// system prompt sent to the model all carry its numbers.
#[actix_web::test]
async fn config_hotlines_operator_file_reaches_the_server_and_the_model() {
    let mock = provider_answering(answer("Mình nghe bạn. Điều gì làm bạn lo nhất?")).await;
    let dir = operator_dir();
    let file = dir.path().join("hotlines.toml").display().to_string();
    let base_url = format!("{}/v1", mock.uri());
    let app = spawn_app_with(Backend::Sqlite, move |s| {
        s.crisis.hotlines_file = file;
        s.responder.provider = ResponderProvider::Openai;
        s.responder.base_url = base_url;
        s.responder.model = "test-model".into();
    })
    .await;
    let token = app.create_session().await;

    app.sent(&token, "mình lo cho kỳ thi tuần sau").await;
    let requests = mock.received_requests().await.expect("recorded");
    let request: Value = serde_json::from_slice(&requests[0].body).expect("JSON body");
    let prompt = request["messages"][0]["content"].as_str().expect("prompt");
    for national in NATIONAL {
        assert!(
            !prompt.contains(national),
            "{national} in the prompt: {prompt}"
        );
    }
    assert!(prompt.contains("0900 000 002 (cấp cứu)"), "{prompt}");

    let body = app
        .sent(&token, "mình muốn chết, không muốn sống nữa")
        .await;
    let card = body["crisis_info"].to_string();
    let reply = body["ai_message"]["content"].as_str().expect("reply");
    for national in NATIONAL {
        assert!(!card.contains(national), "{national} on the card: {card}");
        assert!(
            !reply.contains(national),
            "{national} in the reply: {reply}"
        );
    }
    assert!(reply.contains("0900 000 002"), "{reply}");
    let listed: Vec<&str> = body["crisis_info"]["hotlines"]
        .as_array()
        .expect("hotlines")
        .iter()
        .filter_map(|h| h["number"].as_str())
        .collect();
    assert_eq!(listed, ["0900 000 002", "0900 000 001", "0900 000 003"]);
    app.stop().await;
}
