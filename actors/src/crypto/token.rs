//! Anonymous session tokens and the keyed hash they are stored and looked up by.
//!
//! Only `HMAC-SHA-256(SECRET_KEY, token)` reaches the database, so a leaked table cannot be
//! replayed as bearer tokens without the server secret.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::KeyError;

/// Every session token starts with this, so tokens are recognisable in leaked-secret scanners.
pub const SESSION_TOKEN_PREFIX: &str = "anon_";
/// Every staff sign-in token starts with this, so it can never be mistaken for a session's.
pub const STAFF_TOKEN_PREFIX: &str = "staff_";
/// Random bytes in a session token: 256 bits, above the 128-bit floor of OWASP ASVS V7.2.3.
const TOKEN_BYTES: usize = 32;
/// Shortest body accepted by the shape check: 128 bits of base64url.
const MIN_TOKEN_BODY: usize = 22;
/// Longest body accepted by the shape check; bounds the work done on garbage input.
const MAX_TOKEN_BODY: usize = 128;
/// Minimum secret length for HMAC-SHA-256 at full strength.
const MIN_SECRET_BYTES: usize = 32;

/// The keyed hash of a session token: what is stored and looked up, never the token itself.
/// Made only by [`TokenHasher::hash`], so a raw token cannot be passed where its hash belongs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Derived from a token, so it never reaches a log, not even through `{:?}`.
impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// Hashes session tokens with HMAC-SHA-256 keyed by the server secret.
#[derive(Clone)]
pub struct TokenHasher {
    /// Keyed once; cloning the keyed state per hash skips re-deriving the HMAC pads.
    mac: Hmac<Sha256>,
}

impl TokenHasher {
    /// Keys the hasher with the server's `SECRET_KEY` bytes.
    ///
    /// # Errors
    /// [`KeyError::SecretTooShort`] if `secret` is shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        let too_short = KeyError::SecretTooShort {
            bytes: secret.len(),
        };
        if secret.len() < MIN_SECRET_BYTES {
            return Err(too_short);
        }
        // HMAC accepts keys of any length, so this cannot fail once the length check passed.
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| too_short)?;
        Ok(Self { mac })
    }

    /// A hasher under a key of its own for `purpose`, derived from this one's
    /// (`HMAC-SHA-256(SECRET_KEY, purpose)`), so hashes made for one purpose never match another's.
    #[must_use]
    pub fn derive(&self, purpose: &str) -> TokenHasher {
        // The derived key is 32 bytes, so `new` cannot refuse it.
        TokenHasher::new(self.hash(purpose).as_bytes()).unwrap_or_else(|_| self.clone())
    }

    /// The value to store and look a session up by.
    #[must_use]
    pub fn hash(&self, token: &str) -> TokenHash {
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        TokenHash(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHasher(..)")
    }
}

/// A new session token: `anon_` followed by base64url (no padding) of 32 CSPRNG bytes.
#[must_use]
pub fn generate_session_token() -> String {
    random_token(SESSION_TOKEN_PREFIX)
}

/// A new staff sign-in token: `staff_` followed by base64url (no padding) of 32 CSPRNG bytes.
#[must_use]
pub fn generate_staff_token() -> String {
    random_token(STAFF_TOKEN_PREFIX)
}

fn random_token(prefix: &str) -> String {
    let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
    rand::rng().fill_bytes(bytes.as_mut());
    let mut token = String::with_capacity(prefix.len() + 43);
    token.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(bytes.as_ref(), &mut token);
    token
}

/// Cheap shape check before any hashing or database work: the prefix, the base64url alphabet and
/// a sane length. Garbage can then be answered with 404 straight away.
#[must_use]
pub fn looks_like_session_token(s: &str) -> bool {
    looks_like_token(SESSION_TOKEN_PREFIX, s)
}

/// [`looks_like_session_token`] for staff sign-in tokens.
#[must_use]
pub fn looks_like_staff_token(s: &str) -> bool {
    looks_like_token(STAFF_TOKEN_PREFIX, s)
}

