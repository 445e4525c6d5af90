//! Key material: the configured master keys and the per-session data keys they wrap.
//!
//! Both hold exactly 32 bytes, are wiped on drop, and print only a key id in `Debug`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT,
};
use rand::Rng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::aad::Aad;
use super::envelope::{self, KEY_LEN, Sealed};
use super::error::{CryptoError, KeyEncoding, KeyError};

/// Labels keep master-key ids and data-key ids in separate domains, so an id never says whether
/// two keys of different kinds are equal.
const MASTER_KEY_ID_LABEL: &[u8] = b"cbln/master-key-id/v1\0";
const DATA_KEY_ID_LABEL: &[u8] = b"cbln/data-key-id/v1\0";

/// 32 secret bytes and the id derived from them under a kind's label: what both kinds of key
/// hold, with the one way of making, wiping and naming it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct KeyMaterial {
    bytes: [u8; KEY_LEN],
    id: u32,
}

impl KeyMaterial {
    const fn zeroed() -> Self {
        Self {
            bytes: [0; KEY_LEN],
            id: 0,
        }
    }

    fn random(label: &[u8]) -> Self {
        let mut key = Self::zeroed();
        rand::rng().fill_bytes(&mut key.bytes);
        key.identified(label)
    }

    /// Sets the id once the bytes are in place.
    fn identified(mut self, label: &[u8]) -> Self {
        self.id = derive_id(label, &self.bytes);
        self
    }
}

/// A master key (`ENCRYPTION_KEY` or one of `ENCRYPTION_KEYS_PREVIOUS`): wraps session data keys.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey(KeyMaterial);

impl MasterKey {
    /// Parses exactly 32 bytes written as base64 (standard or URL-safe, padded or not) or as 64
    /// hex characters. Surrounding whitespace (a key file's trailing newline) is ignored; the key
    /// itself is never padded or truncated.
    ///
    /// # Errors
    /// A [`KeyError`] naming the length or encoding problem, never containing the text.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        let is_hex = text.bytes().all(|b| b.is_ascii_hexdigit());
        let mut key = KeyMaterial::zeroed();

        // Hex first: 64 hex digits also happen to be valid base64 (of 48 bytes), and hex is what
        // such a value means.
        if is_hex && text.len() == 2 * KEY_LEN {
            hex::decode_to_slice(text, &mut key.bytes).map_err(|_| KeyError::NotEncoded {
                chars: text.chars().count(),
            })?;
            return Ok(Self(key.identified(MASTER_KEY_ID_LABEL)));
        }
        let decoded = decode_base64(text);
        if let Some(bytes) = decoded.as_deref()
            && bytes.len() == KEY_LEN
        {
            key.bytes.copy_from_slice(bytes);
            return Ok(Self(key.identified(MASTER_KEY_ID_LABEL)));
        }

        Err(if is_hex && text.len().is_multiple_of(2) {
            KeyError::WrongLength {
                encoding: KeyEncoding::Hex,
                bytes: text.len() / 2,
            }
        } else if let Some(bytes) = decoded.as_deref() {
            KeyError::WrongLength {
                encoding: KeyEncoding::Base64,
                bytes: bytes.len(),
            }
        } else {
            KeyError::NotEncoded {
                chars: text.chars().count(),
            }
        })
    }

    /// Parses a list of keys separated by commas or whitespace (`ENCRYPTION_KEYS_PREVIOUS`).
    /// An empty or blank list is no keys.
    ///
    /// # Errors
    /// [`KeyError::InList`] with the 1-based position of the first bad entry.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, KeyError> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .enumerate()
            .map(|(index, entry)| {
                Self::parse(entry).map_err(|reason| KeyError::InList {
                    position: index + 1,
                    reason: Box::new(reason),
                })
            })
            .collect()
    }

    /// A fresh random key, e.g. for a development key file.
    #[must_use]
    pub fn generate() -> Self {
        Self(KeyMaterial::random(MASTER_KEY_ID_LABEL))
    }

    /// Standard padded base64 of the key, the form [`MasterKey::parse`] reads back. The caller
    /// holds key material in the returned string and should write it out and drop it.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.bytes)
    }

    /// A stable, non-reversible id for this key, written into the header of everything it wraps.
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.0.id
    }

    pub(crate) const fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0.bytes
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id={:08x})", self.0.id)
    }
}

