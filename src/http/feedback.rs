//! `/api/v1/feedback`: one rating per session; the free text is stored encrypted.

use super::body::RequestBody;
use super::error::ApiError;
use super::idempotency::Endpoint;
use super::openapi;
use super::session_of;
use super::state::AppState;
use super::token::resolve_token;
use super::views::FeedbackReceipt;
use crate::http::mirror::mirror_enum;
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::domain::{self, Rating};
use cbln_actors::session::SubmitFeedback;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest feedback text, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 1000;

mirror_enum! {
    /// Feedback categories; the wire names are the stored ones.
    #[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum FeedbackCategory from and into domain::FeedbackCategory {
        /// It helped.
        Helpful,
        /// It did not help.
        NotHelpful,
        /// Something was inappropriate.
        Inappropriate,
        /// Anything else.
        Other,
    }
}

/// Body of `POST /feedback`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackRequest {
    /// The token, when not sent in a header (compatibility; a header wins).
    pub session_token: Option<String>,
    /// 1..5. A number without a fraction (`4.0`) is an integer, as JSON Schema counts them.
    #[schema(value_type = i64, minimum = 1, maximum = 5)]
    pub rating: serde_json::Number,
    /// Up to 1000 characters as sent; stored trimmed, and only whitespace counts as none.
    #[schema(max_length = 1000)]
    pub feedback_text: Option<String>,
    /// Optional category.
    pub category: Option<FeedbackCategory>,
}

/// Answer of `POST /feedback`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackCreated {
    /// What was stored (without the text).
    pub feedback: FeedbackReceipt,
    /// A thank-you sentence.
    pub message: &'static str,
}

/// `n` as an integer when it has no fraction (`4` and `4.0`, not `4.5`).
fn whole_number(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        let value = n.as_f64()?;
        // Within ±2^53 an f64 holds every integer exactly, so the cast cannot round.
        (value.fract() == 0.0 && value.abs() <= 9_007_199_254_740_992.0).then_some(value as i64)
    })
}

/// Rate the conversation.
#[utoipa::path(post, path = "/api/v1/feedback", request_body = FeedbackRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "Makes retries safe: the first answer is replayed for 24 hours to requests with the same key and body.")),
    security((), ("bearer" = []), ("session_id" = [])),
    responses((status = 201, body = FeedbackCreated),
              (status = 409, response = openapi::Conflict)), tag = "feedback")]
pub async fn submit(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    let (body, raw) = body.json_and_bytes::<FeedbackRequest>().await?;
    let body = body.ok_or_else(|| ApiError::field("rating", "a rating is required"))?;
    let rating = Rating::parse(whole_number(&body.rating).unwrap_or(i64::MIN))
        .map_err(|error| ApiError::field("rating", error.to_string()))?;
    // The bound is on the text as sent, so that it is exactly the one the document declares.
    if body
        .feedback_text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_FEEDBACK_CHARS)
    {
        return Err(ApiError::field(
            "feedback_text",
            format!("feedback is longer than {MAX_FEEDBACK_CHARS} characters"),
        ));
    }
    let text = body
        .feedback_text
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let idempotency_key = super::idempotency::key_of(&request)?;
    let token = resolve_token(&request, None, body.session_token.as_deref())?;
    let session = session_of(&state, &token).await?;
    let category = body.category.map(Into::into);
    super::idempotency::guarded(
        &state,
        idempotency_key,
        Endpoint::SubmitFeedback,
        Some(session.session_id),
        &raw,
        || async {
            let receipt = session
                .ask(SubmitFeedback {
                    rating,
                    category,
                    text,
                })
                .await?;
            let response = HttpResponse::Created().json(FeedbackCreated {
                feedback: receipt.into(),
                message: "Thank you for your feedback.",
            });
            Ok((response, None))
        },
    )
    .await
}
