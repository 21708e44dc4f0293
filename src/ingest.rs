//! The pipeline from a completed file to a stored, answered submission, idempotent at every
//! step so that a crash or `kill -9` anywhere loses nothing and does nothing twice:
//!
//! 1. copy the bytes into the content-addressed archive (sha256 name, fsync, rename);
//! 2. record the submission (receipt number, agency, name, size, hash, the inbox file's
//!    identity), then remove the original from the inbox;
//! 3. read and check it from the archive, and store report, cells, findings and the queued
//!    messages in one transaction.
//!
//! A crash after 1 leaves the file in the inbox: it is archived again under the same name.
//! A crash after 2 leaves a submission in state `archived` (done at start) and maybe the
//! inbox file, which is recognised by its identity and only removed. A crash during 3 rolls
//! the transaction back; the submission is checked again at start.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use crate::check::{CheckResult, check_bytes_with, current_year};
use crate::config::{Config, WatchMode};
use crate::finding::{Finding, Location};
use crate::mail::smtp::SendError;
use crate::mail::{self, Outcome};
use crate::recovery::{Failure, NOTIFY_AFTER, Streak, Wakeup, payload_text, root_cause};
use crate::store::{NewSubmission, OutboxMessage, Store, Submission};
use crate::validate::Context;
use crate::watch::{FileIdentity, Ready, RetryHandle, WatchConfig, Watcher};

/// Where the daemon keeps things under `data_dir`.
pub struct Paths {
    pub db: PathBuf,
    pub archive: PathBuf,
    pub outbox: PathBuf,
}

impl Paths {
    pub fn new(data_dir: &Path) -> Paths {
        Paths {
            db: data_dir.join(crate::store::DB_FILE),
            archive: data_dir.join("archive"),
            outbox: data_dir.join("outbox"),
        }
    }

    /// The archived original of a submission.
    pub fn archived(&self, sha256: &str) -> PathBuf {
        self.archive
            .join(sha256.get(..2).unwrap_or("xx"))
            .join(sha256)
    }
}

/// Ready files a worker takes together, at most (see `Pipeline::ingest_batch`).
const INGEST_BATCH: usize = 32;

/// Messages taken from the outbox per round of the mail thread.
const DELIVERY_BATCH: usize = 64;

/// Shared state of the pipeline's threads.
pub struct Pipeline {
    /// Swapped whole on reload (SIGHUP): a file being processed keeps the settings it began
    /// with.
    config: RwLock<Arc<Config>>,
    pub paths: Paths,
    pub store: Mutex<Store>,
    tmp_counter: AtomicU64,
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
    /// Ends the pauses of workers backing off, at stop.
    pub stopping: Wakeup,
}

pub use crate::time::now_utc;

/// Kinds of work whose repeated failures are counted apart (see `Pipeline::note_failure`).
#[derive(Debug, Clone, Copy)]
pub enum Activity {
    Ingest,
    Retry,
    Mail,
}

impl Activity {
    fn name(self) -> &'static str {
        match self {
            Activity::Ingest => "ingest",
            Activity::Retry => "retry",
            Activity::Mail => "mail",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Activity::Ingest => "cannot ingest; will retry",
            Activity::Retry => "cannot check an archived submission; will retry",
            Activity::Mail => "delivering messages failed; will retry",
        }
    }

    fn chinese(self) -> &'static str {
        match self {
            Activity::Ingest => "收件夹中的文件无法归档或登记",
            Activity::Retry => "已归档的文件无法审核",
            Activity::Mail => "邮件无法投递",
        }
    }
}

/// Marks a submission as being checked; released when dropped.
struct Claim<'a> {
    set: &'a Mutex<HashSet<i64>>,
    id: i64,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// Opens the database and refuses a damaged one: on a damaged file every write can lose
/// more, and the daemon used to log "malformed" every 500 ms forever while looking alive.
fn open_store(db: &Path) -> anyhow::Result<Store> {
    let store = match Store::open(db) {
        Ok(store) => store,
        Err(e) if crate::store::is_corruption(&e) => return Err(damaged(db, &format!("{e:#}"))),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot open the database {}", db.display()));
        }
    };
    match store.quick_check() {
        None => Ok(store),
        Some(problem) => Err(damaged(db, &problem)),
    }
}

