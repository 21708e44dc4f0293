//! The optional HTTP server (`[http] listen = "127.0.0.1:9464"`): `/metrics` for
//! Prometheus, `/healthz` (liveness) and `/readyz` (readiness) for a supervisor or a load
//! balancer; and the office's web console (`crate::console`, merged into the router).
//!
//! axum, a task on the daemon's runtime, started and stopped by `ingest::run`. An idle
//! server costs nothing: it waits in `epoll_wait` with no timer, and accept errors
//! (EMFILE) back off inside axum instead of spinning. Database work runs through `spawn_blocking` on a
//! connection of the server's own, so a scrape never waits behind a worker's transaction
//! on the pipeline's connection, and a busy database cannot stall the worker thread.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rusqlite::{Connection, OpenFlags};

use crate::metrics::Metrics;

/// The write probe and the outbox check run at most this often; readiness asked more
/// often gets the last answer.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// How long the write probe waits for another writer before calling the database locked.
/// Short: a readiness check must answer quickly, and a normal transaction of the daemon
/// (a batch of files) takes milliseconds.
const PROBE_BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// The outbox is stuck when a message queued this long ago is still pending after at least
/// one failed attempt: delivery has been failing for that long. A long queue that is being
/// worked through (a burst) is not stuck: its oldest message has not been tried yet.
pub const OUTBOX_STUCK_AFTER_MIN: u32 = 15;

/// At stop: how long open requests may take to finish.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What readiness and the scrape-time gauges are computed from.
pub struct Health {
    pub metrics: Arc<Metrics>,
    db: PathBuf,
    /// Why a part of the daemon is not working (`None`: all are), asked at each request.
    parts: PartsProbe,
    /// Why the daemon cannot take a file though every part works (a full data disk); asked
    /// by readiness only, not by the watchdog: a full disk is not cured by a restart.
    room: Option<PartsProbe>,
    probe: Mutex<Probe>,
}

/// Asks the daemon's parts whether they work (see `ingest::Liveness`).
pub type PartsProbe = Box<dyn Fn() -> Option<String> + Send + Sync>;

#[derive(Default)]
struct Probe {
    conn: Option<Connection>,
    last_alive: Option<(Instant, Result<(), String>)>,
    last_ready: Option<(Instant, Result<(), String>)>,
}

impl Health {
    pub fn new(metrics: Arc<Metrics>, db: PathBuf, parts: PartsProbe) -> Health {
        Health {
            metrics,
            db,
            parts,
            room: None,
            probe: Mutex::default(),
        }
    }

    /// Readiness also asks `room` (see [`Health::room`]).
    pub fn with_room_probe(mut self, room: PartsProbe) -> Health {
        self.room = Some(room);
        self
    }

    /// `Ok` while the daemon works: each part answers its probe and the database takes a
    /// write. What feeds the systemd watchdog. Blocking (database): call from
    /// `spawn_blocking`.
    pub fn alive(&self) -> Result<(), String> {
        if let Some(problem) = (self.parts)() {
            return Err(problem);
        }
        self.probed(false)
    }

    /// `Ok` when the daemon can take files: it is [`alive`](Health::alive) and the outbox
    /// is not stuck; otherwise why not. Blocking (database).
    pub fn ready(&self) -> Result<(), String> {
        if let Some(problem) = (self.parts)() {
            return Err(problem);
        }
        if let Some(problem) = self.room.as_ref().and_then(|room| room()) {
            return Err(problem);
        }
        self.probed(true)
    }

    /// The write probe, and the outbox check with `outbox`; at most every
    /// [`PROBE_EVERY`], the last answer otherwise.
    fn probed(&self, outbox: bool) -> Result<(), String> {
        let mut probe = self.probe.lock().unwrap_or_else(|e| e.into_inner());
        let last = if outbox {
            &probe.last_ready
        } else {
            &probe.last_alive
        };
        if let Some((at, answer)) = last
            && at.elapsed() < PROBE_EVERY
        {
            return answer.clone();
        }
        let answer = self.with_conn(&mut probe, |conn| {
            write_probe(conn)?;
            if outbox {
                outbox_stuck(conn)?;
            }
            Ok(())
        });
        let last = Some((Instant::now(), answer.clone()));
        if outbox {
            probe.last_ready = last;
        } else {
            probe.last_alive = last;
        }
        answer
    }

    /// Reads the outbox gauges from the database; they keep their last values when it
    /// cannot be read (logged).
    pub fn refresh_gauges(&self) {
        let mut probe = self.probe.lock().unwrap_or_else(|e| e.into_inner());
        let read = self.with_conn(&mut probe, |conn| {
            crate::store::outbox_gauges(conn).map_err(|e| format!("cannot read the outbox: {e}"))
        });
        match read {
            Ok((depth, age)) => {
                self.metrics.outbox_depth.set(depth);
                self.metrics.outbox_oldest_age.set(age.max(0));
            }
            Err(e) => tracing::warn!(error = %e, "metrics: outbox gauges not updated"),
        }
    }

