//! Cryptography for stored data and session tokens: pure and synchronous, so the encryptor actor
//! can run it on a thread pool and tests need no runtime.
//!
//! - Envelope encryption: each session has its own [`DataKey`], stored only wrapped by a master key
//!   from the [`KeyRing`]; deleting the wrapped key shreds every record the session sealed.
//! - Every sealed value is `version ‖ key id ‖ 96-bit nonce ‖ ciphertext ‖ tag` (AES-256-GCM), with
//!   the header and an [`Aad`] (session, record, purpose) authenticated, so a ciphertext moved to
//!   another row fails with [`CryptoError::Integrity`].
//! - Session tokens are random; only their [`TokenHasher`] hash is stored.

mod aad;
mod envelope;
mod error;
mod keyring;
mod keys;
mod token;

pub use aad::{Aad, Purpose};
pub use envelope::{FORMAT_VERSION, SEAL_OVERHEAD, sealed_key_id};
pub use error::{CryptoError, KeyEncoding, KeyError};
pub use keyring::KeyRing;
pub use keys::{DataKey, MasterKey};
pub use token::{
    SESSION_TOKEN_PREFIX, STAFF_TOKEN_PREFIX, TokenHash, TokenHasher, generate_secret_key,
    generate_session_token, generate_staff_token, looks_like_session_token, looks_like_staff_token,
};
