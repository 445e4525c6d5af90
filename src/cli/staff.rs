//! `cbln staff add|list|disable|enable|reset-password`: staff accounts for the counsellor
//! handoff. There is no default account: the first admin is made here, on the server.

use super::UsageError;
use crate::startup::{LoadedConfig, connect_store};
use cbln_actors::persistence::{StaffRecord, Store, StoreError, Timestamp};
use cbln_actors::staff::{PasswordError, StaffRole, hash_password, normalise_username};
use clap::Subcommand;
use std::io::BufRead as _;
use zeroize::Zeroizing;

/// Staff actions.
#[derive(Debug, Subcommand)]
pub enum StaffAction {
    /// Create an account (asks for its password twice, or reads it from stdin).
    Add {
        /// User name: 2-64 of a-z, 0-9, '.', '_', '-' (stored lowercase).
        name: String,
        /// counsellor | supervisor | admin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account.
    List,
    /// Disable an account and end all its sign-ins at once.
    Disable {
        /// User name.
        name: String,
    },
    /// Enable a disabled account.
    Enable {
        /// User name.
        name: String,
    },
    /// Set a new password; every sign-in made with the old one ends.
    ResetPassword {
        /// User name.
        name: String,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Runs a staff action. Pending migrations are applied first, so the first admin can be made
/// before the server has ever started.
pub async fn run(config: &LoadedConfig, action: StaffAction) -> anyhow::Result<()> {
    let store = connect_store(&config.settings).await?;
    let result = match store.migrate_up().await {
        Ok(_) => run_with(&store, action).await,
        Err(error) => Err(error.into()),
    };
    store.close().await;
    result
}

async fn run_with(store: &Store, action: StaffAction) -> anyhow::Result<()> {
    match action {
        StaffAction::Add {
            name,
            role,
            password_stdin,
        } => {
            let username = username(&name)?;
            let role = StaffRole::parse(&role).ok_or_else(|| {
                UsageError(format!(
                    "--role must be counsellor, supervisor or admin, not {role:?}"
                ))
            })?;
            let password_hash = new_password_hash(password_stdin)?;
            let record = StaffRecord {
                id: uuid::Uuid::new_v4(),
                username: username.clone(),
                role,
                password_hash,
                disabled: false,
                created_at: Timestamp::now(),
            };
            match store.insert_staff(&record).await {
                Ok(()) => println!("added {role} {username}"),
                Err(StoreError::Conflict) => {
                    return Err(
                        UsageError(format!("a staff account named {username} exists")).into(),
                    );
                }
                Err(error) => return Err(error.into()),
            }
        }
        StaffAction::List => {
            for staff in store.list_staff().await? {
                println!(
                    "{:<24} {:<10} {:<8} {}",
                    staff.username,
                    staff.role.as_str(),
                    if staff.disabled {
                        "disabled"
                    } else {
                        "enabled"
                    },
                    staff.created_at
                );
            }
        }
        StaffAction::Disable { name } => {
            let username = set_disabled(store, &name, true).await?;
            println!("disabled {username}; every sign-in of it has ended");
        }
        StaffAction::Enable { name } => {
            let username = set_disabled(store, &name, false).await?;
            println!("enabled {username}");
        }
        StaffAction::ResetPassword {
            name,
            password_stdin,
        } => {
            let username = username(&name)?;
            if store.staff_by_username(&username).await?.is_none() {
                found(false, &username)?;
            }
            let password_hash = new_password_hash(password_stdin)?;
            found(
                store
                    .set_staff_password(&username, &password_hash, Timestamp::now())
                    .await?,
                &username,
            )?;
            println!("new password set for {username}; every earlier sign-in of it has ended");
        }
    }
    Ok(())
}

/// Disables or enables the account `name`; answers its user name.
async fn set_disabled(store: &Store, name: &str, disabled: bool) -> anyhow::Result<String> {
    let username = username(name)?;
    let changed = store
        .set_staff_disabled(&username, disabled, Timestamp::now())
        .await?;
    found(changed, &username)?;
    Ok(username)
}

fn username(name: &str) -> Result<String, UsageError> {
    normalise_username(name).map_err(|problem| UsageError(format!("NAME: {problem}")))
}

fn found(found: bool, username: &str) -> anyhow::Result<()> {
    if found {
        Ok(())
    } else {
        Err(UsageError(format!("no staff account is named {username}")).into())
    }
}

/// Reads a new password (stdin's first line, or asked twice on the terminal) and hashes it.
fn new_password_hash(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        let first = Zeroizing::new(rpassword::prompt_password("Password: ").map_err(|error| {
            UsageError(format!(
                "cannot ask for a password ({error}); use --password-stdin"
            ))
        })?);
        let second = Zeroizing::new(rpassword::prompt_password("Password again: ")?);
        if *first != *second {
            return Err(UsageError("the two passwords differ".into()).into());
        }
        first
    };
    hash_password(&password).map_err(|error| match error {
        PasswordError::TooShort | PasswordError::TooLong => UsageError(error.to_string()).into(),
        PasswordError::Hashing => anyhow::Error::new(error),
    })
}
