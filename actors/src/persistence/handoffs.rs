//! Handoff rows, their wrapped keys, the sealed entries a counsellor reads, and the access log.

use super::StoreError;
use super::records::WrappedKey;
use super::session_version::{bump_session_version, hold_session_row};
use super::store::{Store, execute, with_connection};
use super::time::Timestamp;
use crate::crisis::RiskLevel;
use crate::domain::Language;
use crate::handoff::{
    EntryRole, HandoffRecord, HandoffStatus, NewHandoff, Outcome, QueueFigures, SealedEntry, Share,
};
use sqlx::Connection;
use uuid::Uuid;

/// Shreds one handoff inside a transaction (a macro so one body serves both backends' types):
/// the key first, which alone makes the entries unreadable, then the entries themselves. Answers
/// whether there was a key to destroy: none when another transaction (a quick exit, the session's
/// deletion) shredded the handoff first.
macro_rules! shred_in {
    ($tx:expr, $id:expr) => {{
        let keys = sqlx::query("DELETE FROM handoff_keys WHERE handoff_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM handoff_entries WHERE handoff_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        keys == 1
    }};
}

/// Inserts `$entry` into the handoff `$handoff_id` inside the transaction `$tx`: `at` the given
/// sequence number, or `next` after the handoff's last entry. One statement for both, so the
/// columns and their binds cannot drift apart.
macro_rules! insert_entry {
    ($tx:expr, $handoff_id:expr, $entry:expr, at $seq:expr) => {
        insert_entry!(@run $tx, $handoff_id, $entry, "VALUES ($1, $2, $3, $4, $5, $6, $7)", $seq)
    };
    ($tx:expr, $handoff_id:expr, $entry:expr, next) => {
        // An aggregate: one row, whether the handoff has entries or not.
        insert_entry!(
            @run $tx,
            $handoff_id,
            $entry,
            "SELECT $1, $2, $3, $4, $5, $6, COALESCE(MAX(seq), 0) + 1 FROM handoff_entries \
             WHERE handoff_id = $2"
        )
    };
    (@run $tx:expr, $handoff_id:expr, $entry:expr, $rows:literal $(, $seq:expr)?) => {
        sqlx::query(concat!(
            "INSERT INTO handoff_entries (id, handoff_id, role, message_id, content, created_at, \
             seq) ",
            $rows
        ))
        .bind($entry.id)
        .bind($handoff_id)
        .bind($entry.role.as_str())
        .bind($entry.message_id)
        .bind(&$entry.content)
        .bind($entry.created_at)
        $(.bind($seq))?
        .execute(&mut *$tx)
        .await?
    };
}

/// Inside the transaction `$tx` about to change the state of a session's handoff: the session's
/// version moves on first (see [`bump_session_version!`]), so every session actor's copy (which
/// caches the open handoff) is stale and reloads before its next write, and the session row is
/// taken before the handoff row.
macro_rules! handoff_changing {
    ($tx:expr, session $session_id:expr) => {
        bump_session_version!(rows &mut *$tx, where "id = $1", $session_id);
    };
    ($tx:expr, handoff $handoff_id:expr) => {
        bump_session_version!(
            rows &mut *$tx,
            where "id = (SELECT session_id FROM handoffs WHERE id = $1)",
            $handoff_id
        );
    };
}

/// Ends the transaction `$tx` of a handoff change that touched `$affected` handoff rows: kept
/// when it changed the one handoff, rolled back otherwise (the session's version stays, so no
/// copy reloads for nothing). Answers whether it changed.
macro_rules! finish_change {
    ($tx:expr, $affected:expr) => {{
        let changed = $affected == 1;
        if changed {
            $tx.commit().await?;
        } else {
            $tx.rollback().await?;
        }
        changed
    }};
}
pub(super) use finish_change;

/// The handoffs that `SELECT` [`HANDOFF_COLUMNS`] `$tail` (its `WHERE`, order and limit) finds
/// with `$binds`, as records: `one` (or none), or `all`.
macro_rules! handoffs_where {
    ($store:expr, one, $tail:expr $(, $bind:expr)*) => {{
        let sql = sqlx::AssertSqlSafe(format!("{HANDOFF_COLUMNS} {}", $tail));
        let row = with_connection!($store, conn => {
            sqlx::query_as::<_, HandoffRow>(sql)$(.bind($bind))*.fetch_optional(&mut *conn).await?
        });
        row.map(HandoffRecord::try_from).transpose()
    }};
    ($store:expr, all, $tail:expr $(, $bind:expr)*) => {{
        let sql = sqlx::AssertSqlSafe(format!("{HANDOFF_COLUMNS} {}", $tail));
        let rows = with_connection!($store, conn => {
            sqlx::query_as::<_, HandoffRow>(sql)$(.bind($bind))*.fetch_all(&mut *conn).await?
        });
        rows.into_iter().map(HandoffRecord::try_from).collect()
    }};
}

/// One state change of the handoff `$id` (`$sql`, binding `$id` then `$binds`) in a transaction
/// that moves its session's version on; answers whether it changed the handoff.
macro_rules! change_handoff {
    ($store:expr, $id:expr, $sql:expr $(, $bind:expr)*) => {
        with_connection!($store, conn => {
            let mut tx = conn.begin().await?;
            handoff_changing!(tx, handoff $id);
            let affected = sqlx::query($sql)
                .bind($id)
                $(.bind($bind))*
                .execute(&mut *tx)
                .await?
                .rows_affected();
            finish_change!(tx, affected)
        })
    };
}

const HANDOFF_COLUMNS: &str = "SELECT id, session_id, status, share, risk, language, created_at, \
     claimed_by, claimed_at, closed_at, outcome FROM handoffs";

/// Crisis first, then elevated, then the rest: the queue's first key.
const RISK_RANK: &str = "CASE risk WHEN 'crisis' THEN 0 WHEN 'elevated' THEN 1 ELSE 2 END";

/// How many recent claims the mean wait is taken over.
const WAIT_SAMPLE: i64 = 50;

/// Handoffs counted by status: `(status, n)`.
type StatusCounts = Vec<(String, i64)>;

#[derive(sqlx::FromRow)]
struct HandoffRow {
    id: Uuid,
    session_id: Uuid,
    status: String,
    share: String,
    risk: String,
    language: String,
    created_at: Timestamp,
    claimed_by: Option<Uuid>,
    claimed_at: Option<Timestamp>,
    closed_at: Option<Timestamp>,
    outcome: Option<String>,
}

impl TryFrom<HandoffRow> for HandoffRecord {
    type Error = StoreError;

    fn try_from(row: HandoffRow) -> Result<Self, Self::Error> {
        let corrupt = StoreError::Corrupt;
        Ok(HandoffRecord {
            id: row.id,
            session_id: row.session_id,
            status: HandoffStatus::parse(&row.status).ok_or(corrupt("unknown handoff status"))?,
            share: Share::parse(&row.share).ok_or(corrupt("unknown handoff share"))?,
            risk: RiskLevel::parse(&row.risk).ok_or(corrupt("unknown risk level"))?,
            language: Language::parse(&row.language).ok_or(corrupt("unknown language code"))?,
            created_at: row.created_at,
            claimed_by: row.claimed_by,
            claimed_at: row.claimed_at,
            closed_at: row.closed_at,
            outcome: row
                .outcome
                .map(|o| Outcome::parse(&o).ok_or(corrupt("unknown handoff outcome")))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: Uuid,
    role: String,
    message_id: Option<Uuid>,
    content: Vec<u8>,
    created_at: Timestamp,
}

impl TryFrom<EntryRow> for SealedEntry {
    type Error = StoreError;

    fn try_from(row: EntryRow) -> Result<Self, Self::Error> {
        Ok(SealedEntry {
            id: row.id,
            role: EntryRole::parse(&row.role)
                .ok_or(StoreError::Corrupt("unknown handoff entry role"))?,
            message_id: row.message_id,
            content: row.content,
            created_at: row.created_at,
        })
    }
}

/// How a handoff was ended by the person or their session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// Still waiting: cancelled, and its key destroyed at once (no one read it).
    Cancelled,
    /// A counsellor had it: cancelled, its key kept for the retention so the counsellor can see
    /// the person left.
    Left,
}

impl Store {
    /// Stores a new handoff with its wrapped key and shared material in one transaction.
    /// [`StoreError::Conflict`] when the session already has an open handoff.
    pub async fn insert_handoff(&self, new: &NewHandoff) -> Result<(), StoreError> {
        let record = &new.record;
        with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            handoff_changing!(tx, session record.session_id);
            sqlx::query(
                "INSERT INTO handoffs (id, session_id, status, share, risk, language, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(record.id)
            .bind(record.session_id)
            .bind(record.status.as_str())
            .bind(record.share.as_str())
            .bind(record.risk.as_str())
            .bind(record.language.as_str())
            .bind(record.created_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO handoff_keys (handoff_id, key_id, wrapped_key, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(record.id)
            .bind(new.key.key_id)
            .bind(&new.key.wrapped_key)
            .bind(record.created_at)
            .execute(&mut *tx)
            .await?;
            for (seq, entry) in (1_i64..).zip(&new.entries) {
                insert_entry!(tx, record.id, entry, at seq);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The session's handoff: the open one, else the latest.
    pub async fn session_handoff(
        &self,
        session_id: Uuid,
    ) -> Result<Option<HandoffRecord>, StoreError> {
        handoffs_where!(
            self,
            one,
            "WHERE session_id = $1 ORDER BY CASE WHEN status IN ('queued', 'assigned') \
             THEN 0 ELSE 1 END, created_at DESC LIMIT 1",
            session_id
        )
    }

    /// One handoff by id.
    pub async fn handoff_by_id(&self, id: Uuid) -> Result<Option<HandoffRecord>, StoreError> {
        handoffs_where!(self, one, "WHERE id = $1", id)
    }

    /// The handoffs `staff_id` has now, and those of theirs that ended since `ended_since`, in
    /// the order they were claimed.
    pub async fn staff_handoffs(
        &self,
        staff_id: Uuid,
        ended_since: Timestamp,
    ) -> Result<Vec<HandoffRecord>, StoreError> {
        handoffs_where!(
            self,
            all,
            "WHERE claimed_by = $1 AND (status = 'assigned' OR closed_at >= $2) \
             ORDER BY claimed_at, id",
            staff_id,
            ended_since
        )
    }

    /// The waiting handoffs in the order counsellors take them: highest risk first, then longest
    /// wait.
    pub async fn queued_handoffs(&self, limit: i64) -> Result<Vec<HandoffRecord>, StoreError> {
        handoffs_where!(
            self,
            all,
            format!("WHERE status = 'queued' ORDER BY {RISK_RANK}, created_at, id LIMIT $1"),
            limit
        )
    }

    /// Where a queued handoff stands: 1 when it is next. `None` when it is not queued.
    pub async fn queue_position(&self, id: Uuid) -> Result<Option<i64>, StoreError> {
        let rank_q = RISK_RANK.replace("risk", "q.risk");
        let rank_h = RISK_RANK.replace("risk", "h.risk");
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM handoffs q, handoffs h WHERE h.id = $1 AND h.status = 'queued' \
             AND q.status = 'queued' AND ({rank_q} < {rank_h} OR ({rank_q} = {rank_h} AND \
             (q.created_at < h.created_at OR (q.created_at = h.created_at AND q.id <= h.id))))"
        ));
        let ahead: i64 = with_connection!(self, conn => {
            sqlx::query_scalar(sql).bind(id).fetch_one(&mut *conn).await?
        });
        Ok((ahead > 0).then_some(ahead))
    }

    /// Queue length, handoffs assigned, and the mean wait over recent claims.
    pub async fn queue_figures(&self) -> Result<QueueFigures, StoreError> {
        let (counts, claims): (StatusCounts, Vec<(Timestamp, Timestamp)>) = with_connection!(self, conn => {
            let counts = sqlx::query_as(
                "SELECT status, COUNT(*) FROM handoffs WHERE status IN ('queued', 'assigned') \
                 GROUP BY status",
            )
            .fetch_all(&mut *conn)
            .await?;
            let claims = sqlx::query_as(
                "SELECT created_at, claimed_at FROM handoffs WHERE claimed_at IS NOT NULL \
                 ORDER BY claimed_at DESC LIMIT $1",
            )
            .bind(WAIT_SAMPLE)
            .fetch_all(&mut *conn)
            .await?;
            (counts, claims)
        });
        let count = |status: HandoffStatus| {
            counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| *n)
        };
        let waits: Vec<i64> = claims
            .iter()
            .map(|(asked, claimed)| (claimed.unix_millis() - asked.unix_millis()).max(0) / 1000)
            .collect();
        let mean_wait_s =
            (!waits.is_empty()).then(|| waits.iter().sum::<i64>() / waits.len() as i64);
        Ok(QueueFigures {
            queued: count(HandoffStatus::Queued),
            assigned: count(HandoffStatus::Assigned),
            mean_wait_s,
        })
    }

    /// Ends the session's open handoff on the person's word (or their session's end). Answers
    /// the handoff as it was before, or `None` when none was open.
    pub async fn withdraw_handoff(
        &self,
        session_id: Uuid,
        now: Timestamp,
        retention: std::time::Duration,
    ) -> Result<Option<(HandoffRecord, Withdrawal)>, StoreError> {
        let Some(open) = self
            .session_handoff(session_id)
            .await?
            .filter(|h| h.status.is_open())
        else {
            return Ok(None);
        };
        let (withdrawal, shred_after) = match open.status {
            HandoffStatus::Assigned => (Withdrawal::Left, now.plus(retention)),
            _ => (Withdrawal::Cancelled, now),
        };
        let ended = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            handoff_changing!(tx, session session_id);
            let affected = sqlx::query(
                "UPDATE handoffs SET status = 'cancelled', outcome = 'left', closed_at = $2, \
                 shred_after = $3, updated_at = $2 WHERE id = $1 AND status = $4",
            )
            .bind(open.id)
            .bind(now)
            .bind(shred_after)
            .bind(open.status.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if affected == 1 && withdrawal == Withdrawal::Cancelled {
                // The key is there: the handoff row was still open under the session's lock.
                let _shredded: bool = shred_in!(tx, open.id);
            }
            finish_change!(tx, affected)
        });
        // Claimed or ended by someone else meanwhile: the person asks again and sees which.
        Ok(ended.then_some((open, withdrawal)))
    }

    /// A counsellor takes a queued handoff; false when it was not queued (taken or ended).
    pub async fn claim_handoff(
        &self,
        id: Uuid,
        staff_id: Uuid,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(change_handoff!(
            self,
            id,
            "UPDATE handoffs SET status = 'assigned', claimed_by = $2, claimed_at = $3, \
             updated_at = $3 WHERE id = $1 AND status = 'queued'",
            staff_id,
            now
        ))
    }

    /// The counsellor who has it closes an assigned handoff; its key is destroyed after
    /// `shred_after`. False when it was not assigned to them.
    pub async fn close_handoff(
        &self,
        id: Uuid,
        staff_id: Uuid,
        outcome: Outcome,
        now: Timestamp,
        shred_after: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(change_handoff!(
            self,
            id,
            "UPDATE handoffs SET status = 'closed', outcome = $3, closed_at = $4, \
             shred_after = $5, updated_at = $4 \
             WHERE id = $1 AND claimed_by = $2 AND status = 'assigned'",
            staff_id,
            outcome.as_str(),
            now,
            shred_after
        ))
    }

    /// Raises the risk of the session's open handoff (never lowers it: the queue keeps a
    /// person who was in crisis at its head). True when it changed.
    pub async fn raise_handoff_risk(
        &self,
        session_id: Uuid,
        risk: RiskLevel,
    ) -> Result<bool, StoreError> {
        let lower: Vec<&str> = RiskLevel::ALL
            .iter()
            .filter(|r| **r < risk)
            .map(|r| r.as_str())
            .collect();
        if lower.is_empty() {
            return Ok(false);
        }
        let placeholders: Vec<String> = (0..lower.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE handoffs SET risk = $2 WHERE session_id = $1 \
             AND status IN ('queued', 'assigned') AND risk IN ({})",
            placeholders.join(", ")
        ));
        let affected = with_connection!(self, conn => {
            let mut query = sqlx::query(sql).bind(session_id).bind(risk.as_str());
            for level in &lower {
                query = query.bind(*level);
            }
            query.execute(&mut *conn).await?.rows_affected()
        });
        Ok(affected > 0)
    }

    /// A handoff's wrapped key; `None` once it was destroyed.
    pub async fn handoff_key(&self, id: Uuid) -> Result<Option<WrappedKey>, StoreError> {
        let key = with_connection!(self, conn => {
            sqlx::query_as("SELECT key_id, wrapped_key FROM handoff_keys WHERE handoff_id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
        });
        Ok(key)
    }

    /// Everything a counsellor may read of a handoff, in order.
    pub async fn handoff_entries(&self, id: Uuid) -> Result<Vec<SealedEntry>, StoreError> {
        let rows: Vec<EntryRow> = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT id, role, message_id, content, created_at FROM handoff_entries \
                 WHERE handoff_id = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
        });
        rows.into_iter().map(SealedEntry::try_from).collect()
    }

    /// Adds one entry at the end of a handoff (after the next sequence number), unless its key
    /// was destroyed meanwhile: then the entry could never be read, nothing is stored, and the
    /// answer is false.
    pub async fn append_handoff_entry(
        &self,
        handoff_id: Uuid,
        entry: &SealedEntry,
    ) -> Result<bool, StoreError> {
        let appended = with_connection!(self, conn => {
            let mut tx = conn.begin().await?;
            // Locks in the order every handoff change and a session's deletion take them: the
            // session row, then the handoff's key. Taking the key first deadlocked with a
            // deletion, which holds the handoff row (cascading from the session) while it waits
            // for the key, when the entry's foreign key then waited for that handoff row. The
            // version stays: no actor caches the entries.
            let session_held = hold_session_row!(
                &mut *tx, where "id = (SELECT session_id FROM handoffs WHERE id = $1)", handoff_id
            );
            // The key row stays locked until the entry is in, so the shredding that destroys
            // the key waits for it and takes the entry too. It also orders two appends to one
            // handoff, so the later one's `MAX(seq)` sees the earlier's entry.
            let key_held = session_held
                && sqlx::query("UPDATE handoff_keys SET key_id = key_id WHERE handoff_id = $1")
                    .bind(handoff_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
            if key_held {
                insert_entry!(tx, handoff_id, entry, next);
            }
            finish_change!(tx, u64::from(key_held))
        });
        Ok(appended)
    }

    /// Destroys the keys and sealed entries of ended handoffs whose retention is over, in a
    /// batch. Answers how many handoffs were shredded here: one shredded by another transaction
    /// between the selection and its own does not count.
    pub async fn shred_ended_handoffs(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let ids: Vec<Uuid> = with_connection!(self, conn => {
            sqlx::query_scalar(
                "SELECT h.id FROM handoffs h JOIN handoff_keys k ON k.handoff_id = h.id \
                 WHERE h.shred_after IS NOT NULL AND h.shred_after <= $1 LIMIT $2",
            )
            .bind(now)
            .bind(batch)
            .fetch_all(&mut *conn)
            .await?
        });
        let mut shredded = 0;
        for id in &ids {
            let shredded_here = with_connection!(self, conn => {
                let mut tx = conn.begin().await?;
                let shredded_here = shred_in!(tx, *id);
                tx.commit().await?;
                shredded_here
            });
            shredded += u64::from(shredded_here);
        }
        Ok(shredded)
    }

    /// Ended handoffs counted by the conversation's risk and the outcome: `(risk, outcome, n)`.
    pub async fn handoff_outcomes(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = with_connection!(self, conn => {
            sqlx::query_as(
                "SELECT risk, outcome, COUNT(*) FROM handoffs WHERE outcome IS NOT NULL \
                 GROUP BY risk, outcome ORDER BY risk, outcome",
            )
            .fetch_all(&mut *conn)
            .await?
        });
        Ok(rows)
    }

    /// Records that someone did something to a handoff: ids and an action name only.
    pub async fn log_handoff_access(
        &self,
        staff_id: Option<Uuid>,
        handoff_id: Uuid,
        action: &'static str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO handoff_access_log (id, staff_id, handoff_id, action, at) \
             VALUES ($1, $2, $3, $4, $5)",
            Uuid::new_v4(),
            staff_id,
            handoff_id,
            action,
            at,
        );
        Ok(())
    }
}
