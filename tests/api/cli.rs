//! The `cbln` maintenance commands through the real binary, on a temporary SQLite database with
//! explicit keys.

use crate::config_errors::{cbln, cbln_command, run_with_limit, stderr_of, stdout_of};
use crate::helpers::{Backend, TestDatabase, count_at, spawn_app_on};
use cbln_actors::crypto::{MasterKey, generate_secret_key};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sqlx::Connection;
use std::io::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

/// `cbln keywords add` of one test rule, `test.x`.
const ADD_TEST_X: &[&str] = &[
    "keywords",
    "add",
    "--id",
    "test.x",
    "--pattern",
    "quả táo độc",
    "--category",
    "suicide",
    "--severity",
    "high",
];

/// A temporary working directory, a SQLite database in it and a full set of keys.
struct Cli {
    dir: tempfile::TempDir,
    url: String,
    encryption_key: String,
    secret_key: String,
}

impl Cli {
    fn new() -> Cli {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/cli.db", dir.path().display());
        Cli {
            dir,
            url,
            encryption_key: MasterKey::generate().to_base64(),
            secret_key: generate_secret_key(),
        }
    }

    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("DATABASE_URL", self.url.as_str()),
            ("ENCRYPTION_KEY", self.encryption_key.as_str()),
            ("SECRET_KEY", self.secret_key.as_str()),
        ]
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs and returns the output whatever the exit code.
    fn output(&self, args: &[&str]) -> Output {
        cbln(self.path(), args, &self.env())
    }

    /// Runs, requires success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.output(args);
        assert!(
            output.status.success(),
            "cbln {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
            output.status.code(),
            stdout_of(&output),
            stderr_of(&output)
        );
        stdout_of(&output)
    }

    /// Runs, requires exit code 2 (usage or configuration), returns stderr.
    fn usage_error(&self, args: &[&str]) -> String {
        let output = self.output(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "cbln {args:?}: expected exit code 2\nstdout: {}\nstderr: {}",
            stdout_of(&output),
            stderr_of(&output)
        );
        stderr_of(&output)
    }

    /// Runs with `input` on stdin and returns the output whatever the exit code.
    fn output_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut command = cbln_command(self.path(), args, &self.env());
        command.stdin(Stdio::piped());
        let mut child = command.spawn().expect("cbln starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writes stdin");
        child.wait_with_output().expect("output")
    }

    fn with_stdin(&self, args: &[&str], input: &str) -> Output {
        let output = self.output_with_stdin(args, input);
        assert!(
            output.status.success(),
            "cbln {args:?} failed\nstdout: {}\nstderr: {}",
            stdout_of(&output),
            stderr_of(&output)
        );
        output
    }

    async fn count(&self, sql: &'static str) -> i64 {
        count_at(&self.url, sql).await
    }
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|line| line.contains(needle)).collect()
}