/// A session's own data key: seals that session's records. Stored only wrapped by a master key;
/// deleting the wrapped copy shreds every record it sealed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey(KeyMaterial);

impl DataKey {
    /// A fresh random data key.
    #[must_use]
    pub fn generate() -> Self {
        Self(KeyMaterial::random(DATA_KEY_ID_LABEL))
    }

    /// A stable, non-reversible id for this key, written into the header of everything it seals
    /// so that opening with the wrong session's key fails fast with [`CryptoError::UnknownKey`].
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.0.id
    }

    /// Encrypts `plaintext` for the record described by `aad`. Each call draws a fresh random
    /// nonce, so sealing the same plaintext twice gives different output.
    ///
    /// # Panics
    /// If `plaintext` exceeds AES-GCM's 64 GiB limit.
    #[must_use]
    pub fn seal(&self, plaintext: &[u8], aad: &Aad) -> Vec<u8> {
        envelope::seal(&self.0.bytes, self.0.id, &aad.encode(), plaintext)
    }

    /// Decrypts a value produced by [`DataKey::seal`] for the same record.
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] if too short, [`CryptoError::UnsupportedVersion`] for an unknown
    /// format, [`CryptoError::UnknownKey`] if sealed by another data key, and
    /// [`CryptoError::Integrity`] if tampered with or bound to another session, record or purpose.
    pub fn open(&self, sealed: &[u8], aad: &Aad) -> Result<Vec<u8>, CryptoError> {
        let parsed = Sealed::parse(sealed)?;
        if parsed.key_id != self.0.id {
            return Err(CryptoError::UnknownKey);
        }
        let mut plaintext = vec![0; parsed.ciphertext.len()];
        parsed.open_into(&self.0.bytes, &aad.encode(), &mut plaintext)?;
        Ok(plaintext)
    }

    /// A key made from secret bytes the caller derived (e.g. a keyed hash of a secret only the
    /// client holds), for records that belong to no session yet.
    #[must_use]
    pub fn from_derived(bytes: [u8; KEY_LEN]) -> Self {
        let mut key = KeyMaterial::zeroed();
        key.bytes = bytes;
        Self(key.identified(DATA_KEY_ID_LABEL))
    }

    pub(crate) const fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0.bytes
    }

    /// Decrypts a wrapped key directly into the new key's storage, so the plaintext key never
    /// sits in an unwiped buffer.
    pub(crate) fn unwrap_from(
        parsed: &Sealed<'_>,
        master: &MasterKey,
        context: &[u8; super::aad::CONTEXT_LEN],
    ) -> Result<Self, CryptoError> {
        let mut key = KeyMaterial::zeroed();
        parsed.open_into(master.bytes(), context, &mut key.bytes)?;
        Ok(Self(key.identified(DATA_KEY_ID_LABEL)))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey(id={:08x})", self.0.id)
    }
}

