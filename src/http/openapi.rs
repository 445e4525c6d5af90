//! The shared pieces of the OpenAPI contract, for every route to use the same way: the names of
//! the security schemes, one error response per status (each with the one [`ErrorBody`] schema,
//! and `Retry-After` where the answer carries it), and [`Contract`], which registers them and adds
//! to every operation the errors that the middleware, the token lookup or the body reader may
//! answer on any route, so that no route declares them again.
//!
//! Annotating a route (`#[utoipa::path(...)]`):
//! - a token-taking operation declares `security(("bearer" = []), ("session_id" = []))`, plus
//!   `("session_token" = [])` when it also reads the `session_token` query parameter, and `()`
//!   first when no header is needed: the token is optional, in the path, or may come in the body
//!   (see [`BEARER`], [`SESSION_HEADER`], [`SESSION_QUERY`]); [`Contract`] adds its 401
//!   ([`Unauthorized`]) and 404 ([`NotFound`]): every session token is found the same way;
//! - a staff operation declares `security(("staff_token" = []))` ([`STAFF_TOKEN`]); [`Contract`]
//!   adds its 401 ([`StaffUnauthorized`]: every staff route takes the token the same way);
//! - an operation that needs a session token, which may come in the query (`session_token`, no
//!   `()`), also gets 422 from [`Contract`]: a query that does not parse;
//! - an operation with a JSON body gets 413, 415 and 422 from [`Contract`]: every body is read
//!   the same way;
//! - quick exit ([`NEVER_REFUSED`]) gets none of these: it answers 200 whatever came;
//! - each other status the handler itself can answer is `(status = 409, response =
//!   openapi::Conflict)` with the response type of that status below;
//! - 408 (with a request body), 414, 429, 500 and, under `/api/`, 503 are added by [`Contract`].
//!
//! `tests/api/contract.rs` checks the document against these rules.

use super::error::ErrorBody;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{Modify, PartialSchema, ToResponse, ToSchema};

/// `Authorization: Bearer <token>`: the usual way to send the session token.
pub const BEARER: &str = "bearer";
/// `X-Session-ID: <token>`.
pub const SESSION_HEADER: &str = "session_id";
/// `?session_token=<token>`: for clients that cannot set a header (a browser's EventSource) and
/// the old web client.
pub const SESSION_QUERY: &str = "session_token";

/// `Authorization: Bearer <staff token>`, from `POST /api/v1/staff/login`. A scheme of its own:
/// a staff token is never a session token, and no staff route takes one.
pub const STAFF_TOKEN: &str = "staff_token";

/// The response header that says when to retry.
const RETRY_AFTER: &str = "Retry-After";

fn error_response(description: &str, retry_after: Option<&str>) -> Response {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", body);
    if let Some(when) = retry_after {
        let seconds = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0));
        response = response.header(
            RETRY_AFTER,
            HeaderBuilder::new()
                .schema(Some(seconds))
                .description(Some(format!("Seconds to wait before retrying; {when}.")))
                .build(),
        );
    }
    response.build()
}

/// Declares one response type per error status, each a [`ToResponse`] that the document refers to
/// by name, and the list [`Contract`] registers.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident => $description:literal $(, retry_after = $when:literal)?;)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    let retry_after: Option<&str> = None $(.or(Some($when)))?;
                    (stringify!($name), error_response($description, retry_after).into())
                }
            }
        )*

        fn error_responses() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$(<$name as ToResponse>::response()),*]
        }
    };
}