#[actix_web::test]
async fn seed_is_idempotent_and_keywords_are_managed() {
    let cli = Cli::new();
    let first = cli.ok(&["seed"]);
    let inserted: u64 = first
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("`inserted N …` expected: {first}"));
    assert!(inserted > 10, "{first}");
    let second = cli.ok(&["seed"]);
    assert!(second.starts_with("inserted 0 "), "{second}");
    assert_eq!(
        cli.count("SELECT COUNT(*) FROM blocked_keywords").await,
        inserted as i64
    );

    let list = cli.ok(&["keywords", "list"]);
    assert!(list.contains("tự tử"), "{list}");
    assert_eq!(list.lines().count() as u64, inserted, "one line per rule");

    let added = cli.ok(ADD_TEST_X);
    assert!(added.contains("test.x"), "{added}");
    let list = cli.ok(&["keywords", "list"]);
    let row = lines_with(&list, "test.x");
    assert_eq!(row.len(), 1, "{list}");
    assert!(
        row[0].contains("quả táo độc") && row[0].contains("suicide") && row[0].contains("high"),
        "{}",
        row[0]
    );
    // The new rule is used by the scanner (rules come from the database).
    let output = cli.with_stdin(&["crisis", "scan"], "mình sẽ ăn quả táo độc tối nay\n");
    let verdict: Value = serde_json::from_str(stdout_of(&output).trim()).expect("JSON line");
    assert_eq!(verdict["is_crisis"], true, "{verdict}");

    let duplicate = cli.usage_error(ADD_TEST_X);
    assert!(duplicate.contains("test.x"), "{duplicate}");
    let bad_kind = cli.usage_error(&[
        "keywords",
        "add",
        "--id",
        "test.y",
        "--pattern",
        "quả lê",
        "--category",
        "suicide",
        "--severity",
        "high",
        "--kind",
        "bogus",
    ]);
    assert!(bad_kind.contains("kind"), "{bad_kind}");
    cli.usage_error(&[
        "keywords",
        "add",
        "--id",
        "test.z",
        "--pattern",
        "quả mận",
        "--category",
        "suicide",
        "--severity",
        "apocalyptic",
    ]);
    assert_eq!(
        cli.count("SELECT COUNT(*) FROM blocked_keywords WHERE rule_id IN ('test.y', 'test.z')")
            .await,
        0,
        "refused rules are not stored"
    );

    let disabled = cli.ok(&["keywords", "disable", "test.x"]);
    assert!(disabled.contains("test.x"), "{disabled}");
    let list = cli.ok(&["keywords", "list"]);
    assert!(lines_with(&list, "test.x").is_empty(), "{list}");
    let all = cli.ok(&["keywords", "list", "--all"]);
    let row = lines_with(&all, "test.x");
    assert_eq!(row.len(), 1);
    assert!(row[0].contains("disabled"), "{}", row[0]);
    let output = cli.with_stdin(&["crisis", "scan"], "mình sẽ ăn quả táo độc tối nay\n");
    let verdict: Value = serde_json::from_str(stdout_of(&output).trim()).expect("JSON line");
    assert_eq!(
        verdict["is_crisis"], false,
        "a disabled rule no longer matches: {verdict}"
    );

    let unknown = cli.usage_error(&["keywords", "disable", "no.such.rule"]);
    assert!(unknown.contains("no.such.rule"), "{unknown}");
    cli.usage_error(&["keywords", "enable", "no.such.rule"]);
    cli.ok(&["keywords", "enable", "test.x"]);
    let reload = cli.ok(&["keywords", "reload"]);
    assert!(reload.contains("fingerprint"), "{reload}");
}

#[actix_web::test]
async fn crisis_scan_reads_one_message_per_line() {
    let cli = Cli::new();
    cli.ok(&["seed"]);
    let nfc = "mình muốn tự tử";
    let nfd = "mi\u{300}nh muo\u{302}\u{301}n tu\u{31b}\u{323} tu\u{31b}\u{309}";
    assert_ne!(
        nfc.as_bytes(),
        nfd.as_bytes(),
        "the NFD line really differs"
    );
    let input = format!("{nfc}\nmệt chết đi được\n{nfd}\n");

    let output = cli.with_stdin(&["crisis", "scan"], &input);
    let stdout = stdout_of(&output);
    let verdicts: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(verdicts.len(), 3, "{stdout}");
    assert_eq!(verdicts[0]["is_crisis"], true, "{stdout}");
    assert_eq!(verdicts[1]["is_crisis"], false, "hyperbole: {stdout}");
    assert_eq!(verdicts[2]["is_crisis"], true, "NFD input: {stdout}");
    assert!(
        verdicts[0]["categories"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "suicide")),
        "{stdout}"
    );
    assert!(verdicts[0].get("hits").is_none());

    let output = cli.with_stdin(&["crisis", "scan", "--explain"], &input);
    let stdout = stdout_of(&output);
    let explained: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(explained.len(), 3);
    for (index, explanation) in explained.iter().enumerate() {
        assert_eq!(explanation["is_crisis"], verdicts[index]["is_crisis"]);
    }
    let hits = explained[0]["rules"].as_array().expect("rules");
    assert!(
        hits.iter()
            .any(|hit| hit["rule_id"].as_str().is_some_and(|id| !id.is_empty())),
        "--explain names the rules: {stdout}"
    );
    let model = &explained[0]["model"];
    assert!(
        model["probabilities"]["suicide"]
            .as_f64()
            .is_some_and(|p| p > 0.5),
        "--explain gives the model's probabilities: {stdout}"
    );
    let features = model["strongest_features"].as_array().expect("features");
    assert!(
        !features.is_empty(),
        "--explain names the strongest features: {stdout}"
    );
    assert_eq!(
        (&explained[0]["safety_step"], &explained[0]["step_source"]),
        (&Value::Bool(false), &Value::Null),
        "a wish to die names no safety step: {stdout}"
    );
    // Someone already with the writer is a step the rule phrases name.
    let output = cli.with_stdin(
        &["crisis", "scan", "--explain"],
        "mình đã gọi cho mẹ, mẹ đang ngồi cạnh mình rồi\n",
    );
    let step: Value = serde_json::from_str(stdout_of(&output).trim()).expect("JSON line");
    assert_eq!(
        (&step["safety_step"], step["step_source"].as_str()),
        (&Value::Bool(true), Some("rules")),
        "{step}"
    );

    // Without seeded rules the scan refuses clearly (and --defaults works anyway).
    let empty = Cli::new();
    empty.ok(&["migrate", "up"]);
    let output = empty.output(&["crisis", "scan"]);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("seed"),
        "{}",
        stderr_of(&output)
    );
    let output = empty.with_stdin(&["crisis", "scan", "--defaults"], &format!("{nfc}\n"));
    assert!(stdout_of(&output).contains("\"is_crisis\":true"));
}

