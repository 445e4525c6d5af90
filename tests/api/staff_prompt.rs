//! `cbln staff add` without `--password-stdin` asks for the password twice on the terminal, with
//! echo off. Run for real under a pseudo-terminal (util-linux `script`), answering each prompt as
//! it appears, the way a person would.

use crate::config_errors::cbln_binary;
use crate::staff_support::store_at;
use cbln_actors::crypto::{MasterKey, generate_secret_key};
use cbln_actors::staff::verify_password;
use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the whole exchange may take before the test gives up (a hang, not a speed limit).
const GIVE_UP: Duration = Duration::from_secs(60);

/// What a terminal session with `cbln` showed, and how it ended.
struct Transcript {
    code: Option<i32>,
    text: String,
}

/// Runs `cbln args` on a pseudo-terminal with `env`, typing each of `answers` once the prompt
/// before it (`prompts`, in order) has appeared.
fn on_terminal(args: &[&str], env: &[(&str, &str)], exchange: &[(&str, &str)]) -> Transcript {
    let command_line = std::iter::once(cbln_binary().display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args([
            "--quiet",
            "--return",
            "--flush",
            "--command",
            &command_line,
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let shown = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 512];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                shown.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        })
    };
    let text =
        |shown: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
    let deadline = Instant::now() + GIVE_UP;
    let mut stdin = child.stdin.take().expect("stdin");
    for (count, (prompt, answer)) in exchange.iter().enumerate() {
        // The prompt has appeared once per earlier identical prompt plus this one.
        let wanted = exchange[..=count]
            .iter()
            .filter(|(p, _)| p == prompt)
            .count();
        while text(&shown).matches(prompt).count() < wanted {
            assert!(
                Instant::now() < deadline,
                "no {prompt:?}; so far {:?}",
                text(&shown)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .expect("typed");
        stdin.flush().expect("typed");
    }
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cbln did not finish; so far {:?}", text(&shown));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    reader.join().expect("reader");
    Transcript {
        code: status.code(),
        text: text(&shown),
    }
}

#[actix_web::test]
async fn staff_add_asks_for_the_password_twice_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/prompt.db", dir.path().display());
    let (key, secret) = (MasterKey::generate().to_base64(), generate_secret_key());
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("ENCRYPTION_KEY", key.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    let add = ["staff", "add", "lan", "--role", "counsellor"];

    // Two different answers: refused, nothing stored, neither answer shown.
    let differ = on_terminal(
        &add,
        &env,
        &[
            ("Password: ", "Marker-first-password"),
            ("Password again: ", "Marker-second-password"),
        ],
    );
    assert_eq!(differ.code, Some(2), "{}", differ.text);
    assert!(
        differ.text.contains("the two passwords differ"),
        "{}",
        differ.text
    );
    assert!(
        !differ.text.contains("Marker-"),
        "echo is off: {}",
        differ.text
    );
    let store = store_at(&url).await;
    assert!(store.staff_by_username("lan").await.unwrap().is_none());

    // The same answer twice: the account is made with it, and it was never shown.
    let password = "Marker-typed-password";
    let same = on_terminal(
        &add,
        &env,
        &[("Password: ", password), ("Password again: ", password)],
    );
    assert_eq!(same.code, Some(0), "{}", same.text);
    assert!(same.text.contains("added counsellor lan"), "{}", same.text);
    assert!(!same.text.contains("Marker-"), "echo is off: {}", same.text);
    let lan = store
        .staff_by_username("lan")
        .await
        .unwrap()
        .expect("added");
    assert!(verify_password(password, &lan.password_hash));
    store.close().await;
}
