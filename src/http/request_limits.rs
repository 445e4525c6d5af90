//! What one request may cost before a handler runs: a URL longer than the limit is answered
//! 414 `uri_too_long`, and a body that is not fully received within the deadline ends the
//! request with 408 `request_timeout`, so a client that stalls after its headers holds a
//! connection for seconds, not forever.

use super::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

/// The limits (registered as app data).
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Longest accepted request target (path and query) in bytes.
    pub max_url_bytes: usize,
    /// Time allowed for receiving the whole body, counted from the end of the headers.
    pub body_read_timeout: Duration,
}

/// A body stream that fails once the deadline has passed, noting that it did.
struct DeadlineBody {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl Stream for DeadlineBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.store(true, Ordering::Release);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "request body deadline passed",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

fn closing(error: ApiError) -> HttpResponse {
    let mut response = error.error_response();
    // The rest of the request was never read: the connection cannot carry another one.
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    response
}

/// The middleware function (wrap with `actix_web::middleware::from_fn`).
pub async fn request_limits(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(limits) = request
        .app_data::<web::Data<RequestLimits>>()
        .map(|l| *l.get_ref())
    else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let target_length = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target_length > limits.max_url_bytes {
        let refusal = closing(ApiError::UriTooLong {
            limit: limits.max_url_bytes,
        });
        return Ok(request.into_response(refusal).map_into_right_body());
    }
    let expired = Arc::new(AtomicBool::new(false));
    let body = DeadlineBody {
        inner: request.take_payload(),
        deadline: Box::pin(tokio::time::sleep(limits.body_read_timeout)),
        expired: expired.clone(),
    };
    request.set_payload(Payload::from(
        Box::pin(body) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
    let response = next.call(request).await?;
    if expired.load(Ordering::Acquire) {
        let (request, _) = response.into_parts();
        let refusal = closing(ApiError::RequestTimeout);
        return Ok(ServiceResponse::new(request, refusal).map_into_right_body());
    }
    Ok(response.map_into_left_body())
}
