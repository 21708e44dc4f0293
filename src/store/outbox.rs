//! The mail outbox: messages queued in the same transaction as what they tell (a
//! submission's outcome, a review decision, a reminder), each once under its idempotency
//! key, then taken by the sender, marked sent, retried or failed.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Cached as _, MessageKind, OutboxState, Store};

/// A message to queue with the outcome, in the same transaction.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub kind: MessageKind,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// Instead of `body_html`: the HTML part is rendered when the message is sent, from the
    /// submission's stored report and findings and this (see `mail::deferred`).
    pub html_from: Option<HtmlFrom>,
}

/// What the HTML renderer needs beside the stored report and findings: the agency's name as
/// the feedback names it, and the file's name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HtmlFrom {
    pub agency: Option<String>,
    pub file: String,
    /// A line after the receipt number: the version this one supersedes (issue 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One line of `nianbao mail queue`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxRow {
    pub receipt: String,
    pub kind: MessageKind,
    pub recipient: String,
    pub state: OutboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub subject: String,
    pub next_attempt_at: Option<String>,
}

/// A queued message, as the sender needs it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub submission_id: Option<i64>,
    pub kind: MessageKind,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// Render the HTML part now (see [`OutboxMessage::html_from`]).
    pub html_from: Option<HtmlFrom>,
    pub key: String,
    pub attempts: i64,
}

impl Store {
    /// How many messages wait in the outbox (pending, due or not): the outbox depth.
    pub fn count_pending_messages(&self) -> rusqlite::Result<i64> {
        self.conn.cached_row(
            "SELECT count(*) FROM outbox WHERE state = ?1",
            [OutboxState::Pending],
            |r| r.get(0),
        )
    }

    /// Up to `limit` messages due for delivery, oldest first.
    pub fn outbox_batch(&self, limit: usize) -> rusqlite::Result<Vec<Pending>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, recipient, subject, body_text, body_html, idempotency_key, attempts,
                    submission_id, kind, html_from
             FROM outbox
             WHERE state = 'pending'
               AND (next_attempt_at IS NULL OR next_attempt_at <= strftime('%Y-%m-%dT%H:%M:%SZ','now'))
             ORDER BY id LIMIT ?1",
        )?;
        stmt.query_map([limit as i64], |r| {
            Ok(Pending {
                id: r.get(0)?,
                recipient: r.get(1)?,
                subject: r.get(2)?,
                body_text: r.get(3)?,
                body_html: r.get(4)?,
                key: r.get(5)?,
                attempts: r.get(6)?,
                submission_id: r.get(7)?,
                kind: r.get(8)?,
                // Unreadable JSON (never written so): the message goes as plain text.
                html_from: r
                    .get::<_, Option<String>>(9)?
                    .and_then(|j| serde_json::from_str(&j).ok()),
            })
        })?
        .collect()
    }

    pub fn mark_sent(&mut self, id: i64, at: &str) -> rusqlite::Result<()> {
        self.mark_sent_all(&[id], at)
    }

    /// Marks several messages sent in one transaction (one commit instead of one each).
    pub fn mark_sent_all(&mut self, ids: &[i64], at: &str) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET state = 'sent', sent_at = ?2, attempts = attempts + 1
                 WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id, at])?;
            }
        }
        tx.commit()
    }

    /// A permanent failure: never retried, reported to the admin.
    /// Marks a message sent but not confirmed by the server (see `OutboxState::Unconfirmed`):
    /// not sent again.
    pub fn mark_unconfirmed(&self, id: i64, at: &str, why: &str) -> rusqlite::Result<()> {
        self.conn.cached_execute(
            "UPDATE outbox SET state = 'unconfirmed', sent_at = ?2, last_error = ?3,
                 attempts = attempts + 1 WHERE id = ?1",
            params![id, at, why],
        )?;
        Ok(())
    }

    pub fn mark_failed(&self, id: i64, error: &str) -> rusqlite::Result<()> {
        self.conn.cached_execute(
            "UPDATE outbox SET state = 'failed', last_error = ?2, attempts = attempts + 1 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// Queues one message outside an outcome (a notice to the admin, a resend); a no-op if
    /// its key was queued before.
    pub fn queue_message(
        &self,
        submission_id: Option<i64>,
        key: &str,
        m: &OutboxMessage,
    ) -> rusqlite::Result<bool> {
        insert_message(&self.conn, submission_id, key, m)
    }

    /// The outbox as the admin sees it: (receipt, kind, recipient, state, attempts, last error,
    /// subject), unsent first.
    pub fn outbox_overview(&self) -> rusqlite::Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT COALESCE(s.receipt, ''), o.kind, o.recipient, o.state, o.attempts,
                    o.last_error, o.subject, o.next_attempt_at
             FROM outbox o LEFT JOIN submissions s ON s.id = o.submission_id
             ORDER BY CASE o.state WHEN 'pending' THEN 0 WHEN 'failed' THEN 1 ELSE 2 END, o.id",
        )?;
        stmt.query_map([], |r| {
            Ok(OutboxRow {
                receipt: r.get(0)?,
                kind: r.get(1)?,
                recipient: r.get(2)?,
                state: r.get(3)?,
                attempts: r.get(4)?,
                last_error: r.get(5)?,
                subject: r.get(6)?,
                next_attempt_at: r.get(7)?,
            })
        })?
        .collect()
    }

    /// A transient failure: retried after `delay_s`.
    pub fn mark_retry(&self, id: i64, error: &str, delay_s: i64) -> rusqlite::Result<()> {
        self.conn.cached_execute(
            "UPDATE outbox SET last_error = ?2, attempts = attempts + 1,
                 next_attempt_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?3)
             WHERE id = ?1",
            params![id, error, format!("+{delay_s} seconds")],
        )?;
        Ok(())
    }

    /// Messages waiting to be sent: (id, recipient, subject).
    pub fn pending_messages(&self) -> rusqlite::Result<Vec<(i64, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, recipient, subject FROM outbox WHERE state = 'pending' ORDER BY id",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect()
    }
}

