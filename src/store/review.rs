//! Officer review (人工复核, table `reviews`): what an admin decided about a submission on
//! the console, and what the daemon held for such a decision (`[review] hold`).
//!
//! Each action is one row, never changed afterwards, so the history says who decided what
//! and when. The verdict read everywhere is the latest `accept`/`return` row's when there
//! is one (`SUBMISSION_COLUMNS`). A submission is held while its latest `hold`, `release`,
//! `accept` or `return` row is a `hold`: its feedback waits in the outbox as `held`.
//!
//! Mail keys: a decision's messages are `<receipt>/review/<review id>/<recipient>` (once
//! per decision), a resend's copies `<original key>/resend/<review id>`, the acknowledgement
//! of a held submission `<receipt>/<kind>/<recipient>/received`.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::Cached as _;
use super::{
    MessageKind, OutboxMessage, OutboxState, SUBMISSION_COLUMNS, Submission, Verdict,
    insert_message, submission,
};

/// The held feedback as it is released after decisions made while it was held (issue 26):
/// the findings marked not applicable are left out of the list and the counts, and a
/// paragraph says which ones and why. The agency hears of these decisions only here, once.
pub struct Released {
    pub subject: String,
    /// The mail's text.
    pub body: String,
    /// The receipt file's text (the mail's, with the full list when it was cut).
    pub receipt_body: String,
    /// Whether the feedback, without the findings marked not applicable, has no error: the
    /// release then records the verdict the agency is told (予以受理), so that the office's
    /// overview and the 退回未改 reminders agree with the mail.
    pub accepted: bool,
}

/// What an officer (or the daemon, for `hold`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The daemon held the feedback for review.
    Hold,
    /// The held feedback was sent as it is (发出).
    Release,
    /// Accepted despite errors (予以受理).
    Accept,
    /// Returned despite no errors (退回修改).
    Return,
    /// One finding does not apply (不适用).
    NotApplicable,
    /// The feedback was queued again.
    Resend,
    /// A file at the inbox's top level given to an agency (归属到单位; issue 26).
    Assign,
    /// A cell of a scan's reading corrected by the officer before the release (更正识别结果;
    /// issue 25); the reason says which cell, from what, to what, and why.
    Correct,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Hold => "hold",
            Action::Release => "release",
            Action::Accept => "accept",
            Action::Return => "return",
            Action::NotApplicable => "not_applicable",
            Action::Resend => "resend",
            Action::Assign => "assign",
            Action::Correct => "correct",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [
            Action::Hold,
            Action::Release,
            Action::Accept,
            Action::Return,
            Action::NotApplicable,
            Action::Resend,
            Action::Assign,
            Action::Correct,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// As the history shows it.
    pub fn label(self) -> &'static str {
        match self {
            Action::Hold => "暂缓发出，待人工复核",
            Action::Release => "发出审核意见",
            Action::Accept => "予以受理",
            Action::Return => "退回修改",
            Action::NotApplicable => "审核意见不适用",
            Action::Resend => "重新发送",
            Action::Assign => "归属到单位",
            Action::Correct => "更正识别结果",
        }
    }

    /// The verdict an action gives (accept, return).
    pub fn verdict(self) -> Option<Verdict> {
        match self {
            Action::Accept => Some(Verdict::Accepted),
            Action::Return => Some(Verdict::Rejected),
            _ => None,
        }
    }

    /// Whether it ends a hold.
    pub fn releases(self) -> bool {
        matches!(self, Action::Release | Action::Accept | Action::Return)
    }
}

/// A held outcome's messages (see `Store::store_outcome_held`).
pub struct Hold<'a> {
    /// Why it is held (shown in the history).
    pub reason: &'a str,
    /// The feedback, queued as `held`.
    pub held: &'a [OutboxMessage],
    /// "已收到，正在审核": queued to go out at once.
    pub acks: &'a [OutboxMessage],
}

/// The daemon's name in the history.
pub const DAEMON: &str = "nianbao";

