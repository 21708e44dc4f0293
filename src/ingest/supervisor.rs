//! The supervisor: `run` starts the daemon, keeps it running and stops it.
//!
//! It owns the one tokio runtime and the tasks on it: at start the data-folder lock and the
//! clean-up of what the last run left; then the watcher, the dispatcher of ingest batches
//! onto the blocking pool (at most `workers` at once), the mail task, the retry task and the
//! HTTP server; while running the signals (SIGTERM, SIGINT: stop; SIGHUP: reload), the
//! systemd watchdog fed only while every part answers its probe, and the status line; at a
//! stop, the orderly shut-down, bounded in time whatever a part is stuck on.
//!
//! Why the seam is here: this is the only module that knows about tasks, channels and
//! signals. Archive, pipeline and delivery are plain methods on [`Pipeline`] that it runs
//! on the blocking pool.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::liveness::spawn_part;
use super::pipeline::Lane;
use super::{Activity, Pipeline};
use crate::config::{Config, WatchMode};
use crate::mail;
use crate::watch::{Ready, RetryHandle, WatchConfig, Watcher};

/// Ready files a worker takes together, at most (see `Pipeline::ingest_batch`).
pub(super) const INGEST_BATCH: usize = 32;

/// At a stop, how long the batches under way may take to finish; what is still running
/// then is left (it is archived and recorded, and checked at the next start).
const STOP_WAIT: Duration = Duration::from_secs(3);

/// The status line for systemd is refreshed at most this often, and only when something
/// happened.
const STATUS_EVERY: Duration = Duration::from_secs(10);

