//! A TCP proxy of the tests' own between the service and PostgreSQL, so a test can take the
//! database away under a running service: cut (every connection closed, new ones closed as soon
//! as accepted), refused (every connection closed and the port closed, so a connect is refused:
//! a database server that is down) or frozen (connections stay open and nothing is forwarded, as
//! on a partitioned network).

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Pass everything through.
    Forward,
    /// Close every connection, and each new one once accepted.
    Cut,
    /// Close every connection and the listening port: connecting is refused.
    Refuse,
    /// Keep connections open but pass nothing (new ones are accepted and held too).
    Freeze,
}

/// A running proxy; it lives as long as the test's runtime.
pub struct FaultProxy {
    /// The port the service should connect to.
    pub port: u16,
    mode: watch::Sender<Mode>,
}

impl FaultProxy {
    /// A proxy on a free loopback port forwarding to `target`.
    pub async fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().expect("proxy address").port();
        let (mode, _) = watch::channel(Mode::Forward);
        tokio::spawn(accept(listener, port, target, mode.subscribe()));
        FaultProxy { port, mode }
    }

    /// The proxy on PostgreSQL's test server.
    pub async fn to_postgres() -> FaultProxy {
        let admin = crate::helpers::postgres_admin_url();
        let host_port = admin
            .split('@')
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("TEST_DATABASE_URL has user@host:port/db");
        let target = tokio::net::lookup_host(host_port)
            .await
            .expect("resolve PostgreSQL")
            .next()
            .expect("a PostgreSQL address");
        FaultProxy::start(target).await
    }

    /// `database_url` pointed at the proxy instead of the server.
    pub fn url_for(&self, database_url: &str) -> String {
        let (prefix, rest) = database_url.split_once('@').expect("user@host in the URL");
        let path = rest.split_once('/').map(|(_, path)| path).unwrap_or("");
        format!("{prefix}@127.0.0.1:{}/{path}", self.port)
    }

    /// Changes what the proxy does, for connections open now and later.
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

enum Accepted {
    Client(TcpStream),
    Refusing,
    Ended,
}

/// Accepts connections and relays them; while refusing, the port is closed and bound again after.
async fn accept(
    listener: TcpListener,
    port: u16,
    target: SocketAddr,
    mut modes: watch::Receiver<Mode>,
) {
    let mut listener = Some(listener);
    loop {
        let Some(open) = &listener else {
            if modes.wait_for(|mode| *mode != Mode::Refuse).await.is_err() {
                return;
            }
            listener = bind_again(port).await;
            if listener.is_none() {
                return;
            }
            continue;
        };
        let accepted = tokio::select! {
            accepted = open.accept() => match accepted {
                Ok((client, _)) => Accepted::Client(client),
                Err(_) => Accepted::Ended,
            },
            refusing = modes.wait_for(|mode| *mode == Mode::Refuse) => match refusing {
                Ok(_) => Accepted::Refusing,
                Err(_) => Accepted::Ended,
            },
        };
        match accepted {
            Accepted::Client(client) if *modes.borrow() == Mode::Cut => drop(client),
            Accepted::Client(client) => {
                tokio::spawn(relay(client, target, modes.clone()));
            }
            Accepted::Refusing => listener = None,
            Accepted::Ended => return,
        }
    }
}

/// The proxy's port again, once the kernel lets it go (a few tries).
async fn bind_again(port: u16) -> Option<TcpListener> {
    for _ in 0..50 {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Some(listener);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    None
}

async fn relay(client: TcpStream, target: SocketAddr, modes: watch::Receiver<Mode>) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // When either direction ends, both sockets close.
    tokio::select! {
        () = pump(client_read, server_write, modes.clone()) => {}
        () = pump(server_read, client_write, modes) => {}
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut modes: watch::Receiver<Mode>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        // While frozen, read nothing: the bytes wait in the kernel and the sockets stay open.
        match modes.wait_for(|mode| *mode != Mode::Freeze).await {
            Ok(mode) if *mode == Mode::Forward => {}
            _ => return,
        }
        tokio::select! {
            read = from.read(&mut buffer) => {
                let count = match read {
                    Ok(0) | Err(_) => return,
                    Ok(count) => count,
                };
                match modes.wait_for(|mode| *mode != Mode::Freeze).await {
                    Ok(mode) if *mode == Mode::Forward => {}
                    _ => return,
                }
                if to.write_all(&buffer[..count]).await.is_err() {
                    return;
                }
            }
            changed = modes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