fn looks_like_token(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|body| {
        (MIN_TOKEN_BODY..=MAX_TOKEN_BODY).contains(&body.len())
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A new server secret for a development secret file: standard base64 of 32 random bytes.
#[must_use]
pub fn generate_secret_key() -> String {
    let mut bytes = Zeroizing::new([0u8; MIN_SECRET_BYTES]);
    rand::rng().fill_bytes(bytes.as_mut());
    STANDARD.encode(bytes.as_ref())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn tokens_have_the_documented_shape_and_differ() {
        let tokens: HashSet<String> = (0..100).map(|_| generate_session_token()).collect();
        assert_eq!(tokens.len(), 100);
        for token in &tokens {
            assert_eq!(token.len(), SESSION_TOKEN_PREFIX.len() + 43, "{token}");
            assert!(looks_like_session_token(token), "{token}");
            let body = token.strip_prefix(SESSION_TOKEN_PREFIX).unwrap();
            assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), TOKEN_BYTES);
        }
    }

    #[test]
    fn shape_check_rejects_garbage() {
        let body = "A".repeat(MIN_TOKEN_BODY);
        assert!(looks_like_session_token(&format!("anon_{body}")));
        assert!(looks_like_session_token(&format!(
            "anon_{}",
            "-_".repeat(64)
        )));
        for bad in [
            String::new(),
            "anon_".into(),
            body.clone(),
            format!("ANON_{body}"),
            format!("anon_{}", &body[1..]),
            format!("anon_{}", "a".repeat(MAX_TOKEN_BODY + 1)),
            format!("anon_{body}="),
            format!("anon_{body}+/"),
            format!("anon_{body} "),
            format!("anon_{body}é"),
            format!(" anon_{body}"),
        ] {
            assert!(!looks_like_session_token(&bad), "{bad:?}");
        }
    }

    #[test]
    fn hasher_is_deterministic_and_keyed() {
        let hasher = TokenHasher::new(SECRET).unwrap();
        let token = generate_session_token();
        assert_eq!(hasher.hash(&token), hasher.hash(&token));
        assert_eq!(
            hasher.hash(&token),
            TokenHasher::new(SECRET).unwrap().hash(&token)
        );
        assert_ne!(hasher.hash(&token), hasher.hash(&generate_session_token()));

        let other = TokenHasher::new(b"another secret of at least 32 bytes").unwrap();
        assert_ne!(hasher.hash(&token), other.hash(&token));
    }

    #[test]
    fn hasher_matches_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 6 uses a 131-byte key, long enough for our minimum.
        let key = [0xaa_u8; 131];
        let hasher = TokenHasher::new(&key).unwrap();
        assert_eq!(
            hex::encode(
                hasher
                    .hash("Test Using Larger Than Block-Size Key - Hash Key First")
                    .as_bytes()
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn short_secrets_are_rejected() {
        assert_eq!(
            TokenHasher::new(&SECRET[..31]).unwrap_err(),
            KeyError::SecretTooShort { bytes: 31 }
        );
        assert!(TokenHasher::new(b"").is_err());
    }

    #[test]
    fn secret_keys_are_fresh_and_usable() {
        let one = generate_secret_key();
        assert_ne!(one, generate_secret_key());
        assert_eq!(STANDARD.decode(&one).unwrap().len(), 32);
        assert!(TokenHasher::new(one.as_bytes()).is_ok());
    }

    #[test]
    fn staff_tokens_have_their_own_prefix_and_derived_hasher() {
        let token = generate_staff_token();
        assert!(looks_like_staff_token(&token), "{token}");
        assert!(!looks_like_session_token(&token));
        assert!(!looks_like_staff_token(&generate_session_token()));
        assert_eq!(token.len(), STAFF_TOKEN_PREFIX.len() + 43);
        let hasher = TokenHasher::new(SECRET).unwrap();
        let staff = hasher.derive("staff-token");
        assert_eq!(
            staff.hash(&token),
            hasher.derive("staff-token").hash(&token)
        );
        assert_ne!(staff.hash(&token), hasher.hash(&token));
        assert_ne!(staff.hash(&token), hasher.derive("other").hash(&token));
    }

    #[test]
    fn debug_is_redacted() {
        let hasher = TokenHasher::new(SECRET).unwrap();
        assert_eq!(format!("{hasher:?}"), "TokenHasher(..)");
    }
}