/// The outbox depth (pending messages) and the age in seconds of the oldest one, for the
/// metrics. A free function on any connection: the HTTP server reads with its own.
pub fn outbox_gauges(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.cached_row(
        "SELECT count(*),
                coalesce(CAST(strftime('%s','now') - strftime('%s', min(created_at))
                              AS INTEGER), 0)
           FROM outbox WHERE state = ?1",
        [OutboxState::Pending],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A message stuck in the outbox: queued more than `minutes` ago, still pending after failed
/// attempts. (queued at, attempts, last error) of the oldest such, for `/readyz`.
pub fn stuck_message(
    conn: &Connection,
    minutes: u32,
) -> rusqlite::Result<Option<(String, i64, Option<String>)>> {
    conn.cached_row(
        "SELECT created_at, attempts, last_error FROM outbox
          WHERE state = ?1 AND attempts > 0
            AND created_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?2)
          ORDER BY created_at LIMIT 1",
        params![OutboxState::Pending, format!("-{minutes} minutes")],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

pub(super) fn queue(
    tx: &Transaction<'_>,
    id: i64,
    receipt: &str,
    messages: &[OutboxMessage],
) -> rusqlite::Result<()> {
    for m in messages {
        // One message per submission, kind and recipient, ever: the key makes a replay after
        // a crash a no-op instead of a second email.
        let key = format!("{receipt}/{}/{}", m.kind, m.recipient);
        insert_message(tx, Some(id), &key, m)?;
    }
    Ok(())
}

/// Queues one message under its idempotency key; `false` if the key was queued before.
pub(super) fn insert_message(
    conn: &Connection,
    submission_id: Option<i64>,
    key: &str,
    m: &OutboxMessage,
) -> rusqlite::Result<bool> {
    let n = conn.cached_execute(
        "INSERT OR IGNORE INTO outbox (submission_id, kind, recipient, idempotency_key,
             subject, body_text, body_html, html_from, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending',
                 strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
        params![
            submission_id,
            m.kind,
            m.recipient,
            key,
            m.subject,
            m.body_text,
            m.body_html,
            m.html_from
                .as_ref()
                .and_then(|h| serde_json::to_string(h).ok())
        ],
    )?;
    Ok(n == 1)
}
