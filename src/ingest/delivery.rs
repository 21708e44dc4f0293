//! Delivery: everything that leaves the daemon goes through the outbox table.
//!
//! It owns the outbox's messages from queued to sent or failed: SMTP, or `.eml` files in the
//! spool without `[mail.smtp]`; receipt files written into the agency's folder without
//! following links; retries with back-off; the admin's notices about messages given up on
//! and about receipt folders that are not folders; and the daily digest.
//!
//! Why the seam is here: delivery is a task of its own and only reads rows the pipeline
//! committed, so a slow or silent mail server never delays checking, and a message is sent
//! at most once per idempotency key whatever crashes in between.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Activity, Pipeline, now_utc};
use crate::mail;
use crate::mail::smtp::SendError;
use crate::store::{MessageKind, OutboxMessage, Pending, Submission};
use crate::watch::FileIdentity;

/// Messages taken from the outbox per round of the mail task.
pub(super) const DELIVERY_BATCH: usize = 64;

/// SMTP attempts under way at once.
pub(super) const SMTP_SESSIONS: usize = 4;

/// The mail task looks at the outbox at least this often (retries falling due, messages
/// queued by another process); otherwise it sleeps until the pipeline queues something.
const MAIL_ROUND: Duration = Duration::from_secs(5);

/// At the stop, attempts under way get this long to end before they are cut off.
const MAIL_STOP_GRACE: Duration = Duration::from_secs(2);

impl Pipeline {
    /// The receipt file beside the agency's reports: `<folder>/回执/回执_<file>.txt`, queued
    /// like a message so that it is written once, and again if the share was unreachable.
    /// Its first line says that the original was taken and archived, under which number:
    /// the report is gone from the folder, and the receipt must not pass for it (issue 24).
    pub(super) fn receipt_file(
        &self,
        sub: &Submission,
        subject: &str,
        body: &str,
    ) -> Option<OutboxMessage> {
        if !self.config().mail.receipt_files {
            return None;
        }
        let name = Path::new(&sub.original_name)
            .file_name()?
            .to_string_lossy()
            .into_owned();
        Some(OutboxMessage {
            kind: MessageKind::Receipt,
            recipient: receipt_path(&sub.original_name)?,
            subject: subject.to_string(),
            body_text: format!("{}\n\n{subject}\n\n{body}", taken_line(&name, &sub.receipt)),
            body_html: None,
            html_from: None,
        })
    }