#[actix_web::test]
async fn reset_needs_confirmation_and_is_refused_in_production() {
    let cli = Cli::new();
    cli.ok(&["seed"]);
    let rules = cli.count("SELECT COUNT(*) FROM blocked_keywords").await;
    assert!(rules > 0);

    let refused = cli.usage_error(&["reset"]);
    assert!(refused.contains("--yes"), "{refused}");
    assert_eq!(
        cli.count("SELECT COUNT(*) FROM blocked_keywords").await,
        rules,
        "data intact"
    );

    let mut env = cli.env();
    env.push(("CBLN_ENV", "production"));
    let output = cbln(cli.path(), &["reset", "--yes"], &env);
    assert_eq!(
        output.status.code(),
        Some(2),
        "production reset must be refused\nstdout: {}\nstderr: {}",
        stdout_of(&output),
        stderr_of(&output)
    );
    assert!(stderr_of(&output).contains("production"));
    assert_eq!(
        cli.count("SELECT COUNT(*) FROM blocked_keywords").await,
        rules,
        "data intact after the refused production reset"
    );

    // stdin is not a terminal here, so --yes is the whole confirmation.
    let reset = cli.ok(&["reset", "--yes"]);
    assert!(reset.contains("blocked_keywords"), "{reset}");
    for table in [
        "SELECT COUNT(*) FROM blocked_keywords",
        "SELECT COUNT(*) FROM sessions",
        "SELECT COUNT(*) FROM messages",
    ] {
        assert_eq!(cli.count(table).await, 0, "{table}");
    }
    // The schema stays: seeding works again.
    let again = cli.ok(&["seed"]);
    assert!(!again.starts_with("inserted 0 "), "{again}");
}

/// One of each other kind the sweep removes, all past their time: an idempotency key (of no
/// session, so no session's deletion takes it), a staff token, and a handoff of `session_id`
/// ended long ago whose key and entry are still there.
async fn seed_expired_kinds(connection: &mut sqlx::SqliteConnection, session_id: uuid::Uuid) {
    const LONG_AGO: &str = "2001-01-01T00:00:00.000Z";
    let staff_id = uuid::Uuid::new_v4();
    let handoff_id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO idempotency_keys (key_hash, request_hash, lease_until, expires_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(vec![1u8; 32])
    .bind(vec![2u8; 32])
    .bind(LONG_AGO)
    .bind(LONG_AGO)
    .execute(&mut *connection)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO staff (id, username, role, password_hash) VALUES (?, 'gone', 'counsellor', 'x')",
    )
    .bind(staff_id)
    .execute(&mut *connection)
    .await
    .unwrap();
    sqlx::query("INSERT INTO staff_tokens (token_hash, staff_id, expires_at) VALUES (?, ?, ?)")
        .bind(vec![3u8; 32])
        .bind(staff_id)
        .bind(LONG_AGO)
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO handoffs (id, session_id, status, share, language, closed_at, outcome, \
         shred_after) VALUES (?, ?, 'closed', 'none', 'vi', ?, 'resolved', ?)",
    )
    .bind(handoff_id)
    .bind(session_id)
    .bind(LONG_AGO)
    .bind(LONG_AGO)
    .execute(&mut *connection)
    .await
    .unwrap();
    sqlx::query("INSERT INTO handoff_keys (handoff_id, key_id, wrapped_key) VALUES (?, 1, ?)")
        .bind(handoff_id)
        .bind(vec![4u8; 60])
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO handoff_entries (id, handoff_id, seq, role, content) \
         VALUES (?, ?, 1, 'note', ?)",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(handoff_id)
    .bind(vec![5u8; 40])
    .execute(&mut *connection)
    .await
    .unwrap();
}

