//! Delivery: everything that leaves the daemon goes through the outbox table.
//!
//! It owns the outbox's messages from queued to sent or failed: SMTP, or `.eml` files in the
//! spool without `[mail.smtp]`; receipt files written into the agency's folder without
//! following links; retries with back-off; the admin's notices about messages given up on
//! and about receipt folders that are not folders; and the daily digest.
//!
//! Why the seam is here: delivery runs on its own thread and only reads rows the pipeline
//! committed, so a slow or silent mail server never delays checking, and a message is sent
//! at most once per idempotency key whatever crashes in between.

use std::path::Path;

use super::{Pipeline, now_utc};
use crate::mail;
use crate::mail::smtp::SendError;
use crate::store::{MessageKind, OutboxMessage, Submission};
use crate::watch::FileIdentity;

/// Messages taken from the outbox per round of the mail thread.
pub(super) const DELIVERY_BATCH: usize = 64;

impl Pipeline {
    /// The receipt file beside the agency's reports: `<folder>/回执/<file>.txt`, queued like a
    /// message so that it is written once, and again if the share was unreachable.
    pub(super) fn receipt_file(
        &self,
        sub: &Submission,
        subject: &str,
        body: &str,
    ) -> Option<OutboxMessage> {
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
            kind: MessageKind::Receipt,
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

    pub(super) fn send(&self, m: &crate::store::Pending) -> Result<(), SendError> {
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
    pub(super) fn write_receipt(&self, m: &crate::store::Pending) -> Result<(), ReceiptError> {
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
    pub(super) fn tell_admin_receipt_folder(
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
            kind: MessageKind::Notice,
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
    pub(super) fn tell_admin(&self, m: &crate::store::Pending, error: &str) -> anyhow::Result<()> {
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
            kind: MessageKind::Digest,
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

/// Why a receipt file was not written (`Pipeline::write_receipt`).
pub(super) enum ReceiptError {
    /// Retried and given up on like a message (the share may be unreachable).
    Failed(SendError),
    /// Its folder is not a real folder: never written through, not retried.
    Refused(String),
}