/// First four bytes of SHA-256 over a fixed-length label and the key: enough to pick a key, far
/// too little to learn anything about it.
fn derive_id(label: &[u8], key: &[u8; KEY_LEN]) -> u32 {
    let digest = Sha256::new()
        .chain_update(label)
        .chain_update(key)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Accepts either alphabet with or without padding; rejects mixed alphabets and non-canonical
/// trailing bits, so one key has exactly one accepted spelling per alphabet.
fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    STANDARD_PAD_INDIFFERENT
        .decode(text)
        .or_else(|_| URL_SAFE_PAD_INDIFFERENT.decode(text))
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use uuid::Uuid;

    use super::super::aad::Purpose;
    use super::super::envelope::assert_every_flipped_bit_refused;
    use super::*;

    /// Starts with bytes whose standard base64 is `++//` and URL-safe base64 is `--__`, so the
    /// two alphabets really differ.
    fn sample_bytes() -> [u8; KEY_LEN] {
        let mut bytes = [0u8; KEY_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37);
        }
        bytes[..3].copy_from_slice(&[0xfb, 0xef, 0xff]);
        bytes
    }

    fn aad(purpose: Purpose) -> Aad {
        Aad::new(Uuid::new_v4(), Uuid::new_v4(), purpose)
    }

    #[test]
    fn parse_accepts_every_documented_spelling() {
        let bytes = sample_bytes();
        let spellings = [
            STANDARD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            hex::encode(bytes),
            hex::encode_upper(bytes),
            format!("  {}\n", STANDARD.encode(bytes)),
        ];
        let expected = derive_id(MASTER_KEY_ID_LABEL, &bytes);
        for text in &spellings {
            let key = MasterKey::parse(text).unwrap();
            assert_eq!(key.bytes(), &bytes, "{text}");
            assert_eq!(key.key_id(), expected);
        }
    }

    #[test]
    fn parse_rejects_wrong_lengths_with_the_length_in_bytes() {
        for len in [31, 33, 16, 64] {
            let bytes = vec![0xabu8; len];
            for (text, encoding) in [
                (STANDARD.encode(&bytes), KeyEncoding::Base64),
                (URL_SAFE_NO_PAD.encode(&bytes), KeyEncoding::Base64),
                (hex::encode(&bytes), KeyEncoding::Hex),
            ] {
                let err = MasterKey::parse(&text).unwrap_err();
                assert_eq!(
                    err,
                    KeyError::WrongLength {
                        encoding,
                        bytes: len
                    },
                    "{text}"
                );
                let message = err.to_string();
                assert!(message.contains(&format!("{len} bytes")), "{message}");
                assert!(!message.contains(&text), "{message}");
            }
        }
    }

    #[test]
    fn parse_rejects_passphrases_without_echoing_them() {
        for passphrase in [
            "correct horse battery staple",
            "mật khẩu bí mật của tôi",
            "hunter2!",
            // 32 ASCII characters: right length as raw bytes, but raw text is never a key.
            "abcdefghijklmnopqrstuvwxyz012345",
        ] {
            let err = MasterKey::parse(passphrase).unwrap_err();
            let message = err.to_string();
            assert!(!message.contains(passphrase), "{message}");
            for word in passphrase.split_whitespace().filter(|w| w.len() > 3) {
                assert!(!message.contains(word), "{message}");
            }
        }
        assert_eq!(MasterKey::parse(" \n").unwrap_err(), KeyError::Empty);
    }

    #[test]
    fn parse_rejects_mixed_alphabets() {
        let standard = STANDARD.encode(sample_bytes());
        assert!(standard.starts_with("++//"));
        let mixed = format!("-{}", &standard[1..]);
        assert!(MasterKey::parse(&mixed).is_err());
    }

    #[test]
    fn parse_list_reports_the_position_of_a_bad_entry() {
        let a = MasterKey::generate();
        let b = MasterKey::generate();
        let list = format!("{}, {}\n", a.to_base64(), hex::encode(b.bytes()));
        let keys = MasterKey::parse_list(&list).unwrap();
        assert_eq!(
            keys.iter().map(MasterKey::key_id).collect::<Vec<_>>(),
            [a.key_id(), b.key_id()]
        );
        assert!(MasterKey::parse_list("  ").unwrap().is_empty());

        let err = MasterKey::parse_list(&format!("{},tooshort", a.to_base64())).unwrap_err();
        assert!(
            matches!(err, KeyError::InList { position: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("entry 2 of the key list: "));
    }

    #[test]
    fn generated_master_keys_round_trip_through_base64_and_differ() {
        let key = MasterKey::generate();
        let again = MasterKey::parse(&key.to_base64()).unwrap();
        assert_eq!(again.bytes(), key.bytes());
        assert_eq!(again.key_id(), key.key_id());
        assert_ne!(MasterKey::generate().bytes(), key.bytes());
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let master = MasterKey::parse(&hex::encode(sample_bytes())).unwrap();
        let data = DataKey::generate();
        let shown = format!("{master:?} {master:#?} {data:?} {data:#?}");
        assert!(shown.starts_with(&format!("MasterKey(id={:08x})", master.key_id())));
        assert!(shown.contains(&format!("DataKey(id={:08x})", data.key_id())));
        for secret in [master.bytes(), data.bytes()] {
            assert!(!shown.contains(&hex::encode(secret)));
            assert!(!shown.contains(&STANDARD.encode(secret)));
            assert!(!shown.contains(&format!("{:?}", &secret[..4])));
        }
    }

    #[test]
    fn master_and_data_key_ids_use_separate_domains() {
        let bytes = sample_bytes();
        assert_ne!(
            derive_id(MASTER_KEY_ID_LABEL, &bytes),
            derive_id(DATA_KEY_ID_LABEL, &bytes)
        );
    }

    #[test]
    fn seal_open_round_trips_for_every_purpose() {
        let key = DataKey::generate();
        for purpose in Purpose::ALL {
            let aad = aad(purpose);
            for plaintext in [
                &b""[..],
                b"x",
                "Mình thấy buồn quá 😔".as_bytes(),
                &[0u8; 5000],
            ] {
                let sealed = key.seal(plaintext, &aad);
                assert_eq!(key.open(&sealed, &aad).unwrap(), plaintext);
                assert_eq!(key.clone().open(&sealed, &aad).unwrap(), plaintext);
            }
        }
    }

    #[test]
    fn ciphertext_does_not_open_under_another_session_record_or_purpose() {
        let key = DataKey::generate();
        let aad = aad(Purpose::MessageContent);
        let sealed = key.seal(b"hello", &aad);
        let moved = [
            Aad {
                session_id: Uuid::new_v4(),
                ..aad
            },
            Aad {
                record_id: Uuid::new_v4(),
                ..aad
            },
            Aad {
                purpose: Purpose::FeedbackText,
                ..aad
            },
            Aad {
                purpose: Purpose::TrainingData,
                ..aad
            },
            Aad::new(aad.record_id, aad.session_id, aad.purpose),
        ];
        for other in moved {
            assert_eq!(
                key.open(&sealed, &other),
                Err(CryptoError::Integrity),
                "{other:?}"
            );
        }
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let key = DataKey::generate();
        let aad = aad(Purpose::ConversationContext);
        let sealed = key.seal(b"a short message", &aad);
        assert_every_flipped_bit_refused(&sealed, |tampered| key.open(tampered, &aad));
    }

    #[test]
    fn truncated_or_extended_input_fails() {
        let key = DataKey::generate();
        let aad = aad(Purpose::MessageContent);
        let sealed = key.seal(b"hello", &aad);
        for len in 0..envelope::SEAL_OVERHEAD {
            assert_eq!(
                key.open(&sealed[..len], &aad),
                Err(CryptoError::Malformed),
                "{len}"
            );
        }
        // Longer truncations still parse but no longer authenticate.
        for len in envelope::SEAL_OVERHEAD..sealed.len() {
            assert_eq!(
                key.open(&sealed[..len], &aad),
                Err(CryptoError::Integrity),
                "{len}"
            );
        }
        let mut extended = sealed.clone();
        extended.push(0);
        assert_eq!(key.open(&extended, &aad), Err(CryptoError::Integrity));
    }

    #[test]
    fn another_sessions_key_is_reported_as_unknown() {
        let aad = aad(Purpose::MessageContent);
        let sealed = DataKey::generate().seal(b"hello", &aad);
        assert_eq!(
            DataKey::generate().open(&sealed, &aad),
            Err(CryptoError::UnknownKey)
        );
    }

    #[test]
    fn nonces_differ_between_seals_of_the_same_plaintext() {
        let key = DataKey::generate();
        let aad = aad(Purpose::MessageContent);
        let one = key.seal(b"same", &aad);
        let two = key.seal(b"same", &aad);
        assert_eq!(one[..5], two[..5], "same header");
        assert_ne!(one[5..17], two[5..17], "fresh nonce");
        assert_ne!(one[17..], two[17..]);
    }

    #[test]
    fn errors_do_not_mention_plaintext_or_key_bytes() {
        let key = DataKey::generate();
        let aad = aad(Purpose::MessageContent);
        let mut sealed = key.seal(b"very private words", &aad);
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let err = key.open(&sealed, &aad).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("private"));
        assert!(!shown.contains(&hex::encode(key.bytes())));
        assert_eq!(err.category(), "integrity");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn any_plaintext_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let key = DataKey::generate();
                let aad = aad(Purpose::TrainingData);
                let sealed = key.seal(&plaintext, &aad);
                prop_assert_eq!(sealed.len(), plaintext.len() + envelope::SEAL_OVERHEAD);
                prop_assert_eq!(key.open(&sealed, &aad).unwrap(), plaintext);
            }

            #[test]
            fn arbitrary_bytes_never_panic(garbage in proptest::collection::vec(any::<u8>(), 0..128)) {
                let key = DataKey::generate();
                prop_assert!(key.open(&garbage, &aad(Purpose::MessageContent)).is_err());
            }
        }
    }
}
