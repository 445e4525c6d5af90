//! API responses carry session tokens and decrypted messages: no cache (browser, proxy or CDN)
//! may keep them.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::middleware::Next;

/// The middleware function (wrap with `actix_web::middleware::from_fn`).
pub async fn no_store(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let api = request.path().starts_with("/api/");
    let mut response = next.call(request).await?;
    if api {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
