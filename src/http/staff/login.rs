//! `POST /api/v1/staff/login` and `POST /api/v1/staff/logout`.
//!
//! A wrong password, an unknown name and a disabled account get the same 401
//! `invalid_credentials` after the same work (an unknown name is checked against a dummy hash), so
//! the answer does not tell which names exist. Attempts are limited per client address and per
//! name before any password is checked. Neither the name tried nor the token reaches a log.

use super::super::body::RequestBody;
use super::super::error::ApiError;
use super::super::openapi;
use super::super::state::AppState;
use super::StaffPrincipal;
use actix_web::{HttpRequest, HttpResponse, web};
use cbln_actors::crypto::generate_staff_token;
use cbln_actors::persistence::Timestamp;
use cbln_actors::persistence::messages::{DeleteStaffToken, FindStaffByUsername, InsertStaffToken};
use cbln_actors::staff::{normalise_username, verify_password_or_dummy};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `POST /api/v1/staff/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The user name (case does not matter).
    pub username: String,
    /// The password.
    #[schema(value_type = String)]
    pub password: SecretString,
}

/// Answer of `POST /api/v1/staff/login`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer` on every staff route; shown once, stored only as a keyed
    /// hash.
    pub token: String,
    /// When the sign-in ends (`[staff] shift_hours` after it began), RFC 3339 UTC.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// `counsellor`, `supervisor` or `admin`.
    pub role: &'static str,
}

/// Sign in as a member of staff. 422 `validation_failed` when `username` or `password` is
/// missing; 429 `rate_limited` after too many attempts from this address or for this name.
#[utoipa::path(post, path = "/api/v1/staff/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = 401, response = openapi::InvalidCredentials)),
    tag = "staff")]
pub async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: RequestBody,
) -> Result<HttpResponse, ApiError> {
    let body: LoginRequest = body.required("username", "`username` is required").await?;
    // The limit keys on the name as a person would type it, so `Lan` and `lan` share one budget;
    // no longer than a valid name, so a huge one cannot pin memory in the limiter.
    let tried: String = body
        .username
        .trim()
        .to_ascii_lowercase()
        .chars()
        .take(*cbln_actors::staff::USERNAME_CHARS.end() + 1)
        .collect();
    state.limits.admit_staff_login(&request, &tried).await?;
    let account = match normalise_username(&tried) {
        Ok(username) => {
            state
                .system
                .persistence
                .ask(FindStaffByUsername { username })
                .await?
        }
        Err(_) => None,
    };
    let password = body.password;
    let stored = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    let matches =
        web::block(move || verify_password_or_dummy(password.expose_secret(), stored.as_deref()))
            .await
            .map_err(|_| {
                tracing::error!("password check could not run");
                ApiError::Internal
            })?;
    let account = match account {
        Some(account) if matches && !account.disabled => account,
        _ => {
            tracing::info!("staff sign-in refused");
            return Err(ApiError::InvalidCredentials);
        }
    };
    let token = generate_staff_token();
    let now = Timestamp::now();
    let expires_at = now.plus(state.staff.shift);
    state
        .system
        .persistence
        .ask(InsertStaffToken {
            token_hash: state.staff.hasher.hash(&token),
            staff_id: account.id,
            expires_at,
            now,
        })
        .await?;
    tracing::info!(staff_id = %account.id, role = account.role.as_str(), "staff signed in");
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        expires_at,
        role: account.role.as_str(),
    }))
}

/// End this sign-in: the token stops working at once, on every instance.
#[utoipa::path(post, path = "/api/v1/staff/logout",
    security(("staff_token" = [])),
    responses((status = 204, description = "Signed out")),
    tag = "staff")]
pub async fn logout(
    state: web::Data<AppState>,
    principal: StaffPrincipal,
) -> Result<HttpResponse, ApiError> {
    state
        .system
        .persistence
        .ask(DeleteStaffToken {
            token_hash: principal.token_hash,
        })
        .await?;
    tracing::info!(staff_id = %principal.staff_id, "staff signed out");
    Ok(HttpResponse::NoContent().finish())
}