fn damaged(db: &Path, problem: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the database {} is damaged ({problem}); nianbao does not start on a damaged database. \
         Stop the service, keep a copy of the damaged file, restore it from the last backup \
         (with its -wal file, if any), and confirm with `nianbao db check --config FILE` \
         before starting again",
        db.display()
    )
}

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
            config: RwLock::new(Arc::new(config)),
            paths,
            store: Mutex::new(store),
            tmp_counter: AtomicU64::new(0),
            smtp: RwLock::new(smtp.map(Arc::new)),
            metrics: Arc::default(),
            in_flight: Mutex::default(),
            archiving: RwLock::default(),
            ingest_failures: Streak::default(),
            retry_failures: Streak::default(),
            mail_failures: Streak::default(),
            db_damaged: AtomicBool::new(false),
            retry_wakeup: Wakeup::default(),
            stopping: Wakeup::default(),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn smtp(&self) -> Option<Arc<mail::smtp::SmtpSender>> {
        self.smtp.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes a new configuration (agencies, mail, limits) without stopping; the inbox and
    /// data folder cannot move while running. The old settings stay if the new ones fail.
    pub fn reload(&self, new: Config) -> anyhow::Result<()> {
        let old = self.config();
        if new.inbox != old.inbox || new.data_dir != old.data_dir {
            anyhow::bail!(
                "inbox and data_dir cannot change while running: restart the service for that"
            );
        }
        let smtp = match &new.mail.smtp {
            Some(smtp) => Some(Arc::new(mail::smtp::SmtpSender::from_config(smtp)?)),
            None => None,
        };
        *self.smtp.write().unwrap_or_else(|e| e.into_inner()) = smtp;
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
        Ok(())
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A thread that panicked while holding the lock left SQLite consistent (transactions
        // roll back on drop), so the data behind a poisoned lock is still good.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn filing_year(&self) -> i32 {
        if self.config().filing_year > 0 {
            self.config().filing_year
        } else {
            current_year()
        }
    }

    /// The agency folder of an inbox path, if it is a configured agency's subfolder.
    pub fn agency_of(&self, path: &Path) -> Option<crate::config::Agency> {
        let config = self.config();
        let rel = path.strip_prefix(&config.inbox).ok()?;
        let mut parts = rel.components();
        let first = parts.next()?;
        parts.next()?; // a file directly in the inbox has no agency
        config.agency(&first.as_os_str().to_string_lossy()).cloned()
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

    fn streak(&self, activity: Activity) -> &Streak {
        match activity {
            Activity::Ingest => &self.ingest_failures,
            Activity::Retry => &self.retry_failures,
            Activity::Mail => &self.mail_failures,
        }
    }

    /// A failure of `activity`: logged at its first occurrence and then once a minute while
    /// it repeats (not 60 lines a second), the admin told once per run of failures, damage
    /// to the database noted. Returns how long to pause before trying again.
    pub fn note_failure(&self, activity: Activity, e: &anyhow::Error) -> Duration {
        self.note_db_error(e);
        let f = self.streak(activity).fail(&root_cause(e));
        let what = activity.what();
        if f.log && f.count == 1 {
            tracing::error!(error = %format!("{e:#}"), "{what}");
        } else if f.log {
            tracing::error!(error = %format!("{e:#}"), failures = f.count, since = %f.since, "{what} (still failing; logged once a minute)");
        } else {
            tracing::debug!(error = %format!("{e:#}"), failures = f.count, "{what}");
        }
        if f.notify && self.notify_failing(activity, &root_cause(e), &f, false) {
            self.streak(activity).notified();
        }
        f.pause
    }

    /// `activity` worked: ends a run of failures (logged; the admin told if the run was
    /// long and no notice could be queued while it lasted, e.g. on a full disk), and wakes
    /// the retry of unchecked submissions.
    pub fn note_success(&self, activity: Activity) {
        let Some(f) = self.streak(activity).succeed() else {
            return;
        };
        tracing::info!(
            failures = f.count,
            since = %f.since,
            "{}: working again",
            activity.name()
        );
        if !f.notified && f.count >= NOTIFY_AFTER {
            let run = Failure {
                log: false,
                count: f.count,
                pause: Duration::ZERO,
                notify: true,
                since: f.since,
            };
            self.notify_failing(activity, "", &run, true);
        }
        self.retry_wakeup.kick();
    }

    /// Queues the admin's notice of a run of failures (one per run: its key holds the run's
    /// start). `false` when it cannot be queued now (the database may be what fails).
    fn notify_failing(
        &self,
        activity: Activity,
        cause: &str,
        f: &Failure,
        recovered: bool,
    ) -> bool {
        let Some(admin) = self.config().mail.admin.clone() else {
            return true;
        };
        let body_text = if recovered {
            format!(
                "自 {}（UTC）起{}，连续失败 {} 次，现已恢复，积压的文件正在处理，无需操作。\n\n\
                 故障期间没有文件丢失：未归档的文件留在收件夹中，已归档的已自动补审。",
                f.since,
                activity.chinese(),
                f.count
            )
        } else {
            format!(
                "自 {}（UTC）起{}，已连续失败 {} 次，仍在按逐渐加长的间隔重试：\n{cause}\n\n\
                 没有文件丢失：未归档的文件留在收件夹中，已归档的会在恢复后自动审核，无需重启。\n\
                 请检查数据目录（data_dir）所在磁盘的剩余空间（df -h）和权限，以及服务日志\
                 （journalctl -u nianbao）。",
                f.since,
                activity.chinese(),
                f.count
            )
        };
        let message = OutboxMessage {
            kind: "notice",
            recipient: admin,
            subject: format!("【故障】{}", activity.chinese()),
            body_text,
            body_html: None,
        };
        let key = format!("notice/{}-failing/{}", activity.name(), f.since);
        match self.store().queue_message(None, &key, &message) {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(error = %e, "cannot queue the admin's notice yet");
                false
            }
        }
    }

    /// Notes an error that says the database is damaged: from then on the watchdog is not
    /// fed (systemd restarts the service, which then refuses the damaged file with a message
    /// saying what to do), and the admin is told once.
    pub fn note_db_error(&self, e: &anyhow::Error) {
        if !crate::store::is_corruption(e) || self.db_damaged.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::error!(
            error = %format!("{e:#}"),
            "the database is damaged: not feeding the watchdog any more; restore it from the last backup (see `nianbao db check`)"
        );
        self.tell_admin_db_damaged(e);
    }

    pub fn db_damaged(&self) -> bool {
        self.db_damaged.load(Ordering::SeqCst)
    }

    /// Tells the admin that the database is damaged by a message written straight into the
    /// `.eml` spool (and sent by SMTP at once when configured), not through the outbox: the
    /// outbox is a table of that very database, so a notice queued there may never be read
    /// back, and the mail thread that would send it fails on the same database.
    fn tell_admin_db_damaged(&self, e: &anyhow::Error) {
        let config = self.config();
        let Some(admin) = &config.mail.admin else {
            return;
        };
        let now = now_utc();
        let key = format!("notice/database-damaged/{now}");
        let body = format!(
            "nianbao 的数据库 {} 已损坏（{now} UTC 发现）：\n{e:#}\n\n\
             服务已停止向 systemd 报告健康，将被重启，并会拒绝在损坏的数据库上启动。\n\
             请停止服务，保留损坏文件的副本，从最近的备份恢复数据库，\
             用 `nianbao db check --config <配置文件>` 确认完好后再启动。\n\
             收件夹中的文件不会丢失，恢复后会被处理。",
            self.paths.db.display()
        );
        let message = match mail::build_message(
            &config.mail.from,
            admin,
            "【紧急】nianbao 数据库已损坏",
            &body,
            None,
            &key,
        ) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the admin's notice of the damaged database");
                return;
            }
        };
        match mail::spool::write(&self.paths.outbox, &key, &message.formatted()) {
            Ok(path) => {
                tracing::info!(path = %path.display(), "the admin's notice of the damaged database is in the spool")
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot write the admin's notice of the damaged database")
            }
        }
        if let Some(smtp) = self.smtp()
            && let Err(e) = smtp.send(&message)
        {
            tracing::error!(error = ?e, "cannot send the admin's notice of the damaged database");
        }
    }

    /// Removes every temporary file of the archive (`data/archive/tmp`): copies that a
    /// failure (a full disk) or a crash left behind. Only files, never through a link.
    /// Called at start, before any copy begins, and by `clean_after_failure`.
    pub fn clean_archive_tmp(&self) -> usize {
        let dir = self.paths.archive.join("tmp");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// After a failed ingest: removes the temporary copies it left, unless another worker
    /// is copying a file right now (its copy is left for the next clean-up).
    fn clean_after_failure(&self) {
        if let Ok(_alone) = self.archiving.try_write() {
            let removed = self.clean_archive_tmp();
            if removed > 0 {
                tracing::debug!(
                    removed,
                    "removed temporary archive copies left by a failure"
                );
            }
        }
    }

    /// Claims a submission for checking; `None` when another thread is checking it.
    fn claim(&self, id: i64) -> Option<Claim<'_>> {
        let fresh = self
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id);
        // Lazily: a `Claim` made and dropped here would release the other thread's claim.
        fresh.then(|| Claim {
            set: &self.in_flight,
            id,
        })
    }

    /// Records that a submission cannot be checked at all (its archived copy is missing or
    /// not the file that was received) and tells the admin, once: it is not retried, so it
    /// can stop neither a start nor the inbox.
    fn fail(&self, sub: &Submission, reason: &str) -> anyhow::Result<()> {
        let config = self.config();
        let notice = config.mail.admin.as_ref().map(|admin| {
            (
                format!("{}/notice/{admin}", sub.receipt),
                OutboxMessage {
                    kind: "notice",
                    recipient: admin.clone(),
                    subject: format!(
                        "【无法审核】{} {} {}",
                        sub.receipt,
                        sub.agency_name.as_deref().unwrap_or("（未登记单位）"),
                        sub.original_name
                    ),
                    body_text: format!(
                        "回执 {}（{}，文件 {}，{} 收到）无法审核，已标记为失败，不会自动重试：\n{reason}\n\n\
                         提交单位还没有收到审核结果。请从备份恢复归档文件 archive/{}/{}，\
                         或请该单位重新提交同一文件。",
                        sub.receipt,
                        sub.agency_name.as_deref().unwrap_or("未登记单位"),
                        sub.original_name,
                        sub.received_at,
                        sub.sha256.get(..2).unwrap_or("xx"),
                        sub.sha256
                    ),
                    body_html: None,
                },
            )
        });
        let changed = self.store().fail_submission(
            sub.id,
            reason,
            &now_utc(),
            notice.as_ref().map(|(k, m)| (k.as_str(), m)),
        )?;
        if changed {
            tracing::error!(
                receipt = %sub.receipt,
                file = %sub.original_name,
                reason,
                "cannot be checked: recorded as failed, the admin is told"
            );
        }
        Ok(())
    }

    /// Steps 1–3 for completed inbox files, taken together (group commit): each is copied
    /// into the archive, the copies are flushed to disk, one
    /// transaction records them all, then they leave the inbox and are checked one by one.
    /// The order per file is the same as alone (durable archive, durable record, removal),
    /// so a crash anywhere loses nothing and records nothing twice; what changes is that a
    /// burst costs one `record` commit per batch instead of one per file.
    /// Returns how many files it recorded.
    pub fn ingest_batch(&self, batch: &[Ready]) -> anyhow::Result<usize> {
        struct Staged {
            path: PathBuf,
            key: String,
            sha256: String,
            size: u64,
            rel: String,
            agency: Option<crate::config::Agency>,
        }
        let mut staged: Vec<Staged> = Vec::new();
        for ready in batch {
            let path = &ready.path;
            let meta = match std::fs::symlink_metadata(path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::debug!(path = %path.display(), "vanished before it was taken");
                    continue;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot stat {}", path.display()));
                }
            };
            if !meta.file_type().is_file() {
                continue;
            }
            let identity = FileIdentity::of(&meta);
            if identity != ready.identity {
                tracing::debug!(path = %path.display(), "changed since it settled; waiting for it again");
                continue;
            }
            let key = identity.key();
            let seen = self.store().by_source_identity(&key)?;
            if let Some(sub) = seen {
                // Recorded before a crash, or its removal failed: finish, never record twice.
                self.remove_from_inbox(path);
                if sub.state == "archived" {
                    self.process(&sub)?;
                }
                continue;
            }
            let archived = {
                let _copying = self.archiving.read().unwrap_or_else(|e| e.into_inner());
                self.archive(path, &identity)?
            };
            let Some((sha256, size)) = archived else {
                continue;
            };
            let rel = path
                .strip_prefix(&self.config().inbox)
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned();
            staged.push(Staged {
                path: path.clone(),
                key,
                sha256,
                size,
                rel,
                agency: self.agency_of(path),
            });
        }
        if staged.is_empty() {
            return Ok(0);
        }
        self.flush_archive(staged.iter().map(|st| st.sha256.as_str()))?;
        let received_at = now_utc();
        let news: Vec<NewSubmission<'_>> = staged
            .iter()
            .map(|st| NewSubmission {
                agency_folder: st.agency.as_ref().map(|a| a.folder.as_str()),
                agency_name: st.agency.as_ref().map(|a| a.name.as_str()),
                original_name: &st.rel,
                size: st.size,
                sha256: &st.sha256,
                source_identity: &st.key,
                received_at: &received_at,
            })
            .collect();
        let subs = self.store().record_all(&news, current_year())?;
        for st in &staged {
            self.remove_from_inbox(&st.path);
            self.metrics.files_seen.fetch_add(1, Ordering::Relaxed);
        }
        // Each recorded file is checked even if another one fails: a failure leaves only
        // its own submission, in state `archived`, for the retry (`resume`, on a timer).
        let mut first_error = None;
        for sub in &subs {
            if let Err(e) = self.process(sub) {
                first_error.get_or_insert(e.context(format!(
                    "receipt {}: archived and recorded, not yet checked",
                    sub.receipt
                )));
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(subs.len()),
        }
    }

    /// Makes the archive copies of a batch durable before any of them is recorded: each
    /// file, then each folder that received one (once per folder). Not `syncfs`: that
    /// waits for every dirty page of the whole file system, which on a shared server (or
    /// beside a test writing 200 MB) stalls for seconds.
    fn flush_archive<'a>(&self, sha256s: impl Iterator<Item = &'a str>) -> anyhow::Result<()> {
        let mut folders: Vec<PathBuf> = Vec::new();
        for sha in sha256s {
            let dest = self.paths.archived(sha);
            std::fs::File::open(&dest)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot flush {} to disk", dest.display()))?;
            if let Some(parent) = dest.parent()
                && !folders.iter().any(|f| f == parent)
            {
                folders.push(parent.to_path_buf());
            }
        }
        for folder in folders {
            // The renames into the folder must survive a power cut too.
            std::fs::File::open(&folder)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot flush {} to disk", folder.display()))?;
        }
        Ok(())
    }

    fn remove_from_inbox(&self, path: &Path) {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                path = %path.display(),
                error = %e,
                "archived, but cannot remove it from the inbox (check the folder's permissions); it will not be taken twice"
            ),
        }
    }

    /// Copies the file into the archive, hashing as it goes. `None` when it changed while
    /// being copied (the watcher will declare it again once it settles).
    fn archive(
        &self,
        path: &Path,
        identity: &FileIdentity,
    ) -> anyhow::Result<Option<(String, u64)>> {
        let tmp_dir = self.paths.archive.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = tmp_dir.join(format!("{}-{n}", std::process::id()));
        let mut src = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        let mut dst = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write the archive {}", tmp.display()))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let k = src.read(&mut buf)?;
            if k == 0 {
                break;
            }
            hasher.update(&buf[..k]);
            dst.write_all(&buf[..k])?;
            size += k as u64;
        }
        // Made durable by `flush_archive` for the whole batch, before anything is recorded.
        drop(dst);
        let after = std::fs::symlink_metadata(path)
            .map(|m| FileIdentity::of(&m))
            .ok();
        if after.as_ref() != Some(identity) || size != identity.size {
            let _ = std::fs::remove_file(&tmp);
            return Ok(None);
        }
        let digest = hasher.finalize();
        let sha256: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let dest = self.paths.archived(&sha256);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&tmp, &dest)?;
        Ok(Some((sha256, size)))
    }

    /// Step 3: read, check, store the outcome and queue the messages.
    ///
    /// A submission whose archived copy is missing or is not the file received (sha256) is
    /// recorded as failed (`fail`); a panic of the checker becomes the finding
    /// `file.internal_error` and a notice to the admin. Any other error (disk, database)
    /// leaves it `archived`, for the retry.
    fn process(&self, sub: &Submission) -> anyhow::Result<()> {
        let Some(_claim) = self.claim(sub.id) else {
            // Being checked by another thread (a worker, or the retry).
            return Ok(());
        };
        let started = Instant::now();
        let config = self.config();
        let agency = sub.agency_folder.as_deref().and_then(|f| config.agency(f));
        let name = Path::new(&sub.original_name)
            .file_name()
            .map_or(sub.original_name.clone(), |n| {
                n.to_string_lossy().into_owned()
            });
        let original =
            self.store()
                .original_of(sub.agency_folder.as_deref(), &sub.sha256, sub.id)?;
        if let Some(original) = original {
            let (subject, body) = mail::render(
                &sub.receipt,
                agency.map(|a| a.name.as_str()),
                &name,
                &Outcome::Duplicate {
                    first_receipt: &original.receipt,
                    verdict: original.verdict.as_deref(),
                },
            );
            let mut messages = self.messages(agency, false, &subject, &body, None);
            messages.extend(self.receipt_file(sub, &subject, &body));
            self.store()
                .store_duplicate(sub.id, &original, &now_utc(), &messages, &sub.receipt)?;
            self.metrics.duplicates.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                receipt = %sub.receipt,
                agency = agency.map_or("-", |a| a.name.as_str()),
                file = %sub.original_name,
                first = %original.receipt,
                "duplicate"
            );
            return Ok(());
        }
        let limit = config.max_file_bytes();
        let mut internal_error = None;
        let result = if sub.size as u64 > limit {
            too_large(&name, sub, limit)
        } else {
            let path = self.paths.archived(&sub.sha256);
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return self.fail(
                        sub,
                        &format!("the archived copy {} is missing", path.display()),
                    );
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot read the archived original {}", path.display())
                    });
                }
            };
            let found = crate::check::sha256_hex(&bytes);
            if found != sub.sha256 {
                return self.fail(
                    sub,
                    &format!(
                        "the archived copy {} is not the file received: its sha256 is {found}, the recorded one {}",
                        path.display(),
                        sub.sha256
                    ),
                );
            }
            // A bug in an extractor or a rule costs this file, never the worker.
            match std::panic::catch_unwind(AssertUnwindSafe(|| {
                self.check(&bytes, &name, sub.agency_folder.as_deref())
            })) {
                Ok(result) => result,
                Err(payload) => {
                    let panic = payload_text(payload.as_ref());
                    tracing::error!(receipt = %sub.receipt, file = %sub.original_name, error = %panic, "the checker failed on this file (a bug); answered with file.internal_error, the admin is told");
                    internal_error = Some(panic);
                    internal_error_result(&name, sub)
                }
            }
        };
        let check_ms = started.elapsed().as_millis() as u64;
        let (subject, body) = match &result.findings.first() {
            Some(f) if f.rule == "file.too_large" => mail::render(
                &sub.receipt,
                agency.map(|a| a.name.as_str()),
                &name,
                &Outcome::TooLarge {
                    size: sub.size as u64,
                    limit,
                },
            ),
            _ => mail::render(
                &sub.receipt,
                agency.map(|a| a.name.as_str()),
                &name,
                &Outcome::Checked(&result),
            ),
        };
        let unreadable = result.report.is_none();
        let html = (!unreadable).then(|| {
            mail::html::render(
                &sub.receipt,
                agency.map(|a| a.name.as_str()),
                &name,
                &result,
                &subject,
            )
        });
        let mut messages = self.messages(agency, unreadable, &subject, &body, html.as_deref());
        messages.extend(self.receipt_file(sub, &subject, &body));
        if let (Some(panic), Some(admin)) = (&internal_error, &config.mail.admin) {
            messages.push(OutboxMessage {
                kind: "notice",
                recipient: admin.clone(),
                subject: format!("【程序错误】{} {}", sub.receipt, sub.original_name),
                body_text: format!(
                    "审核程序读取回执 {} 的文件 {} 时出错（程序缺陷，不是文件的问题）：\n{panic}\n\n\
                     提交单位已收到“政务公开办会人工查看”的答复。请人工审核归档文件 archive/{}/{}，\
                     并把该文件交给维护人员复现。",
                    sub.receipt,
                    sub.original_name,
                    sub.sha256.get(..2).unwrap_or("xx"),
                    sub.sha256
                ),
                body_html: None,
            });
        }
        self.store().store_outcome(
            sub.id,
            &result,
            check_ms,
            &now_utc(),
            &messages,
            &sub.receipt,
        )?;
        self.metrics.observe_ms(check_ms);
        let counter = if unreadable {
            &self.metrics.unreadable
        } else if result.accepted() {
            &self.metrics.accepted
        } else {
            &self.metrics.rejected
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            receipt = %sub.receipt,
            agency = agency.map_or("-", |a| a.name.as_str()),
            file = %sub.original_name,
            year = result.report.as_ref().and_then(|r| r.year),
            verdict = if result.accepted() { "accepted" } else { "rejected" },
            errors = result.errors(),
            warnings = result.warnings(),
            check_ms,
            "checked"
        );
        Ok(())
    }

    /// Checks bytes with last year's report of the same agency, when stored.
    fn check(&self, bytes: &[u8], name: &str, agency_folder: Option<&str>) -> CheckResult {
        test_panic_hook(name);
        let filing_year = self.filing_year();
        let first = check_bytes_with(
            bytes,
            name,
            &Context {
                previous: None,
                filing_year,
            },
        );
        let previous = match (agency_folder, first.report.as_ref().and_then(|r| r.year)) {
            (Some(folder), Some(year)) => match self.store().latest_report(folder, year - 1) {
                Ok(previous) => previous,
                Err(e) => {
                    tracing::warn!(
                        file = name,
                        agency = folder,
                        year = year - 1,
                        error = %format!("{e:#}"),
                        "cannot read last year's report; the cross-year rules are skipped for this file"
                    );
                    None
                }
            },
            _ => None,
        };
        match previous {
            Some(previous) => crate::check::revalidate(
                first,
                &Context {
                    previous: Some(&previous),
                    filing_year,
                },
            ),
            None => first,
        }
    }

    /// Who gets the message: the agency's addresses; the admin when there are none, and
    /// also for a file that could not be read at all.
    fn messages(
        &self,
        agency: Option<&crate::config::Agency>,
        unreadable: bool,
        subject: &str,
        body: &str,
        html: Option<&str>,
    ) -> Vec<OutboxMessage> {
        let mut out: Vec<OutboxMessage> = agency
            .map(|a| a.email.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|to| OutboxMessage {
                kind: "feedback",
                recipient: to,
                subject: subject.to_string(),
                body_text: body.to_string(),
                body_html: html.map(str::to_string),
            })
            .collect();
        if (out.is_empty() || unreadable)
            && let Some(admin) = &self.config().mail.admin
        {
            out.push(OutboxMessage {
                kind: "admin",
                recipient: admin.clone(),
                subject: subject.to_string(),
                body_text: body.to_string(),
                body_html: html.map(str::to_string),
            });
        }
        out
    }

    /// The receipt file beside the agency's reports: `<folder>/回执/<file>.txt`, queued like a
    /// message so that it is written once, and again if the share was unreachable.
    fn receipt_file(&self, sub: &Submission, subject: &str, body: &str) -> Option<OutboxMessage> {
        if !self.config().mail.receipt_files {
            return None;
        }
        let original = Path::new(&sub.original_name);
        let name = original.file_name()?.to_string_lossy().into_owned();
        let folder = original.parent().unwrap_or(Path::new(""));
        let path = folder.join("回执").join(format!("{name}.txt"));
        Some(OutboxMessage {
            kind: "receipt",
            recipient: path.to_string_lossy().into_owned(),
            subject: subject.to_string(),
            body_text: format!("{subject}\n\n{body}"),
            body_html: None,
        })
    }

    /// Delivers due messages: SMTP, or `.eml` files without `[mail.smtp]`; receipt files
    /// into the inbox. Returns how many went out.
    pub fn deliver(&self) -> anyhow::Result<usize> {
        let pending = self.store().outbox_batch(DELIVERY_BATCH)?;
        let mut sent = 0;
        let mut transient_in_a_row = 0;
        // Files (receipt files, and .eml files when there is no SMTP server) are written
        // under names fixed by their message, so writing one again after a crash replaces
        // it: their `sent` marks can share one commit at the end of the batch. What went
        // to an SMTP server is marked at once, to keep a repeat after a crash as unlikely
        // as it can be.
        let spool = self.smtp().is_none();
        let mut written: Vec<i64> = Vec::new();
        for m in pending {
            let result = if m.kind == "receipt" {
                self.write_receipt(&m)
            } else {
                self.send(&m)
            };
            match result {
                Ok(()) => {
                    if spool || m.kind == "receipt" {
                        written.push(m.id);
                    } else {
                        self.store().mark_sent(m.id, &now_utc())?;
                    }
                    if m.kind != "receipt" {
                        self.metrics.emails_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::info!(kind = %m.kind, recipient = %m.recipient, key = %m.key, "delivered");
                    sent += 1;
                    transient_in_a_row = 0;
                }
                Err(SendError::Permanent(e)) => {
                    self.store().mark_failed(m.id, &e)?;
                    self.metrics.emails_failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(recipient = %m.recipient, error = %e, key = %m.key, "refused for good; the admin is told");
                    self.tell_admin(&m, &e)?;
                }
                Err(SendError::Transient(e)) => {
                    if m.attempts + 1 >= i64::from(self.config().mail.max_attempts) {
                        self.store().mark_failed(m.id, &e)?;
                        self.metrics.emails_failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(recipient = %m.recipient, error = %e, attempts = m.attempts + 1, "given up; the admin is told");
                        self.tell_admin(&m, &e)?;
                    } else {
                        let delay = self
                            .config()
                            .mail
                            .retry_base_s
                            .max(1)
                            .saturating_mul(1u64 << m.attempts.clamp(0, 20))
                            .min(6 * 3600);
                        self.store().mark_retry(m.id, &e, delay as i64)?;
                        tracing::warn!(recipient = %m.recipient, error = %e, retry_in_s = delay, "not delivered; will retry");
                    }
                    // The server is probably down: leave the rest for the next round.
                    transient_in_a_row += 1;
                    if transient_in_a_row >= 3 {
                        break;
                    }
                }
            }
        }
        if !written.is_empty() {
            self.store().mark_sent_all(&written, &now_utc())?;
        }
        Ok(sent)
    }

    fn send(&self, m: &crate::store::Pending) -> Result<(), SendError> {
        let message = mail::build_message(
            &self.config().mail.from,
            &m.recipient,
            &m.subject,
            &m.body_text,
            m.body_html.as_deref(),
            &m.key,
        )
        .map_err(|e| SendError::Permanent(format!("message cannot be built: {e}")))?;
        match self.smtp() {
            Some(smtp) => smtp.send(&message),
            None => mail::spool::write(&self.paths.outbox, &m.key, &message.formatted())
                .map(|_| ())
                .map_err(|e| SendError::Transient(format!("cannot write the spool: {e}"))),
        }
    }

    fn write_receipt(&self, m: &crate::store::Pending) -> Result<(), SendError> {
        let rel = Path::new(&m.recipient);
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(SendError::Permanent(format!(
                "not a path inside the inbox: {}",
                m.recipient
            )));
        }
        let path = self.config().inbox.join(rel);
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(SendError::Permanent(format!(
                "not a file path: {}",
                m.recipient
            )));
        };
        mail::spool::write_atomic(dir, &name.to_string_lossy(), m.body_text.as_bytes())
            .map(|_| ())
            .map_err(|e| SendError::Transient(format!("cannot write the receipt file: {e}")))
    }

    /// Tells the admin about a message given up on (once per message).
    fn tell_admin(&self, m: &crate::store::Pending, error: &str) -> anyhow::Result<()> {
        let Some(admin) = &self.config().mail.admin else {
            return Ok(());
        };
        // No notice about a notice, nor about mail to the admin that the admin cannot get.
        if m.kind == "notice" || (m.kind != "receipt" && m.recipient == *admin) {
            return Ok(());
        }
        let notice = OutboxMessage {
            kind: "notice",
            recipient: admin.clone(),
            subject: format!("【投递失败】{}", m.subject),
            body_text: format!(
                "以下消息无法送达 {}，已停止重试：\n{error}\n\n请核对地址，必要时用 `nianbao mail resend <回执编号>` 重新发送。\n\n原消息：\n{}",
                m.recipient, m.body_text
            ),
            body_html: None,
        };
        self.store()
            .queue_message(m.submission_id, &format!("{}/failed", m.key), &notice)?;
        Ok(())
    }
}

