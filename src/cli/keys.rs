//! `cbln keys rotate` (re-wrap every session's data key under the primary master key) and
//! `cbln keys generate` (print a fresh 32-byte key for ENCRYPTION_KEY or SECRET_KEY).

use crate::config::resolve_keys;
use crate::startup::{LoadedConfig, connect_store};
use cbln_actors::crypto::MasterKey;
use cbln_actors::persistence::WrappedKey;
use clap::Subcommand;

/// Key actions.
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Re-wrap stored data keys with the current ENCRYPTION_KEY (after moving the old one to
    /// ENCRYPTION_KEYS_PREVIOUS). Messages need no re-encryption: only the small wrapped keys
    /// change. Run it until it reports 0 re-wrapped, then the old key can be dropped.
    Rotate,
    /// Print a new random key (base64, 32 bytes).
    Generate,
}

/// Prints a fresh key.
pub fn generate() -> anyhow::Result<()> {
    println!("{}", MasterKey::generate().to_base64());
    Ok(())
}

/// Runs a key action against the database.
pub async fn run(config: &LoadedConfig, action: KeysAction) -> anyhow::Result<()> {
    match action {
        KeysAction::Generate => generate(),
        KeysAction::Rotate => {
            let keys = resolve_keys(&config.settings, config.environment)?;
            let store = connect_store(&config.settings).await?;
            let primary = i64::from(keys.keyring.primary_id());
            let (mut rewrapped, mut current, mut failed) = (0u64, 0u64, 0u64);
            let mut after = None;
            loop {
                let page = store.session_keys_page(after, 500).await?;
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                for (session_id, stored) in page {
                    match keys.keyring.rewrap(&stored.wrapped_key, session_id) {
                        Ok(Some(wrapped_key)) => {
                            store
                                .replace_session_key(
                                    session_id,
                                    &WrappedKey {
                                        key_id: primary,
                                        wrapped_key,
                                    },
                                )
                                .await?;
                            rewrapped += 1;
                        }
                        Ok(None) => current += 1,
                        Err(error) => {
                            failed += 1;
                            eprintln!(
                                "session {session_id}: cannot unwrap its key ({error}); is its master key listed?"
                            );
                        }
                    }
                }
            }
            store.close().await;
            println!("re-wrapped {rewrapped}, already current {current}, failed {failed}");
            if failed > 0 {
                anyhow::bail!("{failed} key(s) could not be re-wrapped");
            }
            Ok(())
        }
    }
}
