//! A cap on open connections per client address, so one client holding many slow connections
//! cannot use up the process's file descriptors. Connections are counted as they are accepted;
//! a request arriving on one past the cap is answered 429 `too_many_connections` and its
//! connection closed. Trusted proxies are not capped: many clients share their address.

use super::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{ResponseError, rt::net::TcpStream};
use std::any::Any;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Counts of open connections per peer address, shared by every worker.
#[derive(Clone)]
pub struct ConnectionCap {
    per_address: usize,
    exempt: Arc<Vec<ipnet::IpNet>>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Stored in a connection's data: its place in the count, given back when it closes.
struct ConnectionSlot {
    address: IpAddr,
    over_cap: bool,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(count) = open.get_mut(&self.address)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

impl ConnectionCap {
    /// At most `per_address` connections per address (0 = no cap), `exempt` never capped.
    pub fn new(per_address: usize, exempt: Vec<ipnet::IpNet>) -> Self {
        ConnectionCap {
            per_address,
            exempt: Arc::new(exempt),
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// For `HttpServer::on_connect`: counts the new connection.
    pub fn on_connect(&self, connection: &dyn Any, data: &mut Extensions) {
        if self.per_address == 0 {
            return;
        }
        let Some(address) = connection
            .downcast_ref::<TcpStream>()
            .and_then(|stream| stream.peer_addr().ok())
            .map(|peer| peer.ip())
        else {
            return;
        };
        if self.exempt.iter().any(|net| net.contains(&address)) {
            return;
        }
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        let count = open.entry(address).or_insert(0);
        *count += 1;
        data.insert(ConnectionSlot {
            address,
            over_cap: *count > self.per_address,
            open: self.open.clone(),
        });
    }
}

/// The middleware function (wrap with `actix_web::middleware::from_fn`).
pub async fn connection_cap(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let over_cap = request
        .conn_data::<ConnectionSlot>()
        .is_some_and(|slot| slot.over_cap);
    if !over_cap {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let mut refusal = ApiError::TooManyConnections { retry_after: 1 }.error_response();
    refusal
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    Ok(request.into_response(refusal).map_into_right_body())
}
