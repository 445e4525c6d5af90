//! Staff accounts, their sign-in tokens (keyed hashes only) and the opening hours an admin set.

use super::StoreError;
use super::store::{Store, execute, with_connection};
use super::time::Timestamp;
use crate::crypto::TokenHash;
use crate::staff::{StaffIdentity, StaffRole};
use sqlx::Connection;
use uuid::Uuid;

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    /// Account id.
    pub id: Uuid,
    /// Lowercase user name.
    pub username: String,
    /// Role.
    pub role: StaffRole,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Refused at sign-in, tokens revoked.
    pub disabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: Uuid,
    username: String,
    role: String,
    password_hash: String,
    disabled: bool,
    created_at: Timestamp,
}

impl TryFrom<StaffRow> for StaffRecord {
    type Error = StoreError;

    fn try_from(row: StaffRow) -> Result<Self, Self::Error> {
        Ok(StaffRecord {
            id: row.id,
            username: row.username,
            role: StaffRole::parse(&row.role).ok_or(StoreError::Corrupt("unknown staff role"))?,
            password_hash: row.password_hash,
            disabled: row.disabled,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct IdentityRow {
    id: Uuid,
    username: String,
    role: String,
}

/// The stored opening hours, as JSON arrays of the configuration's strings.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredOpeningHours {
    /// JSON array of weekly spans.
    pub weekly: String,
    /// JSON array of holiday dates.
    pub holidays: String,
    /// Who set them (gone when that account was deleted).
    pub updated_by: Option<Uuid>,
    /// When.
    pub updated_at: Timestamp,
}

const STAFF_COLUMNS: &str = "id, username, role, password_hash, disabled, created_at";

impl Store {
    /// Creates an account; `StoreError::Conflict` when the user name is taken.
    pub async fn insert_staff(&self, staff: &StaffRecord) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO staff (id, username, role, password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
            staff.id,
            &staff.username,
            staff.role.as_str(),
            &staff.password_hash,
            staff.disabled,
            staff.created_at,
        );
        Ok(())
    }

    /// The account with this (lowercase) user name.
    pub async fn staff_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StaffRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff WHERE username = $1"
        ));
        let row: Option<StaffRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).bind(username).fetch_optional(&mut *conn).await?
        });
        row.map(StaffRecord::try_from).transpose()
    }

    /// Every account, by user name.
    pub async fn list_staff(&self) -> Result<Vec<StaffRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff ORDER BY username"
        ));
        let rows: Vec<StaffRow> = with_connection!(self, conn => {
            sqlx::query_as(sql).fetch_all(&mut *conn).await?
        });
        rows.into_iter().map(StaffRecord::try_from).collect()
    }

    /// Disables or enables an account; disabling also ends every sign-in of it, in the same
    /// transaction. `false` when there is no such account.
    pub async fn set_staff_disabled(
        &self,
        username: &str,
        disabled: bool,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.change_staff(username, Some(disabled), None, disabled, now)
            .await
    }

    /// Sets a new password hash and ends every sign-in made with the old password, in the same
    /// transaction. `false` when there is no such account.
    pub async fn set_staff_password(
        &self,
        username: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.change_staff(username, None, Some(password_hash), true, now)
            .await
    }

    /// Changes what is given of an account and, when `end_sign_ins`, deletes its tokens in the
    /// same transaction. `false` when there is no such account.
    async fn change_staff(
        &self,
        username: &str,
        disabled: Option<bool>,
        password_hash: Option<&str>,
        end_sign_ins: bool,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let found = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            let id: Option<Uuid> = sqlx::query_scalar(
                "UPDATE staff SET disabled = COALESCE($2, disabled), \
                 password_hash = COALESCE($3, password_hash), updated_at = $4 \
                 WHERE username = $1 RETURNING id",
            )
            .bind(username)
            .bind(disabled)
            .bind(password_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let (Some(id), true) = (id, end_sign_ins) {
                sqlx::query("DELETE FROM staff_tokens WHERE staff_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            id.is_some()
        });
        Ok(found)
    }

    /// Records a sign-in token by its keyed hash.
    pub async fn insert_staff_token(
        &self,
        token_hash: &TokenHash,
        staff_id: Uuid,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO staff_tokens (token_hash, staff_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4)",
            token_hash.as_bytes().as_slice(),
            staff_id,
            expires_at,
            now,
        );
        Ok(())
    }

    /// Who a sign-in token names, if it is unexpired and its account enabled.
    pub async fn staff_by_token(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<StaffIdentity>, StoreError> {
        let row: Option<IdentityRow> = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT s.id, s.username, s.role FROM staff_tokens t \
                 JOIN staff s ON s.id = t.staff_id \
                 WHERE t.token_hash = $1 AND t.expires_at > $2 AND NOT s.disabled",
            )
            .bind(token_hash.as_bytes().as_slice())
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?
        });
        row.map(|row| {
            Ok(StaffIdentity {
                staff_id: row.id,
                username: row.username,
                role: StaffRole::parse(&row.role)
                    .ok_or(StoreError::Corrupt("unknown staff role"))?,
            })
        })
        .transpose()
    }

    /// Ends one sign-in; `false` when the token was not (or no longer) stored.
    pub async fn delete_staff_token(&self, token_hash: &TokenHash) -> Result<bool, StoreError> {
        let deleted = execute!(
            self,
            "DELETE FROM staff_tokens WHERE token_hash = $1",
            token_hash.as_bytes().as_slice()
        );
        Ok(deleted > 0)
    }

    /// How many enabled people who may work the queue are signed in (hold an unexpired token)
    /// at `now`; each person counts once however many devices they signed in on.
    pub async fn count_queue_staff_signed_in(&self, now: Timestamp) -> Result<i64, StoreError> {
        // The role names are the enum's own constants, never input, so they may be inlined.
        let roles: Vec<String> = StaffRole::ALL
            .into_iter()
            .filter(|role| role.works_queue())
            .map(|role| format!("'{}'", role.as_str()))
            .collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(DISTINCT s.id) FROM staff_tokens t JOIN staff s ON s.id = t.staff_id \
             WHERE t.expires_at > $1 AND NOT s.disabled AND s.role IN ({})",
            roles.join(", ")
        ));
        let count = with_connection!(self, conn => {
            sqlx::query_scalar(sql).bind(now).fetch_one(&mut *conn).await?
        });
        Ok(count)
    }

    /// Deletes a batch of expired sign-in tokens; answers how many.
    pub async fn delete_expired_staff_tokens(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<u64, StoreError> {
        self.delete_expired_rows("staff_tokens", "token_hash", now, batch)
            .await
    }

    /// The opening hours an admin stored, if any.
    pub async fn opening_hours(&self) -> Result<Option<StoredOpeningHours>, StoreError> {
        let row = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT weekly, holidays, updated_by, updated_at FROM opening_hours WHERE id = 1",
            )
            .fetch_optional(&mut *conn)
            .await?
        });
        Ok(row)
    }

    /// Stores opening hours that override the configuration's.
    pub async fn set_opening_hours(&self, hours: &StoredOpeningHours) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO opening_hours (id, weekly, holidays, updated_by, created_at, updated_at) \
             VALUES (1, $1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE SET \
             weekly = excluded.weekly, holidays = excluded.holidays, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            &hours.weekly,
            &hours.holidays,
            hours.updated_by,
            hours.updated_at,
        );
        Ok(())
    }

    /// Forgets the stored opening hours, so the configuration's apply again.
    pub async fn clear_opening_hours(&self) -> Result<bool, StoreError> {
        let deleted = execute!(self, "DELETE FROM opening_hours WHERE id = 1");
        Ok(deleted > 0)
    }
}