#[actix_web::test]
async fn check_storage_reports_and_cleanup_deletes_expired_sessions() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let url = database.url.clone();
    let cli = Cli::new();
    let (key, secret) = (cli.encryption_key.clone(), cli.secret_key.clone());
    let app = spawn_app_on(database, move |s| {
        s.security.encryption_key = SecretString::from(key);
        s.security.secret_key = SecretString::from(secret);
    })
    .await;
    let doomed = app.create_session().await;
    let (status, _) = app.send_message(&doomed, "phiên này sẽ hết hạn").await;
    assert_eq!(status, 201);
    let keeper = app.create_session().await;
    let (status, _) = app.send_message(&keeper, "phiên này còn hạn").await;
    assert_eq!(status, 201);
    let doomed_id = app.history(&doomed).await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let keeper_id = app.history(&keeper).await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let database = app.stop().await;

    let env = [
        ("DATABASE_URL", url.as_str()),
        ("ENCRYPTION_KEY", cli.encryption_key.as_str()),
        ("SECRET_KEY", cli.secret_key.as_str()),
    ];
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let id = uuid::Uuid::parse_str(&doomed_id).unwrap();
    let expired = sqlx::query("UPDATE sessions SET expires_at = ? WHERE id = ?")
        .bind("2001-01-01T00:00:00.000Z")
        .bind(id)
        .execute(&mut connection)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(expired, 1);
    seed_expired_kinds(&mut connection, uuid::Uuid::parse_str(&keeper_id).unwrap()).await;

    let output = cbln(cli.path(), &["check-storage"], &env);
    let report = stdout_of(&output);
    assert!(output.status.success(), "{report}{}", stderr_of(&output));
    assert!(report.contains("reachable"), "{report}");
    assert!(report.contains("sessions past expiry"), "{report}");
    let expiry_line = lines_with(&report, "sessions past expiry");
    assert!(expiry_line[0].trim_end().ends_with(": 1"), "{report}");
    let row = |table: &str| -> Option<i64> {
        report
            .lines()
            .find(|line| line.split_whitespace().next() == Some(table))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
    };
    assert_eq!(row("sessions"), Some(2), "{report}");
    assert_eq!(row("messages"), Some(4), "{report}");
    assert_eq!(row("session_keys"), Some(2), "{report}");

    let output = cbln(cli.path(), &["cleanup"], &env);
    let cleaned = stdout_of(&output);
    assert!(output.status.success(), "{cleaned}{}", stderr_of(&output));
    assert!(cleaned.contains("deleted 1 expired session"), "{cleaned}");
    // Every kind the sweep removes is said, with what it removed, not only sessions and snapshots.
    for kind in [
        "1 idempotency key(s)",
        "1 staff token(s)",
        "shredded 1 ended handoff(s)",
    ] {
        assert!(cleaned.contains(kind), "{kind}: {cleaned}");
    }
    let count = |sql: &'static str| {
        let url = url.clone();
        async move {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM messages").await, 2);
    assert_eq!(count("SELECT COUNT(*) FROM session_keys").await, 1);

    assert_eq!(count("SELECT COUNT(*) FROM idempotency_keys").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM staff_tokens").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM handoff_keys").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM handoff_entries").await, 0);

    let output = cbln(cli.path(), &["cleanup"], &env);
    let again = stdout_of(&output);
    for kind in [
        "deleted 0 expired session",
        "0 idempotency key(s)",
        "0 staff token(s)",
        "shredded 0 ended handoff(s)",
    ] {
        assert!(again.contains(kind), "{kind}: {again}");
    }
    let output = cbln(cli.path(), &["check-storage"], &env);
    let report = stdout_of(&output);
    assert!(
        lines_with(&report, "sessions past expiry")[0]
            .trim_end()
            .ends_with(": 0"),
        "{report}"
    );
    drop(database);
}

