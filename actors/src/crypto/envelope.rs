//! The sealed wire format shared by record ciphertext and wrapped data keys:
//!
//! `version (1) ‖ key id (4, big endian) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`
//!
//! AES-256-GCM with a random 96-bit nonce. The GCM associated data is the 5-byte header followed by
//! the encoded context, so the version and key id are authenticated along with the session, record
//! and purpose.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use rand::Rng;
use zeroize::Zeroize;

use super::aad::CONTEXT_LEN;
use super::error::CryptoError;

/// Length of every key this module handles (AES-256).
pub(crate) const KEY_LEN: usize = 32;
/// The only format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes a sealed value adds to its plaintext (header, nonce and tag).
pub const SEAL_OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// Length of a wrapped data key.
pub(crate) const WRAPPED_KEY_LEN: usize = SEAL_OVERHEAD + KEY_LEN;
/// AES-GCM's plaintext limit (NIST SP 800-38D: 2^39 − 256 bits).
const MAX_PLAINTEXT: u64 = (1 << 36) - 32;

type Header = [u8; HEADER_LEN];

/// The key id a sealed value claims, read without decrypting: lets `cbln keys rotate` skip values
/// already under the primary, and lets operators see which key a value needs.
///
/// # Errors
/// [`CryptoError::Malformed`] when too short to be sealed, [`CryptoError::UnsupportedVersion`] when
/// the version byte is unknown.
pub fn sealed_key_id(sealed: &[u8]) -> Result<u32, CryptoError> {
    Ok(Sealed::parse(sealed)?.key_id)
}

/// Encrypts `plaintext` under `key`, writing `key_id` into the header.
///
/// One allocation: the output is built in place and encrypted where it lies.
///
/// # Panics
/// If `plaintext` exceeds AES-GCM's limit of 64 GiB, which request size limits rule out.
pub(crate) fn seal(
    key: &[u8; KEY_LEN],
    key_id: u32,
    context: &[u8; CONTEXT_LEN],
    plaintext: &[u8],
) -> Vec<u8> {
    assert!(
        plaintext.len() as u64 <= MAX_PLAINTEXT,
        "plaintext exceeds the AES-GCM limit"
    );
    let header = header(key_id);
    let mut nonce = [0u8; NONCE_LEN];
    // ThreadRng is a CSPRNG reseeded from the OS; it avoids a syscall per seal.
    rand::rng().fill_bytes(&mut nonce);

    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);

    let cipher = Aes256Gcm::new(key.into());
    let body = &mut out[HEADER_LEN + NONCE_LEN..];
    match cipher.encrypt_inout_detached((&nonce).into(), &gcm_aad(header, context), body.into()) {
        Ok(tag) => out.extend_from_slice(&tag),
        // The only failure is an over-long input, rejected by the assert above.
        Err(_) => unreachable!("plaintext length checked above"),
    }
    out
}

/// A sealed value split into its parts, borrowed from the input.
pub(crate) struct Sealed<'a> {
    header: &'a Header,
    pub(crate) key_id: u32,
    nonce: &'a [u8; NONCE_LEN],
    pub(crate) ciphertext: &'a [u8],
    tag: &'a [u8; TAG_LEN],
}

impl<'a> Sealed<'a> {
    /// Splits without decrypting. The version is checked before the length so that a future
    /// format with a different layout reports [`CryptoError::UnsupportedVersion`].
    pub(crate) fn parse(sealed: &'a [u8]) -> Result<Self, CryptoError> {
        match sealed.first() {
            None => return Err(CryptoError::Malformed),
            Some(&FORMAT_VERSION) => {}
            Some(_) => return Err(CryptoError::UnsupportedVersion),
        }
        let (header, rest) = sealed
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(CryptoError::Malformed)?;
        let (nonce, rest) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(CryptoError::Malformed)?;
        let (ciphertext, tag) = rest
            .split_last_chunk::<TAG_LEN>()
            .ok_or(CryptoError::Malformed)?;
        let key_id = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        Ok(Self {
            header,
            key_id,
            nonce,
            ciphertext,
            tag,
        })
    }