error_responses! {
    /// 401.
    Unauthorized => "`session_required`: no session token came with the request (`Authorization: Bearer`, `X-Session-ID`, or where the operation allows it the `session_token` query parameter or body field), or what came cannot be one; `session_expired`: the session has expired, start a new one.";
    /// 401 on the staff routes.
    StaffUnauthorized => "`staff_token_required`: no `Authorization: Bearer` staff token came with the request; `staff_token_invalid`: the token is malformed, unknown, past its shift, signed out, or its account is disabled: sign in again.";
    /// 401 on the staff sign-in.
    InvalidCredentials => "`invalid_credentials`: the same answer for an unknown name, a wrong password and a disabled account.";
    /// 403.
    Forbidden => "`forbidden`: signed in as staff, but the role may not do this, or the handoff is another counsellor's.";
    /// 404.
    NotFound => "`session_not_found`: no session has this token (it was deleted, exited, or never existed); `message_not_found`: no such message in this session; `handoff_not_found`: no such handoff, or none open for this session.";
    /// 408, added by [`Contract`] to every operation with a request body.
    RequestTimeout => "`request_timeout`: the request body did not arrive within the deadline; the connection is closed.";
    /// 409.
    Conflict => "`feedback_exists`: feedback was already submitted for this session; `handoff_exists`: a handoff is already queued or assigned for this session; `handoff_taken`: another counsellor has already taken this handoff; `handoff_ended`: the handoff was closed or left; `idempotency_key_in_flight`: the first request with this `Idempotency-Key` is still running (with `Retry-After`).", retry_after = "sent with `idempotency_key_in_flight` only";
    /// 413.
    PayloadTooLarge => "`payload_too_large`: the request body is larger than the configured limit (64 KiB by default).";
    /// 414, added by [`Contract`] to every operation.
    UriTooLong => "`uri_too_long`: the URL (path and query) is longer than the configured limit (8 KiB by default); the connection is closed.";
    /// 415.
    UnsupportedMediaType => "`unsupported_media_type`: a non-empty body was sent without `Content-Type: application/json`.";
    /// 422.
    ValidationFailed => "`validation_failed`: a parameter or the body is not what the operation takes (`field` names it when one is at fault); `idempotency_key_reused`: this `Idempotency-Key` came with a different body.";
    /// 429, added by [`Contract`] to every operation (the connection cap applies everywhere).
    TooManyRequests => "`rate_limited`: too many messages for this session, sessions for this address, or staff sign-in attempts from this address or for this name; `too_many_connections`: too many connections are open from this address.", retry_after = "always sent";
    /// 500, added by [`Contract`] to every operation.
    InternalError => "`internal`: something went wrong on the server (the cause is logged, never sent).";
    /// 503, added by [`Contract`] to every operation under `/api/`.
    ServiceUnavailable => "`overloaded`: the service is busy or shutting down; `database_unavailable`: the database cannot be reached right now.", retry_after = "always sent";
}

/// An `Authorization: Bearer` scheme for tokens that look like `format`.
fn bearer(format: &str, description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format(format)
            .description(Some(description))
            .build(),
    )
}

/// A reference to the registered response `T`.
fn reference<T: for<'r> ToResponse<'r>>() -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(T::response().0))
}

/// Routes that answer 200 whatever came: quick exit must work with no token, an unknown one, or
/// any body, so it declares none of the errors a token or a body brings elsewhere.
pub const NEVER_REFUSED: [&str; 1] = ["/api/v1/sessions/exit"];

/// Request bodies written as a tagged enum, one shape per choice. utoipa closes a struct that
/// denies unknown fields but not the variants of such an enum, so the document would let a client
/// send fields the server refuses.
const CLOSED_ONE_OF_BODIES: [&str; 1] = ["HandoffRequest"];

