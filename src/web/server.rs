//! The accept loop: every connection has deadlines, their number has a cap, no single
//! client can hold the door, and shutdown has a deadline too.
//!
//! - **Header-read timeout** (`HEADER_READ_TIMEOUT`): a client must send a request's
//!   headers within it, on a new connection and between requests on a kept-alive one, so
//!   silent sockets cannot pile up. A request's body must arrive within the same time.
//! - **Connection cap**: at most `max_connections` at once (derived from the open-file
//!   limit, which start-up raises to its hard limit). When it is reached, the connection
//!   that has waited longest without sending its request's headers is closed to admit
//!   the new one (then the one idle longest between requests): a flood of silent sockets
//!   (slowloris) only ever displaces itself. Only when every connection is busy with a
//!   request does a new one get a short `503` with `Retry-After`.
//! - **Per-address cap** (`MAX_CONNECTIONS_PER_ADDRESS`): one direct peer holds at most
//!   that many connections, evicting its own oldest silent or idle one first; the trusted
//!   proxies are exempt (everyone behind them shares their address).
//! - **Graceful shutdown**: on SIGTERM or Ctrl-C the listener closes, requests in flight
//!   finish, and whatever is still open after `SHUTDOWN_GRACE_SECONDS` is cut.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use parking_lot::Mutex;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// How long a client has to send a request's headers (also the idle keep-alive limit,
/// and the time a request's body has to arrive).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Connections one direct peer may hold at once by default (`MAX_CONNECTIONS_PER_ADDRESS`).
pub const DEFAULT_MAX_PER_ADDRESS: usize = 256;
/// File descriptors kept back from the connection cap for the database, the ERP pool,
/// exports' temporary files and logs.
const RESERVED_FDS: u64 = 128;
/// How long a shed connection may take to receive its 503.
const SHED_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// Connections one direct peer may hold (peers in `exempt` excepted).
    pub max_per_address: usize,
    /// Peers the per-address cap does not apply to: the trusted proxies.
    pub exempt: Vec<ipnet::IpNet>,
    pub shutdown_grace: Duration,
}

/// Raises the soft open-file limit to the hard limit, logs both, and returns the limit
/// now in force (`None` where it cannot be read).
pub fn raise_fd_limit() -> Option<u64> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().ok().or_else(|| {
        tracing::warn!("could not read the open-file limit");
        None
    })?;
    let now = if soft < hard && rlimit::Resource::NOFILE.set(hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    tracing::info!(soft_before = soft, soft = now, hard, "open-file limit");
    Some(now)
}

/// The connection cap for an open-file limit.
pub fn max_connections(fd_limit: Option<u64>) -> usize {
    match fd_limit {
        Some(n) => n.saturating_sub(RESERVED_FDS).clamp(64, 50_000) as usize,
        None => 4_096,
    }
}

const SHED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 58\r\nConnection: close\r\n\r\nThe portal is busy. Please try again in a few seconds.\r\n\r\n";

/// What one connection is doing, as the accept loop sees it.
#[derive(Default)]
struct ConnState {
    /// Requests being answered (their bodies included).
    busy: AtomicUsize,
    /// Requests answered so far.
    served: AtomicU64,
    /// When the last request finished, in ms since the table's start.
    idle_since_ms: AtomicU64,
}

struct Conn {
    peer: IpAddr,
    accepted: Instant,
    state: Arc<ConnState>,
    close: Arc<Notify>,
}

/// Every open connection, by id, and how many each peer holds.
struct Table {
    started: Instant,
    conns: HashMap<u64, Conn>,
    per_peer: HashMap<IpAddr, usize>,
    next_id: u64,
}

/// The order connections are given up in: first those that never sent a request's
/// headers (oldest first), then those idle between requests (longest idle first). Busy
/// ones are never chosen.
fn eviction_rank(c: &Conn, started: Instant) -> Option<(u8, u64)> {
    if c.state.busy.load(Ordering::SeqCst) > 0 {
        return None;
    }
    if c.state.served.load(Ordering::SeqCst) == 0 {
        Some((0, c.accepted.duration_since(started).as_millis() as u64))
    } else {
        Some((1, c.state.idle_since_ms.load(Ordering::SeqCst)))
    }
}

