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
use crate::recovery::{Streak, Wakeup, payload_text};
use crate::store::{
    MessageKind, NewSubmission, OutboxMessage, Store, Submission, SubmissionState, Verdict,
};
use crate::validate::Context;
use crate::watch::{FileIdentity, Ready, RetryHandle, WatchConfig, Watcher};

mod failures;

pub use failures::Activity;
use failures::{internal_error_result, open_store, test_panic_hook};

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

/// The mail thread looks at the outbox this often when it is idle.
const MAIL_ROUND: Duration = Duration::from_millis(500);

/// Shared state of the pipeline's threads.
pub struct Pipeline {
    /// Swapped whole on reload (SIGHUP): a file being processed keeps the settings it began
    /// with.
    config: RwLock<Arc<Config>>,
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
    /// Ends the pauses of workers backing off, at stop.
    pub stopping: Wakeup,
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
            config: RwLock::new(Arc::new(config)),
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
            identity: FileIdentity,
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
                self.remove_from_inbox(path, &identity);
                if sub.state == SubmissionState::Archived {
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
                identity,
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
            self.remove_from_inbox(&st.path, &st.identity);
            self.metrics.files_seen.inc();
        }
        self.metrics.committed();
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

    /// Removes the archived file from the inbox, and nothing else. Word and WPS save by
    /// renaming a new version over the name, at any moment, so "check, then unlink the
    /// name" could delete a version renamed in between (a preempted thread makes that
    /// window milliseconds long). Instead the entry is first renamed, atomically, to a
    /// private name in the same folder (`aside_name`); what was moved is then looked at
    /// there (`fstatat` without following links, through the folder opened link-free):
    /// the archived inode (device, inode, size, mtime) is unlinked, anything else is a
    /// newer version and goes back under its name (`RENAME_NOREPLACE`) for the watcher.
    ///
    /// If yet another version took the name while the newer one was aside, the one aside
    /// stays under its private name, which the watcher does not ignore: it is archived as
    /// a file of its own rather than lost. So does anything left aside by a crash; the
    /// archived inode is recognised by its identity then and only removed.
    fn remove_from_inbox(&self, path: &Path, archived: &FileIdentity) {
        let removed = (|| -> anyhow::Result<Option<String>> {
            let Some((dir, name)) = self.inbox_entry(path)? else {
                return Ok(None);
            };
            let aside = aside_name(&name)?;
            match dir.rename(name.as_os_str(), aside.as_os_str()) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                other => other?,
            }
            match dir.stat(aside.as_os_str())? {
                None => Ok(None),
                Some(st)
                    if crate::safe_fs::identity(&st) == *archived
                        && crate::safe_fs::kind_name(&st) == "file" =>
                {
                    dir.unlink(aside.as_os_str())?;
                    Ok(None)
                }
                Some(_) => match dir.rename_noreplace(&aside, &name) {
                    Ok(()) => Ok(Some(
                        "replaced by a newer version since it was archived; the newer one is left for the watcher".into(),
                    )),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Some(format!(
                        "replaced twice while being removed; the middle version is kept as {}",
                        aside.to_string_lossy()
                    ))),
                    Err(e) => Err(e.into()),
                },
            }
        })();
        match removed {
            Ok(None) => {}
            Ok(Some(what)) => tracing::info!(path = %path.display(), "{what}"),
            Err(e) => tracing::warn!(
                path = %path.display(),
                error = %format!("{e:#}"),
                "archived, but cannot remove it from the inbox (check the folder's permissions); it will not be taken twice"
            ),
        }
    }

    /// The folder of an inbox file, opened from the inbox down without following any link,
    /// and the file's name in it. `None` when a folder on the way is gone or is not a real
    /// folder (never followed).
    fn inbox_entry(
        &self,
        path: &Path,
    ) -> anyhow::Result<Option<(crate::safe_fs::Dir, std::ffi::OsString)>> {
        let inbox = &self.config().inbox;
        let rel = path.strip_prefix(inbox).unwrap_or(path);
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            return Ok(None);
        };
        let root = crate::safe_fs::Dir::open(inbox)
            .with_context(|| format!("cannot open the inbox {}", inbox.display()))?;
        match root.open_below(parent, false) {
            Ok(dir) => Ok(Some((dir, name.to_os_string()))),
            Err(crate::safe_fs::DirError::Io { source, .. })
                if source.kind() != std::io::ErrorKind::NotFound =>
            {
                Err(source).with_context(|| format!("cannot open the folder of {}", path.display()))
            }
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "its folder is gone or not a folder");
                Ok(None)
            }
        }
    }

    /// Copies the file into the archive (mode 0640), hashing as it goes. `None` when it
    /// changed or went away (the watcher will declare it again once it settles), or when it
    /// is refused (see `refusal`).
    ///
    /// The bytes come from one descriptor, opened without following links through the
    /// link-free folder, whose `fstat` must show the settled identity before the copy and
    /// again after it: a file swapped between the watcher's look and the open, or written
    /// to during the copy, is not archived under the settled identity.
    fn archive(
        &self,
        path: &Path,
        identity: &FileIdentity,
    ) -> anyhow::Result<Option<(String, u64)>> {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let Some((dir, name)) = self.inbox_entry(path)? else {
            return Ok(None);
        };
        let mut src = match dir.open_read(name.as_os_str()) {
            Ok(f) => f,
            // Gone, or now a link (ELOOP): not the file that settled.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ELOOP) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        let meta = src
            .metadata()
            .with_context(|| format!("cannot stat {}", path.display()))?;
        if !meta.file_type().is_file() || FileIdentity::of(&meta) != *identity {
            return Ok(None);
        }
        if let Some(reason) = self.refusal(&meta)? {
            self.refuse(path, identity, &reason)?;
            return Ok(None);
        }
        let tmp_dir = self.paths.archive.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = tmp_dir.join(format!("{}-{n}", std::process::id()));
        let mut dst = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .open(&tmp)
            .with_context(|| format!("cannot write the archive {}", tmp.display()))?;
        // Exactly 0640 whatever the umask: the archive is the daemon's (and its group's).
        dst.set_permissions(std::fs::Permissions::from_mode(0o640))?;
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
        let after = src.metadata().map(|m| FileIdentity::of(&m)).ok();
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

    /// Why an inbox file is not taken, if it is not: a file with more than one hard link
    /// (a link to `/etc/passwd` or someone else's file made in the share), or one owned
    /// by nobody who drops files here: its owner must be the inbox's owner or the daemon's
    /// own user, or its group the inbox's group (the share's group, README "Guarantees").
    fn refusal(&self, meta: &std::fs::Metadata) -> anyhow::Result<Option<String>> {
        use std::os::unix::fs::MetadataExt as _;
        if meta.nlink() > 1 {
            return Ok(Some(format!(
                "它有 {} 个硬链接，可能是系统中其他文件的链接（has {} hard links）",
                meta.nlink(),
                meta.nlink()
            )));
        }
        let inbox = &self.config().inbox;
        let owner = std::fs::metadata(inbox)
            .with_context(|| format!("cannot stat the inbox {}", inbox.display()))?;
        let daemon = rustix::process::geteuid().as_raw();
        if meta.uid() == owner.uid() || meta.gid() == owner.gid() || meta.uid() == daemon {
            return Ok(None);
        }
        Ok(Some(format!(
            "它的属主（uid {}，gid {}）既不是收件箱的属主或属组，也不是本服务的用户（owned by a stranger）",
            meta.uid(),
            meta.gid()
        )))
    }

    /// Leaves a refused file where it is: logged once per identity, and the admin told once
    /// (the notice's key is the identity, so a restart does not tell again).
    fn refuse(&self, path: &Path, identity: &FileIdentity, reason: &str) -> anyhow::Result<()> {
        let first = self
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*identity);
        if !first {
            return Ok(());
        }
        tracing::warn!(path = %path.display(), reason, "refused: left in place, not archived, not removed; the admin is told");
        let Some(admin) = &self.config().mail.admin else {
            return Ok(());
        };
        let rel = path.strip_prefix(&self.config().inbox).unwrap_or(path);
        let notice = OutboxMessage {
            kind: MessageKind::Notice.as_str(),
            recipient: admin.clone(),
            subject: format!("【拒收文件】{}", rel.display()),
            body_text: format!(
                "收件箱中的文件 {} 没有被接收：{reason}。

文件留在原处，没有归档，也没有删除。如果它确是报送的年度报告，请报送单位把文件另存为一个新文件后重新放入；否则请查明是谁放入了这个文件，并将其删除。",
                rel.display()
            ),
            body_html: None,
        };
        self.store()
            .queue_message(None, &format!("refused/{}", identity.key()), &notice)?;
        Ok(())
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
        // Checked by another thread since `sub` was listed (the retry lists submissions,
        // a worker checks one and lets go of it): checking it again would store nothing
        // and count it twice in the metrics.
        if self.store().state_of(sub.id)? != Some(SubmissionState::Archived) {
            return Ok(());
        }
        let started = Instant::now();
        let config = self.config();
        // An unconfigured folder is an agency of its own, named by the folder (no address:
        // its messages go to the admin).
        let folder_agency = sub
            .agency_folder
            .as_deref()
            .map(|f| config.agency_or_folder(f));
        let agency = folder_agency.as_ref();
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
                    verdict: original.verdict,
                },
            );
            let mut messages = self.messages(agency, false, &subject, &body, None);
            messages.extend(self.receipt_file(sub, &subject, &body));
            self.store()
                .store_duplicate(sub.id, &original, &now_utc(), &messages, &sub.receipt)?;
            self.metrics.duplicates.inc();
            self.metrics.committed();
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
        let receipt_body = format!("{body}{}", mail::items::appendix(&result.findings));
        messages.extend(self.receipt_file(sub, &subject, &receipt_body));
        if let (Some(panic), Some(admin)) = (&internal_error, &config.mail.admin) {
            messages.push(OutboxMessage {
                kind: MessageKind::Notice.as_str(),
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
        self.metrics.committed();
        let counter = if unreadable {
            &self.metrics.unreadable
        } else if result.accepted() {
            &self.metrics.accepted
        } else {
            &self.metrics.rejected
        };
        counter.inc();
        tracing::info!(
            receipt = %sub.receipt,
            agency = agency.map_or("-", |a| a.name.as_str()),
            file = %sub.original_name,
            year = result.report.as_ref().and_then(|r| r.year),
            verdict = %Verdict::of(result.accepted()),
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
                kind: MessageKind::Feedback.as_str(),
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
                kind: MessageKind::Admin.as_str(),
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
        // `<name>.txt` within the 255-byte limit of a file name, cut at a character.
        let path = folder
            .join("回执")
            .join(crate::safe_fs::fit_name(&name, ".txt", 255));
        Some(OutboxMessage {
            kind: MessageKind::Receipt.as_str(),
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
            let result = if m.kind == MessageKind::Receipt {
                match self.write_receipt(&m) {
                    Ok(()) => Ok(()),
                    Err(ReceiptError::Failed(e)) => Err(e),
                    Err(ReceiptError::Refused(e)) => {
                        // Not retried, and not a notice per receipt: the admin was told
                        // once about the folder (`write_receipt`).
                        self.store().mark_failed(m.id, &e)?;
                        tracing::warn!(path = %m.recipient, error = %e, "receipt not written");
                        continue;
                    }
                }
            } else {
                self.send(&m)
            };
            match result {
                Ok(()) => {
                    if spool || m.kind == MessageKind::Receipt {
                        written.push(m.id);
                    } else {
                        self.store().mark_sent(m.id, &now_utc())?;
                    }
                    if m.kind != MessageKind::Receipt {
                        self.metrics.emails_sent.inc();
                    }
                    tracing::info!(kind = %m.kind, recipient = %m.recipient, key = %m.key, "delivered");
                    sent += 1;
                    transient_in_a_row = 0;
                }
                Err(SendError::Permanent(e)) => {
                    self.store().mark_failed(m.id, &e)?;
                    self.metrics.emails_failed.inc();
                    tracing::warn!(recipient = %m.recipient, error = %e, key = %m.key, "refused for good; the admin is told");
                    self.tell_admin(&m, &e)?;
                }
                Err(SendError::Transient(e)) => {
                    if m.attempts + 1 >= i64::from(self.config().mail.max_attempts) {
                        self.store().mark_failed(m.id, &e)?;
                        self.metrics.emails_failed.inc();
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

    /// Writes a receipt file into the agency's folder without following any link: the
    /// folders are opened one at a time from the inbox down (`O_NOFOLLOW`), `回执` is made
    /// if missing, and the file is written there under a random temporary name and renamed
    /// (`safe_fs::Dir::write_atomic`). A `回执` (or a folder above it) that is a link, a
    /// file or anything but a folder is refused and reported to the admin once per such
    /// entry.
    fn write_receipt(&self, m: &crate::store::Pending) -> Result<(), ReceiptError> {
        let failed = |e: String| ReceiptError::Failed(SendError::Transient(e));
        let rel = Path::new(&m.recipient);
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(ReceiptError::Failed(SendError::Permanent(format!(
                "not a path inside the inbox: {}",
                m.recipient
            ))));
        }
        let (Some(folder), Some(name)) = (rel.parent(), rel.file_name()) else {
            return Err(ReceiptError::Failed(SendError::Permanent(format!(
                "not a file path: {}",
                m.recipient
            ))));
        };
        let inbox = self.config().inbox.clone();
        let root = crate::safe_fs::Dir::open(&inbox)
            .map_err(|e| failed(format!("cannot open the inbox {}: {e}", inbox.display())))?;
        let dir = match root.open_below(folder, true) {
            Ok(dir) => dir,
            Err(crate::safe_fs::DirError::NotAFolder {
                path,
                what,
                identity,
            }) => {
                let error = format!(
                    "{path} in the inbox is a {what}, not a folder: receipts are never written through it"
                );
                self.tell_admin_receipt_folder(m, &path, what, &identity)
                    .map_err(|e| failed(format!("{error}; and cannot queue the notice: {e:#}")))?;
                return Err(ReceiptError::Refused(error));
            }
            Err(e) => return Err(failed(e.to_string())),
        };
        dir.write_atomic(&name.to_string_lossy(), m.body_text.as_bytes(), 0o666)
            .map_err(|e| failed(format!("cannot write the receipt file: {e}")))
    }

    /// Tells the admin, once per offending entry (its identity is in the key), that a
    /// receipt folder is not a real folder and receipts are not being written.
    fn tell_admin_receipt_folder(
        &self,
        m: &crate::store::Pending,
        path: &str,
        what: &str,
        identity: &FileIdentity,
    ) -> anyhow::Result<()> {
        let Some(admin) = &self.config().mail.admin else {
            return Ok(());
        };
        let what_zh = match what {
            "symbolic link" => "符号链接",
            "file" => "文件",
            _ => "特殊文件",
        };
        let notice = OutboxMessage {
            kind: MessageKind::Notice.as_str(),
            recipient: admin.clone(),
            subject: format!("【回执目录异常】{path}"),
            body_text: format!(
                "收件箱中的 {path} 是一个{what_zh}，不是文件夹。为安全起见，回执文件不会写入或经由它写到别处；该单位的邮件照常发送。\n\n请删除或改名 {path}（回执文件夹会自动重建），然后用 `nianbao mail resend <回执编号>` 重新生成回执。\n\n第一份受影响的回执：{}",
                m.recipient
            ),
            body_html: None,
        };
        self.store().queue_message(
            None,
            &format!("notice/receipt-folder/{path}/{}", identity.key()),
            &notice,
        )?;
        Ok(())
    }

    /// Tells the admin about a message given up on (once per message).
    fn tell_admin(&self, m: &crate::store::Pending, error: &str) -> anyhow::Result<()> {
        let Some(admin) = &self.config().mail.admin else {
            return Ok(());
        };
        // No notice about a notice, nor about mail to the admin that the admin cannot get.
        if m.kind == MessageKind::Notice
            || (m.kind != MessageKind::Receipt && m.recipient == *admin)
        {
            return Ok(());
        }
        let notice = OutboxMessage {
            kind: MessageKind::Notice.as_str(),
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
        // The office's day: Asia/Shanghai.
        let now = crate::time::china_now();
        let minutes =
            u32::try_from(i32::from(now.hour()) * 60 + i32::from(now.minute())).unwrap_or_default();
        let month = u32::try_from(now.month()).unwrap_or_default();
        if minutes < at || !self.config().mail.digest_months.contains(&month) {
            return Ok(false);
        }
        let day = now.strftime("%Y-%m-%d").to_string();
        let year = self.filing_year() - 1;
        let status = {
            let store = self.store();
            crate::status::status(&store, &self.config(), year)?
        };
        let body = crate::status::render(&status);
        let message = OutboxMessage {
            kind: MessageKind::Digest.as_str(),
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

/// The private name an inbox file is moved to while it is checked for removal: random
/// (nobody renames onto it by accident), not hidden and without an ignored ending (a file
/// left there by a crash is still seen by the watcher), with the original extension.
fn aside_name(name: &std::ffi::OsStr) -> anyhow::Result<std::ffi::OsString> {
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .filter(|e| e.len() <= 16 && !crate::watch::is_ignored_name(&format!("x.{e}")))
        .map_or(String::new(), |e| format!(".{e}"));
    Ok(format!("nianbao-{}{ext}", crate::safe_fs::random_hex()?).into())
}

/// Why a receipt file was not written (`Pipeline::write_receipt`).
enum ReceiptError {
    /// Retried and given up on like a message (the share may be unreachable).
    Failed(SendError),
    /// Its folder is not a real folder: never written through, not retried.
    Refused(String),
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