impl Pipeline {
    /// Queues today's digest for the admin once its time has come (China Standard Time),
    /// in the filing-season months; at most one a day, also across restarts.
    pub fn queue_digest(&self) -> anyhow::Result<bool> {
        let (Some(admin), Some(at)) = (&self.config().mail.admin, &self.config().mail.digest_time)
        else {
            return Ok(false);
        };
        let Some(at) = crate::config::parse_hh_mm(at) else {
            return Ok(false);
        };
        // China Standard Time: UTC+8, no daylight saving.
        let now = crate::time::now_secs() + 8 * 3600;
        let minutes = (now.rem_euclid(86_400) / 60) as u32;
        let date = crate::time::rfc3339(now);
        let month: u32 = date.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
        if minutes < at || !self.config().mail.digest_months.contains(&month) {
            return Ok(false);
        }
        let day = date.get(..10).unwrap_or_default().to_string();
        let year = self.filing_year() - 1;
        let status = {
            let store = self.store();
            crate::status::status(&store, &self.config(), year)?
        };
        let body = crate::status::render(&status);
        let message = OutboxMessage {
            kind: "digest",
            recipient: admin.clone(),
            subject: format!("【每日汇总】{day} {year}年度政府信息公开工作年度报告报送情况"),
            body_text: body,
            body_html: None,
        };
        Ok(self
            .store()
            .queue_message(None, &format!("digest/{day}"), &message)?)
    }
}

