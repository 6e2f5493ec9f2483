//! The accept loop: every connection has deadlines, their number has a cap, and shutdown
//! has a deadline too.
//!
//! - **Header-read timeout** (`HEADER_READ_TIMEOUT`): a client must send a request's
//!   headers within it, on a new connection and between requests on a kept-alive one, so
//!   silent sockets cannot pile up.
//! - **Connection cap**: at most `max_connections` at once (derived from the open-file
//!   limit, which start-up raises to its hard limit). Beyond it a connection gets a short
//!   `503` with `Retry-After` and is closed: the portal sheds load instead of running out
//!   of file descriptors, when it would stop answering everyone.
//! - **Graceful shutdown**: on SIGTERM or Ctrl-C the listener closes, requests in flight
//!   finish, and whatever is still open after `SHUTDOWN_GRACE_SECONDS` is cut.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long a client has to send a request's headers (also the idle keep-alive limit).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// File descriptors kept back from the connection cap for the database, the ERP pool,
/// exports' temporary files and logs.
const RESERVED_FDS: u64 = 128;
/// How long a shed connection may take to receive its 503.
const SHED_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

/// Raises the soft open-file limit to the hard limit, logs both, and returns the limit
/// now in force (`None` where it cannot be read).
// `rlim_t` is `u64` here but not on every platform the casts are written for.
#[allow(clippy::unnecessary_cast)]
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            tracing::warn!("could not read the open-file limit");
            return None;
        }
        let before = lim.rlim_cur as u64;
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                lim = raised;
            }
        }
        tracing::info!(
            soft_before = before,
            soft = lim.rlim_cur as u64,
            hard = lim.rlim_max as u64,
            "open-file limit"
        );
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection cap for an open-file limit.
pub fn max_connections(fd_limit: Option<u64>) -> usize {
    match fd_limit {
        Some(n) => n.saturating_sub(RESERVED_FDS).clamp(64, 50_000) as usize,
        None => 4_096,
    }
}

const SHED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 58\r\nConnection: close\r\n\r\nThe portal is busy. Please try again in a few seconds.\r\n\r\n";

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
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
                    // was accepted: wait a moment rather than spin, and say so once in
                    // a while rather than per failure.
                    accept_errors += 1;
                    if accept_errors.is_power_of_two() {
                        tracing::warn!(error = %e, failures = accept_errors, "cannot accept connections");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
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
        let service = router
            .clone()
            .map_request(move |req: axum::http::Request<_>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let conn = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
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

    #[tokio::test]
    async fn over_the_cap_a_connection_gets_503_and_a_retry_after() {
        use tokio::io::AsyncReadExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let limits = Limits {
            max_connections: 1,
            shutdown_grace: Duration::from_secs(1),
        };
        tokio::spawn(serve(listener, router, limits, std::future::pending()));
        // One connection holds the only place, saying nothing.
        let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut next = tokio::net::TcpStream::connect(addr).await.unwrap();
        next.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(5), next.read_to_string(&mut answer))
            .await
            .expect("answered at once")
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("Retry-After: 5"), "{answer}");
    }
}
