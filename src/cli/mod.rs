//! `cbln`: the server (default) and the maintenance commands. Exit codes: 0 success, 1 failure,
//! 2 bad usage or configuration.

mod content;
mod crisis;
mod keys;
mod keywords;
mod maintenance;
mod migrate;
mod staff;

use crate::config::{ConfigError, Sources, load};
use crate::startup::{Application, LoadedConfig};
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

/// Cùng Bạn Lắng Nghe: anonymous, encrypted support chat backend.
#[derive(Debug, Parser)]
#[command(name = "cbln", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply, revert or list database migrations.
    Migrate {
        /// up | down | status.
        #[command(subcommand)]
        action: migrate::MigrateAction,
    },
    /// Manage encryption keys.
    Keys {
        /// rotate | generate.
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// Manage crisis rules in the database.
    Keywords {
        /// list | add | disable | enable | reload.
        #[command(subcommand)]
        action: keywords::KeywordsAction,
    },
    /// Manage staff accounts for the counsellor handoff.
    Staff {
        /// add | list | disable | enable | reset-password.
        #[command(subcommand)]
        action: staff::StaffAction,
    },
    /// Crisis detection tools.
    Crisis {
        /// scan.
        #[command(subcommand)]
        action: crisis::CrisisAction,
    },
    /// Check a reviewed copy of what the service says (docs/content.md).
    Content {
        #[command(subcommand)]
        action: content::ContentAction,
    },
    /// Insert the default crisis rules (idempotent).
    Seed,
    /// Delete all data. Refuses without --yes, and in production without --force-production.
    Reset {
        /// Confirm deleting everything.
        #[arg(long)]
        yes: bool,
        /// Allow it in production.
        #[arg(long)]
        force_production: bool,
    },
    /// Run the janitor's sweep once and print what it deleted.
    Cleanup,
    /// Report database reachability, migrations, row counts, size and expiry backlog.
    CheckStorage,
    /// Watch a running server's health and metrics.
    Monitor {
        /// Base URL of the server.
        #[arg(long, default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Seconds between samples.
        #[arg(long, default_value_t = 10)]
        interval: u64,
        /// Seconds to watch.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// One JSON object per sample instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Simulate users against a running server (loopback only).
    Simulate(SimulateCli),
}

/// `cbln simulate` options.
#[derive(Debug, clap::Args)]
pub struct SimulateCli {
    /// Base URL of the server (loopback only). Give it several times to spread the load over
    /// several instances: requests go to each in turn (round-robin), and the report is per
    /// instance as well as in total.
    #[arg(long = "url", default_value = "http://127.0.0.1:8000")]
    pub urls: Vec<String>,
    /// Sessions to open.
    #[arg(long, default_value_t = 20)]
    pub sessions: usize,
    /// Messages per session.
    #[arg(long, default_value_t = 10)]
    pub messages: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Milliseconds a simulated user waits between messages.
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// Share of messages that are crisis messages (0..1).
    #[arg(long, default_value_t = 0.05)]
    pub crisis_ratio: f64,
    /// Stop after this many seconds at most.
    #[arg(long)]
    pub max_seconds: Option<u64>,
    /// Print the final report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parses arguments, runs the command, and turns the outcome into an exit code.
pub fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            if error.downcast_ref::<ConfigError>().is_some()
                || error.downcast_ref::<UsageError>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// A command refused for how it was called (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn load_config() -> anyhow::Result<LoadedConfig> {
    let sources = Sources::from_process();
    let (environment, settings) = load(&sources)?;
    Ok(LoadedConfig {
        environment,
        settings,
        config_dir: sources.config_dir,
    })
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    // Commands that need no configuration.
    match &command {
        Command::Monitor {
            url,
            interval,
            duration,
            json,
        } => {
            let args = crate::monitor::MonitorArgs {
                url: url.clone(),
                interval: Duration::from_secs(*interval),
                duration: Duration::from_secs(*duration),
                json: *json,
            };
            return runtime()?
                .block_on(async { crate::monitor::run(args, &mut std::io::stdout()).await });
        }
        Command::Simulate(options) => return maintenance::simulate(options),
        Command::Keys {
            action: keys::KeysAction::Generate,
        } => return keys::generate(),
        _ => {}
    }
    let config = load_config()?;
    crate::logging::init(&config.settings.log);
    match command {
        Command::Serve => serve(config),
        Command::Migrate { action } => runtime()?.block_on(migrate::run(&config, action)),
        Command::Keys { action } => runtime()?.block_on(keys::run(&config, action)),
        Command::Keywords { action } => runtime()?.block_on(keywords::run(&config, action)),
        Command::Staff { action } => runtime()?.block_on(staff::run(&config, action)),
        Command::Crisis { action } => runtime()?.block_on(crisis::run(&config, action)),
        Command::Content { action } => content::run(&config, action),
        Command::Seed => runtime()?.block_on(maintenance::seed(&config)),
        Command::Reset {
            yes,
            force_production,
        } => runtime()?.block_on(maintenance::reset(&config, yes, force_production)),
        Command::Cleanup => actix_web::rt::System::new().block_on(maintenance::cleanup(&config)),
        Command::CheckStorage => runtime()?.block_on(maintenance::check_storage(&config)),
        Command::Monitor { .. } | Command::Simulate(_) => Ok(()),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn serve(config: LoadedConfig) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(config).await?;
        // After the configuration was accepted, so a refusal stays one line.
        match crate::open_files::raise_open_files_limit() {
            Ok((before, after)) => tracing::info!(?before, ?after, "open-file limit"),
            Err(error) => tracing::warn!(error = %error, "could not raise the open-file limit"),
        }
        application.run_until_stopped().await.map(|_| ())
    })
}
