//! Session rows and their wrapped data keys.

use super::StoreError;
use super::records::{
    NewSession, OrphanedSessionRow, SessionRecord, SessionRow, VersionedSessionRow, WrappedKey,
};
use super::session_version::bump_session_version;
use super::store::{Store, execute, with_connection};
use super::time::Timestamp;
use sqlx::Connection;
use uuid::Uuid;

const SESSION_COLUMNS: &str = "SELECT id, language, is_crisis_mode, risk_level, last_activity, expires_at, created_at \
     FROM sessions";

impl Store {
    /// Creates a session and stores its wrapped data key, atomically.
    pub async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError> {
        with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            sqlx::query(
                "INSERT INTO sessions (id, token_hash, language, is_crisis_mode, last_activity, \
                 expires_at, created_at, updated_at) VALUES ($1, $2, $3, FALSE, $4, $5, $4, $4)",
            )
            .bind(session.id)
            .bind(&session.token_hash.as_bytes()[..])
            .bind(session.language.as_str())
            .bind(session.created_at)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO session_keys (session_id, key_id, wrapped_key, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(session.id)
            .bind(session.wrapped_key.key_id)
            .bind(&session.wrapped_key.wrapped_key)
            .bind(session.created_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Looks a session up by the keyed hash of its token.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("{SESSION_COLUMNS} WHERE token_hash = $1"));
        let row: Option<SessionRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(&token_hash[..]).fetch_optional(&mut *conn).await?
        });
        row.map(SessionRecord::try_from).transpose()
    }

    /// Looks a session up by id.
    pub async fn session_by_id(&self, id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("{SESSION_COLUMNS} WHERE id = $1"));
        let row: Option<SessionRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(id).fetch_optional(&mut *conn).await?
        });
        row.map(SessionRecord::try_from).transpose()
    }

    /// Up to `limit` unexpired sessions holding a user message that has awaited its reply since
    /// `committed_by` or longer, with their token hashes (how the registry keys live actors).
    pub async fn sessions_with_orphans(
        &self,
        committed_by: Timestamp,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<(SessionRecord, [u8; 32])>, StoreError> {
        // Driven by the partial index on awaiting messages, which is small.
        let sql = "SELECT id, language, is_crisis_mode, risk_level, last_activity, expires_at, \
                   created_at, token_hash FROM sessions WHERE expires_at > $2 AND id IN \
                   (SELECT session_id FROM messages WHERE awaiting_reply = TRUE \
                   AND created_at <= $1) ORDER BY id LIMIT $3";
        let rows: Vec<OrphanedSessionRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(committed_by).bind(now).bind(limit).fetch_all(&mut *conn).await?
        });
        rows.into_iter()
            .map(|row| {
                let token_hash: [u8; 32] = row
                    .token_hash
                    .as_slice()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("a token hash is not 32 bytes"))?;
                Ok((SessionRecord::try_from(row.session)?, token_hash))
            })
            .collect()
    }

    /// A session with its version, for a session actor checking or reloading its copy.
    pub async fn session_with_version(
        &self,
        id: Uuid,
    ) -> Result<Option<(SessionRecord, i64)>, StoreError> {
        let sql = "SELECT id, language, is_crisis_mode, risk_level, last_activity, expires_at, \
                   created_at, version FROM sessions WHERE id = $1";
        let row: Option<VersionedSessionRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(id).fetch_optional(&mut *conn).await?
        });
        row.map(|row| {
            let version = row.version;
            SessionRecord::try_from(row.session).map(|record| (record, version))
        })
        .transpose()
    }

    /// Records activity; false when the session no longer exists.
    pub async fn touch_session(&self, id: Uuid, now: Timestamp) -> Result<bool, StoreError> {
        let affected = execute!(
            self,
            "UPDATE sessions SET last_activity = $2, updated_at = $2 WHERE id = $1",
            id,
            now
        );
        Ok(affected == 1)
    }

    /// Extends a session's life; false when it no longer exists.
    pub async fn refresh_session(
        &self,
        id: Uuid,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let affected = with_connection!(self, conn => {
            bump_session_version!(
                rows &mut *conn,
                set "last_activity = $2, updated_at = $2, expires_at = $3",
                where "id = $1",
                id,
                now,
                expires_at
            )
        });
        Ok(affected == 1)
    }

    /// Hard-deletes a session; the cascade removes its messages, context, feedback, training
    /// data and wrapped key (crypto-shredding). False when it did not exist, or its token no
    /// longer names it: a quick exit that revoked the token after the caller found the session
    /// ended it first, and the deletion must answer as for any session gone.
    pub async fn delete_session(
        &self,
        id: Uuid,
        token_hash: &[u8; 32],
    ) -> Result<bool, StoreError> {
        let affected = execute!(
            self,
            "DELETE FROM sessions WHERE id = $1 AND token_hash = $2",
            id,
            &token_hash[..]
        );
        Ok(affected == 1)
    }

    /// The session's wrapped data key.
    pub async fn session_key(&self, id: Uuid) -> Result<Option<WrappedKey>, StoreError> {
        let sql = "SELECT key_id, wrapped_key FROM session_keys WHERE session_id = $1";
        Ok(with_connection!(self, conn => {
            sqlx::query_as(sql).bind(id).fetch_optional(&mut *conn).await?
        }))
    }
}