/// Marks every object in the named `oneOf` schema `additionalProperties: false`.
fn close_variants(components: &mut utoipa::openapi::Components, name: &str) {
    let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(name) else {
        return;
    };
    for variant in &mut one_of.items {
        if let RefOr::T(Schema::Object(object)) = variant {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// The modifier (`#[openapi(modifiers(&Contract))]`): registers the error body, the error
/// responses and the security schemes, and adds the errors any route may answer.
pub struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
        let mut schemas = Vec::new();
        ErrorBody::schemas(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        for (name, response) in error_responses() {
            components.responses.insert(name.to_string(), response);
        }
        for name in CLOSED_ONE_OF_BODIES {
            close_variants(components, name);
        }
        components.add_security_scheme(
            BEARER,
            bearer("anon_…", "The session token from `POST /api/v1/sessions`."),
        );
        components.add_security_scheme(
            SESSION_HEADER,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Session-ID",
                "The session token, in a header of its own.",
            ))),
        );
        components.add_security_scheme(
            STAFF_TOKEN,
            bearer("staff_…", "A staff token from `POST /api/v1/staff/login`."),
        );
        components.add_security_scheme(
            SESSION_QUERY,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "session_token",
                "The session token in the query, for clients that cannot set a header; where a \
                 header also carries one, the header wins.",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let behind_database_gate = path.starts_with("/api/") && path != "/api/v1/health";
            let never_refused = NEVER_REFUSED.contains(&path.as_str());
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_common_errors(operation, behind_database_gate, never_refused);
            }
        }
    }
}

/// The security alternatives of an operation, as the document writes them (`{}` for none).
fn security_of(operation: &Operation) -> Vec<serde_json::Value> {
    serde_json::to_value(&operation.security)
        .ok()
        .and_then(|security| security.as_array().cloned())
        .unwrap_or_default()
}

/// Whether the operation takes a session token (in a header, and maybe elsewhere too).
fn takes_session_token(security: &[serde_json::Value]) -> bool {
    security.iter().any(|s| s.get(BEARER).is_some())
}

/// Whether the operation takes a staff token.
fn takes_staff_token(security: &[serde_json::Value]) -> bool {
    security.iter().any(|s| s.get(STAFF_TOKEN).is_some())
}

/// Whether the operation needs a session token that may also come in the query: it is then
/// found like every such token ([`super::session_from_query`]), and a missing or expired one is a
/// 401, an unknown one a 404, a query that does not parse a 422.
fn needs_session_from_query(security: &[serde_json::Value]) -> bool {
    let anonymous = security
        .iter()
        .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
    !anonymous && security.iter().any(|s| s.get(SESSION_QUERY).is_some())
}

/// Whether the operation takes a JSON request body.
fn takes_json_body(operation: &Operation) -> bool {
    operation.request_body.as_ref().is_some_and(
        |body| matches!(body, RefOr::T(body) if body.content.contains_key("application/json")),
    )
}

/// The errors the middleware may answer before or after any handler, and those every route that
/// takes a session token, a staff token or a JSON body answers alike (unless it never refuses).
fn add_common_errors(operation: &mut Operation, behind_database_gate: bool, never_refused: bool) {
    let has_body = operation.request_body.is_some();
    let json_body = takes_json_body(operation) && !never_refused;
    let security = security_of(operation);
    let staff = takes_staff_token(&security);
    let session = !never_refused && takes_session_token(&security);
    let session_from_query = session && needs_session_from_query(&security);
    // Where two rows give the same status (422 for the query and for the body), the first stays.
    let common = [
        (true, "414", reference::<UriTooLong>()),
        (true, "429", reference::<TooManyRequests>()),
        (true, "500", reference::<InternalError>()),
        (
            behind_database_gate,
            "503",
            reference::<ServiceUnavailable>(),
        ),
        (has_body, "408", reference::<RequestTimeout>()),
        (staff, "401", reference::<StaffUnauthorized>()),
        (session, "401", reference::<Unauthorized>()),
        (session, "404", reference::<NotFound>()),
        (session_from_query, "422", reference::<ValidationFailed>()),
        (json_body, "413", reference::<PayloadTooLarge>()),
        (json_body, "415", reference::<UnsupportedMediaType>()),
        (json_body, "422", reference::<ValidationFailed>()),
    ];
    for (applies, status, response) in common {
        if applies {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert(response);
        }
    }
}
