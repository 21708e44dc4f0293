//! The pipeline from a completed file to a stored, answered submission, idempotent at every
//! step so that a crash or `kill -9` anywhere loses nothing and does nothing twice. Files
//! go in batches (`archive::ingest_batch`):
//!
//! 1. copy each file's bytes into the content-addressed archive (sha256 name, written to a
//!    temporary name and renamed), then make the batch's copies and their folders durable
//!    at once (`flush_archive`: fsync of each file and folder);
//! 2. read and check each file from the archive, before anything is recorded;
//! 3. in one transaction (group commit) record the submissions (receipt number, agency,
//!    name, size, hash, the inbox file's identity) and store their reports, cells,
//!    findings and queued messages;
//! 4. remove the archived files from the inbox (only the archived inode, see
//!    `remove_from_inbox`).
//!
//! A crash before 3 commits leaves the files in the inbox: they are archived again under
//! the same names and checked again. A crash after 3 leaves the inbox files, which are
//! recognised by their identity and only removed. When a file cannot be checked or the
//! batch cannot be stored in one transaction, the batch goes the older way
//! (`record_then_process`): recorded, removed from the inbox, then each file checked and
//! stored on its own; one that fails stays in state `archived` and is checked again by the
//! retry and at start (`resume`).
//!
//! This module holds the shared state ([`Pipeline`], [`Paths`]); the work is split along the
//! seams above, each a submodule adding methods to [`Pipeline`]:
//! - `archive`: the batch and steps 1 and 4 (the only part that touches the hostile inbox);
//! - `pipeline`: steps 2 and 3 for one file (archive and database only; messages are
//!   outbox rows);
//! - `delivery`: the outbox to SMTP, the spool and receipt files; notices; the digest;
//! - `supervisor`: `run`, the runtime and its tasks, resume, reload, health and the
//!   watchdog, stop;
//! - `liveness`: which part works, for the watchdog and `/readyz`;
//! - `failures`: runs of failures, damaged databases, failed submissions, clean-up.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;

use crate::config::Config;
use crate::mail;
use crate::recovery::{Streak, Wakeup};
use crate::store::Store;
use crate::watch::FileIdentity;
use liveness::BusyGuard;

mod archive;
mod delivery;
mod failures;
mod liveness;
mod pipeline;
mod space;
mod supervisor;
mod upkeep;

pub use crate::store::Paths;
pub use failures::Activity;
use failures::open_store;
pub use liveness::Liveness;
pub use supervisor::run;

/// Shared state of the pipeline's threads.
pub struct Pipeline {
    /// Swapped whole on reload (SIGHUP): a file being processed keeps the settings it began
    /// with.
    config: crate::shared_config::SharedConfig,
    pub paths: Paths,
    pub store: Mutex<Store>,
    tmp_counter: AtomicU64,
    /// Inbox files refused (hard links, foreign owners) already logged: once per identity,
    /// not at every rescan.
    refused: Mutex<std::collections::HashSet<FileIdentity>>,
    /// `None`: messages go to the `.eml` spool.
    smtp: RwLock<Option<Arc<mail::smtp::SmtpSender>>>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Submissions being checked right now: the periodic retry leaves them to their worker.
    in_flight: Mutex<HashSet<i64>>,
    /// Held (shared) while a file is copied into the archive; the clean-up of temporary
    /// files after a failure takes it exclusively, so it never removes a copy in progress.
    archiving: RwLock<()>,
    /// Runs of identical failures: bounded logs, growing pauses, one admin notice each.
    ingest_failures: Streak,
    retry_failures: Streak,
    mail_failures: Streak,
    /// Set once the database has reported damage: the watchdog is no longer fed.
    db_damaged: AtomicBool,
    /// Wakes the retry of unchecked submissions early (an ingest works again) and ends it.
    pub retry_wakeup: Wakeup,
    /// Wakes the mail task: something was queued.
    pub mail_wakeup: Wakeup,
    /// `true` once the daemon stops: every task watches it.
    stop: tokio::sync::watch::Sender<bool>,
    /// The day the digest was last queued by this run (no status to compute again).
    digest_day: Mutex<Option<String>>,
    /// The day the reminders were last looked at by this run (cleared by a reload, whose
    /// agencies or schedule may differ).
    reminders_day: Mutex<Option<String>>,
    /// What each part is doing, for the watchdog and `/readyz`.
    pub liveness: Arc<Liveness>,
    /// Per report year, the sentence index of the stored reports (`history.text_shared`):
    /// built from the store the first time a year is checked, updated as outcomes are stored.
    shared_text: Mutex<std::collections::HashMap<i32, crate::shared_text::TextIndex>>,
}