    /// The mail task: delivers what the outbox holds until the stop.
    ///
    /// Each round queues the digest when its time has come, takes the due messages, writes
    /// receipt files and `.eml` files on the blocking pool, and starts SMTP attempts, up to
    /// [`SMTP_SESSIONS`] at once: a server that stalls on one message holds one session,
    /// not the others' mail. A round starts when the pipeline queued something (a kick),
    /// when an attempt ends, or every [`MAIL_ROUND`] (retries falling due, messages queued
    /// by another process such as `nianbao mail resend`). At the stop, attempts under way
    /// get [`MAIL_STOP_GRACE`]; what is cut off stays queued and goes out at the next start.
    pub(crate) async fn mail_task(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut sending: JoinSet<(Pending, Result<(), SendError>)> = JoinSet::new();
        let mut in_flight: HashSet<i64> = HashSet::new();
        // After three transient failures in a row the server is probably down: no new
        // attempt before the next timed round.
        let mut transient_in_a_row = 0u32;
        let mut held_until: Option<Instant> = None;
        loop {
            let mut more = false;
            match self
                .mail_round(&mut sending, &mut in_flight, held_until)
                .await
            {
                Ok(full) => {
                    self.note_success(Activity::Mail);
                    more = full;
                }
                Err(e) => {
                    held_until = Some(self.mail_failed(e).await);
                }
            }
            if more {
                tokio::task::yield_now().await;
                continue;
            }
            let wait = held_until
                .map_or(MAIL_ROUND, |t| t.saturating_duration_since(Instant::now()))
                .min(MAIL_ROUND);
            tokio::select! {
                biased;
                _ = crate::recovery::stopped(&mut stop) => break,
                Some(done) = sending.join_next(), if !sending.is_empty() => {
                    let Ok((m, result)) = done else {
                        tracing::error!("a delivery attempt failed (a bug); the message is retried");
                        continue;
                    };
                    in_flight.remove(&m.id);
                    let transient = matches!(result, Err(SendError::Transient(_)));
                    match self.blocking(move |p| p.record_delivery(&m, result, None)).await {
                        Ok(_) if transient => {
                            transient_in_a_row += 1;
                            if transient_in_a_row >= 3 {
                                held_until = Some(Instant::now() + MAIL_ROUND);
                            }
                        }
                        Ok(_) => transient_in_a_row = 0,
                        Err(e) => {
                            held_until = Some(self.mail_failed(e).await);
                        }
                    }
                }
                _ = self.mail_wakeup.wait(wait) => {}
            }
            if held_until.is_some_and(|t| t <= Instant::now()) {
                held_until = None;
                transient_in_a_row = 0;
            }
        }
        if !sending.is_empty() {
            let drained = tokio::time::timeout(MAIL_STOP_GRACE, async {
                while let Some(Ok((m, result))) = sending.join_next().await {
                    let _ = self
                        .blocking(move |p| p.record_delivery(&m, result, None))
                        .await;
                }
            })
            .await;
            if drained.is_err() {
                tracing::warn!(
                    messages = sending.len(),
                    "messages still being sent at the stop stay queued and are sent at the next start"
                );
                sending.abort_all();
            }
        }
    }

    /// Notes a failure of delivery itself (the database); returns until when to hold off.
    async fn mail_failed(self: &Arc<Self>, e: anyhow::Error) -> Instant {
        let pause = self
            .blocking(move |p| Ok(p.note_failure(Activity::Mail, &e)))
            .await
            .unwrap_or(MAIL_ROUND);
        Instant::now() + pause
    }

    /// One round (see [`Pipeline::mail_task`]). Returns whether a full batch of files was
    /// written, so more are probably due at once (a burst).
    async fn mail_round(
        self: &Arc<Self>,
        sending: &mut JoinSet<(Pending, Result<(), SendError>)>,
        in_flight: &mut HashSet<i64>,
        held_until: Option<Instant>,
    ) -> anyhow::Result<bool> {
        let pending = self
            .blocking(|p| {
                if let Err(e) = p.queue_digest() {
                    tracing::warn!(error = %e, "cannot prepare the daily digest");
                }
                if let Err(e) = p.queue_reminders() {
                    tracing::warn!(error = %e, "cannot prepare the reminders (催报)");
                }
                Ok(p.store().outbox_batch(DELIVERY_BATCH)?)
            })
            .await?;
        let smtp = self.smtp();
        let (files, mails): (Vec<Pending>, Vec<Pending>) = pending
            .into_iter()
            .filter(|m| !in_flight.contains(&m.id))
            .partition(|m| smtp.is_none() || m.kind == MessageKind::Receipt);
        let full = files.len() >= DELIVERY_BATCH;
        if !files.is_empty() {
            self.blocking(move |p| p.deliver_files(files)).await?;
        }
        let (Some(smtp), None) = (smtp, held_until) else {
            return Ok(full);
        };
        // Only those that start now are rendered (the rest come again next round).
        let mut mails: Vec<Pending> = mails
            .into_iter()
            .take(SMTP_SESSIONS.saturating_sub(sending.len()))
            .collect();
        if mails.iter().any(|m| mail::deferred::to_render(m).is_some()) {
            mails = self
                .blocking(move |p| {
                    p.render_html(&mut mails);
                    Ok(mails)
                })
                .await?;
        }
        for m in mails {
            if sending.len() >= SMTP_SESSIONS {
                break;
            }
            let message = match self.build(&m) {
                Ok(message) => message,
                Err(e) => {
                    self.blocking(move |p| p.record_delivery(&m, Err(e), None))
                        .await?;
                    continue;
                }
            };
            in_flight.insert(m.id);
            let smtp = Arc::clone(&smtp);
            sending.spawn(async move {
                let result = smtp.send(message).await;
                (m, result)
            });
        }
        Ok(full)
    }