#[actix_web::test]
async fn keys_rotate_rewraps_every_data_key() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let url = database.url.clone();
    let old_key = MasterKey::generate().to_base64();
    let new_key = MasterKey::generate().to_base64();
    let secret = generate_secret_key();
    let (k, s) = (old_key.clone(), secret.clone());
    let app = spawn_app_on(database, move |settings| {
        settings.security.encryption_key = SecretString::from(k);
        settings.security.secret_key = SecretString::from(s);
    })
    .await;
    let mut tokens = Vec::new();
    for i in 0..3 {
        let token = app.create_session().await;
        let (status, _) = app
            .send_message(&token, &format!("tin nhắn trước khi xoay khóa số {i}"))
            .await;
        assert_eq!(status, 201);
        tokens.push(token);
    }
    let database = app.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("ENCRYPTION_KEY", new_key.as_str()),
        ("ENCRYPTION_KEYS_PREVIOUS", old_key.as_str()),
        ("SECRET_KEY", secret.as_str()),
    ];
    let output = cbln(dir.path(), &["keys", "rotate"], &env);
    let first = stdout_of(&output);
    assert!(output.status.success(), "{first}{}", stderr_of(&output));
    assert!(first.contains("re-wrapped 3"), "{first}");
    assert!(first.contains("failed 0"), "{first}");
    let output = cbln(dir.path(), &["keys", "rotate"], &env);
    let second = stdout_of(&output);
    assert!(output.status.success(), "{second}");
    assert!(
        second.contains("re-wrapped 0") && second.contains("already current 3"),
        "{second}"
    );
    let everything = format!("{first}{second}{}", stderr_of(&output));
    assert!(!everything.contains(&new_key) && !everything.contains(&old_key));

    // Rotating without the old key listed cannot unwrap anything: it fails, naming no key text.
    let other = MasterKey::generate().to_base64();
    let output = cbln(
        dir.path(),
        &["keys", "rotate"],
        &[
            ("DATABASE_URL", url.as_str()),
            ("ENCRYPTION_KEY", other.as_str()),
            ("SECRET_KEY", secret.as_str()),
        ],
    );
    assert!(!output.status.success(), "{}", stdout_of(&output));

    // A server with ONLY the new key reads the messages written before the rotation.
    let (k, s) = (new_key.clone(), secret.clone());
    let app = spawn_app_on(database, move |settings| {
        settings.security.encryption_key = SecretString::from(k);
        settings.security.encryption_keys_previous = SecretString::from(String::new());
        settings.security.secret_key = SecretString::from(s);
    })
    .await;
    assert!(
        app.settings
            .security
            .encryption_keys_previous
            .expose_secret()
            .is_empty()
    );
    for (i, token) in tokens.iter().enumerate() {
        let history = app.history(token).await;
        assert_eq!(
            history["messages"][0]["content"],
            format!("tin nhắn trước khi xoay khóa số {i}"),
            "{history}"
        );
        assert!(history["messages"][0]["integrity_error"].is_null());
        // And the session keeps working under the new key.
        let (status, body) = app.send_message(token, "sau khi xoay khóa").await;
        assert_eq!(status, 201, "{body}");
    }
    app.stop().await;
}