pub use crate::time::now_utc;

impl Pipeline {
    pub fn open(config: Config) -> anyhow::Result<Pipeline> {
        std::fs::create_dir_all(&config.inbox)
            .with_context(|| format!("cannot create the inbox {}", config.inbox.display()))?;
        let paths = Paths::new(&config.data_dir);
        for dir in [&config.data_dir, &paths.archive, &paths.outbox] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let store = open_store(&paths.db)?;
        let smtp = match &config.mail.smtp {
            Some(smtp) => Some(mail::smtp::SmtpSender::from_config(smtp)?),
            None => None,
        };
        Ok(Pipeline {
            paths,
            store: Mutex::new(store),
            tmp_counter: AtomicU64::new(0),
            refused: Mutex::default(),
            smtp: RwLock::new(smtp.map(Arc::new)),
            metrics: Arc::default(),
            in_flight: Mutex::default(),
            archiving: RwLock::default(),
            ingest_failures: Streak::default(),
            retry_failures: Streak::default(),
            mail_failures: Streak::default(),
            db_damaged: AtomicBool::new(false),
            retry_wakeup: Wakeup::default(),
            mail_wakeup: Wakeup::default(),
            stop: tokio::sync::watch::channel(false).0,
            digest_day: Mutex::default(),
            reminders_day: Mutex::default(),
            shared_text: Mutex::default(),
            liveness: Arc::new(Liveness::new(config.stuck_after_s.get())),
            config: crate::shared_config::SharedConfig::new(config),
        })
    }

    /// Tells every task to stop.
    pub fn stop(&self) {
        self.stop.send_replace(true);
        self.liveness.stopping();
        self.retry_wakeup.stop();
        self.mail_wakeup.stop();
    }

    /// What a task waits on to learn of the stop.
    pub fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Notes work that must not take forever (see [`Liveness`]).
    fn busy(&self, part: &'static str, what: impl Into<String>) -> BusyGuard<'_> {
        self.liveness.enter(part, what)
    }

    /// [`Pipeline::busy`] with a file of the inbox not recorded yet (its path stays out of
    /// `/readyz`).
    fn busy_file(&self, part: &'static str, path: impl Into<String>) -> BusyGuard<'_> {
        self.liveness.enter_file(part, path)
    }

    /// Runs `f` on the runtime's blocking pool: database work and file I/O never hold up
    /// the runtime's threads.
    pub async fn blocking<T, F>(self: &Arc<Self>, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Pipeline) -> anyhow::Result<T> + Send + 'static,
    {
        let pipeline = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&pipeline))
            .await
            .map_err(|e| anyhow::anyhow!("a blocking step failed (a bug): {e}"))?
    }

    /// The settings in force.
    /// The handle every part reads the configuration through (the console too); a reload
    /// swaps what it holds.
    pub fn shared_config(&self) -> crate::shared_config::SharedConfig {
        self.config.clone()
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.get()
    }

    fn smtp(&self) -> Option<Arc<mail::smtp::SmtpSender>> {
        self.smtp.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A thread that panicked while holding the lock left SQLite consistent (transactions
        // roll back on drop), so the data behind a poisoned lock is still good.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn filing_year(&self) -> i32 {
        self.config().filing_year_or_current()
    }

    /// The agency of an inbox path: the one configured for its top-level folder, or else
    /// the folder itself, named by the folder (on built-in defaults every folder is an
    /// agency). `None` for a file directly in the inbox.
    pub fn agency_of(&self, path: &Path) -> Option<crate::config::Agency> {
        let config = self.config();
        let rel = path.strip_prefix(&config.inbox).ok()?;
        let mut parts = rel.components();
        let first = parts.next()?;
        parts.next()?; // a file directly in the inbox has no agency
        Some(config.agency_or_folder(&first.as_os_str().to_string_lossy()))
    }
}