    /// Writes receipt files, and `.eml` files when there is no SMTP server, and records
    /// the outcomes. Blocking. Returns how many were written.
    ///
    /// Files are written under names fixed by their message, so writing one again after a
    /// crash replaces it: their `sent` marks share one commit at the end of the batch.
    pub(super) fn deliver_files(&self, files: Vec<Pending>) -> anyhow::Result<usize> {
        let mut written: Vec<i64> = Vec::new();
        let mut transient_in_a_row = 0;
        let mut spooled = false;
        for mut m in files {
            // Drawn one at a time, just before it is written: a round's 64 pages drawn up
            // front held 10–20 MB at once (on whichever thread ran the round).
            self.render_html(std::slice::from_mut(&mut m));
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
                self.build(&m).and_then(|message| {
                    mail::spool::write(&self.paths.outbox, &m.key, &message.formatted())
                        .map(|_| spooled = true)
                        .map_err(|e| SendError::Transient(format!("cannot write the spool: {e}")))
                })
            };
            let transient = matches!(result, Err(SendError::Transient(_)));
            self.record_delivery(&m, result, Some(&mut written))?;
            if transient {
                // The share or the disk is probably failing: leave the rest for later.
                transient_in_a_row += 1;
                if transient_in_a_row >= 3 {
                    break;
                }
            } else {
                transient_in_a_row = 0;
            }
        }
        let count = written.len();
        if !written.is_empty() {
            // Each `.eml` was flushed before its rename; the renames themselves are made
            // durable here, once for the round, before the messages are marked sent: after
            // a power cut a message is either in the spool or still pending.
            if spooled {
                std::fs::File::open(&self.paths.outbox)
                    .and_then(|dir| dir.sync_all())
                    .with_context(|| {
                        format!(
                            "cannot flush the mail spool {}",
                            self.paths.outbox.display()
                        )
                    })?;
            }
            self.store().mark_sent_all(&written, &now_utc())?;
        }
        Ok(count)
    }

    /// Records how an attempt went: sent (at once, or into `batch` to be marked with the
    /// others), refused for good (the admin is told), or a transient failure (retried with
    /// a doubling delay, given up after `max_attempts`). Blocking.
    pub(super) fn record_delivery(
        &self,
        m: &Pending,
        result: Result<(), SendError>,
        batch: Option<&mut Vec<i64>>,
    ) -> anyhow::Result<()> {
        match result {
            Ok(()) => {
                match batch {
                    Some(batch) => batch.push(m.id),
                    None => self.store().mark_sent(m.id, &now_utc())?,
                }
                if m.kind != MessageKind::Receipt {
                    self.metrics.emails_sent.inc();
                }
                tracing::info!(kind = %m.kind, recipient = %m.recipient, key = %m.key, "delivered");
            }
            Err(SendError::Unconfirmed(e)) => {
                // Never again: the server may have it (a slow server would otherwise get
                // the same mail at every retry).
                self.store().mark_unconfirmed(m.id, &now_utc(), &e)?;
                if m.kind != MessageKind::Receipt {
                    self.metrics.emails_sent.inc();
                }
                tracing::warn!(kind = %m.kind, recipient = %m.recipient, key = %m.key, error = %e, "sent, unconfirmed: not sent again");
            }
            Err(SendError::Permanent(e)) => {
                self.store().mark_failed(m.id, &e)?;
                self.metrics.emails_failed.inc();
                tracing::warn!(recipient = %m.recipient, error = %e, key = %m.key, "refused for good; the admin is told");
                self.tell_admin(m, &e)?;
            }
            Err(SendError::Transient(e)) => {
                if m.attempts + 1 >= i64::from(self.config().mail.max_attempts) {
                    self.store().mark_failed(m.id, &e)?;
                    self.metrics.emails_failed.inc();
                    tracing::warn!(recipient = %m.recipient, error = %e, attempts = m.attempts + 1, "given up; the admin is told");
                    self.tell_admin(m, &e)?;
                } else {
                    let delay = self
                        .config()
                        .mail
                        .retry_base_s
                        .count()
                        .max(1)
                        .saturating_mul(1u64 << m.attempts.clamp(0, 20))
                        .min(6 * 3600);
                    self.store().mark_retry(m.id, &e, delay as i64)?;
                    tracing::warn!(recipient = %m.recipient, error = %e, retry_in_s = delay, "not delivered; will retry");
                }
            }
        }
        Ok(())
    }

    /// Renders the HTML parts left to the sending (`mail::deferred`): the store is locked
    /// only to read each report and its findings, not while the page is drawn. Blocking.
    pub(super) fn render_html(&self, messages: &mut [Pending]) {
        for m in messages.iter_mut() {
            let html = match mail::deferred::to_render(m) {
                Some((id, from)) => {
                    let stored = mail::deferred::load(self.store().connection(), id);
                    stored.and_then(|stored| mail::deferred::render(stored, from, &m.subject))
                }
                None => continue,
            };
            mail::deferred::set(m, html);
        }
    }

    /// The message as it goes out; one that cannot be built is refused for good.
    fn build(&self, m: &Pending) -> Result<lettre::Message, SendError> {
        let config = self.config();
        // Messages to an agency name the office's contact (`[office] contact`), as
        // configured when they are sent.
        let to_agency = matches!(
            m.kind,
            MessageKind::Feedback
                | MessageKind::Duplicate
                | MessageKind::Reminder
                | MessageKind::Review
                | MessageKind::Received
        );
        let contact = config.office.contact_line();
        let (text, html) = if to_agency {
            (
                mail::with_contact(&m.body_text, &contact),
                m.body_html
                    .as_deref()
                    .map(|h| mail::with_contact_html(h, &contact)),
            )
        } else {
            (m.body_text.clone(), m.body_html.clone())
        };
        mail::build_message(
            &config.mail.from,
            &m.recipient,
            &m.subject,
            &text,
            html.as_deref(),
            &m.key,
        )
        .map_err(|e| SendError::Permanent(format!("message cannot be built: {e}")))
    }

    /// Writes a receipt file into the agency's folder without following any link: the
    /// folders are opened one at a time from the inbox down (`O_NOFOLLOW`), `回执` is made
    /// if missing, and the file is written there under a random temporary name and renamed
    /// (`safe_fs::Dir::write_atomic`). A `回执` (or a folder above it) that is a link, a
    /// file or anything but a folder is refused and reported to the admin once per such
    /// entry. Only `回执` itself is ever made: an agency folder that is gone (renamed or
    /// removed by the agency since the file was taken) is never re-created; the receipt is
    /// refused and the admin told (once a day per folder).
    pub(super) fn write_receipt(&self, m: &Pending) -> Result<(), ReceiptError> {
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
        let above = folder.parent().unwrap_or_else(|| Path::new(""));
        let opened = root.open_below(above, false).and_then(|agency| {
            let receipts = folder.file_name().map(Path::new).unwrap_or(folder);
            agency.open_below(receipts, true).map_err(|e| match e {
                crate::safe_fs::DirError::NotAFolder { what, identity, .. } => {
                    crate::safe_fs::DirError::NotAFolder {
                        path: folder.display().to_string(),
                        what,
                        identity,
                    }
                }
                other => other,
            })
        });
        let dir = match opened {
            Ok(dir) => dir,
            Err(crate::safe_fs::DirError::Io { path, source })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                let error = format!(
                    "the folder {path} is no longer in the inbox (renamed or removed): the \
                     receipt is not written, and the folder is not re-created"
                );
                self.tell_admin_folder_gone(m, &path)
                    .map_err(|e| failed(format!("{error}; and cannot queue the notice: {e:#}")))?;
                return Err(ReceiptError::Refused(error));
            }
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
        // A file is not a mail: no "请勿直接回复"; the office's contact instead.
        let text = mail::receipt_text(&m.body_text, &self.config().office.contact_line());
        dir.write_atomic(&name.to_string_lossy(), text.as_bytes(), 0o666)
            .map_err(|e| failed(format!("cannot write the receipt file: {e}")))
    }

    /// Tells the admin, once a day per folder, that an agency folder is gone and its
    /// receipts are not being written.
    fn tell_admin_folder_gone(&self, m: &Pending, folder: &str) -> anyhow::Result<()> {
        let folder = crate::escape::controls(folder);
        self.queue_admin_notice(
            &format!(
                "notice/agency-folder-gone/{folder}/{}",
                crate::time::china_now().date()
            ),
            format!("【单位文件夹不存在】{folder}"),
            format!(
                "收件箱中的单位文件夹 {folder} 已不存在（可能已被该单位改名或删除），回执文件 {} 未写入；审核程序不会重建该文件夹。该单位的邮件照常发送。\n\n如文件夹已改名，请核对配置中该单位的 folder 设置；恢复文件夹后可用 `nianbao mail resend <回执编号>` 重新生成回执。",
                crate::escape::controls(&m.recipient)
            ),
        )?;
        Ok(())
    }

    /// Queues a plain-text notice to the admin under the idempotency key `key` (once per
    /// key); `false` when no admin is configured or it was queued before.
    pub(super) fn queue_admin_notice(
        &self,
        key: &str,
        subject: String,
        body_text: String,
    ) -> anyhow::Result<bool> {
        let Some(admin) = self.config().mail.admin.clone() else {
            return Ok(false);
        };
        let notice = OutboxMessage {
            kind: MessageKind::Notice,
            recipient: admin,
            subject,
            body_text,
            body_html: None,
            html_from: None,
        };
        Ok(self.store().queue_message(None, key, &notice)?)
    }

    /// Tells the admin, once per offending entry (its identity is in the key), that a
    /// receipt folder is not a real folder and receipts are not being written.
    pub(super) fn tell_admin_receipt_folder(
        &self,
        m: &Pending,
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
            kind: MessageKind::Notice,
            recipient: admin.clone(),
            subject: format!("【回执目录异常】{path}"),
            body_text: format!(
                "收件箱中的 {path} 是一个{what_zh}，不是文件夹。为安全起见，回执文件不会写入或经由它写到别处；该单位的邮件照常发送。\n\n请删除或改名 {path}（回执文件夹会自动重建），然后用 `nianbao mail resend <回执编号>` 重新生成回执。\n\n第一份受影响的回执：{}",
                m.recipient
            ),
            body_html: None,
            html_from: None,
        };
        self.store().queue_message(
            None,
            &format!("notice/receipt-folder/{path}/{}", identity.key()),
            &notice,
        )?;
        Ok(())
    }

    /// Tells the admin about a message given up on (once per message).
    pub(super) fn tell_admin(&self, m: &Pending, error: &str) -> anyhow::Result<()> {
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
            kind: MessageKind::Notice,
            recipient: admin.clone(),
            subject: format!("【投递失败】{}", m.subject),
            body_text: format!(
                "以下消息无法送达 {}，已停止重试：\n{error}\n\n请核对地址，必要时用 `nianbao mail resend <回执编号>` 重新发送。\n\n原消息：\n{}",
                m.recipient, m.body_text
            ),
            body_html: None,
            html_from: None,
        };
        self.store()
            .queue_message(m.submission_id, &format!("{}/failed", m.key), &notice)?;
        Ok(())
    }

    /// Queues today's digest for the admin once its time has come (China Standard Time),
    /// in the filing-season months; at most one a day, also across restarts.
    pub fn queue_digest(&self) -> anyhow::Result<bool> {
        let (Some(admin), Some(at)) = (&self.config().mail.admin, &self.config().mail.digest_time)
        else {
            return Ok(false);
        };
        // The office's day: Asia/Shanghai.
        let now = crate::time::china_now();
        let month = u32::try_from(now.month()).unwrap_or_default();
        if !at.has_come(&now) || !self.config().mail.digest_months.contains(&month) {
            return Ok(false);
        }
        let day = now.strftime("%Y-%m-%d").to_string();
        // Queued today already (this run): no status to compute at every round.
        let mut queued = self.digest_day.lock().unwrap_or_else(|e| e.into_inner());
        if queued.as_deref() == Some(day.as_str()) {
            return Ok(false);
        }
        let year = self.filing_year() - 1;
        let status = {
            let store = self.store();
            crate::status::status(&store, &self.config(), year)?
        };
        let body = crate::status::render(&status);
        let message = OutboxMessage {
            kind: MessageKind::Digest,
            recipient: admin.clone(),
            subject: format!("【每日汇总】{day} {year}年度政府信息公开工作年度报告报送情况"),
            body_text: body,
            body_html: None,
            html_from: None,
        };
        let fresh = self
            .store()
            .queue_message(None, &format!("digest/{day}"), &message)?;
        *queued = Some(day);
        Ok(fresh)
    }
}

