//! Every link in the README and the project's documentation points at a file of this repository
//! that exists (and, with a `#fragment`, at a heading in it): the repository must read on its
//! own, with no link to anything outside it.
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files whose links are checked: the top-level ones and everything under `docs/`.
fn documents() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["README.md", "CHANGELOG.md", "BENCHMARKS.md"]
        .iter()
        .map(|name| root().join(name))
        .collect();
    let mut pending = vec![root().join("docs")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("docs/ is readable") {
            let path = entry.expect("a docs/ entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Link targets in Markdown outside code: `[text](target)` and `[label]: target`.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let prose = without_code_spans(line);
        if let Some(rest) = prose.trim_start().strip_prefix('[')
            && let Some((_, definition)) = rest.split_once("]:")
        {
            targets.push(definition.trim().to_string());
        }
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
    }
    targets
}

fn without_code_spans(line: &str) -> String {
    line.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, part)| part)
        .collect::<Vec<_>>()
        .join(" ")
}

/// GitHub's anchor for a heading: lower case, punctuation (backticks too) dropped, spaces as
/// hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_fence = false;
    let mut found = BTreeSet::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && line.starts_with('#') {
            found.insert(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// Lexically resolves `relative` against `dir`; `None` when it climbs above the filesystem root.
fn resolve(dir: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = dir.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::ParentDir => {
                if !path.pop() {
                    return None;
                }
            }
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(path)
}

/// What is wrong with each link of `document` (empty when all resolve inside `repository`).
fn broken_links(repository: &Path, document: &Path, markdown: &str) -> Vec<String> {
    let dir = document.parent().unwrap_or(repository);
    let mut problems = Vec::new();
    for target in link_targets(markdown) {
        let target = target.split_whitespace().next().unwrap_or_default();
        if target.contains("://") || target.starts_with("mailto:") {
            problems.push(format!("{target}: leads outside the repository"));
            continue;
        }
        let (file, fragment) = match target.split_once('#') {
            Some((file, fragment)) => (file, Some(fragment)),
            None => (target, None),
        };
        let path = if file.is_empty() {
            Some(document.to_path_buf())
        } else {
            resolve(dir, file)
        };
        let Some(path) = path.filter(|p| p.starts_with(repository)) else {
            problems.push(format!("{target}: leads outside the repository"));
            continue;
        };
        if !path.exists() {
            problems.push(format!("{target}: no such file"));
            continue;
        }
        if let Some(fragment) = fragment {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if !anchors(&text).contains(fragment) {
                problems.push(format!("{target}: no heading #{fragment}"));
            }
        }
    }
    problems
}

#[test]
fn every_link_in_the_readme_and_docs_resolves_inside_the_repository() {
    let repository = root();
    let mut problems = Vec::new();
    let mut checked = 0;
    for document in documents() {
        let markdown = std::fs::read_to_string(&document).expect("a readable Markdown file");
        checked += link_targets(&markdown).len();
        for problem in broken_links(&repository, &document, &markdown) {
            let name = document.strip_prefix(&repository).unwrap_or(&document);
            problems.push(format!("{}: {problem}", name.display()));
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the parser broken?"
    );
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_readme_links_to_every_document_in_docs() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let linked: BTreeSet<PathBuf> = link_targets(&readme)
        .iter()
        .filter_map(|t| resolve(&root(), t.split('#').next().unwrap_or_default()))
        .collect();
    let unlinked: Vec<String> = documents()
        .into_iter()
        .filter(|d| d.starts_with(root().join("docs")) && !linked.contains(d))
        .map(|d| d.display().to_string())
        .collect();
    assert!(
        unlinked.is_empty(),
        "not linked from README.md: {unlinked:?}"
    );
}

#[test]
fn the_checker_finds_what_is_broken() {
    let repository = root();
    let document = repository.join("docs").join("example.md");
    let markdown = "\
[fine](../README.md) and [a heading](../README.md#the-two-commands) and `[code](nowhere.md)`
[missing](nowhere.md) [outside](../../shared/design/API.md) [web](https://example.org)
[no heading](../README.md#no-such-heading)
```
[in a fence](also-nowhere.md)
```
[ref]: gone.md
";
    let problems = broken_links(&repository, &document, markdown);
    assert_eq!(
        problems,
        vec![
            "nowhere.md: no such file",
            "../../shared/design/API.md: leads outside the repository",
            "https://example.org: leads outside the repository",
            "../README.md#no-such-heading: no heading #no-such-heading",
            "gone.md: no such file",
        ],
        "{problems:?}"
    );
}

#[test]
fn anchors_follow_github() {
    assert_eq!(anchor(" Installing on a server"), "installing-on-a-server");
    assert_eq!(anchor(" `cbln` commands"), "cbln-commands");
    assert_eq!(anchor(" Cùng Bạn Lắng Nghe"), "cùng-bạn-lắng-nghe");
    assert_eq!(anchor(" Privacy and retention"), "privacy-and-retention");
}
