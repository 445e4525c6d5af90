//! Labelled crisis data as the writers deliver it (docs/crisis/taxonomy.md §5): single messages in
//! TSV and conversations labelled turn by turn in JSON Lines. Training, cross-validation,
//! `cbln crisis eval` and the corpus tests all read it through here.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::types::{Category, RiskLevel};

/// One labelled single message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledMessage {
    /// Where it came from: the writer's folder (or file) name.
    pub source: String,
    /// The crisis category, or `None` for a safe message.
    pub category: Option<Category>,
    /// The crisis category or hard-negative kind as written in the file.
    pub kind: String,
    /// How it is typed (taxonomy §3).
    pub style: String,
    /// The message.
    pub text: String,
}

/// One turn of a labelled conversation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LabelledTurn {
    /// What the young person wrote.
    pub text: String,
    /// The risk the conversation shows after this turn.
    pub risk: RiskLevel,
    /// The category of a crisis turn.
    pub category: Option<Category>,
    /// How it is typed.
    pub style: String,
}

/// A conversation labelled turn by turn.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LabelledConversation {
    /// Where it came from.
    #[serde(skip)]
    pub source: String,
    /// The writer's id for it.
    pub id: String,
    /// The pattern it follows (taxonomy §4).
    pub pattern: String,
    /// Its turns, in order.
    pub turns: Vec<LabelledTurn>,
}

/// Everything read from a folder or a file.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Single messages.
    pub messages: Vec<LabelledMessage>,
    /// Conversations.
    pub conversations: Vec<LabelledConversation>,
    /// The files read, in the order read (sorted by path).
    pub files: Vec<PathBuf>,
}

/// A file that is not in the taxonomy's format; says where.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{path}:{line}: {problem}")]
    Format {
        /// The path.
        path: String,
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

const HEADER: &str = "label\tcategory\tstyle\ttext";

impl Corpus {
    /// Reads every `.tsv` and `.jsonl` file under `path` (or `path` itself when it is a file).
    /// Files are read in path order, so the result does not depend on the file system.
    pub fn load(path: &Path) -> Result<Corpus, CorpusError> {
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        files.sort();
        let mut corpus = Corpus::default();
        for file in files {
            let source = source_name(path, &file);
            let content = std::fs::read_to_string(&file).map_err(|source| CorpusError::Io {
                path: file.display().to_string(),
                source,
            })?;
            if file.extension().is_some_and(|e| e == "jsonl") {
                read_conversations(&file, &source, &content, &mut corpus.conversations)?;
            } else {
                read_messages(&file, &source, &content, &mut corpus.messages)?;
            }
            corpus.files.push(file);
        }
        Ok(corpus)
    }

    /// Adds everything from `other`.
    pub fn extend(&mut self, other: Corpus) {
        self.messages.extend(other.messages);
        self.conversations.extend(other.conversations);
        self.files.extend(other.files);
    }
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), CorpusError> {
    let io = |source| CorpusError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry_path = entry.map_err(io)?.path();
        if entry_path.is_dir() {
            collect_files(&entry_path, out)?;
        } else if entry_path
            .extension()
            .is_some_and(|e| e == "tsv" || e == "jsonl")
        {
            out.push(entry_path);
        }
    }
    Ok(())
}

/// The writer: the first folder below the root, or the file's stem when read on its own.
fn source_name(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let mut parts = relative.components();
    match (parts.next(), parts.next()) {
        (Some(first), Some(_)) => first.as_os_str().to_string_lossy().into_owned(),
        _ => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

fn read_messages(
    file: &Path,
    source: &str,
    content: &str,
    out: &mut Vec<LabelledMessage>,
) -> Result<(), CorpusError> {
    let bad = |line: usize, problem: String| CorpusError::Format {
        path: file.display().to_string(),
        line,
        problem,
    };
    let mut lines = content.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim_end() == HEADER => {}
        _ => return Err(bad(1, format!("the header must be {HEADER:?}"))),
    }
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.splitn(4, '\t').collect();
        let [label, kind, style, text] = cols[..] else {
            return Err(bad(i + 1, format!("{} columns, wants 4", cols.len())));
        };
        let category = match label {
            "1" => Some(
                Category::parse(kind)
                    .ok_or_else(|| bad(i + 1, format!("unknown crisis category {kind:?}")))?,
            ),
            "0" => None,
            other => return Err(bad(i + 1, format!("label {other:?}, wants 0 or 1"))),
        };
        out.push(LabelledMessage {
            source: source.to_owned(),
            category,
            kind: kind.to_owned(),
            style: style.to_owned(),
            text: text.to_owned(),
        });
    }
    Ok(())
}

fn read_conversations(
    file: &Path,
    source: &str,
    content: &str,
    out: &mut Vec<LabelledConversation>,
) -> Result<(), CorpusError> {
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut conversation: LabelledConversation =
            serde_json::from_str(line).map_err(|error| CorpusError::Format {
                path: file.display().to_string(),
                line: i + 1,
                problem: format!("not a conversation: {error}"),
            })?;
        if conversation
            .turns
            .iter()
            .any(|t| (t.risk == RiskLevel::Crisis) != t.category.is_some())
        {
            return Err(CorpusError::Format {
                path: file.display().to_string(),
                line: i + 1,
                problem: "a crisis turn needs a category, and only a crisis turn has one".into(),
            });
        }
        conversation.source = source.to_owned();
        out.push(conversation);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messages_and_conversations_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let writer = dir.path().join("w9");
        std::fs::create_dir(&writer).unwrap();
        std::fs::write(
            writer.join("messages.tsv"),
            "label\tcategory\tstyle\ttext\n1\tsuicide\tnfc\tA\n0\thyperbole\tteen_code\tB\n",
        )
        .unwrap();
        std::fs::write(
            writer.join("conversations.jsonl"),
            r#"{"id":"c1","pattern":"ordinary","turns":[{"text":"x","risk":"none","category":null,"style":"nfc"}]}"#,
        )
        .unwrap();
        let corpus = Corpus::load(dir.path()).unwrap();
        assert_eq!(corpus.messages.len(), 2);
        assert_eq!(corpus.messages[0].category, Some(Category::Suicide));
        assert_eq!(corpus.messages[0].source, "w9");
        assert_eq!(corpus.messages[1].category, None);
        assert_eq!(corpus.conversations[0].turns[0].risk, RiskLevel::None);

        std::fs::write(
            writer.join("messages.tsv"),
            "label\tcategory\tstyle\ttext\n1\tsadness\tnfc\tA\n",
        )
        .unwrap();
        let error = Corpus::load(dir.path()).unwrap_err().to_string();
        assert!(
            error.ends_with("messages.tsv:2: unknown crisis category \"sadness\""),
            "{error}"
        );
    }
}