impl Pipeline {
    /// Queues the reminders (催报) due today (see `crate::deadlines`), once their time of
    /// day has come; computed at most once per China day and configuration (a reload
    /// computes again), idempotent across restarts by their keys.
    pub fn queue_reminders(&self) -> anyhow::Result<usize> {
        let config = self.config();
        let now = crate::time::china_now();
        if !crate::deadlines::time_has_come(&config, &now) {
            return Ok(0);
        }
        let day = now.date().to_string();
        let mut done = self.reminders_day.lock().unwrap_or_else(|e| e.into_inner());
        if done.as_deref() == Some(day.as_str()) {
            return Ok(0);
        }
        let (queued, deferred) = crate::deadlines::queue_due(&self.store(), &config, now.date())?;
        if deferred {
            // A report on its way (in the inbox, or not yet checked): look again next round.
            tracing::debug!(day = %now.date(), queued, "reminders: an agency's report is on its way; looking again");
            return Ok(queued);
        }
        tracing::info!(day = %now.date(), queued, "reminders (催报) looked at for the day");
        *done = Some(day);
        Ok(queued)
    }
}

/// The receipt file of a file at `original_name` (relative to the inbox):
/// `<folder>/回执/回执_<file>.txt`, within the 255-byte limit of a file name (cut at a
/// character). Named so that, with the extensions hidden, it is not taken for the report.
pub(crate) fn receipt_path(original_name: &str) -> Option<String> {
    let original = Path::new(original_name);
    let name = original.file_name()?.to_string_lossy();
    let folder = original.parent().unwrap_or(Path::new(""));
    let path = folder.join("回执").join(crate::safe_fs::fit_name(
        &format!("回执_{name}"),
        ".txt",
        255,
    ));
    Some(path.to_string_lossy().into_owned())
}

/// The first line of a receipt file.
pub(crate) fn taken_line(file_name: &str, receipt: &str) -> String {
    format!(
        "原文件《{}》已由审核系统取走并原样存档，存档编号（回执编号）{receipt}；文件夹中不再保留原文件，需要时凭此编号向政务公开办调取。",
        crate::mail::render::clean(file_name)
    )
}

/// Why a receipt file was not written (`Pipeline::write_receipt`).
pub(super) enum ReceiptError {
    /// Retried and given up on like a message (the share may be unreachable).
    Failed(SendError),
    /// Its folder is not a real folder: never written through, not retried.
    Refused(String),
}