/// `crisis train` writes a model from a corpus, deterministically; `crisis eval` measures it (or
/// the compiled-in one) per category, hard-negative kind, typing style and conversation pattern.
#[test]
fn crisis_train_and_eval_work_on_labelled_files() {
    let cli = Cli::new();
    let corpus = cli.path().join("corpus/w1");
    std::fs::create_dir_all(&corpus).unwrap();
    let mut tsv = String::from("label\tcategory\tstyle\ttext\n");
    for (label, kind, style, text) in [
        (
            "1",
            "suicide",
            "nfc",
            "mình muốn chết, tối nay mình uống hết thuốc ngủ",
        ),
        (
            "1",
            "abuse",
            "no_diacritics",
            "bo say ruou ve lai danh minh",
        ),
        ("0", "hyperbole", "teen_code", "mệt chết đi đc 😂"),
        ("0", "everyday", "nfc", "mai đi học sớm nha"),
    ] {
        tsv.push_str(&format!("{label}\t{kind}\t{style}\t{text}\n"));
    }
    std::fs::write(corpus.join("messages.tsv"), &tsv).unwrap();
    std::fs::write(
        corpus.join("conversations.jsonl"),
        r#"{"id":"c1","pattern":"joke_retraction","turns":[{"text":"tao muốn tự tử","risk":"crisis","category":"suicide","style":"nfc"},{"text":"đùa thôi 😂","risk":"crisis","category":"suicide","style":"nfc"}]}"#,
    )
    .unwrap();
    let other = cli.path().join("corpus/w2");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("messages.tsv"), &tsv).unwrap();

    let train = |out: &str| {
        cli.ok(&[
            "crisis", "train", "--corpus", "corpus", "--out", out, "--bits", "12", "--epochs", "5",
        ])
    };
    let report = train("a.bin");
    assert!(
        report.contains("from 2 writers") && report.contains("chosen:"),
        "{report}"
    );
    train("b.bin");
    let a = std::fs::read(cli.path().join("a.bin")).unwrap();
    assert_eq!(
        a,
        std::fs::read(cli.path().join("b.bin")).unwrap(),
        "training is deterministic"
    );

    let table = cli.ok(&["crisis", "eval", "corpus", "--model", "a.bin"]);
    for group in [
        "overall",
        "suicide",
        "hyperbole",
        "no_diacritics",
        "all turns",
        "joke_retraction",
    ] {
        assert!(table.contains(group), "{group} missing from\n{table}");
    }
    let shipped = cli.ok(&["crisis", "eval", "corpus/w1/messages.tsv"]);
    let overall = lines_with(&shipped, "overall");
    assert_eq!(overall.len(), 1, "{shipped}");
    assert!(
        overall[0].split_whitespace().nth(1) == Some("2"),
        "{shipped}"
    );

    let missing = cli.output(&["crisis", "eval", "no/such/dir"]);
    assert!(!missing.status.success());
    assert!(
        stderr_of(&missing).contains("no/such/dir"),
        "{}",
        stderr_of(&missing)
    );
}

