//! The supervisor: `run` starts the daemon, keeps it running and stops it.
//!
//! It owns the threads and their life cycle: at start the data-folder lock, the clean-up of
//! what the last run left and the resume of unchecked submissions; then the watcher, the
//! bounded pool of ingest workers, the mail thread and the retry thread; while running the
//! reload on SIGHUP, the health of each part for `/readyz` and the systemd watchdog, and the
//! status line; at a stop, the orderly shut-down.
//!
//! Why the seam is here: this is the only module that knows about threads, channels and
//! signals. Archive, pipeline and delivery are plain methods on [`Pipeline`] that it calls,
//! so the planned move to one async runtime changes this file and not the steps.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::delivery::DELIVERY_BATCH;
use super::{Activity, Pipeline};
use crate::config::{Config, WatchMode};
use crate::mail;
use crate::recovery::payload_text;
use crate::watch::{Ready, RetryHandle, WatchConfig, Watcher};

/// Ready files a worker takes together, at most (see `Pipeline::ingest_batch`).
pub(super) const INGEST_BATCH: usize = 32;

/// The mail thread looks at the outbox this often when it is idle.
const MAIL_ROUND: Duration = Duration::from_millis(500);

impl Pipeline {
    /// Takes a new configuration (agencies, mail, limits) without stopping; the inbox and
    /// data folder cannot move while running. The old settings stay if the new ones fail.
    pub fn reload(&self, new: Config) -> anyhow::Result<()> {
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
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
        Ok(())
    }

