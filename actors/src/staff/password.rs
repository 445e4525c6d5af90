//! Staff passwords: Argon2id (the `argon2` crate's defaults, OWASP's m=19 MiB, t=2, p=1) stored as
//! a PHC string. A sign-in with an unknown name is checked against a dummy hash with the same
//! parameters, so it costs the same time as a wrong password and the two cannot be told apart.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password, in bytes: more is not more secure, only more work per attempt.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password could not be set or hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("a password may be at most {MAX_PASSWORD_BYTES} bytes long")]
    TooLong,
    /// The hasher failed (no randomness for the salt).
    #[error("the password could not be hashed")]
    Hashing,
}

/// Whether `password` may be set.
pub fn check_password_policy(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// The PHC string (`$argon2id$v=19$…`) of `password` under a fresh random salt, after the policy
/// check. CPU-heavy: call it off the async threads.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_password_policy(password)?;
    hash_unchecked(password)
}

fn hash_unchecked(password: &str) -> Result<String, PasswordError> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|_| PasswordError::Hashing)?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string. An unparseable hash never matches.
/// CPU-heavy: call it off the async threads.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// [`verify_password`] against the account's hash, or, when there is no such account, against a
/// dummy hash of the same cost (and then `false`), so both answers take the same time.
pub fn verify_password_or_dummy(password: &str, phc: Option<&str>) -> bool {
    match phc {
        Some(phc) => verify_password(password, phc),
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    }
}

/// A hash of a password nobody knows, made once per process.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let unknowable = uuid::Uuid::new_v4().simple().to_string();
        // Without randomness for a salt nothing can be hashed at all; an unparseable dummy then
        // still fails closed (every sign-in with an unknown name is refused).
        hash_unchecked(&unknowable).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let password = "correct horse battery";
        let one = hash_password(password).unwrap();
        let two = hash_password(password).unwrap();
        assert!(one.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{one}");
        assert_ne!(one, two, "a fresh salt each time");
        assert!(!one.contains(password));
        assert!(verify_password(password, &one));
        assert!(verify_password(password, &two));
        assert!(!verify_password("correct horse battery!", &one));
        assert!(!verify_password(password, "not a phc string"));
        assert!(verify_password_or_dummy(password, Some(&one)));
        assert!(!verify_password_or_dummy(password, None));
    }

    #[test]
    fn the_policy_is_enforced_before_hashing() {
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
        assert_eq!(
            check_password_policy("ăâđêôơưăâđêô"),
            Ok(()),
            "characters, not bytes"
        );
        assert_eq!(
            check_password_policy("elevenchars"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            check_password_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordError::TooLong)
        );
    }
}
