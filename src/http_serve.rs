//! The HTTP server's accept loop, with the limits that keep idle or slow clients from
//! taking the daemon down (hyper's own settings, no hand-written parsing):
//! - **header-read timeout** ([`HEADER_READ_TIMEOUT`], hyper's `http1::Builder::
//!   header_read_timeout` on a tokio timer): a client must send a whole request head within
//!   it. hyper starts that timer whenever it waits for a head, on a new connection and
//!   between keep-alive requests, so it is also the **idle timeout**: a connection that
//!   sends nothing (or a slowloris head) is closed after it.
//! - **connection cap** (a semaphore): at most [`max_connections`] connections are served
//!   at once; one more is accepted and closed at once, so it costs no descriptor for long.
//! - **descriptors in reserve**: the cap is taken from the process's descriptor limit (raised
//!   to its hard limit at start), leaving [`RESERVED_FDS`] for ingest, the database, the
//!   watcher and mail: the inbox is served whatever the HTTP side does.
//! - accept errors (EMFILE, ENFILE) pause the loop briefly instead of spinning.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};

/// A request head must arrive within this (also the keep-alive idle timeout).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Descriptors kept for everything but HTTP connections.
pub const RESERVED_FDS: u64 = 256;

/// Connections served at most, whatever the descriptor limit.
const MAX_CONNECTIONS: u64 = 1024;

/// How long the accept loop pauses after an accept error (out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Raises the soft descriptor limit to the hard one (systemd's `LimitNOFILE`), and returns
/// it. Called once at start.
pub fn raise_nofile_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}

/// The connection cap for a descriptor limit of `nofile`: what is left after the reserve
/// (each connection is one descriptor), at least 16, at most [`MAX_CONNECTIONS`].
pub fn max_connections(nofile: u64) -> usize {
    nofile
        .saturating_sub(RESERVED_FDS)
        .clamp(16, MAX_CONNECTIONS) as usize
}

/// Serves `app` on `listener` until `stop` resolves; then open connections are left to
/// the caller's grace period (they end when this future is dropped).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    cap: usize,
    stop: impl std::future::Future<Output = ()>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(cap));
    let mut connections = tokio::task::JoinSet::new();
    let mut refused: u64 = 0;
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            () = &mut stop => break,
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "HTTP accept failed; pausing");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            // Over the cap: closed at once (the descriptor is freed now).
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    cap,
                    refused,
                    "HTTP connection cap reached; new connections are closed until idle ones time out"
                );
            }
            drop(stream);
            continue;
        };
        let app = app.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    let mut app = app.clone();
                    async move {
                        let response = tower_service::Service::call(&mut app, req).await;
                        Ok::<_, Infallible>(response.unwrap_or_else(|e| match e {}))
                    }
                },
            );
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "HTTP connection ended with an error");
            }
            drop(permit);
        });
    }
    // Stopping: requests under way get a moment to finish (idle connections are cut).
    let drain = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_millis(1500), drain).await;
}
