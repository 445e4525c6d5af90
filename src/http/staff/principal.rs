//! [`StaffPrincipal`]: the member of staff a request's `Authorization: Bearer` token names, as an
//! actix extractor. A handler that takes one runs only for a valid, unexpired token of an enabled
//! account; it then checks the role with [`StaffPrincipal::require`].

use super::super::error::ApiError;
use super::super::state::AppState;
use super::super::token::bearer_token;
use super::StaffRole;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use cbln_actors::crypto::{TokenHash, looks_like_staff_token};
use cbln_actors::persistence::Timestamp;
use cbln_actors::persistence::messages::FindStaffByToken;
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

/// A signed-in member of staff.
#[derive(Debug, Clone)]
pub struct StaffPrincipal {
    /// Their account.
    pub staff_id: Uuid,
    /// Their user name.
    pub username: String,
    /// Their role.
    pub role: StaffRole,
    /// The token's keyed hash, so this sign-in can be ended.
    pub(super) token_hash: TokenHash,
}

impl StaffPrincipal {
    /// `Ok` when this person's role includes `needed` (admin ⊇ supervisor ⊇ counsellor), else
    /// 403 `forbidden`.
    pub fn require(&self, needed: StaffRole) -> Result<(), ApiError> {
        if self.role.includes(needed) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Who the request's token names: 401 `staff_token_required` without a bearer token, 401
    /// `staff_token_invalid` for one that is malformed, unknown, expired, ended, or whose account
    /// is disabled.
    pub async fn authenticate(state: &AppState, request: &HttpRequest) -> Result<Self, ApiError> {
        let token = bearer_token(request)
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::StaffTokenRequired)?;
        if !looks_like_staff_token(&token) {
            return Err(ApiError::StaffTokenInvalid);
        }
        let token_hash = state.staff.hasher.hash(&token);
        let identity = state
            .system
            .persistence
            .ask(FindStaffByToken {
                token_hash,
                now: Timestamp::now(),
            })
            .await?
            .ok_or(ApiError::StaffTokenInvalid)?;
        Ok(StaffPrincipal {
            staff_id: identity.staff_id,
            username: identity.username,
            role: identity.role,
            token_hash,
        })
    }
}

impl FromRequest for StaffPrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        AppState::extract(request, |state, request| async move {
            StaffPrincipal::authenticate(&state, &request).await
        })
    }
}