impl Pipeline {
    /// Takes a new configuration (agencies, mail, limits) without stopping; the inbox and
    /// data folder cannot move while running. The old settings stay if the new ones fail.
    pub fn reload(&self, new: Config) -> anyhow::Result<()> {
        let new = absolute_paths(new)?;
        let old = self.config();
        if new.inbox != old.inbox || new.data_dir != old.data_dir {
            anyhow::bail!(
                "inbox and data_dir cannot change while running: restart the service for that"
            );
        }
        if new.http_listen() != old.http_listen() {
            tracing::warn!("[http] listen changed: the HTTP server moves at the next restart");
        }
        let smtp = match &new.mail.smtp {
            Some(smtp) => Some(Arc::new(mail::smtp::SmtpSender::from_config(smtp)?)),
            None => None,
        };
        *self.smtp.write().unwrap_or_else(|e| e.into_inner()) = smtp;
        self.liveness.set_stuck_after(new.stuck_after_s.get());
        // `[ocr]`: the next scan is read with the new limits.
        new.ocr.apply();
        crate::folders::create_agency_folders(&new);
        self.config.replace(new);
        // New agencies or a new schedule: the day's reminders are looked at again.
        *self.reminders_day.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// Checks submissions archived but never checked: left by a crash or a stop (at start),
    /// or by a failure after they were recorded (a full disk, a busy database; on a timer
    /// while running). One that cannot be checked at all is recorded as failed and the admin
    /// told (see `process`), so it never stops a start; any other failure leaves the rest
    /// for the next round. Returns how many were done.
    ///
    /// This is also the scan lane: the scans that the ingest workers recorded and put off
    /// (`Checking::PutOff`) are read here by OCR, one at a time, while the workers go on
    /// answering text reports; a worker that puts one off kicks `retry_wakeup`.
    pub fn resume(&self) -> anyhow::Result<usize> {
        let unfinished = self.store().unfinished()?;
        let mut done = 0;
        for sub in &unfinished {
            if self.is_stopping() {
                break;
            }
            match self.process(sub, Lane::Scans) {
                Ok(()) => done += 1,
                Err(e) => {
                    let e = e.context(format!("receipt {}", sub.receipt));
                    self.note_failure(Activity::Retry, &e);
                    return Ok(done);
                }
            }
        }
        if !unfinished.is_empty() {
            self.note_success(Activity::Retry);
        }
        Ok(done)
    }
}

/// The configuration with `inbox` and `data_dir` made absolute against the working
/// directory (symbolic links are not resolved). The kernel's events name absolute paths:
/// compared with a relative inbox (the built-in `./inbox`) every one of them was thrown
/// away, and files were found only by the rescan a minute later.
fn absolute_paths(mut config: Config) -> anyhow::Result<Config> {
    for path in [&mut config.inbox, &mut config.data_dir] {
        *path = std::path::absolute(&*path)
            .with_context(|| format!("cannot make {} an absolute path", path.display()))?;
    }
    Ok(config)
}

/// Tells systemd (when it started us with NOTIFY_SOCKET); a no-op otherwise.
fn sd_notify(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// The signals the daemon answers.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    /// Must run inside the runtime. From here on a SIGTERM is never lost: one that comes
    /// during start-up stops the daemon as soon as it runs.
    fn install() -> anyhow::Result<Signals> {
        let install = |kind: SignalKind, name: &str| {
            signal(kind).with_context(|| format!("cannot install the {name} handler"))
        };
        Ok(Signals {
            term: install(SignalKind::terminate(), "SIGTERM")?,
            int: install(SignalKind::interrupt(), "SIGINT")?,
            hup: install(SignalKind::hangup(), "SIGHUP")?,
        })
    }
}

/// Runs the daemon until SIGTERM or SIGINT: resume, watch, ingest on a bounded pool,
/// deliver. `config_path` is read again on SIGHUP (`None`: built-in defaults).
pub fn run(config: Config, config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let config = absolute_paths(config)?;
    let workers = if config.workers == 0 {
        // Two per core: a batch waits for the disk (flushing its archive copies, its
        // commit) for part of its time, and another batch checks meanwhile. One per core
        // left a third of the CPU idle in a burst (BENCHMARKS.md: 784 against 870 files/s,
        // the same CPU per file); LibreOffice conversions stay one at a time.
        2 * std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        config.workers
    };
    // Two threads run the tasks (they only wait and hand over); the work (checking,
    // database, files) runs on the blocking pool: `workers` ingest batches, and room for
    // the watcher's scans, delivery, the retry and HTTP handlers.
    // Rust's allocations go to mimalloc (main.rs); SQLite's, which is C, still go to
    // glibc, which gives every thread that allocates an arena of its own (up to 8 per
    // core) and keeps what each one freed; the blocking pool's threads come and go, so
    // over a long season the daemon's memory crept up arena by arena. Two are plenty.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(workers + 8)
        .thread_name("nianbao")
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let signals = {
        let _entered = runtime.enter();
        Signals::install()?
    };
    // One daemon per data folder, before anything in it is touched (see store::lock).
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let _lock = crate::store::lock::DataDirLock::acquire(&config.data_dir)?;
    let pipeline = Arc::new(Pipeline::open(config)?);
    crate::folders::create_agency_folders(&pipeline.config());
    let cleaned = pipeline.clean_archive_tmp();
    if cleaned > 0 {
        tracing::info!(
            cleaned,
            "removed temporary archive copies left by the last run"
        );
    }
    let temps = pipeline.clean_write_temps();
    if temps > 0 {
        tracing::info!(
            temps,
            "removed half-written receipt and .eml files left by the last run"
        );
    }
    let result = runtime.block_on(supervise(
        Arc::clone(&pipeline),
        workers,
        config_path,
        signals,
    ));
    // Work stuck on a read that never returns is not waited for: its submission is
    // recorded, and checked again at the next start.
    runtime.shutdown_timeout(Duration::from_secs(1));
    tracing::info!("stopped");
    result
}

/// The tasks of the daemon, and its main loop: signals, watchdog, status.
async fn supervise(
    pipeline: Arc<Pipeline>,
    workers: usize,
    config_path: Option<PathBuf>,
    mut signals: Signals,
) -> anyhow::Result<()> {
    // Over 80 lines on purpose: it starts the daemon's tasks and runs the
    // loop that owns them (signals, watchdog, reload, stop); the stop order at the end is only
    // checkable against the start order above it.
    let c = pipeline.config();
    let liveness = Arc::clone(&pipeline.liveness);
    // Bounded: a burst of thousands of files waits in the inbox, not in memory.
    let (tx, rx) = mpsc::channel::<Ready>(workers * INGEST_BATCH);
    let watcher = Watcher::spawn(
        WatchConfig {
            inbox: c.inbox.clone(),
            settle: c.settle_ms.get(),
            rescan: c.rescan_interval_s.get(),
            poll_only: c.watch == WatchMode::Poll,
            poll_interval: c.poll_interval_ms.at_least_one(),
            ignore_dirs: vec!["回执".to_string()],
        },
        tx,
        pipeline.stop_signal(),
    );
    let dispatcher = spawn_part(
        &liveness,
        "ingest dispatcher",
        dispatch(Arc::clone(&pipeline), rx, workers, watcher.retry_handle()),
    );
    // Delivery is a task of its own: a slow or silent mail server never delays the
    // watcher, the workers, or a stop.
    let mailer = spawn_part(
        &liveness,
        "mail task",
        Arc::clone(&pipeline).mail_task(pipeline.stop_signal()),
    );
    let retrier = spawn_part(&liveness, "retry task", retry(Arc::clone(&pipeline)));
    let upkeep = tokio::spawn(super::upkeep::upkeep(Arc::clone(&pipeline)));
    let lookout = tokio::spawn(super::upkeep::inbox_lookout(Arc::clone(&pipeline)));
    let health = {
        let liveness = Arc::clone(&liveness);
        let watch = watcher.probe();
        let weak = Arc::downgrade(&pipeline);
        let parts: crate::http::PartsProbe = Box::new(move || {
            let stuck_after = weak
                .upgrade()
                .map_or(Duration::from_secs(600), |p| p.config().stuck_after_s.get());
            if let Some(problem) = liveness.problem() {
                return Some(problem);
            }
            if let Some(problem) = watch.problem(stuck_after) {
                return Some(problem);
            }
            weak.upgrade().filter(|p| p.db_damaged()).map(|_| {
                "the database is damaged; restore it from the last backup (see `nianbao db check`)"
                    .to_string()
            })
        });
        let weak = Arc::downgrade(&pipeline);
        let room: crate::http::PartsProbe = Box::new(move || {
            let p = weak.upgrade()?;
            let data_dir = p.paths.db.parent()?;
            super::space::problem(
                &[data_dir, &data_dir.join("archive")],
                p.config().max_file_bytes(),
            )
        });
        Arc::new(
            crate::http::Health::new(
                Arc::clone(&pipeline.metrics),
                pipeline.paths.db.clone(),
                parts,
            )
            .with_room_probe(room),
        )
    };
    let http_server = match pipeline.config().http_listen() {
        Some(listen) => {
            if pipeline.config().metrics.listen.is_some() {
                tracing::warn!("{}", crate::config::METRICS_LISTEN_RENAMED);
            }
            // The console wakes the mail task when it queues something (resend, review).
            let weak = Arc::downgrade(&pipeline);
            let kick: crate::console::Kick = Arc::new(move || {
                if let Some(p) = weak.upgrade() {
                    p.mail_wakeup.kick();
                }
            });
            match crate::http::Server::start(
                listen.as_str(),
                Arc::clone(&health),
                pipeline.shared_config(),
                kick,
            )
            .await
            {
                Ok(server) => Some(server),
                // Built-in defaults: the console is a convenience, the daemon runs without it.
                Err(e) if pipeline.config().http.listen_is_default => {
                    tracing::warn!(error = %format!("{e:#}"), "no web console (give [http] listen another port in a configuration file)");
                    None
                }
                Err(e) => {
                    pipeline.stop();
                    return Err(e);
                }
            }
        }
        None => None,
    };
    tracing::info!(
        inbox = %c.inbox.display(),
        data_dir = %c.data_dir.display(),
        workers,
        "watching"
    );
    let status_line = status(&pipeline).await;
    sd_notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&status_line.unwrap_or_default()),
    ]);
    // Pinged at half the interval systemd expects, and only while every part works.
    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    let mut status_tick = tokio::time::interval(STATUS_EVERY);
    status_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_activity = activity(&pipeline);
    loop {
        tokio::select! {
            _ = signals.term.recv() => break,
            _ = signals.int.recv() => break,
            _ = signals.hup.recv() => reload(&pipeline, config_path.as_ref()).await,
            _ = watchdog_tick.tick(), if watchdog.is_some() => {
                let health = Arc::clone(&health);
                match tokio::task::spawn_blocking(move || health.alive()).await {
                    Ok(Ok(())) => sd_notify(&[sd_notify::NotifyState::Watchdog]),
                    Ok(Err(why)) => tracing::error!(%why, "unhealthy: not feeding the watchdog"),
                    Err(e) => tracing::error!(error = %e, "the health check failed (a bug)"),
                }
            }
            _ = status_tick.tick() => {
                // Only when something happened: an idle daemon does no database work.
                let now = activity(&pipeline);
                if now != last_activity
                    && let Some(line) = status(&pipeline).await
                {
                    sd_notify(&[sd_notify::NotifyState::Status(&line)]);
                    last_activity = now;
                }
            }
        }
    }
    sd_notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("stopping: finishing files in progress");
    pipeline.stop();
    let http = async {
        if let Some(server) = http_server {
            server.stop().await;
        }
    };
    let ingest = async {
        if tokio::time::timeout(STOP_WAIT, dispatcher).await.is_err() {
            tracing::warn!(
                "a file still being checked at the stop is left; it is archived and recorded, \
                 and checked at the next start"
            );
        }
    };
    let others = async {
        // Both end within their own bounds (the mail task gives sends in progress 2 s).
        let _ = tokio::time::timeout(STOP_WAIT, retrier).await;
        let _ = tokio::time::timeout(STOP_WAIT, upkeep).await;
        let _ = tokio::time::timeout(STOP_WAIT, lookout).await;
        let _ = tokio::time::timeout(STOP_WAIT, mailer).await;
        let _ = watcher.join(STOP_WAIT).await;
    };
    tokio::join!(http, ingest, others);
    Ok(())
}