    /// Runs `f` on the server's own connection, opened on first use; a failure closes it
    /// so that the next call opens it afresh.
    fn with_conn<T>(
        &self,
        probe: &mut Probe,
        f: impl FnOnce(&Connection) -> Result<T, String>,
    ) -> Result<T, String> {
        if probe.conn.is_none() {
            probe.conn = Some(open(&self.db).map_err(|e| format!("{e:#}"))?);
        }
        let conn = probe.conn.as_ref().ok_or("no connection")?;
        let result = f(conn);
        if result.is_err() {
            probe.conn = None;
        }
        result
    }
}

fn open(db: &std::path::Path) -> anyhow::Result<Connection> {
    // Never created here: the daemon created it at start; a missing file is an answer.
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open the database {}", db.display()))?;
    conn.busy_timeout(PROBE_BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Takes the write lock and gives it back at once: writes nothing, and fails the way the
/// daemon's own writes would (locked by another process, read-only file or disk).
fn write_probe(conn: &Connection) -> Result<(), String> {
    conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
        .map_err(|e| {
            // A failed BEGIN leaves no transaction; a failed ROLLBACK would be odd, and the
            // connection is dropped after any error anyway.
            format!("the database is not writable: {e}")
        })
}

fn outbox_stuck(conn: &Connection) -> Result<(), String> {
    let stuck = crate::store::stuck_message(conn, OUTBOX_STUCK_AFTER_MIN)
        .map_err(|e| format!("cannot read the outbox: {e}"))?;
    match stuck {
        None => Ok(()),
        Some((since, attempts, error)) => Err(format!(
            "the outbox is stuck: a message queued at {since} (UTC) is still not delivered \
             after {attempts} failed attempts (last error: {}); check the mail server and \
             `nianbao mail queue`",
            error.as_deref().unwrap_or("none recorded")
        )),
    }
}

/// The running server, a task on the daemon's runtime; `stop` ends it.
pub struct Server {
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds `listen` (an error names the key and the address) and serves on the current
    /// runtime until `stop`. With the console on, a non-loopback address without users is
    /// refused here (see `console::Console::new`).
    pub async fn start(
        listen: &str,
        health: Arc<Health>,
        config: crate::shared_config::SharedConfig,
        kick: crate::console::Kick,
    ) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("[http] listen = {listen:?}: cannot listen there"))?;
        let console = if config.get().http.console {
            let local = listener.local_addr()?;
            Some(Arc::new(crate::console::Console::new(config, local, kick)?))
        } else {
            None
        };
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        // Timeouts and a connection cap against idle and slow clients (see `http_serve`).
        let cap = crate::http_serve::max_connections(crate::http_serve::raise_nofile_limit());
        let task = tokio::spawn(async move {
            let app = router(health, console);
            crate::http_serve::serve(listener, app, cap, async {
                let _ = stopped.await;
            })
            .await;
        });
        tracing::info!(
            listen,
            max_connections = cap,
            "HTTP server: /metrics, /healthz, /readyz"
        );
        Ok(Server { shutdown, task })
    }

    /// Stops accepting and lets open requests finish for a moment: bounded, whatever a
    /// client does.
    pub async fn stop(self) {
        let Server { shutdown, task } = self;
        let _ = shutdown.send(());
        let abort = task.abort_handle();
        if tokio::time::timeout(STOP_GRACE, task).await.is_err() {
            abort.abort();
            tracing::warn!("HTTP requests still open at stop were cut off");
        }
    }
}

fn router(health: Arc<Health>, console: Option<Arc<crate::console::Console>>) -> Router {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(health);
    match console {
        Some(console) => router.merge(crate::console::router(console)),
        None => router,
    }
    .layer(axum::middleware::map_response(
        crate::console::security_headers,
    ))
}

/// OpenMetrics to a client that asks for it (Prometheus does), the classic text format to
/// any other (`promtool check metrics`, `curl`).
async fn metrics(State(health): State<Arc<Health>>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let page = tokio::task::spawn_blocking(move || {
        health.refresh_gauges();
        if openmetrics {
            health.metrics.render_openmetrics()
        } else {
            health.metrics.render_text()
        }
    })
    .await;
    let content_type = if openmetrics {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; version=0.0.4; charset=utf-8"
    };
    match page {
        Ok(page) => ([(header::CONTENT_TYPE, content_type)], page).into_response(),
        Err(e) => internal(&e),
    }
}

/// Liveness: answered by the server's own thread, so it says the process serves.
async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(health): State<Arc<Health>>) -> Response {
    match tokio::task::spawn_blocking(move || health.ready()).await {
        Ok(Ok(())) => "ready\n".into_response(),
        Ok(Err(why)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
        Err(e) => internal(&e),
    }
}

async fn not_found() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_FOUND,
        "not found; this server answers /metrics, /healthz and /readyz\n",
    )
}

fn internal(e: &tokio::task::JoinError) -> Response {
    tracing::error!(error = %e, "HTTP handler failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}
