//! The listener: caps, timeouts and graceful shutdown around the router.
//!
//! - **Connections**: at most [`Limits::connections`] open at once, kept
//!   below the process's file-descriptor limit (raised to its hard limit at
//!   start) so the node can always open its own files. A connection beyond
//!   the cap is answered `503` at once and closed, without reading it.
//! - **Headers** must arrive within [`HEADER_READ_TIMEOUT`]; the same timer
//!   closes an idle keep-alive connection.
//! - **Stalled writes**: a client that stops reading a response for
//!   [`WRITE_STALL_TIMEOUT`] is disconnected, so a non-reading follower holds
//!   no stream forever; memory per connection is bounded by hyper's buffer
//!   ([`CONNECTION_BUFFER_BYTES`]) and one chunk.
//! - Request bodies have their own deadline, in the submission handler.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Connections at most, before the descriptor limit lowers it.
pub const CONNECTIONS_MAX: usize = 4_096;
/// Descriptors kept free, beyond those open at start, for the node's own
/// files (sled's segments, the blocking pool's reads) and for refusals.
const DESCRIPTORS_RESERVED: u64 = 32 + REFUSALS_MAX as u64;
/// Connections beyond the cap being answered at once; past this, the
/// listener waits instead of accepting, so refusals never exhaust
/// descriptors either.
const REFUSALS_MAX: usize = 16;
/// Request headers must arrive within this time (also the idle keep-alive
/// timeout).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A response whose client reads nothing for this long is abandoned.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// hyper's read and write buffer per connection.
pub const CONNECTION_BUFFER_BYTES: usize = 64 << 10;
/// How long graceful shutdown waits for open requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Every cap and timeout of the node's HTTP side, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once (lowered to fit the descriptor limit).
    pub connections: usize,
    /// Requests being handled at once, all routes.
    pub in_flight: usize,
    /// Exports and live streams open at once.
    pub streams: usize,
    /// Request headers must arrive within this time; also the idle
    /// keep-alive timeout.
    pub header_timeout: Duration,
    /// A request body must arrive within this time.
    pub body_timeout: Duration,
    /// A response the client reads nothing of for this long is abandoned.
    pub stall_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connections: CONNECTIONS_MAX,
            in_flight: crate::api::IN_FLIGHT_MAX,
            streams: crate::api::STREAMS_MAX,
            header_timeout: HEADER_READ_TIMEOUT,
            body_timeout: crate::api::BODY_READ_TIMEOUT,
            stall_timeout: WRITE_STALL_TIMEOUT,
        }
    }
}

impl Limits {
    /// These limits in this process: raises the soft descriptor limit to the
    /// hard one, then lowers the connection cap to stay below it.
    pub fn fitted(self) -> Self {
        let descriptors = raise_descriptor_limit();
        let room = usize::try_from(descriptors.saturating_sub(DESCRIPTORS_RESERVED)).unwrap_or(usize::MAX);
        Self { connections: self.connections.min(room.max(16)), ..self }
    }
}

fn raise_descriptor_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit { current: limit.maximum, maximum: limit.maximum };
    if limit.maximum.is_some() && setrlimit(Resource::Nofile, raised).is_ok() {
        return limit.maximum.unwrap_or(u64::MAX);
    }
    limit.current.unwrap_or(u64::MAX)
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open
/// requests finish for a grace period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_MAX));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let service = hyper_util::service::TowerToHyperService::new(router);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(CONNECTION_BUFFER_BYTES)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // At the cap with refusals already in flight, leave new connections
        // in the backlog for a moment rather than take a descriptor.
        if connections.available_permits() == 0 && refusals.available_permits() == 0 {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(10)) => continue,
                () = &mut shutdown => break,
            }
        }
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a reset before accept: wait, go on.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            let refusal = Arc::clone(&refusals).try_acquire_owned();
            tokio::spawn(async move {
                refuse(stream).await;
                drop(refusal);
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let guarded = StallGuard::new(stream, limits.stall_timeout);
        let connection = http.serve_connection(TokioIo::new(guarded), service.clone());
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = watched.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections did not finish within the grace period");
    }
    Ok(())
}

/// Answers a connection beyond the cap without reading it.
async fn refuse(mut stream: TcpStream) {
    let body = r#"{"code":"too_many_connections","message":"the node has too many open connections; retry shortly"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(response.as_bytes())).await;
}

/// A TCP stream that fails a write the peer has not let through for the
/// stall timeout.
struct StallGuard {
    stream: TcpStream,
    timeout: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl StallGuard {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        Self { stream, timeout, stalled: None }
    }

    fn check_stall<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => {
                let timeout = self.timeout;
                let timer = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")));
                }
                Poll::Pending
            }
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.check_stall(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.check_stall(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.check_stall(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
