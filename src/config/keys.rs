//! Resolving the two secrets: from configuration, or — in development only — generated once into
//! the data directory (mode 0600) with a warning, so `cargo run` needs no setup.

use super::{ConfigError, Environment, Settings};
use cbln_actors::crypto::{KeyRing, MasterKey, TokenHasher, generate_secret_key};
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};

/// The key ring and token hasher, ready to use.
pub struct ResolvedKeys {
    /// Master keys (primary encrypts, all decrypt).
    pub keyring: KeyRing,
    /// Token HMAC.
    pub token_hasher: TokenHasher,
    /// Files generated on this start (for the warning).
    pub generated: Vec<PathBuf>,
}

/// Reads or generates the keys; in production a missing key is an error.
pub fn resolve_keys(
    settings: &Settings,
    environment: Environment,
) -> Result<ResolvedKeys, ConfigError> {
    let data_dir = Path::new(&settings.security.data_dir);
    let mut generated = Vec::new();
    let encryption_text = secret_or_generated(
        settings.security.encryption_key.expose_secret(),
        "security.encryption_key (ENCRYPTION_KEY)",
        &data_dir.join("encryption.key"),
        environment,
        || MasterKey::generate().to_base64(),
        &mut generated,
    )?;
    let primary = MasterKey::parse(&encryption_text).map_err(|error| ConfigError {
        setting: "security.encryption_key (ENCRYPTION_KEY)".into(),
        problem: error.to_string(),
    })?;
    let previous_text = settings.security.encryption_keys_previous.expose_secret();
    let previous = if previous_text.trim().is_empty() {
        Vec::new()
    } else {
        MasterKey::parse_list(previous_text).map_err(|error| ConfigError {
            setting: "security.encryption_keys_previous (ENCRYPTION_KEYS_PREVIOUS)".into(),
            problem: error.to_string(),
        })?
    };
    let secret_text = secret_or_generated(
        settings.security.secret_key.expose_secret(),
        "security.secret_key (SECRET_KEY)",
        &data_dir.join("secret.key"),
        environment,
        generate_secret_key,
        &mut generated,
    )?;
    let token_hasher =
        TokenHasher::new(secret_text.trim().as_bytes()).map_err(|error| ConfigError {
            setting: "security.secret_key (SECRET_KEY)".into(),
            problem: error.to_string(),
        })?;
    Ok(ResolvedKeys {
        keyring: KeyRing::new(primary, previous),
        token_hasher,
        generated,
    })
}

fn secret_or_generated(
    configured: &str,
    setting: &str,
    file: &Path,
    environment: Environment,
    generate: impl FnOnce() -> String,
    generated: &mut Vec<PathBuf>,
) -> Result<String, ConfigError> {
    if !configured.trim().is_empty() {
        return Ok(configured.trim().to_string());
    }
    let error = |problem: String| ConfigError {
        setting: setting.into(),
        problem,
    };
    if environment == Environment::Production {
        return Err(error("required in production".into()));
    }
    if file.is_file() {
        return std::fs::read_to_string(file)
            .map(|text| text.trim().to_string())
            .map_err(|e| error(format!("cannot read {}: {e}", file.display())));
    }
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| error(format!("cannot create {}: {e}", parent.display())))?;
    }
    let value = generate();
    write_private(file, &value)
        .map_err(|e| error(format!("cannot write {}: {e}", file.display())))?;
    generated.push(file.to_path_buf());
    Ok(value)
}

fn write_private(file: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut handle = options.open(file)?;
    handle.write_all(value.as_bytes())?;
    handle.write_all(b"\n")
}