    /// Decrypts into `out`, which must be exactly as long as the ciphertext. On failure `out` is
    /// wiped, so no caller can see unauthenticated plaintext.
    pub(crate) fn open_into(
        &self,
        key: &[u8; KEY_LEN],
        context: &[u8; CONTEXT_LEN],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        if out.len() != self.ciphertext.len() {
            return Err(CryptoError::Malformed);
        }
        out.copy_from_slice(self.ciphertext);
        let cipher = Aes256Gcm::new(key.into());
        let result = cipher.decrypt_inout_detached(
            self.nonce.into(),
            &gcm_aad(*self.header, context),
            out.into(),
            self.tag.into(),
        );
        if result.is_err() {
            out.zeroize();
            return Err(CryptoError::Integrity);
        }
        Ok(())
    }
}

fn header(key_id: u32) -> Header {
    let id = key_id.to_be_bytes();
    [FORMAT_VERSION, id[0], id[1], id[2], id[3]]
}

fn gcm_aad(header: Header, context: &[u8; CONTEXT_LEN]) -> [u8; HEADER_LEN + CONTEXT_LEN] {
    let mut aad = [0u8; HEADER_LEN + CONTEXT_LEN];
    aad[..HEADER_LEN].copy_from_slice(&header);
    aad[HEADER_LEN..].copy_from_slice(context);
    aad
}

/// Flips every bit of `sealed` in turn and asserts that `open` refuses each copy with the error
/// its place calls for: the header's version byte, then its key id, then anything the tag covers.
#[cfg(test)]
pub(crate) fn assert_every_flipped_bit_refused<T>(
    sealed: &[u8],
    open: impl Fn(&[u8]) -> Result<T, CryptoError>,
) {
    for byte in 0..sealed.len() {
        let expected = match byte {
            0 => CryptoError::UnsupportedVersion,
            1..HEADER_LEN => CryptoError::UnknownKey,
            _ => CryptoError::Integrity,
        };
        for bit in 0..8 {
            let mut tampered = sealed.to_vec();
            tampered[byte] ^= 1 << bit;
            assert_eq!(
                open(&tampered).err(),
                Some(expected),
                "byte {byte} bit {bit}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; KEY_LEN] = [7; KEY_LEN];
    const CONTEXT: [u8; CONTEXT_LEN] = [3; CONTEXT_LEN];

    fn open(sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let parsed = Sealed::parse(sealed)?;
        let mut out = vec![0; parsed.ciphertext.len()];
        parsed.open_into(&KEY, &CONTEXT, &mut out)?;
        Ok(out)
    }

    #[test]
    fn layout_matches_the_documented_format() {
        let sealed = seal(&KEY, 0xdead_beef, &CONTEXT, b"hello");
        assert_eq!(sealed.len(), SEAL_OVERHEAD + 5);
        assert_eq!(sealed[0], FORMAT_VERSION);
        assert_eq!(&sealed[1..5], &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(sealed_key_id(&sealed), Ok(0xdead_beef));
        assert_eq!(open(&sealed).unwrap(), b"hello");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let sealed = seal(&KEY, 1, &CONTEXT, b"");
        assert_eq!(sealed.len(), SEAL_OVERHEAD);
        assert_eq!(open(&sealed).unwrap(), b"");
    }

    #[test]
    fn short_inputs_are_malformed_and_unknown_versions_are_reported() {
        let sealed = seal(&KEY, 1, &CONTEXT, b"x");
        for len in 0..SEAL_OVERHEAD {
            assert_eq!(open(&sealed[..len]).err(), Some(CryptoError::Malformed));
        }
        let mut future = sealed.clone();
        future[0] = 2;
        assert_eq!(open(&future).err(), Some(CryptoError::UnsupportedVersion));
        assert_eq!(open(&[0]).err(), Some(CryptoError::UnsupportedVersion));
    }

    #[test]
    fn header_is_authenticated() {
        // A forged key id must not open even when the key is right: the header is in the AAD.
        let mut sealed = seal(&KEY, 1, &CONTEXT, b"x");
        sealed[4] ^= 1;
        assert_eq!(open(&sealed).err(), Some(CryptoError::Integrity));
    }

    #[test]
    fn failed_open_leaves_no_plaintext_in_the_buffer() {
        let mut sealed = seal(&KEY, 1, &CONTEXT, b"secret text");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let parsed = Sealed::parse(&sealed).unwrap();
        let mut out = vec![0xff; parsed.ciphertext.len()];
        assert_eq!(
            parsed.open_into(&KEY, &CONTEXT, &mut out),
            Err(CryptoError::Integrity)
        );
        assert!(out.iter().all(|&b| b == 0));
    }
}
