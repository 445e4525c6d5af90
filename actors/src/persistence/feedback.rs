//! Feedback rows (one per session; the free text is sealed).

use super::StoreError;
use super::records::NewFeedback;
use super::store::{Store, execute, with_connection};
use crate::domain::FeedbackCategory;

impl Store {
    /// Stores a session's feedback; `StoreError::Conflict` when it already gave some.
    pub async fn insert_feedback(&self, feedback: &NewFeedback) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO feedback (id, session_id, rating, category, text, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
            feedback.id,
            feedback.session_id,
            feedback.rating.get(),
            feedback.category.map(FeedbackCategory::as_str),
            &feedback.text,
            feedback.created_at,
        );
        Ok(())
    }

    /// The sealed text of a session's feedback, if any (for tests and data export).
    pub async fn feedback_text(
        &self,
        session_id: uuid::Uuid,
    ) -> Result<Option<(uuid::Uuid, Option<Vec<u8>>)>, StoreError> {
        let sql = "SELECT id, text FROM feedback WHERE session_id = $1";
        Ok(with_connection!(self, conn => {
            sqlx::query_as(sql).bind(session_id).fetch_optional(&mut *conn).await?
        }))
    }
}
