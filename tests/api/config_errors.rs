//! The real `cbln` binary with bad configuration: it stops before serving, with exit code 2 and
//! one line on stderr naming the setting (never its secret value). With no configuration at all
//! it runs on the embedded defaults and generates private development keys.

use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) fn cbln_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cbln"))
}

/// A `cbln` command with an empty environment except PATH, in `dir`.
pub(crate) fn cbln_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(cbln_binary());
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs `command` to completion (reading its output as it comes, so a full pipe never blocks
/// it), killing it and failing the test after `limit`.
pub(crate) fn run_with_limit(mut command: Command, limit: Duration) -> Output {
    use std::io::Read;
    let mut child = command.spawn().expect("cbln starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stdout.read_to_end(&mut buffer);
        buffer
    });
    let err = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stderr.read_to_end(&mut buffer);
        buffer
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = Output {
        status: status.unwrap_or_else(|| child.wait().expect("wait")),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    if status.is_none() {
        panic!(
            "cbln did not exit within {limit:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// Runs `cbln args…` in `dir` with `env` (and PATH only), at most 60 s.
pub(crate) fn cbln(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_with_limit(cbln_command(dir, args, env), Duration::from_secs(60))
}

pub(crate) fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts exit code 2 and exactly one stderr line, containing every `wanted` text; returns it.
fn refused(output: &Output, wanted: &[&str]) -> String {
    let stderr = stderr_of(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected exit code 2\nstdout: {}\nstderr: {stderr}",
        stdout_of(output)
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr, got {}:\n{stderr}",
        lines.len()
    );
    for text in wanted {
        assert!(
            lines[0].contains(text),
            "stderr does not name {text:?}: {stderr}"
        );
    }
    lines[0].to_string()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

const MIGRATE_STATUS: &[&str] = &["migrate", "status"];

/// Runs `cbln migrate status` with `env` in a fresh directory and asserts it refused, naming
/// every `wanted` text; returns the line.
fn status_refused(env: &[(&str, &str)], wanted: &[&str]) -> String {
    refused(&cbln(temp_dir().path(), MIGRATE_STATUS, env), wanted)
}

/// Asserts `cbln migrate status` with `env` in `dir` succeeds.
fn status_accepted(dir: &Path, env: &[(&str, &str)]) {
    let output = cbln(dir, MIGRATE_STATUS, env);
    assert!(output.status.success(), "{}", stderr_of(&output));
}

/// Writes `text` as `file` into the folder `dir/my-config`; returns the folder's path.
fn config_file(dir: &Path, file: &str, text: &str) -> String {
    let config = dir.join("my-config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join(file), text).unwrap();
    config.display().to_string()
}

/// Runs `cbln migrate status` in `dir` with `text` as its `development.toml` and asserts it
/// refused, naming every `wanted` text.
fn config_file_refused(dir: &Path, text: &str, wanted: &[&str]) {
    let config = config_file(dir, "development.toml", text);
    let output = cbln(dir, MIGRATE_STATUS, &[("CBLN_CONFIG_DIR", config.as_str())]);
    refused(&output, wanted);
}

/// A full set of valid keys, so each test varies exactly one thing.
fn valid_keys() -> (String, String) {
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let secret = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    (key, secret)
}

#[test]
fn an_unsupported_database_url_is_refused() {
    let database_named = |line: String| {
        assert!(
            line.contains("database.url") || line.contains("DATABASE_URL"),
            "{line}"
        )
    };
    database_named(status_refused(&[("DATABASE_URL", "mysql://x")], &[]));
    // Refused before serving: the same through `serve`, which must not start listening.
    let output = cbln(
        temp_dir().path(),
        &["serve"],
        &[("DATABASE_URL", "mysql://x"), ("CBLN__SERVER__PORT", "0")],
    );
    database_named(refused(&output, &[]));
}

#[test]
fn an_encryption_key_of_31_bytes_is_refused_without_echoing_it() {
    let dir = temp_dir();
    let key = base64::engine::general_purpose::STANDARD.encode([0x5au8; 31]);
    let (_, secret) = valid_keys();
    let output = cbln(
        dir.path(),
        &["serve"],
        &[
            ("ENCRYPTION_KEY", key.as_str()),
            ("SECRET_KEY", secret.as_str()),
            ("CBLN__SERVER__PORT", "0"),
        ],
    );
    let line = refused(&output, &["ENCRYPTION_KEY"]);
    assert!(line.contains("31"), "says what is wrong (31 bytes): {line}");
    let everything = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        !everything.contains(&key),
        "the key text is printed: {everything}"
    );
    assert!(
        !everything.contains(&key[..20]),
        "part of the key is printed"
    );
}

#[test]
fn an_unknown_environment_is_refused() {
    status_refused(&[("CBLN_ENV", "staging")], &["CBLN_ENV"]);
}

#[test]
fn an_unknown_setting_in_the_environment_is_refused() {
    status_refused(&[("CBLN__SERVER__PROT", "1")], &["server.prot"]);
}

#[test]
fn an_unparseable_port_is_refused() {
    let line = status_refused(&[("CBLN__SERVER__PORT", "abc")], &["server.port"]);
    assert!(!line.contains("server.prot"));
}

#[test]
fn an_unknown_key_in_a_config_file_is_refused() {
    let dir = temp_dir();
    config_file_refused(
        dir.path(),
        "[janitor]\nsweep_intervall_minutes = 5\n",
        &["janitor.sweep_intervall_minutes"],
    );

    // The same directory with a valid file is accepted (the directory is really read).
    let config = config_file(
        dir.path(),
        "development.toml",
        "[janitor]\nsweep_interval_minutes = 5\n",
    );
    status_accepted(dir.path(), &[("CBLN_CONFIG_DIR", config.as_str())]);
}

#[test]
fn a_hotline_with_an_unknown_role_is_refused() {
    let dir = temp_dir();
    let shipped = std::fs::read_to_string(crate::helpers::config_dir().join("hotlines.toml"))
        .expect("config/hotlines.toml");
    let config = config_file(
        dir.path(),
        "hotlines.toml",
        &shipped.replacen("role = \"police\"", "role = \"helpline\"", 1),
    );
    let output = cbln(
        dir.path(),
        &["serve"],
        &[
            ("CBLN_CONFIG_DIR", config.as_str()),
            ("CBLN__SERVER__PORT", "0"),
        ],
    );
    refused(&output, &["crisis.hotlines_file", "helpline"]);
}

#[test]
fn an_enabled_crisis_judge_without_an_http_url_is_refused() {
    let dir = temp_dir();
    let url = ("CBLN__CRISIS__JUDGE__BASE_URL", "localhost:11434/v1");
    let output = cbln(
        dir.path(),
        MIGRATE_STATUS,
        &[("CBLN__CRISIS__JUDGE__ENABLED", "true"), url],
    );
    refused(&output, &["crisis.judge.base_url"]);

    // Switched off, the same setting is left alone.
    status_accepted(dir.path(), &[url]);
}

#[test]
fn an_unknown_crisis_judge_setting_in_a_config_file_is_refused() {
    config_file_refused(
        temp_dir().path(),
        "[crisis.judge]\nenabled = false\ntimeout = 900\n",
        &["crisis.judge.timeout"],
    );
}

#[test]
fn production_without_keys_refuses_to_start() {
    let dir = temp_dir();
    let output = cbln(
        dir.path(),
        &["serve"],
        &[("CBLN_ENV", "production"), ("CBLN__SERVER__PORT", "0")],
    );
    let line = refused(&output, &[]);
    assert!(
        line.contains("ENCRYPTION_KEY") || line.contains("SECRET_KEY"),
        "{line}"
    );
    assert!(
        !dir.path().join("data/encryption.key").exists()
            && !dir.path().join("data/secret.key").exists(),
        "production must never generate keys"
    );
    assert!(
        !dir.path().join("data/cbln.db").exists(),
        "a refused production start must not create or migrate a database first"
    );
}

#[test]
fn with_no_configuration_the_embedded_default_is_used() {
    let dir = temp_dir();
    let output = cbln(dir.path(), &["migrate", "status"], &[]);
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        stdout_of(&output),
        stderr_of(&output)
    );
    assert!(
        dir.path().join("data").is_dir(),
        "./data/ is created by the embedded default"
    );
    assert!(dir.path().join("data/cbln.db").is_file());
    let stdout = stdout_of(&output);
    assert!(stdout.contains("pending"), "{stdout}");
}

#[test]
fn generated_development_keys_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let mut child = cbln_command(dir.path(), &["serve"], &[("CBLN__SERVER__PORT", "0")])
        .spawn()
        .expect("cbln serve starts");
    let secret = dir.path().join("data/secret.key");
    let encryption = dir.path().join("data/encryption.key");
    // stderr is read as it comes, so the server is stopped only after it said what it did: the
    // log writer may still hold the warning when the key files appear.
    let stderr_pipe = child.stderr.take().expect("stderr is piped");
    let mut stdout_pipe = child.stdout.take().expect("stdout is piped");
    let drain = std::thread::spawn(move || std::io::copy(&mut stdout_pipe, &mut std::io::sink()));
    let collected = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let collected = collected.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr_pipe)
                .lines()
                .map_while(Result::ok)
            {
                let mut all = collected.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        })
    };
    let warned = || collected.lock().unwrap().contains("encryption.key");
    let started = Instant::now();
    let mut exited = None;
    while !(secret.is_file() && encryption.is_file() && warned())
        && started.elapsed() < Duration::from_secs(20)
    {
        if let Some(status) = child.try_wait().expect("wait") {
            exited = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let still_running = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    reader
        .join()
        .expect("the stderr reader ends with the process");
    let _ = drain.join();
    let stderr = collected.lock().unwrap().clone();
    assert!(
        exited.is_none() && still_running,
        "cbln serve exited early: {exited:?}\n{stderr}"
    );
    for file in [&secret, &encryption] {
        assert!(
            file.is_file(),
            "{} was not generated\n{stderr}",
            file.display()
        );
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
    }
    let key_text = std::fs::read_to_string(&encryption).unwrap();
    assert!(!key_text.trim().is_empty());
    assert!(
        stderr.contains("encryption.key") && stderr.to_lowercase().contains("generated"),
        "a warning says keys were generated: {stderr}"
    );
    assert!(
        !stderr.contains(key_text.trim()),
        "the generated key is printed"
    );
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    assert!(!stderr.contains(secret_text.trim()));
}

/// The janitor's sweep for messages left without a reply: a zero interval would spin, a zero
/// grace would answer messages whose reply is still being written, and a value that is not a
/// whole number of seconds cannot be read; each stops startup with a line naming the setting.
#[test]
fn orphan_settings_that_are_zero_or_not_seconds_are_refused_by_name() {
    for (variable, setting) in [
        (
            "CBLN__JANITOR__ORPHAN_SWEEP_INTERVAL_S",
            "janitor.orphan_sweep_interval_s",
        ),
        ("CBLN__JANITOR__ORPHAN_GRACE_S", "janitor.orphan_grace_s"),
    ] {
        status_refused(&[(variable, "0")], &[setting, "must be greater than 0"]);
        for value in ["two minutes", "-1"] {
            status_refused(&[(variable, value)], &[setting]);
        }
    }
}

#[test]
fn a_night_hour_past_23_is_refused() {
    status_refused(
        &[("CBLN__SESSION__NIGHT_START_HOUR", "24")],
        &["session.night_start_hour", "between 0 and 23"],
    );
}