/// Test hook: panics while checking a file whose name contains the value of
/// `NIANBAO_TEST_PANIC_ON`, so that the tests can prove on the real daemon that a panic in
/// the checker costs one file, not a worker or the daemon. Compiled only into debug builds
/// (`debug_assertions`): the released binary has no such hook, and an agency controls file
/// names but never the daemon's environment, so it cannot be reached from the inbox.
#[cfg(debug_assertions)]
fn test_panic_hook(name: &str) {
    if let Some(needle) = std::env::var_os("NIANBAO_TEST_PANIC_ON")
        && !needle.is_empty()
        && name.contains(needle.to_string_lossy().as_ref())
    {
        panic!("NIANBAO_TEST_PANIC_ON: deliberate panic while checking {name}");
    }
}

#[cfg(not(debug_assertions))]
fn test_panic_hook(_name: &str) {}

/// The outcome of a file the checker failed on (a panic): one finding that tells the clerk
/// the office will look at it.
fn internal_error_result(name: &str, sub: &Submission) -> CheckResult {
    let mut result = crate::check::check_bytes(&[], name);
    result.sha256 = sub.sha256.clone();
    result.findings = vec![Finding::new(
        &crate::rules::FILE_INTERNAL_ERROR,
        Location::default(),
        "审核程序在读取本文件时发生内部错误，这不是贵单位文件的问题。文件已妥善存档，\
         政务公开办会人工查看并另行答复，暂时无需重新提交。",
    )];
    result
}

