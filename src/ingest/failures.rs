//! What the pipeline does when something fails: a submission that cannot be checked at all
//! is recorded as failed and the admin told once; repeated identical failures are logged
//! once a minute, paused on and reported once (see `crate::recovery`); temporary archive
//! copies are cleaned up; a damaged database is refused at start, and damage found while
//! running stops the watchdog and reaches the admin without the database.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;

use super::{Pipeline, now_utc};
use crate::check::CheckResult;
use crate::finding::{Finding, Location};
use crate::mail;
use crate::recovery::{Failure, NOTIFY_AFTER, Streak, root_cause};
use crate::store::{MessageKind, OutboxMessage, Store, Submission};

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
pub(super) struct Claim<'a> {
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
pub(super) fn open_store(db: &Path) -> anyhow::Result<Store> {
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
    pub(super) fn streak(&self, activity: Activity) -> &Streak {
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
    pub(super) fn notify_failing(
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
            kind: MessageKind::Notice,
            recipient: admin,
            subject: format!("【故障】{}", activity.chinese()),
            body_text,
            body_html: None,
            html_from: None,
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
    pub(super) fn tell_admin_db_damaged(&self, e: &anyhow::Error) {
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
        // Sent besides the spool, on the runtime (this may run on a worker of the blocking
        // pool or outside the runtime altogether, at start).
        if let Some(smtp) = self.smtp() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(async move {
                        if let Err(e) = smtp.send(message).await {
                            tracing::error!(error = ?e, "cannot send the admin's notice of the damaged database");
                        }
                    });
                }
                Err(_) => tracing::warn!(
                    "the admin's notice of the damaged database is only in the spool (no runtime to send it)"
                ),
            }
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

    /// Removes the half-written temporary files (`.nb-<hex>.tmp`) that a kill left in the
    /// spool and in the agencies' receipt folders, at start. Each folder is opened without
    /// following links; only the daemon's own regular files of that exact name go.
    pub fn clean_write_temps(&self) -> usize {
        let inbox = self.config().inbox.clone();
        let mut folders: Vec<std::path::PathBuf> = vec![self.paths.outbox.clone()];
        if let Ok(entries) = std::fs::read_dir(&inbox) {
            folders.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path().join(crate::watch::RECEIPT_DIR)),
            );
        }
        let mut removed = 0;
        for folder in folders {
            let opened = match folder.strip_prefix(&inbox) {
                Ok(rel) => crate::safe_fs::Dir::open(&inbox)
                    .ok()
                    .and_then(|d| d.open_below(rel, false).ok()),
                Err(_) => crate::safe_fs::Dir::open(&folder).ok(),
            };
            if let Some(dir) = opened {
                match dir.remove_own_temps() {
                    Ok(n) => removed += n,
                    Err(e) => {
                        tracing::warn!(folder = %folder.display(), error = %e, "cannot clean temporary files")
                    }
                }
            }
        }
        removed
    }

    /// After a failed ingest: removes the temporary copies it left, unless another worker
    /// is copying a file right now (its copy is left for the next clean-up).
    pub(super) fn clean_after_failure(&self) {
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
    pub(super) fn claim(&self, id: i64) -> Option<Claim<'_>> {
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
    pub(super) fn fail(&self, sub: &Submission, reason: &str) -> anyhow::Result<()> {
        let config = self.config();
        let notice = config.mail.admin.as_ref().map(|admin| {
            (
                format!("{}/notice/{admin}", sub.receipt),
                OutboxMessage {
                    kind: MessageKind::Notice,
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
                    html_from: None,
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
}

/// Test hooks: panics while checking a file whose name contains the value of
/// `NIANBAO_TEST_PANIC_ON` (and sleeps for one with `NIANBAO_TEST_SLOW_ON`), so that the tests can prove on the real daemon that a panic in
/// the checker costs one file, not a worker or the daemon. Compiled only into debug builds
/// (`debug_assertions`): the released binary has no such hook, and an agency controls file
/// names but never the daemon's environment, so it cannot be reached from the inbox.
#[cfg(debug_assertions)]
pub(super) fn test_panic_hook(name: &str) {
    if let Some(needle) = std::env::var_os("NIANBAO_TEST_PANIC_ON")
        && !needle.is_empty()
        && name.contains(needle.to_string_lossy().as_ref())
    {
        panic!("NIANBAO_TEST_PANIC_ON: deliberate panic while checking {name}");
    }
    // And a check that takes 4 s (work that seems stuck to `/readyz` with a short
    // `stuck_after_s`), for a name containing `NIANBAO_TEST_SLOW_ON`.
    if let Some(needle) = std::env::var_os("NIANBAO_TEST_SLOW_ON")
        && !needle.is_empty()
        && name.contains(needle.to_string_lossy().as_ref())
    {
        std::thread::sleep(std::time::Duration::from_secs(4));
    }
}

#[cfg(not(debug_assertions))]
pub(super) fn test_panic_hook(_name: &str) {}

/// The outcome of a file the checker failed on (a panic): one finding that tells the clerk
/// the office will look at it.
pub(super) fn internal_error_result(name: &str, sha256: &str) -> CheckResult {
    let mut result = crate::check::check_bytes(&[], name);
    result.sha256 = sha256.to_string();
    result.findings = vec![Finding::new(
        &crate::rules::FILE_INTERNAL_ERROR,
        Location::default(),
        "审核程序在读取本文件时发生内部错误，这不是贵单位文件的问题。文件已妥善存档，\
         政务公开办会人工查看并另行答复，暂时无需重新提交。",
    )];
    result
}