/// What changes when the daemon does something: files taken, mail sent or failed.
fn activity(pipeline: &Pipeline) -> (u64, u64, u64) {
    let m = &pipeline.metrics;
    (
        m.files_seen.get(),
        m.emails_sent.get(),
        m.emails_failed.get(),
    )
}

/// The status line for systemd; `None` when the database cannot be read.
async fn status(pipeline: &Arc<Pipeline>) -> Option<String> {
    let counts = pipeline
        .blocking(|p| {
            let store = p.store();
            let checked = store.count_done()?;
            Ok((checked, store.count_pending_messages()?))
        })
        .await;
    match counts {
        Ok((checked, waiting)) => Some(format!(
            "watching {}; {checked} files checked; {waiting} messages waiting",
            pipeline.config().inbox.display(),
        )),
        Err(e) => {
            pipeline.note_db_error(&e);
            None
        }
    }
}

/// SIGHUP: reads the configuration file again; the old settings stay if it fails.
async fn reload(pipeline: &Arc<Pipeline>, config_path: Option<&PathBuf>) {
    let mut states = vec![sd_notify::NotifyState::Reloading];
    if let Ok(now) = sd_notify::NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    sd_notify(&states);
    match config_path {
        None => {
            tracing::info!("reload: no configuration file (built-in defaults); nothing to read")
        }
        Some(path) => {
            let path = path.clone();
            let loaded = pipeline
                .blocking(move |p| {
                    let config = Config::load(&path)?;
                    p.reload(config)?;
                    Ok(path)
                })
                .await;
            match loaded {
                Ok(path) => {
                    tracing::info!(config = %path.display(), agencies = pipeline.config().agencies.len(), "configuration reloaded")
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "reload failed; the previous configuration stays in force")
                }
            }
        }
    }
    pipeline.mail_wakeup.kick();
    sd_notify(&[sd_notify::NotifyState::Ready]);
}