#[actix_web::test]
async fn staff_accounts_are_managed() {
    use cbln_actors::persistence::Timestamp;
    use cbln_actors::staff::verify_password;
    let cli = Cli::new();
    let password = "a long enough password\n";

    // A short password, a bad role and a bad name are refused, and nothing is created.
    let short = cli.output_with_stdin(
        &[
            "staff",
            "add",
            "lan",
            "--role",
            "counsellor",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_eq!(short.status.code(), Some(2), "{}", stderr_of(&short));
    assert!(
        stderr_of(&short).contains("at least 12 characters"),
        "{}",
        stderr_of(&short)
    );
    let role = cli.usage_error(&["staff", "add", "lan", "--role", "root", "--password-stdin"]);
    assert!(role.contains("counsellor, supervisor or admin"), "{role}");
    let name = cli.usage_error(&["staff", "add", "lân", "--role", "admin", "--password-stdin"]);
    assert!(name.contains("NAME"), "{name}");
    assert_eq!(cli.count("SELECT COUNT(*) FROM staff").await, 0);

    let added = cli.with_stdin(
        &[
            "staff",
            "add",
            "Lan",
            "--role",
            "counsellor",
            "--password-stdin",
        ],
        password,
    );
    assert_eq!(stdout_of(&added).trim(), "added counsellor lan");
    cli.with_stdin(
        &["staff", "add", "an", "--role", "admin", "--password-stdin"],
        password,
    );
    let again = cli.output_with_stdin(
        &["staff", "add", "lan", "--role", "admin", "--password-stdin"],
        password,
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr_of(&again).contains("exists"),
        "{}",
        stderr_of(&again)
    );
    let list = cli.ok(&["staff", "list"]);
    let lines: Vec<Vec<&str>> = list
        .lines()
        .map(|line| line.split_whitespace().take(3).collect())
        .collect();
    assert_eq!(
        lines,
        vec![
            vec!["an", "admin", "enabled"],
            vec!["lan", "counsellor", "enabled"]
        ],
        "{list}"
    );

    let store = crate::staff_support::store_at(&cli.url).await;
    let lan = store.staff_by_username("lan").await.unwrap().unwrap();
    assert!(lan.password_hash.starts_with("$argon2id$"), "Argon2id");
    assert!(verify_password(
        "a long enough password",
        &lan.password_hash
    ));
    let sign_in = |hash: u8| {
        let store = store.clone();
        async move {
            let token_hash = cbln_actors::crypto::TokenHasher::new(&[hash; 32])
                .unwrap()
                .hash("token");
            store
                .insert_staff_token(
                    &token_hash,
                    lan.id,
                    Timestamp::now().plus(Duration::from_secs(3600)),
                    Timestamp::now(),
                )
                .await
                .unwrap();
        }
    };

    // Disabling ends every sign-in; enabling does not bring them back.
    sign_in(1).await;
    assert!(
        cli.ok(&["staff", "disable", "LAN"])
            .contains("disabled lan")
    );
    assert_eq!(cli.count("SELECT COUNT(*) FROM staff_tokens").await, 0);
    assert!(lines_with(&cli.ok(&["staff", "list"]), "lan")[0].contains("disabled"));
    assert!(cli.ok(&["staff", "enable", "lan"]).contains("enabled lan"));
    assert!(lines_with(&cli.ok(&["staff", "list"]), "lan")[0].contains("enabled"));

    // A new password replaces the old one and ends the sign-ins made with it.
    sign_in(2).await;
    cli.with_stdin(
        &["staff", "reset-password", "lan", "--password-stdin"],
        "another long password\n",
    );
    let lan_after = store.staff_by_username("lan").await.unwrap().unwrap();
    assert!(verify_password(
        "another long password",
        &lan_after.password_hash
    ));
    assert!(!verify_password(
        "a long enough password",
        &lan_after.password_hash
    ));
    assert_eq!(cli.count("SELECT COUNT(*) FROM staff_tokens").await, 0);
    store.close().await;

    for command in ["disable", "enable"] {
        let missing = cli.usage_error(&["staff", command, "nobody"]);
        assert!(missing.contains("no staff account"), "{missing}");
    }
    let missing = cli.output_with_stdin(
        &["staff", "reset-password", "nobody", "--password-stdin"],
        password,
    );
    assert_eq!(missing.status.code(), Some(2));
    // The password never reaches the output.
    let everything = format!("{}{}", stdout_of(&added), stderr_of(&added));
    assert!(!everything.contains("a long enough password"));
}

#[test]
fn help_is_available_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    // Every command and its subcommands, each asked for `--help`.
    let commands: [(&str, &[&str]); 12] = [
        ("serve", &[]),
        ("migrate", &["up", "down", "status"]),
        ("keys", &["rotate", "generate"]),
        ("keywords", &["list", "add", "disable", "enable", "reload"]),
        ("crisis", &["scan"]),
        (
            "staff",
            &["add", "list", "disable", "enable", "reset-password"],
        ),
        ("seed", &[]),
        ("reset", &[]),
        ("cleanup", &[]),
        ("check-storage", &[]),
        ("monitor", &[]),
        ("simulate", &[]),
    ];
    let mut invocations: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["help"],
        vec!["--version"],
        vec!["migrate", "help"],
        vec!["keywords", "help"],
        vec!["staff", "help"],
    ];
    for (command, subcommands) in commands {
        invocations.push(vec![command, "--help"]);
        for subcommand in subcommands {
            invocations.push(vec![command, subcommand, "--help"]);
        }
    }
    for args in &invocations {
        let output = run_with_limit(cbln_command(dir.path(), args, &[]), Duration::from_secs(20));
        assert_eq!(
            output.status.code(),
            Some(0),
            "cbln {args:?}\nstdout: {}\nstderr: {}",
            stdout_of(&output),
            stderr_of(&output)
        );
        assert!(
            !stdout_of(&output).trim().is_empty(),
            "cbln {args:?} printed nothing"
        );
    }
    let help = stdout_of(&cbln(dir.path(), &["--help"], &[]));
    for (command, _) in commands {
        assert!(help.contains(command), "--help does not list {command}");
    }
    // --help needs no configuration and touches nothing.
    assert!(!dir.path().join("data").exists());
    // An unknown subcommand is a usage error.
    let output = cbln(dir.path(), &["frobnicate"], &[]);
    assert_eq!(output.status.code(), Some(2));
    // `keys generate` prints a usable key.
    let output = cbln(dir.path(), &["keys", "generate"], &[]);
    assert!(output.status.success());
    assert!(MasterKey::parse(stdout_of(&output).trim()).is_ok());
}
