//! Error types. Messages describe what is wrong with an input, never the input itself: they end up
//! in startup errors and logs, where key bytes and plaintext must not appear.

use std::fmt;

use thiserror::Error;

/// How a configured key was written, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    /// Standard or URL-safe base64, padded or not.
    Base64,
    /// Hexadecimal, two characters per byte.
    Hex,
}

impl fmt::Display for KeyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Base64 => "base64",
            Self::Hex => "hex",
        })
    }
}

/// A configured key or secret cannot be used. The caller prefixes the name of the variable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// Nothing but whitespace was given.
    #[error(
        "the key is empty; expected exactly 32 bytes as base64 (44 characters) or hex (64 characters)"
    )]
    Empty,
    /// The text decodes, but not to exactly 32 bytes.
    #[error(
        "the key decodes from {encoding} to {bytes} bytes; it must be exactly 32 bytes \
         (for example the output of `openssl rand -base64 32`)"
    )]
    WrongLength {
        /// The encoding the text was recognised as.
        encoding: KeyEncoding,
        /// How many bytes it decoded to.
        bytes: usize,
    },
    /// The text is neither base64 nor hex, e.g. a passphrase.
    #[error(
        "the key is not valid base64 or hex ({chars} characters); expected exactly 32 bytes as \
         base64 or 64 hex characters (a passphrase is not accepted)"
    )]
    NotEncoded {
        /// Length of the trimmed text in characters.
        chars: usize,
    },
    /// One entry of a key list is unusable.
    #[error("entry {position} of the key list: {reason}")]
    InList {
        /// 1-based position of the entry in the list.
        position: usize,
        /// What is wrong with that entry.
        reason: Box<KeyError>,
    },
    /// A keyed-hash secret is shorter than the 256 bits HMAC-SHA-256 needs for full strength.
    #[error("the secret is {bytes} bytes; it must be at least 32 bytes")]
    SecretTooShort {
        /// Length of the secret that was given.
        bytes: usize,
    },
}

/// A ciphertext or wrapped key cannot be opened.
///
/// Callers map every variant to the API's `integrity_error`; the variants exist for metrics and
/// operator diagnosis (see [`CryptoError::category`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum CryptoError {
    /// Too short, or the wrong length for what it claims to be.
    #[error("ciphertext is malformed")]
    Malformed,
    /// Sealed under a key id that no available key has.
    #[error("ciphertext was sealed under a key that is not available")]
    UnknownKey,
    /// Authentication failed: tampered, corrupted, or moved to another record, session or purpose.
    #[error("ciphertext failed authentication")]
    Integrity,
    /// The format version byte is not one this build understands.
    #[error("ciphertext format version is not supported")]
    UnsupportedVersion,
}

impl CryptoError {
    /// A stable `snake_case` label, for metrics and structured logs.
    #[must_use]
    pub const fn category(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::Integrity => "integrity",
            Self::UnsupportedVersion => "unsupported_version",
        }
    }
}