/// Hands ready files to the blocking pool in batches, at most `workers` batches at once.
/// At the stop nothing new starts and the batches under way finish.
async fn dispatch(
    pipeline: Arc<Pipeline>,
    mut ready: mpsc::Receiver<Ready>,
    workers: usize,
    retry: RetryHandle,
) {
    let mut stop = pipeline.stop_signal();
    let slots = Arc::new(Semaphore::new(workers));
    let mut running = JoinSet::new();
    loop {
        let slot = tokio::select! {
            biased;
            _ = crate::recovery::stopped(&mut stop) => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        // Whatever else is ready goes along (group commit); alone when the inbox is quiet.
        let first = tokio::select! {
            biased;
            _ = crate::recovery::stopped(&mut stop) => break,
            first = ready.recv() => match first {
                Some(first) => first,
                None => break,
            },
        };
        let mut batch = vec![first];
        while batch.len() < INGEST_BATCH {
            match ready.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let pipeline = Arc::clone(&pipeline);
        let retry = retry.clone();
        running.spawn(async move {
            ingest(&pipeline, batch, &retry).await;
            drop(slot);
        });
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

/// One batch on the blocking pool; a failure gives its files back to the watcher after a
/// pause that grows while the same failure repeats (a full disk).
async fn ingest(pipeline: &Arc<Pipeline>, batch: Vec<Ready>, retry: &RetryHandle) {
    let taken = batch.clone();
    // A panic outside the checker (which catches its own) costs the batch, not the task.
    match pipeline.blocking(move |p| p.ingest_batch(&taken)).await {
        Ok(0) => {}
        Ok(_) => {
            pipeline.note_success(Activity::Ingest);
            pipeline.mail_wakeup.kick();
        }
        Err(e) => {
            // The same failure again waits longer each time and is logged once a minute;
            // the files stay in the inbox meanwhile.
            let pause = pipeline
                .blocking(move |p| {
                    p.clean_after_failure();
                    Ok(p.note_failure(Activity::Ingest, &e))
                })
                .await
                .unwrap_or(Duration::from_secs(1));
            let mut stop = pipeline.stop_signal();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = crate::recovery::stopped(&mut stop) => {}
            }
            for ready in batch {
                retry.retry(ready.path);
            }
        }
    }
}

/// Checks submissions left unchecked: at once what the last run left, then at every
/// rescan interval and whenever an ingest works again after failures.
async fn retry(pipeline: Arc<Pipeline>) {
    let every = pipeline.config().rescan_interval_s.at_least_one();
    let mut first = true;
    loop {
        if !first && !pipeline.retry_wakeup.wait(every).await {
            break;
        }
        match pipeline.blocking(|p| p.resume()).await {
            Ok(0) => {}
            Ok(done) => {
                if first {
                    tracing::info!(resumed = done, "finished submissions left by the last stop");
                }
                pipeline.mail_wakeup.kick();
            }
            Err(e) => {
                let _ = pipeline
                    .blocking(move |p| Ok(p.note_failure(Activity::Retry, &e)))
                    .await;
            }
        }
        first = false;
    }
}