/// One row of the history.
#[derive(Debug, Clone)]
pub struct Review {
    pub id: i64,
    pub action: Action,
    pub verdict: Option<Verdict>,
    pub finding_seq: Option<i64>,
    pub reason: String,
    pub reviewer: String,
    pub decided_at: String,
}

/// What an officer decides (not `hold`: the daemon's).
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub action: Action,
    pub finding_seq: Option<i64>,
    pub reason: &'a str,
    pub reviewer: &'a str,
    pub at: &'a str,
}

fn record(tx: &Transaction<'_>, submission_id: i64, d: &Decision<'_>) -> rusqlite::Result<i64> {
    tx.cached_execute(
        "INSERT INTO reviews (submission_id, action, verdict, finding_seq, reason, reviewer,
             decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            submission_id,
            d.action.as_str(),
            d.action.verdict(),
            d.finding_seq,
            d.reason,
            d.reviewer,
            d.at
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Queues a held outcome's messages (in the outcome's transaction) and records the hold.
pub(super) fn hold_in(
    tx: &Transaction<'_>,
    id: i64,
    receipt: &str,
    hold: &Hold<'_>,
    at: &str,
) -> rusqlite::Result<()> {
    for m in hold.held {
        let key = format!("{receipt}/{}/{}", m.kind, m.recipient);
        if insert_message(tx, Some(id), &key, m)? {
            tx.cached_execute(
                "UPDATE outbox SET state = ?2 WHERE idempotency_key = ?1",
                params![key, OutboxState::Held],
            )?;
        }
    }
    for m in hold.acks {
        let key = format!("{receipt}/{}/{}/received", m.kind, m.recipient);
        insert_message(tx, Some(id), &key, m)?;
    }
    record(
        tx,
        id,
        &Decision {
            action: Action::Hold,
            finding_seq: None,
            reason: hold.reason,
            reviewer: DAEMON,
            at,
        },
    )?;
    Ok(())
}

fn immediate(conn: &Connection) -> rusqlite::Result<Transaction<'_>> {
    Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
}

/// Whether the submission's feedback is held for review now.
pub fn is_held(conn: &Connection, submission_id: i64) -> rusqlite::Result<bool> {
    let last: Option<String> = conn
        .cached_row(
            "SELECT action FROM reviews
             WHERE submission_id = ?1 AND action IN ('hold', 'release', 'accept', 'return')
             ORDER BY id DESC LIMIT 1",
            [submission_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(last.as_deref() == Some(Action::Hold.as_str()))
}

/// Held submissions, by the latest row of each (the 待复核 queue).
const HELD: &str = "SELECT r.submission_id FROM reviews r
     WHERE r.action = 'hold' AND NOT EXISTS (
         SELECT 1 FROM reviews l WHERE l.submission_id = r.submission_id AND l.id > r.id
           AND l.action IN ('release', 'accept', 'return'))";

/// The submissions waiting for review (待复核), oldest first.
pub fn held_submissions(conn: &Connection) -> rusqlite::Result<Vec<Submission>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id IN ({HELD}) ORDER BY id"
    ))?;
    stmt.query_map([], submission)?.collect()
}

/// The ids of the submissions waiting for review.
pub fn held_ids(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(HELD)?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

pub fn count_held(conn: &Connection) -> rusqlite::Result<i64> {
    conn.cached_row(&format!("SELECT count(*) FROM ({HELD})"), [], |r| r.get(0))
}

/// The history of a submission, oldest first.
pub fn reviews_of(conn: &Connection, submission_id: i64) -> rusqlite::Result<Vec<Review>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, action, verdict, finding_seq, reason, reviewer, decided_at
         FROM reviews WHERE submission_id = ?1 ORDER BY id",
    )?;
    stmt.query_map([submission_id], |r| {
        let action: String = r.get(1)?;
        Ok(Review {
            id: r.get(0)?,
            action: Action::parse(&action).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Text,
                    format!("unknown review action {action:?}").into(),
                )
            })?,
            verdict: r.get(2)?,
            finding_seq: r.get(3)?,
            reason: r.get(4)?,
            reviewer: r.get(5)?,
            decided_at: r.get(6)?,
        })
    })?
    .collect()
}

