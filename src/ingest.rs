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

use std::io::{Read, Write};
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
        let store = Store::open(&paths.db)
            .with_context(|| format!("cannot open the database {}", paths.db.display()))?;
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

    /// Checks submissions archived before a crash or stop but never checked.
    pub fn resume(&self) -> anyhow::Result<usize> {
        let unfinished = self.store().unfinished()?;
        let n = unfinished.len();
        for sub in unfinished {
            tracing::info!(receipt = %sub.receipt, "resuming a submission archived before the last stop");
            self.process(&sub)?;
        }
        Ok(n)
    }

    /// Steps 1–3 for completed inbox files, taken together (group commit): each is copied
    /// into the archive, the copies are flushed to disk, one
    /// transaction records them all, then they leave the inbox and are checked one by one.
    /// The order per file is the same as alone (durable archive, durable record, removal),
    /// so a crash anywhere loses nothing and records nothing twice; what changes is that a
    /// burst costs one `record` commit per batch instead of one per file.
    pub fn ingest_batch(&self, batch: &[Ready]) -> anyhow::Result<()> {
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
            let Some((sha256, size)) = self.archive(path, &identity)? else {
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
            return Ok(());
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
        // its own submission for the next start's resume.
        let mut first_error = None;
        for sub in &subs {
            if let Err(e) = self.process(sub) {
                tracing::error!(receipt = %sub.receipt, error = %format!("{e:#}"), "cannot check; will resume at the next start");
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
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
    fn process(&self, sub: &Submission) -> anyhow::Result<()> {
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
        let result = if sub.size as u64 > limit {
            too_large(&name, sub, limit)
        } else {
            let path = self.paths.archived(&sub.sha256);
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read the archived original {}", path.display()))?;
            self.check(&bytes, &name, sub.agency_folder.as_deref())
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
            (Some(folder), Some(year)) => {
                self.store().latest_report(folder, year - 1).ok().flatten()
            }
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
    let pipeline = Arc::new(Pipeline::open(config)?);
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
        std::thread::Builder::new().name("mail".into()).spawn(move || {
            while !mail_stop.load(Ordering::SeqCst) {
                if let Err(e) = pipeline.queue_digest() {
                    tracing::warn!(error = %e, "cannot prepare the daily digest");
                }
                match pipeline.deliver() {
                    // A full batch went out: more are probably waiting (a burst); no pause.
                    Ok(sent) if sent >= DELIVERY_BATCH => continue,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "delivering messages failed; will retry");
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
        let store = pipeline.store();
        let count =
            |sql: &str| -> Option<i64> { store.connection().query_row(sql, [], |r| r.get(0)).ok() };
        Some(format!(
            "watching {}; {} files checked; {} messages waiting",
            pipeline.config().inbox.display(),
            count("SELECT count(*) FROM submissions WHERE state != 'archived'")?,
            count("SELECT count(*) FROM outbox WHERE state = 'pending'")?
        ))
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
                && handles.iter().any(|h| !h.is_finished())
                && status(&pipeline).is_some();
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
    watcher.stop();
    for h in handles {
        let _ = h.join();
    }
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
        if let Err(e) = pipeline.ingest_batch(&batch) {
            tracing::error!(files = batch.len(), error = %format!("{e:#}"), "cannot ingest; will retry at the next rescan");
            for ready in batch {
                retry.retry(ready.path);
            }
        }
    }
}
