//! `cbln content check DIR` and `content.dir` through the real binary: the compiled-in folder
//! passes, a broken copy is refused with the file, the key and the problem, and startup refuses
//! to serve from it.

use std::path::{Path, PathBuf};

use crate::config_errors::{cbln, stderr_of, stdout_of};

fn content_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content")
}

/// A copy of the shipped folder with `edit` applied to `en.toml`.
fn broken_copy(into: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let copy = into.join("reviewed");
    std::fs::create_dir_all(&copy).unwrap();
    for file in ["vi.toml", "en.toml"] {
        let text = std::fs::read_to_string(content_dir().join(file)).unwrap();
        let text = if file == "en.toml" { edit(text) } else { text };
        std::fs::write(copy.join(file), text).unwrap();
    }
    copy
}

/// Runs `cbln content check folder` in `dir`; returns its exit code, stdout and stderr.
fn content_check(dir: &Path, folder: &Path) -> (Option<i32>, String, String) {
    let output = cbln(
        dir,
        &["content", "check", &folder.display().to_string()],
        &[],
    );
    (output.status.code(), stdout_of(&output), stderr_of(&output))
}

/// Runs `cbln content check` on a copy of the shipped folder with `edit` applied to `en.toml`
/// and the `removed` files deleted; asserts it refused (exit code 1) and returns stderr.
fn check_refuses_copy(edit: impl Fn(String) -> String, removed: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let copy = broken_copy(dir.path(), edit);
    for file in removed {
        std::fs::remove_file(copy.join(file)).unwrap();
    }
    let (code, _, stderr) = content_check(dir.path(), &copy);
    assert_eq!(code, Some(1), "{stderr}");
    stderr
}

#[test]
fn the_shipped_folder_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = content_check(dir.path(), &content_dir());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("ok: "), "{stdout}");
}

#[test]
fn a_missing_key_and_an_unknown_placeholder_are_refused_precisely() {
    let stderr = check_refuses_copy(
        |text| {
            text.replacen("reassurance = ", "# reassurance = ", 1)
                .replacen("call {medical} now", "call {medicl} now", 1)
        },
        &[],
    );
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    assert!(
        stderr.contains("en.toml: `card.reassurance`: missing key"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "en.toml: `card.priority_message.self_harm[1][0]`: unknown placeholder `{medicl}`"
        ),
        "{stderr}"
    );
}

#[test]
fn a_missing_language_file_is_named() {
    let stderr = check_refuses_copy(|text| text, &["vi.toml"]);
    assert!(stderr.contains("vi.toml: cannot read"), "{stderr}");
}

#[test]
fn startup_refuses_a_broken_content_dir() {
    let dir = tempfile::tempdir().unwrap();
    let copy = broken_copy(dir.path(), |text| {
        text.replacen("[card]\n", "[card]\nextra = \"x\"\n", 1)
    });
    let copy = copy.display().to_string();
    let output = cbln(
        dir.path(),
        &["serve"],
        &[
            ("CBLN__CONTENT__DIR", copy.as_str()),
            ("CBLN__SERVER__PORT", "0"),
        ],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("content.dir"), "{stderr}");
    assert!(
        stderr.contains("en.toml: `card.extra`: unknown key"),
        "{stderr}"
    );
}