/// The decisions made since the submission's feedback was last held (the ones a release
/// must tell), oldest first; empty when it is not held.
pub fn made_while_held(history: &[Review]) -> Vec<Review> {
    let last_end = history
        .iter()
        .rposition(|r| matches!(r.action, Action::Hold) || r.action.releases());
    match last_end {
        Some(i) if history.get(i).map(|r| r.action) == Some(Action::Hold) => {
            history.get(i + 1..).unwrap_or_default().to_vec()
        }
        _ => Vec::new(),
    }
}

/// Findings (their `seq`) marked not applicable for a submission.
pub fn not_applicable_seqs(
    conn: &Connection,
    submission_id: i64,
) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT finding_seq, reason FROM reviews
         WHERE submission_id = ?1 AND action = 'not_applicable' AND finding_seq IS NOT NULL
         ORDER BY id",
    )?;
    stmt.query_map([submission_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// The report as stored (JSON), if the file was read.
pub fn stored_report_json(
    conn: &Connection,
    submission_id: i64,
) -> rusqlite::Result<Option<String>> {
    conn.cached_row(
        "SELECT report_json FROM submissions WHERE id = ?1",
        [submission_id],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
}

/// The checker's own verdict, whatever a review made of it.
pub fn checker_verdict(conn: &Connection, submission_id: i64) -> rusqlite::Result<Option<Verdict>> {
    conn.cached_row(
        "SELECT verdict FROM submissions WHERE id = ?1",
        [submission_id],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
}

/// The receipt file first queued for a submission: (its path in the inbox, its text).
pub fn first_receipt_file(
    conn: &Connection,
    submission_id: i64,
    receipt: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.cached_row(
        "SELECT recipient, body_text FROM outbox
         WHERE submission_id = ?1 AND kind = ?2
           AND idempotency_key = ?3 || '/' || kind || '/' || recipient
         ORDER BY id LIMIT 1",
        params![submission_id, MessageKind::Receipt, receipt],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Records an officer's decision in one transaction (one row per finding for a grouped
/// finding marked not applicable; the id returned and the messages' keys are the first
/// row's): a decision that ends a hold
/// (release, accept, return) sends the held feedback; `messages` (the decision told to the
/// agency) are queued once under the decision's id, except while the feedback stays held
/// (a finding marked not applicable before the release). Returns the decision's id.
pub fn decide(
    conn: &Connection,
    submission_id: i64,
    receipt: &str,
    decisions: &[Decision<'_>],
    messages: &[OutboxMessage],
    released: Option<&Released>,
) -> rusqlite::Result<i64> {
    let tx = immediate(conn)?;
    let held = is_held(&tx, submission_id)?;
    let Some(d) = decisions.first() else {
        return Err(rusqlite::Error::InvalidQuery);
    };
    let id = record(&tx, submission_id, d)?;
    for more in decisions.get(1..).unwrap_or_default() {
        record(&tx, submission_id, more)?;
    }
    if held && d.action.releases() {
        // The feedback redrawn for the decisions made while it was held (issue 26).
        if let Some(r) = released {
            tx.cached_execute(
                "UPDATE outbox SET subject = ?3, body_text = CASE kind WHEN ?4 THEN ?6 ELSE ?5 END
                 WHERE submission_id = ?1 AND state = ?2 AND kind IN (?4, ?7, ?8)",
                params![
                    submission_id,
                    OutboxState::Held,
                    r.subject,
                    MessageKind::Receipt,
                    r.body,
                    r.receipt_body,
                    MessageKind::Feedback,
                    MessageKind::Admin
                ],
            )?;
        }
        tx.cached_execute(
            "UPDATE outbox SET state = ?2, created_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')
             WHERE submission_id = ?1 AND state = ?3",
            params![submission_id, OutboxState::Pending, OutboxState::Held],
        )?;
    }
    if !held || d.action.releases() {
        for m in messages {
            let key = format!("{receipt}/review/{id}/{}", m.recipient);
            insert_message(&tx, Some(submission_id), &key, m)?;
        }
    }
    tx.commit()?;
    Ok(id)
}

/// A scan's reading corrected by the officer while its feedback is held (issue 25), in one
/// transaction: the corrected report, its cells and its findings replace the stored ones,
/// the verdict follows the new findings, and the correction is recorded in the history
/// (`d`, whose reason names the cell, both values and why). The held feedback is redrawn
/// from the store at the release. Returns the decision's id; `None` when the feedback is no
/// longer held (released meanwhile by another officer).
pub fn correct(
    conn: &Connection,
    submission_id: i64,
    report: &crate::report::Report,
    findings: &[crate::finding::Finding],
    d: &Decision<'_>,
) -> rusqlite::Result<Option<i64>> {
    let tx = immediate(conn)?;
    if !is_held(&tx, submission_id)? {
        return Ok(None);
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == crate::finding::Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let json = serde_json::to_string(report)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.cached_execute(
        "UPDATE submissions SET report_json = ?2, verdict = ?3, errors = ?4, warnings = ?5
         WHERE id = ?1",
        params![
            submission_id,
            json,
            Verdict::of(errors == 0),
            errors as i64,
            warnings as i64
        ],
    )?;
    super::insert_cells(&tx, submission_id, report)?;
    super::insert_findings(&tx, submission_id, findings)?;
    let id = record(&tx, submission_id, d)?;
    tx.commit()?;
    Ok(Some(id))
}

/// Gives submission `submission_id`, a file at the inbox's top level, to the agency of
/// `folder` named `name` (issue 26), in one transaction: the submission becomes the
/// agency's (the newest version of a year supersedes the others, as for a file dropped in
/// its folder), the decision is recorded with its reason, and `messages` (the agency's
/// feedback) are queued once under the decision's id, held while the submission is.
/// `None` when the submission is not (or no longer) unassigned.
pub fn assign(
    conn: &Connection,
    submission_id: i64,
    receipt: &str,
    (folder, name): (&str, &str),
    d: &Decision<'_>,
    messages: &[OutboxMessage],
) -> rusqlite::Result<Option<i64>> {
    let tx = immediate(conn)?;
    let current: Option<Option<String>> = tx
        .cached_row(
            "SELECT agency_folder FROM submissions WHERE id = ?1",
            [submission_id],
            |r| r.get(0),
        )
        .optional()?;
    if current != Some(None) {
        return Ok(None);
    }
    tx.cached_execute(
        "UPDATE submissions SET agency_folder = ?2, agency_name = ?3 WHERE id = ?1",
        params![submission_id, folder, name],
    )?;
    // Older versions of the year give way to it; a newer one supersedes it.
    tx.cached_execute(
        "UPDATE submissions SET superseded_by = ?1
         WHERE agency_folder = ?2 AND year = (SELECT year FROM submissions WHERE id = ?1)
           AND state = 'checked' AND id < ?1 AND superseded_by IS NULL",
        params![submission_id, folder],
    )?;
    tx.cached_execute(
        "UPDATE submissions SET superseded_by = (
             SELECT max(n.id) FROM submissions n WHERE n.agency_folder = ?2
               AND n.year = submissions.year AND n.state = 'checked' AND n.id > ?1)
         WHERE id = ?1 AND year IS NOT NULL AND state = 'checked'",
        params![submission_id, folder],
    )?;
    let held = is_held(&tx, submission_id)?;
    let id = record(&tx, submission_id, d)?;
    for m in messages {
        let key = format!("{receipt}/assign/{id}/{}", m.recipient);
        if insert_message(&tx, Some(submission_id), &key, m)? && held {
            tx.cached_execute(
                "UPDATE outbox SET state = ?2 WHERE idempotency_key = ?1",
                params![key, OutboxState::Held],
            )?;
        }
    }
    tx.commit()?;
    Ok(Some(id))
}

/// Queues the submission's answer again (`nianbao mail resend`, the console's 重新发送):
/// a copy of each feedback, admin copy, receipt file, duplicate reply and review decision
/// first queued for it (not held ones, not earlier copies, not the acknowledgement of a
/// hold), under keys of this resend. Records who resent; returns how many were queued
/// (0: nothing to resend, and nothing recorded).
pub fn resend(
    conn: &Connection,
    submission_id: i64,
    reviewer: &str,
    at: &str,
) -> rusqlite::Result<usize> {
    let tx = immediate(conn)?;
    let id = record(
        &tx,
        submission_id,
        &Decision {
            action: Action::Resend,
            finding_seq: None,
            reason: "",
            reviewer,
            at,
        },
    )?;
    let n = tx.cached_execute(
        "INSERT OR IGNORE INTO outbox (submission_id, kind, recipient, idempotency_key, subject,
             body_text, body_html, html_from, state, created_at)
         SELECT submission_id, kind, recipient, idempotency_key || '/resend/' || ?2, subject,
                body_text, body_html, html_from, ?3, strftime('%Y-%m-%dT%H:%M:%SZ','now')
         FROM outbox
         WHERE submission_id = ?1 AND state != ?4
           AND kind IN (?5, ?6, ?7, ?8, ?9)
           AND idempotency_key NOT LIKE '%/resend/%' AND idempotency_key NOT LIKE '%/resend-%'
           AND idempotency_key NOT LIKE '%/received'
         ORDER BY id",
        params![
            submission_id,
            id,
            OutboxState::Pending,
            OutboxState::Held,
            MessageKind::Feedback,
            MessageKind::Admin,
            MessageKind::Receipt,
            MessageKind::Duplicate,
            MessageKind::Review
        ],
    )?;
    if n == 0 {
        tx.rollback()?;
        return Ok(0);
    }
    tx.commit()?;
    Ok(n)
}

/// One message of the mail queue page.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
    pub receipt: Option<String>,
    pub kind: MessageKind,
    pub recipient: String,
    pub subject: String,
    pub state: OutboxState,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// The outbox for the console: every message not sent (pending, held, failed; oldest
/// first), then the `recent` last sent (newest first).
pub fn mail_queue(conn: &Connection, recent: usize) -> rusqlite::Result<Vec<QueuedMessage>> {
    let select = "SELECT s.receipt, o.kind, o.recipient, o.subject, o.state, o.attempts,
                         o.next_attempt_at, o.last_error, o.created_at, o.sent_at
                  FROM outbox o LEFT JOIN submissions s ON s.id = o.submission_id";
    let row = |r: &rusqlite::Row<'_>| {
        Ok(QueuedMessage {
            receipt: r.get(0)?,
            kind: r.get(1)?,
            recipient: r.get(2)?,
            subject: r.get(3)?,
            state: r.get(4)?,
            attempts: r.get(5)?,
            next_attempt_at: r.get(6)?,
            last_error: r.get(7)?,
            created_at: r.get(8)?,
            sent_at: r.get(9)?,
        })
    };
    let mut out: Vec<QueuedMessage> = conn
        .prepare(&format!("{select} WHERE o.state != ?1 ORDER BY o.id"))?
        .query_map([OutboxState::Sent], row)?
        .collect::<rusqlite::Result<_>>()?;
    let sent: Vec<QueuedMessage> = conn
        .prepare(&format!(
            "{select} WHERE o.state = ?1 ORDER BY o.sent_at DESC, o.id DESC LIMIT ?2"
        ))?
        .query_map(params![OutboxState::Sent, recent as i64], row)?
        .collect::<rusqlite::Result<_>>()?;
    out.extend(sent);
    Ok(out)
}