fn too_large(name: &str, sub: &Submission, limit: u64) -> CheckResult {
    let mut result = crate::check::check_bytes(&[], name);
    result.sha256 = sub.sha256.clone();
    result.findings = vec![Finding::new(
        &crate::rules::FILE_TOO_LARGE,
        Location::default(),
        crate::extract::ExtractError::TooLarge {
            size: sub.size as u64,
            limit,
        }
        .to_string(),
    )];
    result
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
                    for _ in 0..5 {
                        if mail_stop.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
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
    let metrics_stop = Arc::new(AtomicBool::new(false));
    let metrics_server = match pipeline.config().metrics.listen.clone() {
        Some(listen) => {
            let p = Arc::clone(&pipeline);
            Some(crate::metrics::serve(
                &listen,
                Arc::clone(&metrics_stop),
                move || {
                    let depth = p
                        .store()
                        .connection()
                        .query_row(
                            "SELECT count(*) FROM outbox WHERE state = 'pending'",
                            [],
                            |r| r.get(0),
                        )
                        .ok();
                    p.metrics.render(depth)
                },
            )?)
        }
        None => None,
    };
    let status = |pipeline: &Pipeline| -> Option<String> {
        let counts = {
            let store = pipeline.store();
            let count = |sql: &str| -> Result<i64, crate::store::SqlError> {
                store.connection().query_row(sql, [], |r| r.get(0))
            };
            count("SELECT count(*) FROM submissions WHERE state != 'archived'").and_then(
                |checked| {
                    Ok((
                        checked,
                        count("SELECT count(*) FROM outbox WHERE state = 'pending'")?,
                    ))
                },
            )
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
        // The watchdog is fed only while the parts that do the work are alive and the
        // database answers: a wedged daemon gets restarted by systemd.
        if let Some(interval) = watchdog
            && last_ping.elapsed() >= interval
        {
            let healthy = watcher.is_alive()
                && !mailer.is_finished()
                && !retrier.is_finished()
                && handles.iter().any(|h| !h.is_finished())
                && status(&pipeline).is_some()
                && !pipeline.db_damaged();
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
    pipeline.stopping.stop();
    pipeline.retry_wakeup.stop();
    watcher.stop();
    for h in handles {
        let _ = h.join();
    }
    let _ = retrier.join();
    mail_stop.store(true, Ordering::SeqCst);
    metrics_stop.store(true, Ordering::SeqCst);
    if let Some(server) = metrics_server {
        let _ = server.join();
    }
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