impl Table {
    fn new() -> Table {
        Table {
            started: Instant::now(),
            conns: HashMap::new(),
            per_peer: HashMap::new(),
            next_id: 0,
        }
    }

    fn remove(&mut self, id: u64) -> Option<Conn> {
        let conn = self.conns.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&conn.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&conn.peer);
            }
        }
        Some(conn)
    }

    /// Closes the connection to give up first among those `of` selects; false when every
    /// one of them is busy.
    fn evict(&mut self, of: impl Fn(&Conn) -> bool) -> bool {
        let started = self.started;
        let victim = self
            .conns
            .iter()
            .filter(|(_, c)| of(c))
            .filter_map(|(id, c)| eviction_rank(c, started).map(|r| (r, *id)))
            .min()
            .map(|(_, id)| id);
        match victim.and_then(|id| self.remove(id)) {
            Some(gone) => {
                gone.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// Admits a connection from `peer`, closing another where a cap is reached; `None`
    /// when it must be shed.
    fn admit(
        &mut self,
        peer: IpAddr,
        limits: &Limits,
    ) -> Option<(u64, Arc<ConnState>, Arc<Notify>)> {
        let exempt = limits.exempt.iter().any(|n| n.contains(&peer));
        if !exempt
            && self.per_peer.get(&peer).copied().unwrap_or(0) >= limits.max_per_address
            && !self.evict(|c| c.peer == peer)
        {
            return None;
        }
        if self.conns.len() >= limits.max_connections && !self.evict(|_| true) {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        let state = Arc::new(ConnState::default());
        let close = Arc::new(Notify::new());
        self.conns.insert(
            id,
            Conn {
                peer,
                accepted: Instant::now(),
                state: state.clone(),
                close: close.clone(),
            },
        );
        *self.per_peer.entry(peer).or_default() += 1;
        Some((id, state, close))
    }
}

/// Marks its connection busy from the moment a request's headers are in until its
/// answer has been sent (or abandoned).
struct BusyGuard {
    state: Arc<ConnState>,
    started: Instant,
}

impl BusyGuard {
    fn new(state: Arc<ConnState>, started: Instant) -> BusyGuard {
        state.busy.fetch_add(1, Ordering::SeqCst);
        BusyGuard { state, started }
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.state
            .idle_since_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::SeqCst);
        self.state.served.fetch_add(1, Ordering::SeqCst);
        self.state.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The router, with each request's peer address and its connection's busy mark.
#[derive(Clone)]
struct Tracked {
    router: Router,
    peer: SocketAddr,
    state: Arc<ConnState>,
    started: Instant,
}

impl tower::Service<Request<hyper::body::Incoming>> for Tracked {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<hyper::body::Incoming>) -> Self::Future {
        let guard = BusyGuard::new(self.state.clone(), self.started);
        let mut req = req.map(Body::new);
        req.extensions_mut()
            .insert(ConnectInfo::<SocketAddr>(self.peer));
        let answer = tower::ServiceExt::oneshot(self.router.clone(), req);
        Box::pin(async move {
            let resp = answer.await?;
            // The guard rides with the body: the connection is busy until it is sent.
            Ok(resp.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _ = &guard;
                    frame
                }))
            }))
        })
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let table = Arc::new(Mutex::new(Table::new()));
    let started = table.lock().started;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1.1 only: guessing the version would first read the connection's opening
    // bytes with no deadline, so a silent socket would wait there forever. (Browsers
    // reach the portal over HTTP/1.1 or through a proxy that speaks it.)
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    let mut accept_errors: u64 = 0;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (EMFILE) or a connection reset before it
                    // was accepted: make room by closing a silent connection, wait a
                    // moment rather than spin, and say so once in a while.
                    accept_errors += 1;
                    table.lock().evict(|_| true);
                    if accept_errors.is_power_of_two() {
                        tracing::warn!(error = %e, failures = accept_errors, "cannot accept connections");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let admitted = table.lock().admit(peer.ip(), &limits);
        let Some((id, state, close)) = admitted else {
            tokio::spawn(async move {
                let mut stream = stream;
                let _ = tokio::time::timeout(SHED_WRITE_TIMEOUT, async {
                    let _ = stream.write_all(SHED_RESPONSE).await;
                    let _ = stream.shutdown().await;
                })
                .await;
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = Tracked {
            router: router.clone(),
            peer,
            state,
            started,
        };
        let conn = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let conn = graceful.watch(conn);
        let table = table.clone();
        tokio::spawn(async move {
            tokio::select! {
                ended = conn => {
                    if let Err(e) = ended {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                }
                () = close.notified() => {
                    tracing::debug!(%peer, "connection closed to admit another");
                }
            }
            table.lock().remove(id);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("every connection finished"),
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "connections still open after the shutdown grace period are cut");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn the_cap_leaves_room_for_everything_else() {
        assert_eq!(max_connections(Some(1024)), 896);
        assert_eq!(max_connections(Some(100)), 64);
        assert_eq!(max_connections(Some(1 << 20)), 50_000);
        assert_eq!(max_connections(None), 4_096);
        assert_eq!(
            SHED_RESPONSE.len()
                - SHED_RESPONSE
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .unwrap()
                - 4,
            58,
            "Content-Length matches the body"
        );
    }

    fn limits(max: usize, per_address: usize, exempt: &[&str]) -> Limits {
        Limits {
            max_connections: max,
            max_per_address: per_address,
            exempt: exempt.iter().map(|n| n.parse().unwrap()).collect(),
            shutdown_grace: Duration::from_secs(1),
        }
    }

    /// A router whose `/slow` answers after `hold`.
    async fn start(limits: Limits, hold: Duration) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .route(
                "/slow",
                axum::routing::get(move || async move {
                    tokio::time::sleep(hold).await;
                    "slow"
                }),
            );
        tokio::spawn(serve(listener, router, limits, std::future::pending()));
        addr
    }

    async fn ask(addr: SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut answer))
            .await
            .expect("answered")
            .unwrap();
        answer
    }

    async fn silent(addr: SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        v
    }

    #[tokio::test]
    async fn at_the_cap_a_silent_connection_makes_room_for_a_real_one() {
        let addr = start(limits(4, 100, &[]), Duration::ZERO).await;
        let mut held = silent(addr, 4).await;
        let answer = ask(addr, "/").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // The oldest silent socket was the one closed.
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(5), held[0].read(&mut buf))
            .await
            .expect("closed at once")
            .unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_a_new_one_gets_503_and_a_retry_after() {
        let addr = start(limits(1, 100, &[]), Duration::from_secs(3)).await;
        let busy = tokio::spawn(ask(addr, "/slow"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let answer = ask(addr, "/").await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("Retry-After: 5"), "{answer}");
        assert!(
            busy.await.unwrap().starts_with("HTTP/1.1 200"),
            "the busy one finished"
        );
    }

    #[tokio::test]
    async fn one_address_cannot_hold_more_than_its_share() {
        let addr = start(limits(1_000, 3, &[]), Duration::from_secs(3)).await;
        // Three busy requests from 127.0.0.1: its share is taken, so a fourth waits.
        let busy: Vec<_> = (0..3).map(|_| tokio::spawn(ask(addr, "/slow"))).collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(ask(addr, "/").await.starts_with("HTTP/1.1 503"));
        for b in busy {
            b.await.unwrap();
        }
        // Silent ones of its own are what it gives up first.
        let _held = silent(addr, 3).await;
        assert!(ask(addr, "/").await.starts_with("HTTP/1.1 200"));
        // A trusted proxy's address has no share of its own.
        let addr = start(limits(1_000, 3, &["127.0.0.0/8"]), Duration::from_secs(3)).await;
        let busy: Vec<_> = (0..3).map(|_| tokio::spawn(ask(addr, "/slow"))).collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(ask(addr, "/").await.starts_with("HTTP/1.1 200"));
        for b in busy {
            b.await.unwrap();
        }
    }
}