    /// Checks submissions archived but never checked: left by a crash or a stop (at start),
    /// or by a failure after they were recorded (a full disk, a busy database; on a timer
    /// while running). One that cannot be checked at all is recorded as failed and the admin
    /// told (see `process`), so it never stops a start; any other failure leaves the rest
    /// for the next round. Returns how many were done.
    pub fn resume(&self) -> anyhow::Result<usize> {
        let unfinished = self.store().unfinished()?;
        let mut done = 0;
        for sub in &unfinished {
            if self.retry_wakeup.is_stopped() {
                break;
            }
            match self.process(sub) {
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

/// How the daemon is steered from outside: flags set by signal handlers.
pub struct Control {
    /// SIGTERM/SIGINT: finish what is in progress and exit.
    pub stop: Arc<AtomicBool>,
    /// SIGHUP: read the configuration file again.
    pub reload: Arc<AtomicBool>,
    /// The file to read again on reload (`None`: built-in defaults, nothing to reload).
    pub config_path: Option<PathBuf>,
}

/// Tells systemd (when it started us with NOTIFY_SOCKET); a no-op otherwise.
fn sd_notify(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// Runs the daemon until `stop` is set: resume, watch, ingest on a bounded pool, deliver.
pub fn run(config: Config, control: Control) -> anyhow::Result<()> {
    let Control {
        stop,
        reload,
        config_path,
    } = control;
    let workers = if config.workers == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        config.workers
    };
    // One daemon per data folder, before anything in it is touched (see store::lock).
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let _lock = crate::store::lock::DataDirLock::acquire(&config.data_dir)?;
    let pipeline = Arc::new(Pipeline::open(config)?);
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
    let resumed = pipeline.resume()?;
    if resumed > 0 {
        tracing::info!(resumed, "finished submissions left by the last stop");
    }
    // Bounded: a burst of thousands of files waits in the inbox, not in memory.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Ready>(workers * INGEST_BATCH);
    let rx = Arc::new(Mutex::new(rx));
    let c = pipeline.config();
    let watcher = Watcher::start(
        WatchConfig {
            inbox: c.inbox.clone(),
            settle: Duration::from_millis(c.settle_ms),
            rescan: Duration::from_secs(c.rescan_interval_s),
            poll_only: c.watch == WatchMode::Poll,
            poll_interval: Duration::from_millis(c.poll_interval_ms),
            ignore_dirs: vec!["回执".to_string()],
        },
        tx,
    )?;
    let mut handles = Vec::new();
    for i in 0..workers {
        let pipeline = Arc::clone(&pipeline);
        let rx = Arc::clone(&rx);
        let retry = watcher.retry_handle();
        handles.push(
            std::thread::Builder::new()
                .name(format!("ingest-{i}"))
                .spawn(move || worker(&pipeline, &rx, &retry))?,
        );
    }
    tracing::info!(
        inbox = %c.inbox.display(),
        data_dir = %c.data_dir.display(),
        workers,
        "watching"
    );
    // Delivery has its own thread: a slow or silent mail server never delays the watcher,
    // the workers, or a stop.
    let mail_stop = Arc::new(AtomicBool::new(false));
    let mailer = {
        let pipeline = Arc::clone(&pipeline);
        let mail_stop = Arc::clone(&mail_stop);
        std::thread::Builder::new()
            .name("mail".into())
            .spawn(move || {
                while !mail_stop.load(Ordering::SeqCst) {
                    if let Err(e) = pipeline.queue_digest() {
                        tracing::warn!(error = %e, "cannot prepare the daily digest");
                    }
                    match pipeline.deliver() {
                        // A full batch went out: more are probably waiting (a burst); no pause.
                        Ok(sent) if sent >= DELIVERY_BATCH => {
                            pipeline.note_success(Activity::Mail);
                            continue;
                        }
                        Ok(_) => pipeline.note_success(Activity::Mail),
                        Err(e) => {
                            pipeline.note_failure(Activity::Mail, &e);
                        }
                    }
                    // One wake-up per round, not five: an idle daemon must stay cheap. A stop
                    // unparks the thread at once.
                    if !mail_stop.load(Ordering::SeqCst) {
                        std::thread::park_timeout(MAIL_ROUND);
                    }
                }
            })?
    };
    // Submissions recorded but left unchecked by a failure (a full disk, a busy database)
    // are retried while running, not only at the next start: at every rescan interval, and
    // at once when an ingest works again. A condition-variable wait: no spinning.
    let retrier = {
        let pipeline = Arc::clone(&pipeline);
        let every = Duration::from_secs(c.rescan_interval_s.max(1));
        std::thread::Builder::new()
            .name("retry".into())
            .spawn(move || {
                while pipeline.retry_wakeup.wait(every) {
                    if let Err(e) = pipeline.resume() {
                        pipeline.note_failure(Activity::Retry, &e);
                    }
                }
            })?
    };
    let http_health = Arc::new(crate::http::Health::new(
        Arc::clone(&pipeline.metrics),
        pipeline.paths.db.clone(),
    ));
    let http_server = match pipeline.config().http_listen() {
        Some(listen) => {
            if pipeline.config().metrics.listen.is_some() {
                tracing::warn!("{}", crate::config::METRICS_LISTEN_RENAMED);
            }
            Some(crate::http::Server::start(
                listen,
                Arc::clone(&http_health),
                pipeline.config(),
            )?)
        }
        None => None,
    };
    let status = |pipeline: &Pipeline| -> Option<String> {
        let counts = {
            let store = pipeline.store();
            store
                .count_done()
                .and_then(|checked| Ok((checked, store.count_pending_messages()?)))
        };
        match counts {
            Ok((checked, waiting)) => Some(format!(
                "watching {}; {checked} files checked; {waiting} messages waiting",
                pipeline.config().inbox.display(),
            )),
            Err(e) => {
                pipeline.note_db_error(&e.into());
                None
            }
        }
    };
    sd_notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&status(&pipeline).unwrap_or_default()),
    ]);
    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut last_ping = Instant::now() - Duration::from_secs(3600);
    let mut last_status = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if reload.swap(false, Ordering::SeqCst) {
            let mut states = vec![sd_notify::NotifyState::Reloading];
            if let Ok(now) = sd_notify::NotifyState::monotonic_usec_now() {
                states.push(now);
            }
            sd_notify(&states);
            match &config_path {
                None => tracing::info!(
                    "reload: no configuration file (built-in defaults); nothing to read"
                ),
                Some(path) => match Config::load(path)
                    .map_err(anyhow::Error::from)
                    .and_then(|c| pipeline.reload(c))
                {
                    Ok(()) => {
                        tracing::info!(config = %path.display(), agencies = pipeline.config().agencies.len(), "configuration reloaded")
                    }
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "reload failed; the previous configuration stays in force")
                    }
                },
            }
            sd_notify(&[sd_notify::NotifyState::Ready]);
        }
        // Which part that does the work has stopped, if any: for /readyz, and the watchdog.
        let broken = if !watcher.is_alive() {
            Some("the watcher has stopped")
        } else if mailer.is_finished() {
            Some("the mail thread has stopped")
        } else if retrier.is_finished() {
            Some("the retry thread has stopped")
        } else if handles.iter().all(|h| h.is_finished()) {
            Some("every ingest worker has stopped")
        } else if pipeline.db_damaged() {
            Some(
                "the database is damaged; restore it from the last backup (see `nianbao db check`)",
            )
        } else {
            None
        };
        http_health.set_parts(broken);
        // The watchdog is fed only while the parts that do the work are alive and the
        // database answers: a wedged daemon gets restarted by systemd.
        if let Some(interval) = watchdog
            && last_ping.elapsed() >= interval
        {
            let healthy = broken.is_none() && status(&pipeline).is_some();
            if healthy {
                sd_notify(&[sd_notify::NotifyState::Watchdog]);
                last_ping = Instant::now();
            } else {
                tracing::error!("unhealthy: not feeding the watchdog");
            }
        }
        if last_status.elapsed() >= Duration::from_secs(10) {
            if let Some(line) = status(&pipeline) {
                sd_notify(&[sd_notify::NotifyState::Status(&line)]);
            }
            last_status = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    sd_notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("stopping: finishing files in progress");
    if let Some(server) = http_server {
        server.stop();
    }
    pipeline.stopping.stop();
    pipeline.retry_wakeup.stop();
    watcher.stop();
    for h in handles {
        let _ = h.join();
    }
    let _ = retrier.join();
    mail_stop.store(true, Ordering::SeqCst);
    mailer.thread().unpark();
    // Wait a little for a message being sent; what is left stays queued for the next start.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !mailer.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if mailer.is_finished() {
        let _ = mailer.join();
    } else {
        tracing::warn!(
            "a message is still being sent; it stays queued and is retried at the next start"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

fn worker(pipeline: &Pipeline, rx: &Mutex<Receiver<Ready>>, retry: &RetryHandle) {
    loop {
        // Whatever else is ready goes along (group commit); alone when the inbox is quiet.
        // Taken under the same lock as the first: a worker that let go in between could
        // find the other one waiting in `recv` with the lock, and wait for the next file.
        let batch = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            let Ok(first) = rx.recv() else { return };
            let mut batch = vec![first];
            while batch.len() < INGEST_BATCH {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            batch
        };
        // A panic outside the checker (which catches its own) still costs no worker.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| pipeline.ingest_batch(&batch)))
            .unwrap_or_else(|payload| {
                Err(anyhow::anyhow!(
                    "ingest failed (a bug): {}",
                    payload_text(payload.as_ref())
                ))
            });
        match outcome {
            Ok(0) => {}
            Ok(_) => pipeline.note_success(Activity::Ingest),
            Err(e) => {
                pipeline.clean_after_failure();
                // The same failure again (a full disk) waits longer each time and is logged
                // once a minute; the files stay in the inbox meanwhile.
                let pause = pipeline.note_failure(Activity::Ingest, &e);
                pipeline.stopping.wait(pause);
                for ready in batch {
                    retry.retry(ready.path);
                }
            }
        }
    }
}
