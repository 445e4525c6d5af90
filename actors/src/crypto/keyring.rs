//! The set of master keys (Tink keyset model): the primary wraps, every listed key unwraps, so a
//! new primary can be deployed with the old one kept as previous and no downtime.

use uuid::Uuid;

use super::aad::data_key_context;
use super::envelope::{self, Sealed, WRAPPED_KEY_LEN};
use super::error::CryptoError;
use super::keys::{DataKey, MasterKey};

/// The configured master keys.
#[derive(Debug, Clone)]
pub struct KeyRing {
    primary: MasterKey,
    previous: Vec<MasterKey>,
}

impl KeyRing {
    /// `primary` wraps new data keys; `previous` keys only unwrap. Exact duplicates (including the
    /// primary listed again among the previous keys, common mid-rotation) are dropped.
    #[must_use]
    pub fn new(primary: MasterKey, previous: Vec<MasterKey>) -> Self {
        let mut kept: Vec<MasterKey> = Vec::with_capacity(previous.len());
        for key in previous {
            let duplicate = std::iter::once(&primary)
                .chain(&kept)
                .any(|k| k.bytes() == key.bytes());
            if !duplicate {
                kept.push(key);
            }
        }
        Self {
            primary,
            previous: kept,
        }
    }

    /// Id of the key that wraps new data keys.
    #[must_use]
    pub const fn primary_id(&self) -> u32 {
        self.primary.key_id()
    }

    /// Ids of every key, primary first: for the startup log line.
    #[must_use]
    pub fn key_ids(&self) -> Vec<u32> {
        self.keys().map(MasterKey::key_id).collect()
    }

    /// A fresh random data key for a new session.
    #[must_use]
    pub fn generate_data_key(&self) -> DataKey {
        DataKey::generate()
    }

    /// Wraps a session's data key under the primary, bound to that session.
    #[must_use]
    pub fn wrap(&self, key: &DataKey, session_id: Uuid) -> Vec<u8> {
        envelope::seal(
            self.primary.bytes(),
            self.primary.key_id(),
            &data_key_context(session_id),
            key.bytes(),
        )
    }

    /// Unwraps a session's data key with whichever listed master key the header names.
    ///
    /// # Errors
    /// [`CryptoError::UnknownKey`] if no listed key has that id (the key it was wrapped under has
    /// been removed from configuration), [`CryptoError::Integrity`] if tampered with or stored
    /// under another session, [`CryptoError::Malformed`] / [`CryptoError::UnsupportedVersion`]
    /// for input that is not a wrapped key of this format.
    pub fn unwrap(&self, wrapped: &[u8], session_id: Uuid) -> Result<DataKey, CryptoError> {
        let parsed = Sealed::parse(wrapped)?;
        if wrapped.len() != WRAPPED_KEY_LEN {
            return Err(CryptoError::Malformed);
        }
        let context = data_key_context(session_id);
        let mut result = Err(CryptoError::UnknownKey);
        // Ids are 32 bits, so two listed keys can share one; each candidate gets a try.
        for master in self.keys().filter(|k| k.key_id() == parsed.key_id) {
            result = DataKey::unwrap_from(&parsed, master, &context);
            if result.is_ok() {
                break;
            }
        }
        result
    }

    /// Re-wraps a data key under the primary, for `cbln keys rotate`. Returns `None` when it is
    /// already under the primary; the value is still fully verified either way, so rotation also
    /// reports corrupt rows.
    ///
    /// # Errors
    /// As [`KeyRing::unwrap`].
    pub fn rewrap(&self, wrapped: &[u8], session_id: Uuid) -> Result<Option<Vec<u8>>, CryptoError> {
        let key = self.unwrap(wrapped, session_id)?;
        if envelope::sealed_key_id(wrapped)? == self.primary.key_id() {
            return Ok(None);
        }
        Ok(Some(self.wrap(&key, session_id)))
    }

    fn keys(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&self.primary).chain(&self.previous)
    }
}

#[cfg(test)]
mod tests {
    use super::super::aad::{Aad, Purpose};
    use super::super::envelope::assert_every_flipped_bit_refused;
    use super::*;

    #[test]
    fn wrap_unwrap_round_trips() {
        let ring = KeyRing::new(MasterKey::generate(), Vec::new());
        let session = Uuid::new_v4();
        let key = ring.generate_data_key();
        let wrapped = ring.wrap(&key, session);
        assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
        assert_eq!(envelope::sealed_key_id(&wrapped), Ok(ring.primary_id()));

        let unwrapped = ring.unwrap(&wrapped, session).unwrap();
        assert_eq!(unwrapped.key_id(), key.key_id());
        let aad = Aad::new(session, Uuid::new_v4(), Purpose::MessageContent);
        let sealed = key.seal(b"xin chao", &aad);
        assert_eq!(unwrapped.open(&sealed, &aad).unwrap(), b"xin chao");
    }

