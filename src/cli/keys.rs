//! `cbln keys rotate` (re-wrap every stored key — the sessions' data keys and the handoffs' own
//! keys — under the primary master key) and `cbln keys generate` (print a fresh 32-byte key for
//! ENCRYPTION_KEY or SECRET_KEY).

use crate::config::resolve_keys;
use crate::startup::{LoadedConfig, connect_store};
use cbln_actors::crypto::{KeyRing, MasterKey};
use cbln_actors::persistence::{KeyOwner, Store, WrappedKey};
use clap::Subcommand;

/// Key actions.
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Re-wrap stored keys (sessions' data keys, handoffs' keys) with the current
    /// ENCRYPTION_KEY (after moving the old one to ENCRYPTION_KEYS_PREVIOUS). Messages need no
    /// re-encryption: only the small wrapped keys change. Run it until it reports 0 re-wrapped,
    /// then the old key can be dropped.
    Rotate,
    /// Print a new random key (base64, 32 bytes).
    Generate,
}

/// Rows per page of keys.
const PAGE: i64 = 500;

/// What one rotation did.
#[derive(Debug, Default)]
struct Tally {
    rewrapped: u64,
    current: u64,
    failed: u64,
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
            let mut total = Tally::default();
            for owner in KeyOwner::ALL {
                let tally = rotate(&store, &keys.keyring, owner).await?;
                println!(
                    "{} keys: re-wrapped {}, already current {}, failed {}",
                    owner.as_str(),
                    tally.rewrapped,
                    tally.current,
                    tally.failed
                );
                total.rewrapped += tally.rewrapped;
                total.current += tally.current;
                total.failed += tally.failed;
            }
            store.close().await;
            println!(
                "re-wrapped {}, already current {}, failed {}",
                total.rewrapped, total.current, total.failed
            );
            if total.failed > 0 {
                anyhow::bail!("{} key(s) could not be re-wrapped", total.failed);
            }
            Ok(())
        }
    }
}

/// Re-wraps every key of `owner` not yet under the primary. Each is bound to its owner's id, so
/// it is unwrapped and wrapped again against that id.
async fn rotate(store: &Store, keyring: &KeyRing, owner: KeyOwner) -> anyhow::Result<Tally> {
    let primary = i64::from(keyring.primary_id());
    let mut tally = Tally::default();
    let mut after = None;
    loop {
        let page = store.wrapped_keys_page(owner, after, PAGE).await?;
        let Some((last, _)) = page.last() else {
            return Ok(tally);
        };
        after = Some(*last);
        for (id, stored) in page {
            match keyring.rewrap(&stored.wrapped_key, id) {
                Ok(Some(wrapped_key)) => {
                    let key = WrappedKey {
                        key_id: primary,
                        wrapped_key,
                    };
                    // A key gone meanwhile (its session deleted, its handoff shredded) needs none.
                    if store.replace_wrapped_key(owner, id, &key).await? {
                        tally.rewrapped += 1;
                    }
                }
                Ok(None) => tally.current += 1,
                Err(error) => {
                    tally.failed += 1;
                    eprintln!(
                        "{} {id}: cannot unwrap its key ({error}); is its master key listed?",
                        owner.as_str()
                    );
                }
            }
        }
    }
}
