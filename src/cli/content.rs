//! `cbln content check DIR`: checks a reviewed copy of `content/` against the configured hotlines
//! before an operator points `content.dir` at it (docs/content.md).

use std::path::PathBuf;

use clap::Subcommand;

use crate::startup::{LoadedConfig, load_hotlines};
use cbln_actors::content::check::check_dir;

/// `cbln content …`
#[derive(Debug, Subcommand)]
pub enum ContentAction {
    /// Check a content folder: every key of the built-in languages, no unknown key, every
    /// placeholder known and resolvable with the configured hotlines. Exit 1 on any problem.
    Check {
        /// The folder holding vi.toml and en.toml.
        dir: PathBuf,
    },
}

/// A content folder that did not pass; its problems are the message, one per line.
#[derive(Debug, thiserror::Error)]
#[error("{dir}: {count} problem(s):\n{problems}")]
pub struct ContentRefused {
    dir: String,
    count: usize,
    problems: String,
}

pub fn run(config: &LoadedConfig, action: ContentAction) -> anyhow::Result<()> {
    match action {
        ContentAction::Check { dir } => {
            let hotlines =
                load_hotlines(&config.config_dir, &config.settings.crisis.hotlines_file)?;
            match check_dir(&dir, &hotlines) {
                Ok((_, notes)) => {
                    for note in notes {
                        println!("note: {note}");
                    }
                    println!(
                        "ok: {} (checked with {} hotlines)",
                        dir.display(),
                        hotlines.len()
                    );
                    Ok(())
                }
                Err(e) => Err(ContentRefused {
                    dir: dir.display().to_string(),
                    count: e.problems.len(),
                    problems: e.to_string(),
                }
                .into()),
            }
        }
    }
}