    #[test]
    fn wrapped_key_is_bound_to_its_session() {
        let ring = KeyRing::new(MasterKey::generate(), Vec::new());
        let wrapped = ring.wrap(&DataKey::generate(), Uuid::new_v4());
        assert_eq!(
            ring.unwrap(&wrapped, Uuid::new_v4()).err(),
            Some(CryptoError::Integrity)
        );
    }

    #[test]
    fn wrapped_key_does_not_open_as_record_content_or_vice_versa() {
        let ring = KeyRing::new(MasterKey::generate(), Vec::new());
        let session = Uuid::new_v4();
        let data_key = DataKey::generate();
        let wrapped = ring.wrap(&data_key, session);
        for purpose in Purpose::ALL {
            let aad = Aad::new(session, Uuid::nil(), purpose);
            assert!(data_key.open(&wrapped, &aad).is_err());
            let sealed = data_key.seal(&[0; 32], &aad);
            assert!(ring.unwrap(&sealed, session).is_err());
        }
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let ring = KeyRing::new(MasterKey::generate(), Vec::new());
        let session = Uuid::new_v4();
        let wrapped = ring.wrap(&DataKey::generate(), session);
        assert_every_flipped_bit_refused(&wrapped, |tampered| ring.unwrap(tampered, session));
    }

    #[test]
    fn wrong_lengths_are_malformed() {
        let ring = KeyRing::new(MasterKey::generate(), Vec::new());
        let session = Uuid::new_v4();
        let wrapped = ring.wrap(&DataKey::generate(), session);
        for len in 0..wrapped.len() {
            assert_eq!(
                ring.unwrap(&wrapped[..len], session).err(),
                Some(CryptoError::Malformed),
                "{len}"
            );
        }
        let mut longer = wrapped;
        longer.push(0);
        assert_eq!(
            ring.unwrap(&longer, session).err(),
            Some(CryptoError::Malformed)
        );
    }

    #[test]
    fn key_removed_from_configuration_is_unknown() {
        let session = Uuid::new_v4();
        let old = KeyRing::new(MasterKey::generate(), Vec::new());
        let wrapped = old.wrap(&DataKey::generate(), session);
        let new = KeyRing::new(MasterKey::generate(), Vec::new());
        assert_eq!(
            new.unwrap(&wrapped, session).err(),
            Some(CryptoError::UnknownKey)
        );
        assert_eq!(
            new.rewrap(&wrapped, session).err(),
            Some(CryptoError::UnknownKey)
        );
    }

    #[test]
    fn rotation_keeps_old_data_readable_and_rewrap_moves_it_to_the_primary() {
        let session = Uuid::new_v4();
        let old_master = MasterKey::generate();
        let new_master = MasterKey::generate();
        let before = KeyRing::new(old_master.clone(), Vec::new());
        let data_key = before.generate_data_key();
        let wrapped = before.wrap(&data_key, session);
        let aad = Aad::new(session, Uuid::new_v4(), Purpose::FeedbackText);
        let sealed = data_key.seal(b"cam on", &aad);

        let after = KeyRing::new(new_master.clone(), vec![old_master.clone()]);
        assert_eq!(after.key_ids(), [new_master.key_id(), old_master.key_id()]);
        let unwrapped = after.unwrap(&wrapped, session).unwrap();
        assert_eq!(unwrapped.open(&sealed, &aad).unwrap(), b"cam on");

        let rewrapped = after.rewrap(&wrapped, session).unwrap().unwrap();
        assert_eq!(envelope::sealed_key_id(&rewrapped), Ok(new_master.key_id()));
        assert_eq!(after.rewrap(&rewrapped, session), Ok(None));

        // Once every row is rewrapped, the old key can go.
        let only_new = KeyRing::new(new_master, Vec::new());
        let final_key = only_new.unwrap(&rewrapped, session).unwrap();
        assert_eq!(final_key.open(&sealed, &aad).unwrap(), b"cam on");
    }

    #[test]
    fn rewrap_verifies_values_already_under_the_primary() {
        let ring = KeyRing::new(MasterKey::generate(), Vec::new());
        let session = Uuid::new_v4();
        let mut wrapped = ring.wrap(&DataKey::generate(), session);
        let last = wrapped.len() - 1;
        wrapped[last] ^= 1;
        assert_eq!(ring.rewrap(&wrapped, session), Err(CryptoError::Integrity));
    }

    #[test]
    fn duplicate_keys_are_dropped() {
        let primary = MasterKey::generate();
        let old = MasterKey::generate();
        let ring = KeyRing::new(
            primary.clone(),
            vec![primary.clone(), old.clone(), old.clone()],
        );
        assert_eq!(ring.key_ids(), [primary.key_id(), old.key_id()]);
    }

    #[test]
    fn debug_shows_ids_only() {
        let primary = MasterKey::generate();
        let shown = format!("{:?}", KeyRing::new(primary.clone(), Vec::new()));
        assert!(shown.contains(&format!("MasterKey(id={:08x})", primary.key_id())));
        assert!(!shown.contains(&hex::encode(primary.bytes())));
    }
}
