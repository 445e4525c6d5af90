//! The handoff's own key: issued when the handoff is asked for, wrapped by the master key, and
//! the only key that opens what a counsellor reads.

use super::types::{HandoffEntry, SealedEntry};
use crate::crypto::{Aad, CryptoError, DataKey, KeyRing, Purpose};
use crate::persistence::WrappedKey;
use uuid::Uuid;

/// The plaintext key of one handoff (memory only; zeroed on drop like every data key).
pub struct HandoffKey {
    handoff_id: Uuid,
    key: DataKey,
}

impl std::fmt::Debug for HandoffKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HandoffKey({})", self.handoff_id)
    }
}

/// The context an entry is sealed to: the handoff (in the session's place), the row, the purpose.
pub fn entry_aad(handoff_id: Uuid, entry_id: Uuid) -> Aad {
    Aad::new(handoff_id, entry_id, Purpose::HandoffContent)
}

impl HandoffKey {
    /// A fresh key for a new handoff, and its wrapped form for storage. The wrapping is bound to
    /// the handoff's id, which no session shares (both are random), so neither key can stand in
    /// for the other.
    pub fn issue(keyring: &KeyRing, handoff_id: Uuid) -> (Self, WrappedKey) {
        let key = keyring.generate_data_key();
        let wrapped = WrappedKey {
            key_id: i64::from(keyring.primary_id()),
            wrapped_key: keyring.wrap(&key, handoff_id),
        };
        (HandoffKey { handoff_id, key }, wrapped)
    }

    /// Unwraps a stored handoff key.
    ///
    /// # Errors
    /// As [`KeyRing::unwrap`]: the master key is gone, or the value was tampered with or moved.
    pub fn unwrap(
        keyring: &KeyRing,
        handoff_id: Uuid,
        wrapped: &WrappedKey,
    ) -> Result<Self, CryptoError> {
        let key = keyring.unwrap(&wrapped.wrapped_key, handoff_id)?;
        Ok(HandoffKey { handoff_id, key })
    }

    /// Seals one entry under a fresh row id.
    pub fn seal(&self, entry: &HandoffEntry) -> SealedEntry {
        let id = Uuid::new_v4();
        SealedEntry {
            id,
            role: entry.role,
            message_id: entry.message_id,
            content: self
                .key
                .seal(entry.content.as_bytes(), &entry_aad(self.handoff_id, id)),
            created_at: entry.created_at,
        }
    }

    /// Opens one stored entry.
    ///
    /// # Errors
    /// [`CryptoError::Integrity`] when it was sealed for another handoff or row, or altered.
    pub fn open(&self, sealed: &SealedEntry) -> Result<HandoffEntry, CryptoError> {
        let bytes = self
            .key
            .open(&sealed.content, &entry_aad(self.handoff_id, sealed.id))?;
        Ok(HandoffEntry {
            role: sealed.role,
            message_id: sealed.message_id,
            content: String::from_utf8(bytes).map_err(|_| CryptoError::Malformed)?,
            created_at: sealed.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use crate::handoff::EntryRole;
    use crate::persistence::Timestamp;

    fn entry(text: &str) -> HandoffEntry {
        HandoffEntry {
            role: EntryRole::Note,
            message_id: None,
            content: text.to_string(),
            created_at: Timestamp::now(),
        }
    }

    #[test]
    fn an_entry_opens_with_its_handoffs_key_only() {
        let keyring = KeyRing::new(MasterKey::generate(), Vec::new());
        let handoff = Uuid::new_v4();
        let (key, wrapped) = HandoffKey::issue(&keyring, handoff);
        let sealed = key.seal(&entry("mình muốn nói chuyện"));
        assert!(
            !sealed.content.windows(6).any(|w| w == "chuyện".as_bytes()),
            "sealed, not plain"
        );
        let reopened = HandoffKey::unwrap(&keyring, handoff, &wrapped).unwrap();
        assert_eq!(
            reopened.open(&sealed).unwrap().content,
            "mình muốn nói chuyện"
        );

        let other = Uuid::new_v4();
        assert!(HandoffKey::unwrap(&keyring, other, &wrapped).is_err());
        let (other_key, _) = HandoffKey::issue(&keyring, other);
        assert!(other_key.open(&sealed).is_err());
    }
}
