//! Every stored wrapped key, paged for `cbln keys rotate`: the sessions' data keys and the
//! handoffs' own keys, each wrapped by the master key and bound to its owner's id.

use super::StoreError;
use super::records::WrappedKey;
use super::store::{Store, with_connection};
use super::time::Timestamp;
use uuid::Uuid;

/// Whose keys: each kind lives in its own table, keyed by its owner's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwner {
    /// A session's data key (`session_keys`).
    Session,
    /// A handoff's key (`handoff_keys`), until the handoff is shredded.
    Handoff,
}

impl KeyOwner {
    /// Both kinds, in the order rotation takes them.
    pub const ALL: [KeyOwner; 2] = [KeyOwner::Session, KeyOwner::Handoff];

    /// What the owner is called in a report.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOwner::Session => "session",
            KeyOwner::Handoff => "handoff",
        }
    }

    fn page_sql(self) -> &'static str {
        match self {
            KeyOwner::Session => {
                "SELECT session_id, key_id, wrapped_key FROM session_keys \
                 WHERE session_id > $1 ORDER BY session_id LIMIT $2"
            }
            KeyOwner::Handoff => {
                "SELECT handoff_id, key_id, wrapped_key FROM handoff_keys \
                 WHERE handoff_id > $1 ORDER BY handoff_id LIMIT $2"
            }
        }
    }

    fn replace_sql(self) -> &'static str {
        match self {
            KeyOwner::Session => {
                "UPDATE session_keys SET key_id = $2, wrapped_key = $3, updated_at = $4 \
                 WHERE session_id = $1"
            }
            // Only rotation changes a handoff's key, so it keeps no update time.
            KeyOwner::Handoff => {
                "UPDATE handoff_keys SET key_id = $2, wrapped_key = $3 WHERE handoff_id = $1"
            }
        }
    }
}

impl Store {
    /// A page of `owner`'s wrapped keys in id order, after `after`.
    pub async fn wrapped_keys_page(
        &self,
        owner: KeyOwner,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<(Uuid, WrappedKey)>, StoreError> {
        let after = after.unwrap_or(Uuid::nil());
        let rows: Vec<(Uuid, i64, Vec<u8>)> = with_connection!(self, conn => {
            sqlx::query_as(owner.page_sql())
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, key_id, wrapped_key)| {
                (
                    id,
                    WrappedKey {
                        key_id,
                        wrapped_key,
                    },
                )
            })
            .collect())
    }

    /// Replaces one of `owner`'s wrapped keys after rotation; false when it is gone (a session
    /// deleted, a handoff shredded, meanwhile).
    pub async fn replace_wrapped_key(
        &self,
        owner: KeyOwner,
        id: Uuid,
        key: &WrappedKey,
    ) -> Result<bool, StoreError> {
        let affected = with_connection!(self, conn => {
            let mut query = sqlx::query(owner.replace_sql())
                .bind(id)
                .bind(key.key_id)
                .bind(&key.wrapped_key);
            if owner == KeyOwner::Session {
                query = query.bind(Timestamp::now());
            }
            query.execute(&mut *conn).await?.rows_affected()
        });
        Ok(affected == 1)
    }
}
